package system

import (
	"strings"
	"testing"
)

// Issue 8: non-ASCII in messages was garbled: the hostname check named
// each byte of "é" as a separate character.
func TestHostnameErrorKeepsNonASCII(t *testing.T) {
	err := CheckHostname("café.example.com")
	if err == nil || !strings.Contains(err.Error(), "'é'") {
		t.Fatalf("error %v: want the character é named whole", err)
	}
}
