package client

import (
	"errors"
	"net"
	"net/netip"
	"time"
)

// MomentKind is a point in a session's life at which pppd runs a script
// or writes a file; Config.OnMoment hears of each (package pppdcompat runs
// pppd's scripts from them).
type MomentKind uint8

const (
	// MomentLinkUp: the kernel link exists, pppN with it (pppd writes
	// its pid files here).
	MomentLinkUp MomentKind = iota + 1
	// MomentIPv4PreUp: IPCP is up and pppN has its IPv4 address, but is
	// not yet up and passes no IPv4 (pppd's ip-pre-up, which pppd waits
	// for: so does the session). Not with dial on demand.
	MomentIPv4PreUp
	// MomentIPv4Up: IPv4 is configured and passing (ip-up).
	MomentIPv4Up
	// MomentIPv4Down: IPCP went down. IPv4 no longer passes, the routes
	// and the address are gone; the name servers file is still there
	// (ip-down: pppd 2.4.9 runs it after ipcp_clear_addrs).
	MomentIPv4Down
	// MomentIPv6Up: IPv6 is configured and passing (ipv6-up).
	MomentIPv6Up
	// MomentIPv6Down: IPv6CP went down; IPv6 no longer passes and the
	// link-local addresses are gone (ipv6-down).
	MomentIPv6Down
	// MomentLinkDown: the session is over and pppN's unit gone (unless
	// dial on demand keeps it).
	MomentLinkDown
	// MomentDemandReady: with dial on demand, pppN exists with its
	// placeholder addresses (Local, Peer) and is not yet up, before any
	// session, once (pppd's demand_conf: it runs ip-pre-up here, and
	// writes its pid file).
	MomentDemandReady
)

var momentNames = [...]string{
	MomentLinkUp: "link-up", MomentIPv4PreUp: "ipv4-pre-up", MomentIPv4Up: "ipv4-up", MomentIPv4Down: "ipv4-down",
	MomentIPv6Up: "ipv6-up", MomentIPv6Down: "ipv6-down", MomentLinkDown: "link-down", MomentDemandReady: "demand-ready",
}

func (k MomentKind) String() string {
	if int(k) < len(momentNames) && momentNames[k] != "" {
		return momentNames[k]
	}
	return "moment(?)"
}

// Moment is what Config.OnMoment is told: the kind, and what the session
// knows at that point (fields not known yet are zero).
type Moment struct {
	Kind MomentKind

	Ifname    string // pppN
	Unit      int    // N
	Interface string // the Ethernet interface
	AC        net.HardwareAddr
	SessionID uint16
	// Start is when the session's link came up (pppd's CONNECT_TIME
	// counts from there).
	Start time.Time

	// IPv4, from MomentIPv4PreUp on.
	Local, Peer netip.Addr
	DNS         []netip.Addr
	// IPv6 link-local addresses, from MomentIPv6Up on.
	LLLocal, LLPeer netip.Addr
	// PeerName is the name the peer gave when we authenticated to it
	// (raw wire data: escape it before printing).
	PeerName string
}

// moment tells cfg.OnMoment of a moment, filled from the connection.
func (c *connection) moment(kind MomentKind) {
	if c.cfg.OnMoment == nil {
		return
	}
	m := c.known
	m.Kind = kind
	m.DNS = append([]netip.Addr(nil), c.known.DNS...)
	c.cfg.OnMoment(m)
}

// errHangup ends a session hung up through Config.Hangup.
var errHangup = errors.New("client: hung up on request (SIGHUP)")

// watchHangup closes the session when Config.Hangup delivers; the
// function it returns stops watching.
func (c *connection) watchHangup() (stop func()) {
	if c.cfg.Hangup == nil {
		return func() {}
	}
	done := make(chan struct{})
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		select {
		case <-c.cfg.Hangup:
			c.log.Info("client: hanging up on request")
			c.hungUp.Store(true)
			c.control.Close("hang-up requested")
		case <-done:
		}
	}()
	return func() {
		close(done)
		<-ended
	}
}
