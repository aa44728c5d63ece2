package apply

import (
	"fmt"
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

func (s sysctl) read(key string) (string, error) {
	var out string
	err := nl.InNetns(s.ns, func() error {
		b, err := os.ReadFile("/proc/sys/" + key)
		out = strings.TrimSpace(string(b))
		return err
	})
	return out, err
}

func (s sysctl) write(key, value string) error {
	return nl.InNetns(s.ns, func() error { return os.WriteFile("/proc/sys/"+key, []byte(value), 0o644) })
}

// setIfSysctl sets net/<family>/conf/<ifname>/<name> to want unless it
// already is, journaling the old value.
func (r *run) setIfSysctl(t *target, family, name, want string) error {
	key := func(ifname string) string { return "net/" + family + "/conf/" + ifname + "/" + name }
	old := ""
	if t.link != nil { // a link a dry run would create has no sysctls yet
		var err error
		if old, err = r.ops.Sysctl(key(t.sysName)); err != nil {
			return fmt.Errorf("%s: read %s: %w", t.name, name, err)
		}
	}
	if old == want {
		return nil
	}
	k := key(t.name)
	return r.do(Change{"set", t.name, name + " " + want},
		func() error { return r.ops.SetSysctl(k, want) },
		func() error { return r.ops.SetSysctl(k, old) })
}
