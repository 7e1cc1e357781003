package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/pppoed/pppoed/status"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Helpers for the always-on link's tests (issue 9): what a running
// pppoed --persist reports on its control socket, faults at the AC, and
// the resources a long-running daemon holds.

// Status asks pppoed's control socket for its link's status.
func (c *Pppoed) Status(ctx context.Context) (status.Status, error) {
	if c.ControlSocket == "" {
		return status.Status{}, errors.New("lab: pppoed was started without --control-socket")
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	return status.Get(ctx, c.ControlSocket)
}

// WaitStatus polls the control socket until ok says yes, and returns that
// status; it fails early, with pppoed's log, if pppoed exits. A socket
// not there yet (pppoed starting) is waited for.
func (c *Pppoed) WaitStatus(ctx context.Context, what string, ok func(status.Status) bool) (status.Status, error) {
	var got, last status.Status
	var lastErr error
	err := Poll(ctx, 20*time.Millisecond, func() (bool, error) {
		if c.Exited() {
			return false, fmt.Errorf("pppoed exited with status %d", c.ExitCode())
		}
		st, err := c.Status(ctx)
		if err != nil {
			lastErr = err
			return false, nil
		}
		last = st
		if ok(st) {
			got = st
			return true, nil
		}
		return false, nil
	})
	if err != nil {
		return status.Status{}, fmt.Errorf("lab: waiting for pppoed's status to be %s: %w\nlast status: %+v (error %v)\npppoed log:\n%s",
			what, err, last, lastErr, tail(c.Log(), 60))
	}
	return got, nil
}

// WaitConnected waits until the status socket says connected with an IPv4
// address and the kernel agrees: the PPP interface is up with that
// address. Unlike WaitUp it works for every session of a persistent
// pppoed, not only the first.
func (c *Pppoed) WaitConnected(ctx context.Context) (status.Status, error) {
	st, err := c.WaitStatus(ctx, "connected", func(s status.Status) bool {
		if s.State != status.StateConnected || !s.LocalIPv4.IsValid() || s.Ifname == "" {
			return false
		}
		l, err := c.ns.nl.LinkByName(s.Ifname)
		if err != nil || l.Attrs().Flags&net.FlagUp == 0 {
			return false
		}
		as, err := c.ns.Addrs(s.Ifname, netlink.FAMILY_V4)
		return err == nil && len(as) > 0 && as[0].Local.Addr() == s.LocalIPv4
	})
	return st, err
}

// LogCount is how many times substr occurs in the process's log.
func (p *Process) LogCount(substr string) int {
	return strings.Count(p.Log(), substr)
}

// Crash kills the access concentrator as a power cut would: nobody
// sends a PADT or an LCP Terminate-Request. Debian's pppoe-server (without
// -k) relays each session through a pppd and an rp-pppoe `pppoe` process
// on a pty: the relays go first (a relay whose pppd died would send a
// PADT), then pppoe-server (it sends one when a pppd child ends), then
// the pppds and what else is left of the sessions.
func (s *PPPoEServer) Crash() error {
	relays, err := s.ns.Processes("pppoe")
	if err != nil {
		return err
	}
	for _, p := range relays {
		_ = unix.Kill(p, unix.SIGKILL)
	}
	if err := s.Process.Kill(); err != nil {
		return err
	}
	pids, err := s.ns.Pids()
	if err != nil {
		return err
	}
	for _, p := range pids {
		_ = unix.Kill(p, unix.SIGKILL)
	}
	return waitGone(append(relays, pids...))
}

// KillSessions sends sig to every per-session pppd in the AC's namespace
// and waits until they are gone. Their sessions' relays see the pty close
// and send a PADT, as does pppoe-server ("Child pppd process
// terminated"), if it still runs.
func (s *PPPoEServer) KillSessions(sig unix.Signal) error {
	pids, err := s.Sessions()
	if err != nil {
		return err
	}
	for _, p := range pids {
		_ = unix.Kill(p, sig)
	}
	return waitGone(pids)
}

// waitGone waits until every one of pids has ended (a zombie has).
func waitGone(pids []int) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	return Poll(ctx, 10*time.Millisecond, func() (bool, error) {
		for _, p := range pids {
			if !isZombie(p) {
				return false, nil
			}
		}
		return true, nil
	})
}

// RelaySessions lists the PPPoE sessions the access concentrator in n
// holds. Debian's pppoe-server (as the lab runs it, without -k) keeps
// them in user space, one rp-pppoe `pppoe -e ID:MAC` relay each, not in
// the kernel's /proc/net/pppoe: they are read from the relays' command
// lines.
func (n *Netns) RelaySessions() ([]PPPoESession, error) {
	pids, err := n.Processes("pppoe")
	if err != nil {
		return nil, err
	}
	var out []PPPoESession
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
		if err != nil || isZombie(pid) {
			continue // gone meanwhile
		}
		s, ok := parseRelayArgs(strings.Split(strings.TrimRight(string(b), "\x00"), "\x00"))
		if ok {
			out = append(out, s)
		}
	}
	return out, nil
}

// parseRelayArgs reads a session from pppoe's arguments: -I IFACE and
// -e SESSION:MAC (the session id in decimal, the peer's MAC).
func parseRelayArgs(args []string) (PPPoESession, bool) {
	var s PPPoESession
	found := false
	for i := 0; i+1 < len(args); i++ {
		switch args[i] {
		case "-I":
			s.Device = args[i+1]
		case "-e":
			id, mac, ok := strings.Cut(args[i+1], ":")
			n, err := strconv.ParseUint(id, 10, 16)
			hw, err2 := net.ParseMAC(mac)
			if !ok || err != nil || err2 != nil {
				return s, false
			}
			s.ID, s.Peer, found = uint16(n), hw, true
		}
	}
	return s, found
}

// ProcStats are the resources a process holds, from /proc.
type ProcStats struct {
	FDs     int // open file descriptors (/proc/PID/fd)
	Threads int // /proc/PID/status Threads
	RSSKiB  int // resident memory (/proc/PID/status VmRSS)
}

func (s ProcStats) String() string {
	return fmt.Sprintf("fds %d, threads %d, VmRSS %d KiB", s.FDs, s.Threads, s.RSSKiB)
}

// ReadProcStats reads pid's ProcStats.
func ReadProcStats(pid int) (ProcStats, error) {
	var st ProcStats
	fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		return st, fmt.Errorf("lab: %w", err)
	}
	st.FDs = len(fds)
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return st, fmt.Errorf("lab: %w", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(l, ":")
		if !ok {
			continue
		}
		v = strings.TrimSuffix(strings.TrimSpace(v), " kB")
		switch k {
		case "Threads":
			st.Threads, err = strconv.Atoi(v)
		case "VmRSS":
			st.RSSKiB, err = strconv.Atoi(v)
		}
		if err != nil {
			return st, fmt.Errorf("lab: /proc/%d/status %s: %w", pid, k, err)
		}
	}
	return st, nil
}

// PPPUnits counts the PPP interfaces in n.
func (n *Netns) PPPUnits() (int, error) {
	ls, err := n.Links()
	if err != nil {
		return 0, err
	}
	c := 0
	for _, l := range ls {
		if l.Kind == "ppp" {
			c++
		}
	}
	return c, nil
}

// StartPppoedEnv is StartPppoed with more environment for pppoed (KEY=VALUE
// pairs; NOTIFY_SOCKET for a test of sd_notify), through env(1), which
// execs it in place: the process is still pppoed.
func StartPppoedEnv(s Scope, ns *Netns, ifname string, env []string, args ...string) (*Pppoed, error) {
	s.Helper()
	bin, err := PppoedBinary()
	if err != nil {
		return nil, err
	}
	p, err := ns.Start(s, "pppoed", append(append([]string{"env"}, env...), append([]string{bin}, args...)...)...)
	if err != nil {
		return nil, err
	}
	c := &Pppoed{Process: p, Ifname: ifname, ns: ns}
	for i, a := range args[:max(len(args)-1, 0)] {
		if a == "--control-socket" {
			c.ControlSocket = args[i+1]
		}
	}
	return c, nil
}
