package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"time"

	"github.com/mdlayher/packet"
	"github.com/pppoed/pppoed/discovery"
)

// port is one Ethernet interface served: its Discovery socket, its
// services and the session ids live on it.
type port struct {
	s        *Server
	ifi      *net.Interface
	conn     frameConn
	services []string
	profile  string // the default profile of its clients
	ids      *SessionIDs
}

func (s *Server) openPort(ic Interface) (*port, error) {
	byName := s.iface
	if byName == nil {
		byName = net.InterfaceByName
	}
	ifi, err := byName(ic.Name)
	if err != nil {
		return nil, fmt.Errorf("server: interface %s: %w", ic.Name, err)
	}
	if len(ifi.HardwareAddr) != 6 {
		return nil, fmt.Errorf("server: interface %s has no Ethernet address", ic.Name)
	}
	// Raw, not datagram: the destination MAC tells a PADI (broadcast)
	// from a PADR or PADT meant for us, which a packet socket also sees
	// when addressed to another station (veth, promiscuous mode).
	listen := s.listen
	if listen == nil {
		listen = listenRaw
	}
	conn, err := listen(ifi)
	if err != nil {
		return nil, fmt.Errorf("server: packet socket on %s: %w", ic.Name, err)
	}
	prof := ic.DefaultProfile
	if prof == "" {
		prof = s.cfg.DefaultProfile
	}
	return &port{s: s, ifi: ifi, conn: conn, services: ic.ServiceNames, profile: prof, ids: NewSessionIDs(nil)}, nil
}

func listenRaw(ifi *net.Interface) (frameConn, error) {
	return packet.Listen(ifi, packet.Raw, discovery.EtherTypeDiscovery, nil)
}

// stopReading ends serve's reads.
func (p *port) stopReading() { _ = p.conn.SetReadDeadline(time.Unix(1, 0)) }

// serve reads the interface's Discovery frames until stopReading.
func (p *port) serve(ctx context.Context) {
	buf := make([]byte, 1<<16)
	for {
		n, _, err := p.conn.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) || ctx.Err() != nil {
				return
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			p.s.plog.Warn("server: reading discovery", "interface", p.ifi.Name, "err", err) // bounded: an interface gone repeats it
			time.Sleep(100 * time.Millisecond)                                              // an interface going away: no spin
			continue
		}
		p.handle(buf[:n], time.Now())
	}
}

// handle answers one Discovery frame. Nothing is stored for a PADI (the
// cookie carries what the PADR must prove), so a flood of them costs
// only the rate limiter's bounded table.
func (p *port) handle(b []byte, now time.Time) {
	f, err := discovery.ParseFrame(b)
	if err != nil || f.EtherType != discovery.EtherTypeDiscovery {
		return
	}
	if !discovery.ValidUnicast(f.Src) {
		return // RFC 2516 §5: a client's source is its unicast MAC
	}
	pkt, err := discovery.Parse(f.Payload)
	if err != nil {
		p.s.plog.Debug("server: malformed discovery packet", "interface", p.ifi.Name, "from", f.Src.String(), "err", err)
		return
	}
	if p.s.cfg.Debug {
		for _, l := range pkt.LogLines("rcvd", f.Dst, f.Src) {
			p.s.log.Debug(l, "interface", p.ifi.Name)
		}
	}
	switch pkt.Code {
	case discovery.CodePADI:
		// §5.1: a PADI goes to the broadcast address.
		if !bytes.Equal(f.Dst, discovery.Broadcast) {
			return
		}
		p.padi(f.Src, pkt, now)
	case discovery.CodePADR:
		if !bytes.Equal(f.Dst, p.ifi.HardwareAddr) {
			return // §5.3: unicast to the AC chosen, which may be another
		}
		p.padr(f.Src, pkt)
	case discovery.CodePADT:
		if !bytes.Equal(f.Dst, p.ifi.HardwareAddr) {
			return
		}
		p.padt(f.Src, pkt)
	}
}

// service picks what to answer a Service-Name with: the one asked for when
// served (or when any is), "" and false when it is not served.
func (p *port) service(asked string) (string, bool) {
	if asked == "" || len(p.services) == 0 || slices.Contains(p.services, asked) {
		return asked, true
	}
	return "", false
}

// maxPayload is what RFC 4638 lets the session carry: the client's
// PPP-Max-Payload when the interface's MTU has room for it, and then the
// tag to echo; otherwise RFC 2516's 1492 and no tag (§5: "If the PPPoE
// server cannot support the requested PPP-Max-Payload, it MUST NOT
// include the tag", and the client stays at 1492).
func (p *port) maxPayload(pkt *discovery.Packet) (int, bool) {
	t, ok := discovery.Find[discovery.PPPMaxPayload](pkt)
	if !ok || int(t) <= discovery.DefaultMTU {
		return discovery.DefaultMTU, false
	}
	if int(t)+discovery.Overhead > p.ifi.MTU || int(t) > maxPPPoEMTU {
		return discovery.DefaultMTU, false
	}
	// Echoing says we carry it: not when max-mtu and max-mru keep the
	// session at 1492 anyway (the client would ask LCP for what we then
	// Nak down, for nothing).
	if int(t) > min(p.s.cfg.MaxMTU, p.s.cfg.MaxMRU) {
		return discovery.DefaultMTU, false
	}
	return int(t), true
}

// reply builds an answer to pkt: our tags, then the ones RFC 2516 says to
// echo (Host-Uniq, Relay-Session-Id: §5.2, §5.4, appendix A).
func (p *port) reply(code discovery.Code, id uint16, pkt *discovery.Packet, tags ...discovery.Tag) *discovery.Packet {
	out := &discovery.Packet{Code: code, SessionID: id, Tags: tags}
	if h, ok := discovery.Find[discovery.HostUniq](pkt); ok {
		out.Tags = append(out.Tags, h)
	}
	if r, ok := discovery.Find[discovery.RelaySessionID](pkt); ok {
		out.Tags = append(out.Tags, r)
	}
	return out
}

func (p *port) send(dst net.HardwareAddr, pkt *discovery.Packet) error {
	payload, err := pkt.Marshal()
	if err != nil {
		return err
	}
	frame, err := discovery.AppendFrame(nil, dst, p.ifi.HardwareAddr, discovery.EtherTypeDiscovery, payload)
	if err != nil {
		return err
	}
	if p.s.cfg.Debug {
		for _, l := range pkt.LogLines("sent", dst, p.ifi.HardwareAddr) {
			p.s.log.Debug(l, "interface", p.ifi.Name)
		}
	}
	_, err = p.conn.WriteTo(frame, &packet.Addr{HardwareAddr: dst})
	return err
}

func (p *port) padi(src net.HardwareAddr, pkt *discovery.Packet, now time.Time) {
	s := p.s
	s.count(func(c *Counters) { c.PADIs++ })
	if !s.padi.Allow(src, now) {
		s.count(func(c *Counters) { c.PADIsLimited++ })
		return
	}
	asked, _ := discovery.Find[discovery.ServiceName](pkt)
	svc, ok := p.service(string(asked))
	if !ok {
		// §5.2: an AC that cannot serve the service asked for sends no PADO.
		s.count(func(c *Counters) { c.PADIsNoService++ })
		return
	}
	tags := []discovery.Tag{discovery.ACName(s.cfg.ACName)}
	if svc == "" && len(p.services) > 0 {
		// Asked for any: every service we offer (§5.2 allows several).
		for _, n := range p.services {
			tags = append(tags, discovery.ServiceName(n))
		}
	} else {
		tags = append(tags, discovery.ServiceName(svc))
	}
	tags = append(tags, discovery.ACCookie(s.jar.Mint(src)))
	if n, ok := p.maxPayload(pkt); ok {
		tags = append(tags, discovery.PPPMaxPayload(n))
	}
	if err := p.send(src, p.reply(discovery.CodePADO, 0, pkt, tags...)); err != nil {
		s.plog.Warn("server: sending PADO", "interface", p.ifi.Name, "to", src.String(), "err", err)
		return
	}
	s.count(func(c *Counters) { c.PADIsAnswered++ })
}

func (p *port) padr(src net.HardwareAddr, pkt *discovery.Packet) {
	s := p.s
	s.count(func(c *Counters) { c.PADRs++ })
	cookie, ok := discovery.Find[discovery.ACCookie](pkt)
	if !ok || !s.jar.Verify(src, cookie) {
		// §5.3 leaves a PADR we did not offer unanswered; a forged or
		// stale cookie is one.
		s.count(func(c *Counters) { c.BadCookies++ })
		s.plog.Debug("server: PADR without a valid cookie", "interface", p.ifi.Name, "from", src.String())
		return
	}
	asked, _ := discovery.Find[discovery.ServiceName](pkt)
	svc, ok := p.service(string(asked))
	if !ok {
		s.count(func(c *Counters) { c.RefusedNoService++ })
		p.refuse(src, pkt, discovery.ServiceNameError("service not served: "+string(asked)))
		return
	}
	// A PADR repeated because our PADS was lost gets the same PADS, not a
	// second session (the cookie tells the two PADRs apart from a new
	// session's: it is fresh for each PADO).
	if ss := s.byCookie(p, src, cookie); ss != nil {
		if !ss.resendable() {
			s.plog.Debug("server: PADR replays the cookie of a session that is up", "interface", p.ifi.Name, "from", src.String())
			return
		}
		if err := p.send(src, ss.pads); err != nil {
			s.plog.Warn("server: sending PADS", "interface", p.ifi.Name, "to", src.String(), "err", err)
		}
		return
	}
	if s.cfg.OneSessionPerHost {
		s.endHost(p, src)
	}
	mtu, echo := p.maxPayload(pkt)
	ss, err := s.startSession(p, src, svc, []byte(cookie), mtu)
	if err != nil {
		if errors.Is(err, errFull) {
			s.count(func(c *Counters) { c.RefusedMax++ })
			p.refuse(src, pkt, discovery.ACSystemError("too many sessions"))
			return
		}
		s.plog.Warn("server: no session for a PADR", "interface", p.ifi.Name, "client", src.String(), "err", err)
		p.refuse(src, pkt, discovery.ACSystemError("cannot start a session"))
		return
	}
	tags := []discovery.Tag{discovery.ServiceName(svc), discovery.ACName(s.cfg.ACName)}
	if echo {
		tags = append(tags, discovery.PPPMaxPayload(mtu))
	}
	ss.pads = p.reply(discovery.CodePADS, ss.key.id, pkt, tags...)
	if err := p.send(src, ss.pads); err != nil {
		s.log.Warn("server: sending PADS", "interface", p.ifi.Name, "to", src.String(), "err", err)
	}
	ss.start()
}

// refuse answers a PADR with a PADS of SESSION_ID 0 and an error tag
// (RFC 2516 §5.4).
func (p *port) refuse(dst net.HardwareAddr, pkt *discovery.Packet, errTag discovery.Tag) {
	asked, _ := discovery.Find[discovery.ServiceName](pkt)
	out := p.reply(discovery.CodePADS, 0, pkt, discovery.ServiceName(asked), discovery.ACName(p.s.cfg.ACName), errTag)
	if err := p.send(dst, out); err != nil {
		p.s.plog.Warn("server: sending PADS", "interface", p.ifi.Name, "to", dst.String(), "err", err)
	}
}

// padt ends the session it names, only when interface, client MAC and
// session id all match (§5.5: a PADT from another station must not end a
// session it can only guess the id of).
func (p *port) padt(src net.HardwareAddr, pkt *discovery.Packet) {
	s := p.s
	k := sessionKey{ifindex: p.ifi.Index, mac: macKey(src), id: pkt.SessionID}
	s.mu.Lock()
	ss := s.sessions[k]
	if ss == nil {
		s.counters.PADTsIgnored++
		s.mu.Unlock()
		s.plog.Debug("server: PADT for no session of ours", "interface", p.ifi.Name, "from", src.String(), "session-id", fmt.Sprintf("%#x", pkt.SessionID))
		return
	}
	s.counters.PADTs++
	ss.padtSeen = true
	s.mu.Unlock()
	args := []any{"interface", p.ifi.Name, "client", src.String(), "session-id", fmt.Sprintf("%#x", pkt.SessionID)}
	if e := pkt.Error(); e != nil {
		args = append(args, "error", e.String()) // the tag's String escapes its text
	}
	s.plog.Info("server: PADT from the client", args...)
	ss.hangUp()
}
