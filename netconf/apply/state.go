package apply

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"guestbridge/internal/statefile"
)

// stateFile (in Options.StateDir) records the addresses Apply added, keyed
// by the interface's MAC (or "name:<ifname>" for a bond/VLAN without a
// configured MAC), so a later run removes those the config dropped and never
// touches addresses someone else added.
const stateFile = "apply-state.json"

const stateVersion = 1

type state struct {
	Version   int                       `json:"version"`
	Addresses map[string][]netip.Prefix `json:"addresses"`
}

func stateKey(mac net.HardwareAddr, name string) string {
	if len(mac) > 0 {
		return strings.ToLower(mac.String())
	}
	return "name:" + name
}

// loadState reads the state file; a missing file is an empty state.
func loadState(dir string) (*state, error) {
	path := filepath.Join(dir, stateFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return &state{Version: stateVersion, Addresses: map[string][]netip.Prefix{}}, nil
	}
	if err != nil {
		return nil, err
	}
	return parseState(path, b)
}

// parseState decodes and checks a state file; path only names it in errors.
func parseState(path string, b []byte) (*state, error) {
	// Prefixes are decoded as strings first so an error can name the entry.
	var raw struct {
		Version   int                 `json:"version"`
		Addresses map[string][]string `json:"addresses"`
	}
	if err := json.Unmarshal(b, &raw); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if raw.Version != stateVersion {
		return nil, fmt.Errorf("%s: version: %d, want %d", path, raw.Version, stateVersion)
	}
	s := state{Version: raw.Version, Addresses: map[string][]netip.Prefix{}}
	for key, prefixes := range raw.Addresses {
		if name, ok := strings.CutPrefix(key, "name:"); ok {
			if name == "" {
				return nil, fmt.Errorf("%s: addresses: key %q: empty interface name", path, key)
			}
		} else if _, err := net.ParseMAC(key); err != nil {
			return nil, fmt.Errorf("%s: addresses: key %q: not a MAC or name:<ifname>", path, key)
		}
		for i, text := range prefixes {
			p, err := netip.ParsePrefix(text)
			if err != nil {
				return nil, fmt.Errorf("%s: addresses[%q][%d]: %q: not an address/prefix-length", path, key, i, text)
			}
			s.Addresses[key] = append(s.Addresses[key], p)
		}
	}
	return &s, nil
}

// save writes the state atomically (temp file + rename) so a crash leaves
// either the old or the new record.
func (s *state) save(dir string) error {
	for k, v := range s.Addresses {
		if len(v) == 0 {
			delete(s.Addresses, k)
		} else {
			slices.SortFunc(v, func(a, b netip.Prefix) int { return strings.Compare(a.String(), b.String()) })
		}
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return statefile.Write(dir, stateFile, append(b, '\n'))
}
