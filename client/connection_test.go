package client

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mdlayher/packet"
	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/discovery/discoverytest"
	"github.com/pppoed/pppoed/netcfg"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
	"github.com/pppoed/pppoed/pppox"
	"golang.org/x/sys/unix"
)

// These tests run a connection against fakes of the kernel link and of
// pppN's configuration, with a real PPP session as the access
// concentrator (ppp/ppptest's pipe) and discovery's in-memory segment for
// the PADTs, inside synctest bubbles: the protocol timers take no real
// time.

var (
	acAddr     = netip.MustParseAddr("10.64.0.1")
	clientAddr = netip.MustParseAddr("10.64.0.2")
	dnsAddr    = netip.MustParseAddr("10.64.0.53")
)

const sessionID = 0x1234

// journal is what the fakes were asked to do, in order.
type journal struct {
	mu    sync.Mutex
	lines []string
}

func (j *journal) add(format string, a ...any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.lines = append(j.lines, fmt.Sprintf(format, a...))
}

func (j *journal) all() []string {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.lines)
}

// after returns the lines after the first one equal to mark.
func (j *journal) after(mark string) []string {
	all := j.all()
	if i := slices.Index(all, mark); i >= 0 {
		return all[i+1:]
	}
	return nil
}

func (j *journal) count(line string) int {
	n := 0
	for _, l := range j.all() {
		if l == line {
			n++
		}
	}
	return n
}

// fakeLink is the kernel link: a ppptest pipe end that records what the
// connection sets. HangUp, like the kernel dropping the channel, ends
// the pipe.
type fakeLink struct {
	*ppptest.End
	j      *journal
	once   sync.Once
	npFail ppp.Protocol // SetNPMode fails for it
	mu     sync.Mutex
	hupErr error
}

func (l *fakeLink) SetMRU(mru int) error { l.j.add("link mru %d", mru); return nil }

func (l *fakeLink) SetNPMode(proto ppp.Protocol, mode pppox.NPMode) error {
	l.j.add("link %s %s", proto, mode)
	if proto == l.npFail {
		return errors.New("pppox: PPPIOCSNPMODE failed")
	}
	return nil
}

func (l *fakeLink) HangUp(err error) {
	l.j.add("link hung up: %v", err)
	l.mu.Lock()
	if l.hupErr == nil {
		l.hupErr = err
	}
	l.mu.Unlock()
	l.End.Close()
}

// ReadFrame fails with HangUp's error, as pppox.Link's does.
func (l *fakeLink) ReadFrame() (ppp.Protocol, []byte, error) {
	proto, b, err := l.End.ReadFrame()
	if err != nil {
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.hupErr != nil {
			err = l.hupErr
		}
	}
	return proto, b, err
}

func (l *fakeLink) Close() error {
	l.once.Do(func() { l.j.add("link closed") })
	return l.End.Close()
}

// fakeIface is pppN's configuration: it records each call and keeps what
// is configured, so a test can see what is left.
type fakeIface struct {
	j       *journal
	fail    string // the method that fails
	failErr error  // with this error (default: "netcfg: <method> failed")
	mu      sync.Mutex
	cfg     []string // what is configured now
}

func (f *fakeIface) do(method, format string, a ...any) error {
	line := fmt.Sprintf(format, a...)
	f.j.add("iface %s", line)
	if method == f.fail {
		if f.failErr != nil {
			return f.failErr
		}
		return fmt.Errorf("netcfg: %s failed", method)
	}
	return nil
}

func (f *fakeIface) set(what string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg = append(f.cfg, what)
}

func (f *fakeIface) remove(prefix string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cfg = slices.DeleteFunc(f.cfg, func(s string) bool { return strings.HasPrefix(s, prefix) })
}

// left is what is still configured.
func (f *fakeIface) left() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.cfg)
}

func (f *fakeIface) SetMTU(mtu int) error { return f.do("SetMTU", "mtu %d", mtu) }
func (f *fakeIface) Up() error            { return f.do("Up", "up") }

func (f *fakeIface) AddIPv4(local, peer netip.Addr) error {
	if err := f.do("AddIPv4", "address %s peer %s", local, peer); err != nil {
		return err
	}
	f.set("4 address " + local.String())
	return nil
}

func (f *fakeIface) AddIPv6LinkLocal(local, peer netip.Addr) error {
	if err := f.do("AddIPv6LinkLocal", "address %s", local); err != nil {
		return err
	}
	f.set("6 address " + local.String())
	return nil
}

func (f *fakeIface) DefaultRoute(mode netcfg.RouteMode, metric int) error {
	if mode == netcfg.RouteNone {
		return nil
	}
	if err := f.do("DefaultRoute", "default route metric %d", metric); err != nil {
		return err
	}
	f.set("route default")
	return nil
}

func (f *fakeIface) WriteResolvConf(path string, servers []netip.Addr) error {
	if len(servers) == 0 {
		return nil
	}
	if err := f.do("WriteResolvConf", "resolv.conf %v", servers); err != nil {
		return err
	}
	f.set("file " + path)
	return nil
}

func (f *fakeIface) RemoveRoutes() { f.j.add("iface routes removed"); f.remove("route") }

func (f *fakeIface) RemoveAddresses(family int) {
	v := map[int]string{unix.AF_INET: "4", unix.AF_INET6: "6"}[family]
	f.j.add("iface IPv%s addresses removed", v)
	f.remove(v + " address")
}

func (f *fakeIface) RemoveFiles() { f.j.add("iface files removed"); f.remove("file") }

func (f *fakeIface) Close() {
	f.j.add("iface closed")
	f.remove("")
}

// syncBuffer is a log the session's goroutines write while the test
// reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// harness is one connection and its surroundings.
type harness struct {
	t      *testing.T
	j      *journal
	log    *syncBuffer
	link   *fakeLink
	iface  *fakeIface
	ac     *discoverytest.Port
	host   *discoverytest.Port
	dc     *discovery.Client
	c      *connection
	events chan ppp.Event
	seen   []ppp.Event // events waitEvent took
	peer   *ppp.Session
	done   chan error // the connection's run
	peerOK chan struct{}
	readAC chan struct{}
	// termReqs counts our LCP Terminate-Requests on the wire.
	termReqs atomic.Int32
	dm       *onDemand // with setup.demand
}

type setup struct {
	cfg      Config
	peer     ppp.Config      // the AC's PPP session; IPv4 is filled in when nil
	pipe     ppptest.Config  // the link between them
	failing  string          // the fakeIface method that fails
	failErr  error           // and how
	npFail   ppp.Protocol    // the protocol whose SetNPMode fails
	openFail error           // netcfg.Open's failure
	hold     chan struct{}   // the session's goroutine waits on it after IPv4Up
	acName   string          // the AC's, from discovery
	service  string          // the Service-Name the AC granted
	json     bool            // log with slog's JSON handler
	ctx      context.Context // the connection's
	demand   *fakeUnit       // dial on demand's unit (demand_test.go); nil: without
	journal  *journal        // the harness's journal, for callbacks that run before start returns; nil: a new one
}

// start runs a connection in the bubble; stop (registered with t) tears
// the surroundings down once the test is over.
func start(t *testing.T, s setup) *harness {
	t.Helper()
	j := s.journal
	if j == nil {
		j = &journal{}
	}
	h := &harness{t: t, j: j, log: &syncBuffer{}, events: make(chan ppp.Event, 64), done: make(chan error, 1),
		peerOK: make(chan struct{}), readAC: make(chan struct{})}
	if s.cfg.Interface == "" {
		s.cfg.Interface, s.cfg.User = "eth0", "user"
	}
	s.cfg.Logger = slog.New(slog.NewTextHandler(h.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if s.json {
		s.cfg.Logger = slog.New(slog.NewJSONHandler(h.log, nil))
	}
	s.cfg.OnEvent = func(e ppp.Event) {
		if _, ok := e.(ppp.EchoRTT); ok {
			return // one a keepalive: a test sleeping an hour would fill the channel
		}
		h.events <- e
		if _, ok := e.(ppp.IPv4Up); ok && s.hold != nil {
			<-s.hold
		}
	}
	if err := s.cfg.fill(); err != nil {
		t.Fatal(err)
	}
	if s.peer.IPv4 == nil {
		s.peer.IPv4 = &ppp.IPv4Config{Local: acAddr, Pool: ppptest.NewPool(clientAddr, 1), DNS: []netip.Addr{dnsAddr}}
	}
	s.peer.Role = ppp.RoleServer
	s.pipe.Tap = func(from string, proto ppp.Protocol, b []byte, _ bool) {
		if from == "a" && proto == ppp.ProtoLCP && len(b) > 0 && ppp.Code(b[0]) == ppp.CodeTermReq {
			h.termReqs.Add(1)
		}
	}
	ours, theirs := ppptest.Pipe(s.pipe)
	h.link = &fakeLink{End: ours, j: h.j, npFail: s.npFail}
	h.iface = &fakeIface{j: h.j, fail: s.failing, failErr: s.failErr}
	h.peer = ppp.NewSession(theirs, s.peer)
	go func() {
		defer close(h.peerOK)
		h.peer.Run(context.Background())
	}()

	seg := &discoverytest.Segment{}
	h.host, h.ac = seg.Port("02:00:00:00:00:01"), seg.Port("02:00:00:00:00:02")
	h.dc = discovery.NewClient(h.host, discovery.ClientConfig{Logger: s.cfg.Logger})
	go h.collectPADTs()
	pppoe := &discovery.Session{ID: sessionID, AC: h.ac.MAC, HostUniq: []byte("pppoed"), ACName: cmp.Or(s.acName, "ac"), ServiceName: s.service}
	h.c = &connection{cfg: &s.cfg, log: s.cfg.Logger, start: time.Now(), pppoe: pppoe, link: h.link, ifname: "ppp0",
		openIface: func(name string, _ *slog.Logger) (ifconfig, error) {
			if s.openFail != nil {
				return nil, s.openFail
			}
			h.j.add("iface opened %s", name)
			return h.iface, nil
		}}
	ctx := s.ctx
	if ctx == nil {
		ctx = context.Background()
	}
	if s.demand != nil {
		h.c.dm = newOnDemand(&s.cfg, s.demand, &fakeDemandIface{h.iface})
		h.c.dm.local, h.c.dm.peer = placeholders(s.demand.Number())
		h.dm = h.c.dm
	}
	go func() { h.done <- h.c.run(ctx, h.dc, 0) }()
	t.Cleanup(func() {
		theirs.Close()
		<-h.peerOK
		h.dc.Close()
		seg.Close()
		<-h.readAC
	})
	return h
}

// collectPADTs journals every PADT the AC receives.
func (h *harness) collectPADTs() {
	defer close(h.readAC)
	for {
		b, _, err := h.ac.Receive()
		if err != nil {
			return
		}
		if p, err := discovery.Parse(b); err == nil && p.Code == discovery.CodePADT {
			h.j.add("PADT 0x%x", p.SessionID)
		}
	}
}

// sendPADT is the AC ending the session.
func (h *harness) sendPADT(reason string) {
	b, err := (&discovery.Packet{Code: discovery.CodePADT, SessionID: sessionID, Tags: []discovery.Tag{discovery.GenericError(reason)}}).Marshal()
	if err != nil {
		h.t.Fatal(err)
	}
	h.ac.WriteTo(b, &packet.Addr{HardwareAddr: h.host.MAC})
}

// waitEvent waits for the connection to have acted on an event of type T.
func waitEvent[T ppp.Event](h *harness) T {
	h.t.Helper()
	for _, e := range h.seen {
		if v, ok := e.(T); ok {
			return v
		}
	}
	for {
		select {
		case e := <-h.events:
			h.seen = append(h.seen, e)
			if v, ok := e.(T); ok {
				return v
			}
		case err := <-h.done:
			var zero T
			h.t.Fatalf("the connection ended before %T: %v\n%s", zero, err, h.log)
		}
	}
}

func (h *harness) wait() error {
	h.t.Helper()
	select {
	case err := <-h.done:
		synctest.Wait() // the AC's reader has journaled what it got
		return err
	case <-time.After(time.Hour):
		h.t.Fatalf("the connection did not end\n%s", h.log)
		return nil
	}
}

// A stop asked for tears down in the documented order (see
// connection.run): each NCP stops its protocol in the unit before undoing
// its configuration, the link is closed, what is left is undone, and the
// PADT goes last.
func TestConnectionTeardownOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		h := start(t, setup{ctx: ctx, peer: ppp.Config{IPv6: &ppp.IPv6Config{}},
			cfg: Config{DefaultRoute: netcfg.RouteAdd, UsePeerDNS: true, ResolvConf: "/run/test/resolv.conf"}})
		waitEvent[ppp.IPv4Up](h)
		waitEvent[ppp.IPv6Up](h)
		synctest.Wait()
		if got := h.iface.left(); len(got) != 4 {
			t.Fatalf("configured while up: %q", got)
		}
		h.j.add("stop")
		cancel()
		if err := h.wait(); err != nil {
			t.Fatalf("a stop asked for: %v\n%s", err, h.log)
		}
		want := []string{
			"link IP drop",
			"iface routes removed",
			"iface IPv4 addresses removed",
			"iface files removed",
			"link IPV6 drop",
			"iface IPv6 addresses removed",
			"link closed",
			"iface closed",
			fmt.Sprintf("PADT 0x%x", sessionID),
		}
		if got := h.j.after("stop"); !slices.Equal(got, want) {
			t.Errorf("teardown:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if got := h.iface.left(); len(got) != 0 {
			t.Errorf("left configured: %q", got)
		}
	})
}

// Exactly one PADT goes to the AC, from us, unless the AC sent one: then
// none. The kernel sees the AC's PADT too and drops the channel, which
// may reach the PPP session before our packet socket's copy does.
func TestConnectionPADT(t *testing.T) {
	tests := []struct {
		name   string
		end    func(h *harness, cancel context.CancelFunc)
		status int
		ours   int    // PADTs we send
		detail string // in the error
	}{
		{"we stop", func(h *harness, cancel context.CancelFunc) { cancel() }, ExitOK, 1, ""},
		{"their PADT", func(h *harness, _ context.CancelFunc) { h.sendPADT("idle timeout") }, ExitHangup, 0,
			"the access concentrator ended the session (PADT: idle timeout)"},
		{"the kernel saw their PADT first", func(h *harness, _ context.CancelFunc) {
			h.link.End.Close() // the channel goes: EOF
			time.Sleep(100 * time.Millisecond)
			h.sendPADT("bye")
		}, ExitHangup, 0, "the access concentrator ended the session (PADT: bye)"},
		{"the link went without a PADT", func(h *harness, _ context.CancelFunc) { h.link.End.Close() }, ExitHangup, 1, "link lost"},
		{"their PADT while we stop", func(h *harness, cancel context.CancelFunc) {
			cancel()
			time.Sleep(time.Second) // our Terminate-Request is unanswered
			h.sendPADT("bye")
		}, ExitOK, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				s := setup{ctx: ctx}
				if strings.Contains(tt.name, "while we stop") {
					s.pipe.Drop = dropTermReq // the AC never answers our Terminate-Request
				}
				h := start(t, s)
				waitEvent[ppp.IPv4Up](h)
				tt.end(h, cancel)
				err := h.wait()
				if ExitCode(err) != tt.status || tt.detail != "" && (err == nil || !strings.Contains(err.Error(), tt.detail)) {
					t.Errorf("ended with %v (status %d), want status %d and %q\n%s", err, ExitCode(err), tt.status, tt.detail, h.log)
				}
				if n := h.j.count(fmt.Sprintf("PADT 0x%x", sessionID)); n != tt.ours {
					t.Errorf("%d PADTs sent, want %d\n%s", n, tt.ours, strings.Join(h.j.all(), "\n"))
				}
				if got := h.iface.left(); len(got) != 0 {
					t.Errorf("left configured: %q", got)
				}
			})
		})
	}
}

// A failure to configure the interface or the unit ends the session with
// status 1 (pppd's fatal error) and leaves nothing configured; the AC
// hears of it (LCP Terminate, then the PADT).
func TestConnectionFailClose(t *testing.T) {
	tests := []struct {
		name    string
		failing string
		npFail  ppp.Protocol
		open    error
		want    string
	}{
		{"MTU at LinkUp", "SetMTU", 0, nil, "SetMTU failed"},
		{"address at IPv4Up", "AddIPv4", 0, nil, "AddIPv4 failed"},
		{"up at IPv4Up", "Up", 0, nil, "Up failed"},
		{"NP mode at IPv4Up", "", ppp.ProtoIPv4, nil, "PPPIOCSNPMODE failed"},
		{"default route at IPv4Up", "DefaultRoute", 0, nil, "DefaultRoute failed"},
		{"opening the interface", "", 0, errors.New("netcfg: interface ppp0: no such device"), "no such device"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := start(t, setup{failing: tt.failing, npFail: tt.npFail, openFail: tt.open,
					cfg: Config{DefaultRoute: netcfg.RouteAdd, UsePeerDNS: true, ResolvConf: "/run/test/resolv.conf"}})
				err := h.wait()
				if ExitCode(err) != ExitFatal || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("ended with %v (status %d), want status 1 and %q\n%s", err, ExitCode(err), tt.want, h.log)
				}
				if got := h.iface.left(); len(got) != 0 {
					t.Errorf("left configured: %q", got)
				}
				if n := h.j.count(fmt.Sprintf("PADT 0x%x", sessionID)); n != 1 {
					t.Errorf("%d PADTs, want 1", n)
				}
				if n := h.j.count("link closed"); n != 1 {
					t.Errorf("link closed %d times, want once\n%s", n, strings.Join(h.j.all(), "\n"))
				}
				if tt.open == nil && h.termReqs.Load() == 0 {
					t.Error("no LCP Terminate-Request reached the AC")
				}
			})
		})
	}
}

// The unit passes only the protocols whose NCP came up, and drops each
// again when its NCP goes down: with --no-ipv6, or a peer refusing
// IPv6CP, IPv6 never crosses the link.
func TestConnectionNPModes(t *testing.T) {
	tests := []struct {
		name     string
		noIPv4   bool
		noIPv6   bool
		peerIPv6 bool // the AC runs IPv6CP (else it sends Protocol-Reject)
		want     string
	}{
		{"both", false, false, true, "IP pass, drop; IPV6 pass, drop"},
		{"--no-ipv6", false, true, true, "IP pass, drop; IPV6"},
		{"the AC refuses IPv6CP", false, false, false, "IP pass, drop; IPV6"},
		{"--no-ipv4", true, false, true, "IP; IPV6 pass, drop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				s := setup{ctx: ctx, cfg: Config{NoIPv4: tt.noIPv4, NoIPv6: tt.noIPv6}}
				if tt.peerIPv6 {
					s.peer.IPv6 = &ppp.IPv6Config{}
				}
				h := start(t, s)
				if !tt.noIPv4 {
					waitEvent[ppp.IPv4Up](h)
				}
				if !tt.noIPv6 && tt.peerIPv6 {
					waitEvent[ppp.IPv6Up](h)
				}
				time.Sleep(time.Minute) // whatever else was to come has come
				cancel()
				if err := h.wait(); err != nil {
					t.Fatal(err)
				}
				// Each protocol's modes in order (IPv4's and IPv6's
				// interleave as their NCPs happen to finish).
				modes := map[string][]string{}
				for _, l := range h.j.all() {
					if f := strings.Fields(l); len(f) == 3 && f[0] == "link" {
						modes[f[1]] = append(modes[f[1]], f[2])
					}
				}
				got := strings.TrimSpace(strings.TrimSpace("IP "+strings.Join(modes["IP"], ", ")) + "; IPV6 " + strings.Join(modes["IPV6"], ", "))
				if got != tt.want {
					t.Errorf("NP modes set: %s, want %s\n%s", got, tt.want, h.log)
				}
			})
		})
	}
}

// An existing default route of the same metric is left alone, and the
// session stays up without ours, as pppd does ("not replacing existing
// default route"): ending it made systemd restart pppoed forever.
func TestConnectionDefaultRouteExists(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		exists := fmt.Errorf("netcfg: not replacing existing default route via 192.0.2.1 dev eth0 with metric 0: %w", netcfg.ErrDefaultRouteExists)
		h := start(t, setup{ctx: ctx, failing: "DefaultRoute", failErr: exists,
			cfg: Config{DefaultRoute: netcfg.RouteAdd, UsePeerDNS: true, ResolvConf: "/run/test/resolv.conf"}})
		waitEvent[ppp.IPv4Up](h)
		time.Sleep(time.Hour)
		select {
		case err := <-h.done:
			t.Fatalf("the session ended: %v\n%s", err, h.log)
		default:
		}
		if got := h.iface.left(); !slices.Equal(got, []string{"file /run/test/resolv.conf", "4 address 10.64.0.2"}) {
			t.Errorf("configured: %q, want the address and the name servers", got)
		}
		if !strings.Contains(h.log.String(), `level=WARN msg="client: netcfg: not replacing existing default route via 192.0.2.1 dev eth0 with metric 0`) {
			t.Errorf("no warning:\n%s", h.log)
		}
		cancel()
		if err := h.wait(); err != nil {
			t.Errorf("stop: %v", err)
		}
		if got := h.iface.left(); len(got) != 0 {
			t.Errorf("left configured: %q", got)
		}
	})
}

// dropTermReq makes the AC deaf to our Terminate-Requests.
func dropTermReq(from string, proto ppp.Protocol, b []byte) bool {
	return from == "a" && proto == ppp.ProtoLCP && len(b) > 0 && ppp.Code(b[0]) == ppp.CodeTermReq
}

// A second stop (Config.StopNow, a second signal in cmd) ends the wait
// for a Terminate-Ack that does not come at once, still sending the PADT
// and undoing everything, with a clean exit status; before the stop
// itself it means nothing.
func TestConnectionStopNow(t *testing.T) {
	tests := []struct {
		name  string
		early bool // StopNow before ctx ends
	}{
		{"second signal", false},
		{"StopNow first", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				now := make(chan struct{})
				h := start(t, setup{ctx: ctx, pipe: ppptest.Config{Drop: dropTermReq},
					cfg: Config{StopNow: now, DefaultRoute: netcfg.RouteAdd, UsePeerDNS: true, ResolvConf: "/run/test/resolv.conf"}})
				waitEvent[ppp.IPv4Up](h)
				if tt.early {
					close(now)
					time.Sleep(time.Hour)
					select {
					case err := <-h.done:
						t.Fatalf("StopNow alone ended the session: %v", err)
					default:
					}
					cancel()
				} else {
					cancel()
					time.Sleep(time.Second) // a Terminate-Request is out, unanswered
					close(now)
				}
				start := time.Now()
				err := h.wait()
				if err != nil {
					t.Errorf("ended with %v, want a clean stop", err)
				}
				if took := time.Since(start); took > 0 {
					t.Errorf("took %v after StopNow, want no wait at all\n%s", took, h.log)
				}
				if !tt.early && h.termReqs.Load() == 0 {
					t.Error("no Terminate-Request was sent first")
				}
				if n := h.j.count(fmt.Sprintf("PADT 0x%x", sessionID)); n != 1 {
					t.Errorf("%d PADTs, want 1", n)
				}
				if got := h.iface.left(); len(got) != 0 {
					t.Errorf("left configured: %q", got)
				}
				if n := h.j.count("link closed"); n != 1 {
					t.Errorf("link closed %d times", n)
				}
				if !strings.Contains(h.log.String(), "stopping at once") {
					t.Errorf("log:\n%s", h.log)
				}
			})
		})
	}
}

// Our hang-up may reach the session before the stop does (both are
// pending when its goroutine next looks): a stop asked for is still a
// clean exit (status 0), and there is no waiting for a PADT from the AC.
func TestConnectionStopNowRace(t *testing.T) {
	for i := range 16 {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			now, hold := make(chan struct{}), make(chan struct{})
			h := start(t, setup{ctx: ctx, hold: hold, cfg: Config{StopNow: now}})
			waitEvent[ppp.IPv4Up](h)
			cancel()
			close(now)
			synctest.Wait() // hung up, while the session's goroutine is busy
			close(hold)
			start := time.Now()
			if err := h.wait(); err != nil {
				t.Errorf("round %d: ended with %v (status %d), want a clean stop", i, err, ExitCode(err))
			}
			if took := time.Since(start); took > 0 {
				t.Errorf("round %d: took %v", i, took)
			}
		})
	}
}

// Without StopNow a stop waits for the Terminate-Ack, as RFC 1661 has it,
// and gives up after Max-Terminate Terminate-Requests (pppd: 2, 3 s
// apart).
func TestConnectionStopWaitsForTerminateAck(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		h := start(t, setup{ctx: ctx, pipe: ppptest.Config{Drop: dropTermReq}})
		waitEvent[ppp.IPv4Up](h)
		cancel()
		start := time.Now()
		if err := h.wait(); err != nil {
			t.Errorf("ended with %v", err)
		}
		if took := time.Since(start); took != 6*time.Second || h.termReqs.Load() != 2 {
			t.Errorf("took %v and %d Terminate-Requests, want 6s and 2", took, h.termReqs.Load())
		}
	})
}

// hostile is wire text made to take over a terminal: an escape sequence
// (ESC), a C1 control (CSI, U+009B), a bidi override (U+202E) and a line
// break that would forge a log line.
const hostile = "evil\x1b[2J\u009b31m\u202eop\nlevel=INFO msg=forged"

// What the AC and the peer say (the AC's name, the Service-Name, the
// authenticator's name, a Down detail) reaches the log escaped by
// peerlog.Text, whatever the handler: here slog's JSON handler, which
// escapes neither C1 controls nor bidi overrides itself.
func TestConnectionEscapesWireText(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, setup{json: true, acName: hostile, service: hostile,
			cfg:  Config{User: "user", Password: "secret"},
			peer: ppp.Config{Name: hostile, Require: []ppp.AuthMethod{ppp.AuthCHAPMD5}, Secrets: ppp.Secrets{"user": "secret"}}})
		waitEvent[ppp.IPv4Up](h)
		h.link.HangUp(errors.New(hostile)) // a Down detail from below, unescaped
		h.wait()
		var lines []string
		for _, l := range strings.Split(h.log.String(), "\n") {
			if strings.Contains(l, `"msg":"client: `) {
				lines = append(lines, l)
			}
		}
		for _, want := range []string{
			`"msg":"client: PPPoE session up"`, `"ac-name":"evil\\x1b[2J\\u009b31m\\u202eop\\nlevel=INFO msg=forged"`,
			`"service-name":"evil\\x1b`, `"msg":"client: authenticated","peer":"evil\\x1b`,
			`"msg":"client: session ended","reason":"link lost","detail":"evil\\x1b`,
		} {
			if !strings.Contains(strings.Join(lines, "\n"), want) {
				t.Errorf("no %s in\n%s", want, strings.Join(lines, "\n"))
			}
		}
		for _, l := range lines {
			if strings.ContainsAny(l, "\x1b\u009b\u202e") || strings.Contains(l, "\\u001b") || strings.Contains(l, `"msg":"forged"`) {
				t.Errorf("raw wire text in %q", l)
			}
			if strings.Contains(l, `\\\\x1b`) { // JSON's \\ is one backslash
				t.Errorf("wire text escaped twice in %q", l)
			}
		}
	})
}

// The connection speaks of pppN by its name.
func TestConnectionOpensItsInterface(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		h := start(t, setup{ctx: ctx})
		waitEvent[ppp.IPv4Up](h)
		cancel()
		h.wait()
		if all := h.j.all(); len(all) == 0 || all[0] != "iface opened ppp0" {
			t.Errorf("journal: %q", all)
		}
		if !strings.Contains(h.log.String(), `msg="client: IPv4 up" interface=ppp0 local=10.64.0.2 peer=10.64.0.1`) {
			t.Errorf("log:\n%s", h.log)
		}
	})
}

// What ppp already escaped (a peer's Terminate-Request text in the Down
// detail) is logged as it is, not escaped a second time.
func TestConnectionEscapesOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := start(t, setup{json: true})
		waitEvent[ppp.IPv4Up](h)
		h.peer.Close("bye \x1b[2J")
		h.wait()
		if !strings.Contains(h.log.String(), `"msg":"client: session ended","reason":"terminated by peer","detail":"bye \\x1b[2J"`) {
			t.Errorf("log:\n%s", h.log)
		}
	})
}

// Config.OnSettled: once per session, SettleDelay after its first network
// protocol came up (IPv6's coming later does not start it again), and
// never for a session that ended before.
func TestConnectionSettled(t *testing.T) {
	tests := []struct {
		name  string
		endIn time.Duration // the session ends this long after IPv4 up
		calls int
	}{
		{"up long enough", time.Hour, 1},
		{"ended before", SettleDelay - time.Second, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				var calls atomic.Int32
				var at time.Duration
				began := time.Now()
				h := start(t, setup{ctx: ctx, peer: ppp.Config{IPv6: &ppp.IPv6Config{}},
					cfg: Config{OnSettled: func() { calls.Add(1); at = time.Since(began) }}})
				waitEvent[ppp.IPv4Up](h)
				up := time.Since(began)
				waitEvent[ppp.IPv6Up](h)
				time.Sleep(min(tt.endIn, SettleDelay-time.Millisecond))
				synctest.Wait()
				if n := calls.Load(); n != 0 {
					t.Fatalf("OnSettled called %d times %v after IPv4 up, before SettleDelay", n, time.Since(began)-up)
				}
				if tt.endIn < SettleDelay {
					cancel()
					if err := h.wait(); err != nil {
						t.Fatal(err)
					}
				}
				time.Sleep(time.Minute)
				synctest.Wait()
				if n := calls.Load(); int(n) != tt.calls {
					t.Fatalf("OnSettled called %d times, want %d", n, tt.calls)
				}
				if tt.calls > 0 && at-up != SettleDelay {
					t.Errorf("OnSettled %v after IPv4 up, want %v", at-up, SettleDelay)
				}
			})
		})
	}
}
