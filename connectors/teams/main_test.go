package teams

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: typing senders
// stop with their turn.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
