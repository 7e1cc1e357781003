package integration

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
	"github.com/pppoed/pppoed/status"
	"golang.org/x/sys/unix"
)

// SoakEnv runs TestSoak (`make soak` sets it); SoakCyclesEnv sets its
// number of cycles (default 200). Only PPPOED_ variables reach the VM.
const (
	SoakEnv       = "PPPOED_SOAK"
	SoakCyclesEnv = "PPPOED_SOAK_CYCLES"
)

// TestSoak: one pppoed --persist against the reference AC through many
// sessions, each ended by the AC (its pppd killed: pppoe-server sends the
// PADT) and redialled. What the daemon holds must not grow with them:
// open files and PPP units are compared at the start and the end, in the
// same state (connected); threads and resident memory are reported.
// Goroutines cannot be seen from outside (pppoed status does not report
// them): the thread count stands in.
func TestSoak(t *testing.T) {
	if os.Getenv(SoakEnv) != "1" {
		t.Skipf("the soak runs under `make soak` (%s=1)", SoakEnv)
	}
	lab.Require(t)
	cycles := 200
	if s := os.Getenv(SoakCyclesEnv); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("%s=%q: want a positive number", SoakCyclesEnv, s)
		}
		cycles = n
	}
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	srv := refServer(t, p, lab.AuthCHAP)
	files := newLinkFiles(t)
	// Sessions that die within 30 s back off: 500 ms at most here.
	cli := persistent(t, p, files, "--backoff-max", "500ms", "--no-ipv6")
	var cur status.Status
	wait := func(what string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		var err error
		if cur, err = cli.WaitConnected(ctx); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	measure := func() (lab.ProcStats, int) {
		t.Helper()
		st := must[lab.ProcStats](t)(lab.ReadProcStats(cli.Pid()))
		return st, must[int](t)(p.Client.PPPUnits())
	}
	wait("first session")
	start, startUnits := measure()
	began := time.Now()
	for i := 1; i <= cycles; i++ {
		if err := srv.KillSessions(unix.SIGKILL); err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		_, err := cli.WaitStatus(ctx, "off its session", leftSession(cur))
		cancel()
		if err != nil {
			t.Fatalf("cycle %d: %v", i, err)
		}
		wait("cycle " + strconv.Itoa(i))
		if i%50 == 0 {
			s, u := measure()
			t.Logf("after %d cycles (%s): %s, %d PPP units", i, time.Since(began).Round(time.Second), s, u)
		}
	}
	took := time.Since(began)
	end, endUnits := measure()
	lab.Report(t, "soak: %d cycles in %s (%s a cycle): start %s, %d PPP units; end %s, %d PPP units",
		cycles, took.Round(time.Second), (took / time.Duration(cycles)).Round(time.Millisecond), start, startUnits, end, endUnits)
	if end.FDs > start.FDs {
		t.Errorf("open files grew from %d to %d over %d sessions", start.FDs, end.FDs, cycles)
	}
	if endUnits != startUnits || endUnits != 1 {
		t.Errorf("PPP units: %d at the start, %d at the end", startUnits, endUnits)
	}
	if s, err := cli.Status(context.Background()); err != nil || s.Redials != cycles {
		t.Errorf("status after %d cycles: %+v, %v", cycles, s, err)
	}
	acSessions(t, p, 1)
	stopClean(t, cli)
	assertNothingLeft(t, p.Client)
	assertGone(t, p, files)
}
