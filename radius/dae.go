package radius

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/rfc3576"
)

// DAEKind says what a Dynamic Authorization request asks.
type DAEKind int

const (
	Disconnect DAEKind = iota + 1 // Disconnect-Request (RFC 5176 §2.1)
	CoA                           // CoA-Request (RFC 5176 §2.2): Session-Timeout only
)

// Target is an authenticated Disconnect- or CoA-Request: the session(s)
// it names and, for a CoA, the new Session-Timeout. Strings are raw from
// the wire.
type Target struct {
	Kind DAEKind
	// Session identification (RFC 5176 §3): at least one of the first
	// three is set; the session must match every field that is set, the
	// last three included (they narrow the first three, never name
	// sessions alone: a request with only those is NAKed 402).
	AcctSessionID    string
	UserName         string
	FramedIP         netip.Addr
	CallingStationID string // the client's MAC, as Record.Port sends it
	NASPortID        string // NAS-Port-Id (RFC 2869 §5.17): the AC's interface, as Port.ID
	CalledStationID  string // the AC's MAC on that interface, as Port.CalledStationID
	// SessionTimeout is the CoA's new limit (RFC 2865 §5.27), counted
	// from the session's start as a Session-Timeout from the Accept is.
	SessionTimeout time.Duration
	From           netip.AddrPort
}

// Error-Cause values (RFC 5176) a NAK carries; a DAEConfig.Handle may
// return them in a *DAEError.
const (
	ErrorCauseUnsupportedAttribute      = 401
	ErrorCauseMissingAttribute          = 402
	ErrorCauseNASIdentificationMismatch = 403
	ErrorCauseInvalidRequest            = 404
	ErrorCauseInvalidAttributeValue     = 407
	ErrorCauseSessionNotFound           = 503
	ErrorCauseSessionNotRemovable       = 504
	ErrorCauseResourcesUnavailable      = 506
)

// ErrSessionNotFound, returned by a DAEConfig.Handle, answers a NAK with
// Error-Cause 503 Session-Context-Not-Found.
var ErrSessionNotFound = errors.New("radius: session context not found")

// DAEError, returned by a DAEConfig.Handle, answers a NAK with Cause.
type DAEError struct{ Cause uint32 }

func (e *DAEError) Error() string {
	return fmt.Sprintf("radius: dynamic authorization refused (Error-Cause %d)", e.Cause)
}

// DAEClient is a server allowed to send us requests: its source address
// must be in Prefix (a single address is a /32 or /128).
type DAEClient struct {
	Prefix netip.Prefix
	Secret Secret
}

// DAEConfig configures a DAEListener.
type DAEConfig struct {
	// Clients are checked in order; a request from elsewhere is dropped
	// unanswered (RFC 5176, Security Considerations).
	Clients []DAEClient
	// NAS: a NAS-Identifier or NAS-IP-Address in a request must be ours,
	// else NAK 403 (RFC 5176 §3).
	NAS NAS
	// Handle decides the answer: nil ACKs; ErrSessionNotFound or a
	// *DAEError NAKs with their cause; any other error NAKs 506. It runs on
	// the listener's goroutine: it must not block for long.
	Handle func(Target) error
	// EventWindow: a request whose Event-Timestamp is further than this
	// from now is dropped as a replay (RFC 5176 §6.3, RFC 5080 §2.2.2;
	// default 300s). Within it, a request answered before is answered
	// again with the same reply and not handled again (see DAEListener).
	EventWindow time.Duration
	// RequireEventTimestamp drops a request without Event-Timestamp,
	// counted in DAEStats.Replays. Without one, nothing dates a request:
	// captured on the wire, it is acted on again when replayed once the
	// duplicate cache has forgotten it (after EventWindow). Servers add
	// it as RFC 5176 §6.3 asks (radclient adds none unless given one).
	RequireEventTimestamp bool
	Logger                *slog.Logger
	Now                   func() time.Time
}

// DAEStats counts a DAEListener's requests.
type DAEStats struct {
	Requests      uint64 // authentic requests decided (duplicates not included)
	ACKs, NAKs    uint64 // replies to Requests (a duplicate's repeated reply not included)
	UnknownClient uint64 // from an address not in Clients
	Replays       uint64 // Event-Timestamp out of the window, or absent when required
	// Duplicates: authentic requests answered before within the window
	// (retransmissions, or replays of a captured request), answered
	// again with the same reply and not handled again.
	Duplicates uint64
	Dropped    DropCounts
}

// daeCacheSize bounds the duplicate cache: the answers to this many
// requests are remembered at most, the oldest forgotten first.
const daeCacheSize = 4096

// daeKey identifies a request for duplicate detection (RFC 5080
// §2.2.2): the source address without its port (a replay may come from
// any port; a retransmission comes from the same address), the
// Identifier and the Request Authenticator, an MD5 over the whole packet
// and the secret (RFC 5176 §2.3), so that the same key is the same
// request.
type daeKey struct {
	from netip.Addr
	id   byte
	auth [16]byte
}

type daeAnswer struct {
	key     daeKey
	out     []byte // the reply sent
	expires time.Time
}

// DAEListener answers Disconnect- and CoA-Requests on a UDP socket.
//
// It remembers its answers (at most daeCacheSize, each until the request
// could no longer pass the Event-Timestamp check, or EventWindow after it
// was answered if it had no Event-Timestamp): a request that comes again
// gets the same reply without reaching Handle again, so that a server's
// retransmission gets its answer (an ACK, not a NAK 503 because the
// session is gone by then) and a replayed request does nothing (RFC 5176
// §6.3, RFC 5080 §2.2.2).
type DAEListener struct {
	conn net.PacketConn
	cfg  DAEConfig
	wg   sync.WaitGroup

	// The duplicate cache, owned by the goroutine calling respond: answers
	// by key, and in the order they were stored, to forget the oldest.
	answers map[daeKey]*daeAnswer
	order   []*daeAnswer

	requests, acks, naks, unknown, replays, duplicates atomic.Uint64
	drops                                              dropCounters
}

// ListenDAE listens on addr (e.g. ":3799", RFC 5176 §2.3's port) and
// serves until Close.
func ListenDAE(addr string, cfg DAEConfig) (*DAEListener, error) {
	if len(cfg.Clients) == 0 || cfg.Handle == nil {
		return nil, errors.New("radius: dynamic authorization needs clients and a handler")
	}
	for _, c := range cfg.Clients {
		if !c.Prefix.IsValid() || len(c.Secret) == 0 {
			return nil, fmt.Errorf("radius: dynamic authorization client %v: no prefix or empty secret", c.Prefix)
		}
	}
	conn, err := net.ListenPacket("udp", addr)
	if err != nil {
		return nil, fmt.Errorf("radius: %w", err)
	}
	l := newDAE(conn, cfg)
	l.wg.Add(1)
	go l.serve()
	return l, nil
}

func newDAE(conn net.PacketConn, cfg DAEConfig) *DAEListener {
	if cfg.EventWindow <= 0 {
		cfg.EventWindow = 300 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return &DAEListener{conn: conn, cfg: cfg, answers: make(map[daeKey]*daeAnswer)}
}

// Addr is the address listened on.
func (l *DAEListener) Addr() net.Addr { return l.conn.LocalAddr() }

// Close stops the listener and returns once its goroutine has ended.
func (l *DAEListener) Close() error {
	err := l.conn.Close()
	l.wg.Wait()
	return err
}

// Stats returns the counters.
func (l *DAEListener) Stats() DAEStats {
	by, _ := l.drops.snapshot()
	return DAEStats{Requests: l.requests.Load(), ACKs: l.acks.Load(), NAKs: l.naks.Load(),
		UnknownClient: l.unknown.Load(), Replays: l.replays.Load(), Duplicates: l.duplicates.Load(), Dropped: by}
}

// answered returns the reply to a request answered before, nil if none
// (or forgotten).
func (l *DAEListener) answered(k daeKey, now time.Time) []byte {
	a, ok := l.answers[k]
	if !ok || now.After(a.expires) {
		return nil
	}
	return a.out
}

// remember stores the reply to a request until expires (included: the
// Event-Timestamp check lets a request through at exactly EventWindow
// away), forgetting what has expired at the front of the order and, when
// full, the oldest.
func (l *DAEListener) remember(k daeKey, out []byte, now, expires time.Time) {
	for len(l.order) > 0 && (len(l.order) >= daeCacheSize || now.After(l.order[0].expires)) {
		old := l.order[0]
		l.order[0] = nil
		l.order = l.order[1:]
		if l.answers[old.key] == old {
			delete(l.answers, old.key)
		}
	}
	a := &daeAnswer{key: k, out: out, expires: expires}
	l.answers[k] = a
	l.order = append(l.order, a)
}

func (l *DAEListener) serve() {
	defer l.wg.Done()
	buf := make([]byte, maxPacketLen+1)
	for {
		n, from, err := l.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		ua, ok := from.(*net.UDPAddr)
		if !ok {
			continue
		}
		if out := l.respond(buf[:n], ua.AddrPort()); out != nil {
			_, _ = l.conn.WriteTo(out, from)
		}
	}
}

// daeAllowed says whether we understand an attribute of a Disconnect- or
// CoA-Request (RFC 5176 §3.5's table); anything else is NAKed 401
// Unsupported-Attribute (RFC 5176 §3.6), never ignored: an ignored session
// identification attribute would widen the request to sessions it does
// not name. RFC 5176 §3's session identification attributes we do not
// match, and so NAK, are NAS-Port, Vendor-Specific, Acct-Multi-Session-Id,
// NAS-Port-Type, Chargeable-User-Identity (RFC 4372), Originating-Line-Info,
// Framed-Interface-Id and Framed-IPv6-Prefix; NAS-IPv6-Address too (our
// NAS has none). State is taken and unused: it only means something with
// Service-Type Authorize-Only (RFC 5176 §3.3), which is NAKed.
func daeAllowed(t radius.Type, kind DAEKind) bool {
	switch t {
	case rfc2865.UserName_Type, rfc2865.NASIPAddress_Type, rfc2865.FramedIPAddress_Type,
		rfc2865.State_Type, rfc2865.CalledStationID_Type, rfc2865.CallingStationID_Type,
		rfc2865.NASIdentifier_Type, rfc2865.ProxyState_Type, rfc2866.AcctSessionID_Type,
		rfc2869.EventTimestamp_Type, rfc2869.MessageAuthenticator_Type, rfc2869.NASPortID_Type:
		return true
	case rfc2865.SessionTimeout_Type:
		return kind == CoA
	}
	return false
}

// respond checks one datagram and returns the answer, or nil to drop it.
func (l *DAEListener) respond(b []byte, from netip.AddrPort) []byte {
	var secret Secret
	for _, c := range l.cfg.Clients {
		if c.Prefix.Contains(from.Addr().Unmap()) {
			secret = c.Secret
			break
		}
	}
	if secret == nil {
		l.unknown.Add(1)
		return nil
	}
	p, reason := parseDAERequest(b, secret)
	if reason != dropNone {
		l.drops.add(reason)
		l.cfg.Logger.Debug("radius: dynamic authorization request dropped", "from", from, "reason", reason.String())
		return nil
	}
	now := l.cfg.Now()
	key := daeKey{from: from.Addr().Unmap(), id: p.Identifier, auth: p.Authenticator}
	if out := l.answered(key, now); out != nil {
		l.duplicates.Add(1)
		return out
	}
	// The answer is remembered for as long as the request could pass
	// this check again: until its Event-Timestamp leaves the window
	// (which may be up to 2 × EventWindow away for one stamped in the
	// future), at least EventWindow.
	expires := now.Add(l.cfg.EventWindow)
	if v, ok := p.Lookup(rfc2869.EventTimestamp_Type); ok {
		ts, err := radius.Date(v)
		d := now.Sub(ts)
		if err != nil || d > l.cfg.EventWindow || d < -l.cfg.EventWindow {
			l.replays.Add(1)
			return nil
		}
		if e := ts.Add(l.cfg.EventWindow); e.After(expires) {
			expires = e
		}
	} else if l.cfg.RequireEventTimestamp {
		l.replays.Add(1)
		return nil
	}
	l.requests.Add(1)
	tgt, cause := l.target(p)
	tgt.From = from
	if cause == 0 {
		err := l.cfg.Handle(tgt)
		var de *DAEError
		switch {
		case err == nil:
		case errors.Is(err, ErrSessionNotFound):
			cause = ErrorCauseSessionNotFound
		case errors.As(err, &de):
			cause = de.Cause
		default:
			cause = ErrorCauseResourcesUnavailable
		}
	}
	code := p.Code + 1 // ACK
	if cause != 0 {
		code = p.Code + 2 // NAK
		l.naks.Add(1)
	} else {
		l.acks.Add(1)
	}
	r := &radius.Packet{Code: code, Identifier: p.Identifier, Secret: secret}
	for _, avp := range p.Attributes {
		// RFC 5176 §3: Proxy-State echoed, in order.
		if avp.Type == rfc2865.ProxyState_Type {
			r.Add(avp.Type, avp.Attribute)
		}
	}
	if cause != 0 {
		_ = rfc3576.ErrorCause_Add(r, rfc3576.ErrorCause(cause))
	}
	out, err := encode(r, secret, p.Authenticator)
	if err != nil {
		return nil
	}
	l.remember(key, out, now, expires)
	return out
}

// parseDAERequest checks a Disconnect- or CoA-Request: layout, Request
// Authenticator (MD5 over the packet with 16 zero octets in its place and
// the secret: RFC 5176 §2.3) and a Message-Authenticator, required here,
// computed over the same zero authenticator (RFC 5176, Message-Authenticator;
// what radclient and FreeRADIUS do).
func parseDAERequest(b []byte, secret []byte) (*radius.Packet, dropReason) {
	pkt, maOff, reason := frame(b)
	if reason != dropNone {
		return nil, reason
	}
	code := radius.Code(pkt[0])
	if code != radius.CodeDisconnectRequest && code != radius.CodeCoARequest {
		return nil, dropUnexpected
	}
	var zero [16]byte
	if !validAuthenticator(pkt, zero, secret) {
		return nil, dropBadAuthenticator
	}
	if maOff == 0 {
		return nil, dropNoMessageAuthenticator
	}
	if !validMessageAuthenticator(pkt, maOff, zero, secret) {
		return nil, dropBadMessageAuthenticator
	}
	p, err := radius.Parse(pkt, secret)
	if err != nil {
		return nil, dropMalformed
	}
	return p, dropNone
}

// target reads an authentic request; a nonzero cause NAKs it.
func (l *DAEListener) target(p *radius.Packet) (Target, uint32) {
	t := Target{Kind: Disconnect}
	if p.Code == radius.CodeCoARequest {
		t.Kind = CoA
	}
	hasTimeout := false
	var seen [256]bool
	for _, avp := range p.Attributes {
		if !daeAllowed(avp.Type, t.Kind) {
			return t, ErrorCauseUnsupportedAttribute
		}
		// RFC 5176 §3.5: each at most once but Proxy-State; a second
		// value would otherwise replace the first unseen.
		if seen[avp.Type] && avp.Type != rfc2865.ProxyState_Type {
			return t, ErrorCauseInvalidRequest
		}
		seen[avp.Type] = true
		v := avp.Attribute
		switch avp.Type {
		case rfc2866.AcctSessionID_Type:
			t.AcctSessionID = string(v)
		case rfc2865.UserName_Type:
			t.UserName = string(v)
		case rfc2865.CallingStationID_Type:
			t.CallingStationID = string(v)
		case rfc2865.CalledStationID_Type:
			t.CalledStationID = string(v)
		case rfc2869.NASPortID_Type:
			t.NASPortID = string(v)
		case rfc2865.FramedIPAddress_Type:
			ip, err := ipv4Attr(v)
			if err != nil {
				return t, ErrorCauseInvalidAttributeValue
			}
			t.FramedIP = ip
		case rfc2865.SessionTimeout_Type:
			n, err := radius.Integer(v)
			if err != nil {
				return t, ErrorCauseInvalidAttributeValue
			}
			t.SessionTimeout, hasTimeout = time.Duration(n)*time.Second, true
		case rfc2865.NASIdentifier_Type:
			if string(v) != l.cfg.NAS.Identifier {
				return t, ErrorCauseNASIdentificationMismatch
			}
		case rfc2865.NASIPAddress_Type:
			ip, err := ipv4Attr(v)
			if err != nil {
				return t, ErrorCauseInvalidAttributeValue
			}
			if ip != l.cfg.NAS.IPAddress {
				return t, ErrorCauseNASIdentificationMismatch
			}
		}
	}
	if t.AcctSessionID == "" && t.UserName == "" && !t.FramedIP.IsValid() {
		return t, ErrorCauseMissingAttribute
	}
	if t.Kind == CoA && !hasTimeout {
		return t, ErrorCauseMissingAttribute
	}
	return t, 0
}
