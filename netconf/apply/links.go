package apply

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"

	"github.com/vishvananda/netlink"
)

func isUp(l netlink.Link) bool { return l != nil && l.Attrs().Flags&net.FlagUp != 0 }

// setDown and setUp change the admin state, journaling the opposite.
func (r *run) setDown(name string, l netlink.Link) error {
	if l == nil || !isUp(l) {
		return nil
	}
	err := r.do(Change{"down", name, ""},
		func() error { return r.ops.LinkSetDown(l) },
		func() error { return r.ops.LinkSetUp(l) })
	if err == nil {
		l.Attrs().Flags &^= net.FlagUp
	}
	return err
}

func (r *run) setUp(name string, l netlink.Link) error {
	if isUp(l) {
		return nil
	}
	err := r.do(Change{"up", name, ""},
		func() error { return r.ops.LinkSetUp(l) },
		func() error { return r.ops.LinkSetDown(l) })
	if err == nil && l != nil {
		l.Attrs().Flags |= net.FlagUp
	}
	return err
}

// rename gives l the configured name: down, rename, up again if it was up
// (the kernel refuses to rename a running device).
func (r *run) rename(l netlink.Link, to string) error {
	from := l.Attrs().Name
	if from == to {
		return nil
	}
	wasUp := isUp(l)
	if err := r.setDown(from, l); err != nil {
		return err
	}
	err := r.do(Change{"rename", from, "to " + to},
		func() error { return r.ops.LinkSetName(l, to) },
		func() error { return r.ops.LinkSetName(l, from) })
	if err != nil {
		return err
	}
	l.Attrs().Name = to
	if wasUp {
		return r.setUp(to, l)
	}
	return nil
}

func (r *run) setMTU(name string, l netlink.Link, mtu int) error {
	if mtu == 0 || (l != nil && l.Attrs().MTU == mtu) {
		return nil
	}
	old := 0
	if l != nil {
		old = l.Attrs().MTU
	}
	err := r.do(Change{"set", name, fmt.Sprintf("mtu %d", mtu)},
		func() error { return r.ops.LinkSetMTU(l, mtu) },
		func() error { return r.ops.LinkSetMTU(l, old) })
	if err == nil && l != nil {
		l.Attrs().MTU = mtu
	}
	return err
}

func (r *run) setMAC(name string, l netlink.Link, mac net.HardwareAddr) error {
	if len(mac) == 0 || (l != nil && bytes.Equal(l.Attrs().HardwareAddr, mac)) {
		return nil
	}
	var old net.HardwareAddr
	if l != nil {
		old = append(old, l.Attrs().HardwareAddr...)
	}
	err := r.do(Change{"set", name, "mac " + mac.String()},
		func() error { return r.ops.LinkSetHardwareAddr(l, mac) },
		func() error { return r.ops.LinkSetHardwareAddr(l, old) })
	if err == nil && l != nil {
		l.Attrs().HardwareAddr = mac
	}
	return err
}

// create adds a virtual link (bond, VLAN) and returns it as the kernel sees
// it (with its index). kind names the kernel feature for the error hint.
func (r *run) create(l netlink.Link, what, feature string) (netlink.Link, error) {
	name := l.Attrs().Name
	err := r.do(Change{"create", name, what},
		func() error {
			err := r.ops.LinkAdd(l)
			if errors.Is(err, syscall.EOPNOTSUPP) {
				return fmt.Errorf("%w (kernel has no %s support?)", err, feature)
			}
			return err
		},
		func() error { return r.ops.LinkDel(l) })
	if err != nil || r.o.DryRun {
		return nil, err
	}
	created, err := r.ops.LinkByName(name)
	if err != nil {
		return nil, fmt.Errorf("%s: find created %s: %w", name, strings.Fields(what)[0], err)
	}
	return created, nil
}

// existing returns the link called name if it exists and is of kind (any
// kind when kind is ""), nil if there is none, and an error when the name is
// taken by another kind.
func existing(links []netlink.Link, name, kind string) (netlink.Link, error) {
	for _, l := range links {
		if l.Attrs().Name != name {
			continue
		}
		if kind != "" && l.Type() != kind {
			return nil, fmt.Errorf("%s: exists as a %s device, not a %s", name, l.Type(), kind)
		}
		return l, nil
	}
	return nil, nil
}
