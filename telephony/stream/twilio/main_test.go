package twilio_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no test leaves a goroutine behind: every stream's
// writer ends with its call.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
