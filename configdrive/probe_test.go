package configdrive

import (
	"bytes"
	"errors"
	"testing"
)

func TestProbeLabelSynthetic(t *testing.T) {
	for _, tc := range []struct {
		name            string
		img             []byte
		label, fstype   string
		wantErr         error
		wantErrContains string
	}{
		{name: "iso", img: syntheticISO("config-2"), label: "config-2", fstype: FSTypeISO9660},
		{name: "iso upper", img: syntheticISO("CONFIG-2"), label: "CONFIG-2", fstype: FSTypeISO9660},
		{name: "iso NUL padded", img: bytes.Replace(syntheticISO("config-2"), []byte("config-2                "), []byte("config-2\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"), 1), label: "config-2", fstype: FSTypeISO9660},
		{name: "fat root entry preferred", img: syntheticFAT12("NO NAME", "config-2"), label: "config-2", fstype: FSTypeFAT12},
		{name: "fat root entry over boot sector", img: syntheticFAT12("OLDLABEL", "CONFIG-2"), label: "CONFIG-2", fstype: FSTypeFAT12},
		{name: "fat boot sector only", img: syntheticFAT12("config-2", ""), label: "config-2", fstype: FSTypeFAT12},
		{name: "fat no label", img: syntheticFAT12("NO NAME", ""), label: "", fstype: FSTypeFAT12},
		{name: "zeros", img: make([]byte, 1<<16), wantErr: ErrUnknownFilesystem},
		{name: "short", img: []byte{0xEB}, wantErr: ErrUnknownFilesystem},
		{name: "fat bad sector size", img: patch(syntheticFAT12("config-2", ""), 0x0B, []byte{0x00, 0x03}), wantErr: ErrUnknownFilesystem},
		{name: "fat bad media", img: patch(syntheticFAT12("config-2", ""), 0x15, []byte{0x12}), wantErr: ErrUnknownFilesystem},
		{name: "fat no data area", img: patch(syntheticFAT12("config-2", ""), 0x13, []byte{3, 0}), wantErrContains: "fill the whole"},
		{name: "fat root dir truncated", img: syntheticFAT12("config-2", "config-2")[:1024], wantErrContains: "root directory"},
		{name: "iso without primary", img: patch(syntheticISO("config-2"), 0x8000, []byte{2}), wantErrContains: "no primary volume descriptor"},
		{name: "iso descriptor without signature", img: patch(patch(syntheticISO("config-2"), 0x8000, []byte{0}), 0x8000+2048, []byte{0, 'X'}), wantErrContains: "missing CD001"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			label, fstype, err := ProbeLabel(bytes.NewReader(tc.img))
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
			case tc.wantErrContains != "":
				if err == nil || !bytes.Contains([]byte(err.Error()), []byte(tc.wantErrContains)) {
					t.Fatalf("err = %v, want one containing %q", err, tc.wantErrContains)
				}
			case err != nil:
				t.Fatal(err)
			case label != tc.label || fstype != tc.fstype:
				t.Errorf("= %q, %q; want %q, %q", label, fstype, tc.label, tc.fstype)
			}
		})
	}
}

func TestIsConfigDriveLabel(t *testing.T) {
	for label, want := range map[string]bool{"config-2": true, "CONFIG-2": true, "Config-2": true, "config-3": false, "": false, "config-2 ": false} {
		if got := IsConfigDriveLabel(label); got != want {
			t.Errorf("IsConfigDriveLabel(%q) = %v", label, got)
		}
	}
}

func TestISOLevel1Name(t *testing.T) {
	for in, want := range map[string]string{
		"meta_data.json":    "META_DAT.JSO",
		"openstack":         "OPENSTAC",
		"2015-10-15":        "2015_10_",
		"user_data":         "USER_DAT",
		"network_data.json": "NETWORK_.JSO",
		".hidden":           "_HIDDEN",
	} {
		if got := isoLevel1Name(in); got != want {
			t.Errorf("isoLevel1Name(%q) = %q, want %q", in, got, want)
		}
	}
}
