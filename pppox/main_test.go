package pppox

import (
	"testing"

	"go.uber.org/goleak"
)

// Every goroutine a test starts has ended when it returns.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
