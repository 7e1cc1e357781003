package pppdcompat

import (
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pppoed/pppoed/client"
	"github.com/pppoed/pppoed/status"
)

// fakeRunner stands for the scripts: it records each start and lets the
// test end each one.
type fakeRunner struct {
	mu      sync.Mutex
	started []started
}

type started struct {
	path string
	args []string
	env  []string
	end  chan struct{} // the test ends the script
	term chan struct{} // closed by Terminate
}

func (f *fakeRunner) start(path string, args, env []string) (proc, error) {
	st := started{path: path, args: args, env: env, end: make(chan struct{}), term: make(chan struct{})}
	f.mu.Lock()
	f.started = append(f.started, st)
	f.mu.Unlock()
	return &st, nil
}

func (st *started) Wait() error {
	select {
	case <-st.end:
		return nil
	case <-st.term:
		return errors.New("signal: terminated")
	}
}

func (st *started) Terminate() { close(st.term) }

func (f *fakeRunner) get(i int) started {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.started[i]
}

func (f *fakeRunner) paths() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var p []string
	for _, s := range f.started {
		p = append(p, filepath.Base(s.path))
	}
	return p
}

// waitStarted waits (briefly, in real time: the scripts' goroutines are
// real) until n scripts have started.
func (f *fakeRunner) waitStarted(t *testing.T, n int) {
	t.Helper()
	for range 2000 {
		f.mu.Lock()
		got := len(f.started)
		f.mu.Unlock()
		if got >= n {
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("%d scripts started, want %d: %v", len(f.started), n, f.paths())
}

// scriptDir makes executable scripts named as pppd's, and options
// pointing at them.
func scriptDir(t *testing.T) *Options {
	t.Helper()
	dir := t.TempDir()
	o := Defaults()
	o.Interface = "eth1"
	o.IPParam = "wan"
	for _, p := range []*string{&o.IPPreUpScript, &o.IPUpScript, &o.IPDownScript, &o.IPv6UpScript, &o.IPv6DownScript} {
		*p = filepath.Join(dir, filepath.Base(*p))
		if err := os.WriteFile(*p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &o
}

func newTestScripts(t *testing.T, o *Options) (*scripts, *fakeRunner) {
	f := &fakeRunner{}
	s := newScripts(o, slog.New(slog.DiscardHandler))
	s.start = f.start
	s.pid = 4242
	s.pidDir = t.TempDir()
	s.readCounters = func(string) (*status.Counters, error) { return &status.Counters{TxBytes: 100, RxBytes: 200}, nil }
	return s, f
}

var (
	mac     = net.HardwareAddr{0x02, 0, 0, 0, 0, 0xab}
	local4  = netip.MustParseAddr("10.0.0.2")
	remote4 = netip.MustParseAddr("10.0.0.1")
)

func moment(kind client.MomentKind) client.Moment {
	return client.Moment{Kind: kind, Ifname: "ppp3", Unit: 3, Interface: "eth1", AC: mac, SessionID: 7,
		Start: time.Now().Add(-90 * time.Second), Local: local4, Peer: remote4,
		DNS:     []netip.Addr{netip.MustParseAddr("10.0.0.53"), netip.MustParseAddr("10.0.0.54"), netip.MustParseAddr("10.0.0.55")},
		LLLocal: netip.MustParseAddr("fe80::1"), LLPeer: netip.MustParseAddr("fe80::2")}
}

// The arguments are pppd's ipcp_script's: interface, device, speed,
// local, remote, ipparam; the environment is script_env, built up.
func TestScriptsArgsAndEnv(t *testing.T) {
	o := scriptDir(t)
	o.UsePeerDNS = true
	o.Linkname = "dsl"
	o.CallFile = "dsl-provider"
	o.Env = []string{"AUTOIPV6=1", "GONE=x", "GONE", "DEVICE=set-by-user"}
	s, f := newTestScripts(t, o)
	s.initEnv("root", 0, true)
	s.onMoment(moment(client.MomentLinkUp))
	// ip-pre-up is waited for: end it from another goroutine.
	go func() { f.waitStarted(t, 1); close(f.get(0).end) }()
	s.onMoment(moment(client.MomentIPv4PreUp))
	s.onMoment(moment(client.MomentIPv4Up))
	f.waitStarted(t, 2)
	up := f.get(1)
	if filepath.Base(up.path) != "ip-up" {
		t.Fatalf("started %v", f.paths())
	}
	if want := []string{"ppp3", "eth1", "0", "10.0.0.2", "10.0.0.1", "wan"}; !slices.Equal(up.args, want) {
		t.Errorf("ip-up args %q, want %q", up.args, want)
	}
	s.o.IPParam = "" // no ipparam: five arguments, not an empty sixth
	if got := s.ipArgs(moment(client.MomentIPv4Up)); len(got) != 5 {
		t.Errorf("without ipparam: args %q", got)
	}
	// pppd 2.4.9's order, as seen in the VM; set's variables last.
	want := []string{"ORIG_UID=0", "CALL_FILE=dsl-provider", "PPPD_PID=4242", "PPPLOGNAME=root", "LINKNAME=dsl",
		"MACREMOTE=02:00:00:00:00:AB", "IFNAME=ppp3", "UNIT=3", "IPLOCAL=10.0.0.2", "IPREMOTE=10.0.0.1",
		"DNS1=10.0.0.53", "DNS2=10.0.0.54", "USEPEERDNS=1", "AUTOIPV6=1", "DEVICE=set-by-user"}
	if !slices.Equal(up.env, want) {
		t.Errorf("ip-up env:\n%q\nwant\n%q", up.env, want)
	}
	close(up.end)
	s.onMoment(moment(client.MomentIPv4Down))
	f.waitStarted(t, 3)
	down := f.get(2)
	close(down.end)
	for _, kv := range []string{"CONNECT_TIME=90", "BYTES_SENT=100", "BYTES_RCVD=200"} {
		if !slices.Contains(down.env, kv) {
			t.Errorf("ip-down env lacks %s: %q", kv, down.env)
		}
	}
	if !s.waitChildren(time.Second) {
		t.Error("scripts left running")
	}
}

// pppd's ipcp_script_done: ip-down never runs while ip-up does; it
// follows once ip-up has ended. And a protocol that was never up gets no
// down script.
func TestScriptsDownWaitsForUp(t *testing.T) {
	o := scriptDir(t)
	s, f := newTestScripts(t, o)
	s.onMoment(moment(client.MomentIPv4Down)) // never up: nothing
	s.onMoment(moment(client.MomentIPv4Up))
	f.waitStarted(t, 1)
	s.onMoment(moment(client.MomentIPv4Down))
	time.Sleep(20 * time.Millisecond)
	if got := f.paths(); !slices.Equal(got, []string{"ip-up"}) {
		t.Fatalf("while ip-up runs: %v", got)
	}
	close(f.get(0).end)
	f.waitStarted(t, 2)
	if got := f.paths(); !slices.Equal(got, []string{"ip-up", "ip-down"}) {
		t.Fatalf("after ip-up ended: %v", got)
	}
	close(f.get(1).end)
	if !s.waitChildren(time.Second) {
		t.Error("scripts left running")
	}
}

// IPv6's scripts get the link-local addresses.
func TestScriptsIPv6(t *testing.T) {
	o := scriptDir(t)
	s, f := newTestScripts(t, o)
	s.onMoment(moment(client.MomentIPv6Up))
	f.waitStarted(t, 1)
	st := f.get(0)
	close(st.end)
	if filepath.Base(st.path) != "ipv6-up" || !slices.Equal(st.args, []string{"ppp3", "eth1", "0", "fe80::0000:0000:0000:0001", "fe80::0000:0000:0000:0002", "wan"}) {
		t.Errorf("%s %q", st.path, st.args)
	}
	if !slices.Contains(st.env, "LLLOCAL=fe80::0000:0000:0000:0001") || !slices.Contains(st.env, "LLREMOTE=fe80::0000:0000:0000:0002") {
		t.Errorf("env %q", st.env)
	}
	s.waitChildren(time.Second)
}

// A script that is missing or not executable is skipped without a word,
// as pppd's run_program does.
func TestScriptsSkipsNonExecutable(t *testing.T) {
	o := scriptDir(t)
	os.Chmod(o.IPUpScript, 0o644)
	os.Remove(o.IPv6UpScript)
	s, f := newTestScripts(t, o)
	s.onMoment(moment(client.MomentIPv4Up))
	s.onMoment(moment(client.MomentIPv6Up))
	time.Sleep(10 * time.Millisecond)
	if got := f.paths(); len(got) != 0 {
		t.Errorf("started %v", got)
	}
}

// The pid files are pppd's: /run/IFNAME.pid "PID\n" and, with linkname,
// /run/ppp-LINKNAME.pid "PID\nIFNAME\n", from the unit's creation until
// the link ends (unless demand keeps the unit: then until exit).
func TestPidFiles(t *testing.T) {
	for _, demand := range []bool{false, true} {
		o := scriptDir(t)
		o.Linkname = "dsl"
		o.Demand = demand
		s, _ := newTestScripts(t, o)
		read := func(name string) string {
			b, err := os.ReadFile(filepath.Join(s.pidDir, name))
			if err != nil {
				return "<none>"
			}
			return string(b)
		}
		if got := read("ppp-dsl.pid"); got != "<none>" {
			t.Errorf("before the unit: %q", got)
		}
		s.onMoment(moment(client.MomentLinkUp))
		if got := read("ppp3.pid"); got != "4242\n" {
			t.Errorf("ppp3.pid %q", got)
		}
		if got := read("ppp-dsl.pid"); got != "4242\nppp3\n" {
			t.Errorf("ppp-dsl.pid %q", got)
		}
		s.onMoment(moment(client.MomentLinkDown))
		want := "<none>"
		if demand {
			want = "4242\n"
		}
		if got := read("ppp3.pid"); got != want {
			t.Errorf("demand %v: ppp3.pid after the link: %q, want %q", demand, got, want)
		}
		s.removePidFiles()
		if got := read("ppp-dsl.pid") + read("ppp3.pid"); got != "<none><none>" {
			t.Errorf("at exit: %q", got)
		}
	}
}

// Scripts still running child-timeout after the end get SIGTERM, as from
// pppd.
func TestScriptsTerminatedAtExit(t *testing.T) {
	o := scriptDir(t)
	s, f := newTestScripts(t, o)
	s.onMoment(moment(client.MomentIPv4Up))
	f.waitStarted(t, 1)
	if s.waitChildren(10 * time.Millisecond) {
		t.Fatal("waitChildren reported a running script ended")
	}
	select {
	case <-f.get(0).term:
	case <-time.After(time.Second):
		t.Fatal("the script was not sent SIGTERM")
	}
}

// llv6 writes pppd's zero-padded groups.
func TestLLv6(t *testing.T) {
	if got := llv6(netip.MustParseAddr("fe80::7545:2e85:342:14bf")); got != "fe80::7545:2e85:0342:14bf" {
		t.Errorf("llv6 = %q", got)
	}
}

// What pppd 2.4.9 was seen to take out of script_env: the last link's
// totals when a new link comes up, IFNAME once the unit is gone (a down
// script that waited for its up script runs without it), and unset's
// names.
func TestScriptsEnvAcrossLinks(t *testing.T) {
	o := scriptDir(t)
	o.Env, o.Unset = []string{"KEEP=1", "DROP=1"}, []string{"DROP", "DEVICE"}
	s, f := newTestScripts(t, o)
	s.initEnv("root", 0, false)
	s.onMoment(moment(client.MomentLinkUp))
	s.onMoment(moment(client.MomentIPv4Up))
	f.waitStarted(t, 1)
	s.onMoment(moment(client.MomentIPv4Down)) // waits for ip-up
	s.onMoment(moment(client.MomentLinkDown))
	close(f.get(0).end)
	f.waitStarted(t, 2)
	down := f.get(1)
	close(down.end)
	has := func(env []string, name string) bool {
		return slices.ContainsFunc(env, func(e string) bool { return strings.HasPrefix(e, name+"=") })
	}
	if has(down.env, "IFNAME") || !has(down.env, "CONNECT_TIME") || !has(down.env, "KEEP") || has(down.env, "DROP") || has(down.env, "DEVICE") {
		t.Errorf("late ip-down env %q", down.env)
	}
	s.onMoment(moment(client.MomentLinkUp))
	s.onMoment(moment(client.MomentIPv4Up))
	f.waitStarted(t, 3)
	up := f.get(2)
	close(up.end)
	if has(up.env, "CONNECT_TIME") || has(up.env, "BYTES_SENT") || !has(up.env, "IFNAME") {
		t.Errorf("second link's ip-up env %q", up.env)
	}
	s.waitChildren(time.Second)
}

// With demand, pppd runs ip-pre-up once as it sets pppN up, with no
// addresses, writes the pid file then, and tells ip-up which addresses
// IPCP replaced (OLDIPLOCAL, OLDIPREMOTE; ipcp_up's demand branch).
func TestScriptsDemand(t *testing.T) {
	o := scriptDir(t)
	o.Demand = true
	s, f := newTestScripts(t, o)
	ready := moment(client.MomentDemandReady)
	ready.Local, ready.Peer = netip.MustParseAddr("10.64.64.67"), netip.MustParseAddr("10.112.112.115")
	go func() { f.waitStarted(t, 1); close(f.get(0).end) }()
	s.onMoment(ready)
	pre := f.get(0)
	if filepath.Base(pre.path) != "ip-pre-up" || !slices.Equal(pre.args, []string{"ppp3", "eth1", "0", "0.0.0.0", "0.0.0.0", "wan"}) {
		t.Errorf("%s %q", pre.path, pre.args)
	}
	if _, err := os.Stat(filepath.Join(s.pidDir, "ppp3.pid")); err != nil {
		t.Errorf("no pid file before traffic: %v", err)
	}
	envOf := func(env []string, name string) string {
		for _, e := range env {
			if v, ok := strings.CutPrefix(e, name+"="); ok {
				return v
			}
		}
		return "<unset>"
	}
	up := func(n int, local string) started {
		m := moment(client.MomentIPv4Up)
		m.Local = netip.MustParseAddr(local)
		s.onMoment(m)
		f.waitStarted(t, n)
		st := f.get(n - 1)
		close(st.end)
		s.onMoment(moment(client.MomentIPv4Down))
		f.waitStarted(t, n+1)
		close(f.get(n).end)
		return st
	}
	first := up(2, "10.0.0.2")
	if envOf(first.env, "OLDIPLOCAL") != "10.64.64.67" || envOf(first.env, "OLDIPREMOTE") != "10.112.112.115" {
		t.Errorf("first session: OLDIPLOCAL %s OLDIPREMOTE %s", envOf(first.env, "OLDIPLOCAL"), envOf(first.env, "OLDIPREMOTE"))
	}
	second := up(4, "10.0.0.9") // a new local address, the same remote
	if envOf(second.env, "OLDIPLOCAL") != "10.0.0.2" || envOf(second.env, "OLDIPREMOTE") != "<unset>" {
		t.Errorf("second session: OLDIPLOCAL %s OLDIPREMOTE %s", envOf(second.env, "OLDIPLOCAL"), envOf(second.env, "OLDIPREMOTE"))
	}
	s.waitChildren(time.Second)
}
