package integration

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
	"github.com/pppoed/pppoed/status"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// The always-on link (issue 9) against faults: the AC crashing, the
// Ethernet link going away, the AC's PADT, pppoed itself killed, a wrong
// password, a stop in every phase. Each outcome is read from the kernel
// (netlink; on the AC's side its session relays), from pppoed's control
// socket and from the AC's processes; times are measured and reported
// (lab.Report), never asserted.

// persistArgs: the always-on link with short timers, so that a redial
// takes seconds: one PADI a second while the AC is away, and failures
// backing off for 2 s at most. They come after lab.ClientArgs'
// --persist=false, and the last of a flag wins.
var persistArgs = []string{"--persist", "--holdoff", "0", "--padi-timeout", "1s", "--padi-attempts", "1", "--backoff-max", "2s"}

func persistent(t *testing.T, p *lab.Pair, f linkFiles, more ...string) *lab.Pppoed {
	t.Helper()
	return connect(t, p, append(append(slices.Clone(persistArgs), f.args()...), more...)...)
}

// linkFiles are a link's state directory and control socket. t.TempDir
// is a new directory at each call, and so is lab.ClientArgs': a test that
// starts pppoed twice for one link gives both these.
type linkFiles struct{ stateDir, sock string }

func newLinkFiles(t *testing.T) linkFiles {
	d := t.TempDir()
	return linkFiles{filepath.Join(d, "state"), filepath.Join(d, "ctl.sock")}
}

func (f linkFiles) args() []string {
	return []string{"--state-dir", f.stateDir, "--control-socket", f.sock}
}

// stateFile is the link's state file: the link is named after the
// interface.
func (f linkFiles) stateFile(p *lab.Pair) string {
	return filepath.Join(f.stateDir, p.ClientIf+".state")
}

func isDown(s status.Status) bool {
	return s.State == status.StateDisconnected || s.State == status.StateWaiting
}

// leftSession says whether pppoed has ended the session first: the end
// recorded (its last error is newer), or on another session already (a
// redial at once can take less time than a poll). Not merely "not
// connected": the status leaves connected as the network protocols go
// down, before the session's end is logged and recorded.
func leftSession(first status.Status) func(status.Status) bool {
	return func(s status.Status) bool {
		return s.LastErrorTime.After(first.LastErrorTime) || s.SessionID != 0 && s.SessionID != first.SessionID
	}
}

// logTime is the time of the first line of pppoed's log holding substr
// after the first of after ("" for the start): measures from the
// daemon's side, which polling the status socket could miss.
func logTime(t *testing.T, log, after, substr string) time.Time {
	t.Helper()
	if i := strings.Index(log, after); i >= 0 {
		log = log[i:]
	}
	for _, line := range strings.Split(log, "\n") {
		if !strings.Contains(line, substr) {
			continue
		}
		ts, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
		tm, err := time.Parse(time.RFC3339Nano, ts)
		if err != nil {
			t.Errorf("no time in %q: %v", line, err)
		}
		return tm
	}
	t.Errorf("no %q in the log", substr)
	return time.Time{}
}

// acSessions waits until the AC (its pppoe relays) holds exactly want
// PPPoE sessions and returns them; on a timeout it returns what it saw
// last.
func acSessions(t *testing.T, p *lab.Pair, want int) []lab.PPPoESession {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	var ss []lab.PPPoESession
	err := lab.Poll(ctx, 50*time.Millisecond, func() (bool, error) {
		var err error
		ss, err = p.AC.RelaySessions()
		return len(ss) == want, err
	})
	if err != nil {
		t.Errorf("the AC holds %d PPPoE sessions, want %d: %+v (%v)", len(ss), want, ss, err)
	}
	return ss
}

// redial is one "client: redialling" log line.
type redial struct {
	cause string
	wait  time.Duration
}

var linkDownLine = regexp.MustCompile(`Ethernet link (went )?down`)

var redialLine = regexp.MustCompile(`msg="client: redialling" cause=("[^"]*"|\S+) wait=(\S+)`)

func redials(t *testing.T, log string) []redial {
	t.Helper()
	var out []redial
	for _, m := range redialLine.FindAllStringSubmatch(log, -1) {
		d, err := time.ParseDuration(m[2])
		if err != nil {
			t.Errorf("redial wait %q: %v", m[2], err)
		}
		out = append(out, redial{strings.Trim(m[1], `"`), d})
	}
	return out
}

// assertGone checks that pppoed's state file and control socket are gone:
// it stopped cleanly and the AC heard of the session's end.
func assertGone(t *testing.T, p *lab.Pair, f linkFiles) {
	t.Helper()
	for _, name := range []string{f.stateFile(p), f.sock} {
		if _, err := os.Lstat(name); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s left behind (%v)", name, err)
		}
	}
}

// The AC dies without a word (SIGKILL to pppoe-server and its pppds: no
// PADT, no Terminate-Request). pppoed notices through its keepalive,
// keeps redialling while no AC answers, and is back, on the same
// interface name, once an AC is started again.
func TestAlwaysOnACCrash(t *testing.T) {
	lab.Require(t)
	for _, tc := range []struct {
		name, ifname string
		args         []string
	}{
		{"echo", "ppp0", []string{"--keepalive-interval", "1s", "--keepalive-failures", "3"}},
		{"timeout", "wan0", []string{"--keepalive-timeout", "4s", "--ifname", "wan0"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
			defer cancel()
			p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
			srv := refServer(t, p, lab.AuthCHAP)
			files := newLinkFiles(t)
			cli := persistent(t, p, files, tc.args...)
			first, err := cli.WaitConnected(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if first.Ifname != tc.ifname {
				t.Errorf("first session on %q, want %q", first.Ifname, tc.ifname)
			}
			crashed := time.Now()
			if err := srv.Crash(); err != nil {
				t.Fatal(err)
			}
			st, err := cli.WaitStatus(ctx, "down after the AC crashed", leftSession(first))
			if err != nil {
				t.Fatal(err)
			}
			detected := logTime(t, cli.Log(), "", "client: session ended").Sub(crashed)
			if !strings.Contains(strings.ToLower(st.LastError), "peer not responding") {
				t.Errorf("last error %q, want the keepalive's %q", st.LastError, "peer not responding")
			}
			// No AC: pppoed keeps trying (two failed redials), and
			// has no PPP interface meanwhile.
			st, err = cli.WaitStatus(ctx, "redialling with no AC", func(s status.Status) bool {
				return s.Redials >= 3 && s.Failures >= 2 && isDown(s)
			})
			if err != nil {
				t.Fatal(err)
			}
			if n := must[int](t)(p.Client.PPPUnits()); n != 0 {
				t.Errorf("%d PPP interfaces while no AC answers", n)
			}
			redialsBefore := st.Redials
			back := time.Now()
			refServer(t, p, lab.AuthCHAP)
			again, err := cli.WaitConnected(ctx)
			if err != nil {
				t.Fatal(err)
			}
			lab.Report(t, "AC SIGKILLed: detected after %s (%s), up again %s after the AC restarted (%d redials while it was away)",
				detected.Round(time.Millisecond), strings.Join(tc.args, " "), time.Since(back).Round(time.Millisecond), redialsBefore)
			if again.Ifname != tc.ifname {
				t.Errorf("after the redial on %q, want %q", again.Ifname, tc.ifname)
			}
			if again.Failures != 0 || again.Redials < redialsBefore {
				t.Errorf("status after the redial: %+v", again)
			}
			if _, err := p.Client.Link(tc.ifname); err != nil {
				t.Error(err)
			}
			if ss := acSessions(t, p, 1); len(ss) == 1 && ss[0].ID != again.SessionID {
				t.Errorf("the AC holds session %d, pppoed has %d", ss[0].ID, again.SessionID)
			}
			if _, err := p.Client.Ping(ctx, acAddr, 1); err != nil {
				t.Error(err)
			}
			stopClean(t, cli)
			assertNothingLeft(t, p.Client)
			assertGone(t, p, files)
		})
	}
}

// The Ethernet link goes down (ours administratively; or the AC's, so
// that ours loses its carrier): the session ends at once, without
// waiting for the keepalive (30 s here), pppoed waits for the link
// without counting failures, and redials when it is back.
func TestAlwaysOnLinkDown(t *testing.T) {
	lab.Require(t)
	for _, side := range []string{"ours", "carrier"} {
		t.Run(side, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
			refServer(t, p, lab.AuthCHAP)
			files := newLinkFiles(t)
			cli := persistent(t, p, files, "--keepalive-interval", "30s", "--keepalive-failures", "4")
			first, err := cli.WaitConnected(ctx)
			if err != nil {
				t.Fatal(err)
			}
			ns, ifname := p.Client, p.ClientIf
			if side == "carrier" {
				ns, ifname = p.AC, p.ACIf
			}
			l := must[netlink.Link](t)(ns.Handle().LinkByName(ifname))
			down := time.Now()
			if err := ns.Handle().LinkSetDown(l); err != nil {
				t.Fatal(err)
			}
			st, err := cli.WaitStatus(ctx, "waiting for the Ethernet link", func(s status.Status) bool {
				return s.State == status.StateWaiting && s.NextRedial.IsZero()
			})
			if err != nil {
				t.Fatal(err)
			}
			detected := time.Since(down)
			if st.Failures != 0 {
				t.Errorf("a link down counted as a failure: %+v", st)
			}
			if n := must[int](t)(p.Client.PPPUnits()); n != 0 {
				t.Errorf("%d PPP interfaces while the link is down", n)
			}
			if !linkDownLine.MatchString(cli.Log()) {
				t.Errorf("the log does not say the link went down:\n%s", cli.Log())
			}
			// The link's loss is no failure of the session: no
			// backoff, the wait for the link is the wait.
			for _, r := range redials(t, cli.Log()) {
				if r.cause != "Ethernet link down" {
					t.Errorf("redial %+v after the link went down, want cause \"Ethernet link down\"", r)
				}
			}
			// It waits for the link: no discovery meanwhile.
			dials := cli.LogCount("looking for an access concentrator")
			time.Sleep(2 * time.Second)
			if n := cli.LogCount("looking for an access concentrator"); n != dials {
				t.Errorf("%d discovery attempts while the link was down", n-dials)
			}
			up := time.Now()
			if err := ns.Handle().LinkSetUp(l); err != nil {
				t.Fatal(err)
			}
			again, err := cli.WaitConnected(ctx)
			if err != nil {
				t.Fatal(err)
			}
			lab.Report(t, "link down (%s): session ended after %s, up again %s after the link came back",
				side, detected.Round(time.Millisecond), time.Since(up).Round(time.Millisecond))
			if again.Failures != 0 || again.Ifname != first.Ifname {
				t.Errorf("after the link came back: %+v (first on %s)", again, first.Ifname)
			}
			// The session the link's loss cut off must not stay at
			// the AC beside the new one (an ISP's AC then says
			// "sessions limit exceeded"): the PADT that could not go
			// while the link was down is owed once it is back.
			if ss := acSessions(t, p, 1); len(ss) == 1 && ss[0].ID != again.SessionID {
				t.Errorf("the AC holds session %d, pppoed has %d", ss[0].ID, again.SessionID)
			}
			stopClean(t, cli)
			assertNothingLeft(t, p.Client)
			assertGone(t, p, files)
		})
	}
}

// The AC ends the session with a PADT, twice. The first loss of a session
// is redialled at once (--holdoff 0), even a session that was up only a
// few seconds; a second short session lost backs off, so that an AC that
// accepts and drops us does not have us loop without pause. The PADT
// comes from pppoe-server (its session's pppd killed: the relay sends
// it), or from `pppoed kill` run on the AC's side, which also tests that
// command end to end; the AC's own session then stays, as nobody told it.
func TestAlwaysOnPADT(t *testing.T) {
	lab.Require(t)
	bin := must[string](t)(lab.PppoedBinary())
	for _, tc := range []struct {
		name   string
		forged bool // the AC's pppd does not hear of it
		kill   func(t *testing.T, p *lab.Pair, srv *lab.PPPoEServer, st status.Status)
	}{
		{"pppoe-server", false, func(t *testing.T, p *lab.Pair, srv *lab.PPPoEServer, st status.Status) {
			if err := srv.KillSessions(unix.SIGKILL); err != nil {
				t.Fatal(err)
			}
		}},
		{"pppoed kill", true, func(t *testing.T, p *lab.Pair, srv *lab.PPPoEServer, st status.Status) {
			mac := must[lab.Link](t)(p.Client.Link(p.ClientIf)).MAC
			if out, err := p.AC.Run(context.Background(), bin, "kill", "--interface", p.ACIf,
				"--session-id", strconv.Itoa(int(st.SessionID)), "--ac-mac", mac.String()); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
			srv := refServer(t, p, lab.AuthCHAP)
			files := newLinkFiles(t)
			cli := persistent(t, p, files)
			cur, err := cli.WaitConnected(ctx)
			if err != nil {
				t.Fatal(err)
			}
			first := cur
			for round := 1; round <= 2; round++ {
				sent := time.Now()
				tc.kill(t, p, srv, cur)
				if _, err := cli.WaitStatus(ctx, "off the session after the PADT", leftSession(cur)); err != nil {
					t.Fatal(err)
				}
				again, err := cli.WaitConnected(ctx)
				if err != nil {
					t.Fatal(err)
				}
				took := time.Since(sent)
				log := cli.Log()
				rs := redials(t, log)
				if len(rs) != round || rs[round-1].cause != "session lost" {
					t.Fatalf("redials %+v, want %d, for a session lost\n%s", rs, round, log)
				}
				detected := logTime(t, log, fmt.Sprintf("session-id=0x%x", cur.SessionID), "client: session ended").Sub(sent)
				lab.Report(t, "PADT %d: session down after %s, up again %s after the PADT (redial wait %s)",
					round, detected.Round(time.Millisecond), took.Round(time.Millisecond), rs[round-1].wait)
				if round == 1 && rs[0].wait != 0 {
					t.Errorf("the first session lost waited %s to redial, want at once", rs[0].wait)
				}
				if round == 2 && rs[1].wait == 0 {
					t.Errorf("the second short session lost was redialled at once: no backoff")
				}
				if !strings.Contains(again.LastError, "PADT") {
					t.Errorf("last error %q does not name the PADT", again.LastError)
				}
				if again.SessionID == cur.SessionID || again.Ifname != first.Ifname || again.Redials != round || again.Failures != 0 {
					t.Errorf("after redial %d: %+v, before %+v", round, again, cur)
				}
				want := 1
				if tc.forged {
					want += round
				}
				ss := acSessions(t, p, want)
				if !slices.ContainsFunc(ss, func(s lab.PPPoESession) bool { return s.ID == again.SessionID }) {
					t.Errorf("the AC does not hold pppoed's session %d: %+v", again.SessionID, ss)
				}
				cur = again
			}
			if strings.Contains(cli.Log(), "PADT sent") {
				t.Errorf("a PADT went back for a session the AC ended:\n%s", cli.Log())
			}
			stopClean(t, cli)
			assertNothingLeft(t, p.Client)
			assertGone(t, p, files)
		})
	}
}

// pppoed SIGKILLed keeps nothing in the kernel (its PPP unit goes with
// its file descriptors) but leaves its session at the AC, and its state
// file and control socket. Started again, it replaces the socket, sends
// a PADT for that session before its first PADI, and only its new
// session remains at the AC.
func TestAlwaysOnRestartAfterSIGKILL(t *testing.T) {
	lab.Require(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	srv := refServer(t, p, lab.AuthCHAP)
	files := newLinkFiles(t)
	cli := persistent(t, p, files)
	first, err := cli.WaitConnected(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := cli.Kill(); err != nil {
		t.Fatal(err)
	}
	if ss := acSessions(t, p, 1); len(ss) != 1 || ss[0].ID != first.SessionID {
		t.Fatalf("the AC should still hold session %d: %+v", first.SessionID, ss)
	}
	for _, f := range []string{files.stateFile(p), files.sock} {
		if _, err := os.Lstat(f); err != nil {
			t.Errorf("after SIGKILL: %v", err)
		}
	}
	assertNothingLeft(t, p.Client)
	restarted := time.Now()
	cli2 := persistent(t, p, files)
	again, err := cli2.WaitConnected(ctx)
	if err != nil {
		t.Fatal(err)
	}
	lab.Report(t, "restart after SIGKILL: up again %s after the restart", time.Since(restarted).Round(time.Millisecond))
	log := cli2.Log()
	if !strings.Contains(log, "PADT sent for the session a previous run left") || !strings.Contains(log, "replaced a stale control socket") {
		t.Errorf("the log does not say the stale session and socket were cleared:\n%s", log)
	}
	if i, j := strings.Index(log, "PADT sent for the session a previous run left"), strings.Index(log, "looking for an access concentrator"); i < 0 || j < i {
		t.Errorf("the stale session's PADT did not come before discovery:\n%s", log)
	}
	if ss := acSessions(t, p, 1); len(ss) == 1 && ss[0].ID != again.SessionID {
		t.Errorf("the AC holds session %d, pppoed has %d (the old one was %d)", ss[0].ID, again.SessionID, first.SessionID)
	}
	ctxw, cancelw := context.WithTimeout(ctx, 10*time.Second)
	defer cancelw()
	if err := lab.Poll(ctxw, 50*time.Millisecond, func() (bool, error) {
		pids, err := srv.Sessions()
		return len(pids) == 1, err
	}); err != nil {
		pids, _ := srv.Sessions()
		t.Errorf("the AC runs %d session pppds, want 1\n%s", len(pids), srv.Log())
	}
	stopClean(t, cli2)
	assertNothingLeft(t, p.Client)
	assertGone(t, p, files)
}

// A wrong password, persistently: ISPs throttle repeated bad logins, so
// pppoed waits --auth-holdoff after the first failure and doubles the
// wait after each further one. With 5 s: attempts start at 0, then at
// least 4 s (5 s - 20 %) later, then at least 8 s after that, then 16 s:
// at most 3 attempts in 20 s, where a constant 5 s wait would allow 5.
func TestAlwaysOnWrongPassword(t *testing.T) {
	lab.Require(t)
	t.Parallel()
	const window = 20 * time.Second
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	srv := refServer(t, p, lab.AuthCHAP)
	files := newLinkFiles(t)
	args := lab.ClientArgs(t, p.ClientIf, "user1", "WRONG-pw", append(append(slices.Clone(persistArgs), files.args()...), "--auth-holdoff", "5s")...)
	cli := must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp0", args...))
	select {
	case <-time.After(window):
	case <-cli.Done():
		t.Fatalf("pppoed exited (%d)\n%s", cli.ExitCode(), cli.Log())
	}
	attempts := cli.LogCount("looking for an access concentrator")
	acFailures := strings.Count(srv.Log(), "failed CHAP authentication")
	rs := redials(t, cli.Log())
	lab.Report(t, "wrong password with --auth-holdoff 5s: %d attempts in %s (AC saw %d failures), waits %+v", attempts, window, acFailures, rs)
	if attempts < 2 || attempts > 3 {
		t.Errorf("%d attempts in %s, want 2 or 3\n%s", attempts, window, cli.Log())
	}
	if acFailures > attempts || acFailures < attempts-1 {
		t.Errorf("the AC saw %d failed logins from %d attempts\n%s", acFailures, attempts, srv.Log())
	}
	for i, r := range rs {
		want := 5 * time.Second << i
		if r.cause != "authentication failed" || r.wait < want*8/10 || r.wait > want*12/10 {
			t.Errorf("redial %d: %+v, want authentication failed, %s ± 20%%", i+1, r, want)
		}
	}
	st := must[status.Status](t)(cli.Status(context.Background()))
	if st.Failures != len(rs) || !strings.Contains(st.LastError, "authentication") {
		t.Errorf("status %+v after %d failed attempts", st, len(rs))
	}
	if strings.Contains(cli.Log(), "WRONG-pw") {
		t.Error("the password is in the log")
	}
	stopClean(t, cli)
	assertNothingLeft(t, p.Client)
	assertGone(t, p, files)
	waitSessionsGone(t, srv)
}

// dropAtAC has the AC's interface drop the client's PPP frames of the
// given protocols (tc u32 on ingress: the PPP protocol field is 6 octets
// into a PPPoE session frame, RFC 2516 §4), so that pppoed stays in the
// phase those protocols would end.
func dropAtAC(t *testing.T, p *lab.Pair, protos ...uint16) {
	t.Helper()
	ctx := context.Background()
	must[string](t)(p.AC.Run(ctx, "tc", "qdisc", "add", "dev", p.ACIf, "ingress"))
	for _, proto := range protos {
		must[string](t)(p.AC.Run(ctx, "tc", "filter", "add", "dev", p.ACIf, "parent", "ffff:", "protocol", "0x8864",
			"u32", "match", "u16", "0x"+strconv.FormatUint(uint64(proto), 16), "0xffff", "at", "6", "action", "drop"))
	}
}

// SIGTERM in every phase of an attempt leaves nothing behind: no PPP
// interface, address or route, no session at the AC (a PADT went), no
// state file, no control socket, and a clean exit.
func TestAlwaysOnStopInEachPhase(t *testing.T) {
	lab.Require(t)
	for _, tc := range []struct {
		name    string
		noAC    bool
		drop    []uint16
		reached func(c *lab.Pppoed, s status.Status) bool
	}{
		{"discovery", true, nil, func(c *lab.Pppoed, s status.Status) bool {
			return s.State == status.StateDialing && strings.Contains(c.Log(), "looking for an access concentrator")
		}},
		{"LCP", false, []uint16{0xc021}, func(c *lab.Pppoed, s status.Status) bool {
			return s.State == status.StateDialing && strings.Contains(c.Log(), "PPPoE session up")
		}},
		{"authentication", false, []uint16{0xc223}, func(c *lab.Pppoed, s status.Status) bool {
			return s.State == status.StateAuthenticating
		}},
		{"network", false, []uint16{0x8021, 0x8057}, func(c *lab.Pppoed, s status.Status) bool {
			return s.State == status.StateAuthenticating && strings.Contains(c.Log(), "client: authenticated")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
			var srv *lab.PPPoEServer
			if !tc.noAC {
				dropAtAC(t, p, tc.drop...)
				srv = refServer(t, p, lab.AuthCHAP)
			}
			files := newLinkFiles(t)
			cli := persistent(t, p, files, "--padi-timeout", "10s")
			if _, err := cli.WaitStatus(ctx, "in the "+tc.name+" phase", func(s status.Status) bool { return tc.reached(cli, s) }); err != nil {
				t.Fatal(err)
			}
			if srv != nil {
				if ss := acSessions(t, p, 1); len(ss) != 1 {
					t.Fatalf("no session at the AC in the %s phase", tc.name)
				}
			}
			stopped := time.Now()
			stopClean(t, cli)
			lab.Report(t, "SIGTERM in %s: exited after %s", tc.name, time.Since(stopped).Round(time.Millisecond))
			assertNothingLeft(t, p.Client)
			if as := must[[]lab.Addr](t)(p.Client.Addrs("", netlink.FAMILY_V4)); len(as) != 1 || !as[0].Local.Addr().IsLoopback() {
				t.Errorf("IPv4 addresses left: %+v", as)
			}
			assertGone(t, p, files)
			if srv != nil {
				if !strings.Contains(cli.Log(), "PADT sent") {
					t.Errorf("no PADT sent:\n%s", cli.Log())
				}
				acSessions(t, p, 0)
				waitSessionsGone(t, srv)
			}
		})
	}
}
