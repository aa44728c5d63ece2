// Command xenhost runs in dom0 of the Xen end-to-end test (package
// xentest). It plays the toolstack and Nova's dom0 agent plugin:
//
//   - creates the PV guest paused, writes vm-data (hostname, networking/<MAC>)
//     and makes it readable to the guest only (`xenstore-chmod -r … n0 r<domid>`)
//     as a toolstack does, then unpauses it;
//   - talks to the agent exactly like the dom0 plugin: `xenstore-write
//     data/host/<uuid>`, `xenstore-read data/guest/<uuid>` every 0.5 s for up
//     to 30 s (raw output stripped; output that is not JSON is JSON-encoded),
//     `xenstore-rm` of the request on timeout; SimpleDH with an 80-bit
//     private key and `openssl enc -aes-128-cbc -a -A -nosalt -pass pass:<shared>`
//     (with `-md md5`, and with OpenSSL's default digest);
//   - saves and restores the guest (`xl save` + `xl restore`) and measures
//     how long the agent takes to answer again.
//
// Every result is printed as one line `XENTEST <json>` on dom0's console,
// which the test reads from the serial log. Own code, written from the
// protocol notes (no upstream code copied).
package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"

	"guestbridge/xenstore"
)

const (
	guestName = "guest"
	guestMAC  = "00:16:3e:5a:11:01"
	pollEvery = 500 * time.Millisecond
	timeout   = 30 * time.Second
)

// emit prints one result line for the test.
func emit(v map[string]any) {
	b, _ := json.Marshal(v)
	fmt.Printf("XENTEST %s\n", b)
}

func fail(step string, err error) {
	emit(map[string]any{"step": step, "error": err.Error()})
}

func run(name string, args ...string) (string, error) {
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return string(out), nil
}

func xsWrite(path, value string) error { _, err := run("xenstore-write", path, value); return err }

func xsRead(path string) (string, bool) {
	out, err := exec.Command("xenstore-read", path).Output()
	if err != nil {
		return "", false
	}
	return strings.TrimSpace(string(out)), true
}

func newUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// host is the dom0 plugin for one domain.
type host struct{ domid int }

func (h host) dom() string { return "/local/domain/" + strconv.Itoa(h.domid) }

// call is the plugin: write the request, poll for the reply, remove the
// request on timeout. It returns the reply as the plugin hands it to Nova,
// and the round-trip time.
func (h host) call(name string, value any) (string, time.Duration, error) {
	id := newUUID()
	req, _ := json.Marshal(map[string]any{"name": name, "value": value})
	start := time.Now()
	if err := xsWrite(h.dom()+"/data/host/"+id, string(req)); err != nil {
		return "", 0, err
	}
	for time.Since(start) < timeout {
		if v, ok := xsRead(h.dom() + "/data/guest/" + id); ok && v != "None" {
			rtt := time.Since(start)
			if !json.Valid([]byte(v)) {
				b, _ := json.Marshal(v) // the plugin's fallback: Nova then sees a string
				v = string(b)
			}
			return v, rtt, nil
		}
		time.Sleep(pollEvery)
	}
	run("xenstore-rm", h.dom()+"/data/host/"+id)
	return "", timeout, fmt.Errorf("TIMEOUT: No response from agent within %v", timeout)
}

// nova is nova's _call_agent: json.loads, string return codes.
func (h host) nova(name string, value any, codes ...string) (string, time.Duration, error) {
	raw, rtt, err := h.call(name, value)
	if err != nil {
		return "", rtt, err
	}
	var ret struct {
		Code    string `json:"returncode"`
		Message string `json:"message"`
	}
	if err := json.Unmarshal([]byte(raw), &ret); err != nil {
		return "", rtt, fmt.Errorf("%s: invalid response %s", name, raw)
	}
	if len(codes) == 0 {
		codes = []string{"0"}
	}
	for _, c := range codes {
		if ret.Code == c {
			return strings.ReplaceAll(ret.Message, `\r\n`, ""), rtt, nil
		}
	}
	return "", rtt, fmt.Errorf("%s: returncode %q message %q", name, ret.Code, ret.Message)
}

// watchRTTs measures the agent's own round trip without the plugin's
// 0.5 s polling: a XenStore client in dom0 watches data/guest/<id>, writes
// the request and stops the clock when the reply is readable.
func (h host) watchRTTs(n int) []float64 {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	c, err := xenstore.Dial(ctx, xenstore.DefaultSocketPath)
	if err != nil {
		fail("watch-dial", err)
		return nil
	}
	defer c.Close()
	var out []float64
	for range n {
		id := newUUID()
		reply := h.dom() + "/data/guest/" + id
		wctx, stop := context.WithCancel(ctx)
		events, err := c.Watch(wctx, reply)
		if err != nil {
			stop()
			fail("watch", err)
			return out
		}
		<-events // the initial event
		start := time.Now()
		if err := c.Write(ctx, h.dom()+"/data/host/"+id, []byte(`{"name": "version", "value": "agent"}`)); err != nil {
			stop()
			fail("watch-write", err)
			return out
		}
		for {
			if v, err := c.Read(ctx, reply); err == nil && len(v) > 0 {
				out = append(out, float64(time.Since(start).Microseconds())/1000)
				break
			}
			select {
			case <-events:
			case <-ctx.Done():
				stop()
				fail("watch-wait", ctx.Err())
				return out
			}
		}
		stop()
	}
	return out
}

var dhP, _ = new(big.Int).SetString("162259276829213363391578010288127", 10)

func (h host) setPassword(password, md string) error {
	privBytes := make([]byte, 10)
	rand.Read(privBytes)
	priv := new(big.Int).SetBytes(privBytes)
	pub := new(big.Int).Exp(big.NewInt(5), priv, dhP)
	agentPub, _, err := h.nova("keyinit", pub.String(), "D0")
	if err != nil {
		return err
	}
	other, ok := new(big.Int).SetString(strings.TrimSpace(agentPub), 10)
	if !ok {
		return fmt.Errorf("keyinit: not a number: %q", agentPub)
	}
	shared := new(big.Int).Exp(other, priv, dhP)
	args := []string{"enc", "-aes-128-cbc", "-a", "-A", "-nosalt", "-pass", "pass:" + shared.String()}
	if md != "default" {
		args = append(args, "-md", md)
	}
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = strings.NewReader(password + "\n")
	out, err := cmd.Output()
	if err != nil {
		return fmt.Errorf("openssl: %v", err)
	}
	_, _, err = h.nova("password", strings.Trim(string(out), "\n"))
	return err
}

func networking(ip, gw string) string {
	b, _ := json.Marshal(map[string]any{
		"label": "public", "mac": strings.ToUpper(guestMAC), "broadcast": "198.18.7.255",
		"ips":     []map[string]string{{"enabled": "1", "ip": ip, "netmask": "255.255.255.0", "gateway": gw}},
		"gateway": gw, "dns": []string{"198.18.7.53"},
	})
	return string(b)
}

// writeVMData writes vm-data as the toolstack does and permissions it:
// owned by dom0, readable by the guest, not writable by it.
func writeVMData(domid int, hostname, ip string) error {
	base := "/local/domain/" + strconv.Itoa(domid) + "/vm-data"
	mac := strings.ToUpper(strings.ReplaceAll(guestMAC, ":", ""))
	if err := xsWrite(base+"/hostname", hostname); err != nil {
		return err
	}
	if err := xsWrite(base+"/networking/"+mac, networking(ip, "198.18.7.1")); err != nil {
		return err
	}
	_, err := run("xenstore-chmod", "-r", base, "n0", "r"+strconv.Itoa(domid))
	return err
}

func domid() (int, error) {
	out, err := run("/usr/lib/xen-4.17/bin/xl", "domid", guestName)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(strings.TrimSpace(out))
}

// waitKey polls a key until it exists.
func waitKey(path string, within time.Duration) (string, error) {
	start := time.Now()
	for time.Since(start) < within {
		if v, ok := xsRead(path); ok {
			return v, nil
		}
		time.Sleep(250 * time.Millisecond)
	}
	return "", fmt.Errorf("%s did not appear within %v", path, within)
}

// report collects the guest's own report under data/xentest/<phase>.
func report(h host, phase string) map[string]any {
	base := h.dom() + "/data/xentest/" + phase
	if _, err := waitKey(base+"/done", 120*time.Second); err != nil {
		return map[string]any{"error": err.Error()}
	}
	out, _ := exec.Command("xenstore-ls", base).Output()
	got := map[string]any{}
	for _, k := range []string{"hostname", "addr", "route", "shadow", "injected", "agentpid", "vmdatawrite", "bootrc", "bootlog"} {
		if v, ok := xsRead(base + "/" + k); ok {
			got[k] = v
		}
	}
	got["ls"] = string(out)
	return got
}

func main() {
	xl := "/usr/lib/xen-4.17/bin/xl"
	start := time.Now()
	if _, err := run(xl, "create", "-p", "/etc/xen/guest.cfg"); err != nil {
		fail("create", err)
		return
	}
	id, err := domid()
	if err != nil {
		fail("domid", err)
		return
	}
	emit(map[string]any{"step": "create", "ms": time.Since(start).Milliseconds(), "domid": id})
	if err := writeVMData(id, "xen-guest-1", "198.18.7.10"); err != nil {
		fail("vmdata", err)
		return
	}
	perms, _ := run("xenstore-ls", "-p", "/local/domain/"+strconv.Itoa(id)+"/vm-data")
	emit(map[string]any{"step": "vmdata", "perms": perms})
	if _, err := run(xl, "unpause", guestName); err != nil {
		fail("unpause", err)
		return
	}
	h := host{domid: id}
	boot := report(h, "boot")
	boot["step"] = "boot"
	emit(boot)

	// version round trips, as Nova makes them.
	var rtts []int64
	for range 10 {
		v, rtt, err := h.nova("version", "agent")
		if err != nil {
			fail("version", err)
			return
		}
		rtts = append(rtts, rtt.Milliseconds())
		_ = v
	}
	v, _, _ := h.nova("version", "agent")
	emit(map[string]any{"step": "version", "version": v, "rtt_ms": rtts, "watch_rtt_ms": h.watchRTTs(10)})

	feats, _, err := h.nova("features", "")
	emit(map[string]any{"step": "features", "features": feats, "err": errString(err)})

	for _, md := range []string{"md5", "default"} {
		t0 := time.Now()
		err := h.setPassword("Xen-"+md+"-pässword", md)
		emit(map[string]any{"step": "password-" + md, "ms": time.Since(t0).Milliseconds(), "err": errString(err)})
	}

	// inject_file: features, then the file_inject form when offered.
	t0 := time.Now()
	content := "injected from dom0\n"
	_, _, err = h.nova("file_inject", map[string]string{
		"b64_path": b64("/root/injected.txt"), "b64_file": b64(content)})
	emit(map[string]any{"step": "injectfile", "ms": time.Since(t0).Milliseconds(), "err": errString(err)})

	// An error reply quoting a path with a quote, a backslash and non-ASCII.
	raw, _, err := h.call("injectfile", b64(`rel/"ünï"\x,data`))
	emit(map[string]any{"step": "errorreply", "raw": raw, "err": errString(err)})

	// dom0 changes vm-data (new address), then resetnetwork.
	if err := writeVMData(id, "xen-guest-1", "198.18.7.20"); err != nil {
		fail("vmdata2", err)
		return
	}
	t0 = time.Now()
	_, _, err = h.nova("resetnetwork", "", "0")
	emit(map[string]any{"step": "resetnetwork", "ms": time.Since(t0).Milliseconds(), "err": errString(err)})

	if err := xsWrite(h.dom()+"/data/xentest/mid-ask", "1"); err != nil {
		fail("mid-ask", err)
	}
	mid := report(h, "mid")
	mid["step"] = "mid"
	emit(mid)

	// Save and restore: what a live migration does to the guest's xenbus.
	t0 = time.Now()
	if _, err := run(xl, "save", guestName, "/tmp/guest.save"); err != nil {
		fail("save", err)
		return
	}
	saveMS := time.Since(t0).Milliseconds()
	t0 = time.Now()
	if _, err := run(xl, "restore", "/tmp/guest.save"); err != nil {
		fail("restore", err)
		return
	}
	restoreMS := time.Since(t0).Milliseconds()
	os.Remove("/tmp/guest.save")
	restored := time.Now()
	nid, err := domid()
	if err != nil {
		fail("domid2", err)
		return
	}
	h = host{domid: nid}
	// The request after restore: how long until the agent answers.
	v2, rtt, err := h.nova("version", "agent")
	firstMS := time.Since(restored).Milliseconds()
	var after []int64
	for range 5 {
		if _, r, err := h.nova("version", "agent"); err == nil {
			after = append(after, r.Milliseconds())
		}
	}
	watchAfter := h.watchRTTs(5)
	emit(map[string]any{"step": "restore", "watch_rtt_ms": watchAfter, "save_ms": saveMS, "restore_ms": restoreMS, "domid": nid,
		"first_answer_ms": firstMS, "first_rtt_ms": rtt.Milliseconds(), "version": v2, "rtt_ms": after, "err": errString(err)})

	if err := xsWrite(h.dom()+"/data/xentest/final-ask", "1"); err != nil {
		fail("final-ask", err)
	}
	final := report(h, "final")
	final["step"] = "final"
	emit(final)
	emit(map[string]any{"step": "end", "total_ms": time.Since(start).Milliseconds()})
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
