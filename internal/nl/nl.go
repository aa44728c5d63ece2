// Package nl wraps the netlink dump calls that can return
// netlink.ErrDumpInterrupted (NLM_F_DUMP_INTR). The kernel sets that flag when
// the table changed during the dump, e.g. an IPv6 address leaving the
// tentative state right after it was added; the partial result must not be
// trusted, so the dump is simply repeated.
package nl

import (
	"errors"

	"github.com/vishvananda/netlink"
)

// MaxTries bounds the retries; interruptions are transient, a table that keeps
// changing for this many dumps is reported as an error.
const MaxTries = 30

// Retry calls dump until it succeeds without netlink.ErrDumpInterrupted, at
// most MaxTries times.
func Retry[T any](dump func() (T, error)) (T, error) {
	var (
		v   T
		err error
	)
	for range MaxTries {
		v, err = dump()
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			return v, err
		}
	}
	return v, err
}

// LinkList lists the links seen by h (nil h: the current netns).
func LinkList(h *netlink.Handle) ([]netlink.Link, error) {
	return Retry(func() ([]netlink.Link, error) {
		if h == nil {
			return netlink.LinkList()
		}
		return h.LinkList()
	})
}

// LinkByName finds a link by name.
func LinkByName(h *netlink.Handle, name string) (netlink.Link, error) {
	return Retry(func() (netlink.Link, error) {
		if h == nil {
			return netlink.LinkByName(name)
		}
		return h.LinkByName(name)
	})
}

// LinkByIndex finds a link by index.
func LinkByIndex(h *netlink.Handle, index int) (netlink.Link, error) {
	return Retry(func() (netlink.Link, error) {
		if h == nil {
			return netlink.LinkByIndex(index)
		}
		return h.LinkByIndex(index)
	})
}

// AddrList lists the addresses of link (nil: all links) in family.
func AddrList(h *netlink.Handle, link netlink.Link, family int) ([]netlink.Addr, error) {
	return Retry(func() ([]netlink.Addr, error) {
		if h == nil {
			return netlink.AddrList(link, family)
		}
		return h.AddrList(link, family)
	})
}

// RouteListFiltered lists the routes matching filter on the fields in mask.
func RouteListFiltered(h *netlink.Handle, family int, filter *netlink.Route, mask uint64) ([]netlink.Route, error) {
	return Retry(func() ([]netlink.Route, error) {
		if h == nil {
			return netlink.RouteListFiltered(family, filter, mask)
		}
		return h.RouteListFiltered(family, filter, mask)
	})
}
