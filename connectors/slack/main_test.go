package slack

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: turns run in the
// connector's pool and stop with Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
