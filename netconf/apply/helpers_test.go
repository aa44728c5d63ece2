package apply

import (
	"context"
	"encoding/json"
	"net"
	"net/netip"
	"strconv"
	"testing"

	"guestbridge/internal/nl/nltest"
	"guestbridge/netconf"
)

// Test MACs: locally administered, unique to these tests.
const (
	mac0 = "02:00:5e:10:00:01"
	mac1 = "02:00:5e:10:00:02"
	mac2 = "02:00:5e:10:00:03"
)

func mustMAC(s string) net.HardwareAddr {
	m, err := net.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

func pfx(s ...string) []netip.Prefix {
	var out []netip.Prefix
	for _, x := range s {
		out = append(out, netip.MustParsePrefix(x))
	}
	return out
}

func rt(to, via string, metric uint32) netconf.Route {
	r := netconf.Route{To: netip.MustParsePrefix(to), Metric: metric}
	if via != "" {
		r.Via = netip.MustParseAddr(via)
	}
	return r
}

// lab is a guest namespace whose NICs are veths to a peer namespace.
type lab struct {
	guest, peer *nltest.NS
	stateDir    string
}

// newLab creates the namespaces and one veth per MAC: guest side "nicN"
// (down, with the MAC), peer side "peerN" (up).
func newLab(t testing.TB, macs ...string) *lab {
	t.Helper()
	l := &lab{guest: nltest.NewNS(t, "g"), peer: nltest.NewNS(t, "p"), stateDir: t.TempDir()}
	for i, m := range macs {
		l.guest.Veth(t, "nic"+strconv.Itoa(i), m, l.peer, "peer"+strconv.Itoa(i))
	}
	return l
}

func (l *lab) opts() Options {
	return Options{StateDir: l.stateDir, Handle: l.guest.Handle, NetNS: l.guest.NsFd}
}

func (l *lab) apply(t *testing.T, cfg *netconf.Config, o Options) Report {
	t.Helper()
	rep, err := Apply(context.Background(), cfg, o)
	if err != nil {
		t.Fatalf("Apply: %v\nreport:\n%s", err, rep)
	}
	return rep
}

// addrs returns ifname's addresses as "addr/len" strings, from `ip -j`.
func (l *lab) addrs(t *testing.T, ifname string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, link := range l.guest.JSON(t, "addr", "show", "dev", ifname) {
		infos, _ := link["addr_info"].([]any)
		for _, i := range infos {
			m := i.(map[string]any)
			out[m["local"].(string)+"/"+jsonNum(m["prefixlen"])] = true
		}
	}
	return out
}

// routes returns the main-table routes of a family as
// "dst via gw dev X metric M proto P" strings.
func (l *lab) routes(t *testing.T, family string) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	for _, r := range l.guest.JSON(t, family, "route", "show") {
		s := str(r["dst"])
		if gw := str(r["gateway"]); gw != "" {
			s += " via " + gw
		}
		s += " dev " + str(r["dev"])
		if m, ok := r["metric"]; ok {
			s += " metric " + jsonNum(m)
		}
		proto := str(r["protocol"])
		if proto == "" {
			proto = "boot" // ip -j omits the default protocol
		}
		s += " proto " + proto
		if fl, ok := r["flags"].([]any); ok {
			for _, f := range fl {
				if f == "onlink" {
					s += " onlink"
				}
			}
		}
		out[s] = true
	}
	return out
}

func (l *lab) link(t *testing.T, ifname string) map[string]any {
	t.Helper()
	v := l.guest.JSON(t, "link", "show", "dev", ifname)
	if len(v) != 1 {
		t.Fatalf("ip link show dev %s: %d entries", ifname, len(v))
	}
	return v[0]
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func jsonNum(v any) string {
	f, _ := v.(float64)
	return strconv.Itoa(int(f))
}

func requireHas(t *testing.T, what string, set map[string]bool, want ...string) {
	t.Helper()
	for _, w := range want {
		if !set[w] {
			t.Errorf("%s: missing %q; have %v", what, w, keys(set))
		}
	}
}

func requireLacks(t *testing.T, what string, set map[string]bool, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if set[w] {
			t.Errorf("%s: unexpected %q", what, w)
		}
	}
}

func keys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

func equalJSON(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
