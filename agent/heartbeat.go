package agent

import (
	"context"
	"errors"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// XenStore keys the agent publishes for the host (relative to the domain's
// home path), documented in README "XenStore keys":
//
//	attr/PVAddons/{Installed,MajorVersion,MinorVersion,MicroVersion,BuildVersion}
//	    as xe-guest-utilities writes them (XAPI's PV_drivers_version), unless
//	    another agent already owns them
//	data/guestbridge/version    our version string
//	data/guestbridge/heartbeat  unix time of the last beat, every HeartbeatInterval
const (
	pvAddonsDir  = "attr/PVAddons"
	versionKey   = "data/guestbridge/version"
	heartbeatKey = "data/guestbridge/heartbeat"
)

// versionParts splits "1.2.3[.4][-x]" into the four PVAddons numbers.
func versionParts(v string) [4]string {
	out := [4]string{"0", "0", "0", "0"}
	v, _, _ = strings.Cut(v, "-")
	for i, p := range strings.SplitN(v, ".", 4) {
		if _, err := strconv.ParseUint(p, 10, 32); err == nil {
			out[i] = p
		}
	}
	return out
}

// publishVersion writes our version keys. PVAddons is left alone when it
// exists and is not ours (xe-guest-utilities installed beside us).
func (a *Agent) publishVersion(ctx context.Context) error {
	_, errOurs := a.store.Read(ctx, versionKey)
	_, errTheirs := a.store.Read(ctx, pvAddonsDir+"/MajorVersion")
	if err := a.store.Write(ctx, versionKey, []byte(a.opts.Version)); err != nil {
		return err
	}
	if errors.Is(errTheirs, fs.ErrNotExist) || errOurs == nil {
		p := versionParts(a.opts.Version)
		for i, k := range []string{"MajorVersion", "MinorVersion", "MicroVersion", "BuildVersion"} {
			if err := a.store.Write(ctx, pvAddonsDir+"/"+k, []byte(p[i])); err != nil {
				return err
			}
		}
		if err := a.store.Write(ctx, pvAddonsDir+"/Installed", []byte("1")); err != nil {
			return err
		}
	}
	// data/updated tells XAPI to re-read what the guest published.
	return a.store.Write(ctx, "data/updated", []byte(time.Now().UTC().Format(updatedLayout)))
}

// heartbeat publishes the version once (again after failures), then the
// unix time every interval, until ctx ends. Errors (a reconnect in
// progress) are logged and retried at the next beat.
func (a *Agent) heartbeat(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	versionDone := false
	for {
		if !versionDone {
			if err := a.publishVersion(ctx); err != nil {
				a.logf("agent: publishing version: %v", err)
			} else {
				versionDone = true
			}
		}
		if err := a.store.Write(ctx, heartbeatKey, []byte(strconv.FormatInt(time.Now().Unix(), 10))); err != nil {
			a.logf("agent: heartbeat: %v", err)
			versionDone = false // the store may have been restarted empty
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
