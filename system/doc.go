// Package system makes every change guestbridge applies to the guest OS's
// files: atomic file writes, /etc/shadow passwords (SHA-512 crypt), the
// hostname and /etc/hosts, resolv.conf or a systemd-resolved drop-in, the
// managed block of authorized_keys, and nova-agent's injectfile.
//
// All paths are taken inside a Root: "/" on a live system, or the mounted
// root of an image being repaired offline. Symbolic links are followed as the
// guest would see them (an absolute link target is relative to Root), and a
// path that would leave Root, through ".." or a link, is refused. The files
// are then opened through an os.Root, so a link swapped in afterwards cannot
// lead outside Root either.
//
// Secrets (passwords, hashes' inputs, key material, file contents) never
// appear in errors or logs.
package system
