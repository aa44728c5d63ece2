package agent

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// metricsPublisher writes guest metrics the way xe-daemon does, so XAPI
// shows memory, OS and addresses: only changed keys are written, keys no
// longer produced are removed, and data/updated marks each change.
type metricsPublisher struct {
	store Store
	root  string
	logf  func(string, ...any)
	now   func() time.Time
	// addrs lists an interface's addresses (replaced in tests).
	addrs func(ifname string) ([]netip.Addr, error)

	cache    map[string]string // what the store holds, as far as we know
	domainID string            // unique-domain-id at the last publish
}

func newMetricsPublisher(store Store, root string, logf func(string, ...any)) *metricsPublisher {
	return &metricsPublisher{store: store, root: root, logf: logf, now: time.Now, addrs: interfaceAddrs}
}

// updatedLayout is xe-daemon's format for data/updated.
const updatedLayout = "Mon Jan _2 15:04:05 2006"

// forget drops the cache so the next publish writes every key (after a
// reconnect, resume or migration the store may have lost them).
func (m *metricsPublisher) forget() { m.cache = nil }

func (m *metricsPublisher) publish(ctx context.Context) {
	// A new unique-domain-id means resume or migration: a fresh store.
	if id, err := m.store.Read(ctx, "unique-domain-id"); err == nil && string(id) != m.domainID {
		m.domainID = string(id)
		m.forget()
	}
	values := m.collect()
	changed, err := m.apply(ctx, values)
	if err != nil {
		m.logf("agent: publishing guest metrics: %v", err)
		m.forget() // we no longer know what the store holds
		return
	}
	if changed {
		if err := m.store.Write(ctx, "data/updated", []byte(m.now().UTC().Format(updatedLayout))); err != nil {
			m.logf("agent: publishing guest metrics: %v", err)
			m.forget()
		}
	}
}

// apply writes changed keys and removes stale ones.
func (m *metricsPublisher) apply(ctx context.Context, values map[string]string) (bool, error) {
	if m.cache == nil {
		m.cache = map[string]string{}
	}
	changed := false
	for _, k := range sortedKeys(values) {
		if old, ok := m.cache[k]; ok && old == values[k] {
			continue
		}
		if err := m.store.Write(ctx, k, []byte(values[k])); err != nil {
			return changed, err
		}
		m.cache[k] = values[k]
		changed = true
	}
	for _, k := range sortedKeys(m.cache) {
		if _, ok := values[k]; ok {
			continue
		}
		if err := m.store.Remove(ctx, k); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return changed, err
		}
		delete(m.cache, k)
		changed = true
	}
	return changed, nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// collect gathers every metric; a source that cannot be read is skipped.
func (m *metricsPublisher) collect() map[string]string {
	v := map[string]string{}
	if total, free, err := readMeminfo(m.path("/proc/meminfo")); err == nil {
		v["data/meminfo_total"] = strconv.FormatUint(total, 10)
		v["data/meminfo_free"] = strconv.FormatUint(free, 10)
	}
	if osr, err := readOSRelease(m.path("/etc/os-release")); err == nil {
		for k, val := range osInfo(osr) {
			v[k] = val
		}
	}
	if rel := unameRelease(); rel != "" {
		v["data/os_uname"] = rel
	}
	for k, val := range m.vifAddresses() {
		v[k] = val
	}
	return v
}

func (m *metricsPublisher) path(p string) string {
	if m.root == "" {
		return p
	}
	return filepath.Join(m.root, p)
}

// readMeminfo returns MemTotal and MemAvailable (MemFree on old kernels)
// in KiB.
func readMeminfo(path string) (total, free uint64, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	fields := map[string]uint64{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		name, rest, found := strings.Cut(sc.Text(), ":")
		if !found {
			continue
		}
		num := strings.Fields(rest)
		if len(num) == 0 {
			continue
		}
		if n, err := strconv.ParseUint(num[0], 10, 64); err == nil {
			fields[name] = n
		}
	}
	if err := sc.Err(); err != nil {
		return 0, 0, err
	}
	total, hasTotal := fields["MemTotal"]
	free, hasFree := fields["MemAvailable"]
	if !hasFree {
		free, hasFree = fields["MemFree"]
	}
	if !hasTotal || !hasFree {
		return 0, 0, fmt.Errorf("%s: MemTotal or MemFree missing", path)
	}
	return total, free, nil
}

// readOSRelease parses os-release(5): KEY=value, value optionally quoted.
func readOSRelease(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		key, val, found := strings.Cut(line, "=")
		if !found || strings.HasPrefix(line, "#") {
			continue
		}
		if uq, err := strconv.Unquote(val); err == nil && len(val) >= 2 && val[0] == '"' {
			val = uq
		} else if len(val) >= 2 && (val[0] == '\'' || val[0] == '"') && val[len(val)-1] == val[0] {
			val = val[1 : len(val)-1]
		}
		out[key] = val
	}
	return out, nil
}

// osInfo maps os-release fields to xe-daemon's keys.
func osInfo(osr map[string]string) map[string]string {
	v := map[string]string{}
	if name := osr["PRETTY_NAME"]; name != "" {
		v["data/os_name"] = name
	} else if name := osr["NAME"]; name != "" {
		v["data/os_name"] = strings.TrimSpace(name + " " + osr["VERSION"])
	}
	if id := osr["ID"]; id != "" {
		v["data/os_distro"] = id
	}
	if ver := osr["VERSION_ID"]; ver != "" {
		major, minor, _ := strings.Cut(ver, ".")
		v["data/os_majorver"] = major
		if minor == "" {
			minor = "0"
		}
		minor, _, _ = strings.Cut(minor, ".")
		v["data/os_minorver"] = minor
	}
	return v
}

// unameRelease is `uname -r`.
func unameRelease() string {
	var u syscall.Utsname
	if err := syscall.Uname(&u); err != nil {
		return ""
	}
	b := make([]byte, 0, len(u.Release))
	for _, c := range u.Release {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b)
}

// vifAddresses returns attr/vif/<devid>/ipv4/<k> and ipv6/<k> for every
// Xen vif, where devid comes from /sys/class/net/<if>/device/nodename
// ("device/vif/<devid>"); other interfaces are skipped.
func (m *metricsPublisher) vifAddresses() map[string]string {
	v := map[string]string{}
	entries, err := os.ReadDir(m.path("/sys/class/net"))
	if err != nil {
		return v
	}
	for _, e := range entries {
		node, err := os.ReadFile(m.path(filepath.Join("/sys/class/net", e.Name(), "device/nodename")))
		if err != nil {
			continue
		}
		devid, found := strings.CutPrefix(string(bytes.TrimSpace(node)), "device/vif/")
		if _, err := strconv.Atoi(devid); !found || err != nil {
			continue
		}
		addrs, err := m.addrs(e.Name())
		if err != nil {
			continue
		}
		n4, n6 := 0, 0
		for _, ip := range addrs {
			if ip.Is4() {
				v[fmt.Sprintf("attr/vif/%s/ipv4/%d", devid, n4)] = ip.String()
				n4++
			} else {
				v[fmt.Sprintf("attr/vif/%s/ipv6/%d", devid, n6)] = ip.String()
				n6++
			}
		}
	}
	return v
}

// interfaceAddrs lists the addresses of one interface, loopback excluded.
func interfaceAddrs(ifname string) ([]netip.Addr, error) {
	ifc, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, err
	}
	addrs, err := ifc.Addrs()
	if err != nil {
		return nil, err
	}
	var out []netip.Addr
	for _, a := range addrs {
		ipn, isNet := a.(*net.IPNet)
		if !isNet {
			continue
		}
		ip, valid := netip.AddrFromSlice(ipn.IP)
		if !valid || ip.IsLoopback() {
			continue
		}
		out = append(out, ip.Unmap())
	}
	return out, nil
}
