package apply

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/vishvananda/netlink"

	"guestbridge/internal/nl"
	"guestbridge/netconf"
)

// UdevDataDir is where systemd-udevd records each device it has processed
// (n<ifindex> for a network interface), after any rename.
const UdevDataDir = "/run/udev/data"

// udevControl exists while systemd-udevd (or eudev's udevd) runs.
const udevControl = "/run/udev/control"

// UdevRunning reports whether a udev daemon is running: only then is it
// worth waiting for udev to finish with a NIC.
func UdevRunning() bool {
	_, err := os.Stat(udevControl)
	return err == nil
}

// WaitOptions control WaitLinks.
type WaitOptions struct {
	Handle *netlink.Handle // nil = current netns
	// UdevDir, when set, makes a NIC count only once UdevDir/n<ifindex>
	// exists (udev processed it and renamed it if it had to). "" = do not
	// wait for udev (no udevd, or a test namespace udev never sees).
	UdevDir string
	Poll    time.Duration // default 100 ms
}

// WaitLinks waits, until ctx ends, for every ethernet cfg names by MAC to
// be present (and, with UdevDir, processed by udev). It returns the
// ethernets still missing, as "ID (MAC)", in config order.
func WaitLinks(ctx context.Context, cfg *netconf.Config, o WaitOptions) []string {
	if cfg == nil || len(cfg.Ethernets) == 0 {
		return nil
	}
	poll := o.Poll
	if poll <= 0 {
		poll = 100 * time.Millisecond
	}
	h := o.Handle
	if h == nil {
		h = &netlink.Handle{}
	}
	for {
		missing := missingLinks(h, cfg, o.UdevDir)
		if len(missing) == 0 {
			return nil
		}
		t := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			t.Stop()
			return missing
		case <-t.C:
		}
	}
}

func missingLinks(h *netlink.Handle, cfg *netconf.Config, udevDir string) []string {
	links, err := nl.LinkList(h)
	var missing []string
	for _, e := range cfg.Ethernets {
		if err != nil {
			missing = append(missing, describeEth(e))
			continue
		}
		found, _ := linksWithMAC(links, e.MAC)
		if len(found) == 0 {
			missing = append(missing, describeEth(e))
			continue
		}
		if udevDir != "" && !udevDone(udevDir, found) {
			missing = append(missing, describeEth(e)+" (udev not done)")
		}
	}
	return missing
}

func udevDone(dir string, links []netlink.Link) bool {
	for _, l := range links {
		if _, err := os.Stat(filepath.Join(dir, fmt.Sprintf("n%d", l.Attrs().Index))); err != nil {
			return false
		}
	}
	return true
}

func describeEth(e netconf.Ethernet) string {
	return e.ID + " (" + strings.ToLower(e.MAC.String()) + ")"
}

// DHCPInterfaces names the kernel interfaces of cfg that take a DHCPv4 and
// a DHCPv6 lease: an ethernet by the name it has (or, when the config names
// it, will have) for its MAC, bonds and VLANs by their names. Ethernets not
// present are left out.
func DHCPInterfaces(cfg *netconf.Config, h *netlink.Handle) (v4, v6 []string) {
	if h == nil {
		h = &netlink.Handle{}
	}
	links, _ := nl.LinkList(h)
	add := func(name string, l3 netconf.L3) {
		if l3.DHCP4 {
			v4 = append(v4, name)
		}
		if l3.DHCP6 {
			v6 = append(v6, name)
		}
	}
	for _, e := range cfg.Ethernets {
		if !e.DHCP4 && !e.DHCP6 {
			continue
		}
		found, _ := linksWithMAC(links, e.MAC)
		switch {
		case len(found) != 1:
		case e.Named:
			add(e.ID, e.L3)
		default:
			add(found[0].Attrs().Name, e.L3)
		}
	}
	for _, b := range cfg.Bonds {
		add(b.Name, b.L3)
	}
	for _, v := range cfg.VLANs {
		add(v.Name, v.L3)
	}
	return v4, v6
}
