// Package provision owns the machine: it is the one place that changes it.
// boot, apply, the agent's resetnetwork and DHCP lease renewals all go
// through a Machine, which holds
//
//   - one lock: flock(2) on StateDir/lock, taken for every change, so two
//     processes (the boot unit and the agent, or a user's `apply`) never
//     interleave; apply-state.json is read and written only under it;
//   - the config in force: StateDir/current.json, written after every
//     network apply, read by every lease renewal (a renewal after a
//     resetnetwork keeps the new config);
//   - the held DHCP leases (in the process that keeps them: the agent);
//   - the once-per-instance records (/var/lib/guestbridge/per-instance).
//
// Failure policy: network first; at boot (Request.KeepGoing) a failure on
// one interface or route does not undo the others; the file steps
// (hostname, hosts, DNS, keys, password, files) are independent, each
// reports its own result, and a bad value is skipped with a warning naming
// the field while the others still apply. Result.Status tells success,
// partial success and failure apart.
package provision

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"

	"guestbridge/internal/statefile"
	"guestbridge/netconf"
	"guestbridge/netconf/apply"
	"guestbridge/system"
)

// PerInstanceDir records which once-per-instance parts are done, as the
// instance id they were done for (a new instance from the same image gets
// them again).
const PerInstanceDir = "/var/lib/guestbridge/per-instance"

const (
	lockFile    = "lock"
	currentFile = "current.json"
)

// Options describe the machine a Machine changes.
type Options struct {
	Root     system.Root
	StateDir string // default apply.DefaultStateDir
	Log      *slog.Logger
	// Handle and NetNS point network changes into a namespace (tests);
	// zero values mean this process's namespace.
	Handle *netlink.Handle
	NetNS  netns.NsHandle
	// DHCP obtains a lease (tests); nil = package dhcp, held leases first.
	DHCP apply.DHCPFunc
	// DHCPTimeout is the one budget of all DHCP requests of an apply
	// (they run in parallel); 0 = apply.DefaultDHCPTimeout.
	DHCPTimeout time.Duration
	// UdevDir, when set, makes boot's NIC wait also wait for udev to have
	// processed each NIC (see apply.WaitOptions).
	UdevDir string
	// LeaseChanged, when not nil, is called after the held leases changed
	// (a lease obtained or renewed, a keeper stopped): Leases then tells
	// what is held. It runs on a lease keeper's goroutine, outside the
	// machine's locks, and must return at once (signal, do not work).
	LeaseChanged func()
}

// Machine is the owner of one machine's configuration.
type Machine struct {
	o  Options
	mu sync.Mutex // in-process half of the lock

	heldMu sync.Mutex
	held   map[leaseKey]heldLease

	changed chan struct{} // signalled when this process wrote a new current config
}

type leaseKey struct {
	ifname string
	v6     bool
}

// heldLease is a lease the lease keeper holds, usable until it expires.
type heldLease struct {
	l3       netconf.L3
	until    time.Time
	obtained time.Time // first held (with these addresses)
	renewed  time.Time // last held
}

// LeaseInfo is one DHCP lease this process's lease keeper holds, as
// `guestbridge status` shows it (addresses and times only).
type LeaseInfo struct {
	Interface string         `json:"interface"`
	Family    string         `json:"family"` // DHCPv4, DHCPv6
	Addresses []netip.Prefix `json:"addresses"`
	Obtained  time.Time      `json:"obtained"` // when this address was first leased
	Renewed   time.Time      `json:"renewed"`  // when the lease was last obtained or renewed
	Expires   time.Time      `json:"expires"`  // the end of its valid lifetime
}

// Leases returns the leases held now, by interface then family (v4 first).
func (m *Machine) Leases() []LeaseInfo {
	m.heldMu.Lock()
	out := make([]LeaseInfo, 0, len(m.held))
	for k, l := range m.held {
		out = append(out, LeaseInfo{Interface: k.ifname, Family: family(k.v6),
			Addresses: slices.Clone(l.l3.Addresses), Obtained: l.obtained, Renewed: l.renewed, Expires: l.until})
	}
	m.heldMu.Unlock()
	slices.SortFunc(out, func(a, b LeaseInfo) int {
		return cmp.Or(cmp.Compare(a.Interface, b.Interface), cmp.Compare(a.Family, b.Family))
	})
	return out
}

func (m *Machine) leaseChanged() {
	if m.o.LeaseChanged != nil {
		m.o.LeaseChanged()
	}
}

// New returns the Machine for o.
func New(o Options) *Machine {
	if o.StateDir == "" {
		o.StateDir = apply.DefaultStateDir
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	if o.Root.Dir == "" {
		o.Root = system.Root{Dir: "/", Live: true}
	}
	if o.Root.Log == nil {
		o.Root.Log = o.Log
	}
	return &Machine{o: o, held: map[leaseKey]heldLease{}, changed: make(chan struct{}, 1)}
}

// locked runs fn holding the machine lock: the in-process mutex and an
// exclusive flock on StateDir/lock (other guestbridge processes). When the
// lock file cannot be created (a dry run by a user without write access)
// fn runs under the in-process lock only.
func (m *Machine) locked(fn func() error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	f, err := m.openLock()
	if err != nil {
		m.o.Log.Debug("running without the state lock", "err", err)
		return fn()
	}
	defer f.Close()
	for {
		err = syscall.Flock(int(f.Fd()), syscall.LOCK_EX)
		if !errors.Is(err, syscall.EINTR) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	defer syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return fn()
}

func (m *Machine) openLock() (*os.File, error) {
	if err := os.MkdirAll(m.o.StateDir, 0o755); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(m.o.StateDir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
}

// current is the config in force, as StateDir/current.json holds it.
type current struct {
	InstanceID string          `json:"instance_id"`
	Source     string          `json:"source"`
	Written    time.Time       `json:"written"`
	Network    *netconf.Config `json:"network"`
}

// Current returns the network config in force (nil when none was applied).
func (m *Machine) Current() (*netconf.Config, error) {
	c, err := m.loadCurrent()
	if err != nil || c == nil {
		return nil, err
	}
	return c.Network, nil
}

func (m *Machine) currentPath() string { return filepath.Join(m.o.StateDir, currentFile) }

func (m *Machine) loadCurrent() (*current, error) {
	b, err := os.ReadFile(m.currentPath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var c current
	if err := json.Unmarshal(b, &c); err != nil {
		return nil, fmt.Errorf("%s: %w", m.currentPath(), err)
	}
	return &c, nil
}

// saveCurrent records cfg as the config in force (under the lock) and wakes
// this process's lease keeper.
func (m *Machine) saveCurrent(c current) error {
	c.Written = time.Now().UTC()
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return err
	}
	if err := statefile.Write(m.o.StateDir, currentFile, append(b, '\n')); err != nil {
		return err
	}
	select {
	case m.changed <- struct{}{}:
	default:
	}
	return nil
}

// dhcpFunc is the DHCP client of every apply: a lease this process holds
// (kept by the lease keeper) is used as is, else one is requested.
func (m *Machine) dhcpFunc() apply.DHCPFunc {
	request := m.o.DHCP
	if request == nil {
		request = defaultDHCP(m.o)
	}
	return func(ctx context.Context, ifname string, v6 bool) (netconf.L3, error) {
		m.heldMu.Lock()
		l, ok := m.held[leaseKey{ifname, v6}]
		m.heldMu.Unlock()
		if ok && time.Now().Before(l.until) {
			return l.l3, nil
		}
		return request(ctx, ifname, v6)
	}
}

func (m *Machine) hold(ifname string, v6 bool, l netconf.L3, until time.Time) {
	now := time.Now()
	k := leaseKey{ifname, v6}
	m.heldMu.Lock()
	obtained := now
	if old, ok := m.held[k]; ok && slices.Equal(old.l3.Addresses, l.Addresses) {
		obtained = old.obtained
	}
	m.held[k] = heldLease{l3: l, until: until, obtained: obtained, renewed: now}
	m.heldMu.Unlock()
	m.leaseChanged()
}

func (m *Machine) drop(ifname string, v6 bool) {
	m.heldMu.Lock()
	delete(m.held, leaseKey{ifname, v6})
	m.heldMu.Unlock()
	m.leaseChanged()
}

func (m *Machine) applyOptions(dryRun, keepGoing bool) apply.Options {
	return apply.Options{
		DryRun:      dryRun,
		StateDir:    m.o.StateDir,
		Handle:      m.o.Handle,
		NetNS:       m.o.NetNS,
		DHCP:        m.dhcpFunc(),
		DHCPTimeout: m.o.DHCPTimeout,
		KeepGoing:   keepGoing,
		Logf:        func(format string, a ...any) { m.o.Log.Debug(fmt.Sprintf(format, a...)) },
	}
}
