package vmtest

import (
	"strconv"
	"strings"
)

// Markers /init writes on the console (ttyS0).
const (
	readyMarker = "VMTEST_READY"
	rcMarker    = "VMTEST_RC="
)

// parseRC finds the command's exit status in the console log: the last
// VMTEST_RC=<n> (printk may prefix a timestamp). ok is false when the
// command never finished (timeout, panic, init failure).
func parseRC(console string) (rc int, ok bool) {
	for rest := console; ; {
		i := strings.LastIndex(rest, rcMarker)
		if i < 0 {
			return 0, false
		}
		digits := rest[i+len(rcMarker):]
		end := 0
		for end < len(digits) && end < 4 && isDigit(digits[end]) {
			end++
		}
		if n, err := strconv.Atoi(digits[:end]); err == nil && end > 0 && n <= 255 {
			return n, true
		}
		rest = rest[:i]
	}
}

// tail returns the last n lines of s, for error messages.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
