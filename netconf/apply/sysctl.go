package apply

import (
	"os"
	"strings"

	"github.com/vishvananda/netns"

	"guestbridge/internal/nl"
)

// sysctl reads and writes /proc/sys/net files of one network namespace:
// those files show the netns of the thread that opens them.
type sysctl struct {
	ns netns.NsHandle // <= 0: the current netns
}

func acceptRAPath(ifname string) string {
	return "/proc/sys/net/ipv6/conf/" + ifname + "/accept_ra"
}

func (s sysctl) read(path string) (string, error) {
	var out string
	err := nl.InNetns(s.ns, func() error {
		b, err := os.ReadFile(path)
		out = strings.TrimSpace(string(b))
		return err
	})
	return out, err
}

func (s sysctl) write(path, value string) error {
	return nl.InNetns(s.ns, func() error { return os.WriteFile(path, []byte(value), 0o644) })
}
