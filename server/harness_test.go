package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mdlayher/packet"
	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/pppox"
	"github.com/pppoed/pppoed/status"
)

// The AC under test runs in memory: a fakeConn per interface carries its
// Discovery frames (raw Ethernet, as packet.Raw does), a fakeKernel makes
// each session's link, and a ppp.Session in RoleClient on the link's
// other end is the client. Tests run in synctest bubbles, so the AC's
// timers (restart, keepalive, SetupTimeout) take no real time.

// fakeConn is an interface's Discovery socket.
type fakeConn struct {
	in     chan []byte   // frames to the AC
	out    chan outFrame // frames from the AC
	stop   chan struct{}
	once   sync.Once
	closed chan struct{}
	cOnce  sync.Once

	mu       sync.Mutex
	writeErr error
}

type outFrame struct {
	b  []byte
	to net.HardwareAddr // WriteTo's address
}

func newFakeConn() *fakeConn {
	return &fakeConn{in: make(chan []byte, 64), out: make(chan outFrame, 4096), stop: make(chan struct{}), closed: make(chan struct{})}
}

func (c *fakeConn) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case <-c.closed:
		return 0, nil, net.ErrClosed
	case <-c.stop:
		return 0, nil, os.ErrDeadlineExceeded
	default:
	}
	select {
	case f := <-c.in:
		return copy(b, f), nil, nil
	case <-c.stop:
		return 0, nil, os.ErrDeadlineExceeded
	case <-c.closed:
		return 0, nil, net.ErrClosed
	}
}

func (c *fakeConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	select {
	case <-c.closed:
		return 0, net.ErrClosed
	default:
	}
	c.mu.Lock()
	err := c.writeErr
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	var to net.HardwareAddr
	if pa, ok := addr.(*packet.Addr); ok {
		to = pa.HardwareAddr
	}
	select {
	case c.out <- outFrame{slices.Clone(b), to}:
	default:
		panic("fakeConn: the test reads none of the AC's frames")
	}
	return len(b), nil
}

// SetReadDeadline in the past ends reads for good, as stopReading uses it.
func (c *fakeConn) SetReadDeadline(t time.Time) error {
	if !t.IsZero() && !t.After(time.Now()) {
		c.once.Do(func() { close(c.stop) })
	}
	return nil
}

func (c *fakeConn) isClosed() bool {
	select {
	case <-c.closed:
		return true
	default:
		return false
	}
}

func (c *fakeConn) Close() error {
	c.cOnce.Do(func() { close(c.closed) })
	return nil
}

// lframe is a PPP frame on a fake link.
type lframe struct {
	proto ppp.Protocol
	b     []byte
}

// fakeKernel makes fakeLinks and records what the AC asks of it.
type fakeKernel struct {
	mu      sync.Mutex
	n       int
	links   []*fakeLink
	opened  chan *fakeLink
	calls   []string // "setMTU ppp0 1492", "addAddr ...", "up ...", "rename ...", "removeAddrs ...", "close"
	closed  bool
	openErr error
	// fail, when set, makes the named operation ("setMTU", "addAddr",
	// "up", "rename", "counters") fail.
	fail map[string]error
	// traffic are pppN's counters by name (setCounters).
	traffic map[string]status.Counters
}

func newFakeKernel() *fakeKernel {
	return &fakeKernel{opened: make(chan *fakeLink, 256), fail: map[string]error{}}
}

func (k *fakeKernel) record(op string, err error) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls = append(k.calls, op)
	return err
}

func (k *fakeKernel) failure(op string) error {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.fail[op]
}

func (k *fakeKernel) setFail(op string, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.fail[op] = err
}

func (k *fakeKernel) open(cfg pppox.Config) (kernelLink, error) {
	k.mu.Lock()
	if k.openErr != nil {
		k.mu.Unlock()
		return nil, k.openErr
	}
	cfg.AC = slices.Clone(cfg.AC) // the caller's may be its read buffer
	l := &fakeLink{
		k: k, cfg: cfg, name: fmt.Sprintf("pppt%d", k.n),
		toServer: make(chan lframe, 256), toClient: make(chan lframe, 256),
		hup: make(chan struct{}), done: make(chan struct{}), clientGone: make(chan struct{}),
		mru: cfg.MRU, modes: map[ppp.Protocol]pppox.NPMode{},
	}
	k.n++
	k.links = append(k.links, l)
	k.calls = append(k.calls, "open "+l.name)
	k.mu.Unlock()
	k.opened <- l
	return l, nil
}

func (k *fakeKernel) setMTU(ifname string, mtu int) error {
	return k.record(fmt.Sprintf("setMTU %s %d", ifname, mtu), k.failure("setMTU"))
}

func (k *fakeKernel) addAddr(ifname string, local, peer netip.Addr) error {
	return k.record(fmt.Sprintf("addAddr %s %s %s", ifname, local, peer), k.failure("addAddr"))
}

func (k *fakeKernel) up(ifname string) error {
	return k.record("up "+ifname, k.failure("up"))
}

func (k *fakeKernel) rename(ifname, name string) error {
	err := k.failure("rename")
	if err == nil {
		k.mu.Lock()
		for _, l := range k.links {
			if l.name == ifname {
				l.name = name
			}
		}
		k.mu.Unlock()
	}
	return k.record(fmt.Sprintf("rename %s %s", ifname, name), err)
}

func (k *fakeKernel) removeAddrs(ifname string, family int) {
	_ = k.record(fmt.Sprintf("removeAddrs %s %d", ifname, family), nil)
}

// counters are the ones setCounters gave ifname (zeros if none).
func (k *fakeKernel) counters(ifname string) (*status.Counters, error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if err := k.fail["counters"]; err != nil {
		return nil, err
	}
	c := k.traffic[ifname]
	return &c, nil
}

func (k *fakeKernel) setCounters(ifname string, c status.Counters) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.traffic == nil {
		k.traffic = map[string]status.Counters{}
	}
	k.traffic[ifname] = c
}

func (k *fakeKernel) close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, l := range k.links {
		select {
		case <-l.done:
		default:
			panic("fakeKernel: closed while link " + l.name + " is open")
		}
	}
	k.closed = true
	k.calls = append(k.calls, "close")
	return nil
}

func (k *fakeKernel) callLog() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	return slices.Clone(k.calls)
}

// fakeLink is a session's link: its AC end is the kernelLink, its client
// end (client()) a ppp.Link.
type fakeLink struct {
	k                  *fakeKernel
	cfg                pppox.Config
	name               string // the kernel's, until renamed (k.mu)
	toServer, toClient chan lframe

	hup     chan struct{}
	hupErr  error
	hupOnce sync.Once

	done       chan struct{} // the AC closed the link
	closeOnce  sync.Once
	clientGone chan struct{} // the client's session closed its end
	clientOnce sync.Once

	mu        sync.Mutex
	mute      bool // the client's frames are lost: it went silent
	mru       int
	modes     map[ppp.Protocol]pppox.NPMode
	sent      []ppp.Packet // what the AC sent, parsed
	lastHeard time.Time    // when the AC last got a frame from the client
	dataAt    time.Time    // when the unit last received data (received)
}

// ReadFrame implements ppp.Link for the AC.
func (l *fakeLink) ReadFrame() (ppp.Protocol, []byte, error) {
	select {
	case <-l.done:
		return 0, nil, io.EOF
	case <-l.hup:
		return 0, nil, l.hupErr
	default:
	}
	select {
	case f := <-l.toServer:
		return f.proto, f.b, nil
	case <-l.hup:
		return 0, nil, l.hupErr
	case <-l.done:
		return 0, nil, io.EOF
	}
}

// WriteFrame implements ppp.Link for the AC.
func (l *fakeLink) WriteFrame(proto ppp.Protocol, b []byte) error {
	select {
	case <-l.done:
		return os.ErrClosed
	default:
	}
	if p, err := ppp.Parse(proto, b); err == nil {
		l.mu.Lock()
		l.sent = append(l.sent, p)
		l.mu.Unlock()
	}
	select {
	case l.toClient <- lframe{proto, slices.Clone(b)}:
	case <-l.clientGone:
	default: // a full queue loses it
	}
	return nil
}

func (l *fakeLink) Close() error {
	l.closeOnce.Do(func() {
		close(l.done)
		l.k.mu.Lock()
		l.k.calls = append(l.k.calls, "closeLink "+l.name)
		l.k.mu.Unlock()
	})
	return nil
}

func (l *fakeLink) isClosed() bool {
	select {
	case <-l.done:
		return true
	default:
		return false
	}
}

// ReceiveIdle: no data reaches the fake's unit, unless received says
// when some did.
func (l *fakeLink) ReceiveIdle() time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.dataAt.IsZero() {
		return 1<<63 - 1
	}
	return time.Since(l.dataAt)
}

// received makes the fake's unit have received a data packet now.
func (l *fakeLink) received() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.dataAt = time.Now()
}

func (l *fakeLink) HangUp(err error) {
	if err == nil {
		err = io.EOF
	}
	l.hupOnce.Do(func() {
		l.hupErr = err
		close(l.hup)
	})
}

func (l *fakeLink) SetMRU(mru int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mru = mru
	return nil
}

func (l *fakeLink) SetNPMode(proto ppp.Protocol, mode pppox.NPMode) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.modes[proto] = mode
	return nil
}

func (l *fakeLink) ifname() string {
	l.k.mu.Lock()
	defer l.k.mu.Unlock()
	return l.name
}

func (l *fakeLink) setMute(on bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.mute = on
}

func (l *fakeLink) sentPackets() []ppp.Packet {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.sent)
}

// sentCode reports whether the AC sent a packet of proto and code.
func (l *fakeLink) sentCode(proto ppp.Protocol, code ppp.Code) bool {
	return slices.ContainsFunc(l.sentPackets(), func(p ppp.Packet) bool { return p.Protocol == proto && p.Code == code })
}

func (l *fakeLink) mode(proto ppp.Protocol) (pppox.NPMode, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m, ok := l.modes[proto]
	return m, ok
}

// clientEnd is the client's side of a fakeLink.
type clientEnd struct{ l *fakeLink }

func (c clientEnd) ReadFrame() (ppp.Protocol, []byte, error) {
	l := c.l
	// What the AC sent before it closed is read first.
	select {
	case f := <-l.toClient:
		return f.proto, f.b, nil
	default:
	}
	select {
	case f := <-l.toClient:
		return f.proto, f.b, nil
	case <-l.done:
		return 0, nil, io.EOF
	case <-l.clientGone:
		return 0, nil, io.EOF
	}
}

func (c clientEnd) WriteFrame(proto ppp.Protocol, b []byte) error {
	l := c.l
	select {
	case <-l.clientGone:
		return os.ErrClosed
	default:
	}
	l.mu.Lock()
	mute := l.mute
	if !mute {
		l.lastHeard = time.Now()
	}
	l.mu.Unlock()
	if mute {
		return nil
	}
	select {
	case l.toServer <- lframe{proto, slices.Clone(b)}:
	case <-l.done:
	default:
	}
	return nil
}

func (c clientEnd) Close() error {
	c.l.clientOnce.Do(func() { close(c.l.clientGone) })
	return nil
}

// Test addresses.
var (
	acMAC0 = net.HardwareAddr{0x02, 0xac, 0, 0, 0, 0x01} // eth0's
	macA   = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	macB   = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0b}
	macC   = net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0c}
)

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// testConfig: one interface, PAP, a pool of three, two static users.
func testConfig() Config {
	return Config{
		Interfaces: []Interface{{Name: "eth0"}},
		ACName:     "test-ac",
		Auth:       []ppp.AuthMethod{ppp.AuthPAP},
		Profiles: []Profile{
			{Name: "default", LocalAddress: ip("10.0.0.1"), RemotePool: "pool", DNS: []netip.Addr{ip("10.0.0.53")}},
		},
		Pools: []PoolConfig{{Name: "pool", Ranges: []Range{{ip("10.0.0.10"), ip("10.0.0.12")}}}},
		Users: []User{
			{Name: "alice", Password: "alice-pw"},
			{Name: "bob", Password: "bob-pw"},
		},
		ControlSocket: "-",
	}
}

// harness runs a Server in memory. Make it inside a synctest bubble.
type harness struct {
	t      *testing.T
	s      *Server
	k      *fakeKernel
	conns  map[string]*fakeConn
	ifis   map[string]*net.Interface
	cancel context.CancelFunc
	runErr chan error
	// clients ends each client when the test ends.
	clients []*client
}

// harnessOpts shape the interfaces.
type harnessOpts struct {
	mtu   map[string]int  // an interface's MTU (default 1500)
	setup func(s *Server) // runs before Run
}

func startHarness(t *testing.T, cfg Config, opts ...harnessOpts) *harness {
	t.Helper()
	var o harnessOpts
	if len(opts) > 0 {
		o = opts[0]
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	h := &harness{t: t, s: s, k: newFakeKernel(), conns: map[string]*fakeConn{}, ifis: map[string]*net.Interface{}, runErr: make(chan error, 1)}
	for i, ic := range cfg.Interfaces {
		mac := net.HardwareAddr{0x02, 0xac, 0, 0, 0, byte(i + 1)}
		mtu := 1500
		if m, ok := o.mtu[ic.Name]; ok {
			mtu = m
		}
		h.ifis[ic.Name] = &net.Interface{Index: i + 2, MTU: mtu, Name: ic.Name, HardwareAddr: mac}
		h.conns[ic.Name] = newFakeConn()
	}
	s.kernel = h.k
	s.iface = func(name string) (*net.Interface, error) {
		ifi, ok := h.ifis[name]
		if !ok {
			return nil, errors.New("no such interface")
		}
		return ifi, nil
	}
	s.listen = func(ifi *net.Interface) (frameConn, error) { return h.conns[ifi.Name], nil }
	if o.setup != nil {
		o.setup(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel = cancel
	go func() { h.runErr <- s.Run(ctx) }()
	synctest.Wait()
	t.Cleanup(h.stop)
	return h
}

// stop ends Run and waits for it and for every client.
func (h *harness) stop() {
	h.cancel()
	if err := h.waitRun(); err != nil {
		h.t.Errorf("Run: %v", err)
	}
	for _, c := range h.clients {
		c.stop()
	}
}

// waitRun waits for Run to return (its ctx ended) and returns its error;
// it may be called again.
func (h *harness) waitRun() error {
	h.t.Helper()
	select {
	case err := <-h.runErr:
		h.runErr <- err
		return err
	case <-time.After(waitLimit):
		h.t.Fatalf("Run has not returned %v after its ctx ended", waitLimit)
		return nil
	}
}

// frameFrom builds an Ethernet frame carrying pkt.
func frameFrom(t testing.TB, dst, src net.HardwareAddr, pkt *discovery.Packet) []byte {
	t.Helper()
	payload, err := pkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	b, err := discovery.AppendFrame(nil, dst, src, discovery.EtherTypeDiscovery, payload)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// inject hands the AC a frame on ifname and lets it handle it.
func (h *harness) inject(ifname string, b []byte) {
	h.t.Helper()
	h.conns[ifname].in <- b
	synctest.Wait()
}

// send is inject for a packet.
func (h *harness) send(ifname string, dst, src net.HardwareAddr, pkt *discovery.Packet) {
	h.t.Helper()
	h.inject(ifname, frameFrom(h.t, dst, src, pkt))
}

// sent is what the AC sent on ifname since the last call, parsed.
type sentFrame struct {
	dst, src net.HardwareAddr
	pkt      *discovery.Packet
	raw      []byte
}

func (h *harness) sent(ifname string) []sentFrame {
	h.t.Helper()
	synctest.Wait()
	var out []sentFrame
	for {
		select {
		case o := <-h.conns[ifname].out:
			b := o.b
			f, err := discovery.ParseFrame(b)
			if err != nil {
				h.t.Fatalf("the AC sent a bad frame % x: %v", b, err)
			}
			if !bytes.Equal(o.to, f.Dst) || !bytes.Equal(f.Src, h.ifis[ifname].HardwareAddr) {
				h.t.Fatalf("the AC sent a frame from %v to %v through WriteTo(%v)", f.Src, f.Dst, o.to)
			}
			p, err := discovery.Parse(f.Payload)
			if err != nil {
				h.t.Fatalf("the AC sent a bad packet % x: %v", b, err)
			}
			out = append(out, sentFrame{dst: f.Dst, src: f.Src, pkt: p, raw: b})
		default:
			return out
		}
	}
}

// one is the one frame the AC sent on ifname.
func (h *harness) one(ifname string, code discovery.Code) sentFrame {
	h.t.Helper()
	return h.only(ifname, code, h.sent(ifname))
}

// answer is one for a PADO or PADS: PADTs for sessions that ended
// meanwhile are passed over.
func (h *harness) answer(ifname string, code discovery.Code) sentFrame {
	h.t.Helper()
	fs := slices.DeleteFunc(h.sent(ifname), func(f sentFrame) bool { return f.pkt.Code == discovery.CodePADT })
	return h.only(ifname, code, fs)
}

func (h *harness) only(ifname string, code discovery.Code, fs []sentFrame) sentFrame {
	h.t.Helper()
	if len(fs) != 1 || fs[0].pkt.Code != code {
		h.t.Fatalf("the AC sent %s, want one %v", describe(fs), code)
	}
	return fs[0]
}

// none checks the AC sent nothing on ifname.
func (h *harness) none(ifname string) {
	h.t.Helper()
	if fs := h.sent(ifname); len(fs) != 0 {
		h.t.Fatalf("the AC sent %s, want nothing", describe(fs))
	}
}

func describe(fs []sentFrame) string {
	if len(fs) == 0 {
		return "nothing"
	}
	var s []string
	for _, f := range fs {
		s = append(s, fmt.Sprintf("%v to %v", f.pkt, f.dst))
	}
	return fmt.Sprint(s)
}

func (h *harness) counters() Counters {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return h.s.counters
}

func (h *harness) nsessions() int {
	h.s.mu.Lock()
	defer h.s.mu.Unlock()
	return len(h.s.sessions)
}

func padi(tags ...discovery.Tag) *discovery.Packet {
	return &discovery.Packet{Code: discovery.CodePADI, Tags: tags}
}

// offer sends a PADI from mac on ifname and returns the PADO's cookie.
func (h *harness) offer(ifname string, mac net.HardwareAddr, tags ...discovery.Tag) discovery.ACCookie {
	h.t.Helper()
	if len(tags) == 0 {
		tags = []discovery.Tag{discovery.ServiceName("")}
	}
	h.send(ifname, discovery.Broadcast, mac, padi(tags...))
	f := h.answer(ifname, discovery.CodePADO)
	c, ok := discovery.Find[discovery.ACCookie](f.pkt)
	if !ok {
		h.t.Fatal("PADO without a cookie")
	}
	return c
}

// request sends a PADR with cookie and returns the AC's answer.
func (h *harness) request(ifname string, mac net.HardwareAddr, cookie discovery.ACCookie, tags ...discovery.Tag) sentFrame {
	h.t.Helper()
	if len(tags) == 0 {
		tags = []discovery.Tag{discovery.ServiceName("")}
	}
	tags = append(tags, cookie)
	h.send(ifname, h.ifis[ifname].HardwareAddr, mac, &discovery.Packet{Code: discovery.CodePADR, Tags: tags})
	return h.answer(ifname, discovery.CodePADS)
}

// client is a PPPoE client of the AC: its session id, the fake link the
// AC made for it, and its PPP engine once started.
type client struct {
	h      *harness
	ifname string
	mac    net.HardwareAddr
	id     uint16
	link   *fakeLink
	sess   *ppp.Session
	cancel context.CancelFunc
	events chan ppp.Event
	done   chan error
}

// session runs Discovery for mac on ifname up to the PADS.
func (h *harness) session(ifname string, mac net.HardwareAddr) *client {
	h.t.Helper()
	cookie := h.offer(ifname, mac)
	pads := h.request(ifname, mac, cookie)
	if pads.pkt.SessionID == 0 {
		h.t.Fatalf("PADS refused the session: %v", pads.pkt)
	}
	var l *fakeLink
	select {
	case l = <-h.k.opened:
	default:
		h.t.Fatal("a PADS, but no link was made")
	}
	if l.cfg.SessionID != pads.pkt.SessionID || l.cfg.AC.String() != mac.String() || l.cfg.Interface != ifname {
		h.t.Fatalf("link made for %v, want session %#x with %v on %s", l.cfg, pads.pkt.SessionID, mac, ifname)
	}
	c := &client{h: h, ifname: ifname, mac: mac, id: pads.pkt.SessionID, link: l, events: make(chan ppp.Event, 64), done: make(chan error, 1)}
	h.clients = append(h.clients, c)
	return c
}

// login runs the client's PPP: user and password, the methods it allows.
func (c *client) login(user, password string, mods ...func(*ppp.Config)) {
	cfg := ppp.Config{
		Role: ppp.RoleClient, User: user, Password: password,
		IPv4:    &ppp.IPv4Config{RequestDNS: true},
		OnEvent: func(ev ppp.Event) { c.events <- ev },
	}
	if c.h.s.cfg.IPv6 {
		cfg.IPv6 = &ppp.IPv6Config{}
	}
	for _, m := range mods {
		m(&cfg)
	}
	c.sess = ppp.NewSession(clientEnd{c.link}, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	c.cancel = cancel
	go func() { c.done <- c.sess.Run(ctx) }()
}

// connect is session and login, waiting for IPv4 up.
func (h *harness) connect(ifname string, mac net.HardwareAddr, user, password string, mods ...func(*ppp.Config)) (*client, ppp.IPv4Up) {
	h.t.Helper()
	c := h.session(ifname, mac)
	c.login(user, password, mods...)
	up, ok := c.waitIPv4()
	if !ok {
		h.t.Fatalf("%s did not get IPv4 up", user)
	}
	return c, up
}

// waitIPv4 waits for the client's IPv4Up (true) or its Down (false),
// then for the AC to be done with what the client sent. A client still
// negotiating after waitLimit fails the test.
func (c *client) waitIPv4() (ppp.IPv4Up, bool) {
	c.h.t.Helper()
	timeout := time.After(waitLimit)
	for {
		select {
		case ev := <-c.events:
			switch e := ev.(type) {
			case ppp.IPv4Up:
				synctest.Wait()
				return e, true
			case ppp.Down:
				synctest.Wait()
				return ppp.IPv4Up{}, false
			}
		case <-timeout:
			c.h.t.Fatalf("%v: neither IPv4 up nor down after %v", c.mac, waitLimit)
		}
	}
}

// waitLimit bounds the waits on a client (in the bubble's time), so that
// a session that never ends fails its test instead of hanging it.
const waitLimit = 10 * time.Minute

// waitDown waits for the client's session to end and returns its reason.
func (c *client) waitDown() *ppp.DownError {
	c.h.t.Helper()
	var err error
	select {
	case err = <-c.done:
	case <-time.After(waitLimit):
		c.h.t.Fatalf("%v: the client's session still runs after %v", c.mac, waitLimit)
	}
	c.done <- err
	var d *ppp.DownError
	errors.As(err, &d)
	return d
}

func (c *client) stop() {
	if c.sess == nil {
		return
	}
	c.cancel()
	if err := <-c.done; err != nil {
		c.done <- err
	}
}

// ended reports whether the AC's session of c is over: its link closed
// and its entry gone.
func (c *client) ended() bool {
	synctest.Wait()
	k := sessionKey{ifindex: c.h.ifis[c.ifname].Index, mac: macKey(c.mac), id: c.id}
	c.h.s.mu.Lock()
	_, ok := c.h.s.sessions[k]
	c.h.s.mu.Unlock()
	return !ok && c.link.isClosed()
}
