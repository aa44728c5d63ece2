package oracle

import (
	"bufio"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"guestbridge/internal/testenv"
)

// Renderers are the network renderers cloud-init 22.4.2 ships, by the
// names `cloud-init devel net-convert -O` takes.
var Renderers = []string{"eni", "netplan", "networkd", "sysconfig", "network-manager"}

// RRoute is a route as a renderer wrote it (Via invalid: no gateway).
type RRoute struct {
	To  netip.Prefix
	Via netip.Addr
}

func (r RRoute) String() string {
	if r.Via.IsValid() {
		return r.To.String() + " via " + r.Via.String()
	}
	return r.To.String()
}

// RIface is what a renderer's output makes of one interface: the meaning,
// not the spelling. Routes are the ones the renderer installs reliably (see
// each parser for what it does not count).
type RIface struct {
	Name      string
	MAC       string // lower-case, "" when the file does not match by MAC
	Addresses []netip.Prefix
	Routes    []RRoute
	MTU       int
	DHCP4     bool
	DHCP6     bool
	DNS       []netip.Addr
	Search    []string
	BondOf    string // the bond this interface is a member of
	VLANLink  string // for a VLAN: the parent interface (NM: parent uuid resolved)
	VLANID    int
	// BestEffort are routes the renderer writes in a form that does not
	// reliably take effect (ENI `post-up route add … || true`: needs the
	// optional net-tools package, and IPv6 ones run before the IPv6 address
	// is configured).
	BestEffort []RRoute
}

// Rendered is a renderer's whole output by interface name.
type Rendered map[string]*RIface

func (r Rendered) get(name string) *RIface {
	if r[name] == nil {
		r[name] = &RIface{Name: name}
	}
	return r[name]
}

// CloudInitRenderV2 runs `cloud-init devel net-convert -p FILE -k yaml
// -D DISTRO -O renderer` on a network-config v2 document (sysconfig with
// -D rhel, the others with -D debian) and parses the files it wrote.
// A cloud-init failure is returned with its stderr (the test decides).
func CloudInitRenderV2(t testing.TB, v2 []byte, renderer string) (Rendered, map[string]string, error) {
	t.Helper()
	cloudInit := testenv.RequireCommand(t, "cloud-init")
	dir := t.TempDir()
	in := filepath.Join(dir, "network-config")
	if err := os.WriteFile(in, v2, 0o600); err != nil {
		t.Fatal(err)
	}
	distro := "debian"
	if renderer == "sysconfig" {
		distro = "rhel"
	}
	out := filepath.Join(dir, "out")
	if stderr, err := run(cloudInit, "devel", "net-convert", "-p", in, "-k", "yaml", "-D", distro, "-O", renderer, "-d", out); err != nil {
		return nil, nil, fmt.Errorf("%v\n%s", err, lastLines(stderr, 15))
	}
	files, err := readTree(out)
	if err != nil {
		t.Fatal(err)
	}
	r, err := ParseRendered(renderer, files)
	return r, files, err
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ParseRendered parses the files (path relative to the output root →
// content) one renderer wrote.
func ParseRendered(renderer string, files map[string]string) (Rendered, error) {
	r := Rendered{}
	var err error
	for _, path := range slices.Sorted(maps.Keys(files)) {
		content := files[path]
		switch {
		case renderer == "eni" && strings.HasPrefix(path, "etc/network/interfaces"):
			err = parseENI(r, content)
		case renderer == "networkd" && strings.HasSuffix(path, ".network"):
			err = parseNetworkd(r, content)
		case renderer == "sysconfig" && strings.HasPrefix(filepath.Base(path), "ifcfg-"):
			err = parseIfcfg(r, strings.TrimPrefix(filepath.Base(path), "ifcfg-"), content)
		case renderer == "sysconfig" && strings.HasPrefix(filepath.Base(path), "route-"):
			err = parseSysconfigRoute4(r, strings.TrimPrefix(filepath.Base(path), "route-"), content)
		case renderer == "sysconfig" && strings.HasPrefix(filepath.Base(path), "route6-"):
			err = parseSysconfigRoute6(r, strings.TrimPrefix(filepath.Base(path), "route6-"), content)
		case renderer == "network-manager" && strings.HasSuffix(path, ".nmconnection"):
			err = parseNMKeyfile(r, content)
		case renderer == "netplan" && strings.HasSuffix(path, ".yaml"):
			err = parseNetplan(r, content)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
	}
	if renderer == "network-manager" {
		resolveNMParents(r)
	}
	return r, nil
}

// ---- ENI (ifupdown) ----

// parseENI reads `iface NAME FAMILY METHOD` stanzas and their options.
func parseENI(r Rendered, content string) error {
	var cur *RIface
	var family string
	sc := bufio.NewScanner(strings.NewReader(content))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		switch f[0] {
		case "auto", "allow-hotplug", "source", "source-directory":
			continue
		case "iface":
			if len(f) < 4 {
				return fmt.Errorf("short iface line %q", line)
			}
			if f[1] == "lo" {
				cur = nil
				continue
			}
			cur, family = r.get(f[1]), f[2]
			switch {
			case family == "inet" && f[3] == "dhcp":
				cur.DHCP4 = true
			case family == "inet6" && f[3] == "dhcp":
				cur.DHCP6 = true
			}
			continue
		}
		if cur == nil || len(f) < 2 {
			continue
		}
		var err error
		switch f[0] {
		case "address":
			var p netip.Prefix
			if p, err = netip.ParsePrefix(f[1]); err == nil {
				cur.Addresses = append(cur.Addresses, p)
			}
		case "gateway":
			var a netip.Addr
			if a, err = netip.ParseAddr(f[1]); err == nil {
				cur.Routes = append(cur.Routes, RRoute{defaultOf(a), a})
			}
		case "mtu":
			cur.MTU, err = strconv.Atoi(f[1])
		case "dns-nameservers":
			cur.DNS, err = appendAddrs(cur.DNS, f[1:])
		case "dns-search":
			cur.Search = append(cur.Search, f[1:]...)
		case "bond-master":
			cur.BondOf = f[1]
		case "vlan-raw-device":
			cur.VLANLink = f[1]
		case "vlan_id":
			cur.VLANID, err = strconv.Atoi(f[1])
		case "hwaddress":
			cur.MAC = strings.ToLower(f[len(f)-1])
		case "post-up":
			var rt RRoute
			var ok bool
			if rt, ok, err = parseRouteCommand(f[1:]); ok {
				cur.BestEffort = append(cur.BestEffort, rt)
			}
		}
		if err != nil {
			return fmt.Errorf("%q: %w", line, err)
		}
	}
	return sc.Err()
}

// parseRouteCommand reads net-tools `route add [-A inet6] [-net|-host]
// DST|default gw GW [metric N] || true`.
func parseRouteCommand(f []string) (RRoute, bool, error) {
	if len(f) < 2 || f[0] != "route" || f[1] != "add" {
		return RRoute{}, false, nil
	}
	var rt RRoute
	v6 := false
	dst := ""
	for i := 2; i < len(f); i++ {
		switch f[i] {
		case "-A":
			i++
			v6 = i < len(f) && f[i] == "inet6"
		case "-net", "-host":
		case "gw":
			i++
			if i < len(f) {
				a, err := netip.ParseAddr(f[i])
				if err != nil {
					return rt, false, err
				}
				rt.Via = a
			}
		case "metric":
			i++
		case "||", "true":
			i = len(f)
		default:
			if dst == "" {
				dst = f[i]
			}
		}
	}
	switch {
	case dst == "default" && v6:
		rt.To = netip.MustParsePrefix("::/0")
	case dst == "default":
		rt.To = netip.MustParsePrefix("0.0.0.0/0")
	default:
		p, err := netip.ParsePrefix(dst)
		if err != nil {
			return rt, false, err
		}
		rt.To = p
	}
	return rt, true, nil
}

// ---- systemd-networkd ----

func parseNetworkd(r Rendered, content string) error {
	sections, err := parseINI(content)
	if err != nil {
		return err
	}
	var cur *RIface
	for _, s := range sections {
		if s.name == "Match" {
			if n := s.get("Name"); n != "" {
				cur = r.get(n)
				cur.MAC = strings.ToLower(s.get("MACAddress"))
			}
		}
	}
	if cur == nil {
		return fmt.Errorf("no [Match] Name=")
	}
	for _, s := range sections {
		switch s.name {
		case "Address":
			for _, v := range s.all("Address") {
				p, err := netip.ParsePrefix(v)
				if err != nil {
					return err
				}
				cur.Addresses = append(cur.Addresses, p)
			}
		case "Route":
			var rt RRoute
			if d := s.get("Destination"); d != "" {
				p, err := netip.ParsePrefix(d)
				if err != nil {
					return err
				}
				rt.To = p
			}
			if g := s.get("Gateway"); g != "" {
				a, err := netip.ParseAddr(g)
				if err != nil {
					return err
				}
				rt.Via = a
				if !rt.To.IsValid() {
					rt.To = defaultOf(a)
				}
			}
			if rt.To.IsValid() {
				cur.Routes = append(cur.Routes, rt)
			}
		case "Link":
			if m := s.get("MTUBytes"); m != "" {
				n, err := strconv.Atoi(m)
				if err != nil {
					return err
				}
				cur.MTU = n
			}
		case "Network":
			switch s.get("DHCP") {
			case "yes":
				cur.DHCP4, cur.DHCP6 = true, true
			case "ipv4":
				cur.DHCP4 = true
			case "ipv6":
				cur.DHCP6 = true
			}
			for _, v := range s.all("DNS") {
				if cur.DNS, err = appendAddrs(cur.DNS, strings.Fields(v)); err != nil {
					return err
				}
			}
			for _, v := range s.all("Domains") {
				cur.Search = append(cur.Search, strings.Fields(v)...)
			}
			for _, v := range s.all("Address") {
				p, err := netip.ParsePrefix(v)
				if err != nil {
					return err
				}
				cur.Addresses = append(cur.Addresses, p)
			}
			for _, v := range s.all("Gateway") {
				a, err := netip.ParseAddr(v)
				if err != nil {
					return err
				}
				cur.Routes = append(cur.Routes, RRoute{defaultOf(a), a})
			}
			if b := s.get("Bond"); b != "" {
				cur.BondOf = b
			}
		}
	}
	return nil
}

type iniSection struct {
	name string
	keys []string
	vals []string
}

func (s iniSection) get(k string) string {
	v := ""
	for i := range s.keys {
		if s.keys[i] == k {
			v = s.vals[i]
		}
	}
	return v
}

func (s iniSection) all(k string) []string {
	var out []string
	for i := range s.keys {
		if s.keys[i] == k {
			out = append(out, s.vals[i])
		}
	}
	return out
}

// parseINI reads systemd unit / NetworkManager keyfile syntax: [Section]
// headers, KEY=VALUE lines, # and ; comments. Sections repeat.
func parseINI(content string) ([]iniSection, error) {
	var out []iniSection
	sc := bufio.NewScanner(strings.NewReader(content))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "["):
			if !strings.HasSuffix(line, "]") || len(line) < 3 {
				return nil, fmt.Errorf("bad section header %q", line)
			}
			out = append(out, iniSection{name: line[1 : len(line)-1]})
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || len(out) == 0 {
				return nil, fmt.Errorf("bad line %q", line)
			}
			s := &out[len(out)-1]
			s.keys = append(s.keys, strings.TrimSpace(k))
			s.vals = append(s.vals, strings.TrimSpace(v))
		}
	}
	return out, sc.Err()
}

// ---- sysconfig (ifcfg-*, route-*, route6-*) ----

func parseShellVars(content string) (map[string]string, error) {
	vars := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(content))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			return nil, fmt.Errorf("bad line %q", line)
		}
		vars[k] = strings.Trim(v, `"'`)
	}
	return vars, sc.Err()
}

func parseIfcfg(r Rendered, name, content string) error {
	vars, err := parseShellVars(content)
	if err != nil {
		return err
	}
	if d := vars["DEVICE"]; d != "" {
		name = d
	}
	cur := r.get(name)
	cur.MAC = strings.ToLower(vars["HWADDR"])
	cur.DHCP4 = vars["BOOTPROTO"] == "dhcp"
	cur.DHCP6 = vars["DHCPV6C"] == "yes"
	for _, suffix := range append([]string{""}, numbered(10)...) {
		ip := vars["IPADDR"+suffix]
		if ip == "" {
			continue
		}
		a, err := netip.ParseAddr(ip)
		if err != nil {
			return err
		}
		bits := 24
		if pfx := vars["PREFIX"+suffix]; pfx != "" {
			bits, _ = strconv.Atoi(pfx)
		} else if m := vars["NETMASK"+suffix]; m != "" {
			mask, err := netip.ParseAddr(m)
			if err != nil {
				return err
			}
			bits = maskLen(mask)
		}
		cur.Addresses = append(cur.Addresses, netip.PrefixFrom(a, bits))
	}
	v6 := strings.Fields(vars["IPV6ADDR"] + " " + vars["IPV6ADDR_SECONDARIES"])
	for _, s := range v6 {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return err
		}
		cur.Addresses = append(cur.Addresses, p)
	}
	if g := vars["GATEWAY"]; g != "" {
		a, err := netip.ParseAddr(g)
		if err != nil {
			return err
		}
		cur.Routes = append(cur.Routes, RRoute{defaultOf(a), a})
	}
	if g := vars["IPV6_DEFAULTGW"]; g != "" {
		a, err := netip.ParseAddr(strings.Split(g, "%")[0])
		if err != nil {
			return err
		}
		cur.Routes = append(cur.Routes, RRoute{defaultOf(a), a})
	}
	if m := vars["MTU"]; m != "" {
		if cur.MTU, err = strconv.Atoi(m); err != nil {
			return err
		}
	}
	for _, n := range append([]string{""}, numbered(10)...) {
		if d := vars["DNS"+n]; d != "" {
			if cur.DNS, err = appendAddrs(cur.DNS, []string{d}); err != nil {
				return err
			}
		}
	}
	if d := vars["DOMAIN"]; d != "" {
		cur.Search = append(cur.Search, strings.Fields(d)...)
	}
	cur.BondOf = vars["MASTER"]
	if vars["VLAN"] == "yes" {
		cur.VLANLink = vars["PHYSDEV"]
		if i := strings.LastIndex(name, "."); i >= 0 {
			cur.VLANID, _ = strconv.Atoi(name[i+1:])
		}
	}
	return nil
}

func numbered(n int) []string {
	var out []string
	for i := 0; i <= n; i++ {
		out = append(out, strconv.Itoa(i))
	}
	return out
}

func maskLen(m netip.Addr) int {
	n := 0
	for _, b := range m.AsSlice() {
		for i := 7; i >= 0 && b&(1<<i) != 0; i-- {
			n++
		}
	}
	return n
}

func parseSysconfigRoute4(r Rendered, name, content string) error {
	vars, err := parseShellVars(content)
	if err != nil {
		return err
	}
	cur := r.get(name)
	for i := 0; ; i++ {
		n := strconv.Itoa(i)
		addr := vars["ADDRESS"+n]
		if addr == "" {
			return nil
		}
		a, err := netip.ParseAddr(addr)
		if err != nil {
			return err
		}
		m, err := netip.ParseAddr(vars["NETMASK"+n])
		if err != nil {
			return err
		}
		rt := RRoute{To: netip.PrefixFrom(a, maskLen(m))}
		if g := vars["GATEWAY"+n]; g != "" {
			if rt.Via, err = netip.ParseAddr(g); err != nil {
				return err
			}
		}
		cur.Routes = append(cur.Routes, rt)
	}
}

// parseSysconfigRoute6 reads `DST via GW dev IF` lines.
func parseSysconfigRoute6(r Rendered, name, content string) error {
	cur := r.get(name)
	sc := bufio.NewScanner(strings.NewReader(content))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 || strings.HasPrefix(f[0], "#") {
			continue
		}
		p, err := netip.ParsePrefix(f[0])
		if err != nil {
			return err
		}
		rt := RRoute{To: p}
		for i := 1; i+1 < len(f); i++ {
			if f[i] == "via" {
				if rt.Via, err = netip.ParseAddr(f[i+1]); err != nil {
					return err
				}
			}
		}
		cur.Routes = append(cur.Routes, rt)
	}
	return sc.Err()
}

// ---- NetworkManager keyfile ----

// nmUUIDs maps connection uuid → interface name while parsing (VLAN parents
// and bond masters refer to uuids).
const nmUUIDPrefix = "uuid:"

func parseNMKeyfile(r Rendered, content string) error {
	sections, err := parseINI(content)
	if err != nil {
		return err
	}
	byName := map[string]iniSection{}
	for _, s := range sections {
		byName[s.name] = s
	}
	conn := byName["connection"]
	name := conn.get("interface-name")
	if name == "" {
		name = strings.TrimPrefix(conn.get("id"), "cloud-init ")
	}
	cur := r.get(name)
	r.get(nmUUIDPrefix + conn.get("uuid")).Name = name
	if m := conn.get("master"); m != "" {
		cur.BondOf = nmUUIDPrefix + m
	}
	if e, ok := byName["ethernet"]; ok {
		cur.MAC = strings.ToLower(e.get("mac-address"))
		if m := e.get("mtu"); m != "" {
			if cur.MTU, err = strconv.Atoi(m); err != nil {
				return err
			}
		}
	}
	for _, sec := range []string{"bond", "vlan"} {
		if s, ok := byName[sec]; ok && s.get("mtu") != "" {
			if cur.MTU, err = strconv.Atoi(s.get("mtu")); err != nil {
				return err
			}
		}
	}
	if v, ok := byName["vlan"]; ok {
		cur.VLANLink = nmUUIDPrefix + v.get("parent")
		cur.VLANID, _ = strconv.Atoi(v.get("id"))
	}
	for _, fam := range []string{"ipv4", "ipv6"} {
		s, ok := byName[fam]
		if !ok {
			continue
		}
		if s.get("method") == "auto" {
			if fam == "ipv4" {
				cur.DHCP4 = true
			} else {
				cur.DHCP6 = true
			}
		}
		for i := range s.keys {
			k, v := s.keys[i], s.vals[i]
			switch {
			case strings.HasPrefix(k, "address"):
				p, err := netip.ParsePrefix(strings.Split(v, ",")[0])
				if err != nil {
					return err
				}
				cur.Addresses = append(cur.Addresses, p)
			case k == "gateway":
				a, err := netip.ParseAddr(v)
				if err != nil {
					return err
				}
				cur.Routes = append(cur.Routes, RRoute{defaultOf(a), a})
			case strings.HasPrefix(k, "route") && !strings.Contains(k, "_"):
				parts := strings.Split(v, ",")
				p, err := netip.ParsePrefix(parts[0])
				if err != nil {
					return err
				}
				// NetworkManager takes only routes of the section's own
				// family; a foreign one makes the profile invalid, so it
				// does not count.
				if p.Addr().Is4() != (fam == "ipv4") {
					continue
				}
				rt := RRoute{To: p}
				if len(parts) > 1 && parts[1] != "" {
					if rt.Via, err = netip.ParseAddr(parts[1]); err != nil {
						return err
					}
				}
				cur.Routes = append(cur.Routes, rt)
			case k == "dns":
				for _, d := range strings.Split(strings.TrimSuffix(v, ";"), ";") {
					if d != "" {
						if cur.DNS, err = appendAddrs(cur.DNS, []string{d}); err != nil {
							return err
						}
					}
				}
			case k == "dns-search":
				for _, d := range strings.Split(strings.TrimSuffix(v, ";"), ";") {
					if d != "" && !slices.Contains(cur.Search, d) {
						cur.Search = append(cur.Search, d)
					}
				}
			}
		}
	}
	return nil
}

// resolveNMParents turns uuid references into interface names and drops
// the uuid entries.
func resolveNMParents(r Rendered) {
	for _, i := range r {
		if n, ok := r[i.VLANLink]; ok && strings.HasPrefix(i.VLANLink, nmUUIDPrefix) {
			i.VLANLink = n.Name
		}
		if n, ok := r[i.BondOf]; ok && strings.HasPrefix(i.BondOf, nmUUIDPrefix) {
			i.BondOf = n.Name
		}
	}
	for k := range r {
		if strings.HasPrefix(k, nmUUIDPrefix) {
			delete(r, k)
		}
	}
}

// ---- netplan (cloud-init passes v2 through verbatim) ----

type npIface struct {
	Match struct {
		MACAddress string `yaml:"macaddress"`
	} `yaml:"match"`
	SetName     string   `yaml:"set-name"`
	MTU         int      `yaml:"mtu"`
	DHCP4       bool     `yaml:"dhcp4"`
	DHCP6       bool     `yaml:"dhcp6"`
	Addresses   []string `yaml:"addresses"`
	Gateway4    string   `yaml:"gateway4"`
	Gateway6    string   `yaml:"gateway6"`
	Interfaces  []string `yaml:"interfaces"`
	ID          int      `yaml:"id"`
	Link        string   `yaml:"link"`
	Nameservers struct {
		Addresses []string `yaml:"addresses"`
		Search    []string `yaml:"search"`
	} `yaml:"nameservers"`
	Routes []struct {
		To  string `yaml:"to"`
		Via string `yaml:"via"`
	} `yaml:"routes"`
}

func parseNetplan(r Rendered, content string) error {
	var doc struct {
		Network struct {
			Ethernets map[string]npIface `yaml:"ethernets"`
			Bonds     map[string]npIface `yaml:"bonds"`
			VLANs     map[string]npIface `yaml:"vlans"`
		} `yaml:"network"`
	}
	if err := yaml.Unmarshal([]byte(content), &doc); err != nil {
		return err
	}
	for _, sec := range []map[string]npIface{doc.Network.Ethernets, doc.Network.Bonds, doc.Network.VLANs} {
		for _, key := range sortedKeys(sec) {
			n := sec[key]
			name := key
			if n.SetName != "" {
				name = n.SetName
			}
			cur := r.get(name)
			cur.MAC = strings.ToLower(n.Match.MACAddress)
			cur.MTU, cur.DHCP4, cur.DHCP6 = n.MTU, n.DHCP4, n.DHCP6
			cur.VLANID, cur.VLANLink = n.ID, n.Link
			var err error
			for _, a := range n.Addresses {
				p, err := netip.ParsePrefix(a)
				if err != nil {
					return err
				}
				cur.Addresses = append(cur.Addresses, p)
			}
			for _, g := range []string{n.Gateway4, n.Gateway6} {
				if g != "" {
					a, err := netip.ParseAddr(g)
					if err != nil {
						return err
					}
					cur.Routes = append(cur.Routes, RRoute{defaultOf(a), a})
				}
			}
			for _, rt := range n.Routes {
				p, err := netip.ParsePrefix(rt.To)
				if err != nil {
					return err
				}
				x := RRoute{To: p}
				if rt.Via != "" {
					if x.Via, err = netip.ParseAddr(rt.Via); err != nil {
						return err
					}
				}
				cur.Routes = append(cur.Routes, x)
			}
			if cur.DNS, err = appendAddrs(cur.DNS, n.Nameservers.Addresses); err != nil {
				return err
			}
			cur.Search = append(cur.Search, n.Nameservers.Search...)
			for _, m := range n.Interfaces {
				r.get(m).BondOf = name
			}
		}
	}
	return nil
}

func sortedKeys(m map[string]npIface) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func defaultOf(a netip.Addr) netip.Prefix {
	if a.Is4() {
		return netip.PrefixFrom(netip.IPv4Unspecified(), 0)
	}
	return netip.PrefixFrom(netip.IPv6Unspecified(), 0)
}

func appendAddrs(list []netip.Addr, in []string) ([]netip.Addr, error) {
	for _, s := range in {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return list, err
		}
		if !slices.Contains(list, a) {
			list = append(list, a)
		}
	}
	return list, nil
}
