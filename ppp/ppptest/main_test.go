package ppptest_test

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// Every test must leave no goroutine behind (a pipe's delayed deliveries
// end by then). As in ppp's tests: goleak.VerifyTestMain(m) replaces
// this once go.mod requires go.uber.org/goleak.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if left := leftGoroutines(2 * time.Second); left != nil {
			fmt.Fprintf(os.Stderr, "goroutines left behind by the tests:\n\n%s\n", strings.Join(left, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// leftGoroutines waits up to wait for every goroutine but this one that
// runs this module's code to end, and returns the stacks of those that
// did not.
func leftGoroutines(wait time.Duration) []string {
	deadline := time.Now().Add(wait)
	for {
		buf := make([]byte, 1<<20)
		buf = buf[:runtime.Stack(buf, true)]
		var left []string
		for i, g := range strings.Split(string(buf), "\n\n") {
			if i > 0 && strings.Contains(g, "github.com/pppoed/pppoed/") { // 0 is this goroutine
				left = append(left, g)
			}
		}
		if left == nil || time.Now().After(deadline) {
			return left
		}
		time.Sleep(10 * time.Millisecond)
	}
}
