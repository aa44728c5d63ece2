// Package nltest builds throw-away network namespaces for tests: veth pairs
// with chosen MACs, `ip -j` snapshots with volatile fields removed, and a
// dnsmasq DHCP/RA server. Every test using it needs root and iproute2.
package nltest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"guestbridge/internal/testenv"
)

// NS is a named network namespace deleted at the end of the test.
type NS struct {
	Name   string
	Handle *netlink.Handle
	NsFd   netns.NsHandle
}

// NewNS creates a namespace whose name is unique per test, tag and process
// (parallel test binaries never collide) and brings its loopback up.
func NewNS(t testing.TB, tag string) *NS {
	t.Helper()
	testenv.RequireRoot(t)
	testenv.RequireCommand(t, "ip")
	h := fnv.New32a()
	h.Write([]byte(t.Name()))
	name := fmt.Sprintf("gb%x-%d-%s", h.Sum32(), os.Getpid(), tag)
	Run(t, "ip", "netns", "add", name)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	fd, err := netns.GetFromName(name)
	if err != nil {
		t.Fatalf("open netns %s: %v", name, err)
	}
	t.Cleanup(func() { fd.Close() })
	hd, err := netlink.NewHandleAt(fd)
	if err != nil {
		t.Fatalf("netlink handle in %s: %v", name, err)
	}
	t.Cleanup(hd.Close)
	ns := &NS{Name: name, Handle: hd, NsFd: fd}
	ns.IP(t, "link", "set", "lo", "up")
	return ns
}

// IP runs `ip -n NS args...` and returns its output.
func (n *NS) IP(t testing.TB, args ...string) string {
	t.Helper()
	return Run(t, "ip", append([]string{"-n", n.Name}, args...)...)
}

// Veth creates name (with mac, down) in n and its peer (up) in peer.
func (n *NS) Veth(t testing.TB, name, mac string, peer *NS, peerName string) {
	t.Helper()
	n.IP(t, "link", "add", name, "address", mac, "type", "veth", "peer", "name", peerName, "netns", peer.Name)
	peer.IP(t, "link", "set", peerName, "up")
}

// Run runs a command and fails the test with its output if it fails.
func Run(t testing.TB, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

// JSON runs `ip -j -n NS args...` and decodes the array it prints.
func (n *NS) JSON(t testing.TB, args ...string) []map[string]any {
	t.Helper()
	out := n.IP(t, append([]string{"-j"}, args...)...)
	var v []map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("ip -j %v: %v\n%s", args, err, out)
	}
	return v
}

// volatileKeys change on their own, without anyone touching the
// configuration: carrier state follows the peer asynchronously, address
// lifetimes count down (RA and DHCP addresses), and the kernel attaches a
// device's default qdisc ("noop" becomes "noqueue") the first time it goes
// up and keeps it when it goes down again, so no rollback can undo that.
var volatileKeys = map[string]bool{
	"operstate": true, "valid_life_time": true, "preferred_life_time": true, "expires": true,
	"qdisc": true,
}

// volatileFlags are flag values the kernel toggles asynchronously: carrier
// (LOWER_UP, NO-CARRIER, linkdown) and IPv6 DAD progress (tentative).
var volatileFlags = map[string]bool{"LOWER_UP": true, "NO-CARRIER": true, "linkdown": true, "tentative": true}

// Snapshot is the namespace's links, addresses and routes (all tables, both
// families) as canonical JSON with volatile fields removed, for comparing
// the state before and after an operation.
func (n *NS) Snapshot(t testing.TB) string {
	t.Helper()
	var b bytes.Buffer
	for _, args := range [][]string{
		{"link", "show"}, {"addr", "show"},
		{"-4", "route", "show", "table", "all"}, {"-6", "route", "show", "table", "all"},
	} {
		v := n.JSON(t, args...)
		for _, obj := range v {
			scrub(obj)
		}
		if args[1] == "route" {
			// Dump order follows insertion time, which carries no meaning.
			slices.SortFunc(v, func(a, b map[string]any) int {
				ja, _ := json.Marshal(a)
				jb, _ := json.Marshal(b)
				return bytes.Compare(ja, jb)
			})
		}
		j, _ := json.MarshalIndent(v, "", " ")
		fmt.Fprintf(&b, "## ip %s\n%s\n", strings.Join(args, " "), j)
	}
	return b.String()
}

func scrub(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if volatileKeys[k] || volatileFlags[k] {
				delete(x, k)
				continue
			}
			if k == "flags" {
				x[k] = dropVolatileFlags(val)
				continue
			}
			scrub(val)
		}
	case []any:
		for _, e := range x {
			scrub(e)
		}
	}
}

func dropVolatileFlags(v any) any {
	list, ok := v.([]any)
	if !ok {
		return v
	}
	out := []any{}
	for _, f := range list {
		if s, ok := f.(string); ok && volatileFlags[s] {
			continue
		}
		out = append(out, f)
	}
	return out
}

// Settle waits (at most 5 s) until every UP link except loopback has
// carrier, an IPv6 link-local address, and no IPv6 address in DAD. Carrier changes go
// through the kernel's linkwatch (up to a second late) and link-local
// addresses follow carrier and DAD, so snapshots are only comparable once
// the namespace has settled.
func (n *NS) Settle(t testing.TB) {
	t.Helper()
	settled := func() bool {
		for _, l := range n.JSON(t, "addr", "show") {
			flags, _ := l["flags"].([]any)
			if !has(flags, "UP") || has(flags, "LOOPBACK") {
				continue
			}
			if !has(flags, "LOWER_UP") {
				return false
			}
			ok := false
			infos, _ := l["addr_info"].([]any)
			for _, i := range infos {
				a, _ := i.(map[string]any)
				if a["family"] == "inet6" && a["tentative"] != nil && a["dadfailed"] == nil {
					return false // local route appears when DAD ends
				}
				if a["scope"] == "link" && a["family"] == "inet6" {
					ok = true
				}
			}
			if !ok {
				return false
			}
		}
		return true
	}
	if !Eventually(5*time.Second, settled) {
		t.Fatalf("namespace %s did not settle (carrier, IPv6 link-local):\n%s", n.Name, n.IP(t, "addr", "show"))
	}
}

func has(list []any, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
