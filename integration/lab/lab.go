// Package lab builds PPPoE test networks on a real PPP kernel: network
// namespaces joined by veth pairs, the reference access concentrator
// (Debian's rp-pppoe pppoe-server, which runs pppd per session) and the
// reference client (pppd with the rp-pppoe.so plugin), with netlink readers
// for what the kernel ended up configuring.
//
// Everything a lab creates is registered with a Scope (a *testing.T, or a
// Teardown for programs such as the demo) and torn down when it ends, even
// after a failure: processes in a namespace are killed before the namespace
// is deleted.
//
// Labs write /etc/ppp (secrets, the pppoe-server plugin link), so they only
// run where that directory is private: under integration/vmrun, which sets
// PPPOED_LAB (see Require).
package lab

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pppoed/pppoed/integration/vm"
)

// Scope owns what a lab creates. *testing.T and *testing.B satisfy it.
type Scope interface {
	Helper()
	Cleanup(func())
	Logf(format string, args ...any)
	TempDir() string
}

// Teardown is a Scope for programs: Close runs the registered cleanups in
// reverse order, as testing does.
type Teardown struct {
	mu       sync.Mutex
	cleanups []func()
	dir      string
	Log      func(format string, args ...any) // nil discards
}

func (t *Teardown) Helper() {}

func (t *Teardown) Cleanup(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.cleanups = append(t.cleanups, f)
}

func (t *Teardown) Logf(format string, args ...any) {
	if t.Log != nil {
		t.Log(format, args...)
	}
}

// TempDir returns one directory per Teardown, removed by Close.
func (t *Teardown) TempDir() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dir == "" {
		d, err := os.MkdirTemp("", "pppoed-lab-")
		if err != nil {
			panic(fmt.Sprintf("lab: temp dir: %v", err))
		}
		t.dir = d
		t.cleanups = append([]func(){func() { os.RemoveAll(d) }}, t.cleanups...)
	}
	return t.dir
}

// Close runs every cleanup, last registered first.
func (t *Teardown) Close() {
	t.mu.Lock()
	cs := t.cleanups
	t.cleanups = nil
	t.mu.Unlock()
	for i := len(cs) - 1; i >= 0; i-- {
		cs[i]()
	}
}

// RequireEnv makes a skipped integration test a failure when set to 1, so
// that CI cannot pass without running them (`make test` sets it).
const RequireEnv = "PPPOED_REQUIRE_INTEGRATION"

// Unavailable says why lab tests cannot run here, or "" when they can.
func Unavailable() string {
	if os.Getenv(vm.LabEnv) == "" {
		return "needs a PPP kernel and a private /etc/ppp: run it through `make test-integration` (integration/vmrun)"
	}
	if err := vm.ProbeHostPPP(); err != nil {
		return err.Error()
	}
	return ""
}

// Require skips t with a one-line reason when lab tests cannot run here, or
// fails it when RequireEnv is 1. It also records t for Summary.
func Require(t testing.TB) {
	t.Helper()
	name := t.Name()
	if why := Unavailable(); why != "" {
		if os.Getenv(RequireEnv) == "1" {
			record(result{name, "FAIL", 0})
			t.Fatalf("integration test required (%s=1) but cannot run: %s", RequireEnv, why)
		}
		record(result{name, "SKIP", 0})
		t.Skip(why)
	}
	start := time.Now()
	// Registered first, so it runs after every other cleanup and sees the
	// final outcome.
	t.Cleanup(func() {
		outcome := "PASS"
		switch {
		case t.Failed():
			outcome = "FAIL"
		case t.Skipped():
			outcome = "SKIP"
		}
		record(result{name, outcome, time.Since(start)})
	})
}

func record(r result) {
	ran.Lock()
	defer ran.Unlock()
	ran.tests = append(ran.tests, r)
}

type result struct {
	name    string
	outcome string
	took    time.Duration
}

var ran struct {
	sync.Mutex
	tests   []result
	figures []string // Report's lines, in the order reported
}

// Report logs a measured figure (a detection time, a redial time, a
// soak's resources) to s and keeps it for Summary, which prints every
// figure of the run after the table of tests, each line prefixed with
// the test's name: so that they can be quoted without reading the log.
func Report(s interface {
	Name() string
	Logf(format string, args ...any)
}, format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	s.Logf("%s", line)
	ran.Lock()
	defer ran.Unlock()
	ran.figures = append(ran.figures, s.Name()+": "+line)
}

// Summary runs the tests and then prints which integration tests ran (those
// that called Require) and how they ended, unless none did. Use it from
// TestMain:
//
//	func TestMain(m *testing.M) { os.Exit(lab.Summary(m)) }
func Summary(m *testing.M) int {
	code := m.Run()
	ran.Lock()
	defer ran.Unlock()
	tests := merge(ran.tests)
	if len(tests) == 0 {
		return code
	}
	var b strings.Builder
	counts := map[string]int{}
	for _, r := range tests {
		counts[r.outcome]++
		fmt.Fprintf(&b, "  %-4s %-60s %6.1fs\n", r.outcome, r.name, r.took.Seconds())
	}
	fmt.Printf("\nintegration tests on %s: %d (%d passed, %d failed, %d skipped)\n%s",
		kernelRelease(), len(tests), counts["PASS"], counts["FAIL"], counts["SKIP"], b.String())
	if len(ran.figures) > 0 {
		fmt.Printf("\nmeasured:\n")
		for _, f := range ran.figures {
			fmt.Printf("  %s\n", f)
		}
	}
	return code
}

// merge folds the rounds of one name (a benchmark runs once per b.N it
// tries) into one line: the worst outcome and the total time.
func merge(rs []result) []result {
	rank := map[string]int{"SKIP": 0, "PASS": 1, "FAIL": 2}
	var out []result
	at := map[string]int{}
	for _, r := range rs {
		i, ok := at[r.name]
		if !ok {
			at[r.name] = len(out)
			out = append(out, r)
			continue
		}
		out[i].took += r.took
		if rank[r.outcome] > rank[out[i].outcome] {
			out[i].outcome = r.outcome
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func kernelRelease() string {
	b, err := os.ReadFile("/proc/sys/kernel/osrelease")
	if err != nil {
		return "an unknown kernel"
	}
	return "Linux " + strings.TrimSpace(string(b))
}
