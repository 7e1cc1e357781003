package integration

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
)

// BenchmarkReferenceConnect measures the reference client, pppd with
// rp-pppoe.so, against the reference AC: from process start to pppN up with
// its IPv4 address, and pppd's resident memory once connected. These are the
// figures pppoed's own client is compared with in the same VM run.
//
//	make bench
func BenchmarkReferenceConnect(b *testing.B) {
	lab.Require(b)
	p, err := lab.NewPair(b, lab.PairConfig{})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := lab.StartPPPoEServer(b, p.AC, lab.ServerConfig{Interface: p.ACIf, PoolSize: 32,
		Secrets: []lab.Secret{{User: "bench", Password: "bench"}}})
	if err != nil {
		b.Fatal(err)
	}
	var times []time.Duration
	var rss []int
	b.ResetTimer()
	for range b.N {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		start := time.Now()
		cli, err := lab.StartPPPD(b, p.Client, lab.PPPDConfig{Interface: p.ClientIf, User: "bench", Password: "bench", Options: []string{"noipv6"}})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := cli.WaitUp(ctx); err != nil {
			b.Fatalf("%v\n%s", err, srv.Log())
		}
		times = append(times, time.Since(start))
		b.StopTimer()
		if kb, err := vmRSSKiB(cli.Pid()); err == nil {
			rss = append(rss, kb)
		}
		_ = cli.Stop(5 * time.Second)
		cancel()
		b.StartTimer()
	}
	b.ReportMetric(float64(median(times).Milliseconds()), "ms-median/connect")
	b.ReportMetric(float64(medianInt(rss)), "KiB-rss")
	b.Logf("pppd connect times %v, RSS %v KiB", times, rss)
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

func median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianInt(ns []int) int {
	if len(ns) == 0 {
		return 0
	}
	s := slices.Clone(ns)
	slices.Sort(s)
	return s[len(s)/2]
}
