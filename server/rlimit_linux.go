package server

import (
	"log/slog"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// fdsPerSession are a session's descriptors: the AF_PPPOX socket, the
// /dev/ppp channel and the /dev/ppp unit.
const fdsPerSession = 3

// raiseFileLimit raises RLIMIT_NOFILE, soft and hard, to what the kernel
// allows a process (fs.nr_open), for thousands of sessions: Go raises the
// soft limit to the hard one at start, but a hard limit of 4096 (Debian's
// default outside systemd) stops an AC at about 1360 sessions. It only
// logs when it cannot: the server runs, with fewer sessions.
func raiseFileLimit(log *slog.Logger) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_NOFILE, &lim); err != nil {
		return
	}
	want := uint64(1 << 20)
	if b, err := os.ReadFile("/proc/sys/fs/nr_open"); err == nil {
		if n, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64); err == nil {
			want = n
		}
	}
	if lim.Cur >= want && lim.Max >= want {
		return
	}
	next := unix.Rlimit{Cur: max(lim.Cur, want), Max: max(lim.Max, want)}
	if err := unix.Setrlimit(unix.RLIMIT_NOFILE, &next); err != nil {
		// Not root (or a container's limit): the soft limit up to the hard one.
		next = unix.Rlimit{Cur: lim.Max, Max: lim.Max}
		_ = unix.Setrlimit(unix.RLIMIT_NOFILE, &next)
		log.Warn("server: cannot raise the open files limit", "limit", next.Cur, "sessions", next.Cur/fdsPerSession, "err", err)
		return
	}
	log.Debug("server: open files limit raised", "limit", next.Cur)
}
