package client

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/discovery/discoverytest"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/status"
)

func down(r ppp.Reason) error {
	return exitFor(&ppp.DownError{Reason: r})
}

func TestCauseOf(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want cause
	}{
		{nil, causeStopped},
		{fmt.Errorf("client: %w (eth0)", errLinkDown), causeLinkDown},
		{down(ppp.ReasonPeerDead), causeSessionLost},
		{down(ppp.ReasonPeerTerminated), causeSessionLost},
		{down(ppp.ReasonLinkLost), causeSessionLost},
		{down(ppp.ReasonAuthFailed), causeAuth},
		{down(ppp.ReasonPeerAuthFailed), causeNegotiation},
		{down(ppp.ReasonNegotiationFailed), causeNegotiation},
		{down(ppp.ReasonLoopback), causeNegotiation},
		{down(ppp.ReasonNoNetworkProtocols), causeNegotiation},
		{&ppp.DownError{Reason: ppp.ReasonLocalClose}, causeStopped},
		{&ExitError{Code: ExitConnectFailed, Err: errors.New("no PADO")}, causeDiscovery},
		{&ExitError{Code: ExitConnectFailed, Err: &discovery.RefusedError{}}, causeDiscovery},
		{&ExitError{Code: ExitFatal, Err: &discovery.RefusedError{}}, causeDiscovery},
		{&ExitError{Code: ExitOpenFailed, Err: errors.New("interface gone")}, causeDiscovery},
		{&ExitError{Code: ExitHangup, Err: errors.New("x")}, causeSessionLost},
		{&ExitError{Code: ExitPeerDead, Err: errors.New("x")}, causeSessionLost},
		{&ExitError{Code: ExitAuthToPeerFailed, Err: errors.New("x")}, causeAuth},
		{&ExitError{Code: ExitNegotiationFailed, Err: errors.New("x")}, causeNegotiation},
		{&ExitError{Code: ExitPeerAuthFailed, Err: errors.New("x")}, causeNegotiation},
		{&ExitError{Code: ExitLoopback, Err: errors.New("x")}, causeNegotiation},
		{&ExitError{Code: ExitNoKernelSupport, Err: errors.New("x")}, causeFatal},
		{&ExitError{Code: ExitNotRoot, Err: errors.New("x")}, causeFatal},
		{&ExitError{Code: ExitFatal, Err: errors.New("x")}, causeFatal},
		{errors.New("anything else"), causeFatal},
	} {
		if got := causeOf(tt.err); got != tt.want {
			t.Errorf("causeOf(%v) = %s, want %s", tt.err, got, tt.want)
		}
	}
	if s := cause(99).String(); s != "cause(99)" {
		t.Errorf("unknown cause prints %q", s)
	}
}

// step is one attempt's outcome and the policy's answer to it.
type step struct {
	c      cause
	up     time.Duration
	wait   time.Duration
	giveUp bool
}

func TestRedialPolicy(t *testing.T) {
	cfg := Config{Interface: "eth0", User: "u"}
	if err := cfg.fill(); err != nil {
		t.Fatal(err)
	}
	s, m := time.Second, time.Minute
	tests := []struct {
		name    string
		holdoff time.Duration
		maxFail int
		rand    float64 // 0.5: no jitter
		steps   []step
	}{
		{"stable sessions lost redial at once", 0, 0, 0.5, []step{
			{causeSessionLost, m, 0, false},
			{causeSessionLost, 30 * s, 0, false},
			{causeLinkDown, 0, 0, false},
		}},
		{"holdoff is the least wait", 5 * s, 0, 0.5, []step{
			{causeSessionLost, m, 5 * s, false},
			{causeLinkDown, 0, 5 * s, false},
			{causeDiscovery, 0, 5 * s, false}, // 2 s backoff, held off to 5
			{causeDiscovery, 0, 5 * s, false}, // 4 s
			{causeDiscovery, 0, 8 * s, false},
		}},
		{"discovery failures double to the cap", 0, 0, 0.5, []step{
			{causeDiscovery, 0, 2 * s, false},
			{causeDiscovery, 0, 4 * s, false},
			{causeNegotiation, 0, 8 * s, false},
			{causeDiscovery, 0, 16 * s, false},
			{causeDiscovery, 0, 32 * s, false},
			{causeDiscovery, 0, 64 * s, false},
			{causeDiscovery, 0, 2 * m, false},
			{causeDiscovery, 0, 2 * m, false},
		}},
		{"a session that keeps dying at once backs off", 0, 0, 0.5, []step{
			{causeSessionLost, s, 0, false}, // the first: at once
			{causeSessionLost, s, 4 * s, false},
			{causeSessionLost, 29 * s, 8 * s, false},
			{causeSessionLost, 30 * s, 0, false}, // stable: the backoff starts over
			{causeDiscovery, 0, 2 * s, false},
		}},
		{"a session lost before it was up is a failure", 0, 2, 0.5, []step{
			{causeSessionLost, 0, 2 * s, false},
			{causeSessionLost, 0, 0, true},
		}},
		{"authentication failures wait long", 0, 0, 0.5, []step{
			{causeAuth, 0, m, false},
			{causeAuth, 0, 2 * m, false},
			{causeAuth, 0, 4 * m, false},
			{causeAuth, 0, 8 * m, false},
			{causeAuth, 0, 10 * m, false},
			{causeDiscovery, 0, 2 * s, false}, // its own backoff
			{causeAuth, 0, 10 * m, false},
		}},
		{"a session up resets the authentication wait", 0, 0, 0.5, []step{
			{causeAuth, 0, m, false},
			{causeAuth, 0, 2 * m, false},
			{causeSessionLost, m, 0, false},
			{causeAuth, 0, m, false},
		}},
		{"maxfail counts consecutive failures", 0, 3, 0.5, []step{
			{causeDiscovery, 0, 2 * s, false},
			{causeAuth, 0, m, false},
			{causeSessionLost, m, 0, false}, // up: the count starts over
			{causeDiscovery, 0, 2 * s, false},
			{causeLinkDown, 0, 0, false}, // not a failure
			{causeNegotiation, 0, 4 * s, false},
			{causeDiscovery, 0, 0, true},
		}},
		{"maxfail 1 gives up at the first failure", 0, 1, 0.5, []step{
			{causeSessionLost, m, 0, false},
			{causeDiscovery, 0, 0, true},
		}},
		{"stops and fatal errors end it", 0, 0, 0.5, []step{
			{causeStopped, 0, 0, true},
			{causeFatal, 0, 0, true},
		}},
		{"jitter high", 0, 0, 0.999999, []step{{causeDiscovery, 0, 2399999 * time.Microsecond, false}}},
		{"jitter low", 0, 0, 0, []step{{causeDiscovery, 0, 1600 * time.Millisecond, false}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := cfg
			c.Holdoff, c.MaxFail = tt.holdoff, tt.maxFail
			p := newRedialPolicy(&c)
			p.rand = func() float64 { return tt.rand }
			for i, st := range tt.steps {
				wait, giveUp := p.next(st.c, st.up)
				if wait.Round(time.Microsecond) != st.wait || giveUp != st.giveUp {
					t.Fatalf("step %d (%s, up %s): wait %s, give up %v; want %s, %v", i, st.c, st.up, wait, giveUp, st.wait, st.giveUp)
				}
			}
		})
	}
}

func TestDoubled(t *testing.T) {
	for _, tt := range []struct {
		base  time.Duration
		n     int
		limit time.Duration
		want  time.Duration
	}{
		{time.Second, 0, time.Minute, time.Second},
		{time.Second, 3, time.Minute, 8 * time.Second},
		{time.Second, 6, time.Minute, time.Minute},
		{time.Second, 1000, time.Minute, time.Minute}, // no overflow
		{time.Minute, 0, time.Second, time.Second},
	} {
		if got := doubled(tt.base, tt.n, tt.limit); got != tt.want {
			t.Errorf("doubled(%s, %d, %s) = %s, want %s", tt.base, tt.n, tt.limit, got, tt.want)
		}
	}
}

// fakeEther is the Ethernet link, up or down by hand.
type fakeEther struct {
	mu         sync.Mutex
	ctx        context.Context
	cancel     context.CancelCauseFunc
	up         chan struct{}
	kernelDown bool
}

func newFakeEther(up bool) *fakeEther {
	l := &fakeEther{up: make(chan struct{})}
	l.ctx, l.cancel = context.WithCancelCause(context.Background())
	if up {
		close(l.up)
	} else {
		l.cancel(errLinkDown)
	}
	return l
}

func (l *fakeEther) set(up bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if up {
		l.ctx, l.cancel = context.WithCancelCause(context.Background())
		close(l.up)
		return
	}
	l.up = make(chan struct{})
	l.cancel(errLinkDown)
}

// down is the kernel's answer; kernelDown makes it ahead of the
// notifications, as when our own interface goes down.
func (l *fakeEther) down() bool {
	l.mu.Lock()
	kd := l.kernelDown
	l.mu.Unlock()
	if kd && l.lost().Err() == nil {
		l.set(false)
	}
	return l.lost().Err() != nil
}

func (l *fakeEther) lost() context.Context {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ctx
}

func (l *fakeEther) waitUp(ctx context.Context) error {
	l.mu.Lock()
	ch := l.up
	l.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// fakeNotify records sd_notify lines.
type fakeNotify struct {
	mu    sync.Mutex
	lines []string
}

func (n *fakeNotify) Notify(states ...string) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.lines = append(n.lines, strings.Join(states, "\n"))
	return nil
}

func (n *fakeNotify) all() []string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.lines)
}

// fakeSink records published states.
type fakeSink struct {
	mu     sync.Mutex
	st     status.Status
	states []status.State
}

func (s *fakeSink) Update(f func(*status.Status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(&s.st)
	if n := len(s.states); n == 0 || s.states[n-1] != s.st.State {
		s.states = append(s.states, s.st.State)
	}
}

// attemptFunc plays one attempt: it may report events, and returns how
// the attempt ended.
type attemptFunc func(ctx, lost context.Context, r *reporter) error

// connects is an attempt that comes up and stays up for d (or until the
// link goes down, or a stop), then ends with err.
func connects(d time.Duration, err error) attemptFunc {
	return func(ctx, lost context.Context, r *reporter) error {
		r.dialing()
		r.event(ppp.LinkUp{MTU: 1492, MRU: 1492})
		r.event(ppp.IPv4Up{Local: netip.MustParseAddr("10.64.0.2"), Peer: netip.MustParseAddr("10.64.0.1")})
		select {
		case <-time.After(d):
			return err
		case <-lost.Done():
			return fmt.Errorf("client: %w", errLinkDown)
		case <-ctx.Done():
			return nil
		}
	}
}

func fails(after time.Duration, err error) attemptFunc {
	return func(ctx, lost context.Context, r *reporter) error {
		r.dialing()
		select {
		case <-time.After(after):
			return err
		case <-ctx.Done():
			return nil
		}
	}
}

type daemonRig struct {
	d      *daemon
	log    *bytes.Buffer
	notify *fakeNotify
	sink   *fakeSink
	starts []time.Duration // when each attempt started, since the rig's start
}

func newDaemonRig(t *testing.T, cfg Config, link linkState, attempts ...attemptFunc) *daemonRig {
	t.Helper()
	cfg.Interface, cfg.User = "eth0", "u"
	var buf bytes.Buffer
	cfg.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{ReplaceAttr: dropTime}))
	n := &fakeNotify{}
	cfg.Notify = n
	if err := cfg.fill(); err != nil {
		t.Fatal(err)
	}
	sink := &fakeSink{}
	rig := &daemonRig{log: &buf, notify: n, sink: sink}
	r := newReporter(&cfg, cfg.Name, sink, stateFile{})
	start := time.Now()
	i := 0
	rig.d = &daemon{cfg: &cfg, log: cfg.Logger, report: r, policy: newRedialPolicy(&cfg), link: link, after: time.After,
		dial: func(ctx, lost context.Context, _ *Config, r *reporter) error {
			rig.starts = append(rig.starts, time.Since(start))
			if i >= len(attempts) {
				<-ctx.Done()
				return nil
			}
			a := attempts[i]
			i++
			return a(ctx, lost, r)
		}}
	rig.d.policy.rand = func() float64 { return 0.5 }
	return rig
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

func TestDaemonRedials(t *testing.T) {
	s := time.Second
	tests := []struct {
		name     string
		cfg      Config
		attempts []attemptFunc
		stopAt   time.Duration // 0: it must end by itself
		starts   []time.Duration
		status   int // ExitCode of what run returns
		logs     []string
		notify   []string
	}{
		{
			name: "a lost session is redialled at once",
			cfg:  Config{Persist: true},
			attempts: []attemptFunc{
				connects(time.Hour, down(ppp.ReasonPeerDead)),
				connects(time.Hour, down(ppp.ReasonLinkLost)),
			},
			stopAt: 2*time.Hour + time.Minute,
			starts: []time.Duration{0, time.Hour, 2 * time.Hour},
			logs: []string{`msg="client: redialling" cause="session lost" wait=0s attempt=2 after=1h0m0s err="ppp: peer not responding"`,
				`cause="session lost" wait=0s attempt=3`},
			notify: []string{"STATUS=dialing", "STATUS=verifying password", "STATUS=connected 10.64.0.2", "READY=1",
				"STATUS=down: ppp: peer not responding", "STATUS=down: ppp: peer not responding, redial in 0s",
				"STATUS=dialing", "STATUS=verifying password", "STATUS=connected 10.64.0.2",
				"STATUS=down: ppp: link lost", "STATUS=down: ppp: link lost, redial in 0s",
				"STOPPING=1", "STATUS=stopping"},
		},
		{
			name: "discovery failures back off, maxfail ends it with the last status",
			cfg:  Config{Persist: true, MaxFail: 3},
			attempts: []attemptFunc{
				fails(10*s, &ExitError{Code: ExitConnectFailed, Err: errors.New("no PADO")}),
				fails(10*s, &ExitError{Code: ExitConnectFailed, Err: errors.New("no PADO")}),
				fails(s, down(ppp.ReasonAuthFailed)),
			},
			starts: []time.Duration{0, 12 * s, 26 * s},
			status: ExitAuthToPeerFailed,
			logs: []string{`cause="discovery failed" wait=2s attempt=2`, `cause="discovery failed" wait=4s attempt=3`,
				`level=ERROR msg="client: giving up" attempts=3 consecutive-failures=3 maxfail=3 err="ppp: authentication failed"`},
		},
		{
			name: "authentication failures wait a minute, then two",
			cfg:  Config{Persist: true},
			attempts: []attemptFunc{
				fails(s, down(ppp.ReasonAuthFailed)),
				fails(s, down(ppp.ReasonAuthFailed)),
			},
			stopAt: 4 * time.Minute,
			starts: []time.Duration{0, 61 * s, 182 * s},
			logs:   []string{`cause="authentication failed" wait=1m0s attempt=2`, `cause="authentication failed" wait=2m0s attempt=3`},
		},
		{
			name:     "without persist one attempt",
			cfg:      Config{},
			attempts: []attemptFunc{fails(s, down(ppp.ReasonPeerDead))},
			starts:   []time.Duration{0},
			status:   ExitPeerDead,
		},
		{
			name:     "a fatal error is not redialled",
			cfg:      Config{Persist: true},
			attempts: []attemptFunc{fails(0, &ExitError{Code: ExitNoKernelSupport, Err: errors.New("no pppoe module")})},
			starts:   []time.Duration{0},
			status:   ExitNoKernelSupport,
		},
		{
			name:     "a stop while waiting to redial ends it cleanly",
			cfg:      Config{Persist: true, Holdoff: time.Hour},
			attempts: []attemptFunc{fails(s, down(ppp.ReasonPeerDead))},
			stopAt:   time.Minute,
			starts:   []time.Duration{0},
			notify: []string{"STATUS=dialing", "STATUS=down: ppp: peer not responding", "STATUS=down: ppp: peer not responding, redial in 1h0m0s",
				"STOPPING=1", "STATUS=stopping"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rig := newDaemonRig(t, tt.cfg, nil, tt.attempts...)
				if tt.cfg.Persist {
					rig.d.link = newFakeEther(true)
				}
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				if tt.stopAt > 0 {
					time.AfterFunc(tt.stopAt, cancel)
				}
				err := rig.d.run(ctx)
				synctest.Wait() // STOPPING=1's goroutine (context.AfterFunc) has published
				if ExitCode(err) != tt.status {
					t.Errorf("run: %v (status %d), want status %d", err, ExitCode(err), tt.status)
				}
				if !slices.Equal(rig.starts, tt.starts) {
					t.Errorf("attempts started at %v, want %v", rig.starts, tt.starts)
				}
				for _, l := range tt.logs {
					if !strings.Contains(rig.log.String(), l) {
						t.Errorf("log lacks %q:\n%s", l, rig.log)
					}
				}
				if tt.notify != nil && !slices.Equal(rig.notify.all(), tt.notify) {
					t.Errorf("sd_notify:\n%q\nwant\n%q", rig.notify.all(), tt.notify)
				}
			})
		})
	}
}

// The Ethernet link going down ends the session at once; the daemon then
// waits for it, without counting a failure, and redials when it is back.
func TestDaemonWaitsForTheLink(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		link := newFakeEther(true)
		rig := newDaemonRig(t, Config{Persist: true, MaxFail: 1}, link,
			connects(time.Hour, nil), connects(time.Hour, nil))
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(10*time.Minute, func() { link.set(false) })
		time.AfterFunc(15*time.Minute, func() { link.set(true) })
		time.AfterFunc(20*time.Minute, cancel)
		if err := rig.d.run(ctx); err != nil {
			t.Fatalf("run: %v", err)
		}
		synctest.Wait() // STOPPING=1's goroutine has published
		if want := []time.Duration{0, 15 * time.Minute}; !slices.Equal(rig.starts, want) {
			t.Errorf("attempts at %v, want %v", rig.starts, want)
		}
		for _, l := range []string{`msg="client: waiting for the Ethernet link" interface=eth0`, `msg="client: the Ethernet link is up"`} {
			if !strings.Contains(rig.log.String(), l) {
				t.Errorf("log lacks %q:\n%s", l, rig.log)
			}
		}
		want := []status.State{status.StateDialing, status.StateAuthenticating, status.StateConnected, status.StateDisconnected,
			status.StateWaiting, status.StateDialing, status.StateAuthenticating, status.StateConnected, status.StateStopping}
		if !slices.Equal(rig.sink.states, want) {
			t.Errorf("states %v, want %v", rig.sink.states, want)
		}
		if rig.sink.st.Failures != 0 || rig.sink.st.Redials != 1 {
			t.Errorf("failures %d, redials %d; want 0, 1", rig.sink.st.Failures, rig.sink.st.Redials)
		}
	})
}

// A link that is down at start is waited for before the first PADI.
func TestDaemonStartsWithTheLinkDown(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		link := newFakeEther(false)
		rig := newDaemonRig(t, Config{Persist: true}, link, connects(time.Hour, nil))
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Minute, func() { link.set(true) })
		time.AfterFunc(2*time.Minute, cancel)
		if err := rig.d.run(ctx); err != nil {
			t.Fatal(err)
		}
		if want := []time.Duration{time.Minute}; !slices.Equal(rig.starts, want) {
			t.Errorf("attempts at %v, want %v", rig.starts, want)
		}
		if got := rig.notify.all(); len(got) == 0 || got[0] != "STATUS=waiting, waiting for eth0" {
			t.Errorf("first STATUS %q, want waiting for eth0", got)
		}
	})
}

func TestStateFile(t *testing.T) {
	dir := t.TempDir()
	f, err := openStateFile(filepath.Join(dir, "sub"), "wan")
	if err != nil {
		t.Fatal(err)
	}
	if rec, err := f.read(); rec != nil || err != nil {
		t.Fatalf("empty: %v, %v", rec, err)
	}
	want := sessionRecord{Interface: "eth0", SessionID: 0x1234, ACMAC: "02:00:00:00:00:01", Since: time.Date(2026, 11, 29, 0, 0, 0, 0, time.UTC)}
	if err := f.write(want); err != nil {
		t.Fatal(err)
	}
	got, err := f.read()
	if err != nil || *got != want {
		t.Fatalf("read %+v, %v; want %+v", got, err, want)
	}
	if s := got.session(); s.ID != 0x1234 || s.AC.String() != "02:00:00:00:00:01" {
		t.Errorf("session %+v", s)
	}
	entries, _ := os.ReadDir(filepath.Join(dir, "sub"))
	if len(entries) != 1 || entries[0].Name() != "wan.state" {
		t.Errorf("state directory holds %v: a temporary file was left behind", entries)
	}
	if err := f.clear(); err != nil {
		t.Fatal(err)
	}
	if rec, err := f.read(); rec != nil || err != nil {
		t.Fatalf("cleared: %v, %v", rec, err)
	}
	if err := f.clear(); err != nil {
		t.Errorf("clearing twice: %v", err)
	}

	for _, bad := range []string{"{", `{"interface":"eth0","session_id":0,"ac_mac":"02:00:00:00:00:01"}`,
		`{"interface":"eth0","session_id":65535,"ac_mac":"02:00:00:00:00:01"}`, `{"interface":"eth0","session_id":1,"ac_mac":"zz"}`} {
		os.WriteFile(f.path, []byte(bad), 0o644)
		if rec, err := f.read(); rec != nil || err == nil || !strings.Contains(err.Error(), f.path) {
			t.Errorf("state file %q: %v, %v; want an error naming the file", bad, rec, err)
		}
	}

	off, err := openStateFile("-", "wan")
	if err != nil || off.path != "" {
		t.Fatalf("-: %v %v", off, err)
	}
	if err := off.write(want); err != nil {
		t.Error(err)
	}
	if rec, err := off.read(); rec != nil || err != nil {
		t.Error(rec, err)
	}
}

func TestStateDirUnwritable(t *testing.T) {
	if os.Geteuid() == 0 {
		// Root writes anywhere; a file where the directory should be
		// fails for everyone.
		file := filepath.Join(t.TempDir(), "file")
		os.WriteFile(file, nil, 0o644)
		_, err := openStateFile(file, "wan")
		if err == nil || !strings.Contains(err.Error(), "state directory "+file) {
			t.Fatalf("a file as the state directory: %v", err)
		}
		return
	}
	dir := t.TempDir()
	os.Chmod(dir, 0o500)
	_, err := openStateFile(dir, "wan")
	if err == nil || !strings.Contains(err.Error(), "state directory "+dir+" is not writable") {
		t.Fatalf("unwritable: %v", err)
	}
}

func TestFillAlwaysOn(t *testing.T) {
	for _, tt := range []struct {
		name   string
		modify func(*Config)
		want   string
	}{
		{"defaults", func(*Config) {}, ""},
		{"slash in name", func(c *Config) { c.Name = "a/b" }, `--name "a/b"`},
		{"dot name", func(c *Config) { c.Name = ".." }, `--name ".."`},
		{"negative holdoff", func(c *Config) { c.Holdoff = -1 }, "--holdoff -1ns: must not be negative"},
		{"negative maxfail", func(c *Config) { c.MaxFail = -1 }, "--maxfail -1"},
		{"short keepalive timeout", func(c *Config) { c.KeepaliveTimeout = time.Second }, "--keepalive-timeout 1s: at least 2s"},
		{"idle without demand", func(c *Config) { c.Idle = time.Minute }, "--idle needs --dial-on-demand"},
		{"demand without persist", func(c *Config) { c.DialOnDemand = true }, "--dial-on-demand redials on the next packet: it cannot go with --persist=false"},
		{"demand without IPv4", func(c *Config) { c.DialOnDemand, c.Persist, c.NoIPv4 = true, true, true }, "--dial-on-demand dials for IPv4 traffic"},
	} {
		c := Config{Interface: "eth0", User: "u"}
		tt.modify(&c)
		err := c.fill()
		if tt.want == "" {
			if err != nil || c.Name != "eth0" || c.ControlSocket != "/run/pppoed/eth0.sock" || c.StateDir != DefaultStateDir ||
				c.BackoffMax != DefaultBackoffMax || c.AuthHoldoff != time.Minute || c.AuthHoldoffMax != 10*time.Minute {
				t.Errorf("%s: %v %+v", tt.name, err, c)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

// Redials ask the kernel for the interface name the first session's unit
// had, unless the user chose one.
func TestDaemonKeepsTheInterfaceName(t *testing.T) {
	for _, chosen := range []string{"", "wan0"} {
		synctest.Test(t, func(t *testing.T) {
			var names []string
			first := true
			rig := newDaemonRig(t, Config{Persist: true, Ifname: chosen}, newFakeEther(true))
			rig.d.dial = func(ctx, lost context.Context, cfg *Config, r *reporter) error {
				names = append(names, cfg.Ifname)
				if !first {
					<-ctx.Done()
					return nil
				}
				first = false
				r.linkUp(cmp.Or(chosen, "ppp7"))
				return connects(time.Hour, down(ppp.ReasonLinkLost))(ctx, lost, r)
			}
			ctx, cancel := context.WithCancel(t.Context())
			time.AfterFunc(2*time.Hour, cancel)
			rig.d.run(ctx)
			want := []string{chosen, cmp.Or(chosen, "ppp7")}
			if !slices.Equal(names, want) {
				t.Errorf("chosen %q: the attempts asked for %q, want %q", chosen, names, want)
			}
			if rig.d.cfg.ifnameKept != (chosen == "") {
				t.Errorf("chosen %q: ifnameKept %v", chosen, rig.d.cfg.ifnameKept)
			}
		})
	}
}

// STOPPING=1 goes out as the stop begins, before the session's teardown
// (which may take seconds: the Terminate-Ack, the PADT), and only once.
func TestDaemonStoppingFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var atReturn []string
		rig := newDaemonRig(t, Config{Persist: true}, newFakeEther(true))
		rig.d.dial = func(ctx, lost context.Context, _ *Config, r *reporter) error {
			connects(time.Hour, nil)(ctx, lost, r)
			time.Sleep(3 * time.Second) // the teardown
			atReturn = rig.notify.all()
			return nil
		}
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Minute, cancel)
		rig.d.run(ctx)
		rig.d.report.stopping() // as Run does at the end
		if len(atReturn) == 0 || atReturn[len(atReturn)-1] != "STATUS=stopping" || atReturn[len(atReturn)-2] != "STOPPING=1" {
			t.Errorf("sd_notify when the teardown ended: %q; want STOPPING=1 and STATUS=stopping last", atReturn)
		}
		if n := strings.Count(strings.Join(rig.notify.all(), "\n"), "STOPPING=1"); n != 1 {
			t.Errorf("STOPPING=1 sent %d times", n)
		}
	})
}

// A session whose PADT could not be sent (the Ethernet link was down) is
// ended at the AC before the next PADI of the same run.
func TestUnendedSessionClearedBeforeTheNextPADI(t *testing.T) {
	seg := &discoverytest.Segment{}
	defer seg.Close()
	ac, host := seg.Port("02:00:00:00:00:01"), seg.Port("02:00:00:00:00:02")
	dc := discovery.NewClient(host, discovery.ClientConfig{})
	defer dc.Close()
	cfg := Config{Interface: "eth0", User: "u"}
	cfg.fill()
	dir := t.TempDir()
	state, _ := openStateFile(dir, "wan")
	r := newReporter(&cfg, "wan", nil, state)
	sess := &discovery.Session{ID: 0x1234, AC: net.HardwareAddr{2, 0, 0, 0, 0, 1}}
	r.sessionFound(sess)
	r.unended(sess)
	r.clearStale(dc)
	b, from, err := ac.Receive()
	if err != nil {
		t.Fatal(err)
	}
	p, err := discovery.Parse(b)
	if err != nil || p.Code != discovery.CodePADT || p.SessionID != 0x1234 || from.String() != "02:00:00:00:00:02" {
		t.Fatalf("the AC got %+v from %s (%v), want a PADT for session 0x1234", p, from, err)
	}
	if rec, _ := state.read(); rec != nil {
		t.Errorf("the state file still names %+v", rec)
	}
	r.clearStale(dc) // once only: the next frame the AC sees is this one
	dc.SendPADT(&discovery.Session{ID: 0x9999, AC: sess.AC}, "")
	b, _, _ = ac.Receive()
	if p, err := discovery.Parse(b); err != nil || p.SessionID != 0x9999 {
		t.Errorf("the stale session was ended twice: %+v %v", p, err)
	}
}

// Our own interface going down hangs the channel up before netlink says
// why: the session ends as "link lost", and the daemon asks the kernel
// before blaming the peer, then waits for the link, counting no failure.
func TestDaemonLinkDownBeforeItsNotification(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		link := newFakeEther(true)
		rig := newDaemonRig(t, Config{Persist: true, MaxFail: 1}, link,
			func(ctx, lost context.Context, r *reporter) error {
				r.dialing()
				r.event(ppp.IPv4Up{Local: netip.MustParseAddr("10.64.0.2"), Peer: netip.MustParseAddr("10.64.0.1")})
				time.Sleep(time.Second) // a short session: a "session lost" would back off
				link.mu.Lock()
				link.kernelDown = true
				link.mu.Unlock()
				return down(ppp.ReasonLinkLost)
			}, connects(time.Hour, nil))
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(time.Minute, func() {
			link.mu.Lock()
			link.kernelDown = false
			link.mu.Unlock()
			link.set(true)
		})
		time.AfterFunc(2*time.Minute, cancel)
		if err := rig.d.run(ctx); err != nil {
			t.Fatal(err)
		}
		if want := []time.Duration{0, time.Minute}; !slices.Equal(rig.starts, want) {
			t.Errorf("attempts at %v, want %v (after the link came back)", rig.starts, want)
		}
		if !strings.Contains(rig.log.String(), `cause="Ethernet link down"`) {
			t.Errorf("log:\n%s", rig.log)
		}
	})
}

// STOPPING=1 comes before whatever the stop's teardown reports, even if
// the teardown reports before the AfterFunc that sends it has run.
func TestStoppingBeforeTheTeardownsStatus(t *testing.T) {
	cfg := Config{Interface: "eth0", User: "u"}
	cfg.fill()
	n := &fakeNotify{}
	cfg.Notify = n
	r := newReporter(&cfg, "eth0", nil, stateFile{})
	ctx, cancel := context.WithCancel(context.Background())
	r.stopWith(ctx)
	r.event(ppp.IPv4Up{Local: netip.MustParseAddr("10.64.0.2"), Peer: netip.MustParseAddr("10.64.0.1")})
	cancel()
	r.event(ppp.IPv4Down{})
	r.stopping()
	want := []string{"STATUS=connected 10.64.0.2", "READY=1", "STOPPING=1", "STATUS=stopping"}
	if got := n.all(); !slices.Equal(got, want) {
		t.Errorf("sd_notify %q, want %q", got, want)
	}
}

// With its last network protocol down the link is no longer connected.
func TestDisconnectedWithTheLastNCP(t *testing.T) {
	cfg := Config{Interface: "eth0", User: "u"}
	cfg.fill()
	r := newReporter(&cfg, "eth0", nil, stateFile{})
	r.event(ppp.IPv4Up{Local: netip.MustParseAddr("10.64.0.2"), Peer: netip.MustParseAddr("10.64.0.1")})
	r.event(ppp.IPv6Up{Local: ppp.InterfaceID{0, 0, 0, 0, 0, 0, 0, 1}, Peer: ppp.InterfaceID{0, 0, 0, 0, 0, 0, 0, 2}})
	for _, step := range []struct {
		ev   ppp.Event
		want status.State
	}{{ppp.IPv4Down{}, status.StateConnected}, {ppp.IPv6Down{}, status.StateDisconnected}} {
		r.event(step.ev)
		if got := r.snapshot().State; got != step.want {
			t.Errorf("after %T: %s, want %s", step.ev, got, step.want)
		}
	}
}

// A hang-up (pppd's SIGHUP) during the wait before a redial ends the
// wait, as pppd's does holdoff.
func TestDaemonHangupEndsTheWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hup := make(chan struct{}, 1)
		rig := newDaemonRig(t, Config{Persist: true, Holdoff: time.Hour, Hangup: hup}, newFakeEther(true),
			fails(time.Second, down(ppp.ReasonPeerDead)))
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		time.AfterFunc(time.Minute, func() { hup <- struct{}{} })
		time.AfterFunc(2*time.Minute, cancel)
		if err := rig.d.run(ctx); err != nil {
			t.Fatal(err)
		}
		if want := []time.Duration{0, time.Minute}; !slices.Equal(rig.starts, want) {
			t.Errorf("attempts started at %v, want %v", rig.starts, want)
		}
	})
}
