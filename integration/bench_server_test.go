package integration

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
	"github.com/pppoed/pppoed/integration/loadgen"
)

// The access concentrator benchmarks (issue #10, point 6). The clients are
// emulated by loadgen, over one packet socket in the client namespace
// (discovery and the ppp engine's client role per client, no pppd, no
// kernel session), so that the AC is what is measured, not N pppd
// processes starting under TCG. Every AC in acKinds runs the same load;
// one more AC is one more entry.

const (
	benchUser     = "bench"
	benchPassword = "bench"
)

// acUnderTest is an access concentrator the benchmarks measure.
type acUnderTest interface {
	// start starts the AC on p's AC side (p.ACIf) for at least n
	// concurrent sessions of benchUser, with CHAP, and returns once it
	// answers PADIs. What it starts ends with s. errACNotReady skips.
	start(s lab.Scope, p *lab.Pair, n int) error
	// pids are the AC's processes now: one for pppoed server, more per
	// session for an AC that forks.
	pids() ([]int, error)
	// log is the AC's log, for a failed run.
	log() string
}

// errACNotReady is start's way of saying that this AC cannot run yet.
var errACNotReady = errors.New("not ready")

type acKind struct {
	name string
	new  func() acUnderTest
	// maxSessions: BenchmarkACMaxSessions ramps it up. Not
	// pppoe-server: at about 7.8 MB a session, the VM's memory is its
	// limit long before the AC's design is.
	maxSessions bool
}

// acKinds are the ACs measured, the reference first: ratios are against
// it.
var acKinds = []acKind{
	{name: "pppoe-server", new: func() acUnderTest { return &pppoeServerAC{} }},
	{name: "pppoed-server", new: func() acUnderTest { return &pppoedServerAC{} }, maxSessions: true},
}

// pppoeServerAC is Debian's pppoe-server: a pppd (and a relay process)
// forked per session.
type pppoeServerAC struct {
	ns  *lab.Netns
	srv *lab.PPPoEServer
}

func (a *pppoeServerAC) start(s lab.Scope, p *lab.Pair, n int) error {
	// pppoe-server opens a session (and takes an address) for every
	// PADR, a retransmitted one too, and refuses PADRs (AC-System-Error)
	// past -N: room for the clients' extra sessions, which they end.
	srv, err := lab.StartPPPoEServer(s, p.AC, lab.ServerConfig{Interface: p.ACIf, PoolSize: 2 * n,
		Secrets: []lab.Secret{{User: benchUser, Password: benchPassword}}})
	if err != nil {
		return err
	}
	a.ns, a.srv = p.AC, srv
	return nil
}

func (a *pppoeServerAC) pids() ([]int, error) { return a.ns.Pids() }
func (a *pppoeServerAC) log() string          { return a.srv.Log() }

// pppoedServerAC is `pppoed server`: one process for every session.
type pppoedServerAC struct {
	ns  *lab.Netns
	srv *lab.PppoedServer
}

// start runs pppoed server with its defaults but for what the load
// needs: CHAP, the bench user, a /16 pool (65534 addresses), no --debug
// (N sessions' packet dumps would be measured too). Its PADI rate limit
// stays at its default (200 a second, bursts of 400), which N = 200
// started together does not reach.
func (a *pppoedServerAC) start(s lab.Scope, p *lab.Pair, n int) error {
	if n > 65534 {
		return fmt.Errorf("pppoed server in the AC benchmarks: %d sessions do not fit its /16 pool", n)
	}
	srv, err := lab.StartPppoedServer(s, p.AC, lab.ACConfig{
		ACName:     "bench-ac",
		Auth:       []string{"chap"},
		Interfaces: []lab.ACInterface{{Name: p.ACIf}},
		Pools:      []lab.ACPool{{Name: "bench", Ranges: []string{"10.64.0.0/16"}}},
		Profiles:   []lab.ACProfile{{Name: "default", LocalAddress: "10.63.0.1", RemotePool: "bench"}},
		Users:      []lab.ACUser{{Name: benchUser, Password: benchPassword}},
	})
	if err != nil {
		return err
	}
	a.ns, a.srv = p.AC, srv
	return nil
}

// pids: only the server runs in the AC's namespace.
func (a *pppoedServerAC) pids() ([]int, error) { return a.ns.Pids() }
func (a *pppoedServerAC) log() string          { return a.srv.Log() }

// acRun is one measurement: n clients started together against an AC.
type acRun struct {
	ac  string
	n   int
	res *loadgen.Result // at all up (or the wait's end); Dropped from Stop
	// The AC's processes and their memory before the load and once
	// every client is up or failed. RSS counts shared pages once per
	// process (the sum overstates a forking AC); PSS shares them out.
	procsBefore, procsUp int
	rssBefore, rssUp     int // KiB
	pssBefore, pssUp     int // KiB
	// The benchmark's own RSS (the generator's, mostly) before and at
	// the same moment: what an emulated client costs.
	genBefore, genUp int // KiB
	waitErr          error
}

func (r acRun) perSession(before, up int) float64 {
	if r.res == nil || r.res.Up == 0 {
		return 0
	}
	return float64(up-before) / float64(r.res.Up)
}

func (r acRun) rssPerSession() float64 { return r.perSession(r.rssBefore, r.rssUp) }
func (r acRun) pssPerSession() float64 { return r.perSession(r.pssBefore, r.pssUp) }

func (r acRun) String() string {
	return fmt.Sprintf("%s N=%d: %v; AC memory +%d KiB RSS = %.0f KiB/session (PSS %.0f KiB/session), processes %d -> %d; median phases: %s; load generator +%.1f KiB/client",
		r.ac, r.n, r.res, r.rssUp-r.rssBefore, r.rssPerSession(), r.pssPerSession(), r.procsBefore, r.procsUp, phases(r.res),
		float64(r.genUp-r.genBefore)/float64(r.n))
}

// phases are the median times of the clients that came up: first PADI
// to PADS (discovery), PADS to LCP up, LCP up to IPv4 up
// (authentication and IPCP). They say where an AC spends the set-up.
func phases(r *loadgen.Result) string {
	var disc, lcp, ncp []time.Duration
	for _, c := range r.Clients {
		if c.Up.IsZero() {
			continue
		}
		disc = append(disc, c.PADS.Sub(c.FirstPADI))
		lcp = append(lcp, c.LinkUp.Sub(c.PADS))
		ncp = append(ncp, c.Up.Sub(c.LinkUp))
	}
	med := func(ds []time.Duration) time.Duration {
		if len(ds) == 0 {
			return 0
		}
		slices.Sort(ds)
		return ds[len(ds)/2].Round(time.Millisecond)
	}
	return fmt.Sprintf("discovery %v, LCP %v, auth+IPCP %v", med(disc), med(lcp), med(ncp))
}

// acMemory sums the resident and proportional set sizes of pids, and
// their open files; a process gone meanwhile counts nothing.
func acMemory(pids []int) (procs, rss, pss, fds int) {
	for _, pid := range pids {
		st, err := lab.ReadProcStats(pid)
		if err != nil {
			continue
		}
		procs++
		rss += st.RSSKiB
		pss += pssKiB(pid)
		fds += st.FDs
	}
	return procs, rss, pss, fds
}

// openFilesLimit is the first of pids' RLIMIT_NOFILE, soft and hard, as
// /proc/PID/limits gives it.
func openFilesLimit(pids []int) string {
	for _, pid := range pids {
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/limits", pid))
		if err != nil {
			continue
		}
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "Max open files"); ok {
				if f := strings.Fields(v); len(f) >= 2 {
					return f[0] + "/" + f[1]
				}
			}
		}
	}
	return "unknown"
}

// pssKiB reads a process's proportional set size (/proc/PID/smaps_rollup),
// 0 when it cannot.
func pssKiB(pid int) int {
	f, err := os.Open(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "Pss:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}

// clientTimers are the clients' timers in the benchmarks: pppd's, so
// that a client gives up where a pppd would (three PADIs, 5 s doubling;
// the same for PADRs; ten LCP Configure-Requests 3 s apart; 30 s of
// authentication). An AC that cannot set a session up in that time fails
// it, as it would fail a pppd.
var clientTimers = loadgen.Timers{}

// setupTimeout bounds the wait for the clients. With clientTimers each
// one settles within about 3 minutes (35 s of PADIs, 35 s of PADRs, 30 s
// each of LCP, authentication and IPCP, and an LCP Terminate), and
// within a few minutes more when the VM is starved (pppoe-server's 200
// pppd forks under TCG on a busy host delayed some clients' timers by
// over a minute). The clients still in set-up then are reported as
// pending: the AC's failure, not the benchmark's.
const setupTimeout = 5 * time.Minute

// measureAC starts kind's AC in a new pair, runs n clients against it
// with pace's Concurrency and Rate, and measures. It ends everything it
// started before returning (b only logs): the generator with Stop (LCP
// Terminate-Request and PADT to every session), the AC and the
// namespaces with their Teardown.
func measureAC(b *testing.B, kind acKind, n int, pace loadgen.Config) (acRun, error) {
	td := &lab.Teardown{Log: b.Logf}
	defer td.Close()
	run := acRun{ac: kind.name, n: n}
	p, err := lab.NewPair(td, lab.PairConfig{})
	if err != nil {
		return run, err
	}
	ac := kind.new()
	if err := ac.start(td, p, n); err != nil {
		return run, err
	}
	pids, err := ac.pids()
	if err != nil {
		return run, err
	}
	run.procsBefore, run.rssBefore, run.pssBefore, _ = acMemory(pids)
	cfg := pace
	cfg.Interface, cfg.N, cfg.User, cfg.Password = p.ClientIf, n, benchUser, benchPassword
	cfg.Timers = clientTimers
	run.genBefore, _ = vmRSSKiB(os.Getpid())
	var g *loadgen.Generator
	err = p.Client.Do(func() error {
		var err error
		g, err = loadgen.Start(cfg)
		return err
	})
	if err != nil {
		return run, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
	defer cancel()
	run.res, run.waitErr = g.Wait(ctx)
	if pids, err = ac.pids(); err != nil {
		g.Stop()
		return run, err
	}
	run.procsUp, run.rssUp, run.pssUp, _ = acMemory(pids)
	run.genUp, _ = vmRSSKiB(os.Getpid())
	final, err := g.Stop()
	run.res.Dropped = final.Dropped
	if err != nil {
		return run, err
	}
	if run.waitErr != nil || run.res.Failed > 0 {
		var some []string
		for _, c := range run.res.Clients {
			if !c.Settled() || c.Failure != "" {
				some = append(some, fmt.Sprintf("%+v", c))
			}
			if len(some) == 3 {
				break
			}
		}
		b.Logf("%s N=%d: %v; failures: %v; socket drops %d, queue drops %d, stray %d; clients:\n%s\nAC log (end):\n%s",
			kind.name, n, run.waitErr, run.res.Failures, final.SocketDrops, final.QueueDrops, final.StrayFrames,
			strings.Join(some, "\n"), acLogTail(ac.log(), 60))
	}
	return run, nil
}

func acLogTail(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return strings.Join(ls[max(0, len(ls)-n):], "\n")
}

// acRuns keeps each sub-benchmark's measurement: testing calls a
// benchmark once with b.N = 1 and again with b.N = -benchtime, and one
// set-up of hundreds of sessions under TCG is a minute, so the later
// calls report the first call's figures instead of measuring again.
var acRuns = struct {
	sync.Mutex
	m map[string]acRun
}{m: map[string]acRun{}}

// benchACNs are the client counts of BenchmarkACSetup
// (PPPOED_BENCH_AC_N=50,200 by default).
func benchACNs(b *testing.B) []int {
	s := os.Getenv("PPPOED_BENCH_AC_N")
	if s == "" {
		return []int{50, 200}
	}
	var ns []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			b.Fatalf("PPPOED_BENCH_AC_N=%q: want client counts separated by commas", s)
		}
		ns = append(ns, n)
	}
	return ns
}

// benchACConcurrency bounds the clients in set-up at once in
// BenchmarkACSetup: PPPOED_BENCH_AC_CONCURRENCY, default 0, all N
// started together.
func benchACConcurrency(b *testing.B) int {
	s := os.Getenv("PPPOED_BENCH_AC_CONCURRENCY")
	if s == "" {
		return 0
	}
	c, err := strconv.Atoi(s)
	if err != nil || c < 0 {
		b.Fatalf("PPPOED_BENCH_AC_CONCURRENCY=%q: want a count, 0 for all at once", s)
	}
	return c
}

// BenchmarkACSetup measures each AC of acKinds with N clients started
// together, all at once: the set-up time from the first PADI to the
// last client's IPv4 up, the rate, the failures, and the AC's memory per
// session (its processes' RSS once all N are up, less before, over N;
// PSS too). Nothing is asserted; a table compares the ACs at each N.
//
//	make bench
//	PPPOED_BENCH_AC_N=50 bin/vmrun ... -test.bench BenchmarkACSetup -test.benchtime 1x
func BenchmarkACSetup(b *testing.B) {
	ns := benchACNs(b)
	for _, n := range ns {
		for _, kind := range acKinds {
			b.Run(fmt.Sprintf("%s/N=%d", kind.name, n), func(b *testing.B) {
				lab.Require(b)
				acRuns.Lock()
				run, ok := acRuns.m[b.Name()]
				acRuns.Unlock()
				if !ok {
					var err error
					run, err = measureAC(b, kind, n, loadgen.Config{Concurrency: benchACConcurrency(b)})
					if errors.Is(err, errACNotReady) {
						b.Skip(err)
					}
					if err != nil {
						b.Fatal(err)
					}
					acRuns.Lock()
					acRuns.m[b.Name()] = run
					acRuns.Unlock()
					lab.Report(b, "%v", run)
				}
				r := run.res
				b.ReportMetric(r.SetupTime().Seconds(), "setup-s")
				b.ReportMetric(r.Rate(), "sessions/s")
				b.ReportMetric(float64(r.Failed), "failed")
				b.ReportMetric(float64(r.Pending), "pending")
				b.ReportMetric(run.rssPerSession(), "RSS-KiB/session")
				b.ReportMetric(run.pssPerSession(), "PSS-KiB/session")
			})
		}
	}
	printACTable(b.Name(), ns, benchACConcurrency(b))
}

// printACTable prints the measurements of BenchmarkACSetup, each AC
// against the first of acKinds at the same N.
func printACTable(bench string, ns []int, concurrency int) {
	acRuns.Lock()
	defer acRuns.Unlock()
	var t strings.Builder
	pace := "started together"
	if concurrency > 0 {
		pace = fmt.Sprintf("at most %d in set-up at once", concurrency)
	}
	fmt.Fprintf(&t, "AC set-up: N clients (loadgen, one packet socket), %s (%s):\n", pace, kernel())
	fmt.Fprintf(&t, "  %-14s %9s %9s %10s %7s %8s %8s %13s %13s %6s\n", "AC", "up/N", "all up", "rate", "failed", "pending", "dropped", "RSS/session", "PSS/session", "procs")
	rows := 0
	for _, n := range ns {
		var ref *acRun
		for _, kind := range acKinds {
			run, ok := acRuns.m[fmt.Sprintf("%s/%s/N=%d", bench, kind.name, n)]
			if !ok {
				continue
			}
			rows++
			r := run.res
			// Memory per session means something only with all N up:
			// the processes of failed sessions may still be there.
			mem := func(v float64) string {
				if r.Up < n {
					return "-"
				}
				return fmt.Sprintf("%.0f KiB", v)
			}
			fmt.Fprintf(&t, "  %-14s %9s %8.2fs %8.1f/s %7d %8d %8d %13s %13s %6d\n", run.ac, fmt.Sprintf("%d/%d", r.Up, n), r.SetupTime().Seconds(), r.Rate(),
				r.Failed, r.Pending, r.Dropped, mem(run.rssPerSession()), mem(run.pssPerSession()), run.procsUp)
			if ref == nil {
				ref = &run
				continue
			}
			// A ratio needs both ACs' N sessions up.
			ratio := func(a, b float64) string {
				if b == 0 || r.Up < n || ref.res.Up < n {
					return "-"
				}
				return fmt.Sprintf("%.3f", a/b)
			}
			fmt.Fprintf(&t, "  %-20s time %s, rate %s, RSS/session %s, PSS/session %s\n", run.ac+" / "+ref.ac,
				ratio(r.SetupTime().Seconds(), ref.res.SetupTime().Seconds()), ratio(r.Rate(), ref.res.Rate()),
				ratio(run.rssPerSession(), ref.rssPerSession()), ratio(run.pssPerSession(), ref.pssPerSession()))
		}
	}
	if rows > 0 {
		fmt.Print("\n" + t.String() + "\n")
	}
}

// envInt reads a positive count from the environment, def when unset.
func envInt(b *testing.B, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		b.Fatalf("%s=%q: want a positive count", name, v)
	}
	return n
}

// rampKinds are the ACs BenchmarkACMaxSessions ramps: those marked
// maxSessions, or the ones PPPOED_BENCH_AC_RAMP names (comma-separated;
// pppoe-server with a small PPPOED_BENCH_AC_STEP tries the ramp out).
func rampKinds() []acKind {
	names := os.Getenv("PPPOED_BENCH_AC_RAMP")
	var out []acKind
	for _, k := range acKinds {
		if names == "" && k.maxSessions || slices.Contains(strings.Split(names, ","), k.name) {
			out = append(out, k)
		}
	}
	return out
}

// BenchmarkACMaxSessions ramps an AC up: one AC, and a step of
// PPPOED_BENCH_AC_STEP (1000) more clients at a time, each step its own
// generator while the earlier ones keep their sessions up, until a step
// does not get all its clients up, an earlier session drops, or
// PPPOED_BENCH_AC_MAX (4000) sessions are up. It reports the most
// sessions held, what stopped the next step (the clients' failures, the
// AC's exit, the socket's drops) and the AC's RSS per session there. The
// clients are paced (at most 64 in set-up at once) so that the limit is
// the AC's sessions, not a burst of discovery: an AC that sets sessions up
// one after the other leaves the PADIs behind a long queue of PADRs
// waiting past the clients' three PADIs (35 s).
func BenchmarkACMaxSessions(b *testing.B) {
	for _, kind := range rampKinds() {
		b.Run(kind.name, func(b *testing.B) {
			lab.Require(b)
			acRuns.Lock()
			best, ok := acRuns.m[b.Name()]
			acRuns.Unlock()
			if !ok {
				var err error
				best, err = rampAC(b, kind, envInt(b, "PPPOED_BENCH_AC_STEP", 1000), envInt(b, "PPPOED_BENCH_AC_MAX", 4000))
				if errors.Is(err, errACNotReady) {
					b.Skip(err)
				}
				if err != nil {
					b.Fatal(err)
				}
				acRuns.Lock()
				acRuns.m[b.Name()] = best
				acRuns.Unlock()
			}
			b.ReportMetric(float64(best.n), "sessions")
			b.ReportMetric(best.rssPerSession(), "RSS-KiB/session")
			b.ReportMetric(best.pssPerSession(), "PSS-KiB/session")
		})
	}
}

// rampAC runs BenchmarkACMaxSessions' ramp and returns the largest step
// with every session up.
func rampAC(b *testing.B, kind acKind, step, most int) (acRun, error) {
	td := &lab.Teardown{Log: b.Logf}
	defer td.Close()
	best := acRun{ac: kind.name}
	p, err := lab.NewPair(td, lab.PairConfig{})
	if err != nil {
		return best, err
	}
	ac := kind.new()
	if err := ac.start(td, p, most); err != nil {
		return best, err
	}
	pids, err := ac.pids()
	if err != nil {
		return best, err
	}
	_, rss0, pss0, _ := acMemory(pids)
	var gens []*loadgen.Generator
	defer func() {
		for _, g := range slices.Backward(gens) {
			g.Stop()
		}
	}()
	limit := fmt.Sprintf("none up to %d", most)
	for k := 0; (k+1)*step <= most; k++ {
		n := (k + 1) * step
		cfg := loadgen.Config{Interface: p.ClientIf, N: step, User: benchUser, Password: benchPassword, Concurrency: 64,
			// A step's own MACs: 02:70:6c:STEP:00:00 on.
			MACBase: []byte{0x02, 0x70, 0x6c, byte(k + 1), 0, 0}}
		cfg.Timers = clientTimers
		var g *loadgen.Generator
		err := p.Client.Do(func() error {
			var err error
			g, err = loadgen.Start(cfg)
			return err
		})
		if err != nil {
			return best, err
		}
		gens = append(gens, g)
		ctx, cancel := context.WithTimeout(context.Background(), setupTimeout)
		r, werr := g.Wait(ctx)
		cancel()
		dropped := 0
		for _, eg := range gens[:len(gens)-1] {
			dropped += eg.Result().Dropped
		}
		pids, err := ac.pids()
		if err != nil {
			limit = fmt.Sprintf("at %d: the AC's processes: %v", n, err)
			break
		}
		procs, rss, pss, fds := acMemory(pids)
		if procs == 0 {
			limit = fmt.Sprintf("at %d: the AC is gone\n%s", n, acLogTail(ac.log(), 40))
			break
		}
		run := acRun{ac: kind.name, n: n, res: r, procsUp: procs, rssBefore: rss0, rssUp: rss, pssBefore: pss0, pssUp: pss}
		// Per session of all the steps: res.Up is this step's.
		run.res = &loadgen.Result{Up: n}
		lab.Report(b, "%s: %d sessions up (this step: %v); AC RSS +%d KiB = %.1f KiB/session (PSS %.1f), %d processes, %d open files",
			kind.name, n, r, rss-rss0, run.rssPerSession(), run.pssPerSession(), procs, fds)
		if r.Up < step || dropped > 0 || werr != nil {
			final, _ := g.Stop() // the socket's drops are read at Stop
			limit = fmt.Sprintf("at %d: this step %d/%d up, failures %v, %d earlier sessions dropped, socket drops %d, wait: %v; the AC has %d open files (limit %s)",
				n, r.Up, step, r.Failures, dropped, final.SocketDrops, werr, fds, openFilesLimit(pids))
			b.Logf("%s at %d sessions: AC log (end):\n%s", kind.name, n, acLogTail(ac.log(), 30))
			break
		}
		best = run
	}
	if best.res == nil {
		// Not one full step: a measurement too, of fewer sessions.
		lab.Report(b, "%s holds fewer than %d sessions; limit hit: %s", kind.name, step, limit)
		return acRun{ac: kind.name, res: &loadgen.Result{}}, nil
	}
	lab.Report(b, "%s holds %d sessions at %.1f KiB RSS/session (PSS %.1f); limit hit: %s",
		kind.name, best.n, best.rssPerSession(), best.pssPerSession(), limit)
	return best, nil
}
