package main

import (
	"runtime/debug"
	"testing"

	"golang.org/x/sys/unix"
)

func thpDisabled(t *testing.T) int {
	t.Helper()
	v, err := unix.PrctlRetInt(unix.PR_GET_THP_DISABLE, 0, 0, 0, 0)
	if err != nil {
		t.Skipf("PR_GET_THP_DISABLE: %v", err)
	}
	return v
}

// The client daemon's runtime: GOGC clientGCPercent unless the
// environment chose one, no transparent huge pages, and a script gets
// them back.
func TestClientRuntime(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() {
		debug.SetGCPercent(prev)
		scriptRuntime()
	})
	for _, tt := range []struct {
		env  string
		want int
	}{
		{"", clientGCPercent},
		{"100", 100}, // GOGC given: left as the runtime read it
		{"off", 100},
		{"25", 100},
	} {
		t.Setenv("GOGC", tt.env)
		debug.SetGCPercent(100)
		scriptRuntime()
		clientRuntime()
		if got := debug.SetGCPercent(100); got != tt.want {
			t.Errorf("GOGC=%q: GC percent %d, want %d", tt.env, got, tt.want)
		}
		if v := thpDisabled(t); v != 1 {
			t.Errorf("GOGC=%q: PR_GET_THP_DISABLE = %d after clientRuntime, want 1", tt.env, v)
		}
		scriptRuntime()
		if v := thpDisabled(t); v != 0 {
			t.Errorf("PR_GET_THP_DISABLE = %d after scriptRuntime, want 0", v)
		}
	}
}
