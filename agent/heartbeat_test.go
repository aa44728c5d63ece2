package agent

import (
	"context"
	"strconv"
	"testing"
	"time"

	"guestbridge/system"
	"guestbridge/xenstore"
	"guestbridge/xenstore/xenstoretest/xenstored"
)

// On Debian's real xenstored: the version keys appear as xe-guest-utilities
// writes them, and the heartbeat is a recent unix time that advances.
func TestHeartbeatAndVersionOnRealXenstored(t *testing.T) {
	ra := startRealAgent(t, xenstored.C, Options{Version: "1.22.3", HeartbeatInterval: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	read := func(k string) string {
		v, err := ra.client.Read(ctx, k)
		if err != nil {
			return "<" + err.Error() + ">"
		}
		return string(v)
	}
	// data/updated is written last, after every version key.
	waitFor(t, "version keys", func() bool {
		_, err := time.Parse(updatedLayout, read("data/updated"))
		return err == nil && read(versionKey) == "1.22.3"
	})
	for k, want := range map[string]string{
		"attr/PVAddons/Installed": "1", "attr/PVAddons/MajorVersion": "1", "attr/PVAddons/MinorVersion": "22",
		"attr/PVAddons/MicroVersion": "3", "attr/PVAddons/BuildVersion": "0",
	} {
		if got := read(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
	first, err := strconv.ParseInt(read(heartbeatKey), 10, 64)
	if err != nil || time.Since(time.Unix(first, 0)).Abs() > 10*time.Second {
		t.Fatalf("heartbeat %q (%v) is not a recent unix time", read(heartbeatKey), err)
	}
	waitFor(t, "heartbeat to advance", func() bool {
		n, err := strconv.ParseInt(read(heartbeatKey), 10, 64)
		return err == nil && n > first
	})
}

// Another agent's PVAddons (xe-guest-utilities installed too) are left alone.
func TestHeartbeatLeavesForeignPVAddons(t *testing.T) {
	sock := xenstored.Start(t, xenstored.C)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := xenstore.Dial(ctx, sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Write(ctx, "attr/PVAddons/MajorVersion", []byte("8")); err != nil {
		t.Fatal(err)
	}
	runAgent(t, New(c, SystemActions{Root: system.Root{Dir: t.TempDir()}}, Options{Version: "1.2.3", HeartbeatInterval: time.Hour, Logf: t.Logf}))
	waitFor(t, "data/updated (written after the version keys)", func() bool {
		v, err := c.Read(ctx, "data/updated")
		_, perr := time.Parse(updatedLayout, string(v))
		return err == nil && perr == nil
	})
	if v, _ := c.Read(ctx, versionKey); string(v) != "1.2.3" {
		t.Errorf("%s = %q", versionKey, v)
	}
	if v, _ := c.Read(ctx, "attr/PVAddons/MajorVersion"); string(v) != "8" {
		t.Errorf("foreign MajorVersion overwritten: %q", v)
	}
}

func TestVersionParts(t *testing.T) {
	for v, want := range map[string][4]string{"0.1.0": {"0", "1", "0", "0"}, "2.3.4.5-rc1": {"2", "3", "4", "5"}, "dev": {"0", "0", "0", "0"}} {
		if got := versionParts(v); got != want {
			t.Errorf("versionParts(%q) = %v, want %v", v, got, want)
		}
	}
}
