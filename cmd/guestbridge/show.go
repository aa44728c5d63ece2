package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"

	"guestbridge/configdrive"
	"guestbridge/datasource"
)

func runShow(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("show")
	src := sourceFlag(fs)
	format := fs.String("format", "v2", "output: v2 (cloud-init network-config v2 YAML) or json (the whole instance)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	if *format != "v2" && *format != "json" {
		return usagef("--format %q: want v2 or json", *format)
	}
	inst, err := readInstance(ctx, *src, localNames())
	if err != nil {
		return err
	}
	out, err := renderShow(inst, *format)
	if err != nil {
		return err
	}
	_, err = stdout.Write(out)
	return err
}

func renderShow(inst *datasource.Instance, format string) ([]byte, error) {
	if format == "json" {
		return instanceJSON(inst)
	}
	if inst.Network == nil {
		// No network information: an empty v2 document is still valid input.
		return []byte("network:\n  version: 2\n"), nil
	}
	return inst.Network.MarshalV2()
}

// instanceJSON prints the instance as indented JSON with MACs as
// "fa:16:3e:…" (net.HardwareAddr is a byte slice, which encoding/json would
// print as base64) and the admin password redacted.
func instanceJSON(inst *datasource.Instance) ([]byte, error) {
	raw, err := json.Marshal(inst)
	if err != nil {
		return nil, err
	}
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, err
	}
	if m, ok := doc.(map[string]any); ok {
		macsAsText(m["network"])
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // "<redacted>", not "\u003credacted\u003e"
	enc.SetIndent("", "  ")
	err = enc.Encode(doc)
	return b.Bytes(), err
}

// macsAsText rewrites every "mac"/"MAC" string field under v from base64
// to the colon form.
func macsAsText(v any) {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if s, ok := val.(string); ok && strings.EqualFold(k, "mac") {
				if b, err := base64.StdEncoding.DecodeString(s); err == nil && len(b) > 0 {
					x[k] = net.HardwareAddr(b).String()
				}
				continue
			}
			macsAsText(val)
		}
	case []any:
		for _, e := range x {
			macsAsText(e)
		}
	}
}

func runDetect(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("detect")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs); err != nil {
		return err
	}
	found := detectSources(ctx)
	if *asJSON {
		if found == nil {
			found = []detected{}
		}
		b, err := json.MarshalIndent(found, "", "  ")
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
			return err
		}
	} else {
		for _, d := range found {
			fmt.Fprintf(stdout, "%s %s\n", d.Kind, d.Path)
		}
	}
	// Same status with and without --json: 1 when nothing is present.
	if len(found) == 0 {
		return errNoSource
	}
	return nil
}

// detected is one source present on this machine.
type detected struct {
	Kind   string `json:"kind"` // configdrive or xenstore
	Path   string `json:"path"` // device, directory or socket
	Detail string `json:"detail,omitempty"`
}

// detectSources lists what the auto probes find, in their order.
func detectSources(ctx context.Context) []detected {
	var found []detected
	for _, s := range datasource.Present(ctx, probes(nil), logger(ctx)) {
		switch s := s.(type) {
		case *configdrive.Source:
			found = append(found, detected{Kind: "configdrive", Path: s.Path})
		default:
			found = append(found, detected{Kind: "xenstore", Path: xenstorePath()})
		}
	}
	return found
}
