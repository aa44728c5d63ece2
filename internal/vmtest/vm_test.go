package vmtest

import (
	"strings"
	"testing"
)

func TestRunHello(t *testing.T) {
	res := Run(t, Options{Command: "echo hello; cat /proc/version"})
	if res.RC != 0 {
		t.Errorf("RC = %d, want 0; output:\n%s", res.RC, res.Output)
	}
	if !strings.HasPrefix(res.Output, "hello\nLinux version ") {
		t.Errorf("output = %q, want hello then the kernel version", res.Output)
	}
}

func TestDebugConsole(t *testing.T) {
	res := Run(t, Options{Command: "lsmod; cat /etc/modprobe.d/vmtest.conf; ls /lib/modules/*/; ip link add bond0 type bond && cat /sys/class/net/bonding_masters; ip link"})
	t.Log(res.Console)
	t.Log(res.Output)
}
