package configdrive

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func FuzzProbeLabel(f *testing.F) {
	f.Add(syntheticISO("config-2"))
	f.Add(syntheticFAT12("NO NAME", "CONFIG-2")[:2048])
	f.Add(syntheticFAT12("config-2", "")[:512])
	f.Add([]byte{0xEB, 0x58, 0x90})
	f.Fuzz(func(t *testing.T, data []byte) {
		label, fstype, err := ProbeLabel(bytes.NewReader(data))
		if err != nil {
			if label != "" || fstype != "" {
				t.Fatalf("error %v with label %q type %q", err, label, fstype)
			}
			return
		}
		if !slices.Contains([]string{FSTypeISO9660, FSTypeFAT12, FSTypeFAT16, FSTypeFAT32}, fstype) {
			t.Fatalf("fstype %q", fstype)
		}
		if strings.TrimRight(label, " \x00") != label || len(label) > isoVolumeIDLen {
			t.Fatalf("label %q keeps padding or is too long", label)
		}
	})
}

func FuzzMetaData(f *testing.F) {
	paths, _ := filepath.Glob("testdata/metadata/*.json")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"uuid": "u", "files": [{"path": "/x", "content_path": "../../etc/passwd"}]}`))
	f.Add([]byte(`{"uuid": "u", "keys": [{"type": "ssh", "data": "k\n"}], "public_keys": {"a": "k"}, "meta": {"a": "b"}, "launch_index": 3, "random_seed": "AAEC"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		md, err := parseMetaData(data)
		if err != nil {
			if md != nil {
				t.Fatal("metadata returned with an error")
			}
			return
		}
		if md.UUID == "" {
			t.Fatal("accepted without uuid")
		}
		for i, k := range md.PublicKeys {
			if strings.HasSuffix(k, "\n") || strings.TrimSpace(k) == "" || slices.Index(md.PublicKeys, k) != i {
				t.Fatalf("bad or duplicate key %q in %q", k, md.PublicKeys)
			}
		}
		for _, ref := range md.Files {
			if !strings.HasPrefix(ref.ContentPath, "openstack/") || hasDotDot(ref.ContentPath) || hasDotDot(ref.GuestPath) || !strings.HasPrefix(ref.GuestPath, "/") {
				t.Fatalf("unsafe file reference %+v", ref)
			}
		}
	})
}

func FuzzEC2Meta(f *testing.F) {
	paths, _ := filepath.Glob("testdata/metadata/*.ec2-meta-data.json")
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"public-keys": {"10": {"openssh-key": "b"}, "2": {"openssh-key": "a\n"}, "x": {}}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := parseEC2Meta(data)
		if err != nil {
			return
		}
		for _, k := range e.PublicKeys {
			if k == "" || strings.HasSuffix(k, "\n") {
				t.Fatalf("bad key %q", k)
			}
		}
	})
}

func FuzzVendorData(f *testing.F) {
	f.Add([]byte(`"#cloud-config\n"`))
	f.Add([]byte(`{"cloud-init": ["#!/bin/sh\n", 1, "#cloud-config\n"]}`))
	f.Add([]byte(`{"cloud-init": {"a": 1}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if !json.Valid(data) {
			return
		}
		vendor, warnings := unwrapVendorData("", data)
		if vendor != nil && len(vendor) == 0 {
			t.Fatalf("empty non-nil vendor data (warnings %q)", warnings)
		}
	})
}

// FuzzOpenImage feeds damaged media to Open and Read: whatever the bytes,
// the result is an Instance or an error, never a panic or a hang.
func FuzzOpenImage(f *testing.F) {
	f.Add(syntheticISO("config-2"))
	f.Add(syntheticFAT12("NO NAME", "config-2")[:16*512])
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		img := filepath.Join(dir, "img")
		if err := os.WriteFile(img, data, 0o644); err != nil {
			t.Fatal(err)
		}
		fsys, closer, err := Open(img)
		if err != nil {
			if !strings.Contains(err.Error(), img) {
				t.Fatalf("error %q does not name the image", err)
			}
			return
		}
		defer closer.Close()
		if inst, err := Read(fsys, ReadOptions{}); err == nil && inst.InstanceID == "" {
			t.Fatal("Instance without InstanceID")
		}
	})
}
