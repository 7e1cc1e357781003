package discovery_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test must leave no goroutine behind: a Client's reader ends by
// Close, a scripted AC's with its port.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
