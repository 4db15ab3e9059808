package alexa

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind (the
// cross-channel test runs the web chat connector too).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
