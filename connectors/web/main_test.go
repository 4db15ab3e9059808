package web

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: event streams
// end with their clients or Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
