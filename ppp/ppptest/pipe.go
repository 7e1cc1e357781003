// Package ppptest provides an in-memory ppp.Link for tests: two connected
// ends, with optional loss, delay and duplication, and a tap on every frame.
// It uses only channels and timers, so it works inside testing/synctest
// bubbles, where protocol timeouts then take no real time.
package ppptest

import (
	"errors"
	"io"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/pppoed/pppoed/ppp"
)

// Config shapes a pipe's traffic. Rates are probabilities in [0, 1].
type Config struct {
	Loss      float64
	Duplicate float64
	Delay     time.Duration
	Seed      uint64 // for the loss and duplication decisions
	// Tap, when set, sees every frame written: the writing end's name
	// ("a" or "b"), the protocol and the packet, and whether it was lost.
	Tap func(from string, proto ppp.Protocol, packet []byte, lost bool)
	// Drop, when set, decides per frame whether to lose it (after Loss).
	Drop func(from string, proto ppp.Protocol, packet []byte) bool
}

type frame struct {
	proto ppp.Protocol
	b     []byte
}

type pipe struct {
	cfg    Config
	mu     sync.Mutex
	rnd    *rand.Rand
	closed chan struct{}
	once   sync.Once
}

// End is one end of a pipe; it implements ppp.Link.
type End struct {
	name string
	p    *pipe
	in   chan frame
	peer *End
}

// Pipe returns two connected ends, "a" and "b". Closing either hangs up
// both, as a PADT does.
func Pipe(cfg Config) (a, b *End) {
	p := &pipe{cfg: cfg, rnd: rand.New(rand.NewPCG(cfg.Seed, 0x9e3779b97f4a7c15)), closed: make(chan struct{})}
	a = &End{name: "a", p: p, in: make(chan frame, 1024)}
	b = &End{name: "b", p: p, in: make(chan frame, 1024)}
	a.peer, b.peer = b, a
	return a, b
}

// ErrClosed is returned by writes on a closed pipe.
var ErrClosed = errors.New("ppptest: pipe closed")

// ReadFrame implements ppp.Link; it returns io.EOF once the pipe is closed.
func (e *End) ReadFrame() (ppp.Protocol, []byte, error) {
	select {
	case f := <-e.in:
		return f.proto, f.b, nil
	case <-e.p.closed:
		return 0, nil, io.EOF
	}
}

// WriteFrame implements ppp.Link.
func (e *End) WriteFrame(proto ppp.Protocol, b []byte) error {
	select {
	case <-e.p.closed:
		return ErrClosed
	default:
	}
	b = append([]byte(nil), b...)
	p := e.p
	p.mu.Lock()
	lost := p.cfg.Loss > 0 && p.rnd.Float64() < p.cfg.Loss
	dup := p.cfg.Duplicate > 0 && p.rnd.Float64() < p.cfg.Duplicate
	p.mu.Unlock()
	if !lost && p.cfg.Drop != nil {
		lost = p.cfg.Drop(e.name, proto, b)
	}
	if p.cfg.Tap != nil {
		p.cfg.Tap(e.name, proto, b, lost)
	}
	if lost {
		return nil
	}
	n := 1
	if dup {
		n = 2
	}
	for range n {
		f := frame{proto, b}
		if p.cfg.Delay > 0 {
			time.AfterFunc(p.cfg.Delay, func() { e.peer.deliver(f) })
		} else {
			e.peer.deliver(f)
		}
	}
	return nil
}

func (e *End) deliver(f frame) {
	select {
	case e.in <- f:
	case <-e.p.closed:
	default:
		// A full queue loses the frame, as a real link would.
	}
}

// Close implements ppp.Link: both ends see EOF.
func (e *End) Close() error {
	e.p.once.Do(func() { close(e.p.closed) })
	return nil
}

// Send writes one control packet: for scripted peers in tests.
func (e *End) Send(proto ppp.Protocol, code ppp.Code, id uint8, data []byte) error {
	b, err := ppp.Packet{Protocol: proto, Code: code, ID: id, Data: data}.Append(nil)
	if err != nil {
		return err
	}
	return e.WriteFrame(proto, b)
}

// Receive reads the next frame as a packet: for scripted peers.
func (e *End) Receive() (ppp.Packet, error) {
	proto, b, err := e.ReadFrame()
	if err != nil {
		return ppp.Packet{}, err
	}
	return ppp.Parse(proto, b)
}
