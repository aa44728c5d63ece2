package provision

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"guestbridge/internal/statefile"
	"guestbridge/netconf"
	"guestbridge/netconf/apply"
	"guestbridge/system"
)

// Compensation is what cloud-init's renderer on this image drops from our
// network-config and guestbridge therefore applies itself in seed mode.
type Compensation struct {
	Renderer string             `json:"renderer"`
	Routes   []apply.ExtraRoute `json:"routes,omitempty"`
	DNS      bool               `json:"dns,omitempty"` // write resolv.conf (MachineDNS) ourselves
	MTUs     map[string]int     `json:"mtus,omitempty"`
	Lost     []string           `json:"lost,omitempty"` // what nothing can bring back, for the log
	Written  time.Time          `json:"written"`
}

// CompensateFunc computes the Compensation of cfg for a renderer (netconf's
// RendererLosses, adapted by the caller).
type CompensateFunc func(cfg *netconf.Config, renderer string) (Compensation, error)

const compensationFile = "compensate.json"

// cloudInitDefaultRenderers is cloud-init 22.4.2's priority when cloud.cfg
// names none (cloudinit/net/renderers.py DEFAULT_PRIORITY).
var cloudInitDefaultRenderers = []string{"eni", "sysconfig", "netplan", "network-manager", "networkd"}

// DetectRenderer names the renderer cloud-init will use on the image under
// root: the first of `system_info: network: renderers` (cloud.cfg, then
// cloud.cfg.d/*.cfg in order, the last setting wins) — or of cloud-init's
// default priority — whose tools the image has, as cloud-init's own
// available() checks do. "" when none is.
func DetectRenderer(root system.Root) string {
	order := cloudInitDefaultRenderers
	files := []string{filepath.Join(root.Dir, "etc/cloud/cloud.cfg")}
	more, _ := filepath.Glob(filepath.Join(root.Dir, "etc/cloud/cloud.cfg.d/*.cfg"))
	slices.Sort(more)
	for _, f := range append(files, more...) {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		var doc struct {
			SystemInfo struct {
				Network struct {
					Renderers []string `yaml:"renderers"`
				} `yaml:"network"`
			} `yaml:"system_info"`
		}
		if yaml.Unmarshal(b, &doc) == nil && len(doc.SystemInfo.Network.Renderers) > 0 {
			order = doc.SystemInfo.Network.Renderers
		}
	}
	has := func(paths ...string) bool {
		for _, p := range paths {
			if _, err := os.Stat(filepath.Join(root.Dir, p)); err == nil {
				return true
			}
		}
		return false
	}
	bin := func(name string) bool { return has("sbin/"+name, "usr/sbin/"+name, "bin/"+name, "usr/bin/"+name) }
	for _, r := range order {
		ok := false
		switch r {
		case "eni":
			ok = bin("ifup") && bin("ifdown") && bin("ifquery") && has("etc/network/interfaces")
		case "netplan":
			ok = has("usr/sbin/netplan", "sbin/netplan")
		case "sysconfig":
			ok = bin("ifup") && bin("ifdown") && has("etc/sysconfig/network-scripts", "etc/redhat-release", "etc/SuSE-release")
		case "network-manager":
			ok = bin("nmcli") && has("etc/NetworkManager")
		case "networkd":
			ok = bin("ip") && has("lib/systemd/systemd-networkd", "usr/lib/systemd/systemd-networkd")
		}
		if ok {
			return r
		}
	}
	return ""
}

func (m *Machine) compensationPath() string { return filepath.Join(m.o.StateDir, compensationFile) }

// recordCompensation (boot, seed mode) leaves for the agent what must be
// applied once cloud-init's renderer has brought the interfaces up.
func (m *Machine) recordCompensation(c Compensation) error {
	c.Written = time.Now().UTC()
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	return statefile.Write(m.o.StateDir, compensationFile, append(b, '\n'))
}

func (m *Machine) loadCompensation() (*Compensation, error) {
	b, err := os.ReadFile(m.compensationPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var c Compensation
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// KeepCompensation (the agent) adds the routes cloud-init's renderer drops
// as soon as their interfaces are up with an address, and puts them back
// if an ifdown/ifup removes them: every second while some are waiting,
// then every 30 s. Without a recorded compensation it only checks now and
// then for one.
func (m *Machine) KeepCompensation(ctx context.Context) {
	const fast, slow, eager = time.Second, 30 * time.Second, 10 * time.Minute
	start := time.Now()
	for {
		wait := slow
		c, err := m.loadCompensation()
		if err != nil {
			m.o.Log.Warn("reading the seed-mode compensation failed", "err", err)
		}
		if c != nil && (len(c.Routes) > 0 || len(c.MTUs) > 0) {
			_ = m.locked(func() error {
				for _, l := range apply.SetMTUs(m.o.Handle, c.MTUs) {
					m.o.Log.Info("network "+l, "why", "cloud-init's "+c.Renderer+" renderer drops it")
				}
				st, err := apply.AddExtraRoutes(m.o.Handle, c.Routes)
				for i, s := range st {
					switch s {
					case apply.RouteAdded:
						m.o.Log.Info("network "+c.Routes[i].Interface+": add route "+routeText(c.Routes[i].Route),
							"why", "cloud-init's "+c.Renderer+" renderer drops it")
					case apply.RouteWaiting:
						if time.Since(start) < eager {
							wait = fast
						}
					}
				}
				if err != nil {
					m.o.Log.Warn("adding routes cloud-init's renderer dropped", "err", err)
				}
				return nil
			})
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(wait):
		}
	}
}

func routeText(r netconf.Route) string {
	s := r.To.String()
	if r.Via.IsValid() {
		s += " via " + r.Via.String()
	}
	if r.OnLink {
		s += " onlink"
	}
	return strings.TrimSpace(s)
}

// RendererCompensation is the CompensateFunc boot uses: netconf's
// RendererLosses, which the fixture test checks against the real
// cloud-init for every renderer.
func RendererCompensation(cfg *netconf.Config, renderer string) (Compensation, error) {
	loss, err := cfg.RendererLosses(renderer)
	if err != nil {
		return Compensation{}, err
	}
	c := Compensation{DNS: loss.DNS, MTUs: loss.MTUs, Lost: loss.Lost}
	for _, r := range loss.Routes {
		c.Routes = append(c.Routes, apply.ExtraRoute{Interface: r.Interface, MAC: r.MAC, Route: r.Route})
	}
	return c, nil
}
