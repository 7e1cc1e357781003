package ppp

import (
	"fmt"
	"net/netip"
	"time"
)

// Event is something a session reports upward: LinkUp, Authenticated,
// IPv4Up, IPv4Down, IPv6Up, IPv6Down, EchoRTT and, last, Down.
type Event interface{ event() }

// EchoRTT: the peer answered our latest LCP Echo-Request (keepalive)
// after RTT.
type EchoRTT struct{ RTT time.Duration }

// LinkUp: LCP is Opened (RFC 1661 §3.3).
type LinkUp struct {
	MRU       uint16 // what the peer may send us
	MTU       uint16 // what we may send the peer: its MRU, capped by the link
	Magic     uint32 // ours, 0 when not negotiated
	PeerMagic uint32
}

// Authenticated: authentication is over in both directions; Peer is the
// client's name (server) or the authenticator's, from its challenge
// (client; empty with PAP).
type Authenticated struct {
	// Peer is raw, as the peer sent it: data (to look up, to compare),
	// which may hold any octet. Escape it before it reaches a terminal
	// or a log, e.g. with strconv.Quote.
	Peer string
}

// IPv4Up: IPCP is Opened.
type IPv4Up struct {
	Local, Peer netip.Addr
	DNS         []netip.Addr // given by the server (client only)
}

// IPv4Down: IPCP left Opened.
type IPv4Down struct{}

// IPv6Up: IPv6CP is Opened; the link-local addresses are fe80:: plus the
// interface identifiers.
type IPv6Up struct {
	Local, Peer InterfaceID
}

// IPv6Down: IPv6CP left Opened.
type IPv6Down struct{}

// Down: the session is over. It is the last event.
type Down struct {
	Reason Reason
	Detail string // as DownError's
}

func (LinkUp) event()        {}
func (Authenticated) event() {}
func (IPv4Up) event()        {}
func (IPv4Down) event()      {}
func (IPv6Up) event()        {}
func (IPv6Down) event()      {}
func (EchoRTT) event()       {}
func (Down) event()          {}

// LinkLocal is the IPv6 link-local address of an interface identifier.
func (id InterfaceID) LinkLocal() netip.Addr {
	var a [16]byte
	a[0], a[1] = 0xfe, 0x80
	copy(a[8:], id[:])
	return netip.AddrFrom16(a)
}

// Reason is why a session ended.
type Reason uint8

const (
	ReasonUnknown            Reason = iota
	ReasonLocalClose                // we were asked to close
	ReasonNegotiationFailed         // LCP could not agree, or the peer never answered
	ReasonPeerAuthFailed            // the peer failed our authentication, or refused it
	ReasonAuthFailed                // we failed the peer's authentication
	ReasonPeerDead                  // no answer to our echo requests
	ReasonPeerTerminated            // the peer sent a Terminate-Request
	ReasonLinkLost                  // the link went away (PADT, interface gone)
	ReasonLoopback                  // we are talking to ourselves
	ReasonNoNetworkProtocols        // no NCP could be opened
)

var reasonNames = [...]string{
	ReasonUnknown:            "unknown",
	ReasonLocalClose:         "closed locally",
	ReasonNegotiationFailed:  "negotiation failed",
	ReasonPeerAuthFailed:     "peer failed authentication",
	ReasonAuthFailed:         "authentication failed",
	ReasonPeerDead:           "peer not responding",
	ReasonPeerTerminated:     "terminated by peer",
	ReasonLinkLost:           "link lost",
	ReasonLoopback:           "loopback detected",
	ReasonNoNetworkProtocols: "no network protocols",
}

func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return fmt.Sprintf("Reason(%d)", uint8(r))
}

// DownError is what Run returns: why the session ended.
type DownError struct {
	Reason Reason
	// Detail says more, e.g. the peer's failure message. What it quotes
	// of the peer's is escaped (no control character or escape sequence
	// remains) and it is at most a few hundred bytes: fit for a
	// terminal or a log as it is.
	Detail string
}

func (e *DownError) Error() string {
	if e.Detail == "" {
		return "ppp: " + e.Reason.String()
	}
	return "ppp: " + e.Reason.String() + ": " + e.Detail
}
