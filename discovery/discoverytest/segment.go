// Package discoverytest provides an in-memory Ethernet segment for
// discovery tests: ports with MAC addresses that exchange PPPoE discovery
// datagrams, unicast or broadcast, as packet sockets of type Datagram do.
// It uses only channels, so it works inside testing/synctest bubbles.
package discoverytest

import (
	"errors"
	"net"
	"sync"

	"github.com/mdlayher/packet"
)

// Segment is a broadcast domain.
type Segment struct {
	mu    sync.Mutex
	ports []*Port
}

// Port is one station's packet socket on the segment; it implements
// discovery.Conn.
type Port struct {
	seg    *Segment
	MAC    net.HardwareAddr
	in     chan datagram
	closed chan struct{}
	once   sync.Once
	// Drop, when set, loses datagrams this port sends for which it
	// returns true.
	Drop func(b []byte, to net.HardwareAddr) bool
}

type datagram struct {
	b    []byte
	from net.HardwareAddr
}

// Port attaches a station with mac.
func (s *Segment) Port(mac string) *Port {
	m, err := net.ParseMAC(mac)
	if err != nil {
		panic(err)
	}
	p := &Port{seg: s, MAC: m, in: make(chan datagram, 256), closed: make(chan struct{})}
	s.mu.Lock()
	s.ports = append(s.ports, p)
	s.mu.Unlock()
	return p
}

// ErrClosed is returned by a closed port.
var ErrClosed = errors.New("discoverytest: port closed")

// ReadFrom returns the next datagram and its sender. It blocks until one
// arrives or the port is closed: Close ends a pending ReadFrom with
// ErrClosed, as closing a packet socket does, and a closed port returns
// nothing it still had queued.
func (p *Port) ReadFrom(b []byte) (int, net.Addr, error) {
	select {
	case <-p.closed:
		return 0, nil, ErrClosed
	default:
	}
	select {
	case d := <-p.in:
		return copy(b, d.b), &packet.Addr{HardwareAddr: d.from}, nil
	case <-p.closed:
		return 0, nil, ErrClosed
	}
}

// Inject queues b at p as though the station with MAC from had sent it:
// Ethernet does not stop a host from using any source address, so tests
// of hostile stations need this. Unlike WriteTo it loses nothing: it
// waits for room in p's queue, or returns ErrClosed once p is closed.
func (p *Port) Inject(b []byte, from net.HardwareAddr) error {
	select {
	case <-p.closed:
		return ErrClosed
	default:
	}
	d := datagram{append([]byte(nil), b...), append(net.HardwareAddr(nil), from...)}
	select {
	case p.in <- d:
		return nil
	case <-p.closed:
		return ErrClosed
	}
}

// WriteTo delivers b to the port with addr's MAC, or to every other port
// when addr is the broadcast address.
func (p *Port) WriteTo(b []byte, addr net.Addr) (int, error) {
	select {
	case <-p.closed:
		return 0, ErrClosed
	default:
	}
	to := addr.(*packet.Addr).HardwareAddr
	if p.Drop != nil && p.Drop(b, to) {
		return len(b), nil
	}
	broadcast := to.String() == "ff:ff:ff:ff:ff:ff"
	p.seg.mu.Lock()
	ports := append([]*Port(nil), p.seg.ports...)
	p.seg.mu.Unlock()
	for _, q := range ports {
		if q == p || !(broadcast || q.MAC.String() == to.String()) {
			continue
		}
		select {
		case q.in <- datagram{append([]byte(nil), b...), p.MAC}:
		case <-q.closed:
		default: // a full queue loses it
		}
	}
	return len(b), nil
}

// Close closes the port.
func (p *Port) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}

// Receive is ReadFrom for scripted stations: the datagram and its sender.
func (p *Port) Receive() ([]byte, net.HardwareAddr, error) {
	b := make([]byte, 2000)
	n, a, err := p.ReadFrom(b)
	if err != nil {
		return nil, nil, err
	}
	return b[:n], a.(*packet.Addr).HardwareAddr, nil
}

// Close closes every port, ending their readers.
func (s *Segment) Close() {
	s.mu.Lock()
	ports := append([]*Port(nil), s.ports...)
	s.mu.Unlock()
	for _, p := range ports {
		p.Close()
	}
}
