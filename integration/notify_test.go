package integration

import (
	"context"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
	"github.com/pppoed/pppoed/systemd/systemdtest"
	"golang.org/x/sys/unix"
)

// pppoed under a service manager (Type=notify): the datagrams a real
// pppoed sends to NOTIFY_SOCKET, here a socket of the test's own, through
// a first session, a PADT from the AC and the redial, and a stop.
// READY=1 comes once, when the first network protocol is up, after
// STATUS=dialing; STATUS= follows every change ("connected ADDR via AC
// NAME", "down: ..., redial in ..."); STOPPING=1 comes at SIGTERM.
func TestAlwaysOnNotify(t *testing.T) {
	lab.Require(t)
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	sock, msgs := systemdtest.Listen(t)
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	srv := refServer(t, p, lab.AuthCHAP)
	files := newLinkFiles(t)
	args := lab.ClientArgs(t, p.ClientIf, "user1", "pass1", append(append(slices.Clone(persistArgs), files.args()...), "--no-ipv6")...)
	cli := must[*lab.Pppoed](t)(lab.StartPppoedEnv(t, p.Client, "ppp0", []string{"NOTIFY_SOCKET=" + sock}, args...))

	// got collects every state sent, one datagram's states together.
	var got []string
	var lines []string // every datagram, for failures
	next := func(what string, match func(string) bool) {
		t.Helper()
		for {
			select {
			case m, ok := <-msgs:
				if !ok {
					t.Fatalf("the notify socket closed before %s; got:\n%s", what, strings.Join(lines, "\n"))
				}
				lines = append(lines, strings.ReplaceAll(m, "\n", `\n`))
				for _, s := range strings.Split(m, "\n") {
					got = append(got, s)
					if match(s) {
						return
					}
				}
			case <-ctx.Done():
				t.Fatalf("no %s; got:\n%s\npppoed log:\n%s", what, strings.Join(lines, "\n"), cli.Log())
			}
		}
	}
	is := func(want string) func(string) bool { return func(s string) bool { return s == want } }

	next("READY=1", is("READY=1"))
	wantConnected := "STATUS=connected " + clientAddr.String() + " via AC lab-ac"
	i := slices.Index(got, "STATUS=dialing")
	j := slices.Index(got, wantConnected)
	if i < 0 || j < i || slices.Index(got, "READY=1") < j {
		t.Errorf("before READY=1, want STATUS=dialing, then %q; got %q", wantConnected, got)
	}
	if _, err := cli.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}

	// The AC ends the session (its pppd killed, pppoe-server sends the
	// PADT): down, a redial planned, dialing, connected again; READY=1
	// is not repeated.
	if err := srv.KillSessions(unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	mark := len(got)
	next("STATUS=down", func(s string) bool { return strings.HasPrefix(s, "STATUS=down: ") })
	if down := got[len(got)-1]; !strings.Contains(down, "PADT") {
		t.Errorf("%q does not say the AC sent a PADT", down)
	}
	if !strings.Contains(got[len(got)-1], ", redial in ") {
		next("redial planned", func(s string) bool {
			return strings.HasPrefix(s, "STATUS=down: ") && strings.Contains(s, ", redial in ")
		})
	}
	next("STATUS=dialing again", is("STATUS=dialing"))
	// The AC's pool may give another address this time.
	next("STATUS=connected again", func(s string) bool {
		return strings.HasPrefix(s, "STATUS=connected 10.64.0.") && strings.HasSuffix(s, " via AC lab-ac")
	})

	// SIGTERM: STOPPING=1, and nothing after it says ready.
	if _, err := cli.WaitConnected(ctx); err != nil {
		t.Fatal(err)
	}
	drain := func() {
		for {
			select {
			case m := <-msgs:
				lines = append(lines, strings.ReplaceAll(m, "\n", `\n`))
				got = append(got, strings.Split(m, "\n")...)
				continue
			case <-time.After(200 * time.Millisecond):
			}
			return
		}
	}
	drain()
	stopAt := len(got)
	if err := cli.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	next("STOPPING=1", is("STOPPING=1"))
	// sd_notify(3): STOPPING=1 says the service is beginning its
	// shutdown, so it comes first, not after the session's teardown
	// (which can take the LCP termination's 6 s).
	if before := got[stopAt : len(got)-1]; len(before) > 0 {
		t.Errorf("STOPPING=1 came only after %q\npppoed's log:\n%s", before, cli.Log())
	}
	if err := cli.Wait(ctx); err != nil || cli.ExitCode() != 0 {
		t.Fatalf("pppoed after SIGTERM: %v, status %d\n%s", err, cli.ExitCode(), cli.Log())
	}
	// What it sent after STOPPING=1 is in the socket's buffer by now.
	drain()
	t.Logf("notify datagrams:\n%s", strings.Join(lines, "\n"))
	if n := slices.Index(got[mark:], "READY=1"); n >= 0 {
		t.Errorf("READY=1 sent again after the first session: %q", got)
	}
	stop := slices.Index(got, "STOPPING=1")
	for _, s := range got[stop+1:] {
		if s == "READY=1" || strings.HasPrefix(s, "STATUS=connected") || s == "STATUS=dialing" {
			t.Errorf("%q after STOPPING=1", s)
		}
	}
	assertNothingLeft(t, p.Client)
	assertGone(t, p, files)
}
