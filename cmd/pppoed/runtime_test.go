package main

import (
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

// The client daemon runs without transparent huge pages, and a script it
// starts gets them back.
func TestClientRuntime(t *testing.T) {
	t.Cleanup(scriptRuntime)
	clientRuntime()
	if v := thpDisabled(t); v != 1 {
		t.Errorf("PR_GET_THP_DISABLE = %d after clientRuntime, want 1", v)
	}
	scriptRuntime()
	if v := thpDisabled(t); v != 0 {
		t.Errorf("PR_GET_THP_DISABLE = %d after scriptRuntime, want 0", v)
	}
}
