package systest

import (
	"os"
	"testing"

	"guestbridge/internal/pkgtest"
)

// TestMain removes the packages pkgtest.Build made for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	pkgtest.RemoveBuilt()
	os.Exit(code)
}
