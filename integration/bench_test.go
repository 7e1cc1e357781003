package integration

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/pppoed/pppoed/integration/lab"
)

// BenchmarkConnect compares pppoed's client with pppd 2.4.9 +
// rp-pppoe.so, in the same VM run: they take turns, b.N times each,
// against Debian's pppoe-server, a fast scripted AC (goAC, whose LCP
// Configure-Request follows its PADS at once) and pppoed's own server.
// Each connect is timed from exec to pppN up with its IPv4 address and
// peer (a netlink event), with the first PADI and the AC's PADS taken
// from the wire on the AC's side, and the process's memory read once up.
// "startup" times exec → first PADI alone, with no AC answering; "memory"
// reads each client's memory at IPv4 up and once settled (benchMemory); "cpu"
// reads each client's CPU time during an iperf3 transfer across a session
// with pppoed's server (PPPOED_BENCH_IPERF seconds, default 30, 0 skips
// it). The clients are started directly in their namespace, not through
// `ip netns exec`, and pppoed from a copy on the VM's tmpfs, as pppd comes
// from the page-cached host root (lab.StagePppoed says why). Nothing is
// asserted: the numbers are printed as one table with pppoed/pppd ratios
// (also written to PPPOED_BENCH_OUT when set), and reported as metrics.
// PPPOED_BENCH_BINS=NAME=PATH,... adds more pppoed binaries to "startup"
// (other builds, compared in the same run).
//
//	make bench BENCH=Connect BENCHTIME=10x
//	make bench BENCH=Connect/startup BENCHTIME=20x
func BenchmarkConnect(b *testing.B) {
	lab.Require(b)
	shared, err := lab.PppoedBinary()
	if err != nil {
		b.Fatal(err)
	}
	staged, err := lab.StagePppoed(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Setenv(lab.PppoedEnv, staged)
	results = benchResults{binary: describeBinary(staged)}
	// testing runs each sub-benchmark with b.N=1 first: no table for that.
	measured := false
	b.Run("startup", func(b *testing.B) {
		p := newBenchPair(b)
		benchStartup(b, p, shared)
		measured = measured || b.N > 1
	})
	b.Run("pppoe-server", func(b *testing.B) {
		p := newBenchPair(b)
		benchConnect(b, p, startBenchPPPoEServer(b, p))
		measured = measured || b.N > 1
	})
	b.Run("memory", func(b *testing.B) {
		p := newBenchPair(b)
		benchMemory(b, p, startBenchPPPoEServer(b, p))
		measured = measured || b.N > 1
	})
	b.Run("go-ac", func(b *testing.B) {
		p := newBenchPair(b)
		benchConnect(b, p, startBenchGoAC(b, p))
		measured = measured || b.N > 1
	})
	b.Run("pppoed-server", func(b *testing.B) {
		p := newBenchPair(b)
		ac := startBenchPppoedServer(b, p)
		benchConnect(b, p, ac)
		if secs := iperfSeconds(); b.N > 1 && secs > 0 {
			benchCPU(b, p, ac, netip.MustParseAddr("10.77.0.1"), secs)
		}
		measured = measured || b.N > 1
	})
	if measured {
		t := table()
		fmt.Print("\n" + t + "\n")
		if out := os.Getenv("PPPOED_BENCH_OUT"); out != "" {
			os.WriteFile(out, []byte(t), 0o644)
		}
	}
}

func newBenchPair(b *testing.B) *lab.Pair {
	p, err := lab.NewPair(b, lab.PairConfig{})
	if err != nil {
		b.Fatal(err)
	}
	return p
}

// startBenchPPPoEServer starts Debian's pppoe-server on p.
func startBenchPPPoEServer(b *testing.B, p *lab.Pair) benchAC {
	srv, err := lab.StartPPPoEServer(b, p.AC, lab.ServerConfig{Interface: p.ACIf, PoolSize: 64,
		Secrets: []lab.Secret{{User: "bench", Password: "bench"}}})
	if err != nil {
		b.Fatal(err)
	}
	return benchAC{name: "pppoe-server", user: "bench", password: "bench", log: srv.Log, idle: func() (bool, error) {
		s, err := srv.Sessions()
		return len(s) == 0, err
	}}
}

// startBenchPppoedServer starts pppoed's own AC on p.
func startBenchPppoedServer(b *testing.B, p *lab.Pair) benchAC {
	srv, err := lab.StartPppoedServer(b, p.AC, lab.ACConfig{
		Interfaces: []lab.ACInterface{{Name: p.ACIf}},
		Pools:      []lab.ACPool{{Name: "bench", Ranges: []string{"10.77.0.2-10.77.0.200"}}},
		Profiles:   []lab.ACProfile{{Name: "default", LocalAddress: "10.77.0.1", RemotePool: "bench"}},
		Users:      []lab.ACUser{{Name: "bench", Password: "bench"}},
	})
	if err != nil {
		b.Fatal(err)
	}
	return benchAC{name: "pppoed server", user: "bench", password: "bench", log: srv.Log, idle: func() (bool, error) {
		st, err := srv.Status(context.Background())
		return len(st.Sessions) == 0, err
	}}
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
