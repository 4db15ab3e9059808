package googleassistant

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind (the key set
// tests run HTTP servers).
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
