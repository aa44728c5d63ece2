package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/pflag"

	"guestbridge/settings"
)

// cmdlinePath is the kernel command line read for guestbridge's switches;
// a variable so tests can point it at a file of their own.
var cmdlinePath = "/proc/cmdline"

// disabledMarker turns guestbridge off like main.enabled=false does.
const disabledMarker = "/etc/guestbridge/disabled"

// configFlag is --config: the settings file. Unset, it is
// /etc/guestbridge/guestbridge.conf inside --root.
func configFlag(fs *pflag.FlagSet) *string {
	return fs.String("config", "", "settings file (default "+settings.DefaultPath+", inside --root)")
}

// flagSetting maps a command's flag onto the setting it overrides.
type flagSetting struct{ flag, key string }

// loadSettings builds the effective settings: defaults < file < kernel
// command line < the flags in over that were given explicitly (an unset
// flag never overrides the file). The kernel command line is read only for
// the live system (--root /). Warnings are logged.
func loadSettings(ctx context.Context, fs *pflag.FlagSet, rootDir, confPath string, over []flagSetting) (*settings.Settings, error) {
	path := confPath
	if path == "" {
		path = filepath.Join(rootDir, settings.DefaultPath)
	}
	kernel := ""
	if rootDir == "/" {
		kernel = cmdlinePath
	}
	s, err := settings.Load(path, kernel)
	if err != nil {
		return nil, fmt.Errorf("settings: %w", err)
	}
	if _, err := os.Stat(filepath.Join(rootDir, disabledMarker)); err == nil {
		if err := s.Set("main.enabled", "false", filepath.Join(rootDir, disabledMarker)); err != nil {
			return nil, err
		}
	}
	for _, o := range over {
		f := fs.Lookup(o.flag)
		if f == nil || !f.Changed {
			continue
		}
		if err := s.Set(o.key, f.Value.String(), "flag --"+o.flag); err != nil {
			return nil, usagef("--%s: %v", o.flag, err)
		}
	}
	log := logger(ctx)
	for _, w := range s.Warnings {
		log.Warn(w)
	}
	if os.Getenv("GUESTBRIDGE_LOG_LEVEL") == "" {
		var level slog.Level
		if level.UnmarshalText([]byte(s.String("main.log_level"))) == nil {
			logLevel.Set(level)
		}
	}
	return s, nil
}

// disabled reports, on stdout, why guestbridge does nothing, when it is
// turned off; the caller then exits 0.
func disabled(s *settings.Settings, stdout io.Writer) bool {
	if s.Enabled() {
		return false
	}
	fmt.Fprintf(stdout, "guestbridge is disabled (main.enabled = false, from %s): nothing to do\n", s.Get("main.enabled").Origin)
	return true
}

// stepParts turns steps.* into the provisioning parts to run (nil: all).
// Only steps that are turned off narrow the set.
func stepParts(s *settings.Settings, parts map[string]bool, all []string) map[string]bool {
	off := false
	for _, p := range all {
		if !s.StepEnabled(p) {
			off = true
		}
	}
	if !off {
		return parts
	}
	out := map[string]bool{}
	for _, p := range all {
		if (parts == nil || parts[p]) && s.StepEnabled(p) {
			out[p] = true
		}
	}
	return out
}

func runConfig(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("config")
	rootDir := rootFlag(fs)
	conf := configFlag(fs)
	asJSON := fs.Bool("json", false, "print JSON: every value with its origin, and the warnings")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	s, err := loadSettings(ctx, fs, *rootDir, *conf, nil)
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		w := s.Warnings
		if w == nil {
			w = []string{}
		}
		return enc.Encode(struct {
			Settings []settings.Value `json:"settings"`
			Warnings []string         `json:"warnings"`
		}{s.All(), w})
	}
	if err := s.Print(stdout); err != nil {
		return err
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(stdout, "# warning: %s\n", strings.ReplaceAll(w, "\n", " "))
	}
	return nil
}
