package loadgen

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/packet"
	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// end is one station of an in-memory Ethernet segment of two that carry
// raw frames, header included, as a raw packet socket does: the
// generator's end (any source MAC) and the AC's. Each direction delivers
// in order, after delay (a goroutine per end keeps the order, which
// timers of equal deadlines would not), and loses frames to a full queue.
// Only channels and timers: it works in synctest bubbles.
type end struct {
	in     chan []byte
	out    chan timed // to the peer, through the delivery goroutine
	peer   *end
	delay  time.Duration
	closed chan struct{}
	once   sync.Once
	done   chan struct{} // the delivery goroutine has returned
	// tap, when set, sees every frame this end writes (before delay).
	tap func([]byte)
}

type timed struct {
	due time.Time
	b   []byte
}

const segmentQueue = 4096

var errEndClosed = errors.New("segment: closed")

// newSegment returns the generator's end and the AC's; close both.
func newSegment(delay time.Duration) (gen, ac *end) {
	mk := func() *end {
		return &end{in: make(chan []byte, segmentQueue), out: make(chan timed, segmentQueue), delay: delay,
			closed: make(chan struct{}), done: make(chan struct{})}
	}
	gen, ac = mk(), mk()
	gen.peer, ac.peer = ac, gen
	go gen.deliver()
	go ac.deliver()
	return gen, ac
}

// deliver passes the frames written at e to its peer. Frames written
// before Close still arrive, as a socket's sent frames do.
func (e *end) deliver() {
	defer close(e.done)
	send := func(f timed) {
		if d := time.Until(f.due); d > 0 {
			time.Sleep(d)
		}
		select {
		case e.peer.in <- f.b:
		default: // a full queue loses it
		}
	}
	for {
		select {
		case f := <-e.out:
			send(f)
		case <-e.closed:
			for {
				select {
				case f := <-e.out:
					send(f)
				default:
					return
				}
			}
		}
	}
}

func (e *end) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case <-e.closed:
		return 0, nil, errEndClosed
	default:
	}
	select {
	case f := <-e.in:
		return copy(b, f), &packet.Addr{HardwareAddr: net.HardwareAddr(slices.Clone(f[6:12]))}, nil
	case <-e.closed:
		return 0, nil, errEndClosed
	}
}

func (e *end) WriteTo(b []byte, _ net.Addr) (int, error) {
	select {
	case <-e.closed:
		return 0, errEndClosed
	default:
	}
	if e.tap != nil {
		e.tap(slices.Clone(b))
	}
	select {
	case e.out <- timed{time.Now().Add(e.delay), slices.Clone(b)}:
	default:
	}
	return len(b), nil
}

func (e *end) Close() error {
	e.once.Do(func() { close(e.closed) })
	<-e.done
	return nil
}

// acMAC is the test AC's address; rogueMAC another station's.
var (
	acMAC    = net.HardwareAddr{0x0a, 0xac, 0, 0, 0, 1}
	rogueMAC = net.HardwareAddr{0x0a, 0xba, 0xd0, 0, 0, 2}
)

// testAC is a scripted access concentrator on the AC's end: PADO, PADS
// and, per session, the ppp engine's server role. It records what the
// clients send; hooks shape its answers.
type testAC struct {
	t      testing.TB
	port   *end
	method ppp.AuthMethod
	users  ppp.Secrets
	pool   *ppptest.Pool
	// padi and padr, when set, decide whether to answer the nth PADI or
	// PADR from a MAC (n from 1).
	padi, padr func(from net.HardwareAddr, n int) bool
	// refuse, when set, is the error tag every PADS carries instead.
	refuse discovery.Tag
	// sameID gives every session the same id (an AC bug).
	sameID bool
	// mute loses every frame of this protocol the AC's sessions send.
	mute ppp.Protocol
	// pads, when set, replaces sending a PADS (for scripting).
	pads func(to net.HardwareAddr, p *discovery.Packet)

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	done   chan struct{}

	mu       sync.Mutex
	padis    map[string][]time.Time
	padrs    map[string]int
	nextID   uint16
	sessions []*acSession
	padts    []padt // received
	termReqs map[uint16]int
	protRejs int
	toRogue  int // discovery frames the generator sent the rogue MAC
}

type padt struct {
	from net.HardwareAddr
	id   uint16
}

// acSession is a session at the test AC and its ppp.Link.
type acSession struct {
	ac      *testAC
	client  net.HardwareAddr
	id      uint16
	in      chan ppp.Frame
	hup     chan struct{}
	once    sync.Once
	ps      *ppp.Session
	mu      sync.Mutex
	addr    netip.Addr
	ended   bool
	endedBy ppp.Reason
}

func newTestAC(t testing.TB, port *end, method ppp.AuthMethod, users ppp.Secrets) *testAC {
	ac := &testAC{t: t, port: port, method: method, users: users,
		pool:  ppptest.NewPool(netip.MustParseAddr("10.0.0.2"), 1000),
		padis: map[string][]time.Time{}, padrs: map[string]int{}, nextID: 0x100, termReqs: map[uint16]int{},
		done: make(chan struct{})}
	ac.ctx, ac.cancel = context.WithCancel(context.Background())
	return ac
}

func (ac *testAC) start() { go ac.serve() }

// close ends the AC's sessions and its reader.
func (ac *testAC) close() {
	ac.mu.Lock()
	ss := slices.Clone(ac.sessions)
	ac.mu.Unlock()
	for _, s := range ss {
		s.hangUp()
	}
	ac.cancel()
	ac.wg.Wait()
	ac.port.Close()
	<-ac.done
}

func (ac *testAC) sendDisc(from, to net.HardwareAddr, p *discovery.Packet) {
	b, err := p.Marshal()
	if err != nil {
		ac.t.Errorf("test AC: %v", err)
		return
	}
	f, _ := discovery.AppendFrame(nil, to, from, discovery.EtherTypeDiscovery, b)
	ac.port.WriteTo(f, nil)
}

func (ac *testAC) sendSession(from, to net.HardwareAddr, id uint16, payload []byte) {
	f, _ := discovery.AppendFrame(nil, to, from, discovery.EtherTypeSession, nil)
	f, _ = discovery.AppendSession(f, id, payload)
	ac.port.WriteTo(f, nil)
}

func (ac *testAC) serve() {
	defer close(ac.done)
	buf := make([]byte, 2000)
	for {
		n, _, err := ac.port.ReadFrom(buf)
		if err != nil {
			return
		}
		f, err := discovery.ParseFrame(buf[:n])
		if err != nil {
			ac.t.Errorf("test AC: %v", err)
			continue
		}
		if f.EtherType == discovery.EtherTypeSession {
			ac.session(f)
			continue
		}
		p, err := discovery.Parse(f.Payload)
		if err != nil {
			ac.t.Errorf("test AC: malformed discovery packet from the generator: %v", err)
			continue
		}
		from := slices.Clone(f.Src)
		if f.Dst.String() == rogueMAC.String() {
			ac.mu.Lock()
			ac.toRogue++
			ac.mu.Unlock()
			continue
		}
		hu, _ := discovery.Find[discovery.HostUniq](p)
		switch p.Code {
		case discovery.CodePADI:
			ac.mu.Lock()
			ac.padis[from.String()] = append(ac.padis[from.String()], time.Now())
			k := len(ac.padis[from.String()])
			ac.mu.Unlock()
			if ac.padi != nil && !ac.padi(from, k) {
				continue
			}
			ac.sendDisc(acMAC, from, &discovery.Packet{Code: discovery.CodePADO, Tags: []discovery.Tag{
				discovery.ACName("test-ac"), discovery.ServiceName("isp"), discovery.ACCookie("cookie"), hu}})
		case discovery.CodePADR:
			ac.mu.Lock()
			ac.padrs[from.String()]++
			k := ac.padrs[from.String()]
			ac.mu.Unlock()
			if ck, _ := discovery.Find[discovery.ACCookie](p); string(ck) != "cookie" {
				ac.t.Errorf("test AC: PADR from %v without the cookie", from)
				continue
			}
			if ac.padr != nil && !ac.padr(from, k) {
				continue
			}
			if ac.refuse != nil {
				ac.sendDisc(acMAC, from, &discovery.Packet{Code: discovery.CodePADS, Tags: []discovery.Tag{hu, ac.refuse}})
				continue
			}
			s := ac.open(from)
			pads := &discovery.Packet{Code: discovery.CodePADS, SessionID: s.id, Tags: []discovery.Tag{discovery.ServiceName("isp"), hu}}
			if ac.pads != nil {
				ac.pads(from, pads)
			} else {
				ac.sendDisc(acMAC, from, pads)
			}
		case discovery.CodePADT:
			ac.mu.Lock()
			ac.padts = append(ac.padts, padt{from, p.SessionID})
			var hit *acSession
			for _, s := range ac.sessions {
				if s.id == p.SessionID && s.client.String() == from.String() {
					hit = s
				}
			}
			ac.mu.Unlock()
			if hit != nil {
				hit.hangUp()
			}
		}
	}
}

// open starts a session's PPP for client.
func (ac *testAC) open(client net.HardwareAddr) *acSession {
	ac.mu.Lock()
	s := &acSession{ac: ac, client: client, id: ac.nextID, in: make(chan ppp.Frame, 64), hup: make(chan struct{})}
	if !ac.sameID {
		ac.nextID++
	}
	ac.sessions = append(ac.sessions, s)
	ac.mu.Unlock()
	s.ps = ppp.NewSession(s, ppp.Config{
		Role: ppp.RoleServer, Name: "test-ac",
		Require: []ppp.AuthMethod{ac.method}, Secrets: ac.users,
		IPv4: &ppp.IPv4Config{Local: netip.MustParseAddr("10.0.0.1"), Pool: ac.pool},
		OnEvent: func(e ppp.Event) {
			s.mu.Lock()
			defer s.mu.Unlock()
			switch e := e.(type) {
			case ppp.IPv4Up:
				s.addr = e.Peer
			case ppp.Down:
				s.ended, s.endedBy = true, e.Reason
			}
		},
	})
	ac.wg.Add(1)
	go func() {
		defer ac.wg.Done()
		s.ps.Run(ac.ctx)
	}()
	return s
}

func (ac *testAC) session(f discovery.Frame) {
	sh, err := discovery.ParseSession(f.Payload)
	if err != nil {
		ac.t.Errorf("test AC: %v", err)
		return
	}
	proto, b, ok := splitProtocol(sh.Payload)
	if !ok {
		ac.t.Errorf("test AC: bad protocol field % x", sh.Payload)
		return
	}
	ac.mu.Lock()
	var hit *acSession
	for _, s := range ac.sessions {
		if s.id == sh.SessionID && s.client.String() == f.Src.String() {
			hit = s
		}
	}
	if proto == ppp.ProtoLCP && len(b) > 0 {
		switch ppp.Code(b[0]) {
		case ppp.CodeTermReq:
			ac.termReqs[sh.SessionID]++
		case ppp.CodeProtRej:
			ac.protRejs++
		}
	}
	ac.mu.Unlock()
	if hit != nil {
		hit.deliver(proto, slices.Clone(b))
	}
}

func (s *acSession) deliver(proto ppp.Protocol, b []byte) {
	select {
	case s.in <- ppp.Frame{Proto: proto, Data: b}:
	case <-s.hup:
	}
}

func (s *acSession) hangUp() { s.once.Do(func() { close(s.hup) }) }

func (s *acSession) ReadFrame() (ppp.Protocol, []byte, error) {
	select {
	case f := <-s.in:
		return f.Proto, f.Data, nil
	case <-s.hup:
		return 0, nil, io.EOF
	}
}

func (s *acSession) WriteFrame(proto ppp.Protocol, b []byte) error {
	if proto == s.ac.mute {
		return nil
	}
	s.ac.sendSession(acMAC, s.client, s.id, append(binary.BigEndian.AppendUint16(nil, uint16(proto)), b...))
	return nil
}

func (s *acSession) Close() error { s.hangUp(); return nil }

// sessionOf returns the AC's session with id.
func (ac *testAC) sessionOf(id uint16) *acSession {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	for _, s := range ac.sessions {
		if s.id == id {
			return s
		}
	}
	return nil
}

func (ac *testAC) padtsFrom(mac net.HardwareAddr) []uint16 {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	var ids []uint16
	for _, p := range ac.padts {
		if p.from.String() == mac.String() {
			ids = append(ids, p.id)
		}
	}
	return ids
}
