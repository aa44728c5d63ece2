package nl

import (
	"errors"
	"testing"

	"github.com/vishvananda/netlink"

	"guestbridge/internal/testenv"
)

func TestRetryRepeatsInterruptedDumps(t *testing.T) {
	calls := 0
	v, err := Retry(func() (int, error) {
		calls++
		if calls < 3 {
			return -1, netlink.ErrDumpInterrupted
		}
		return 42, nil
	})
	if err != nil || v != 42 || calls != 3 {
		t.Fatalf("Retry = %d, %v after %d calls; want 42, nil after 3", v, err, calls)
	}
}

func TestRetryGivesUpAfterMaxTries(t *testing.T) {
	calls := 0
	_, err := Retry(func() (int, error) { calls++; return 0, netlink.ErrDumpInterrupted })
	if !errors.Is(err, netlink.ErrDumpInterrupted) || calls != MaxTries {
		t.Fatalf("err=%v calls=%d; want ErrDumpInterrupted after %d", err, calls, MaxTries)
	}
}

func TestRetryReturnsOtherErrorsAtOnce(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	_, err := Retry(func() (int, error) { calls++; return 0, boom })
	if err != boom || calls != 1 {
		t.Fatalf("err=%v calls=%d; want boom after 1", err, calls)
	}
}

func TestLinkListFindsLoopback(t *testing.T) {
	testenv.RequireRoot(t)
	links, err := LinkList(nil)
	if err != nil {
		t.Fatal(err)
	}
	lo, err := LinkByName(nil, "lo")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, l := range links {
		found = found || l.Attrs().Index == lo.Attrs().Index
	}
	if !found {
		t.Fatalf("lo (index %d) not in LinkList", lo.Attrs().Index)
	}
	if _, err := AddrList(nil, lo, netlink.FAMILY_V4); err != nil {
		t.Fatal(err)
	}
}
