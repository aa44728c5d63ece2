package xenstoretest

import "strings"

// domainPath is where relative paths resolve: every socket client is dom0.
const domainPath = "/local/domain/0"

// maxPathLen is XENSTORE_ABS_PATH_MAX.
const maxPathLen = 3072

// canonical turns a request path into an absolute one, or reports it
// invalid the way xenstored does (EINVAL): empty, "//", a trailing "/", or a
// character outside [A-Za-z0-9/_@-].
func canonical(p string) (abs string, relative bool, ok bool) {
	relative = !strings.HasPrefix(p, "/")
	if relative {
		if p == "" {
			return "", true, false
		}
		p = domainPath + "/" + p
	}
	if len(p) > maxPathLen || !validChars(p) {
		return "", relative, false
	}
	if p != "/" && (strings.HasSuffix(p, "/") || strings.Contains(p, "//")) {
		return "", relative, false
	}
	return p, relative, true
}

func validChars(p string) bool {
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '/' || c == '_' || c == '@' || c == '-':
		default:
			return false
		}
	}
	return true
}

// components splits "/a/b" into [a b]; "/" gives none.
func components(abs string) []string {
	if abs == "/" {
		return nil
	}
	return strings.Split(abs[1:], "/")
}

// parentOf returns the parent of an absolute path other than "/".
func parentOf(abs string) string {
	i := strings.LastIndexByte(abs, '/')
	if i <= 0 {
		return "/"
	}
	return abs[:i]
}

// isUnder reports whether p is at or below dir.
func isUnder(p, dir string) bool {
	if dir == "/" || p == dir {
		return true
	}
	return strings.HasPrefix(p, dir) && p[len(dir)] == '/'
}

// relativise undoes canonical for events on a relative watch, as the
// daemons report them.
func relativise(abs string) string {
	return strings.TrimPrefix(abs, domainPath+"/")
}
