// Package settings is guestbridge's own configuration: the file
// /etc/guestbridge/guestbridge.conf, switches on the kernel command line and
// command-line flags, merged into one effective set in which every value
// remembers where it came from (for `guestbridge config`).
//
// Precedence, lowest first: built-in default < file < kernel command line <
// flag. The kernel command line outranks the file because it is how an
// operator rescues an image whose file is wrong; a flag outranks everything
// because it is what someone typed just now.
//
// Bad input never stops guestbridge: an unknown section or key, or a value
// that does not parse, is a warning naming the file, line and key, and the
// value from the level below is kept.
package settings

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DefaultPath is where the configuration file lives.
const DefaultPath = "/etc/guestbridge/guestbridge.conf"

// kind is the type of a setting's value; it decides how values are checked.
type kind int

const (
	kindBool kind = iota
	kindEnum
	kindDuration
)

// spec describes one known setting.
type spec struct {
	key   string // "section.name"
	kind  kind
	def   string
	enum  []string // kindEnum: the allowed values
	about string
}

// Steps are the independent parts of provisioning that can be turned off.
var Steps = []string{"network", "hostname", "hosts", "dns", "keys", "password", "files"}

// AgentCommands are the nova-agent commands that can each be refused.
var AgentCommands = []string{"version", "features", "keyinit", "password", "resetnetwork", "injectfile", "file_inject", "agentupdate", "kmsactivate"}

// specs lists every known setting in the order `guestbridge config` prints
// them. It is the single definition the parser, the kernel command line and
// the printer all use.
var specs = buildSpecs()

func buildSpecs() []spec {
	s := []spec{
		{key: "main.enabled", kind: kindBool, def: "true", about: "false turns guestbridge off entirely (boot and agent do nothing)"},
		{key: "main.mode", kind: kindEnum, def: "auto", enum: []string{"auto", "seed", "apply"}, about: "seed: hand everything to cloud-init; apply: configure the machine ourselves; auto: seed when cloud-init is installed and enabled"},
		{key: "main.log_level", kind: kindEnum, def: "info", enum: []string{"debug", "info", "warn", "error"}, about: "least severe message logged"},
	}
	for _, st := range Steps {
		s = append(s, spec{key: "steps." + st, kind: kindBool, def: "true", about: "apply the " + st + " step"})
	}
	for _, c := range AgentCommands {
		s = append(s, spec{key: "commands." + c, kind: kindBool, def: "true", about: "answer the agent command " + c + " (false: refused with a clear reply)"})
	}
	// agentupdate lets the host replace our binary: off unless asked for.
	for i := range s {
		if s[i].key == "commands.agentupdate" {
			s[i].def = "false"
		}
	}
	s = append(s,
		spec{key: "agent.metrics_interval", kind: kindDuration, def: "60s", about: "how often guest metrics are written to XenStore (0 turns them off)"},
		spec{key: "agent.heartbeat_interval", kind: kindDuration, def: "60s", about: "how often the agent's heartbeat is written to XenStore (0 turns it off)"},
		spec{key: "agent.update", kind: kindEnum, def: "https", enum: []string{"https", "insecure"}, about: "with commands.agentupdate: accept https URLs only, or http too"},
	)
	return s
}

func lookup(key string) (spec, bool) {
	i := slices.IndexFunc(specs, func(s spec) bool { return s.key == key })
	if i < 0 {
		return spec{}, false
	}
	return specs[i], true
}

// Value is one effective setting and where it came from.
type Value struct {
	Key    string `json:"key"`
	Value  string `json:"value"`
	Origin string `json:"origin"` // "default", "FILE:LINE", "kernel command line", "flag --x"
}

// Settings is the effective configuration. The zero value is not useful:
// start from Defaults.
type Settings struct {
	values   map[string]Value
	Warnings []string
}

// Defaults returns the built-in configuration.
func Defaults() *Settings {
	s := &Settings{values: map[string]Value{}}
	for _, sp := range specs {
		def, err := sp.check(sp.def)
		if err != nil {
			panic("settings: bad default for " + sp.key)
		}
		s.values[sp.key] = Value{Key: sp.key, Value: def, Origin: "default"}
	}
	return s
}

// set checks value against key's spec and records it with its origin. A bad
// key or value leaves the setting as it was and returns why.
func (s *Settings) set(key, value, origin string) error {
	sp, ok := lookup(key)
	if !ok {
		return fmt.Errorf("unknown setting %q", key)
	}
	value = strings.TrimSpace(value)
	norm, err := sp.check(value)
	if err != nil {
		return fmt.Errorf("%s = %q: %w", key, value, err)
	}
	s.values[key] = Value{Key: key, Value: norm, Origin: origin}
	return nil
}

// Set applies a value given on the command line (origin names the flag). A
// bad value is an error: someone just typed it and can fix it.
func (s *Settings) Set(key, value, origin string) error { return s.set(key, value, origin) }

// check validates v and returns its canonical spelling.
func (sp spec) check(v string) (string, error) {
	v = strings.TrimSpace(v)
	switch sp.kind {
	case kindBool:
		b, err := parseBool(v)
		if err != nil {
			return "", err
		}
		return strconv.FormatBool(b), nil
	case kindEnum:
		l := strings.ToLower(v)
		if !slices.Contains(sp.enum, l) {
			return "", fmt.Errorf("want one of %s", strings.Join(sp.enum, ", "))
		}
		return l, nil
	case kindDuration:
		if v == "0" {
			return "0s", nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d < 0 {
			return "", fmt.Errorf("want a duration such as 30s or 5m")
		}
		return d.String(), nil
	}
	return "", fmt.Errorf("internal: unknown kind")
}

func parseBool(v string) (bool, error) {
	switch strings.ToLower(v) {
	case "1", "true", "yes", "on", "enabled":
		return true, nil
	case "0", "false", "no", "off", "disabled":
		return false, nil
	}
	return false, fmt.Errorf("want true or false (yes/no, on/off, 1/0)")
}

// Get returns a setting's effective value. Asking for an unknown key is a
// programming error.
func (s *Settings) Get(key string) Value {
	v, ok := s.values[key]
	if !ok {
		panic("settings: unknown key " + key)
	}
	return v
}

// Bool returns a boolean setting.
func (s *Settings) Bool(key string) bool { return s.Get(key).Value == "true" }

// String returns an enum setting.
func (s *Settings) String(key string) string { return s.Get(key).Value }

// Duration returns a duration setting.
func (s *Settings) Duration(key string) time.Duration {
	d, _ := time.ParseDuration(s.Get(key).Value)
	return d
}

// Enabled tells whether guestbridge should do anything at all.
func (s *Settings) Enabled() bool { return s.Bool("main.enabled") }

// StepEnabled tells whether a provisioning step runs.
func (s *Settings) StepEnabled(step string) bool { return s.Bool("steps." + step) }

// CommandAllowed tells whether the agent answers a command; unknown commands
// are not this package's business and are allowed (the agent refuses them).
func (s *Settings) CommandAllowed(name string) bool {
	if _, ok := lookup("commands." + name); !ok {
		return true
	}
	return s.Bool("commands." + name)
}

// All returns every setting in a stable order.
func (s *Settings) All() []Value {
	out := make([]Value, 0, len(specs))
	for _, sp := range specs {
		out = append(out, s.values[sp.key])
	}
	return out
}

// Print writes the effective configuration in the file's own format, each
// value followed by where it came from, so the output is itself a valid file.
func (s *Settings) Print(w io.Writer) error {
	section := ""
	for _, v := range s.All() {
		sec, name, _ := strings.Cut(v.Key, ".")
		if sec != section {
			if section != "" {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "[%s]\n", sec)
			section = sec
		}
		if _, err := fmt.Fprintf(w, "%-20s = %-8s # %s\n", name, v.Value, v.Origin); err != nil {
			return err
		}
	}
	return nil
}

// warnf records a warning about input that was ignored.
func (s *Settings) warnf(format string, args ...any) {
	s.Warnings = append(s.Warnings, fmt.Sprintf(format, args...))
}

// Load builds the effective settings from the defaults, the file at confPath
// and the kernel command line at cmdlinePath (normally /proc/cmdline; empty
// skips it). Flags are applied afterwards by the caller with Set. Only an
// unreadable file is an error; everything else is a warning.
func Load(confPath, cmdlinePath string) (*Settings, error) {
	s := Defaults()
	if err := s.LoadFile(confPath); err != nil {
		return s, err
	}
	if cmdlinePath != "" {
		if b, err := os.ReadFile(cmdlinePath); err == nil {
			s.ApplyKernelCmdline(string(b))
		}
	}
	return s, nil
}
