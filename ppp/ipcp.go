package ppp

import (
	"fmt"
	"net/netip"
	"strings"
)

var (
	zero4      = netip.IPv4Unspecified()
	broadcast4 = netip.AddrFrom4([4]byte{255, 255, 255, 255})
)

// badIPv4 says why a cannot be the address of either end of the link, or
// "" when it can. pppd refuses loopback, multicast and class E addresses
// (bad_ip_adrs, used by auth_ip_addr); the unspecified address names no
// one (RFC 1332 §3.3: it asks for an address), and the limited broadcast
// address, in class E, is named for what it is.
func badIPv4(a netip.Addr) string {
	// An if chain, not a switch: mutation testing cannot reach a
	// switch's case expressions, and every one of these is a check.
	a = a.Unmap()
	if !a.Is4() {
		return "not an IPv4 address"
	}
	if a.IsUnspecified() {
		return "the unspecified address"
	}
	if a == broadcast4 {
		return "a broadcast address"
	}
	if a.IsLoopback() {
		return "a loopback address"
	}
	if a.IsMulticast() {
		return "a multicast address"
	}
	if a.As4()[0] >= 240 {
		return "a reserved (class E) address"
	}
	return ""
}

// ipcpLayer is IPCP (RFC 1332) with RFC 1877's name servers. A client asks
// for 0.0.0.0 (or its configured address) and takes the server's Nak; a
// server Naks the client's request with an address from its pool. Van
// Jacobson compression and NBNS are rejected.
type ipcpLayer struct {
	s   *Session
	cfg IPv4Config

	addr    netip.Addr // our address as requested now
	negAddr bool
	dns     [2]netip.Addr
	negDNS  [2]bool

	peerAddr netip.Addr // what the peer claims for itself (client)
	assigned netip.Addr // what we hand the peer (server)
	// from is the pool assigned came from, which gets it back (nil: a
	// fixed Remote address); not cfg.Pool, which Authorize may replace.
	from     AddressPool
	allocErr error
	isUp     bool // IPv4Up was reported
	// refusedNak says why we did not take the address the peer last
	// Nak'd us, for the failure should no address be agreed.
	refusedNak string
}

func (l *ipcpLayer) server() bool { return l.s.cfg.Role == RoleServer }

// configured reports whether our address is configured (pppd's
// wo->ouraddr without ipcp-accept-local): we request it, a Nak does not
// change it, and a peer that rejects it refuses the link our address.
func (l *ipcpLayer) configured() bool {
	return l.cfg.Local.Is4() && !l.cfg.Local.IsUnspecified()
}

func (l *ipcpLayer) resetOptions() {
	l.addr, l.negAddr = zero4, true
	if l.configured() {
		l.addr = l.cfg.Local
	}
	l.refusedNak = ""
	l.negDNS = [2]bool{}
	if !l.server() && l.cfg.RequestDNS {
		l.dns = [2]netip.Addr{zero4, zero4}
		l.negDNS = [2]bool{true, true}
	}
}

// request: IP-Address, then the name servers, in pppd's order.
func (l *ipcpLayer) request() []byte {
	var opts []Option
	if l.negAddr {
		opts = append(opts, IPAddress(l.addr))
	}
	if l.negDNS[0] {
		opts = append(opts, PrimaryDNS(l.dns[0]))
	}
	if l.negDNS[1] {
		opts = append(opts, SecondaryDNS(l.dns[1]))
	}
	b, _ := AppendOptions(nil, opts)
	return b
}

// acked has nothing to commit: what we request only changes on a Nak or
// Reject of the outstanding request, which is then replaced, so it is
// what the Ack acknowledged.
func (l *ipcpLayer) acked() {}

func (l *ipcpLayer) nak(data []byte, treatAsReject bool) bool {
	opts, err := ParseOptions(ProtoIPCP, data)
	if err != nil {
		return false
	}
	for _, o := range opts {
		switch v := o.(type) {
		case IPAddress:
			if treatAsReject {
				l.negAddr = false
				continue
			}
			if l.server() || l.configured() {
				continue // our address is configured: a suggestion does not change it
			}
			a := netip.Addr(v)
			if why := badIPv4(a); why != "" {
				// An address no host may have, where RFC 1332 §3.3 has
				// the Nak return "a valid IP-address". As pppd does with
				// a suggestion it cannot take (lcp_nakci's MRU), we ignore
				// it and ask again: a peer that insists has its Naks
				// treated as Rejects after Max-Failure (RFC 1661 §4.6),
				// and with no address agreed, up() closes IPCP saying
				// why. pppd itself would take it (ipcp_nakci) and
				// install it.
				l.refusedNak = fmt.Sprintf("the peer assigned us %s, %s", a, why)
				l.s.plog.Warn("ppp: IPCP: " + l.refusedNak + ": not taken")
				continue
			}
			l.addr = a // the server assigns our address (RFC 1332 §3.3)
		case PrimaryDNS, SecondaryDNS:
			i := 0
			a := netip.Addr{}
			if d, ok := v.(PrimaryDNS); ok {
				a = netip.Addr(d)
			} else {
				i, a = 1, netip.Addr(v.(SecondaryDNS))
			}
			if treatAsReject {
				l.negDNS[i] = false
			} else if l.negDNS[i] {
				l.dns[i] = a
			}
		}
	}
	return true
}

func (l *ipcpLayer) reject(data []byte) bool {
	opts, err := ParseOptions(ProtoIPCP, data)
	if err != nil {
		return false
	}
	// As LCP's: an invalid Reject changes nothing.
	for _, o := range opts {
		switch o.(type) {
		case IPAddress, PrimaryDNS, SecondaryDNS:
		default:
			return false
		}
	}
	for _, o := range opts {
		switch o.(type) {
		case IPAddress:
			l.negAddr = false
		case PrimaryDNS:
			l.negDNS[0] = false
		case SecondaryDNS:
			l.negDNS[1] = false
		}
	}
	return true
}

// assign decides the peer's address once per session (server): the
// fixed Remote one, else one from the pool.
func (l *ipcpLayer) assign() (netip.Addr, bool) {
	if l.assigned.IsValid() || l.allocErr != nil {
		return l.assigned, l.assigned.IsValid()
	}
	var a netip.Addr
	var err error
	pool, source := l.cfg.Pool, "the address pool gave"
	if l.cfg.Remote.IsValid() {
		a, pool, source = l.cfg.Remote, nil, "the peer's configured address is"
	} else if pool != nil {
		a, err = pool.Allocate(l.s.peerName)
	} else {
		return netip.Addr{}, false
	}
	if err == nil {
		// A pool that hands out an address no host may have, or ours,
		// is misconfigured: the peer gets none rather than that one.
		why := badIPv4(a)
		if why == "" && a == l.cfg.Local {
			why = "our own address"
		}
		if why != "" {
			if pool != nil {
				pool.Release(a)
			}
			err = fmt.Errorf("%s %s, %s: not handed out", source, a, why)
		}
	}
	if err != nil {
		l.allocErr = err
		l.s.log.Warn("ppp: no address for the peer", "err", err)
		return netip.Addr{}, false
	}
	l.assigned, l.from = a, pool
	return a, true
}

// release gives the peer's address back to the pool it came from, once:
// at the session's end.
func (l *ipcpLayer) release() {
	if l.assigned.IsValid() && l.from != nil {
		l.from.Release(l.assigned)
	}
	l.assigned, l.from = netip.Addr{}, nil
}

func (l *ipcpLayer) configure(data []byte, rejectIfDisagree bool) (Code, []byte) {
	opts, _ := ParseOptions(ProtoIPCP, data)
	var nak, nakOrig, rej []Option
	nakWith := func(orig, suggestion Option) {
		nak, nakOrig = append(nak, suggestion), append(nakOrig, orig)
	}
	sawAddr := false
	peer := netip.Addr{}
	for _, o := range opts {
		switch v := o.(type) {
		case IPAddress:
			sawAddr = true
			a := netip.Addr(v)
			if !l.server() {
				// The server's own address; it has nothing to learn from us.
				if a.IsUnspecified() {
					rej = append(rej, o)
				} else {
					peer = a
				}
				continue
			}
			want, ok := l.assign()
			if !ok {
				rej = append(rej, o) // no address to give
				continue
			}
			if a != want {
				nakWith(o, IPAddress(want)) // only the one we assign
				continue
			}
			peer = a
		case PrimaryDNS, SecondaryDNS:
			i, a := 0, netip.Addr{}
			if d, ok := v.(PrimaryDNS); ok {
				a = netip.Addr(d)
			} else {
				i, a = 1, netip.Addr(v.(SecondaryDNS))
			}
			if !l.server() || i >= len(l.cfg.DNS) {
				rej = append(rej, o)
				continue
			}
			if a != l.cfg.DNS[i] {
				if i == 0 {
					nakWith(o, PrimaryDNS(l.cfg.DNS[0]))
				} else {
					nakWith(o, SecondaryDNS(l.cfg.DNS[1]))
				}
			}
		default:
			// VJ compression (pppoed moves no data itself), NBNS, the old
			// IP-Addresses option, anything unknown.
			rej = append(rej, o)
		}
	}
	// A client that does not ask for an address is told one anyway, as
	// pppd does (RFC 1332 §3.3 lets a Nak add options).
	if l.server() && !sawAddr && !rejectIfDisagree {
		if want, ok := l.assign(); ok {
			nak = append(nak, IPAddress(want))
		}
	}
	if code, b, ok := refuse(rej, nak, nakOrig, rejectIfDisagree); ok {
		return code, b
	}
	l.peerAddr = peer
	return CodeConfAck, data
}

func (l *ipcpLayer) up() {
	ev := IPv4Up{Local: l.addr, Peer: l.peerAddr}
	if l.server() {
		ev.Peer = l.assigned
	}
	if l.server() && !ev.Peer.IsValid() {
		// Nothing to route to: the pool was empty or the peer refused
		// every address (pppd: "Could not determine remote IP address").
		l.s.ipcp.failure = noAddress
		if l.allocErr != nil {
			l.s.ipcp.failure += ": " + l.allocErr.Error()
		}
		l.s.log.Warn("ppp: IPCP: " + l.s.ipcp.failure + "; closing IPCP")
		l.s.ipcp.Close("Could not determine remote IP address")
		return
	}
	if !l.negAddr && l.configured() {
		// The peer rejected the IP-Address option that states our
		// configured address (or we gave up on its Naks of it): it does
		// not agree to our using it, and pppd's ipcp_up closes IPCP
		// then rather than configure it regardless.
		l.s.ipcp.failure = fmt.Sprintf("the peer refused to agree to our IP address %s", l.cfg.Local)
		l.s.log.Warn("ppp: IPCP: " + l.s.ipcp.failure + "; closing IPCP")
		l.s.ipcp.Close("Refused our IP address")
		return
	}
	if why := badIPv4(ev.Local); why != "" {
		// As pppd's ipcp_up: an NCP with no address to configure is
		// closed, and the session ends if no other NCP is left.
		switch {
		case l.refusedNak != "":
			l.s.ipcp.failure = l.refusedNak
		case ev.Local.IsUnspecified():
			l.s.ipcp.failure = "no local IPv4 address was agreed"
		default:
			l.s.ipcp.failure = fmt.Sprintf("our address %s is %s", ev.Local, why)
		}
		l.s.log.Warn("ppp: IPCP: " + l.s.ipcp.failure + "; closing IPCP")
		l.s.ipcp.Close("Could not determine local IP address")
		return
	}
	// The peer's claim to its own address is judged once it is agreed,
	// as pppd's ipcp_up does with auth_ip_addr: an address no host may
	// have, or ours, closes IPCP ("Unauthorized remote IP address"). A
	// peer that claims none leaves Peer unset.
	if ev.Peer.IsValid() {
		why := badIPv4(ev.Peer)
		if why == "" && ev.Peer == ev.Local {
			why = "our own address"
		}
		if why != "" {
			l.s.ipcp.failure = fmt.Sprintf("the peer's address %s is %s", ev.Peer, why)
			l.s.log.Warn("ppp: IPCP: " + l.s.ipcp.failure + "; closing IPCP")
			l.s.ipcp.Close("Unauthorized remote IP address")
			return
		}
	}
	l.isUp = true
	for i, d := range l.dns {
		if !l.negDNS[i] || d.IsUnspecified() {
			continue // not asked for, or none given
		}
		// RFC 1877 names no rule for the name servers, but one at an
		// address no host may have would only send queries nowhere.
		if why := badIPv4(d); why != "" {
			l.s.log.Warn(fmt.Sprintf("ppp: IPCP: the peer's name server %s is %s: not used", d, why))
			continue
		}
		ev.DNS = append(ev.DNS, d)
	}
	l.s.emit(ev)
}

// down reports IPv4Down only for an up that was reported: a layer
// closed from up() never configured anything to take down.
func (l *ipcpLayer) down() {
	if l.isUp {
		l.isUp = false
		l.s.emit(IPv4Down{})
	}
}

func (l *ipcpLayer) starting() {}

// finished: IPCP gave up. If the peer kept assigning us an address we
// refused until the negotiation gave up, that is the reason to give; so
// is, on an AC, having no address for the peer, should a peer that
// ignores our Reject of its IP-Address option (RFC 1661 §5.4 forbids
// asking again) end the negotiation before up() could say so.
func (l *ipcpLayer) finished() {
	f := l.s.ipcp
	if l.refusedNak != "" && !strings.Contains(f.failure, l.refusedNak) {
		f.failure = strings.TrimSuffix(l.refusedNak+"; "+f.failure, "; ")
	}
	if l.server() && l.allocErr != nil {
		if cause := noAddress + ": " + l.allocErr.Error(); !strings.Contains(f.failure, cause) {
			f.failure = strings.TrimSuffix(cause+"; "+f.failure, "; ")
		}
	}
	l.s.ncpFinished(f)
}

// noAddress is IPCP's failure on an AC with no address for the peer.
const noAddress = "no IPv4 address for the peer"

func (l *ipcpLayer) extension(Code, uint8, []byte) bool { return false }
