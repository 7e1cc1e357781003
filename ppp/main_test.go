package ppp

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test must leave no goroutine behind: a Session's reader and
// timers end with Run, a scripted peer's with its pipe.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
