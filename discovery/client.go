package discovery

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mdlayher/packet"
	"github.com/pppoed/pppoed/internal/peerlog"
)

// Conn is what discovery needs of a packet socket bound to an interface
// and to the discovery EtherType: *packet.Conn of type packet.Datagram,
// whose addresses are *packet.Addr.
type Conn interface {
	ReadFrom(b []byte) (int, net.Addr, error)
	WriteTo(b []byte, addr net.Addr) (int, error)
	Close() error
}

// Listen opens a datagram packet socket for discovery on ifi: the kernel
// adds and strips the Ethernet header.
func Listen(ifi *net.Interface) (*packet.Conn, error) {
	c, err := packet.Listen(ifi, packet.Datagram, EtherTypeDiscovery, nil)
	if err != nil {
		return nil, fmt.Errorf("discovery: packet socket on %s: %w", ifi.Name, err)
	}
	return c, nil
}

// Implementation defaults, as pppd's PPPoE plugin has them.
const (
	DefaultTimeout  = 5 * time.Second // the first PADI's wait; it doubles
	DefaultAttempts = 3
	hostUniqLen     = 8
)

// Broadcast is the Ethernet broadcast address PADIs go to.
var Broadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// ClientConfig configures the host's side of discovery.
type ClientConfig struct {
	// ServiceName is the service asked for; "" accepts any (RFC 2516
	// appendix A).
	ServiceName string
	// ACName and ACMAC, when set, select among the offers; otherwise the
	// first valid offer is taken.
	ACName string
	ACMAC  net.HardwareAddr
	// HostUniq is echoed by the AC; nil picks 8 random octets.
	HostUniq []byte
	// MaxPayload, when above DefaultMTU, is sent as RFC 4638's
	// PPP-Max-Payload in the PADI and PADR.
	MaxPayload uint16
	// Timeout is the wait for the first answer to a PADI or PADR; each
	// retransmission doubles it. Attempts bounds the PADIs and the PADRs.
	Timeout  time.Duration
	Attempts int
	Logger   *slog.Logger
}

// Offer is an access concentrator's PADO. Its text fields (ACName,
// Services) are as the AC sent them, control characters and escape
// sequences included: escape them (peerlog.Text) before they reach a
// terminal or a log. Error is already printable, rendered as a packet dump
// renders the tag.
type Offer struct {
	AC             net.HardwareAddr
	ACName         string
	Services       []string
	Cookie         []byte
	RelaySessionID []byte
	MaxPayload     uint16 // RFC 4638, 0 when the AC does not offer it
	Error          string // an error tag in the PADO, if any
	Packet         *Packet
}

// Session is an established PPPoE session. ACName and ServiceName are as
// the AC sent them: escape them (peerlog.Text) for display.
type Session struct {
	ID             uint16
	AC             net.HardwareAddr
	ACName         string
	ServiceName    string
	HostUniq       []byte
	RelaySessionID []byte
	// MaxPayload is what the AC echoed of our PPP-Max-Payload in its PADS
	// (RFC 4638 §4), never more than we asked; 0 when it did not or we
	// did not ask, and the MRU stays at most DefaultMTU.
	MaxPayload uint16
}

// Stats counts the discovery packets that were ignored, by reason.
type Stats struct {
	Malformed     int // failed to parse
	Unexpected    int // a code we were not waiting for
	WrongHostUniq int // a Host-Uniq other than ours (another host's reply)
	WrongMAC      int // from a MAC we did not choose, or a multicast one
	NotSelected   int // an offer the ACName, ACMAC or ServiceName filters refused
	ACErrors      int // offers carrying an error tag
	ScanOverflow  int // offers from ACs past the 256 a Scan lists
}

// RefusedError is an AC's refusal in its PADS: the error tag, as it came.
// Error() escapes the AC's text; Tag holds it raw.
type RefusedError struct {
	AC  net.HardwareAddr
	Tag Tag
}

func (e *RefusedError) Error() string {
	text := errorText(e.Tag)
	if text == "" {
		return fmt.Sprintf("discovery: access concentrator %s refused the session: %s", e.AC, e.Tag.Type())
	}
	return fmt.Sprintf("discovery: access concentrator %s refused the session: %s: %s", e.AC, e.Tag.Type(), peerlog.Text(text))
}

// errorText is the raw text of an error tag (Service-Name-Error,
// AC-System-Error, Generic-Error); "" for other tags.
func errorText(t Tag) string {
	switch v := t.(type) {
	case ServiceNameError:
		return string(v)
	case ACSystemError:
		return string(v)
	case GenericError:
		return string(v)
	}
	return ""
}

// ErrNoOffer is returned (wrapped) when no acceptable PADO arrived.
var ErrNoOffer = errors.New("no access concentrator answered")

// ErrNoConfirmation is returned (wrapped) when the chosen AC never
// confirmed the session with a PADS.
var ErrNoConfirmation = errors.New("no session confirmation (PADS)")

type received struct {
	pkt  *Packet
	from net.HardwareAddr
}

// Client runs the host's side of discovery on one packet socket. A single
// goroutine reads the socket for the client's lifetime, so the same socket
// serves discovery, PADT watching and sending PADT.
type Client struct {
	conn Conn
	cfg  ClientConfig
	log  *slog.Logger
	in   chan received
	done chan struct{} // closed by Close
	// stopped is closed when the reader has returned, for whatever
	// reason (readErr, set before): waiters select on it, and Close
	// waits for it, so no goroutine outlives Close.
	stopped chan struct{}
	readErr error
	once    sync.Once
	mu      sync.Mutex
	stats   Stats
	// peer bounds the lines any station on the segment can cause (a
	// malformed packet, a reply for another host, ...); dumps bounds
	// the debug dumps of what we receive.
	peer, dumps *peerlog.Limiter
	// req is the last successful PADR exchange (under mu), for WaitPADT
	// to end the extra sessions our retransmitted PADRs may have opened.
	req request
}

// request is a PADR exchange: every PADR we send may open a session at
// the AC, so the AC may confirm up to padrs sessions, and ids are those
// it confirmed so far (the one we use, and the ones we ended).
type request struct {
	padrs int
	ids   []uint16
}

// extra reports whether id is a session the AC opened for one of our
// PADRs beyond the one we use, and records it: true at most padrs-1
// times, so that no amount of forged PADSs makes us send more PADTs than
// we sent PADRs.
func (r *request) extra(id uint16) bool {
	if slices.Contains(r.ids, id) || len(r.ids) >= r.padrs {
		return false
	}
	r.ids = append(r.ids, id)
	return true
}

// The debug dumps of received packets have their own, larger bucket than
// the complaints (peerlog's default ten, then one a second). A session's
// packets come from its one peer, but discovery's can come from any
// station on the segment, broadcast or forged, so their dumps need a
// bound too; yet the dumps are what --debug is for, and a scan of a busy
// segment legitimately brings one PADO per AC: the burst takes a full
// Scan (maxScanOffers PADOs) with room to spare, then ten a second.
const (
	dumpBurst = 2 * maxScanOffers
	dumpEvery = 100 * time.Millisecond
)

// NewClient starts a client on conn, which it closes on Close.
func NewClient(conn Conn, cfg ClientConfig) *Client {
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.Attempts <= 0 {
		cfg.Attempts = DefaultAttempts
	}
	if cfg.HostUniq == nil {
		cfg.HostUniq = make([]byte, hostUniqLen)
		_, _ = rand.Read(cfg.HostUniq)
	}
	c := &Client{conn: conn, cfg: cfg, log: cfg.Logger, in: make(chan received, 64), done: make(chan struct{}), stopped: make(chan struct{})}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.peer = peerlog.New(c.log, peerlog.DefaultBurst, peerlog.DefaultEvery)
	c.dumps = peerlog.New(c.log, dumpBurst, dumpEvery)
	go c.read()
	return c
}

// read hands every discovery packet to c.in until the socket fails or
// Close. Close unblocks it either way: closing the socket ends a pending
// ReadFrom, and done ends a send to a c.in nobody reads.
func (c *Client) read() {
	defer close(c.stopped)
	buf := make([]byte, 1600)
	for {
		n, addr, err := c.conn.ReadFrom(buf)
		if err != nil {
			select {
			case <-c.done:
				c.readErr = net.ErrClosed
			default:
				c.readErr = err
			}
			return
		}
		pa, ok := addr.(*packet.Addr)
		if !ok {
			continue
		}
		p, perr := Parse(buf[:n])
		if perr != nil {
			c.count(func(s *Stats) { s.Malformed++ })
			c.peer.Debug("discovery: ignored malformed packet", "from", pa.HardwareAddr.String(), "err", perr)
			continue
		}
		select {
		case c.in <- received{pkt: p, from: slices.Clone(pa.HardwareAddr)}:
		case <-c.done:
			c.readErr = net.ErrClosed
			return
		}
	}
}

// stoppedErr is the reader's end, for a waiter that saw stopped.
func (c *Client) stoppedErr() error {
	return fmt.Errorf("discovery: reading: %w", c.readErr)
}

func (c *Client) count(f func(*Stats)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	f(&c.stats)
}

// ignore counts a received packet that is not for us and says why, within
// the peer's share of the log.
func (c *Client) ignore(r received, count func(*Stats), why string, args ...any) {
	if count != nil {
		c.count(count)
	}
	c.peer.Debug("discovery: ignored "+r.pkt.Code.String()+": "+why, append([]any{"from", r.from.String()}, args...)...)
}

// dump logs a received packet at debug level, within the dumps' share.
func (c *Client) dump(p *Packet) {
	if c.log.Enabled(context.Background(), slog.LevelDebug) {
		c.dumps.Debug("rcvd " + p.String())
	}
}

// Stats returns the counts of ignored packets so far.
func (c *Client) Stats() Stats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}

// Close stops the client and closes its socket. It returns once the
// goroutine reading the socket has ended; a Discover, Scan or WaitPADT
// still running returns an error wrapping net.ErrClosed.
func (c *Client) Close() error {
	var err error
	c.once.Do(func() {
		close(c.done)
		err = c.conn.Close()
	})
	<-c.stopped
	return err
}

func (c *Client) send(p *Packet, to net.HardwareAddr) error {
	b, err := p.Marshal()
	if err != nil {
		return err
	}
	if c.log.Enabled(context.Background(), slog.LevelDebug) {
		c.log.Debug("sent " + p.String())
	}
	if _, err := c.conn.WriteTo(b, &packet.Addr{HardwareAddr: to}); err != nil {
		return fmt.Errorf("discovery: sending %s: %w", p.Code, err)
	}
	return nil
}

func (c *Client) padi() *Packet {
	p := &Packet{Code: CodePADI, Tags: []Tag{ServiceName(c.cfg.ServiceName), HostUniq(c.cfg.HostUniq)}}
	if c.cfg.MaxPayload > DefaultMTU {
		p.Tags = append(p.Tags, PPPMaxPayload(c.cfg.MaxPayload))
	}
	return p
}

// ours reports whether a reply carries our Host-Uniq; replies to other
// hosts on the segment are counted and ignored.
func (c *Client) ours(r received) bool {
	hu, ok := Find[HostUniq](r.pkt)
	if !ok || !bytes.Equal(hu, c.cfg.HostUniq) {
		c.ignore(r, func(s *Stats) { s.WrongHostUniq++ }, "not our Host-Uniq")
		return false
	}
	return true
}

func offerOf(p *Packet, from net.HardwareAddr) Offer {
	o := Offer{AC: from, Packet: p}
	if n, ok := Find[ACName](p); ok {
		o.ACName = string(n)
	}
	for _, s := range FindAll[ServiceName](p) {
		o.Services = append(o.Services, string(s))
	}
	if ck, ok := Find[ACCookie](p); ok {
		o.Cookie = ck
	}
	if r, ok := Find[RelaySessionID](p); ok {
		o.RelaySessionID = r
	}
	if m, ok := Find[PPPMaxPayload](p); ok {
		o.MaxPayload = uint16(m)
	}
	if e := p.Error(); e != nil {
		o.Error = e.String()
	}
	return o
}

// acceptable applies the configured selection to an offer.
func (c *Client) acceptable(o Offer) bool {
	if len(c.cfg.ACMAC) > 0 && !bytes.Equal(o.AC, c.cfg.ACMAC) {
		return false
	}
	if c.cfg.ACName != "" && o.ACName != c.cfg.ACName {
		return false
	}
	if c.cfg.ServiceName != "" && !slices.Contains(o.Services, c.cfg.ServiceName) {
		return false
	}
	return true
}

// ValidUnicast says whether mac can be a station's own address: six
// octets, not a group address, not all zeros. An AC's, and a PADT's
// destination, must be one.
func ValidUnicast(mac net.HardwareAddr) bool {
	return len(mac) == 6 && mac[0]&1 == 0 && !bytes.Equal(mac, make([]byte, 6))
}

// Discover finds an access concentrator and has it open a session: PADI
// to broadcast until an acceptable PADO arrives, then PADR to that AC
// until its PADS (RFC 2516 §5.1-5.4).
//
// When ctx ends after a PADR went out, the AC may have opened a session
// that nobody will use, and RFC 2516 §5.5 lets either end close it with a
// PADT. So Discover goes on reading for a short grace (see graceFor),
// sends a PADT for each session the chosen AC confirms for our Host-Uniq,
// and only then returns ctx's cause. It never returns a session once ctx
// has ended.
//
// Each PADR may open its own session, so when the AC answers a
// retransmitted PADR as well as the first, it opens two: Discover takes
// the first PADS, and WaitPADT ends the others as their PADSs arrive.
func (c *Client) Discover(ctx context.Context) (*Session, error) {
	offer, rtt, err := c.offer(ctx)
	if err != nil {
		return nil, err
	}
	return c.request(ctx, offer, rtt)
}

// The grace for the PADSs still owed when ctx ends after PADRs went out.
// The PADI/PADO round trip measures the path and the AC's load, but a PADS
// costs the AC more than a PADO (it allocates the session, on some ACs
// after asking a RADIUS server), hence four round trips. The floor is for
// LANs, where the round trip is well below the AC's and our own scheduling
// delays, and for a PADO that answered an earlier PADI than the one timed;
// the ceiling because whoever ended ctx is stopping, a signal or a
// deadline, and an AC slower than that will drop the unused session
// itself when its keepalives go unanswered.
const (
	minGrace = 50 * time.Millisecond
	maxGrace = 500 * time.Millisecond
)

func graceFor(rtt time.Duration) time.Duration {
	return min(max(4*rtt, minGrace), maxGrace)
}

// errNoAnswer ends an exchange none of whose attempts was answered.
var errNoAnswer = errors.New("no answer")

// exchange is what sendAndWait did.
type exchange struct {
	sent int           // how many times the packet went out
	rtt  time.Duration // from the last send to the answer match accepted
}

// sendAndWait sends p to dst and hands every packet received to match
// until match accepts one; unanswered, it sends p again, attempts times
// in all, waiting wait after the first send and twice as long after each
// retransmission, as pppd does (RFC 2516 leaves the timing to the host).
// This is the loop of both PADI/PADO and PADR/PADS, shaped like
// nclient4's SendAndRead. It returns errNoAnswer when the last wait runs
// out, ctx's cause when ctx ends, and the reader's error after Close or a
// socket failure.
func (c *Client) sendAndWait(ctx context.Context, p *Packet, dst net.HardwareAddr, wait time.Duration, attempts int, match func(received) bool) (exchange, error) {
	var x exchange
	for x.sent < attempts {
		if err := ctx.Err(); err != nil {
			return x, fmt.Errorf("discovery: %w", context.Cause(ctx))
		}
		if err := c.send(p, dst); err != nil {
			return x, err
		}
		x.sent++
		start := time.Now()
		timer := time.NewTimer(wait)
		err := c.waitMatch(ctx, timer.C, match)
		timer.Stop()
		if err == nil {
			x.rtt = time.Since(start)
			return x, nil
		}
		if err != errNoAnswer {
			return x, err
		}
		c.log.Debug("discovery: no answer yet", "sent", p.Code.String(), "attempt", x.sent, "waited", wait.String())
		if wait < math.MaxInt64/2 {
			wait *= 2
		}
	}
	return x, errNoAnswer
}

// waitMatch hands received packets to match until it accepts one (nil),
// expired fires (errNoAnswer), ctx ends or the reader stops.
func (c *Client) waitMatch(ctx context.Context, expired <-chan time.Time, match func(received) bool) error {
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("discovery: %w", context.Cause(ctx))
		case <-c.stopped:
			return c.stoppedErr()
		case <-expired:
			return errNoAnswer
		case r := <-c.in:
			if match(r) {
				return nil
			}
		}
	}
}

// offer broadcasts PADIs until an acceptable PADO, and returns it with
// its round trip.
func (c *Client) offer(ctx context.Context) (Offer, time.Duration, error) {
	var got Offer
	var lastErr string
	x, err := c.sendAndWait(ctx, c.padi(), Broadcast, c.cfg.Timeout, c.cfg.Attempts, func(r received) bool {
		o, ok := c.offerFrom(r)
		if !ok {
			if e := r.pkt.Error(); r.pkt.Code == CodePADO && o.Error != "" {
				lastErr = fmt.Sprintf("%s (%s) answered with %s: %s", o.AC, peerlog.Text(o.ACName), e.Type(), peerlog.Text(errorText(e)))
			}
			return false
		}
		got = o
		return true
	})
	if errors.Is(err, errNoAnswer) {
		extra := ""
		if c.cfg.ServiceName != "" || c.cfg.ACName != "" || len(c.cfg.ACMAC) > 0 {
			extra += fmt.Sprintf(" (service-name %q, ac-name %q, ac-mac %v)", c.cfg.ServiceName, c.cfg.ACName, c.cfg.ACMAC)
		}
		if st := c.Stats(); st.NotSelected > 0 {
			extra += fmt.Sprintf("; %d offers did not match", st.NotSelected)
		}
		if lastErr != "" {
			extra += "; " + lastErr
		}
		return Offer{}, 0, fmt.Errorf("discovery: %w after %d PADIs%s", ErrNoOffer, c.cfg.Attempts, extra)
	}
	if err != nil {
		return Offer{}, 0, err
	}
	c.log.Info("discovery: offer", "ac", got.AC.String(), "ac-name", peerlog.Text(got.ACName), "services", textList(got.Services))
	return got, x.rtt, nil
}

// isPADO reports whether a received packet is a PADO for us from a
// unicast address; anything else is counted and ignored.
func (c *Client) isPADO(r received) bool {
	if r.pkt.Code != CodePADO {
		c.ignore(r, func(s *Stats) { s.Unexpected++ }, "waiting for a PADO")
		return false
	}
	if !c.ours(r) {
		return false
	}
	if !ValidUnicast(r.from) {
		c.ignore(r, func(s *Stats) { s.WrongMAC++ }, "not from a unicast address")
		return false
	}
	return true
}

// offerFrom checks a received packet as an offer for us.
func (c *Client) offerFrom(r received) (Offer, bool) {
	p := r.pkt
	if !c.isPADO(r) {
		return Offer{}, false
	}
	o := offerOf(p, r.from)
	c.dump(p)
	if e := p.Error(); e != nil {
		c.ignore(r, func(s *Stats) { s.ACErrors++ }, "it carries an error", "ac-name", peerlog.Text(o.ACName), "tag", e.Type().String(), "text", peerlog.Text(errorText(e)))
		return o, false
	}
	if !c.acceptable(o) {
		c.ignore(r, func(s *Stats) { s.NotSelected++ }, "not the access concentrator or service asked for", "ac-name", peerlog.Text(o.ACName), "services", textList(o.Services))
		return o, false
	}
	return o, true
}

// request sends PADRs to the chosen AC until its PADS; rtt is the
// offer's round trip.
func (c *Client) request(ctx context.Context, o Offer, rtt time.Duration) (*Session, error) {
	padr := &Packet{Code: CodePADR, Tags: []Tag{ServiceName(c.cfg.ServiceName), HostUniq(c.cfg.HostUniq)}}
	if o.Cookie != nil {
		padr.Tags = append(padr.Tags, ACCookie(o.Cookie)) // echoed unmodified (appendix A)
	}
	if o.RelaySessionID != nil {
		padr.Tags = append(padr.Tags, RelaySessionID(o.RelaySessionID))
	}
	if c.cfg.MaxPayload > DefaultMTU {
		padr.Tags = append(padr.Tags, PPPMaxPayload(c.cfg.MaxPayload))
	}
	var s *Session
	var refused error
	x, err := c.sendAndWait(ctx, padr, o.AC, c.cfg.Timeout, c.cfg.Attempts, func(r received) bool {
		var ok bool
		s, refused, ok = c.confirmation(r, o)
		return ok
	})
	if ctx.Err() != nil {
		// Stopped, maybe with PADRs out; a PADS that came as ctx ended
		// is no more ours to use than one still on its way. Here
		// req.padrs counts the PADRs not answered yet.
		req := request{padrs: x.sent}
		why := reason("pppoed: discovery stopped: " + context.Cause(ctx).Error())
		if err == nil {
			req.padrs-- // that PADR is answered
			if s != nil {
				c.endUnused(&req, s, why)
			}
		}
		c.linger(&req, o, graceFor(rtt), why)
		return nil, fmt.Errorf("discovery: %w", context.Cause(ctx))
	}
	if errors.Is(err, errNoAnswer) {
		return nil, fmt.Errorf("discovery: %w from %s after %d PADRs", ErrNoConfirmation, o.AC, c.cfg.Attempts)
	}
	if err != nil {
		return nil, err
	}
	if refused != nil {
		return nil, refused
	}
	c.mu.Lock()
	c.req = request{padrs: x.sent, ids: []uint16{s.ID}}
	c.mu.Unlock()
	return s, nil
}

// linger reads, for at most grace, what the chosen AC still owes us after
// ctx ended: a PADS per PADR not yet answered (req.padrs). It ends each
// session confirmed. What was received already is handled first, as
// the grace is never zero.
func (c *Client) linger(req *request, o Offer, grace time.Duration, why string) {
	timer := time.NewTimer(grace)
	defer timer.Stop()
	for req.padrs > 0 {
		select {
		case <-c.stopped:
			return
		case <-timer.C:
			return
		case r := <-c.in:
			s, _, ok := c.confirmation(r, o)
			if !ok {
				continue
			}
			req.padrs--
			if s != nil {
				c.endUnused(req, s, why)
			}
		}
	}
}

// maxReason bounds the Generic-Error of our PADTs, which must fit a frame
// whatever ctx's cause says.
const maxReason = 128

// reason makes why a Generic-Error's data: at most maxReason octets, and
// UTF-8, as RFC 2516 appendix A requires of it, whether the cut falls
// inside a character or the text was not UTF-8 to begin with.
func reason(why string) string {
	return strings.ToValidUTF8(why[:min(len(why), maxReason)], "")
}

// endUnused sends a PADT for a session the AC opened that we will not
// use, once per session id.
func (c *Client) endUnused(req *request, s *Session, why string) {
	if slices.Contains(req.ids, s.ID) {
		return // a repeated PADS
	}
	req.ids = append(req.ids, s.ID)
	if err := c.SendPADT(s, why); err != nil {
		c.log.Warn("discovery: could not end a session we will not use", "session-id", fmt.Sprintf("0x%x", s.ID), "ac", s.AC.String(), "err", err)
		return
	}
	c.log.Info("discovery: ended a session we will not use", "session-id", fmt.Sprintf("0x%x", s.ID), "ac", s.AC.String(), "why", why)
}

// confirmation checks a received packet as the PADS for our request; ok
// is false for anything else, which is ignored.
func (c *Client) confirmation(r received, o Offer) (*Session, error, bool) {
	p := r.pkt
	if p.Code != CodePADS {
		if p.Code != CodePADO { // late offers are expected; the rest is odd
			c.ignore(r, func(s *Stats) { s.Unexpected++ }, "waiting for a PADS")
		}
		return nil, nil, false
	}
	if !bytes.Equal(r.from, o.AC) {
		c.ignore(r, func(s *Stats) { s.WrongMAC++ }, "not from the access concentrator chosen", "ac", o.AC.String())
		return nil, nil, false
	}
	if !c.ours(r) {
		return nil, nil, false
	}
	c.dump(p)
	if e := p.Error(); e != nil {
		return nil, &RefusedError{AC: o.AC, Tag: e}, true
	}
	s := &Session{ID: p.SessionID, AC: o.AC, ACName: o.ACName, ServiceName: c.cfg.ServiceName, HostUniq: c.cfg.HostUniq, RelaySessionID: o.RelaySessionID}
	if sn, ok := Find[ServiceName](p); ok {
		s.ServiceName = string(sn)
	}
	// RFC 4638 §4: the AC echoes what we asked for; it may not raise it,
	// and without our asking the tag means nothing.
	if m, ok := Find[PPPMaxPayload](p); ok && c.cfg.MaxPayload > DefaultMTU {
		s.MaxPayload = min(uint16(m), c.cfg.MaxPayload)
	}
	return s, nil, true
}

// maxScanOffers bounds the ACs a Scan lists. Whoever is on the segment
// can answer a broadcast PADI, from as many forged MACs as it likes; real
// segments have one AC or a handful. Each Offer keeps its PADO (at most a
// frame), so the list stays under a megabyte.
const maxScanOffers = 256

// Scan broadcasts one PADI and collects every offer for wait, as
// RouterOS's pppoe-client scan and pppd's pppoe-discovery do. Offers are
// not filtered by ACName or ACMAC. They come in the order the ACs first
// answered; a later PADO from the same MAC replaces the earlier one in
// its place. At most maxScanOffers (256) ACs are kept: the rest are
// counted (Stats.ScanOverflow) and logged once.
func (c *Client) Scan(ctx context.Context, wait time.Duration) ([]Offer, error) {
	var offers []Offer
	index := make(map[string]int) // MAC -> its offer's place in offers
	full := false
	_, err := c.sendAndWait(ctx, c.padi(), Broadcast, wait, 1, func(r received) bool {
		if !c.isPADO(r) {
			return false
		}
		c.dump(r.pkt)
		o := offerOf(r.pkt, r.from)
		if i, ok := index[string(o.AC)]; ok {
			offers[i] = o // a later copy replaces an earlier one
			return false
		}
		if len(offers) == maxScanOffers {
			c.count(func(s *Stats) { s.ScanOverflow++ })
			if !full {
				full = true
				c.log.Warn("discovery: more access concentrators answered than a scan lists; ignoring the others", "listed", maxScanOffers)
			}
			return false
		}
		index[string(o.AC)] = len(offers)
		offers = append(offers, o)
		return false // collect until wait runs out
	})
	if errors.Is(err, errNoAnswer) {
		return offers, nil
	}
	return offers, err
}

// WaitPADT returns the AC's PADT for s, or ctx's error. Meanwhile it
// ends with a PADT any extra session the AC confirms for our
// retransmitted PADRs (see Discover); other packets are ignored.
func (c *Client) WaitPADT(ctx context.Context, s *Session) (*Packet, error) {
	for {
		select {
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		case <-c.stopped:
			return nil, c.stoppedErr()
		case r := <-c.in:
			// Other hosts' discovery is routine on a shared segment and
			// not worth a line; a PADT is.
			switch r.pkt.Code {
			case CodePADS:
				c.extraPADS(r, s)
			case CodePADT:
				if c.ends(r, s) {
					c.dump(r.pkt)
					return r.pkt, nil
				}
			}
		}
	}
}

// ends reports whether a received PADT is the AC's for s: anyone on the
// segment can send a PADT, and only the source MAC tells the AC's apart.
func (c *Client) ends(r received, s *Session) bool {
	if r.pkt.SessionID != s.ID {
		c.ignore(r, nil, "not our session", "session-id", fmt.Sprintf("0x%x", r.pkt.SessionID))
		return false
	}
	if !bytes.Equal(r.from, s.AC) {
		c.ignore(r, func(st *Stats) { st.WrongMAC++ }, "not from our access concentrator", "ac", s.AC.String())
		return false
	}
	return true
}

// extraPADS ends a session the AC opened for a retransmission of the
// PADR that opened s: the AC answers each PADR, and may have given each
// its own session (see request.extra for the bound).
func (c *Client) extraPADS(r received, s *Session) {
	p := r.pkt
	if p.Error() != nil || !bytes.Equal(r.from, s.AC) || !c.ours(r) {
		return // a refusal, or not the AC's answer to us
	}
	c.mu.Lock()
	extra := c.req.extra(p.SessionID)
	c.mu.Unlock()
	if !extra {
		return // a repeated PADS, or more sessions than PADRs
	}
	c.dump(p)
	dup := &Session{ID: p.SessionID, AC: s.AC, HostUniq: s.HostUniq, RelaySessionID: s.RelaySessionID}
	why := fmt.Sprintf("pppoed: duplicate session, using 0x%x", s.ID)
	if err := c.SendPADT(dup, why); err != nil {
		c.log.Warn("discovery: could not end a duplicate session", "session-id", fmt.Sprintf("0x%x", dup.ID), "ac", s.AC.String(), "err", err)
		return
	}
	c.log.Info("discovery: ended a duplicate session the access concentrator opened for our retransmitted PADR", "session-id", fmt.Sprintf("0x%x", dup.ID), "using", fmt.Sprintf("0x%x", s.ID))
}

// SendPADT ends s at the AC (RFC 2516 §5.5), saying why in a
// Generic-Error tag.
func (c *Client) SendPADT(s *Session, reason string) error {
	p := &Packet{Code: CodePADT, SessionID: s.ID, Tags: []Tag{HostUniq(s.HostUniq)}}
	if s.RelaySessionID != nil {
		p.Tags = append(p.Tags, RelaySessionID(s.RelaySessionID))
	}
	if reason != "" {
		p.Tags = append(p.Tags, GenericError(reason))
	}
	return c.send(p, s.AC)
}

// PADTReason renders a PADT's error tags for a log line, the AC's text
// escaped (peerlog.Text).
func PADTReason(p *Packet) string {
	var parts []string
	for _, t := range p.live() {
		switch t.(type) {
		case GenericError:
			parts = append(parts, peerlog.Text(errorText(t)))
		case ACSystemError:
			parts = append(parts, "AC-System-Error: "+peerlog.Text(errorText(t)))
		case ServiceNameError:
			parts = append(parts, "Service-Name-Error: "+peerlog.Text(errorText(t)))
		}
	}
	return strings.Join(parts, "; ")
}

// textList renders names from the wire for a log line, each escaped.
func textList(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = peerlog.Text(n)
	}
	return strings.Join(out, ",")
}
