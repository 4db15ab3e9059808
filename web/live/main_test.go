package live

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: the hub's
// janitor stops with Close, event streams with their clients.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
