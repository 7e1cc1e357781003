package integration

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
)

// BenchmarkConnect compares pppoed's client with pppd + rp-pppoe.so, in
// the same VM, against the same pppoe-server: they take turns, each b.N
// times. Connect time runs from process start to pppN up with its IPv4
// address (pppoed: also routes configured), read the same way for both
// through netlink; memory is the process's resident set once connected.
// Nothing is asserted: the numbers are reported, as a table and metrics.
//
//	make bench
func BenchmarkConnect(b *testing.B) {
	lab.Require(b)
	b.Run("pppoe-server", func(b *testing.B) {
		p, err := lab.NewPair(b, lab.PairConfig{})
		if err != nil {
			b.Fatal(err)
		}
		srv, err := lab.StartPPPoEServer(b, p.AC, lab.ServerConfig{Interface: p.ACIf, PoolSize: 64,
			Secrets: []lab.Secret{{User: "bench", Password: "bench"}}})
		if err != nil {
			b.Fatal(err)
		}
		benchConnect(b, p, "pppoe-server", srv.Log, func() (bool, error) {
			s, err := srv.Sessions()
			return len(s) == 0, err
		})
	})
	// pppoed's own AC, the fast one: what each client costs itself.
	b.Run("pppoed-server", func(b *testing.B) {
		p, err := lab.NewPair(b, lab.PairConfig{})
		if err != nil {
			b.Fatal(err)
		}
		srv, err := lab.StartPppoedServer(b, p.AC, lab.ACConfig{
			Interfaces: []lab.ACInterface{{Name: p.ACIf}},
			Pools:      []lab.ACPool{{Name: "bench", Ranges: []string{"10.77.0.2-10.77.0.200"}}},
			Profiles:   []lab.ACProfile{{Name: "default", LocalAddress: "10.77.0.1", RemotePool: "bench"}},
			Users:      []lab.ACUser{{Name: "bench", Password: "bench"}},
		})
		if err != nil {
			b.Fatal(err)
		}
		benchConnect(b, p, "pppoed server", srv.Log, func() (bool, error) {
			st, err := srv.Status(context.Background())
			return len(st.Sessions) == 0, err
		})
	})
}

// benchConnect has pppd and pppoed's client take turns against one AC,
// b.N times each; idle reports whether the AC has no session left.
func benchConnect(b *testing.B, p *lab.Pair, ac string, acLog func() string, idle func() (bool, error)) {
	type sample struct {
		took time.Duration
		rss  int
	}
	var pppd, ours []sample
	waitIdle := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		lab.Poll(ctx, 20*time.Millisecond, idle)
	}
	b.ResetTimer()
	for range b.N {
		// pppd
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		start := time.Now()
		ref, err := lab.StartPPPD(b, p.Client, lab.PPPDConfig{Interface: p.ClientIf, User: "bench", Password: "bench"})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ref.WaitUp(ctx); err != nil {
			b.Fatalf("%v\n%s", err, acLog())
		}
		s := sample{took: time.Since(start)}
		s.rss, _ = vmRSSKiB(ref.Pid())
		pppd = append(pppd, s)
		ref.Stop(10 * time.Second)
		waitIdle()

		// pppoed
		start = time.Now()
		cli, err := lab.StartPppoed(b, p.Client, "ppp0", lab.ClientArgs(b, p.ClientIf, "bench", "bench")...)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cli.WaitUp(ctx); err != nil {
			b.Fatalf("%v\n%s", err, acLog())
		}
		s = sample{took: time.Since(start)}
		s.rss, _ = vmRSSKiB(cli.Pid())
		ours = append(ours, s)
		cli.Signal(syscall.SIGTERM)
		cli.Wait(ctx)
		waitIdle()
		cancel()
	}
	b.StopTimer()
	stat := func(ss []sample) (med, lo, hi time.Duration, rss int) {
		ts := make([]time.Duration, len(ss))
		rs := make([]int, len(ss))
		for i, s := range ss {
			ts[i], rs[i] = s.took, s.rss
		}
		slices.Sort(ts)
		slices.Sort(rs)
		return ts[len(ts)/2], ts[0], ts[len(ts)-1], rs[len(rs)/2]
	}
	pm, plo, phi, prss := stat(pppd)
	om, olo, ohi, orss := stat(ours)
	var t strings.Builder
	fmt.Fprintf(&t, "connect time and memory, %d runs each, taking turns, against one %s (%s):\n", b.N, ac, kernel())
	fmt.Fprintf(&t, "  %-22s %10s %10s %10s %12s\n", "", "median", "min", "max", "RSS median")
	fmt.Fprintf(&t, "  %-22s %8dms %8dms %8dms %9d KiB\n", "pppd 2.4.9 + rp-pppoe", pm.Milliseconds(), plo.Milliseconds(), phi.Milliseconds(), prss)
	fmt.Fprintf(&t, "  %-22s %8dms %8dms %8dms %9d KiB\n", "pppoed", om.Milliseconds(), olo.Milliseconds(), ohi.Milliseconds(), orss)
	fmt.Fprintf(&t, "  %-22s %10.2f %10s %10s %12.2f\n", "pppoed / pppd", float64(om)/float64(pm), "", "", float64(orss)/float64(max(prss, 1)))
	if b.N > 1 { // not testing's one-iteration probe run
		fmt.Print("\n" + t.String() + "\n")
	}
	b.ReportMetric(float64(pm.Milliseconds()), "pppd-ms")
	b.ReportMetric(float64(om.Milliseconds()), "pppoed-ms")
	b.ReportMetric(float64(om)/float64(pm), "time-ratio")
	b.ReportMetric(float64(prss), "pppd-KiB")
	b.ReportMetric(float64(orss), "pppoed-KiB")
	if os.Getenv("PPPOED_BENCH_OUT") != "" {
		os.WriteFile(os.Getenv("PPPOED_BENCH_OUT"), []byte(t.String()), 0o644)
	}
}

func kernel() string {
	b, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return "Linux " + strings.TrimSpace(string(b))
}

// vmRSSKiB reads a process's resident set size from /proc/PID/status.
func vmRSSKiB(pid int) (int, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "VmRSS:"); ok {
			return strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
		}
	}
	return 0, fmt.Errorf("no VmRSS for pid %d", pid)
}
