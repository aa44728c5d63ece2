package system

import (
	"fmt"
	"io/fs"
	"net/netip"
	"path"
	"strings"
)

const (
	resolvConfPath = "/etc/resolv.conf"
	// ResolvedDropIn is the file SetDNS writes when systemd-resolved owns
	// /etc/resolv.conf.
	ResolvedDropIn = "/etc/systemd/resolved.conf.d/guestbridge.conf"
	// maxResolvNameservers is glibc's MAXNS: later nameserver lines are ignored.
	maxResolvNameservers = 3
)

// resolvedTargets are the files systemd-resolved manages; /etc/resolv.conf
// linking to one of them means resolved decides what the resolver uses.
var resolvedTargets = []string{
	"run/systemd/resolve/stub-resolv.conf",
	"run/systemd/resolve/resolv.conf",
	"lib/systemd/resolv.conf", // static stub shipped in /usr/lib/systemd
}

// SetDNS makes nameservers and search the guest's DNS configuration.
//
// If /etc/resolv.conf is a symlink to systemd-resolved's files, it writes
// the drop-in ResolvedDropIn ([Resolve] DNS=, Domains=; all servers) and
// leaves the link alone: the caller must then reload resolved (on a live
// system `systemctl try-reload-or-restart systemd-resolved`); see
// UsesSystemdResolved. Otherwise it writes /etc/resolv.conf itself (a
// symlink to anything else is replaced by a regular file, keeping a backup
// of a regular one) with at most 3 nameservers, glibc's limit: the others are
// dropped with a warning on r.Log.
//
// Nothing to set (both lists empty) changes nothing. changed reports
// whether a file was rewritten (for the drop-in: whether resolved needs the
// reload).
func (r Root) SetDNS(nameservers []netip.Addr, search []string) (changed bool, err error) {
	if err := checkDNS(nameservers, search); err != nil {
		return false, fmt.Errorf("set DNS: %w", err)
	}
	if len(nameservers) == 0 && len(search) == 0 {
		return false, nil
	}
	resolved, err := r.UsesSystemdResolved()
	if err != nil {
		return false, fmt.Errorf("set DNS: %w", err)
	}
	if resolved {
		changed, err = r.WriteFile(ResolvedDropIn, renderResolvedDropIn(nameservers, search), WriteOptions{Mode: 0o644})
	} else {
		if len(nameservers) > maxResolvNameservers {
			r.log().Warn("resolv.conf holds at most 3 nameservers (glibc); the rest are not written",
				"dropped", fmt.Sprint(nameservers[maxResolvNameservers:]))
			nameservers = nameservers[:maxResolvNameservers]
		}
		changed, err = r.write(resolvConfPath, renderResolvConf(nameservers, search),
			WriteOptions{Mode: 0o644}, writeSpec{backupSuffix: BackupSuffix})
	}
	if err != nil {
		return false, fmt.Errorf("set DNS: %w", err)
	}
	return changed, nil
}

// UsesSystemdResolved reports whether /etc/resolv.conf in r is a symlink to
// systemd-resolved's files, i.e. whether SetDNS writes ResolvedDropIn and
// resolved must reload to apply it.
func (r Root) UsesSystemdResolved() (bool, error) {
	fsys, err := r.open()
	if err != nil {
		return false, err
	}
	defer fsys.Close()
	rel, err := resolve(fsys, resolvConfPath, false)
	if err != nil {
		return false, fmt.Errorf("%s: %w", resolvConfPath, err)
	}
	fi, err := fsys.Lstat(rel)
	if err != nil || fi.Mode()&fs.ModeSymlink == 0 {
		return false, nil // missing or a regular file: ours to write
	}
	target, err := fsys.Readlink(rel)
	if err != nil {
		return false, fmt.Errorf("%s: %w", resolvConfPath, err)
	}
	target = path.Clean(target)
	for _, t := range resolvedTargets {
		if target == "/"+t || strings.HasSuffix(target, "/"+t) {
			return true, nil
		}
	}
	return false, nil
}

// checkDNS rejects what would corrupt the files: invalid addresses and
// search domains with spaces, comment characters or control bytes.
func checkDNS(nameservers []netip.Addr, search []string) error {
	for i, ns := range nameservers {
		if !ns.IsValid() {
			return fmt.Errorf("nameserver %d: invalid address", i)
		}
	}
	for i, d := range search {
		if d == "" || len(d) > maxHostname+1 {
			return fmt.Errorf("search domain %d %q: empty or longer than %d characters", i, d, maxHostname)
		}
		for _, c := range []byte(d) {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.' || c == '_') {
				return fmt.Errorf("search domain %d %q: character %q not allowed", i, d, c)
			}
		}
	}
	return nil
}

func renderResolvConf(nameservers []netip.Addr, search []string) []byte {
	var b strings.Builder
	b.WriteString("# Written by guestbridge from the instance's metadata; rewritten on each run.\n")
	for _, ns := range nameservers {
		b.WriteString("nameserver " + ns.String() + "\n")
	}
	if len(search) > 0 {
		b.WriteString("search " + strings.Join(search, " ") + "\n")
	}
	return []byte(b.String())
}

func renderResolvedDropIn(nameservers []netip.Addr, search []string) []byte {
	var b strings.Builder
	b.WriteString("# Written by guestbridge from the instance's metadata; rewritten on each run.\n[Resolve]\n")
	if len(nameservers) > 0 {
		addrs := make([]string, len(nameservers))
		for i, ns := range nameservers {
			addrs[i] = ns.String()
		}
		b.WriteString("DNS=" + strings.Join(addrs, " ") + "\n")
	}
	if len(search) > 0 {
		b.WriteString("Domains=" + strings.Join(search, " ") + "\n")
	}
	return []byte(b.String())
}
