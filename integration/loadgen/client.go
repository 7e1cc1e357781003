package loadgen

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/packet"
	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/ppp"
)

// client is one emulated host. Its goroutine runs discovery and then the
// PPP session; the reader hands it frames through disc and its link.
type client struct {
	g        *Generator
	index    int
	mac      [6]byte
	hostUniq [8]byte // the run's prefix and the index: tells offers apart
	disc     chan received
	sess     atomic.Pointer[session] // set from PADS until the session ends
	// padrs and extra bound the PADTs the reader sends for the AC's
	// extra sessions (see discoveryFrame).
	padrs, extra atomic.Int32

	started, settled bool // launcher, then the client's goroutine
	up               bool // the client's goroutine
}

// received is a PADO or PADS for the client.
type received struct {
	pkt  *discovery.Packet
	from [6]byte
}

// session is a confirmed PPPoE session: the reader delivers the frames
// from ac with id to link.
type session struct {
	ac   [6]byte
	id   uint16
	link *link
}

// discQueue holds the offers of a few ACs answering one PADI at once.
const discQueue = 4

func newClient(g *Generator, i int) *client {
	c := &client{g: g, index: i, disc: make(chan received, discQueue)}
	c.mac = [6]byte(clientMAC(g.cfg.MACBase, i))
	copy(c.hostUniq[:], g.run[:])
	binary.BigEndian.PutUint32(c.hostUniq[4:], uint32(i))
	return c
}

// discoveryFrame handles a discovery packet for c, on the reader's
// goroutine.
func (c *client) discoveryFrame(f discovery.Frame) {
	g := c.g
	p, err := discovery.Parse(f.Payload)
	if err != nil {
		g.malformed.Add(1)
		g.stray.Debug("loadgen: malformed discovery packet", "from", f.Src.String(), "err", err)
		return
	}
	from := [6]byte(f.Src)
	switch p.Code {
	case discovery.CodePADO, discovery.CodePADS:
		if hu, ok := discovery.Find[discovery.HostUniq](p); !ok || !bytes.Equal(hu, c.hostUniq[:]) {
			g.strayFrames.Add(1) // another run's, or forged
			return
		}
		if s := c.sess.Load(); s != nil {
			c.extraSession(s, p, from)
			return
		}
		select {
		case c.disc <- received{pkt: p, from: from}:
		default:
			g.queueDrops.Add(1)
		}
	case discovery.CodePADT:
		// RFC 2516 §5.5: the PADT names the session by its id; ours are
		// told apart by our MAC (the frame's destination) and the AC's.
		s := c.sess.Load()
		if s == nil || s.ac != from || s.id != p.SessionID {
			g.strayFrames.Add(1)
			return
		}
		s.link.hangUp()
	default:
		g.strayFrames.Add(1)
	}
}

// extraSession ends a session the AC opened for one of c's retransmitted
// PADRs, after c took another: left alone, it would hold the AC's
// resources, which is what a benchmark measures. No more PADTs go out
// than c sent PADRs beyond the first, whatever arrives.
func (c *client) extraSession(s *session, p *discovery.Packet, from [6]byte) {
	if p.Code != discovery.CodePADS || from != s.ac || p.SessionID == s.id || p.Error() != nil {
		c.g.strayFrames.Add(1)
		return
	}
	if c.extra.Add(1) > c.padrs.Load()-1 {
		c.g.strayFrames.Add(1)
		return
	}
	_ = c.sendDiscovery(&discovery.Packet{Code: discovery.CodePADT, SessionID: p.SessionID}, net.HardwareAddr(from[:]))
}

// sessionFrame hands a session frame to c's PPP session, on the reader's
// goroutine.
func (c *client) sessionFrame(f discovery.Frame) {
	g := c.g
	sh, err := discovery.ParseSession(f.Payload)
	if err != nil {
		g.malformed.Add(1)
		return
	}
	s := c.sess.Load()
	if s == nil || s.ac != [6]byte(f.Src) || s.id != sh.SessionID {
		g.strayFrames.Add(1)
		return
	}
	proto, pkt, ok := splitProtocol(sh.Payload)
	if !ok {
		g.malformed.Add(1)
		return
	}
	if !proto.IsControl() {
		// Data: these clients have no network stack to give it to.
		g.strayFrames.Add(1)
		return
	}
	s.link.deliver(proto, bytes.Clone(pkt))
}

// splitProtocol reads a PPP frame's protocol field. Every protocol number
// is odd, with an even high octet (RFC 1661 §2); an odd first octet is a
// field compressed to one octet (§6.5), which the kernel's ppp_generic
// accepts unasked, so we do too.
func splitProtocol(b []byte) (ppp.Protocol, []byte, bool) {
	if len(b) >= 1 && b[0]&1 == 1 {
		return ppp.Protocol(b[0]), b[1:], true
	}
	if len(b) < 2 || b[1]&1 == 0 {
		return 0, nil, false
	}
	return ppp.Protocol(binary.BigEndian.Uint16(b)), b[2:], true
}

// sendDiscovery sends p from c's MAC to to.
func (c *client) sendDiscovery(p *discovery.Packet, to net.HardwareAddr) error {
	payload, err := p.Marshal()
	if err != nil {
		return fmt.Errorf("loadgen: %w", err)
	}
	b, err := discovery.AppendFrame(make([]byte, 0, discovery.EthernetHeaderLen+len(payload)), to, c.mac[:], discovery.EtherTypeDiscovery, payload)
	if err != nil {
		return fmt.Errorf("loadgen: %w", err)
	}
	if _, err := c.g.conn.WriteTo(b, &packet.Addr{HardwareAddr: to}); err != nil {
		return fmt.Errorf("loadgen: sending %s: %w", p.Code, err)
	}
	return nil
}

// run is the client's goroutine: discovery, then the session.
func (c *client) run() {
	g := c.g
	defer g.wg.Done()
	user, password := g.cfg.User, g.cfg.Password
	if g.cfg.Credentials != nil {
		user, password = g.cfg.Credentials(c.index)
	}
	s, reason, detail := c.discover()
	if reason != "" {
		g.fail(c, reason, detail)
		return
	}
	c.session(s, user, password)
}

// discover runs RFC 2516 §5.1-5.4 from c's MAC: PADI to broadcast until
// an acceptable PADO, then PADR to its AC until the PADS, each wait
// doubling with every retransmission as pppd's does.
func (c *client) discover() (*session, string, string) {
	g := c.g
	t := g.cfg.Timers
	padi := &discovery.Packet{Code: discovery.CodePADI, Tags: []discovery.Tag{
		discovery.ServiceName(g.cfg.ServiceName), discovery.HostUniq(c.hostUniq[:])}}
	offer, reason, detail := c.exchange(padi, discovery.Broadcast, t.PADI, t.PADIAttempts, FailNoPADO,
		func(n int) {
			now := time.Now()
			g.update(c.index, func(r *Client) {
				r.PADIs = n
				if n == 1 {
					r.FirstPADI = now
				}
			})
		}, c.acceptOffer)
	if reason != "" {
		return nil, reason, detail
	}
	padr := &discovery.Packet{Code: discovery.CodePADR, Tags: []discovery.Tag{
		discovery.ServiceName(g.cfg.ServiceName), discovery.HostUniq(c.hostUniq[:])}}
	// The cookie and the relay's id go back as they came (§5.2, §5.3).
	if ck, ok := discovery.Find[discovery.ACCookie](offer.pkt); ok {
		padr.Tags = append(padr.Tags, ck)
	}
	if r, ok := discovery.Find[discovery.RelaySessionID](offer.pkt); ok {
		padr.Tags = append(padr.Tags, r)
	}
	ac := net.HardwareAddr(offer.from[:])
	pads, reason, detail := c.exchange(padr, ac, t.PADR, t.PADRAttempts, FailNoPADS,
		func(n int) {
			c.padrs.Store(int32(n))
			g.update(c.index, func(r *Client) { r.PADRs = n })
		},
		func(r received) bool { return r.pkt.Code == discovery.CodePADS && r.from == offer.from })
	if reason != "" {
		return nil, reason, detail
	}
	if e := pads.pkt.Error(); e != nil {
		// §5.4: a refusal. The tag renders printable, as a packet dump
		// does, whatever the AC put in it.
		return nil, "PADS " + e.Type().String(), e.String()
	}
	s := &session{ac: offer.from, id: pads.pkt.SessionID}
	s.link = newLink(c, ac, s.id)
	now := time.Now()
	g.update(c.index, func(r *Client) { r.PADS, r.AC, r.SessionID = now, ac, s.id })
	c.sess.Store(s)
	// PADSs for retransmitted PADRs that came before the Store: from
	// now on the reader hands them to extraSession itself.
	for {
		select {
		case r := <-c.disc:
			c.extraSession(s, r.pkt, r.from)
		default:
			return s, "", ""
		}
	}
}

// exchange sends p to to until accept takes a reply: attempts times, the
// wait doubling each time. sent records each transmission.
func (c *client) exchange(p *discovery.Packet, to net.HardwareAddr, wait time.Duration, attempts int,
	timeout string, sent func(n int), accept func(received) bool) (received, string, string) {
	for n := 1; n <= attempts; n++ {
		if err := c.sendDiscovery(p, to); err != nil {
			return received{}, FailSend, err.Error()
		}
		sent(n)
		if r, ok := c.await(wait, accept); ok {
			return r, "", ""
		}
		if c.g.ctx.Err() != nil {
			return received{}, FailStopped, ""
		}
		wait *= 2
	}
	return received{}, timeout, ""
}

// await waits d for a reply that accept takes, ignoring the others.
func (c *client) await(d time.Duration, accept func(received) bool) (received, bool) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case r := <-c.disc:
			if accept(r) {
				return r, true
			}
		case <-t.C:
			return received{}, false
		case <-c.g.ctx.Done():
			return received{}, false
		}
	}
}

// acceptOffer takes a PADO as pppd does: from a unicast MAC, without an
// error tag, from the AC asked for, offering the service asked for.
func (c *client) acceptOffer(r received) bool {
	cfg := &c.g.cfg
	p := r.pkt
	if p.Code != discovery.CodePADO || !discovery.ValidUnicast(r.from[:]) || p.Error() != nil {
		return false
	}
	if cfg.ACName != "" {
		if n, ok := discovery.Find[discovery.ACName](p); !ok || string(n) != cfg.ACName {
			return false
		}
	}
	if cfg.ServiceName != "" {
		for _, s := range discovery.FindAll[discovery.ServiceName](p) {
			if string(s) == cfg.ServiceName {
				return true
			}
		}
		return false
	}
	return true
}

// session runs PPP's client role over s until the AC or Stop ends it,
// then sends the PADT (unless the AC's PADT ended it).
func (c *client) session(s *session, user, password string) {
	g := c.g
	ps := ppp.NewSession(s.link, ppp.Config{
		Role:        ppp.RoleClient,
		Timers:      g.cfg.Timers.PPP,
		AuthTimeout: g.cfg.Timers.Auth,
		User:        user,
		Password:    password,
		Allow:       g.cfg.Allow,
		IPv4:        &ppp.IPv4Config{},
		OnEvent:     c.event,
	})
	err := ps.Run(g.ctx)
	c.sess.Store(nil)
	if !s.link.hungUp() {
		// §5.5; the AC may have gone, so a failure changes nothing.
		_ = c.sendDiscovery(&discovery.Packet{Code: discovery.CodePADT, SessionID: s.id}, s.link.ac)
	}
	c.ended(err, s.link.hungUp())
}

// event records the session's progress; it runs on c's goroutine (the
// session's Run).
func (c *client) event(e ppp.Event) {
	g := c.g
	switch e := e.(type) {
	case ppp.LinkUp:
		now := time.Now()
		g.update(c.index, func(r *Client) { r.LinkUp = now })
	case ppp.IPv4Up:
		if c.up {
			return
		}
		c.up = true
		now := time.Now()
		g.update(c.index, func(r *Client) { r.Up, r.Addr = now, e.Local })
		g.settle(c)
	}
}

// ended records how the session ended: a failed set-up, or a session
// that was up and that the AC ended before Stop.
func (c *client) ended(err error, padt bool) {
	g := c.g
	reason, detail := "ppp: unknown", ""
	var de *ppp.DownError
	if errors.As(err, &de) {
		reason, detail = "ppp: "+de.Reason.String(), de.Detail
	}
	stopping := g.ctx.Err() != nil
	switch {
	case c.up && stopping:
	case c.up:
		now := time.Now()
		g.update(c.index, func(r *Client) { r.Down, r.DownReason = now, reason })
	case padt:
		g.fail(c, FailPADT, "")
	case stopping:
		g.fail(c, FailStopped, "")
	default:
		g.fail(c, reason, detail)
	}
}

// linkQueue is a session's backlog of received control frames: a
// negotiation has a few in flight at most.
const linkQueue = 16

// link is a client's ppp.Link: control frames in PPPoE session frames
// (RFC 2516 §6) over the generator's socket. It is a ppp.FrameChannel:
// the session selects on its queue, so that no reader goroutine per
// client is needed.
type link struct {
	c    *client
	ac   net.HardwareAddr
	id   uint16
	in   chan ppp.Frame
	down chan struct{} // closed by the AC's PADT or by Close
	once sync.Once
	why  error // why down closed; set before
}

func newLink(c *client, ac net.HardwareAddr, id uint16) *link {
	return &link{c: c, ac: ac, id: id, in: make(chan ppp.Frame, linkQueue), down: make(chan struct{})}
}

// errPADT is what ReadFrame returns once the AC sent a PADT.
var errPADT = errors.New("PADT from the access concentrator")

func (l *link) deliver(proto ppp.Protocol, b []byte) {
	select {
	case l.in <- ppp.Frame{Proto: proto, Data: b}:
	default:
		l.c.g.queueDrops.Add(1)
	}
}

// end takes the link down for why; the first reason stands.
func (l *link) end(why error) {
	l.once.Do(func() {
		l.why = why
		close(l.down)
	})
}

func (l *link) hangUp() { l.end(errPADT) }

// hungUp reports whether the AC's PADT took the link down.
func (l *link) hungUp() bool {
	select {
	case <-l.down:
		return l.why == errPADT
	default:
		return false
	}
}

// Frames implements ppp.FrameChannel.
func (l *link) Frames() (<-chan ppp.Frame, <-chan struct{}) { return l.in, l.down }

// ReadFrame implements ppp.Link; once the link is down it says why at
// once, frames still queued or not.
func (l *link) ReadFrame() (ppp.Protocol, []byte, error) {
	select {
	case <-l.down:
		return 0, nil, l.why
	default:
	}
	select {
	case f := <-l.in:
		return f.Proto, f.Data, nil
	case <-l.down:
		return 0, nil, l.why
	}
}

// WriteFrame implements ppp.Link: the frame goes from the client's MAC to
// the AC's, with the session's id and the 2-octet protocol field (PPPoE
// never compresses it, RFC 2516 §7).
func (l *link) WriteFrame(proto ppp.Protocol, p []byte) error {
	select {
	case <-l.down:
		return fmt.Errorf("loadgen: session %#x: %w", l.id, net.ErrClosed)
	default:
	}
	payload := binary.BigEndian.AppendUint16(make([]byte, 0, 2+len(p)), uint16(proto))
	payload = append(payload, p...)
	b := make([]byte, 0, discovery.EthernetHeaderLen+discovery.HeaderLen+len(payload))
	b, err := discovery.AppendFrame(b, l.ac, l.c.mac[:], discovery.EtherTypeSession, nil)
	if err == nil {
		b, err = discovery.AppendSession(b, l.id, payload)
	}
	if err == nil {
		_, err = l.c.g.conn.WriteTo(b, &packet.Addr{HardwareAddr: l.ac})
	}
	if err != nil {
		return fmt.Errorf("loadgen: session %#x: %w", l.id, err)
	}
	return nil
}

// Close implements ppp.Link.
func (l *link) Close() error {
	l.end(net.ErrClosed)
	return nil
}
