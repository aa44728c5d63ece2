package configdrive

import (
	"net"
	"net/netip"
	"strconv"
	"strings"
)

// parseMAC reads an Ethernet MAC in any case, with ':' or '-' separators.
func parseMAC(path, s string) (net.HardwareAddr, error) {
	mac, err := net.ParseMAC(s)
	if err != nil || len(mac) != 6 {
		return nil, errAt(path, "%q is not an Ethernet MAC address", s)
	}
	return mac, nil
}

// parseHWAddr reads a link-layer address of any length net.ParseMAC knows
// (6-byte Ethernet, 8-byte EUI-64, 20-byte InfiniBand).
func parseHWAddr(path, s string) (net.HardwareAddr, error) {
	mac, err := net.ParseMAC(s)
	if err != nil {
		return nil, errAt(path, "%q is not a MAC address", s)
	}
	return mac, nil
}

// parseIP reads a plain IP address of the wanted family (v4 or v6).
func parseIP(path, s string, v4 bool) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || a.Zone() != "" {
		return netip.Addr{}, errAt(path, "%q is not an IP address", s)
	}
	a = a.Unmap()
	if a.Is4() != v4 {
		return netip.Addr{}, errAt(path, "%q is not an %s address", s, family(v4))
	}
	return a, nil
}

// maskBits turns a netmask into a prefix length. Accepted: a dotted IPv4
// mask, an IPv6 mask ("ffff:ffff::"), or a bare length ("64"). ok is false
// for an empty mask (the caller picks the default). Non-contiguous masks
// are an error: they have no prefix length.
func maskBits(path, mask string, v4 bool) (n int, ok bool, err error) {
	mask = strings.TrimSpace(mask)
	if mask == "" {
		return 0, false, nil
	}
	max := 128
	if v4 {
		max = 32
	}
	if l, perr := strconv.Atoi(mask); perr == nil {
		if l < 0 || l > max {
			return 0, false, errAt(path, "prefix length %d outside 0..%d", l, max)
		}
		return l, true, nil
	}
	m, perr := netip.ParseAddr(mask)
	if perr != nil || m.Zone() != "" || m.Is4() != v4 {
		return 0, false, errAt(path, "%q is not an %s netmask", mask, family(v4))
	}
	b := m.AsSlice()
	ones := 0
	for ones < len(b)*8 && b[ones/8]&(0x80>>(ones%8)) != 0 {
		ones++
	}
	// Every bit after the leading ones must be zero.
	for i := ones; i < len(b)*8; i++ {
		if b[i/8]&(0x80>>(i%8)) != 0 {
			return 0, false, errAt(path, "netmask %q is not contiguous", mask)
		}
	}
	return ones, true, nil
}

// parseCIDROrAddr reads "addr" or "addr/len". bitsOK is false without "/len".
func parseCIDROrAddr(path, s string, v4 bool) (addr netip.Addr, length int, bitsOK bool, err error) {
	host, plen, hasLen := strings.Cut(s, "/")
	if addr, err = parseIP(path, host, v4); err != nil {
		return addr, 0, false, err
	}
	if !hasLen {
		return addr, 0, false, nil
	}
	max := addr.BitLen()
	l, perr := strconv.Atoi(plen)
	if perr != nil || l < 0 || l > max {
		return addr, 0, false, errAt(path, "%q has an invalid prefix length", s)
	}
	return addr, l, true, nil
}

func family(v4 bool) string {
	if v4 {
		return "IPv4"
	}
	return "IPv6"
}
