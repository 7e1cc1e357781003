package ppptest_test

import (
	"testing"

	"go.uber.org/goleak"
)

// Every test must leave no goroutine behind (a pipe's delayed deliveries
// end by then).
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
