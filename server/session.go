package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/internal/peerlog"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/pppox"
	"github.com/pppoed/pppoed/radius"
	"github.com/pppoed/pppoed/status"
	"github.com/vishvananda/netlink"
)

// SetupTimeout bounds the time from PADS to the first network protocol
// up: LCP, authentication and an NCP.
const SetupTimeout = 60 * time.Second

// errFull: max-sessions reached, or MaxPending sessions not up yet.
var errFull = errors.New("server: max-sessions reached")

// MaxPending bounds the sessions between PADS and their first network
// protocol: each holds a pppN and three descriptors, and a station that
// sends PADRs (each after a PADO, which the PADI limits bound) and then
// nothing keeps one for SetupTimeout. A PADR past it gets AC-System-Error
// as at max-sessions; the clients' own retries find room as sessions come
// up. At the default PADI limit, 200 a second over 60 s could otherwise
// have made 12000.
const MaxPending = 1024

// session is one client's session: from the PADS to the PADT.
//
//	PADR --startSession--> pending --start--> running --run returns--> gone
//	 (kernel link made,      (PADS sent)     (ppp.Session.Run)   (pppN destroyed,
//	  nothing else)                                               PADT, id freed)
//
// Fields marked (mu) are the server's lock's; the rest belong to the
// session's goroutine once start was called.
type session struct {
	srv     *Server
	port    *port
	key     sessionKey
	mac     net.HardwareAddr
	service string
	cookie  []byte // the PADR's, to recognise its repeats
	mtu     int    // what the session may carry (RFC 4638 or 1492)
	lcpMTU  int    // what LCP agreed we send
	since   time.Time
	log     *slog.Logger

	link    kernelLink
	ctl     *ppp.Session
	pads    *discovery.Packet
	ctx     context.Context
	cancel  context.CancelCauseFunc
	profile *Profile
	acct    account
	pool    *sessionPool
	setup   *time.Timer // SetupTimeout's

	// RADIUS. acctID is the Acct-Session-Id (set before the session is
	// published); cause the Acct-Terminate-Cause its stopper gave. The
	// timers are under their own lock: they are armed from the
	// session's goroutine, the DAE listener's and their own.
	acctID       string
	acctStarted  bool             // a Start went: a Stop must follow
	lastCounters *status.Counters // pppN's, last read (timers): the Stop's
	framedMTU    int
	authAt       time.Time
	cause        atomic.Uint32
	timers       sync.Mutex
	sessionTimer *time.Timer
	idleTimer    *time.Timer
	interimTimer *time.Timer
	timersDone   bool

	// (mu)
	user     string
	ifname   string
	local    netip.Addr
	remote   netip.Addr
	acctIP   netip.Addr // the last IPv4 peer address: the Stop's, after IPCP went down
	framed   netip.Addr // a Framed-IP-Address claimed before IPCP is up
	remote6  netip.Addr
	linkUp   bool
	linkUpAt time.Time // when LCP came up (the authentication latency's start)
	upSince  time.Time
	padtSeen bool
	counted  bool   // in byUser
	granted  *grant // what RADIUS accepted the user with, or nil
	verifies []time.Time
}

// byCookie returns the live session a PADR from mac with this cookie
// started, if any. A cookie starts one session at a time: the PADR
// repeated because our PADS was lost gets that session's PADS again, and
// a cookie replayed once the session is up gets nothing (each cookie
// costs a PADO, which the PADI limits bound; sessions would not be).
func (s *Server) byCookie(p *port, mac net.HardwareAddr, cookie []byte) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, ss := range s.sessions {
		if k.ifindex == p.ifi.Index && k.mac == macKey(mac) && bytes.Equal(ss.cookie, cookie) {
			return ss
		}
	}
	return nil
}

// resendable reports whether a repeated PADR should get the session's
// PADS again: LCP has not come up, so the client may not have it.
func (ss *session) resendable() bool {
	ss.srv.mu.Lock()
	defer ss.srv.mu.Unlock()
	return !ss.linkUp
}

// endHost ends the sessions mac has on p (one-session-per-host).
func (s *Server) endHost(p *port, mac net.HardwareAddr) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, ss := range s.sessions {
		if k.ifindex == p.ifi.Index && k.mac == macKey(mac) {
			s.log.Info("server: a new session from the host ends its old one", "client", mac.String(), "session-id", fmt.Sprintf("%#x", k.id))
			ss.stopWith(radius.CauseNASRequest, "One session per host")
		}
	}
}

// startSession makes the kernel's side of a new session (AF_PPPOX
// connected to the client, /dev/ppp channel and unit) before the PADS
// goes: the client's first LCP packet may follow the PADS at once.
func (s *Server) startSession(p *port, mac net.HardwareAddr, svc string, cookie []byte, mtu int) (*session, error) {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return nil, errors.New("server: stopping")
	}
	if s.full() {
		s.mu.Unlock()
		return nil, errFull
	}
	s.mu.Unlock()
	id, err := p.ids.Allocate()
	if err != nil {
		return nil, err
	}
	ss := &session{
		srv: s, port: p, key: sessionKey{ifindex: p.ifi.Index, mac: macKey(mac), id: id},
		mac: append(net.HardwareAddr(nil), mac...), service: svc, cookie: cookie, mtu: mtu, since: time.Now(),
	}
	ss.log = s.log.With("client", mac.String(), "session-id", fmt.Sprintf("%#x", id))
	ss.link, err = s.kernel.open(pppox.Config{
		Interface: p.ifi.Name, SessionID: id, AC: mac, MRU: min(mtu, s.cfg.MaxMRU), Logger: ss.log,
	})
	if err != nil {
		p.ids.Release(id)
		return nil, err
	}
	ss.ifname = ss.link.ifname()
	// Whole before it is published: Run's end and Kick stop the sessions
	// they find (ss.ctl) from other goroutines.
	ss.ctx, ss.cancel = context.WithCancelCause(context.Background())
	ss.pool = &sessionPool{ss: ss}
	if s.aaa != nil {
		ss.acctID = s.aaa.ids.Next()
	}
	ss.ctl = ppp.NewSession(ss.link, s.pppConfig(ss))
	s.mu.Lock()
	// Checked again: another interface's reader may have added one.
	if s.stopping || s.full() {
		stopping := s.stopping
		s.mu.Unlock()
		ss.cancel(nil)
		ss.link.Close()
		p.ids.Release(id)
		if stopping {
			return nil, errors.New("server: stopping")
		}
		return nil, errFull
	}
	s.sessions[ss.key] = ss
	s.pending++
	s.counters.SessionsStarted++
	s.mu.Unlock()
	return ss, nil
}

// full reports whether a new session must be refused; s.mu is held.
func (s *Server) full() bool {
	return (s.cfg.MaxSessions > 0 && len(s.sessions) >= s.cfg.MaxSessions) || s.pending >= s.maxPending
}

// pppConfig is the PPP side of a session: the authenticator, IPCP with the
// interface's default profile until the user is known.
func (s *Server) pppConfig(ss *session) ppp.Config {
	prof := s.profile(ss.port.profile)
	cfg := ppp.Config{
		Role:    ppp.RoleServer,
		Timers:  s.cfg.Timers,
		Logger:  ss.log,
		MRU:     uint16(min(ss.mtu, s.cfg.MaxMRU)),
		MaxMTU:  uint16(min(ss.mtu, s.cfg.MaxMTU)),
		Require: s.cfg.Auth,
		Secrets: secretStore{s},
		Name:    s.cfg.ACName,
		IPv4:    &ppp.IPv4Config{Local: prof.LocalAddress, DNS: prof.DNS, Pool: ss.pool},
		OnEvent: ss.onEvent,
		// The client's Configure-Request proves its channel is up: ours,
		// sent right after the PADS, could reach it before.
		Silent:    true,
		Authorize: ss.authorize,
	}
	if s.aaa != nil && s.aaa.auth != nil {
		cfg.Verify = ss.verify
	}
	if !s.cfg.Debug {
		// ppp dumps packets at debug level: only with Debug.
		cfg.Logger = slog.New(infoOnly{ss.log.Handler()})
	}
	if s.cfg.KeepaliveTimeout > 0 {
		// RouterOS's keepalive-timeout K: an echo each second once the
		// client was quiet for K, dead once it was quiet for 2K.
		cfg.EchoTimeout = 2 * s.cfg.KeepaliveTimeout
		cfg.EchoQuiet = s.cfg.KeepaliveTimeout
		cfg.EchoRepeat = time.Second
	}
	if s.cfg.IPv6 {
		cfg.IPv6 = &ppp.IPv6Config{}
	}
	return cfg
}

// profile returns the named profile (validated to exist).
func (s *Server) profile(name string) *Profile {
	for i := range s.cfg.Profiles {
		if s.cfg.Profiles[i].Name == name {
			return &s.cfg.Profiles[i]
		}
	}
	return &Profile{Name: name}
}

// start runs the session: ppp's Start, so that it has no goroutine of its
// own while it waits (the poller hands it its frames; timers and Close
// wake it). A goroutine each, parked, cost 4 to 8 KiB of stack a session
// in the VM, most of what a session cost.
func (ss *session) start() {
	s := ss.srv
	s.wg.Add(1)
	ss.setup = ss.setupTimer()
	ss.ctl.Start(ss.ctx, func(err error) {
		// On the session's last event: the link is closed, pppN is gone
		// with its addresses and routes.
		ss.setup.Stop()
		ss.finish(err)
		s.wg.Done()
	})
}

// setupTimer starts the bound on the session's set-up: a client that
// sends a PADR and then nothing, or never finishes negotiating, would
// hold its pppN and session id for good: LCP's own bounds (Max-Configure,
// the authentication timeout) do not cover a peer that keeps answering
// without ever agreeing.
func (ss *session) setupTimer() *time.Timer {
	s := ss.srv
	ss.log.Info("server: session started", "interface", ss.port.ifi.Name, "ifname", ss.ifname, "service", peerlog.Text(ss.service))
	return time.AfterFunc(SetupTimeout, func() {
		s.mu.Lock()
		up := !ss.upSince.IsZero()
		s.mu.Unlock()
		if !up {
			ss.log.Warn("server: the session did not come up in time", "timeout", SetupTimeout.String())
			ss.stopWith(radius.CauseServiceUnavail, "Session setup timed out")
		}
	})
}

// finish forgets the session once ppp's Run has returned: PADT (unless
// the client sent one), session id released, why it ended logged.
func (ss *session) finish(err error) {
	s := ss.srv
	var down *ppp.DownError
	reason, detail := "unknown", ""
	if errors.As(err, &down) {
		reason, detail = down.Reason.String(), down.Detail
	}
	s.mu.Lock()
	padtSeen := ss.padtSeen
	delete(s.sessions, ss.key)
	if ss.upSince.IsZero() {
		s.pending--
	}
	// Counted as the session goes, under the same lock: a status never
	// shows a failed session gone and its failure not counted.
	if down != nil && down.Reason == ppp.ReasonPeerAuthFailed {
		s.counters.AuthFailures++
	}
	if ss.counted {
		if s.byUser[ss.user]--; s.byUser[ss.user] <= 0 {
			delete(s.byUser, ss.user)
		}
	}
	user := ss.user
	s.mu.Unlock()
	ss.stopTimers()
	if ss.acctStarted {
		ss.timers.Lock()
		c := ss.lastCounters // an Interim's, should the last read have failed
		ss.timers.Unlock()
		r := ss.record(radius.AcctStop, c)
		r.Cause = ss.terminateCause(down, padtSeen)
		ss.send(r)
	}
	if !padtSeen {
		// §5.5: a PADT ends the session on the client's side too.
		padt := &discovery.Packet{Code: discovery.CodePADT, SessionID: ss.key.id, Tags: []discovery.Tag{discovery.ACName(s.cfg.ACName)}}
		if err := ss.port.send(ss.mac, padt); err != nil {
			ss.log.Warn("server: sending PADT", "err", err)
		}
	}
	ss.port.ids.Release(ss.key.id)
	ss.cancel(nil)
	ss.log.Info("server: session ended", "user", peerlog.Text(user), "reason", reason, "detail", peerlog.Printable(detail),
		"duration", time.Since(ss.since).Round(time.Millisecond).String())
}

// stop ends the session with an LCP Terminate-Request (then a PADT).
func (ss *session) stop(why string) {
	if ss.ctl != nil {
		ss.ctl.Close(why)
	}
}

// hangUp ends the session at once: the client sent a PADT, its side is gone.
func (ss *session) hangUp() { ss.link.HangUp(io.EOF) }

// onEvent configures pppN as the session's layers come and go; it runs on
// the session's goroutine.
func (ss *session) onEvent(ev ppp.Event) {
	s := ss.srv
	fail := func(err error) {
		ss.log.Error("server: configuring " + ss.ifname + ": " + err.Error())
		ss.cause.CompareAndSwap(0, uint32(radius.CauseNASError))
		ss.ctl.Close("configuring the interface failed")
	}
	switch e := ev.(type) {
	case ppp.LinkUp:
		s.mu.Lock()
		ss.linkUp = true
		s.mu.Unlock()
		ss.linkUpAt = time.Now()
		if err := ss.link.SetMRU(int(e.MRU)); err != nil {
			fail(err)
			return
		}
		ss.lcpMTU = int(e.MTU)
		if err := ss.setMTU(ss.lcpMTU); err != nil {
			fail(err)
		}
	case ppp.Authenticated:
		if !ss.linkUpAt.IsZero() {
			s.authSeconds.UpdateDuration(ss.linkUpAt)
		}
		ss.authenticated(e.Peer)
	case ppp.IPv4Up:
		err := s.kernel.addAddr(ss.ifname, e.Local, e.Peer)
		if err == nil {
			err = s.kernel.up(ss.ifname)
		}
		if err == nil {
			err = ss.link.SetNPMode(ppp.ProtoIPv4, pppox.NPModePass)
		}
		if err != nil {
			fail(err)
			return
		}
		ss.up(func() { ss.local, ss.remote, ss.acctIP = e.Local, e.Peer, e.Peer })
		ss.log.Info("server: IPv4 up", "user", peerlog.Text(ss.userName()), "ifname", ss.ifname, "local", e.Local.String(), "remote", e.Peer.String(),
			"setup", time.Since(ss.since).Round(time.Millisecond).String())
	case ppp.IPv6Up:
		local, peer := e.Local.LinkLocal(), e.Peer.LinkLocal()
		err := s.kernel.addAddr(ss.ifname, local, peer)
		if err == nil {
			err = s.kernel.up(ss.ifname)
		}
		if err == nil {
			err = ss.link.SetNPMode(ppp.ProtoIPv6, pppox.NPModePass)
		}
		if err != nil {
			fail(err)
			return
		}
		ss.up(func() { ss.remote6 = peer })
		ss.log.Info("server: IPv6 up", "user", peerlog.Text(ss.userName()), "ifname", ss.ifname, "local", local.String(), "remote", peer.String())
	case ppp.IPv4Down:
		ss.readCounters()
		_ = ss.link.SetNPMode(ppp.ProtoIPv4, pppox.NPModeDrop)
		s.kernel.removeAddrs(ss.ifname, netlink.FAMILY_V4)
		s.mu.Lock()
		ss.local, ss.remote = netip.Addr{}, netip.Addr{}
		s.mu.Unlock()
	case ppp.IPv6Down:
		ss.readCounters()
		_ = ss.link.SetNPMode(ppp.ProtoIPv6, pppox.NPModeDrop)
		s.kernel.removeAddrs(ss.ifname, netlink.FAMILY_V6)
		s.mu.Lock()
		ss.remote6 = netip.Addr{}
		s.mu.Unlock()
	}
}

// up records an NCP's addresses, and the session's first NCP, which
// starts its accounting.
func (ss *session) up(set func()) {
	s := ss.srv
	s.mu.Lock()
	set()
	first := ss.upSince.IsZero()
	if first {
		ss.upSince = time.Now()
		s.counters.SessionsUp++
		s.pending--
	}
	s.mu.Unlock()
	if first {
		ss.acctStart()
	}
}

// readCounters keeps pppN's counters as an NCP goes down: the Stop
// record's, read while pppN still exists (it goes with the link).
func (ss *session) readCounters() {
	if !ss.acctStarted {
		return
	}
	if c, err := ss.srv.kernel.counters(ss.ifnameNow()); err == nil {
		ss.timers.Lock()
		ss.lastCounters = c
		ss.timers.Unlock()
	} else {
		ss.log.Warn("server: reading the session's counters", "err", err)
	}
}

func (ss *session) userName() string {
	ss.srv.mu.Lock()
	defer ss.srv.mu.Unlock()
	return ss.user
}

func (ss *session) setMTU(mtu int) error {
	if ss.profile != nil && ss.profile.MTU > 0 {
		mtu = min(mtu, ss.profile.MTU)
	}
	if ss.framedMTU > 0 {
		mtu = min(mtu, ss.framedMTU)
	}
	return ss.srv.kernel.setMTU(ss.ifname, mtu)
}

// authenticated takes the user's profile and static interface name.
func (ss *session) authenticated(peer string) {
	s := ss.srv
	acct := ss.acct // authorize's
	if acct.name != peer {
		acct, _ = ss.lookup(peer)
		ss.acct = acct
		ss.profile = s.profile(acct.profileName(ss.port.profile))
	}
	s.mu.Lock()
	ss.user = peer
	s.mu.Unlock()
	if name := acct.ifname(); name != "" && name != ss.ifname {
		// pppN is still down (IPCP is not up): it can be renamed. A name
		// held by another of the user's sessions stays that one's
		// (RouterOS: the second session gets a dynamic interface).
		err := s.kernel.rename(ss.ifname, name)
		if err != nil {
			ss.log.Warn("server: keeping the dynamic interface name", "ifname", ss.ifname, "wanted", name, "err", err)
		} else {
			s.mu.Lock()
			ss.ifname = name
			s.mu.Unlock()
		}
	}
	// The first authentication arms the RADIUS timers; a renegotiation's
	// (RFC 1661 §3.5 authenticates again) must not restart the
	// Session-Timeout (RFC 2865 §5.27: the session's maximum) nor add a
	// second idle timer.
	ss.timers.Lock()
	first := ss.authAt.IsZero()
	if first {
		ss.authAt = time.Now()
	}
	ss.timers.Unlock()
	if acc := acct.radius; acc != nil && first {
		// Framed-MTU lowers pppN's MTU as a profile's does; under 128
		// (minMTU) it is ignored as nonsense.
		if acc.FramedMTU >= minMTU {
			ss.framedMTU = int(acc.FramedMTU)
		}
		if acc.SessionTimeout > 0 {
			ss.setSessionTimeout(acc.SessionTimeout)
		}
		if acc.IdleTimeout > 0 {
			ss.startIdleTimer(acc.IdleTimeout)
		}
	}
	if ss.profile.MTU > 0 || ss.framedMTU > 0 {
		if err := ss.setMTU(ss.lcpMTU); err != nil {
			ss.log.Warn("server: profile MTU", "err", err)
		}
	}
	ss.log.Info("server: authenticated", "user", peerlog.Text(peer), "profile", ss.profile.Name, "radius", acct.radius != nil)
}

func (ss *session) statusLocked() SessionStatus {
	st := SessionStatus{
		User: ss.user, MAC: ss.mac.String(), SessionID: ss.key.id, Interface: ss.port.ifi.Name,
		Ifname: ss.ifname, Service: ss.service, Local: ss.local, Remote: ss.remote, RemoteV6: ss.remote6,
		MTU: ss.mtu, Since: ss.since, UpSince: ss.upSince, AcctSessionID: ss.acctID,
	}
	switch {
	case !ss.upSince.IsZero():
		st.State = "up"
	case ss.user != "":
		st.State = "network"
	case ss.linkUp:
		st.State = "authenticate"
	default:
		st.State = "establish"
	}
	return st
}

// authorize is ppp's Authorize: the peer's credentials are good; its
// profile decides the rest. only-one refuses a second login of a name
// (checked and counted under one lock, so two at once cannot both pass).
// The profile's local address and name servers replace the interface's
// default profile's, which IPCP was configured with before the user was
// known.
func (ss *session) authorize(peer string) (*ppp.Authorization, error) {
	s := ss.srv
	acct, ok := ss.lookup(peer)
	if !ok {
		return nil, fmt.Errorf("server: %q is no longer a user", peer)
	}
	prof := s.profile(acct.profileName(ss.port.profile))
	// Looked up once: the address and the interface name follow from
	// this account, even if a reload changes the user meanwhile.
	ss.acct, ss.profile = acct, prof
	s.mu.Lock()
	if prof.OnlyOne && s.byUser[peer] > 0 {
		s.counters.RefusedOnlyOne++
		s.mu.Unlock()
		return nil, fmt.Errorf("server: %q already has a session (only-one)", peer)
	}
	if !ss.counted {
		ss.counted = true
		ss.user = peer
		s.byUser[peer]++
	}
	s.mu.Unlock()
	dns := prof.DNS
	if acc := acct.radius; acc != nil && (acc.PrimaryDNS.IsValid() || acc.SecondaryDNS.IsValid()) {
		dns = nil
		for _, a := range []netip.Addr{acc.PrimaryDNS, acc.SecondaryDNS} {
			if a.IsValid() && a.Is4() {
				dns = append(dns, a)
			}
		}
	}
	return &ppp.Authorization{IPv4: &ppp.IPv4Config{Local: prof.LocalAddress, DNS: dns, Pool: ss.pool}}, nil
}

// lookup is the account peer authenticated as: RADIUS's grant, else the
// local directory's.
func (ss *session) lookup(peer string) (account, bool) {
	if a, ok := ss.radiusAccount(peer); ok {
		return a, true
	}
	return ss.srv.directory().lookup(peer)
}

// sessionPool is a session's ppp.AddressPool: the user's fixed address or
// its profile's pool, checked against its secrets entry's rules.
type sessionPool struct {
	ss   *session
	pool *Pool // what Allocate took from, for Release
}

func (sp *sessionPool) Allocate(peer string) (netip.Addr, error) {
	ss := sp.ss
	s := ss.srv
	acct, ok := ss.acct, ss.acct.name == peer // authorize's, on this goroutine
	if !ok {
		acct, ok = ss.lookup(peer)
	}
	if !ok {
		return netip.Addr{}, fmt.Errorf("server: %q is not a user", peer)
	}
	prof := s.profile(acct.profileName(ss.port.profile))
	pool := s.pools[prof.RemotePool]
	if acc := acct.radius; acc != nil && acc.FramedPool != "" {
		// Framed-Pool names one of our pools (RFC 2869 §5.18).
		if pool = s.pools[acc.FramedPool]; pool == nil {
			return netip.Addr{}, fmt.Errorf("server: RADIUS gave %q the pool %q, which is not defined", peer, acc.FramedPool)
		}
		prof = &Profile{Name: prof.Name, LocalAddress: prof.LocalAddress, RemotePool: acc.FramedPool}
	}
	var a netip.Addr
	fixed := acct.fixedAddress()
	if fixed.IsValid() && acct.radius != nil {
		if err := s.checkFramed(ss, fixed, prof.LocalAddress); err != nil {
			return netip.Addr{}, err
		}
	}
	switch {
	case fixed.IsValid():
		a = fixed
		if pool != nil && pool.Contains(a) {
			if err := pool.Reserve(a); err != nil {
				return netip.Addr{}, fmt.Errorf("server: the address of %q: %w", peer, err)
			}
			sp.pool = pool
		}
	case prof.RemoteAddress.IsValid():
		a = prof.RemoteAddress
	case pool != nil:
		var err error
		if a, err = pool.Allocate(peer); err != nil {
			s.count(func(c *Counters) { c.NoAddress++ })
			return netip.Addr{}, err
		}
		sp.pool = pool
	default:
		return netip.Addr{}, fmt.Errorf("server: profile %q has no remote address or pool", prof.Name)
	}
	if err := acct.allows(a); err != nil {
		sp.Release(a)
		return netip.Addr{}, err
	}
	return a, nil
}

func (sp *sessionPool) Release(a netip.Addr) {
	sp.ss.srv.mu.Lock()
	sp.ss.framed = netip.Addr{}
	sp.ss.srv.mu.Unlock()
	if sp.pool != nil {
		sp.pool.Release(a)
		sp.pool = nil
	}
}

// infoOnly drops debug records: ppp's packet dumps, unless Debug.
type infoOnly struct{ slog.Handler }

func (h infoOnly) Enabled(ctx context.Context, l slog.Level) bool {
	return l > slog.LevelDebug && h.Handler.Enabled(ctx, l)
}

func (h infoOnly) WithAttrs(as []slog.Attr) slog.Handler { return infoOnly{h.Handler.WithAttrs(as)} }
func (h infoOnly) WithGroup(n string) slog.Handler       { return infoOnly{h.Handler.WithGroup(n)} }
