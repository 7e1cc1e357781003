package server

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pppoed/pppoed/internal/peerlog"
	"github.com/pppoed/pppoed/metrics"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/mschap"
	"github.com/pppoed/pppoed/radius"
	"github.com/pppoed/pppoed/status"
)

// RADIUS is the AC's RADIUS: authentication (RFC 2865), accounting (RFC
// 2866) and dynamic authorization (RFC 5176); RouterOS's /radius, /ppp aaa
// and /radius incoming.
type RADIUS struct {
	// Servers in order of preference: the first alive one is asked
	// first, a dead one (no answer after Retries) only after the others
	// for DeadTime.
	Servers []RADIUSServer
	// Order combines RADIUS with the local users (default LocalFirst).
	Order AuthOrder
	// NASIdentifier (default: the AC name) and NASIPAddress (optional)
	// name us in every request and must match in a Disconnect- or
	// CoA-Request.
	NASIdentifier string
	NASIPAddress  netip.Addr
	// Timeout, Retries and DeadTime: radius.Config's (0: its defaults).
	Timeout  time.Duration
	Retries  int
	DeadTime time.Duration
	// InterimInterval is the Interim-Update period when the Access-Accept
	// gives no Acct-Interim-Interval (0: none).
	InterimInterval time.Duration
	// Spool bounds the accounting records waiting for a server (default
	// 4096); past it the oldest Interim-Updates go first, counted.
	Spool int
	// DAEListen is where Disconnect- and CoA-Requests are taken
	// (host:port, usually :3799); "": none. DAEClients are who may send
	// them.
	DAEListen  string
	DAEClients []radius.DAEClient
	// DAERequireEventTimestamp drops a request without Event-Timestamp
	// (RFC 5176 §3.2's replay protection made mandatory).
	DAERequireEventTimestamp bool
}

// RADIUSServer is one server: its authentication and accounting
// addresses (host:port; "" when it does not serve that) and the secret.
type RADIUSServer struct {
	Auth, Acct string
	Secret     radius.Secret
}

// AuthOrder is how RADIUS and the local users (static users and secrets
// files) combine.
type AuthOrder int

const (
	// LocalFirst: a local user is checked locally, any other name
	// through RADIUS (RouterOS's order).
	LocalFirst AuthOrder = iota
	// RADIUSOnly: every name goes to RADIUS; the local users are not
	// consulted.
	RADIUSOnly
	// RADIUSFirst: every name goes to RADIUS; only when no server
	// answers is a local user checked locally. A reject stands.
	RADIUSFirst
)

var orderNames = []string{"local,radius", "radius", "radius,local"}

func (o AuthOrder) String() string {
	if int(o) < len(orderNames) {
		return orderNames[o]
	}
	return fmt.Sprintf("AuthOrder(%d)", int(o))
}

// ParseAuthOrder parses "local,radius", "radius" or "radius,local".
func ParseAuthOrder(s string) (AuthOrder, error) {
	for i, n := range orderNames {
		if s == n {
			return AuthOrder(i), nil
		}
	}
	return 0, fmt.Errorf("server: auth order %q is not one of %s", s, strings.Join(orderNames, ", "))
}

func (r *RADIUS) validate() error {
	if len(r.Servers) == 0 {
		return errors.New("server: radius: no server")
	}
	for i, sv := range r.Servers {
		if sv.Auth == "" && sv.Acct == "" {
			return fmt.Errorf("server: radius: server %d serves neither authentication nor accounting", i+1)
		}
		for _, a := range []string{sv.Auth, sv.Acct} {
			if a == "" {
				continue
			}
			if _, _, err := net.SplitHostPort(a); err != nil {
				return fmt.Errorf("server: radius: server %d: address %q: want host:port", i+1, a)
			}
		}
		if len(sv.Secret) == 0 {
			return fmt.Errorf("server: radius: server %d has no secret", i+1)
		}
	}
	if r.Order < LocalFirst || r.Order > RADIUSFirst {
		return fmt.Errorf("server: radius: %v", r.Order)
	}
	if r.Timeout < 0 || r.DeadTime < 0 || r.InterimInterval < 0 || r.Spool < 0 {
		return errors.New("server: radius: a negative timeout, dead time, interim interval or spool")
	}
	if r.InterimInterval > 0 && r.InterimInterval < minInterim {
		return fmt.Errorf("server: radius: interim-update %s is under %s", r.InterimInterval, minInterim)
	}
	if r.DAEListen != "" {
		if _, _, err := net.SplitHostPort(r.DAEListen); err != nil {
			return fmt.Errorf("server: radius: incoming listen %q: want host:port", r.DAEListen)
		}
		if len(r.DAEClients) == 0 {
			return errors.New("server: radius: incoming requests are listened for but no client may send them")
		}
	}
	for i, c := range r.DAEClients {
		if !c.Prefix.IsValid() {
			return fmt.Errorf("server: radius: incoming client %d has no address", i+1)
		}
		if len(c.Secret) == 0 {
			return fmt.Errorf("server: radius: incoming client %s has no secret", c.Prefix)
		}
	}
	return nil
}

// minInterim is the least Interim-Update period taken, from the file or
// from RADIUS: RFC 2869 §5.16 says it SHOULD NOT be under 60 s; a server
// that sends less would have each session flood it.
const minInterim = 60 * time.Second

// aaa is the server's RADIUS at run time.
type aaa struct {
	cfg  RADIUS
	nas  radius.NAS     // in every request, and checked in DAE requests
	auth *radius.Client // nil: no server authenticates
	acct *radius.Accounting
	// acctClient is acct's, for its servers' counters.
	acctClient *radius.Client
	dae        *radius.DAEListener
	ids        *radius.SessionIDs

	accepts, rejects, unavailable, fallbacks atomic.Uint64
	// inflight bounds the Access-Requests outstanding at once: stations
	// with random MACs could otherwise have MaxPending sessions each wait
	// on a server that is down.
	inflight chan struct{}
}

// authBudget bounds one login's RADIUS exchange, all servers and retries
// included, under ppp's default authentication timeout (30 s), so that a
// refusal or the radius,local fallback reaches the client in time.
const authBudget = 20 * time.Second

// maxInflight is how many Access-Requests may be outstanding at once.
const maxInflight = 256

func (a *aaa) acquire(ctx context.Context) error {
	select {
	case a.inflight <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (a *aaa) release() { <-a.inflight }

func newAAA(cfg RADIUS, acName string, s *Server) (*aaa, error) {
	a := &aaa{cfg: cfg, ids: radius.NewSessionIDs(time.Now()), inflight: make(chan struct{}, maxInflight)}
	a.nas = radius.NAS{Identifier: cfg.NASIdentifier, IPAddress: cfg.NASIPAddress}
	if a.nas.Identifier == "" {
		a.nas.Identifier = acName
	}
	var auth, acct []radius.Server
	for _, sv := range cfg.Servers {
		if sv.Auth != "" {
			auth = append(auth, radius.Server{Addr: sv.Auth, Secret: sv.Secret})
		}
		if sv.Acct != "" {
			acct = append(acct, radius.Server{Addr: sv.Acct, Secret: sv.Secret})
		}
	}
	base := radius.Config{NAS: a.nas, Timeout: cfg.Timeout, Retries: cfg.Retries, DeadTime: cfg.DeadTime, Logger: s.log,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			if s.radiusDial != nil { // tests' in-memory servers
				return s.radiusDial(ctx, network, addr)
			}
			var d net.Dialer
			return d.DialContext(ctx, network, addr)
		}}
	if len(auth) > 0 {
		c := base
		c.Servers = auth
		var err error
		if a.auth, err = radius.NewClient(c); err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
	}
	if len(acct) > 0 {
		c := base
		c.Servers = acct
		ac, err := radius.NewClient(c)
		if err != nil {
			return nil, fmt.Errorf("server: %w", err)
		}
		a.acctClient = ac
		a.acct = radius.NewAccounting(ac, radius.AccountingConfig{Spool: cfg.Spool, Logger: s.log})
	}
	return a, nil
}

// listenDAE starts the Disconnect/CoA listener, if configured.
func (a *aaa) listenDAE(s *Server) error {
	if a.cfg.DAEListen == "" {
		return nil
	}
	l, err := radius.ListenDAE(a.cfg.DAEListen, radius.DAEConfig{
		Clients: a.cfg.DAEClients, NAS: a.nas, Handle: s.dynamicAuthorization, Logger: s.log,
		RequireEventTimestamp: a.cfg.DAERequireEventTimestamp,
	})
	if err != nil {
		return fmt.Errorf("server: radius incoming: %w", err)
	}
	a.dae = l
	return nil
}

// startAAA starts the accounting (with an Accounting-On: RFC 2866 §5.1,
// the NAS restarted and the sessions it had are over) and the DAE
// listener. The function it returns, called once every session has
// ended (and sent its Stop), sends Accounting-Off, waits a bounded time
// for the spool to drain, and stops both.
func (s *Server) startAAA() (func(), error) {
	a := s.aaa
	if a == nil {
		return func() {}, nil
	}
	if err := a.listenDAE(s); err != nil {
		return nil, err
	}
	closeDAE := func() {
		if a.dae != nil {
			a.dae.Close()
		}
	}
	if a.acct == nil {
		return closeDAE, nil
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = a.acct.Run(ctx)
	}()
	a.onOff(radius.AcctOn, s.log)
	return func() {
		closeDAE()
		a.onOff(radius.AcctOff, s.log)
		fctx, fcancel := context.WithTimeout(ctx, acctFlushTimeout)
		if err := a.acct.Flush(fctx); err != nil {
			s.log.Error("server: accounting records not delivered at shutdown", "records", a.acct.Stats().Queued)
		}
		fcancel()
		cancel()
		<-done
	}, nil
}

// acctFlushTimeout bounds the wait for the accounting spool at shutdown:
// long enough for a server's retries, short of systemd's stop timeout.
const acctFlushTimeout = 20 * time.Second

func (a *aaa) onOff(st radius.AcctStatus, log interface{ Warn(string, ...any) }) {
	if err := a.acct.Send(radius.Record{Status: st, SessionID: a.ids.Next()}); err != nil {
		log.Warn("server: accounting", "err", err)
	}
}

// secretStore is the server's ppp.SecretStore: the directory at the time
// of the lookup. Under RADIUSOnly and RADIUSFirst it holds nobody, so
// that ppp asks Verify about every name.
type secretStore struct{ s *Server }

func (st secretStore) Secret(user string) (string, bool) {
	if st.s.aaa != nil && st.s.aaa.auth != nil && st.s.aaa.cfg.Order != LocalFirst {
		return "", false
	}
	a, ok := st.s.directory().lookup(user)
	if !ok {
		return "", false
	}
	return a.password, true
}

// verify is ppp's Verify: a name the local users do not settle goes to
// RADIUS. It runs on a goroutine of its own; what the Access-Accept grants
// is kept for authorize, which runs on the session's after it.
func (ss *session) verify(ctx context.Context, c ppp.Credentials) ppp.Verdict {
	s := ss.srv
	a := s.aaa
	s.mu.Lock()
	if !ss.counted {
		ss.granted = nil // an abandoned verify's: not this one's
	}
	s.mu.Unlock()
	if !ss.verifyAllowed() {
		return ppp.Verdict{Detail: fmt.Sprintf("more than %d RADIUS logins in %s: refused without asking", maxVerifies, verifyWindow)}
	}
	req := radius.Request{UserName: c.User, Port: radius.Port{
		ID: ss.port.ifi.Name, ClientMAC: ss.mac, CalledStationID: radius.FormatMAC(ss.port.ifi.HardwareAddr),
	}}
	switch c.Method {
	case ppp.AuthPAP:
		req.PAP = &radius.PAP{Password: radius.Secret(c.Password)}
	case ppp.AuthCHAPMD5:
		req.CHAP = &radius.CHAP{ID: c.ID, Challenge: c.Challenge, Response: c.Response}
	case ppp.AuthMSCHAPv2:
		r, err := mschap.ParseV2Response(c.Response)
		if err != nil || len(c.Challenge) != mschap.V2ChallengeLen {
			return ppp.Verdict{Detail: "malformed MS-CHAPv2 response"}
		}
		req.MSCHAPv2 = &radius.MSCHAPv2{ID: c.ID, AuthenticatorChallenge: [16]byte(c.Challenge), PeerChallenge: r.PeerChallenge, NTResponse: r.NTResponse, Flags: r.Flags}
	default:
		return ppp.Verdict{Detail: c.Method.String() + " is not passed to RADIUS (use pap, chap or mschap2)"}
	}
	if err := a.acquire(ctx); err != nil {
		return ppp.Verdict{Detail: "abandoned"}
	}
	defer a.release()
	// ppp refuses at its AuthTimeout (30 s): the fallback must answer
	// before that, whatever the servers' timeouts and retries add up to.
	rctx, cancel := context.WithTimeout(ctx, authBudget)
	defer cancel()
	acc, err := a.auth.Authenticate(rctx, req)
	if err != nil && ctx.Err() != nil {
		// ppp abandoned the authentication (the session ended, LCP went
		// down, the deadline passed): no outage, and no one to answer.
		return ppp.Verdict{Detail: "abandoned"}
	}
	var rej *radius.RejectError
	switch {
	case err == nil:
		a.accepts.Add(1)
		s.mu.Lock()
		if !ss.counted { // the first authorization stands (ppp.Config.Authorize)
			ss.granted = &grant{name: c.User, accept: acc}
		}
		s.mu.Unlock()
		msg := strings.Join(acc.ReplyMessage, " ")
		switch c.Method {
		case ppp.AuthMSCHAPv2:
			if msg == "" {
				msg = "Access granted"
			}
			// After its Ident octet (ppp refuses what is not S=…).
			sr := acc.MSCHAP2Success[min(1, len(acc.MSCHAP2Success)):]
			return ppp.Verdict{Accept: true, Message: []byte(string(sr) + " M=" + msg)}
		default:
			v := ppp.Verdict{Accept: true}
			if msg != "" {
				v.Message = []byte(msg)
			}
			return v
		}
	case errors.As(err, &rej):
		a.rejects.Add(1)
		v := ppp.Verdict{Detail: "rejected by RADIUS server " + rej.Server}
		msg := strings.Join(rej.ReplyMessage, " ")
		switch {
		case c.Method != ppp.AuthMSCHAPv2:
			if msg != "" {
				v.Message = []byte(msg)
			}
		case len(rej.MSCHAPError) > 1 && validFailure(rej.MSCHAPError[1:]):
			// The server's own E=… R=… C=… V=… (RFC 2548 §2.1.5).
			v.Message = append([]byte(nil), rej.MSCHAPError[1:]...)
		case msg != "":
			// Ours, carrying the Reply-Message (RFC 2759 §6's M=).
			next := make([]byte, mschap.V2ChallengeLen)
			_, _ = rand.Read(next)
			v.Message = []byte(mschap.Failure{Code: mschap.ErrAuthenticationFailed, Challenge: next, Version: 3, Message: msg}.String())
		}
		return v
	case !errors.Is(err, radius.ErrNoServer):
		// An answer that cannot be used (an Accept the client could not
		// check): a refusal, not an outage, so no fallback.
		a.rejects.Add(1)
		s.plog.Warn("server: RADIUS answer refused", "client", ss.mac.String(), "user", peerlog.Text(c.User), "err", peerlog.Printable(err.Error()))
		return ppp.Verdict{Detail: peerlog.Printable(err.Error())}
	default:
		a.unavailable.Add(1)
		if a.cfg.Order == RADIUSFirst {
			if acct, ok := s.directory().lookup(c.User); ok {
				a.fallbacks.Add(1)
				s.plog.Warn("server: no RADIUS server answered: checking the local user", "client", ss.mac.String(), "user", peerlog.Text(c.User))
				return ppp.Verdict{Local: true, Password: acct.password}
			}
		}
		s.plog.Warn("server: no RADIUS server answered", "client", ss.mac.String(), "user", peerlog.Text(c.User), "err", err)
		return ppp.Verdict{Detail: "no RADIUS server answered"}
	}
}

// validFailure reports whether b is an MS-CHAPv2 Failure packet's text a
// client can parse.
func validFailure(b []byte) bool {
	_, err := mschap.ParseFailure(b)
	return err == nil
}

// maxVerifies in verifyWindow bound the Access-Requests one session makes:
// each LCP renegotiation starts authentication over (RFC 1661 §3.5), and a
// peer renegotiating in a loop would otherwise turn each into a request
// to the shared RADIUS servers.
const (
	maxVerifies  = 5
	verifyWindow = time.Minute
)

// verifyAllowed counts an Access-Request of the session against
// maxVerifies.
func (ss *session) verifyAllowed() bool {
	s := ss.srv
	s.mu.Lock()
	defer s.mu.Unlock()
	now := time.Now()
	recent := ss.verifies[:0]
	for _, t := range ss.verifies {
		if now.Sub(t) < verifyWindow {
			recent = append(recent, t)
		}
	}
	ss.verifies = recent
	if len(recent) >= maxVerifies {
		return false
	}
	ss.verifies = append(ss.verifies, now)
	return true
}

// grant is what RADIUS accepted a name with.
type grant struct {
	name   string
	accept *radius.Accept
}

// radiusAccount is the account of a name RADIUS accepted.
func (ss *session) radiusAccount(peer string) (account, bool) {
	ss.srv.mu.Lock()
	g := ss.granted
	ss.srv.mu.Unlock()
	if g == nil || g.name != peer {
		return account{}, false
	}
	return account{name: peer, radius: g.accept}, true
}

// framedAddress is the address the Access-Accept gave: Framed-IP-Address
// unless it is one of RFC 2865 §5.8's special values (0xFFFFFFFE: the NAS
// picks; 0xFFFFFFFF: the user would pick, which PPP clients here do not),
// whose pick the profile's pool makes.
func framedAddress(acc *radius.Accept) netip.Addr {
	a := acc.FramedIP
	if !a.IsValid() || !a.Is4() || a == netip.AddrFrom4([4]byte{255, 255, 255, 254}) || a == netip.AddrFrom4([4]byte{255, 255, 255, 255}) {
		return netip.Addr{}
	}
	return a
}

// checkFramed refuses an address from RADIUS that cannot be a peer's:
// not a unicast address, ours, or another session's.
func (s *Server) checkFramed(ss *session, a netip.Addr, local netip.Addr) error {
	if a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() || a == local {
		return fmt.Errorf("server: RADIUS gave %q the address %s, which a client cannot have", ss.userName(), a)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, o := range s.sessions {
		if o != ss && (o.remote == a || o.framed == a) {
			return fmt.Errorf("server: RADIUS gave %q the address %s, which session %#x has", ss.user, a, o.key.id)
		}
	}
	ss.framed = a // until Release: claimed before IPCP is up
	return nil
}

// dynamicAuthorization is the DAE listener's Handle: a Disconnect-Request
// ends every session it names, a CoA-Request sets their Session-Timeout.
// It matches on every identifier the request carries (RFC 5176 §3).
func (s *Server) dynamicAuthorization(t radius.Target) error {
	s.mu.Lock()
	var hit []*session
	for _, ss := range s.sessions {
		if t.AcctSessionID != "" && ss.acctID != t.AcctSessionID {
			continue
		}
		if t.UserName != "" && ss.user != t.UserName {
			continue
		}
		if t.FramedIP.IsValid() && ss.remote != t.FramedIP {
			continue
		}
		if t.CallingStationID != "" && !strings.EqualFold(radius.FormatMAC(ss.mac), t.CallingStationID) {
			continue
		}
		if t.NASPortID != "" && ss.port.ifi.Name != t.NASPortID {
			continue
		}
		if t.CalledStationID != "" && !strings.EqualFold(radius.FormatMAC(ss.port.ifi.HardwareAddr), t.CalledStationID) {
			continue
		}
		if ss.user == "" {
			continue // not authenticated: RADIUS cannot know it
		}
		hit = append(hit, ss)
	}
	s.mu.Unlock()
	if len(hit) == 0 {
		return radius.ErrSessionNotFound
	}
	for _, ss := range hit {
		switch t.Kind {
		case radius.Disconnect:
			ss.log.Info("server: Disconnect-Request", "from", t.From.String(), "user", peerlog.Text(ss.userName()))
			ss.stopWith(radius.CauseAdminReset, "Disconnected by RADIUS")
		case radius.CoA:
			ss.log.Info("server: CoA-Request", "from", t.From.String(), "session-timeout", t.SessionTimeout.String())
			ss.setSessionTimeout(t.SessionTimeout)
		}
	}
	return nil
}

// stopWith ends the session, cause being its Acct-Terminate-Cause (the
// first reason given stands).
func (ss *session) stopWith(cause radius.TerminateCause, why string) {
	ss.cause.CompareAndSwap(0, uint32(cause))
	ss.stop(why)
}

// setSessionTimeout (re)arms the Session-Timeout, counted from the
// session's authentication; 0 removes it.
func (ss *session) setSessionTimeout(d time.Duration) {
	ss.timers.Lock()
	defer ss.timers.Unlock()
	if ss.sessionTimer != nil {
		ss.sessionTimer.Stop()
		ss.sessionTimer = nil
	}
	if d <= 0 || ss.timersDone {
		return
	}
	// Before authenticated ran (a CoA may come as the session is
	// authorized) it counts from now.
	left := d
	if !ss.authAt.IsZero() {
		left -= time.Since(ss.authAt)
	}
	ss.sessionTimer = time.AfterFunc(max(left, 0), func() {
		ss.log.Info("server: session timeout", "user", peerlog.Text(ss.userName()), "timeout", d.String())
		ss.stopWith(radius.CauseSessionTimeout, "Session timeout")
	})
}

// startIdleTimer ends the session once nothing was received from the
// client for d (Idle-Timeout, RFC 2865 §5.28): the kernel's last data
// packet received (PPPIOCGIDLE), checked when d could first have passed.
func (ss *session) startIdleTimer(d time.Duration) {
	var check func()
	check = func() {
		idle := ss.link.ReceiveIdle()
		if idle >= d {
			ss.log.Info("server: idle timeout", "user", peerlog.Text(ss.userName()), "timeout", d.String())
			ss.stopWith(radius.CauseIdleTimeout, "Idle timeout")
			return
		}
		ss.timers.Lock()
		defer ss.timers.Unlock()
		if !ss.timersDone {
			ss.idleTimer = time.AfterFunc(d-idle, check)
		}
	}
	ss.timers.Lock()
	defer ss.timers.Unlock()
	if !ss.timersDone {
		ss.idleTimer = time.AfterFunc(d, check)
	}
}

// stopTimers stops the session's RADIUS timers for good.
func (ss *session) stopTimers() {
	ss.timers.Lock()
	defer ss.timers.Unlock()
	ss.timersDone = true
	for _, t := range []*time.Timer{ss.sessionTimer, ss.idleTimer, ss.interimTimer} {
		if t != nil {
			t.Stop()
		}
	}
}

// acctStart sends the session's Accounting Start (at its first network
// protocol up) and starts its Interim-Updates.
func (ss *session) acctStart() {
	a := ss.srv.aaa
	if a == nil || a.acct == nil {
		return
	}
	ss.acctStarted = true
	ss.send(ss.record(radius.AcctStart, nil))
	iv := a.cfg.InterimInterval
	ss.srv.mu.Lock()
	if g := ss.granted; g != nil && g.accept.InterimInterval > 0 {
		iv = max(g.accept.InterimInterval, minInterim)
	}
	ss.srv.mu.Unlock()
	if iv <= 0 {
		return
	}
	var tick func()
	tick = func() {
		c, err := ss.srv.kernel.counters(ss.ifnameNow())
		ss.timers.Lock()
		defer ss.timers.Unlock()
		if ss.timersDone {
			return // the Stop is queued, or about to be: nothing after it
		}
		if err == nil {
			ss.lastCounters = c
			ss.send(ss.record(radius.AcctInterimUpdate, c))
		}
		ss.interimTimer = time.AfterFunc(iv, tick)
	}
	ss.timers.Lock()
	defer ss.timers.Unlock()
	if !ss.timersDone {
		ss.interimTimer = time.AfterFunc(iv, tick)
	}
}

func (ss *session) ifnameNow() string {
	ss.srv.mu.Lock()
	defer ss.srv.mu.Unlock()
	return ss.ifname
}

// record is an accounting record of the session; c are its counters (nil
// for a Start).
func (ss *session) record(st radius.AcctStatus, c *status.Counters) radius.Record {
	s := ss.srv
	s.mu.Lock()
	r := radius.Record{
		Status: st, SessionID: ss.acctID, UserName: ss.user, FramedIP: ss.acctIP,
		Port:      radius.Port{ID: ss.port.ifi.Name, ClientMAC: ss.mac, CalledStationID: radius.FormatMAC(ss.port.ifi.HardwareAddr)},
		Authentic: 2, // Local (RFC 2866 §5.6)
	}
	if !ss.upSince.IsZero() && st != radius.AcctStart {
		r.SessionTime = time.Since(ss.upSince)
	}
	if ss.granted != nil {
		r.Authentic = 1 // RADIUS
		r.Class = ss.granted.accept.Class
	}
	s.mu.Unlock()
	if c != nil {
		// The AC's view (RFC 2866 §5.3, §5.4): input is what the client
		// sent, which pppN received.
		r.InputOctets, r.OutputOctets = c.RxBytes, c.TxBytes
		r.InputPackets, r.OutputPackets = c.RxPackets, c.TxPackets
	}
	return r
}

func (ss *session) send(r radius.Record) {
	if err := ss.srv.aaa.acct.Send(r); err != nil {
		ss.log.Warn("server: accounting", "err", err)
	}
}

// terminateCause is the Acct-Terminate-Cause of a session that ended with
// err (RFC 2866 §5.10): the cause its stopper gave, else ppp's reason.
func (ss *session) terminateCause(down *ppp.DownError, padtSeen bool) radius.TerminateCause {
	if c := ss.cause.Load(); c != 0 {
		return radius.TerminateCause(c)
	}
	if down == nil {
		return radius.CauseNASError
	}
	switch down.Reason {
	case ppp.ReasonPeerTerminated:
		return radius.CauseUserRequest
	case ppp.ReasonLinkLost:
		if padtSeen {
			return radius.CauseUserRequest // the client's PADT (RFC 2516 §5.5)
		}
		return radius.CauseLostCarrier
	case ppp.ReasonPeerDead:
		return radius.CauseLostCarrier
	case ppp.ReasonNegotiationFailed, ppp.ReasonNoNetworkProtocols:
		return radius.CauseServiceUnavail
	case ppp.ReasonLocalClose:
		return radius.CauseNASRequest
	}
	return radius.CauseNASError
}

// writeMetrics writes the RADIUS counters in Prometheus's text format.
func (a *aaa) writeMetrics(w io.Writer) {
	metrics.Counter(w, `pppoed_server_radius_auth_total{result="accept"}`, a.accepts.Load())
	metrics.Counter(w, `pppoed_server_radius_auth_total{result="reject"}`, a.rejects.Load())
	metrics.Counter(w, `pppoed_server_radius_auth_total{result="no_server"}`, a.unavailable.Load())
	metrics.Counter(w, `pppoed_server_radius_auth_total{result="local_fallback"}`, a.fallbacks.Load())
	var servers []radius.ServerStats
	kinds := []string{}
	if a.auth != nil {
		for _, st := range a.auth.Stats() {
			servers = append(servers, st)
			kinds = append(kinds, "auth")
		}
	}
	if a.acct != nil {
		for _, st := range a.acctClient.Stats() {
			servers = append(servers, st)
			kinds = append(kinds, "acct")
		}
	}
	for i, st := range servers {
		l := fmt.Sprintf("server=%s,type=%q", metrics.Label(st.Addr), kinds[i])
		metrics.Counter(w, "pppoed_server_radius_requests_total{"+l+"}", st.Requests)
		metrics.Counter(w, "pppoed_server_radius_retransmits_total{"+l+"}", st.Retransmits)
		metrics.Counter(w, "pppoed_server_radius_timeouts_total{"+l+"}", st.Timeouts)
		metrics.Counter(w, "pppoed_server_radius_replies_total{"+l+"}", st.Replies)
		for _, d := range dropsOf(st.DroppedBy) {
			metrics.Counter(w, "pppoed_server_radius_dropped_total{"+l+",reason=\""+d.reason+"\"}", d.n)
		}
		dead := 0.0
		if st.Dead {
			dead = 1
		}
		metrics.Gauge(w, "pppoed_server_radius_server_dead{"+l+"}", dead)
	}
	if a.acct != nil {
		st := a.acct.Stats()
		metrics.Gauge(w, "pppoed_server_radius_accounting_queue", float64(st.Queued))
		metrics.Counter(w, "pppoed_server_radius_accounting_sent_total", st.Sent)
		metrics.Counter(w, "pppoed_server_radius_accounting_overflow_total", st.Overflow)
		metrics.Counter(w, "pppoed_server_radius_accounting_retries_total", st.Retries)
	}
	if a.dae != nil {
		st := a.dae.Stats()
		metrics.Counter(w, "pppoed_server_radius_dae_requests_total", st.Requests)
		metrics.Counter(w, "pppoed_server_radius_dae_acks_total", st.ACKs)
		metrics.Counter(w, "pppoed_server_radius_dae_naks_total", st.NAKs)
		metrics.Counter(w, "pppoed_server_radius_dae_unknown_client_total", st.UnknownClient)
		metrics.Counter(w, "pppoed_server_radius_dae_replays_total", st.Replays)
		metrics.Counter(w, "pppoed_server_radius_dae_duplicates_total", st.Duplicates)
		for _, d := range dropsOf(st.Dropped) {
			metrics.Counter(w, "pppoed_server_radius_dae_dropped_total{reason=\""+d.reason+"\"}", d.n)
		}
	}
}

type drop struct {
	reason string
	n      uint64
}

func dropsOf(d radius.DropCounts) []drop {
	return []drop{
		{"malformed", d.Malformed}, {"oversized", d.Oversized}, {"bad_authenticator", d.BadAuthenticator},
		{"no_message_authenticator", d.NoMessageAuthenticator}, {"bad_message_authenticator", d.BadMessageAuthenticator},
		{"unexpected", d.Unexpected},
	}
}
