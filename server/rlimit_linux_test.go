package server

import (
	"log/slog"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// The AC lifts a 4096-descriptor hard limit (about 1360 sessions) to the
// kernel's fs.nr_open. Root with CAP_SYS_RESOURCE only (the VM's, not
// every container's): the test lowers the limits first.
func TestRaiseFileLimit(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to raise the hard limit")
	}
	var saved unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &saved); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Setrlimit(unix.RLIMIT_NOFILE, &saved) })
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 1024, Max: 4096}); err != nil {
		t.Fatal(err)
	}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &unix.Rlimit{Cur: 1024, Max: 4097}); err != nil {
		t.Skipf("cannot raise a hard limit here (no CAP_SYS_RESOURCE): %v", err)
	}
	raiseFileLimit(slog.New(slog.DiscardHandler))
	var got unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &got); err != nil {
		t.Fatal(err)
	}
	if got.Cur <= 4096 || got.Max <= 4096 || got.Cur != got.Max {
		t.Errorf("limit %+v after raiseFileLimit, want both raised to fs.nr_open", got)
	}
}
