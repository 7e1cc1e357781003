package integration

import (
	"context"
	"debug/buildinfo"
	"fmt"
	"math"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
)

// What BenchmarkConnect measures of one client's connect, and the table it
// prints. Times come from the wire and from netlink events, not from
// polling: exec is the time taken just before the client's fork and exec
// (lab.StartDirect), PADI and PADS are the kernel's timestamps on the
// AC's side of the veth (lab.DiscoveryTap), up is the netlink event that
// left pppN up with its IPv4 address and peer (lab.WatchIPv4Up).

// connectRun is one connect of one client.
type connectRun struct {
	connect time.Duration // exec → IPv4 up
	padi    time.Duration // exec → first PADI on the wire
	padsUp  time.Duration // the AC's PADS → IPv4 up
	mem     lab.Memory    // once up
}

// benchClient starts one of the two clients under comparison.
type benchClient struct {
	name string
	// start runs the client in ns on iface and returns it, its exec time,
	// and a wait for its own "up" (pppoed: routes and DNS configured too).
	start func(b *testing.B, ns *lab.Netns, iface, user, password string) (*lab.Process, time.Time, func(context.Context) error, error)
}

var (
	clientPPPD = benchClient{"pppd", func(b *testing.B, ns *lab.Netns, iface, user, password string) (*lab.Process, time.Time, func(context.Context) error, error) {
		c, at, err := lab.StartPPPDDirect(b, ns, lab.PPPDConfig{Interface: iface, User: user, Password: password})
		if err != nil {
			return nil, at, nil, err
		}
		return c.Process, at, func(ctx context.Context) error { _, err := c.WaitUp(ctx); return err }, nil
	}}
	clientPppoed = benchClient{"pppoed", func(b *testing.B, ns *lab.Netns, iface, user, password string) (*lab.Process, time.Time, func(context.Context) error, error) {
		c, at, err := lab.StartPppoedDirect(b, ns, "ppp0", lab.ClientArgs(b, iface, user, password)...)
		if err != nil {
			return nil, at, nil, err
		}
		return c.Process, at, func(ctx context.Context) error { _, err := c.WaitUp(ctx); return err }, nil
	}}
)

// benchAC is the access concentrator of one sub-benchmark.
type benchAC struct {
	name           string
	user, password string
	log            func() string
	idle           func() (bool, error) // no session left
	renew          func()               // if set, called before each connect
}

// connectOnce runs one connect of cl against the AC on p and stops it.
func connectOnce(b *testing.B, p *lab.Pair, tap *lab.DiscoveryTap, ac benchAC, cl benchClient) connectRun {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if ac.renew != nil {
		ac.renew()
	}
	up, err := p.Client.WatchIPv4Up(b, "")
	if err != nil {
		b.Fatal(err)
	}
	defer up.Close()
	proc, exec, waitUp, err := cl.start(b, p.Client, p.ClientIf, ac.user, ac.password)
	if err != nil {
		b.Fatal(err)
	}
	fail := func(err error) {
		b.Helper()
		b.Fatalf("%s against %s: %v\n%s\nAC:\n%s", cl.name, ac.name, err, proc.Log(), ac.log())
	}
	upAt, err := up.Wait(ctx)
	if err != nil {
		fail(err)
	}
	if err := waitUp(ctx); err != nil {
		fail(err)
	}
	padi, err := tap.Wait(ctx, lab.CodePADI, exec)
	if err != nil {
		fail(err)
	}
	pads, err := tap.Wait(ctx, lab.CodePADS, exec)
	if err != nil {
		fail(err)
	}
	r := connectRun{connect: upAt.Sub(exec), padi: padi.At.Sub(exec), padsUp: upAt.Sub(pads.At)}
	if r.mem, err = lab.ProcessMemory(proc.Pid()); err != nil {
		fail(err)
	}
	stopClient(b, p, proc, ac)
	return r
}

// stopClient ends a client with SIGTERM (a clean hang-up: the AC gets
// its LCP Terminate-Request and PADT) and waits until neither end has
// the session.
func stopClient(b *testing.B, p *lab.Pair, proc *lab.Process, ac benchAC) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	proc.Signal(syscall.SIGTERM)
	if err := proc.Wait(ctx); err != nil {
		proc.Kill()
	}
	if err := p.Client.WaitNoPPP(ctx); err != nil {
		b.Fatal(err)
	}
	if err := lab.Poll(ctx, 20*time.Millisecond, ac.idle); err != nil {
		b.Fatalf("%s kept the session: %v\n%s", ac.name, err, ac.log())
	}
}

// benchConnect has pppd and pppoed take turns against ac, b.N times each
// (the first of each pair alternating, so that neither always comes
// after the other's teardown), and records the runs under ac's name.
func benchConnect(b *testing.B, p *lab.Pair, ac benchAC) {
	tap, err := p.AC.TapDiscovery(b, p.ACIf)
	if err != nil {
		b.Fatal(err)
	}
	clients := []benchClient{clientPPPD, clientPppoed}
	runs := make([][]connectRun, len(clients))
	b.ResetTimer()
	for i := range b.N {
		for j := range clients {
			k := (i + j) % len(clients)
			runs[k] = append(runs[k], connectOnce(b, p, tap, ac, clients[k]))
		}
	}
	b.StopTimer()
	results.setConnect(ac.name, runs[0], runs[1])
	med := func(rs []connectRun) float64 {
		return float64(median(durations(rs, func(r connectRun) time.Duration { return r.connect })).Milliseconds())
	}
	b.ReportMetric(med(runs[0]), "pppd-ms")
	b.ReportMetric(med(runs[1]), "pppoed-ms")
	b.ReportMetric(med(runs[1])/med(runs[0]), "time-ratio")
}

// benchStartup starts each client b.N times with no AC to answer and
// times its first PADI: start-up alone, without a connect's noise. The
// pppoed on the work tree's 9p share (not page cached in the VM) shows
// what reading the binary costs; the others run from cached files.
func benchStartup(b *testing.B, p *lab.Pair, sharedBin string) {
	tap, err := p.AC.TapDiscovery(b, p.ACIf)
	if err != nil {
		b.Fatal(err)
	}
	type starter struct {
		name  string
		start func() (*lab.Process, time.Time, error)
	}
	args := func() []string {
		// One PADI is all that is timed; the rest would only wait.
		return lab.ClientArgs(b, p.ClientIf, "bench", "bench", "--padi-timeout", "30s", "--padi-attempts", "1")
	}
	starters := []starter{
		{"pppd", func() (*lab.Process, time.Time, error) {
			c, at, err := lab.StartPPPDDirect(b, p.Client, lab.PPPDConfig{Interface: p.ClientIf, User: "bench", Password: "bench"})
			if err != nil {
				return nil, at, err
			}
			return c.Process, at, nil
		}},
		{"pppoed", func() (*lab.Process, time.Time, error) {
			c, at, err := lab.StartPppoedDirect(b, p.Client, "ppp0", args()...)
			if err != nil {
				return nil, at, err
			}
			return c.Process, at, nil
		}},
		{"pppoed (9p)", func() (*lab.Process, time.Time, error) {
			proc, at, err := p.Client.StartDirect(b, "pppoed", append([]string{sharedBin}, args()...)...)
			return proc, at, err
		}},
	}
	// More pppoed binaries to compare, each staged like the one under
	// test: PPPOED_BENCH_BINS=NAME=PATH,... (e.g. a build of another
	// commit).
	for _, nb := range strings.Split(os.Getenv("PPPOED_BENCH_BINS"), ",") {
		name, path, ok := strings.Cut(nb, "=")
		if !ok {
			continue
		}
		bin, err := lab.StageBinary(path, filepath.Join(b.TempDir(), "pppoed-"+name))
		if err != nil {
			b.Fatal(err)
		}
		starters = append(starters, starter{"pppoed " + name, func() (*lab.Process, time.Time, error) {
			return p.Client.StartDirect(b, "pppoed", append([]string{bin}, args()...)...)
		}})
	}
	took := make([][]time.Duration, len(starters))
	b.ResetTimer()
	for i := range b.N {
		for j := range starters {
			k := (i + j) % len(starters)
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			proc, at, err := starters[k].start()
			if err != nil {
				b.Fatal(err)
			}
			f, err := tap.Wait(ctx, lab.CodePADI, at)
			if err != nil {
				b.Fatalf("%s: %v\n%s", starters[k].name, err, proc.Log())
			}
			took[k] = append(took[k], f.At.Sub(at))
			proc.Stop(5 * time.Second)
			cancel()
		}
	}
	b.StopTimer()
	results.mu.Lock()
	results.startup = map[string][]time.Duration{}
	results.startupOrder = nil
	for k, s := range starters {
		results.startup[s.name] = took[k]
		results.startupOrder = append(results.startupOrder, s.name)
	}
	results.mu.Unlock()
	b.ReportMetric(float64(median(took[0]).Microseconds())/1000, "pppd-ms")
	b.ReportMetric(float64(median(took[1]).Microseconds())/1000, "pppoed-ms")
}

// cpuRun is a client's CPU time during an iperf3 transfer.
type cpuRun struct {
	cpu  lab.CPUTime
	mbps float64
	mem  lab.Memory // after the transfer: up for longer than it lasted
}

// iperfSeconds is how long the transfer of the CPU measurement runs
// (PPPOED_BENCH_IPERF, default 30; 0 skips it).
func iperfSeconds() int {
	if v, err := strconv.Atoi(os.Getenv("PPPOED_BENCH_IPERF")); err == nil && v >= 0 {
		return v
	}
	return 30
}

// benchCPU connects each client to ac once more and measures the CPU time
// it uses while iperf3 sends to acAddr across the session for secs
// seconds: the kernel carries the data, so it should be near zero.
func benchCPU(b *testing.B, p *lab.Pair, ac benchAC, acAddr netip.Addr, secs int) {
	for _, cl := range []benchClient{clientPPPD, clientPppoed} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs+60)*time.Second)
		proc, _, waitUp, err := cl.start(b, p.Client, p.ClientIf, ac.user, ac.password)
		if err != nil {
			b.Fatal(err)
		}
		if err := waitUp(ctx); err != nil {
			b.Fatalf("%s: %v\n%s", cl.name, err, proc.Log())
		}
		srv := iperf3Server(b, ctx, p, acAddr)
		before, err := lab.ProcessCPU(proc.Pid())
		if err != nil {
			b.Fatal(err)
		}
		res := iperf3Client(b, ctx, p, acAddr, secs)
		after, err := lab.ProcessCPU(proc.Pid())
		if err != nil {
			b.Fatal(err)
		}
		r := cpuRun{cpu: lab.CPUTime{Ticks: after.Ticks - before.Ticks, Sched: after.Sched - before.Sched}, mbps: res.bitsPerSecond / 1e6}
		if r.mem, err = lab.ProcessMemory(proc.Pid()); err != nil {
			b.Fatal(err)
		}
		srv.Stop(2 * time.Second)
		stopClient(b, p, proc, ac)
		cancel()
		results.mu.Lock()
		if results.cpu == nil {
			results.cpu = map[string]cpuRun{}
		}
		results.cpu[cl.name] = r
		results.mu.Unlock()
	}
	results.mu.Lock()
	results.cpuAC, results.cpuSecs = ac.name, secs
	results.mu.Unlock()
}

// memSettle is how long benchMemory keeps a session up before its second
// reading: past client.SettleDelay (5 s), after which pppoed gives its
// executable's pages back (internal/procmem), with a margin.
const memSettle = 7 * time.Second

// memRounds is benchMemory's sessions per client, whatever b.N: each
// takes memSettle and more.
const memRounds = 3

// benchMemory connects each client to ac memRounds times, taking turns,
// and reads its memory at IPv4 up and again memSettle later: the first
// is the set-up's footprint, the second what a session keeps.
func benchMemory(b *testing.B, p *lab.Pair, ac benchAC) {
	if b.N == 1 {
		return // testing's probe: the table comes from the real run
	}
	var got = map[string][2][]lab.Memory{}
	for range memRounds {
		for _, cl := range []benchClient{clientPPPD, clientPppoed} {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			proc, _, waitUp, err := cl.start(b, p.Client, p.ClientIf, ac.user, ac.password)
			if err != nil {
				b.Fatal(err)
			}
			if err := waitUp(ctx); err != nil {
				b.Fatalf("%s: %v\n%s\nAC:\n%s", cl.name, err, proc.Log(), ac.log())
			}
			atUp, err := lab.ProcessMemory(proc.Pid())
			if err != nil {
				b.Fatal(err)
			}
			time.Sleep(memSettle)
			settled, err := lab.ProcessMemory(proc.Pid())
			if err != nil {
				b.Fatalf("%s: %v\n%s", cl.name, err, proc.Log())
			}
			g := got[cl.name]
			g[0], g[1] = append(g[0], atUp), append(g[1], settled)
			got[cl.name] = g
			stopClient(b, p, proc, ac)
			cancel()
		}
	}
	results.mu.Lock()
	results.memory = got
	results.mu.Unlock()
}

// results gathers the sub-benchmarks' runs for the one table; each
// sub-benchmark's last call (testing's b.N=1 probe comes first) wins.
var results benchResults

type benchResults struct {
	mu      sync.Mutex
	acs     []string // in the order run
	connect map[string][2][]connectRun
	startup map[string][]time.Duration
	// startupOrder: pppd, pppoed, pppoed (9p), then PPPOED_BENCH_BINS's
	startupOrder []string
	// memory: per client, its readings at IPv4 up and settled (benchMemory)
	memory  map[string][2][]lab.Memory
	cpu     map[string]cpuRun
	cpuAC   string
	cpuSecs int
	binary  string // how pppoed was built
}

func (r *benchResults) setConnect(ac string, pppd, pppoed []connectRun) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.connect == nil {
		r.connect = map[string][2][]connectRun{}
	}
	if _, ok := r.connect[ac]; !ok {
		r.acs = append(r.acs, ac)
	}
	r.connect[ac] = [2][]connectRun{pppd, pppoed}
}

// describeBinary says how the pppoed binary at path was linked and how
// big it is: start-up and memory depend on both.
func describeBinary(path string) string {
	st, err := os.Stat(path)
	if err != nil {
		return err.Error()
	}
	link := "?"
	if bi, err := buildinfo.ReadFile(path); err == nil {
		link = "dynamic (cgo)"
		for _, s := range bi.Settings {
			if s.Key == "CGO_ENABLED" && s.Value == "0" {
				link = "static"
			}
		}
	}
	return fmt.Sprintf("%s, %.1f MB", link, float64(st.Size())/1e6)
}

func durations(rs []connectRun, f func(connectRun) time.Duration) []time.Duration {
	out := make([]time.Duration, len(rs))
	for i, r := range rs {
		out[i] = f(r)
	}
	return out
}

// quantile is the nearest-rank q-quantile of ds (0 when empty).
func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[min(max(i, 0), len(s)-1)]
}

func median(ds []time.Duration) time.Duration { return quantile(ds, 0.5) }

func medianInt[T any](xs []T, f func(T) int) int {
	ds := make([]time.Duration, len(xs))
	for i, x := range xs {
		ds[i] = time.Duration(f(x))
	}
	return int(median(ds))
}

// table renders what the sub-benchmarks recorded: one row per figure,
// pppd's and pppoed's side by side with their ratio.
func table() string {
	results.mu.Lock()
	defer results.mu.Unlock()
	var t strings.Builder
	ms := func(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }
	ratio := func(a, b float64) string {
		if a == 0 {
			return "-"
		}
		return fmt.Sprintf("%.2f", b/a)
	}
	row := func(name, a, b, r string) { fmt.Fprintf(&t, "  %-40s %12s %12s %8s\n", name, a, b, r) }
	dur := func(name string, a, b time.Duration) { row(name, ms(a), ms(b), ratio(float64(a), float64(b))) }
	n := 0
	for _, ac := range results.acs {
		n = max(n, len(results.connect[ac][0]))
	}
	fmt.Fprintf(&t, "pppd 2.4.9 + rp-pppoe.so and pppoed's client, taking turns, %d connects each per AC\n(%s; pppoed %s, run from the guest's tmpfs):\n", n, kernel(), results.binary)
	row("", "pppd", "pppoed", "ratio")
	if s := results.startup; s != nil {
		dur(fmt.Sprintf("exec → first PADI, no AC (%d), median", len(s["pppd"])), median(s["pppd"]), median(s["pppoed"]))
		dur("  p90", quantile(s["pppd"], 0.9), quantile(s["pppoed"], 0.9))
		for _, name := range results.startupOrder[2:] {
			dur("  "+name+", median", median(s["pppd"]), median(s[name]))
		}
	}
	for _, ac := range results.acs {
		rs := results.connect[ac]
		c := func(k int) []time.Duration {
			return durations(rs[k], func(r connectRun) time.Duration { return r.connect })
		}
		dur("connect, "+ac+", median", median(c(0)), median(c(1)))
		dur("  p90", quantile(c(0), 0.9), quantile(c(1), 0.9))
		dur("  max", quantile(c(0), 1), quantile(c(1), 1))
		over := func(k int) int {
			m := 0
			for _, d := range c(k) {
				if d > time.Second {
					m++
				}
			}
			return m
		}
		row("  over 1 s", fmt.Sprintf("%d/%d", over(0), len(c(0))), fmt.Sprintf("%d/%d", over(1), len(c(1))), "")
		p := func(k int) []time.Duration {
			return durations(rs[k], func(r connectRun) time.Duration { return r.padi })
		}
		dur("  exec → first PADI, median", median(p(0)), median(p(1)))
		u := func(k int) []time.Duration {
			return durations(rs[k], func(r connectRun) time.Duration { return r.padsUp })
		}
		dur("  PADS → IPv4 up, median", median(u(0)), median(u(1)))
		dur("  PADS → IPv4 up, max", quantile(u(0), 1), quantile(u(1), 1))
	}
	// Memory: every connect's reading, against every AC.
	var all [2][]connectRun
	for _, ac := range results.acs {
		all[0] = append(all[0], results.connect[ac][0]...)
		all[1] = append(all[1], results.connect[ac][1]...)
	}
	if len(all[0]) > 0 {
		kib := func(name string, f func(connectRun) int) {
			a, b := medianInt(all[0], f), medianInt(all[1], f)
			row(name, fmt.Sprintf("%d KiB", a), fmt.Sprintf("%d KiB", b), ratio(float64(a), float64(b)))
		}
		kib(fmt.Sprintf("RSS at IPv4 up, median of %d", len(all[0])), func(r connectRun) int { return r.mem.RSS })
		kib("  anonymous, median", func(r connectRun) int { return r.mem.Anon })
		kib("  PSS, median", func(r connectRun) int { return r.mem.PSS })
	}
	if m := results.memory; m != nil {
		for i, when := range []string{"at IPv4 up", fmt.Sprintf("up %v (settled)", memSettle)} {
			a, b := m["pppd"][i], m["pppoed"][i]
			kib := func(name string, f func(lab.Memory) int) {
				x, y := medianInt(a, f), medianInt(b, f)
				row(name, fmt.Sprintf("%d KiB", x), fmt.Sprintf("%d KiB", y), ratio(float64(x), float64(y)))
			}
			kib(fmt.Sprintf("RSS %s, pppoe-server, median of %d", when, len(a)), func(x lab.Memory) int { return x.RSS })
			kib("  anonymous, median", func(x lab.Memory) int { return x.Anon })
			kib("  PSS, median", func(x lab.Memory) int { return x.PSS })
		}
	}
	if c := results.cpu; c != nil {
		a, b := c["pppd"], c["pppoed"]
		dur(fmt.Sprintf("CPU, %d s iperf3 via %s: utime+stime", results.cpuSecs, results.cpuAC), a.cpu.Ticks, b.cpu.Ticks)
		row("  on CPU (schedstat)", fmt.Sprintf("%.1f ms", float64(a.cpu.Sched.Microseconds())/1000),
			fmt.Sprintf("%.1f ms", float64(b.cpu.Sched.Microseconds())/1000), ratio(float64(a.cpu.Sched), float64(b.cpu.Sched)))
		row("  iperf3 throughput", fmt.Sprintf("%.0f Mbit/s", a.mbps), fmt.Sprintf("%.0f Mbit/s", b.mbps), ratio(a.mbps, b.mbps))
		kib := func(name string, x, y int) {
			row(name, fmt.Sprintf("%d KiB", x), fmt.Sprintf("%d KiB", y), ratio(float64(x), float64(y)))
		}
		kib("  RSS after it (one session)", a.mem.RSS, b.mem.RSS)
		kib("    anonymous", a.mem.Anon, b.mem.Anon)
		kib("    PSS", a.mem.PSS, b.mem.PSS)
	}
	return t.String()
}
