package ppp

import (
	"fmt"
	"time"
)

// LCP limits.
const (
	defaultMRU   = 1500 // RFC 1661 §6.1: assumed when not negotiated
	minMRU       = 128  // the smallest MRU pppd accepts (MINMRU)
	maxLoopbacks = 10   // magic-number clashes before we call it a loop (pppd)
)

// lcpOptions is one side's LCP options.
type lcpOptions struct {
	mru      uint16 // 0: not negotiated
	magic    uint32 // 0: not negotiated
	auth     AuthMethod
	authTry  int // index in Config.Require of the method requested
	negMRU   bool
	negMagic bool
	negAuth  bool
}

// lcpLayer is LCP's part of the automaton (RFC 1661 §6), restricted as
// PPPoE requires (RFC 2516 §7): no ACCM, ACFC or PFC, MRU at most MaxMTU.
type lcpLayer struct {
	s    *Session
	want lcpOptions // what we ask for now
	sent lcpOptions // what the last Configure-Request carried
	got  lcpOptions // what the peer acknowledged
	peer lcpOptions // what we acknowledged of the peer's

	loops int

	echo   *sessionTimer
	echoID uint8
	// lastEchoID and lastEchoAt are our latest Echo-Request, until its
	// reply (EchoRTT).
	lastEchoID  uint8
	lastEchoAt  time.Time
	echoPending int
}

func newLCPLayer(s *Session) *lcpLayer {
	l := &lcpLayer{s: s}
	l.echo = s.newTimer(l.echoTick)
	return l
}

// mru is what the peer may send us; mtu what we may send it.
func (l *lcpLayer) mru() uint16 {
	if l.got.negMRU && l.got.mru != 0 {
		return l.got.mru
	}
	return defaultMRU
}

func (l *lcpLayer) mtu() uint16 {
	m := uint16(defaultMRU)
	if l.peer.mru != 0 {
		m = l.peer.mru
	}
	return min(m, l.s.cfg.MaxMTU)
}

func (l *lcpLayer) gotMagic() uint32 {
	if l.got.negMagic {
		return l.got.magic
	}
	return 0
}

func (l *lcpLayer) newMagic() uint32 {
	for {
		if m := l.s.random32(); m != 0 {
			return m
		}
	}
}

func (l *lcpLayer) resetOptions() {
	cfg := &l.s.cfg
	l.want = lcpOptions{
		mru:      cfg.MRU,
		negMRU:   cfg.MRU != defaultMRU,
		magic:    l.newMagic(),
		negMagic: true,
	}
	if cfg.Role == RoleServer && len(cfg.Require) > 0 {
		l.want.negAuth, l.want.auth = true, cfg.Require[0]
	}
	l.sent, l.got = lcpOptions{}, lcpOptions{}
	l.loops = 0
}

// request: MRU, Auth-Protocol, Magic-Number, in pppd's order.
func (l *lcpLayer) request() []byte {
	var opts []Option
	if l.want.negMRU {
		opts = append(opts, MRU(l.want.mru))
	}
	if l.want.negAuth {
		opts = append(opts, l.want.auth.option())
	}
	if l.want.negMagic {
		opts = append(opts, MagicNumber(l.want.magic))
	}
	b, _ := AppendOptions(nil, opts)
	l.sent = l.want
	return b
}

// acked takes the options the acknowledged request carried, not want:
// want may have changed since the request went out.
func (l *lcpLayer) acked() { l.got = l.sent }

func (l *lcpLayer) nak(data []byte, treatAsReject bool) bool {
	opts, err := ParseOptions(ProtoLCP, data)
	if err != nil {
		return false
	}
	looped := false
	for _, o := range opts {
		switch v := o.(type) {
		case MRU:
			if treatAsReject {
				l.want.negMRU = false
			} else if uint16(v) <= l.s.cfg.MRU && uint16(v) >= minMRU {
				// A smaller MRU than we asked is always acceptable; a
				// larger one, or one below MINMRU, is ignored (pppd).
				l.want.mru, l.want.negMRU = uint16(v), true
			}
		case MagicNumber:
			if treatAsReject {
				l.want.negMagic = false
			} else {
				// The peer saw its own number: we may be looped back.
				l.want.magic = l.newMagic()
				looped = true
			}
		case AuthProtocol:
			if !l.want.negAuth {
				continue // a client is not asked to authenticate the AC
			}
			if treatAsReject {
				l.authRefused("the peer keeps refusing our authentication protocols")
				continue
			}
			l.nextAuth(v)
		}
	}
	if looped {
		l.loops++
		if l.loops >= maxLoopbacks {
			l.s.defer_(func() { l.s.close(ReasonLoopback, "Loopback detected") })
		}
	} else {
		l.loops = 0
	}
	return true
}

// nextAuth follows the peer's suggestion when we allow it, else moves to
// our next preference.
func (l *lcpLayer) nextAuth(suggested AuthProtocol) {
	req := l.s.cfg.Require
	if m, ok := authMethodOf(suggested); ok {
		for i, r := range req {
			if r == m {
				l.want.auth, l.want.authTry = m, i
				return
			}
		}
	}
	if l.want.authTry+1 < len(req) {
		l.want.authTry++
		l.want.auth = req[l.want.authTry]
		return
	}
	l.authRefused(fmt.Sprintf("the peer refuses %v", req))
}

func (l *lcpLayer) authRefused(detail string) {
	l.s.defer_(func() { l.s.close(ReasonPeerAuthFailed, "peer refused to authenticate: "+detail) })
}

func (l *lcpLayer) reject(data []byte) bool {
	opts, err := ParseOptions(ProtoLCP, data)
	if err != nil {
		return false
	}
	// A Reject of an option we never ask for is invalid, and an invalid
	// packet changes nothing: check them all before acting on any.
	for _, o := range opts {
		switch o.(type) {
		case MRU, MagicNumber, AuthProtocol:
		default:
			return false
		}
	}
	for _, o := range opts {
		switch o.(type) {
		case MRU:
			l.want.negMRU = false
		case MagicNumber:
			l.want.negMagic = false
		case AuthProtocol:
			if l.want.negAuth {
				l.authRefused("it rejected the Authentication-Protocol option")
			}
		}
	}
	return true
}

// configure judges the peer's request (RFC 1661 §5.1-5.4): what we refuse
// outright is rejected, values we can't take are Nak'd with ones we can.
func (l *lcpLayer) configure(data []byte, rejectIfDisagree bool) (Code, []byte) {
	opts, _ := ParseOptions(ProtoLCP, data) // fsm checked the format
	cfg := &l.s.cfg
	var nak, nakOrig, rej []Option
	peer := lcpOptions{}
	nakWith := func(orig, suggestion Option) {
		nak, nakOrig = append(nak, suggestion), append(nakOrig, orig)
	}
	for _, o := range opts {
		switch v := o.(type) {
		case MRU:
			if v < minMRU {
				nakWith(o, MRU(minMRU))
				continue
			}
			if uint16(v) > cfg.MaxMTU {
				// RFC 2516 §7: not above 1492 (RFC 4638: the link's MTU).
				nakWith(o, MRU(cfg.MaxMTU))
				continue
			}
			peer.mru, peer.negMRU = uint16(v), true
		case AuthProtocol:
			if cfg.Role == RoleServer {
				rej = append(rej, o) // we do not authenticate ourselves to clients
				continue
			}
			m, ok := authMethodOf(v)
			if ok && l.allowed(m) {
				peer.auth, peer.negAuth = m, true
				continue
			}
			if len(cfg.Allow) == 0 || cfg.User == "" {
				rej = append(rej, o)
				continue
			}
			nakWith(o, cfg.Allow[0].option())
		case MagicNumber:
			if v == 0 {
				// "A Magic-Number of zero is illegal and MUST always be
				// Nak'd" (RFC 1661 §6.4).
				nakWith(o, MagicNumber(l.newMagic()))
				continue
			}
			if l.sent.negMagic && uint32(v) == l.sent.magic {
				// The number we last sent: a loop, or a clash. We Nak
				// with another; ours changes when the peer Naks it in
				// turn, so a real loop keeps clashing (RFC 1661 §6.4;
				// pppd's lcp_reqci/lcp_nakci).
				nakWith(o, MagicNumber(l.newMagic()))
				l.loops++
				if l.loops >= maxLoopbacks {
					l.s.defer_(func() { l.s.close(ReasonLoopback, "Loopback detected") })
				}
				continue
			}
			peer.magic, peer.negMagic = uint32(v), true
		default:
			// ACCM, PFC, ACFC (RFC 2516 §7 forbids them on PPPoE),
			// quality protocols, callback, multilink and anything unknown.
			rej = append(rej, o)
		}
	}
	if code, b, ok := refuse(rej, nak, nakOrig, rejectIfDisagree); ok {
		return code, b
	}
	l.peer = peer
	return CodeConfAck, data
}

func (l *lcpLayer) allowed(m AuthMethod) bool {
	if l.s.cfg.User == "" {
		return false
	}
	for _, a := range l.s.cfg.Allow {
		if a == m {
			return true
		}
	}
	return false
}

func (l *lcpLayer) up()       { l.s.lcpUp() }
func (l *lcpLayer) down()     { l.s.lcpDown() }
func (l *lcpLayer) starting() {}
func (l *lcpLayer) finished() { l.s.lcpFinished() }

// peerTerminated records the peer's Terminate-Request text.
func (l *lcpLayer) peerTerminated(data []byte) {
	l.s.setReason(ReasonPeerTerminated, wireText(data))
	l.s.phase = PhaseTerminate
}

// codeRejected: the peer does not do an extension we used.
func (l *lcpLayer) codeRejected(code Code) {
	if code == CodeEchoReq {
		l.s.plog.Info("ppp: peer rejects LCP echoes; keepalive off")
		l.echo.stop()
		l.s.cfg.EchoInterval, l.s.cfg.EchoTimeout = 0, 0
	}
}

// extension handles LCP's codes 8-13 (RFC 1661 §5.7-5.9, RFC 1570).
func (l *lcpLayer) extension(code Code, id uint8, data []byte) bool {
	opened := l.s.lcp.state == StateOpened
	switch code {
	case CodeEchoReq:
		e, err := ParseEcho(data)
		if err != nil || !opened {
			l.unheard()
			return true // RXR outside Opened: nothing to do
		}
		if l.got.negMagic && e.Magic == l.got.magic {
			l.s.plog.Warn("ppp: received our own echo request: the link may be looped back")
			l.unheard()
		}
		l.s.send(ProtoLCP, CodeEchoRep, id, Echo{Magic: l.gotMagic(), Data: e.Data}.Append(nil))
	case CodeEchoRep:
		e, err := ParseEcho(data)
		if err != nil || !opened {
			l.unheard()
			return true
		}
		if l.got.negMagic && e.Magic == l.got.magic {
			l.s.plog.Warn("ppp: received our own echo reply: the link may be looped back")
			l.unheard()
			return true
		}
		l.echoPending = 0
		// The round trip of our latest request: an older one's reply,
		// late, would overstate it (RFC 1661 §5.8: the Identifier
		// matches the request's).
		if !l.lastEchoAt.IsZero() && id == l.lastEchoID {
			l.s.emit(EchoRTT{RTT: time.Since(l.lastEchoAt)})
			l.lastEchoAt = time.Time{}
		}
	case CodeDiscardReq:
	case CodeProtRej:
		// Handled at once: the rest of this event is only our return,
		// so what the reject sets off (LCP's RXJ-, an NCP finishing, the
		// session closing) cannot be overwritten by it.
		r, err := ParseProtocolReject(data)
		if err == nil && opened {
			l.s.protocolRejected(r.Protocol)
		}
	case CodeIdentif:
		if id, err := ParseIdentification(data); err == nil {
			l.s.plog.Info("ppp: peer identification", "message", wireText(id.Message))
		}
	case CodeTimeRemaining:
		if t, err := ParseTimeRemaining(data); err == nil {
			l.s.plog.Info("ppp: peer announces time remaining", "seconds", t.Seconds, "message", wireText(t.Message))
		}
	default:
		return false
	}
	return true
}

// unheard takes the frame being handled back from what counts as
// hearing the peer: a malformed echo, or our own looped back, is no sign
// of it.
func (l *lcpLayer) unheard() { l.s.lastRecv = l.s.prevRecv }

func (l *lcpLayer) startEcho() {
	l.echoPending = 0
	if l.s.cfg.EchoTimeout > 0 {
		l.keepalive()
		return
	}
	if l.s.cfg.EchoInterval > 0 {
		l.echo.start(l.s.cfg.EchoInterval)
	}
}

// echoTick is the keepalive (pppd's lcp-echo-interval and -failure).
// Its timer runs only while LCP is Opened with keepalives on: lcpDown and
// codeRejected stop it, and a stopped timer never fires.
func (l *lcpLayer) echoTick() {
	cfg := &l.s.cfg
	if cfg.EchoTimeout > 0 {
		l.keepalive()
		return
	}
	if cfg.EchoAdaptive && l.recentlyHeard(cfg.EchoInterval) {
		l.echoPending = 0
		l.echo.start(cfg.EchoInterval)
		return
	}
	if l.echoPending >= cfg.EchoFailures {
		l.s.peerDead(fmt.Sprintf("no response to %d echo-requests", l.echoPending))
		return
	}
	l.echoPending++
	l.sendEcho()
	l.echo.start(cfg.EchoInterval)
}

func (l *lcpLayer) sendEcho() {
	l.s.send(ProtoLCP, CodeEchoReq, l.echoID, Echo{Magic: l.gotMagic()}.Append(nil))
	l.lastEchoID, l.lastEchoAt = l.echoID, time.Now()
	l.echoID++
}

// minKeepaliveTick keeps the ticks of EchoTimeout's keepalive apart: no
// slip in the arithmetic below can make it spin at one instant.
const minKeepaliveTick = time.Millisecond

// keepalive is EchoTimeout's keepalive (see Config.EchoTimeout), run at
// LCP's Up and at each tick: declare the peer dead, or ask it with an
// echo, or wait for the next moment one of them is due. The ticks fall
// where the link will have been quiet for the first echo's wait, for
// each repeat after it, or for EchoTimeout, exactly. A tick that finds
// the peer heard since (quiet below the first wait) waits for the first
// echo again: the schedule starts over from the last frame heard.
func (l *lcpLayer) keepalive() {
	timeout := l.s.cfg.EchoTimeout
	quiet := l.quiet()
	if quiet >= timeout {
		l.s.peerDead(fmt.Sprintf("nothing received for %v", timeout))
		return
	}
	first, repeat := echoSchedule(timeout, l.s.cfg.EchoQuiet, l.s.cfg.EchoRepeat)
	next := first - quiet
	if quiet >= first {
		l.sendEcho()
		next = min(repeat, timeout-quiet)
	}
	l.echo.start(max(next, minKeepaliveTick))
}

// echoSchedule is how long the link stays quiet before EchoTimeout's
// keepalive sends its first echo, and how often it repeats it while the
// link stays quiet: the period P of echoPeriod for both by default;
// EchoQuiet (capped at half the timeout, so that at least one echo goes
// out with time left for its answer) and EchoRepeat (1 s by default with
// EchoQuiet: RouterOS's rate) when set.
func echoSchedule(timeout, quiet, repeat time.Duration) (first, every time.Duration) {
	period := echoPeriod(timeout)
	first, every = period, period
	if quiet > 0 {
		first, every = min(quiet, timeout/2), time.Second
	}
	if repeat > 0 {
		every = repeat
	}
	return first, every
}

// echoPeriod is how long the link stays quiet before EchoTimeout's
// keepalive sends an echo: a quarter of the timeout, so that a quiet
// peer gets three echoes before it is declared dead and two lost echoes
// or replies are survived (pppd's lcp-echo-failure 3), but no more than
// one a second, and at least one however short the timeout.
func echoPeriod(timeout time.Duration) time.Duration {
	return min(max(timeout/4, time.Second), timeout/2)
}

// quiet is how long ago the peer was last heard: the last frame the
// session read, or data the kernel received.
func (l *lcpLayer) quiet() time.Duration {
	q := time.Since(l.s.lastRecv)
	if ri, ok := l.s.link.(ReceiveIdler); ok {
		q = min(q, ri.ReceiveIdle())
	}
	return q
}

// recentlyHeard reports whether anything came from the peer within d.
func (l *lcpLayer) recentlyHeard(d time.Duration) bool { return l.quiet() < d }
