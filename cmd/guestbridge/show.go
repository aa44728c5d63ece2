package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"guestbridge/datasource"
)

func runShow(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("show")
	src := sourceFlag(fs)
	format := fs.String("format", "v2", "output: v2 (cloud-init network-config v2 YAML) or json (the whole instance)")
	if err := parseFlags(fs, args); err != nil {
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
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false) // "<redacted>", not "\u003credacted\u003e"
		enc.SetIndent("", "  ")
		err := enc.Encode(inst)
		return b.Bytes(), err
	}
	if inst.Network == nil {
		// No network information: an empty v2 document is still valid input.
		return []byte("network:\n  version: 2\n"), nil
	}
	return inst.Network.MarshalV2()
}

// readInstance opens the source and reads it, printing its warnings.
func readInstance(ctx context.Context, spec string, names map[string]string) (*datasource.Instance, error) {
	s, err := openSource(ctx, spec, names)
	if err != nil {
		return nil, err
	}
	inst, err := s.Read(ctx)
	if err != nil {
		return nil, err
	}
	for _, w := range inst.Warnings {
		logf("warning: %s", w)
	}
	if inst.Source == "" {
		inst.Source = s.Name()
	}
	return inst, nil
}

var errNoSource = errors.New("no source found: no config drive (label config-2) and no XenStore")

func runDetect(ctx context.Context, args []string, stdout io.Writer) error {
	fs := newFlags("detect")
	asJSON := fs.Bool("json", false, "print a JSON array")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	found, err := detectSources(ctx)
	if err != nil {
		return err
	}
	if *asJSON {
		if found == nil {
			found = []detected{}
		}
		b, err := json.MarshalIndent(found, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "%s\n", b)
		return err
	}
	for _, d := range found {
		fmt.Fprintf(stdout, "%s %s\n", d.Kind, d.Path)
	}
	if len(found) == 0 {
		return errNoSource
	}
	return nil
}
