package dhcp

import (
	"context"
	"errors"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv4/server4"

	"guestbridge/internal/nl"
	"guestbridge/internal/nl/nltest"
)

// shortLeaseServer serves 198.18.3.50 with a lease of leaseSecs from inside
// ns (dnsmasq refuses leases under two minutes). It counts REQUESTs.
func shortLeaseServer(t *testing.T, ns *nltest.NS, leaseSecs uint32, requests *atomic.Int32) {
	t.Helper()
	serverIP := net.IPv4(198, 18, 3, 1)
	handler := func(conn net.PacketConn, peer net.Addr, m *dhcpv4.DHCPv4) {
		typ := dhcpv4.MessageTypeOffer
		if m.MessageType() == dhcpv4.MessageTypeRequest {
			typ = dhcpv4.MessageTypeAck
			requests.Add(1)
		} else if m.MessageType() != dhcpv4.MessageTypeDiscover {
			return
		}
		resp, err := dhcpv4.NewReplyFromRequest(m,
			dhcpv4.WithMessageType(typ),
			dhcpv4.WithYourIP(net.IPv4(198, 18, 3, 50)),
			dhcpv4.WithNetmask(net.CIDRMask(24, 32)),
			dhcpv4.WithServerIP(serverIP),
			dhcpv4.WithOption(dhcpv4.OptServerIdentifier(serverIP)),
			dhcpv4.WithLeaseTime(leaseSecs))
		if err != nil {
			t.Errorf("reply: %v", err)
			return
		}
		dst := &net.UDPAddr{IP: net.IPv4bcast, Port: dhcpv4.ClientPort}
		if _, err := conn.WriteTo(resp.ToBytes(), dst); err != nil {
			t.Logf("server write: %v", err)
		}
	}
	var srv *server4.Server
	err := nl.InNetns(ns.NsFd, func() error {
		var err error
		srv, err = server4.NewServer("peer0", &net.UDPAddr{IP: net.IPv4zero, Port: dhcpv4.ServerPort}, handler)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve()
	t.Cleanup(func() { srv.Close() })
}

// TestMaintainRenewsAtT1 uses a 4 s lease: Maintain must apply the first
// lease, then a renewed one around T1 (2 s), with a later Acquired time.
func TestMaintainRenewsAtT1(t *testing.T) {
	t.Parallel()
	guest, server := dhcpLab(t, "198.18.3.1/24")
	var requests atomic.Int32
	shortLeaseServer(t, server, 4, &requests)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var leases []*Lease4
	err := Maintain(ctx, "nic0", func(l *Lease4) error {
		leases = append(leases, l)
		if len(leases) == 2 {
			cancel()
		}
		return nil
	}, Options{NetNS: guest.NsFd, Timeout: time.Second, Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if len(leases) != 2 {
		t.Fatalf("got %d leases before the deadline, want the first and a renewal", len(leases))
	}
	gap := leases[1].Acquired.Sub(leases[0].Acquired)
	if gap < 1500*time.Millisecond || gap > 4*time.Second || leases[1].Addr != leases[0].Addr {
		t.Fatalf("renewal after %s with %s (first %s); want about T1 = 2s, same address", gap, leases[1].Addr, leases[0].Addr)
	}
	if n := requests.Load(); n != 2 {
		t.Fatalf("server saw %d REQUESTs, want 2 (initial, renew)", n)
	}
}

// Issue 8: one failed apply stopped Maintain for good (the lease then ran
// out). Now the apply is retried with backoff and renewals go on.
func TestMaintainKeepsGoingAfterFailedApply(t *testing.T) {
	t.Parallel()
	guest, server := dhcpLab(t, "198.18.3.1/24")
	var requests atomic.Int32
	shortLeaseServer(t, server, 8, &requests)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var calls []time.Time
	err := Maintain(ctx, "nic0", func(l *Lease4) error {
		calls = append(calls, time.Now())
		switch len(calls) {
		case 1:
			return errors.New("injected apply failure")
		case 3: // the renewal at T1 after the retried apply
			cancel()
		}
		return nil
	}, Options{NetNS: guest.NsFd, Timeout: time.Second, Logf: t.Logf})
	if err != nil {
		t.Fatalf("Maintain returned %v; want it to keep going", err)
	}
	if len(calls) != 3 {
		t.Fatalf("apply called %d times, want 3 (failed, retried, renewed)", len(calls))
	}
	if gap := calls[1].Sub(calls[0]); gap < 1500*time.Millisecond || gap > 3*time.Second {
		t.Errorf("retry after %s, want the 2 s backoff", gap)
	}
}
