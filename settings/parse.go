package settings

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"unicode/utf8"
)

// maxFileSize bounds what we read: the file is a few hundred bytes; anything
// far larger is not our configuration.
const maxFileSize = 64 << 10

// LoadFile reads the configuration file at path onto s. A missing file is
// not an error (the defaults stand); an unreadable one is. Problems inside
// the file are warnings (s.Warnings), never fatal.
func (s *Settings) LoadFile(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file", path)
	}
	if st.Size() > maxFileSize {
		return fmt.Errorf("%s: %d bytes, more than the %d a configuration file can be", path, st.Size(), maxFileSize)
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && st.Size() > 0 {
		return fmt.Errorf("%s: %w", path, err)
	}
	s.Parse(path, b)
	return nil
}

// Parse applies the file format to s: INI-style `[section]` headers and
// `key = value` lines; `#` and `;` start comments (whole lines, or after
// whitespace at the end of a line). name labels warnings and origins.
func (s *Settings) Parse(name string, data []byte) {
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), maxFileSize)
	for n := 1; sc.Scan(); n++ {
		where := fmt.Sprintf("%s:%d", name, n)
		line := sc.Text()
		if !utf8.ValidString(line) {
			s.warnf("%s: not valid UTF-8; line ignored", where)
			continue
		}
		line = strings.TrimSpace(stripComment(line))
		if line == "" {
			continue
		}
		if strings.HasPrefix(line, "[") {
			if !strings.HasSuffix(line, "]") {
				s.warnf("%s: section header %q has no closing ]; the lines up to the next section are ignored", where, line)
				section = "\x00bad"
				continue
			}
			section = strings.ToLower(strings.TrimSpace(line[1 : len(line)-1]))
			if !knownSection(section) {
				s.warnf("%s: unknown section [%s]; its lines are ignored", where, section)
			}
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok {
			s.warnf("%s: %q is not key = value; ignored", where, line)
			continue
		}
		key = strings.ToLower(strings.TrimSpace(key))
		switch {
		case section == "":
			s.warnf("%s: %s is outside any [section]; ignored", where, key)
		case section == "\x00bad" || !knownSection(section):
			// already warned about the section
		default:
			if err := s.set(section+"."+key, value, where); err != nil {
				s.warnf("%s: %v; kept %s", where, err, s.describeKept(section+"."+key))
			}
		}
	}
	if err := sc.Err(); err != nil {
		s.warnf("%s: %v; the rest of the file is ignored", name, err)
	}
}

// describeKept says which value stays after a rejected one.
func (s *Settings) describeKept(key string) string {
	if v, ok := s.values[key]; ok {
		return fmt.Sprintf("%s (%s)", v.Value, v.Origin)
	}
	return "nothing"
}

func stripComment(line string) string {
	t := strings.TrimLeft(line, " \t")
	if strings.HasPrefix(t, "#") || strings.HasPrefix(t, ";") {
		return ""
	}
	for i := 1; i < len(line); i++ {
		if (line[i] == '#' || line[i] == ';') && (line[i-1] == ' ' || line[i-1] == '\t') {
			return line[:i]
		}
	}
	return line
}

func knownSection(name string) bool {
	for _, sp := range specs {
		if sec, _, _ := strings.Cut(sp.key, "."); sec == name {
			return true
		}
	}
	return false
}

// KernelOrigin labels values that came from the kernel command line.
const KernelOrigin = "kernel command line"

// ApplyKernelCmdline applies guestbridge's switches on a kernel command line
// (the contents of /proc/cmdline):
//
//	guestbridge=disabled            turn everything off (enabled turns it back on)
//	guestbridge.disable=keys,files  turn these steps off
//	guestbridge.refuse=agentupdate  refuse these agent commands
//	guestbridge.mode=apply          any setting: section.name, or a [main] name alone
//
// Other parameters are not ours and are ignored; bad ones of ours are warnings.
func (s *Settings) ApplyKernelCmdline(cmdline string) {
	for _, p := range splitCmdline(cmdline) {
		name, value, hasValue := strings.Cut(p, "=")
		switch {
		case name == "guestbridge":
			if !hasValue {
				s.warnf("%s: %q needs a value (disabled or enabled)", KernelOrigin, p)
				continue
			}
			if err := s.set("main.enabled", value, KernelOrigin); err != nil {
				s.warnf("%s: guestbridge=%s: want disabled or enabled", KernelOrigin, value)
			}
		case strings.HasPrefix(name, "guestbridge."):
			key := strings.ToLower(strings.TrimPrefix(name, "guestbridge."))
			switch key {
			case "disable":
				s.setList("steps.", value)
			case "refuse":
				s.setList("commands.", value)
			default:
				if !strings.Contains(key, ".") {
					key = "main." + key
				}
				if err := s.set(key, value, KernelOrigin); err != nil {
					s.warnf("%s: %s: %v", KernelOrigin, p, err)
				}
			}
		}
	}
}

// setList turns off every named entry under prefix (steps. or commands.).
func (s *Settings) setList(prefix, list string) {
	for _, item := range strings.Split(list, ",") {
		item = strings.ToLower(strings.TrimSpace(item))
		if item == "" {
			continue
		}
		if err := s.set(prefix+item, "false", KernelOrigin); err != nil {
			s.warnf("%s: %v", KernelOrigin, err)
		}
	}
}

// splitCmdline splits a kernel command line on spaces, keeping double-quoted
// parts together the way the kernel does (quotes are removed).
func splitCmdline(s string) []string {
	var out []string
	var cur strings.Builder
	inQuote, inWord := false, false
	for _, r := range s {
		switch {
		case r == '"':
			inQuote = !inQuote
			inWord = true
		case (r == ' ' || r == '\t' || r == '\n') && !inQuote:
			if inWord {
				out = append(out, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, cur.String())
	}
	return out
}
