package configdrive

import (
	"errors"
	"io/fs"
	"strings"
	"testing"
	"testing/fstest"
)

func TestMediaFSCaseInsensitive(t *testing.T) {
	const want = "openstack/latest/meta_data.json"
	for _, onMedium := range []string{
		"openstack/latest/meta_data.json",
		"OPENSTACK/Latest/META_DATA.JSON", // FAT written elsewhere, Joliet-less ISO
		"OPENSTAC/LATEST/META_DAT.JSO;1",  // ISO level 1 without Rock Ridge
		"OPENSTAC/LATEST/META_DAT.JSO",
	} {
		m := newMediaFS(fstest.MapFS{
			onMedium:                 &fstest.MapFile{Data: []byte(onMedium)},
			"openstack-not/x":        &fstest.MapFile{Data: []byte("decoy")},
			"OPENSTAC/LATEST/USER_D": &fstest.MapFile{Data: []byte("decoy")},
		})
		got, err := fs.ReadFile(m, want)
		if err != nil || string(got) != onMedium {
			t.Errorf("%s: ReadFile(%s) = %q, %v", onMedium, want, got, err)
		}
		if _, err := fs.ReadFile(m, "openstack/latest/network_data.json"); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: missing file: %v, want fs.ErrNotExist", onMedium, err)
		}
		if _, err := m.Open("../etc/passwd"); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("../etc/passwd: %v, want fs.ErrInvalid", err)
		}
	}
	entries, err := fs.ReadDir(newMediaFS(fstest.MapFS{"A/b": &fstest.MapFile{}}), "a")
	if err != nil || len(entries) != 1 || entries[0].Name() != "b" {
		t.Errorf("ReadDir(a) = %v, %v", entries, err)
	}
}

// panicFS stands for a third-party reader that panics on corrupt data.
type panicFS struct{ inOpen bool }

func (p panicFS) Open(name string) (fs.File, error) {
	if p.inOpen {
		panic("index out of range")
	}
	return panicFile{}, nil
}

type panicFile struct{}

func (panicFile) Stat() (fs.FileInfo, error) { return nil, errors.New("no stat") }
func (panicFile) Read([]byte) (int, error)   { panic("slice bounds out of range") }
func (panicFile) Close() error               { return nil }

func TestMediaFSRecoversPanics(t *testing.T) {
	if _, err := newMediaFS(panicFS{inOpen: true}).Open("x"); err == nil || !strings.Contains(err.Error(), "corrupt filesystem") {
		t.Errorf("panic in Open: %v", err)
	}
	if _, err := fs.ReadFile(newMediaFS(panicFS{}), "x"); err == nil || !strings.Contains(err.Error(), "corrupt filesystem") {
		t.Errorf("panic in Read: %v", err)
	}
}
