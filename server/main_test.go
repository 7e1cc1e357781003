package server

import (
	"testing"

	"go.uber.org/goleak"
)

// Every goroutine a test starts (sessions, readers, the poller) has ended
// when it returns.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
