package main

import (
	"golang.org/x/sys/unix"
)

// clientRuntime sets the runtime for a client daemon (connect, pppd
// mode). No transparent huge pages (PR_SET_THP_DISABLE): with THP
// "always" (Debian's kernels) Go's heap and other anonymous mappings
// became 2 MiB pages, resident whole, for a client that uses a few
// hundred KiB of them, and khugepaged collapses more of them as the
// session lasts. The heap's first 2 MiB were touched before main, so they
// stay huge: only GODEBUG=disablethp=1 from the start (the environment,
// or -ldflags=-X=runtime.godebugDefault=disablethp=1) keeps them out.
// The flag is inherited by children: scriptRuntime undoes it for pppd
// mode's scripts.
func clientRuntime() {
	// Best effort: a kernel without it (before 3.15) keeps THP.
	_ = unix.Prctl(unix.PR_SET_THP_DISABLE, 1, 0, 0, 0)
}

// scriptRuntime gives a script the system's THP policy back: the flag
// clientRuntime set survives fork and exec, and a script may start a
// program that wants huge pages.
func scriptRuntime() {
	_ = unix.Prctl(unix.PR_SET_THP_DISABLE, 0, 0, 0, 0)
}
