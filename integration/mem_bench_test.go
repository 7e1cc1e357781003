package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
)

// TestMemUp measures the memory of pppd 2.4.9 + rp-pppoe.so and of
// pppoed's client while a session is up against Debian's pppoe-server,
// taking turns in one VM run (issue 13 point 1). It asserts nothing and
// runs only with PPPOED_MEM=1:
//
//	PPPOED_MEM=1                  run it
//	PPPOED_MEM_ROUNDS=N           sessions per client (default 5)
//	PPPOED_MEM_SETTLE=2s          wait once up before reading
//	PPPOED_MEM_BINS=a=PATH,b=PATH pppoed binaries to compare (default
//	                              PPPOED_BIN), all in the same run; a
//	                              PATH may be followed by ;K=V settings
//	                              of the environment for that one, and
//	                              ;ARGS=... for more arguments
//	PPPOED_MEM_ARGS="--persist"   more arguments for pppoed connect
//	PPPOED_MEM_OUT=DIR            write each pppoed's smaps there, and,
//	                              its log
//	PPPOED_MEM_PROFILE=a,b        these binaries are built with -tags
//	                              memdebug: each writes its heap profile,
//	                              goroutines and runtime metrics to DIR
//	                              (PPPOED_MEMPROFILE, SIGUSR2)
//	PPPOED_MEM_GODEBUG=gctrace=1  GODEBUG for pppoed (its log keeps it)
//
// Each figure is read from /proc/PID/status (VmRSS, RssAnon, RssFile) and
// /proc/PID/smaps_rollup (Pss, Pss_Anon, Pss_File).
func TestMemUp(t *testing.T) {
	if os.Getenv("PPPOED_MEM") == "" {
		t.Skip("a measurement: PPPOED_MEM=1 runs it")
	}
	lab.Require(t)
	rounds := 5
	if n, err := strconv.Atoi(os.Getenv("PPPOED_MEM_ROUNDS")); err == nil && n > 0 {
		rounds = n
	}
	settle := 2 * time.Second
	if d, err := time.ParseDuration(os.Getenv("PPPOED_MEM_SETTLE")); err == nil {
		settle = d
	}
	type bin struct {
		label, path string
		env         []string
	}
	var bins []bin
	for _, s := range strings.Split(os.Getenv("PPPOED_MEM_BINS"), ",") {
		if l, p, ok := strings.Cut(s, "="); ok {
			p, env := strings.Split(p, ";")[0], strings.Split(p, ";")[1:]
			bins = append(bins, bin{l, p, env})
		}
	}
	if len(bins) == 0 {
		bins = []bin{{"pppoed", must[string](t)(lab.PppoedBinary()), nil}}
	}
	profiled := strings.Split(os.Getenv("PPPOED_MEM_PROFILE"), ",")
	out := os.Getenv("PPPOED_MEM_OUT")
	if out != "" {
		out = must[string](t)(filepath.Abs(out))
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
	}

	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	srv := must[*lab.PPPoEServer](t)(lab.StartPPPoEServer(t, p.AC, lab.ServerConfig{Interface: p.ACIf, PoolSize: 64,
		Secrets: []lab.Secret{{User: "mem", Password: "mem"}}}))
	waitIdle := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		if err := lab.Poll(ctx, 20*time.Millisecond, func() (bool, error) {
			s, err := srv.Sessions()
			return len(s) == 0, err
		}); err != nil {
			t.Fatalf("the AC's sessions did not end: %v", err)
		}
	}
	samples := map[string][]memSample{}
	for round := range rounds {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		ref := must[*lab.PPPD](t)(lab.StartPPPD(t, p.Client, lab.PPPDConfig{Interface: p.ClientIf, User: "mem", Password: "mem"}))
		if _, err := ref.WaitUp(ctx); err != nil {
			t.Fatalf("%v\n%s", err, srv.Log())
		}
		time.Sleep(settle)
		samples["pppd"] = append(samples["pppd"], must[memSample](t)(readMem(ref.Pid())))
		ref.Stop(10 * time.Second)
		waitIdle()

		cancel()
		for _, b := range bins {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			t.Setenv("PPPOED_BIN", b.path)
			prefix := ""
			if out != "" {
				prefix = filepath.Join(out, fmt.Sprintf("%s-%d", b.label, round))
				t.Setenv("PPPOED_MEMPROFILE", prefix)
			}
			if g := os.Getenv("PPPOED_MEM_GODEBUG"); g != "" {
				t.Setenv("GODEBUG", g)
			}
			args := strings.Fields(os.Getenv("PPPOED_MEM_ARGS"))
			for _, kv := range b.env {
				k, v, _ := strings.Cut(kv, "=")
				if k == "ARGS" {
					args = append(args, strings.Fields(v)...)
					continue
				}
				t.Setenv(k, v)
			}
			cli := must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp0", lab.ClientArgs(t, p.ClientIf, "mem", "mem", args...)...))
			os.Unsetenv("GODEBUG")
			os.Unsetenv("PPPOED_MEMPROFILE")
			for _, kv := range b.env {
				k, _, _ := strings.Cut(kv, "=")
				os.Unsetenv(k)
			}
			if _, err := cli.WaitUp(ctx); err != nil {
				t.Fatalf("%s: %v\n%s", b.label, err, srv.Log())
			}
			time.Sleep(settle)
			samples[b.label] = append(samples[b.label], must[memSample](t)(readMem(cli.Pid())))
			if prefix != "" {
				if s, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", cli.Pid())); err == nil {
					os.WriteFile(prefix+".smaps", s, 0o644)
				}
			}
			if prefix != "" && slices.Contains(profiled, b.label) {
				// Only a memdebug build catches SIGUSR2 (any other
				// dies of it): wait for its files, or its end.
				cli.Signal(syscall.SIGUSR2)
				lab.Poll(ctx, 20*time.Millisecond, func() (bool, error) {
					_, err := os.Stat(prefix + ".goroutines")
					return err == nil || cli.Exited(), nil
				})
			}
			cli.Signal(syscall.SIGTERM)
			cli.Wait(ctx)
			if prefix != "" {
				os.WriteFile(prefix+".log", []byte(cli.Log()), 0o644)
			}
			waitIdle()
		}
	}

	var tb strings.Builder
	fmt.Fprintf(&tb, "memory while up, KiB, median (min-max) of %d sessions each, settled %s (%s):\n", rounds, settle, kernel())
	fmt.Fprintf(&tb, "  %-14s %-18s %-18s %-18s %-18s %-18s %-18s\n", "", "VmRSS", "RssAnon", "RssFile", "Pss", "Pss_Anon", "Pss_File")
	labels := []string{"pppd"}
	for _, b := range bins {
		labels = append(labels, b.label)
	}
	for _, l := range labels {
		ss := samples[l]
		memRow(&tb, l, ss)
	}
	fmt.Fprintf(&tb, "  ratios to pppd (medians): ")
	med := func(l string, f func(memSample) int) float64 {
		vs := []int{}
		for _, s := range samples[l] {
			vs = append(vs, f(s))
		}
		slices.Sort(vs)
		return float64(vs[len(vs)/2])
	}
	for _, l := range labels[1:] {
		fmt.Fprintf(&tb, "%s RSS %.2f, RssAnon %.2f, Pss %.2f; ", l,
			med(l, func(m memSample) int { return m.rss })/med("pppd", func(m memSample) int { return m.rss }),
			med(l, func(m memSample) int { return m.anon })/med("pppd", func(m memSample) int { return m.anon }),
			med(l, func(m memSample) int { return m.pss })/med("pppd", func(m memSample) int { return m.pss }))
	}
	fmt.Fprintln(&tb)
	t.Log("\n" + tb.String())
	if out != "" {
		os.WriteFile(filepath.Join(out, "table.txt"), []byte(tb.String()), 0o644)
	}
}

type memSample struct{ rss, anon, file, pss, pssAnon, pssFile int }

// readMem reads a process's memory figures, in KiB.
func readMem(pid int) (memSample, error) {
	var m memSample
	fields := func(path string, want map[string]*int) error {
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, l := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(l, ":")
			if p := want[k]; ok && p != nil {
				*p, _ = strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			}
		}
		return nil
	}
	if err := fields(fmt.Sprintf("/proc/%d/status", pid), map[string]*int{"VmRSS": &m.rss, "RssAnon": &m.anon, "RssFile": &m.file}); err != nil {
		return m, err
	}
	err := fields(fmt.Sprintf("/proc/%d/smaps_rollup", pid), map[string]*int{"Pss": &m.pss, "Pss_Anon": &m.pssAnon, "Pss_File": &m.pssFile})
	return m, err
}

// TestMemUpLong is TestMemUp over time: every client of PPPOED_MEM_BINS
// and pppd, PPPOED_MEM_ROUNDS copies of each, up at once (each with its
// own pair of namespaces and pppoe-server), sampled at each of
// PPPOED_MEM_LONG's offsets from the moment all are up (e.g.
// "2s,130s,churn,140s,270s": once it has collected once, Go's runtime
// collects at least every two minutes, and khugepaged works in the
// background; "churn" is a burst of status requests). Runs only with
// PPPOED_MEM_LONG set; PPPOED_MEM_OUT, PPPOED_MEM_PROFILE and
// PPPOED_MEM_ARGS as TestMemUp's, the files written at the last offset.
func TestMemUpLong(t *testing.T) {
	if os.Getenv("PPPOED_MEM_LONG") == "" {
		t.Skip("a measurement: PPPOED_MEM_LONG=2s,130s runs it")
	}
	lab.Require(t)
	// An offset "churn" asks each pppoed for its status
	// PPPOED_MEM_CHURN times (default 500) there and then: a day's
	// allocations of an idle link in a few seconds.
	var offsets []time.Duration
	const churn = -1
	for _, s := range strings.Split(os.Getenv("PPPOED_MEM_LONG"), ",") {
		if s == "churn" {
			offsets = append(offsets, churn)
			continue
		}
		offsets = append(offsets, must[time.Duration](t)(time.ParseDuration(s)))
	}
	churns := 500
	if n, err := strconv.Atoi(os.Getenv("PPPOED_MEM_CHURN")); err == nil && n > 0 {
		churns = n
	}
	copies := 3
	if n, err := strconv.Atoi(os.Getenv("PPPOED_MEM_ROUNDS")); err == nil && n > 0 {
		copies = n
	}
	type bin struct {
		label, path string
		env         []string
	}
	bins := []bin{{"pppd", "", nil}}
	for _, s := range strings.Split(os.Getenv("PPPOED_MEM_BINS"), ",") {
		if l, p, ok := strings.Cut(s, "="); ok {
			p, env := strings.Split(p, ";")[0], strings.Split(p, ";")[1:]
			bins = append(bins, bin{l, p, env})
		}
	}
	profiled := strings.Split(os.Getenv("PPPOED_MEM_PROFILE"), ",")
	out := os.Getenv("PPPOED_MEM_OUT")
	if out != "" {
		out = must[string](t)(filepath.Abs(out))
		if err := os.MkdirAll(out, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	type client struct {
		label, prefix string
		pid           int
		up            func() bool
		signal        func(syscall.Signal) error
		churn         func() error
	}
	var clients []client
	for c := range copies {
		for _, b := range bins {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
			srv := must[*lab.PPPoEServer](t)(lab.StartPPPoEServer(t, p.AC, lab.ServerConfig{Interface: p.ACIf, PoolSize: 4,
				Secrets: []lab.Secret{{User: "mem", Password: "mem"}}}))
			cl := client{label: b.label}
			if b.path == "" {
				ref := must[*lab.PPPD](t)(lab.StartPPPD(t, p.Client, lab.PPPDConfig{Interface: p.ClientIf, User: "mem", Password: "mem"}))
				if _, err := ref.WaitUp(ctx); err != nil {
					t.Fatalf("%v\n%s", err, srv.Log())
				}
				cl.pid, cl.up, cl.signal = ref.Pid(), func() bool { return !ref.Exited() }, ref.Signal
			} else {
				t.Setenv("PPPOED_BIN", b.path)
				if out != "" && c == 0 {
					cl.prefix = filepath.Join(out, b.label)
					t.Setenv("PPPOED_MEMPROFILE", cl.prefix)
				}
				for _, kv := range b.env {
					k, v, _ := strings.Cut(kv, "=")
					t.Setenv(k, v)
				}
				cli := must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp0", lab.ClientArgs(t, p.ClientIf, "mem", "mem", strings.Fields(os.Getenv("PPPOED_MEM_ARGS"))...)...))
				os.Unsetenv("PPPOED_MEMPROFILE")
				for _, kv := range b.env {
					k, _, _ := strings.Cut(kv, "=")
					os.Unsetenv(k)
				}
				if _, err := cli.WaitUp(ctx); err != nil {
					t.Fatalf("%s: %v\n%s", b.label, err, srv.Log())
				}
				cl.pid, cl.up, cl.signal = cli.Pid(), func() bool { return !cli.Exited() }, cli.Signal
				cl.churn = func() error {
					for range churns {
						if _, err := cli.Status(context.Background()); err != nil {
							return err
						}
					}
					return nil
				}
				if cl.prefix != "" {
					t.Cleanup(func() { os.WriteFile(cl.prefix+".log", []byte(cli.Log()), 0o644) })
				}
			}
			clients = append(clients, cl)
		}
	}
	start := time.Now()
	var tb strings.Builder
	fmt.Fprintf(&tb, "memory while up, KiB, median (min-max) of %d clients each, all up at once (%s):\n", copies, kernel())
	for i, off := range offsets {
		if off == churn {
			began := time.Now()
			for _, c := range clients {
				if c.churn != nil {
					if err := c.churn(); err != nil {
						t.Fatalf("%s: %v", c.label, err)
					}
				}
			}
			fmt.Fprintf(&tb, " %d status requests to each pppoed (%s)\n", churns, time.Since(began).Round(time.Second))
			continue
		}
		time.Sleep(time.Until(start.Add(off)))
		samples := map[string][]memSample{}
		for _, c := range clients {
			if !c.up() {
				t.Fatalf("%s (pid %d) has ended", c.label, c.pid)
			}
			samples[c.label] = append(samples[c.label], must[memSample](t)(readMem(c.pid)))
		}
		fmt.Fprintf(&tb, " %s after all up:\n  %-14s %-18s %-18s %-18s %-18s %-18s %-18s\n", off, "", "VmRSS", "RssAnon", "RssFile", "Pss", "Pss_Anon", "Pss_File")
		for _, b := range bins {
			ss := samples[b.label]
			memRow(&tb, b.label, ss)
		}
		if i == len(offsets)-1 && out != "" {
			for _, c := range clients {
				if c.prefix == "" {
					continue
				}
				if s, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", c.pid)); err == nil {
					os.WriteFile(c.prefix+".smaps", s, 0o644)
				}
				if slices.Contains(profiled, c.label) {
					c.signal(syscall.SIGUSR2)
				}
			}
			time.Sleep(2 * time.Second)
		}
	}
	t.Log("\n" + tb.String())
	if out != "" {
		os.WriteFile(filepath.Join(out, "table.txt"), []byte(tb.String()), 0o644)
	}
}

// memRow writes one client's line of TestMemUp's tables: each figure's
// median (min-max) over its samples ss.
func memRow(tb *strings.Builder, label string, ss []memSample) {
	fmt.Fprintf(tb, "  %-14s", label)
	for _, f := range []func(memSample) int{
		func(m memSample) int { return m.rss }, func(m memSample) int { return m.anon }, func(m memSample) int { return m.file },
		func(m memSample) int { return m.pss }, func(m memSample) int { return m.pssAnon }, func(m memSample) int { return m.pssFile },
	} {
		vs := make([]int, len(ss))
		for i, s := range ss {
			vs[i] = f(s)
		}
		slices.Sort(vs)
		fmt.Fprintf(tb, " %-18s", fmt.Sprintf("%d (%d-%d)", vs[len(vs)/2], vs[0], vs[len(vs)-1]))
	}
	fmt.Fprintln(tb)
}
