package netconf

// SpreadDefaultRouteMetrics gives every interface that would install an
// IPv4 (static default route or DHCPv4) or IPv6 (static default route)
// default route its own metric — 100, 200, … in interface order (ethernets,
// bonds, VLANs) — when more than one such route of the same family exists.
// Without distinct metrics the kernel keeps whichever came first and netplan
// warns "Conflicting default route declarations". Metrics the source set
// itself are kept. With a single default route per family nothing changes.
func (c *Config) SpreadDefaultRouteMetrics() {
	l3s := c.l3s()
	for _, v4 := range []bool{true, false} {
		type slot struct {
			l3    *L3
			route int // index in l3.Routes, or -1 for the DHCP lease
		}
		var slots []slot
		for _, l := range l3s {
			for i, r := range l.Routes {
				if r.IsDefault() && r.To.Addr().Is4() == v4 {
					slots = append(slots, slot{l, i})
				}
			}
			if v4 && l.DHCP4 {
				slots = append(slots, slot{l, -1})
			}
		}
		if len(slots) < 2 {
			continue
		}
		for n, s := range slots {
			metric := uint32(n+1) * 100
			if s.route < 0 {
				if s.l3.DHCPRouteMetric == 0 {
					s.l3.DHCPRouteMetric = metric
				}
			} else if s.l3.Routes[s.route].Metric == 0 {
				s.l3.Routes[s.route].Metric = metric
			}
		}
	}
}

// l3s lists the L3 part of every interface in rendering order.
func (c *Config) l3s() []*L3 {
	var out []*L3
	for i := range c.Ethernets {
		out = append(out, &c.Ethernets[i].L3)
	}
	for i := range c.Bonds {
		out = append(out, &c.Bonds[i].L3)
	}
	for i := range c.VLANs {
		out = append(out, &c.VLANs[i].L3)
	}
	return out
}
