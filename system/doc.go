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
// Decisions worth knowing:
//   - Every write is atomic (temp file 0600, fsync, chown/chmod, rename,
//     fsync of the directory) and skipped when the content is unchanged,
//     so re-applying the same metadata touches nothing.
//   - Backups keep one generation: <file>.guestbridge.bak, or /etc/shadow-
//     for the shadow file as shadow-utils does.
//   - /etc/shadow is rewritten under glibc's lckpwdf lock (/etc/.pwd.lock)
//     with our own SHA-512 crypt, so it works without guest binaries.
//   - /etc/hostname holds the short name; the FQDN lives in the managed
//     "127.0.1.1 fqdn short # guestbridge" line of /etc/hosts.
//   - In a directory a user controls (~/.ssh) symlinks are refused, and
//     InjectFile replaces a final symlink instead of following it.
//
// Secrets (passwords, key material, file contents) never appear in errors
// or logs.
package system
