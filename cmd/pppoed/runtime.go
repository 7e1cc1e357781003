package main

import (
	"os"
	"runtime/debug"

	"golang.org/x/sys/unix"
)

// clientGCPercent is the client daemon's GOGC unless the environment
// sets one. A session keeps about 250 KiB of heap live, so with the
// default (100) the runtime's floor, a 4 MiB heap goal, decides: the
// garbage of status requests, metrics scrapes and redials grows the heap
// to 4 MiB before a collection, and the pages it touched stay. 50 halves
// that floor (as pppoed server's serverGCPercent) and still lets a
// connect finish without a collection (about 0.5 MiB allocated), which a
// lower one did not: at 25 the collector's own metadata came with the
// first collection during the connect, 0.4 MiB more while up.
const clientGCPercent = 50

// clientRuntime sets the runtime for a client daemon (connect, pppd
// mode): GOGC clientGCPercent unless the environment sets GOGC, and no
// transparent huge pages (PR_SET_THP_DISABLE): with THP "always"
// (Debian's kernels) Go's heap and other anonymous mappings became 2 MiB
// pages, resident whole, for a client that uses a few
// hundred KiB of them, and khugepaged collapses more of them as the
// session lasts. The heap's first 2 MiB were touched before main, so they
// stay huge: only GODEBUG=disablethp=1 from the start (the environment,
// or -ldflags=-X=runtime.godebugDefault=disablethp=1) keeps them out.
// The flag is inherited by children: scriptRuntime undoes it for pppd
// mode's scripts.
func clientRuntime() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(clientGCPercent)
	}
	// Best effort: a kernel without it (before 3.15) keeps THP.
	_ = unix.Prctl(unix.PR_SET_THP_DISABLE, 1, 0, 0, 0)
}

// scriptRuntime gives a script the system's THP policy back: the flag
// clientRuntime set survives fork and exec, and a script may start a
// program that wants huge pages.
func scriptRuntime() {
	_ = unix.Prctl(unix.PR_SET_THP_DISABLE, 0, 0, 0, 0)
}
