package system

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"strings"
	"syscall"
)

const (
	hostnamePath = "/etc/hostname"
	hostsPath    = "/etc/hosts"
	// hostsAddr is where Debian's installer maps the machine's own name,
	// so that `hostname -f` works without DNS.
	hostsAddr = "127.0.1.1"
	// hostsMarker ends the one /etc/hosts line guestbridge owns.
	hostsMarker = "guestbridge"
	// hostsReplaced ends a 127.0.1.1 line of someone else that guestbridge
	// commented out (kept for the admin, like nova-agent's "# Removed by").
	hostsReplaced = "# replaced by guestbridge"
	maxHostname   = 253
	maxLabel      = 63
)

// WriteHostname validates name (RFC 1123 labels of at most 63 characters,
// at most 253 in all, one trailing dot allowed) and
//
//   - writes the short name (first label) to /etc/hostname, as hostname(5)
//     and Debian's installer want it;
//   - when r.Live, calls sethostname(2) with the short name (every call: it
//     is cheap, and the kernel's name may differ from the file's).
//
// /etc/hosts is not touched. changed reports whether /etc/hostname was
// rewritten.
func (r Root) WriteHostname(name string) (changed bool, err error) {
	_, short, err := parseHostname(name)
	if err != nil {
		return false, err
	}
	changed, err = r.WriteFile(hostnamePath, []byte(short+"\n"), WriteOptions{Mode: 0o644})
	if err != nil {
		return false, fmt.Errorf("set hostname: %w", err)
	}
	if r.Live {
		if err := syscall.Sethostname([]byte(short)); err != nil {
			return changed, fmt.Errorf("set hostname: sethostname %q: %w", short, err)
		}
	}
	return changed, nil
}

// SetHostsEntry validates name (as WriteHostname) and puts the managed line
// "127.0.1.1 <fqdn> <short> # guestbridge" (only the short name when name
// has no dot) into /etc/hosts, replacing guestbridge's previous line in
// place. Another 127.0.1.1 line is commented out with "# replaced by
// guestbridge"; everything else is kept. A backup is kept as
// /etc/hosts.guestbridge.bak. /etc/hostname and the kernel's name are not
// touched. changed reports whether /etc/hosts was rewritten.
func (r Root) SetHostsEntry(name string) (changed bool, err error) {
	fqdn, short, err := parseHostname(name)
	if err != nil {
		return false, err
	}
	hosts, err := r.readFile(hostsPath)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, fmt.Errorf("set hosts entry: read %s: %w", hostsPath, err)
	}
	changed, err = r.WriteFile(hostsPath, updateHosts(hosts, fqdn, short), WriteOptions{Mode: 0o644, Backup: true})
	if err != nil {
		return false, fmt.Errorf("set hosts entry: %w", err)
	}
	return changed, nil
}

// parseHostname checks name and returns it without a trailing dot, and its
// first label.
func parseHostname(name string) (fqdn, short string, err error) {
	fqdn = strings.TrimSuffix(name, ".")
	bad := func(why string) error { return fmt.Errorf("invalid hostname %q: %s", name, why) }
	if fqdn == "" {
		return "", "", bad("empty")
	}
	if len(fqdn) > maxHostname {
		return "", "", bad(fmt.Sprintf("longer than %d characters", maxHostname))
	}
	if _, err := netip.ParseAddr(fqdn); err == nil {
		return "", "", bad("is an IP address")
	}
	for i, label := range strings.Split(fqdn, ".") {
		if err := checkLabel(label); err != nil {
			return "", "", bad(fmt.Sprintf("label %d: %v", i+1, err))
		}
	}
	short, _, _ = strings.Cut(fqdn, ".")
	return fqdn, short, nil
}

// checkLabel applies RFC 1123 §2.1: letters, digits and inner hyphens.
func checkLabel(label string) error {
	switch {
	case label == "":
		return errors.New("empty")
	case len(label) > maxLabel:
		return fmt.Errorf("longer than %d characters", maxLabel)
	case label[0] == '-' || label[len(label)-1] == '-':
		return errors.New("starts or ends with '-'")
	}
	for _, c := range label { // runes: a non-ASCII letter is named whole, not as bytes
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return fmt.Errorf("character %q not allowed", c)
		}
	}
	return nil
}

// hostsLine is guestbridge's managed /etc/hosts line, without newline.
func hostsLine(fqdn, short string) string {
	if fqdn == short {
		return hostsAddr + " " + short + " # " + hostsMarker
	}
	return hostsAddr + " " + fqdn + " " + short + " # " + hostsMarker
}

// updateHosts puts the managed line into hosts: where the previous managed
// line was, else after a 127.0.1.1 line it comments out, else after the last
// 127.x line, else at the end. Other lines are kept byte for byte (a last
// line without newline gets one if something follows it).
func updateHosts(hosts []byte, fqdn, short string) []byte {
	var out [][]byte
	insertAt, afterLoopback := -1, -1
	for _, line := range bytes.SplitAfter(hosts, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		body, eol := cutEOL(line)
		addr, comment := hostsFields(body)
		switch {
		case addr == hostsAddr && comment == hostsMarker:
			// Ours: dropped, the new line goes where the first one was.
		case addr == hostsAddr:
			out = append(out, []byte("# "+string(body)+" "+hostsReplaced+string(eolOrLF(eol))))
		default:
			if strings.HasPrefix(addr, "127.") {
				afterLoopback = len(out) + 1
			}
			out = append(out, line)
			continue
		}
		if insertAt < 0 {
			insertAt = len(out)
		}
	}
	if insertAt < 0 {
		insertAt = len(out)
		if afterLoopback >= 0 {
			insertAt = afterLoopback
		}
	}
	return joinWithInsert(out, insertAt, []byte(hostsLine(fqdn, short)+"\n"))
}

// hostsFields returns a hosts line's address and its comment text (trimmed,
// without '#'); both empty for a comment or blank line.
func hostsFields(body []byte) (addr, comment string) {
	data, rest, hasComment := strings.Cut(string(body), "#")
	fields := strings.Fields(data)
	if len(fields) == 0 {
		return "", ""
	}
	if hasComment {
		comment = strings.TrimSpace(rest)
	}
	return fields[0], comment
}

func eolOrLF(eol []byte) []byte {
	if len(eol) == 0 {
		return []byte("\n")
	}
	return eol
}
