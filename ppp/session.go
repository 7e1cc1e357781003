package ppp

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"strings"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/internal/peerlog"
)

// Link carries a session's control frames: LCP, authentication and NCP
// packets, each tagged with its protocol. Data packets never pass through
// it: with PPPoE they stay in the kernel.
type Link interface {
	// ReadFrame returns the next frame's protocol and its packet (what
	// follows the protocol field). It fails once the link is gone (io.EOF
	// when the peer hung up) or closed.
	ReadFrame() (Protocol, []byte, error)
	// WriteFrame sends one packet of proto.
	WriteFrame(proto Protocol, packet []byte) error
	// Close ends the link and unblocks ReadFrame.
	Close() error
}

// FrameChannel is implemented by a link that hands over its frames on a
// channel: the session then selects on it directly, where for ReadFrame
// it runs a reader goroutine. An access concentrator's thousands of
// sessions save a goroutine (and its stack) each.
type FrameChannel interface {
	// Frames returns the channel the link's frames arrive on, and one
	// closed once the link is down: ReadFrame then says why. A nil
	// frames channel means the link has none: ReadFrame is used.
	Frames() (frames <-chan Frame, down <-chan struct{})
}

// Frame is a control frame of a FrameChannel: its protocol and its packet
// (what follows the protocol field).
type Frame struct {
	Proto Protocol
	Data  []byte
}

// ReceiveIdler is implemented by links that know how long ago anything,
// data included, arrived from the peer (the kernel unit's PPPIOCGIDLE);
// the keepalives count it as hearing the peer (EchoAdaptive, EchoTimeout).
type ReceiveIdler interface {
	ReceiveIdle() time.Duration
}

// Role says which end of the link a session is.
type Role uint8

const (
	// RoleClient is the peer that authenticates and is given an address.
	RoleClient Role = iota
	// RoleServer is the authenticator that hands out addresses (the AC).
	RoleServer
)

func (r Role) String() string {
	if r == RoleServer {
		return "server"
	}
	return "client"
}

// Phase is a link phase (RFC 1661 §3.2).
type Phase uint8

const (
	PhaseDead Phase = iota
	PhaseEstablish
	PhaseAuthenticate
	PhaseNetwork
	PhaseTerminate
)

var phaseNames = [...]string{"dead", "establish", "authenticate", "network", "terminate"}

func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("Phase(%d)", uint8(p))
}

// Config configures a session. The zero value of each field means pppd's
// default.
type Config struct {
	Role   Role
	Timers Timers
	Logger *slog.Logger // debug level: every packet, as pppd's debug log
	Rand   io.Reader    // default crypto/rand

	// MRU is what we ask the peer to send us at most (default 1492, the
	// most PPPoE carries without RFC 4638). Leaving 1500 unrequested is
	// the same as asking for it.
	MRU uint16
	// MaxMTU is the most the link carries towards the peer: a peer asking
	// for a larger MRU is Nak'd down to it (RFC 2516 §7, RFC 4638).
	// Default 1492.
	MaxMTU uint16

	// RTT is a round trip to the peer measured before the session
	// starts: PPPoE discovery's PADR->PADS time. Zero: unknown. Until the
	// session measures its own (a Configure-Request and its answer, an
	// Echo-Request and its reply), it sizes the guards of the fast
	// retransmit, which resends an unanswered Configure-Request once the
	// peer's first one shows it listens (see fastMargin in fsm.go).
	RTT time.Duration

	// Silent makes LCP wait for the peer's first packet before sending
	// its own Configure-Request (pppd's silent option). An access
	// concentrator uses it: its request sent right after the PADS may
	// reach a client whose kernel is not yet listening, and only the
	// Restart timer would recover (3 s); the client's request proves it
	// listens. Nothing bounds the wait: the caller must.
	Silent bool

	// EchoInterval sends an LCP Echo-Request this often once the link is
	// up; after EchoFailures unanswered ones the peer is declared dead.
	// Zero disables keepalives (unless EchoTimeout is set).
	EchoInterval time.Duration
	EchoFailures int // default 3 when EchoInterval is set
	// EchoAdaptive skips an echo when anything arrived from the peer
	// within the interval (what EchoTimeout counts as heard).
	EchoAdaptive bool
	// EchoTimeout, when positive, is the keepalive as one duration
	// (RouterOS's keepalive-timeout); EchoInterval, EchoFailures and
	// EchoAdaptive are then ignored. The peer is declared dead once
	// nothing has been heard from it for EchoTimeout. Heard is every
	// frame the session reads (LCP, authentication, NCPs), an
	// Echo-Reply included, except a malformed Echo-Request or -Reply
	// and one carrying our own magic number (our echo looped back, no
	// sign of the peer); on a link that is a ReceiveIdler, it is data
	// too, which the kernel carries (PPPIOCGIDLE counts whole seconds,
	// so data may extend the wait by up to a second). Each time the link
	// has been quiet for a period P, an Echo-Request goes out, so that a
	// live peer on a quiet link is heard: P is EchoTimeout/4, at least
	// 1 s (RouterOS's rate, which bounds the echoes of a short timeout),
	// at most EchoTimeout/2 (one echo at least). A silent peer thus gets
	// echoes at P, 2P, 3P after the last frame heard and is declared
	// dead at exactly EchoTimeout after it: for EchoTimeout 4I that is
	// pppd's lcp-echo-interval I with lcp-echo-failure 3 (three
	// unanswered echoes, dead one interval later), timed from the last
	// frame heard rather than from the link's start. A Code-Reject of
	// our Echo-Request turns the keepalive off.
	//
	// A peer declared dead, by either keepalive, gets one
	// Terminate-Request and the session ends at once with
	// ReasonPeerDead.
	EchoTimeout time.Duration
	// EchoQuiet and EchoRepeat reshape EchoTimeout's echoes (ignored
	// without it); zero keeps the schedule above. With EchoQuiet
	// positive, the first Echo-Request goes out once the link has been
	// quiet for EchoQuiet (at most EchoTimeout/2, so that a peer is
	// always asked, with time to answer, before it is declared dead);
	// with EchoRepeat positive, the next ones follow every EchoRepeat
	// while the link stays quiet. EchoRepeat defaults to 1 s when
	// EchoQuiet is set, to P otherwise. A silent peer, quiet since
	// instant 0, thus gets echoes at Q, Q+R, Q+2R... for each of them
	// before EchoTimeout, and is declared dead at EchoTimeout; anything
	// heard starts the count again from 0. RouterOS's keepalive-timeout
	// K ("after this long without traffic, an echo every second; dead
	// after twice that") is EchoTimeout 2K, EchoQuiet K: echoes at K,
	// K+1 s ... 2K-1 s, dead at 2K.
	EchoQuiet, EchoRepeat time.Duration

	// Client authentication: our name and password, and the methods we
	// accept, most preferred first (default MS-CHAPv2, MS-CHAPv1,
	// CHAP-MD5, PAP, as pppd).
	User     string
	Password string
	Allow    []AuthMethod
	// CHAPPassword, when set, is the password for answering a CHAP (or
	// MS-CHAP) Challenge, picked by the name in it, as pppd's
	// chap_respond looks up chap-secrets with the challenger's name;
	// Password then only serves PAP. An error fails the authentication
	// locally (never sent); its text must not hold the secret.
	CHAPPassword func(challengerName []byte) (string, error)

	// Server authentication: the methods to require, most preferred
	// first (empty: none), the users' secrets and our name in challenges.
	Require []AuthMethod
	Secrets SecretStore
	Name    string
	// AuthTimeout bounds the authentication phase (default 30 s). A
	// peer we authenticate has it once in all until it first passes: an
	// LCP renegotiation does not start it again.
	AuthTimeout time.Duration
	// Authorize, when set, is asked on the session's goroutine whether
	// a peer whose credentials are good may have the session, and with
	// what (server): after the password or CHAP response was verified,
	// before the Success or Ack goes out. An error fails the
	// authentication as a wrong password does, with the same message on
	// the wire (never the error's text, which goes to the log and the
	// Down detail only), so that the AC can refuse a second session of
	// a user, or a user it cannot serve, without telling the peer why;
	// unknown users and wrong passwords never reach it. It is called
	// once per session: should LCP be renegotiated, the peer must
	// authenticate again under the same name (any other fails), and the
	// first authorization stands. It must not block for long.
	Authorize func(peer string) (*Authorization, error)
	// Verify, when set, is asked about a peer whose name Secrets does not
	// hold (server). It runs on a goroutine of its own, so it may take
	// seconds (a RADIUS round trip); ctx is cancelled when the
	// authentication is abandoned (the session ends, LCP goes down and
	// authentication starts over, the deadline passes). Meanwhile the
	// peer's repeats are not answered and no Challenge is resent; the
	// answer is sent to the latest of them (PAP: its Identifier). An
	// accepted peer then passes Authorize as a locally checked one does.
	// An MS-CHAP Response that cannot be right (not of MS-CHAP's size
	// and form) is refused without asking it. A verdict that comes
	// after the authentication was abandoned is dropped.
	Verify func(ctx context.Context, c Credentials) Verdict

	IPv4 *IPv4Config // nil: IPCP is not run
	IPv6 *IPv6Config // nil: IPv6CP is not run

	// OnEvent receives the session's events, on the session's goroutine,
	// in order. It must not block for long.
	OnEvent func(Event)
}

// IPv4Config configures IPCP.
type IPv4Config struct {
	// Local is our address: a client's request (zero: let the server
	// assign one), the server's own address (required).
	Local netip.Addr
	// RequestDNS makes a client ask for name servers (RFC 1877).
	RequestDNS bool
	// Pool assigns the client's address (server).
	Pool AddressPool
	// DNS are the name servers a server hands out, primary first.
	DNS []netip.Addr
	// Remote, when valid, is the peer's address (server), handed out
	// instead of one from Pool: a user's static address, pppd's
	// local:remote option. No pool is asked for it or given it back.
	Remote netip.Addr
}

// IPv6Config configures IPv6CP.
type IPv6Config struct {
	// InterfaceID is ours; zero picks a random one (RFC 5072 §4.1).
	InterfaceID InterfaceID
}

// AddressPool hands out client addresses.
type AddressPool interface {
	// Allocate returns an address for the peer (named by its
	// authentication, or ""), or an error when none is free.
	Allocate(peer string) (netip.Addr, error)
	// Release returns an address to the pool.
	Release(netip.Addr)
}

// Stats counts what a session did.
type Stats struct {
	TimerExpiries int // restart, authentication and keepalive timers that fired
	FramesIn      int
	FramesOut     int
}

// Session is one PPP link's control plane: LCP, authentication and the
// NCPs. Its methods other than Run may be called from any goroutine.
type Session struct {
	cfg  Config
	link Link
	log  *slog.Logger
	// plog carries every line a packet from the peer can cause, so that
	// a peer sending junk at wire speed cannot flood the log. The "sent"
	// and "rcvd" packet dumps are not bounded: they are what --debug
	// asks for, one per packet.
	plog *peerlog.Limiter
	rand io.Reader

	lcp, ipcp, ipv6cp *fsm
	rtt               rttEstimate // shared by the automata
	lcpL              *lcpLayer
	ipcpL             *ipcpLayer
	ipv6cpL           *ipv6cpLayer
	authClient        *authPeer   // we authenticate to the peer
	authServer        *authServer // we authenticate the peer

	phase      Phase
	frames     chan inFrame
	calls      chan func()
	closeReq   chan string
	done       chan struct{}
	readerDone chan struct{} // closed when reader has returned
	later      []func()
	deferred   []inFrame
	lastRecv   time.Time // when the peer was last heard (see EchoTimeout)
	prevRecv   time.Time // lastRecv before the frame being handled
	dead       bool
	reason     *DownError
	stats      Stats
	peerName   string
	clientOK   bool // we passed the peer's authentication (or none was asked)
	serverOK   bool // the peer passed ours (or none was required)
	// authorized: Config.Authorize accepted authorizedPeer (or there is
	// no Authorize and the peer authenticated as it): the session's
	// identity, which a renegotiation cannot change.
	authorized     bool
	authorizedPeer string
	// peerAuthBy is when the peer must have authenticated by, until it
	// first has (see peerAuthDeadline).
	peerAuthBy  time.Time
	ncpFailures []string

	// Start's: the events, what to call at the end, ctx's watch.
	mb      *mailbox
	doneFn  func(error)
	stopCtx func() bool
}

type inFrame struct {
	proto Protocol
	data  []byte
	err   error
}

// NewSession prepares a session over link; Run starts it.
func NewSession(link Link, cfg Config) *Session {
	cfg.Timers = cfg.Timers.withDefaults()
	if cfg.MRU == 0 {
		cfg.MRU = discovery.DefaultMTU
	}
	if cfg.MaxMTU == 0 {
		cfg.MaxMTU = discovery.DefaultMTU
	}
	if cfg.EchoFailures <= 0 {
		cfg.EchoFailures = 3 // used only with an EchoInterval
	}
	if cfg.Allow == nil {
		cfg.Allow = DefaultAuth()
	}
	if cfg.Name == "" {
		cfg.Name = "pppoed"
	}
	if cfg.AuthTimeout <= 0 {
		cfg.AuthTimeout = 30 * time.Second
	}
	s := &Session{
		cfg:        cfg,
		link:       link,
		log:        cfg.Logger,
		rand:       cfg.Rand,
		closeReq:   make(chan string, 1),
		done:       make(chan struct{}),
		readerDone: make(chan struct{}),
		mb:         &mailbox{},
	}
	if cfg.RTT > 0 {
		s.rtt.sample(cfg.RTT)
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.plog = peerlog.New(s.log, peerlog.DefaultBurst, peerlog.DefaultEvery)
	if s.rand == nil {
		s.rand = rand.Reader
	}
	s.lcpL = newLCPLayer(s)
	s.lcp = s.newFSM(ProtoLCP, s.lcpL)
	if cfg.IPv4 != nil {
		s.ipcpL = &ipcpLayer{s: s, cfg: *cfg.IPv4}
		s.ipcp = s.newFSM(ProtoIPCP, s.ipcpL)
	}
	if cfg.IPv6 != nil {
		s.ipv6cpL = &ipv6cpLayer{s: s, cfg: *cfg.IPv6}
		s.ipv6cp = s.newFSM(ProtoIPv6CP, s.ipv6cpL)
	}
	return s
}

func (s *Session) newFSM(proto Protocol, l layer) *fsm {
	f := &fsm{proto: proto, layer: l, timers: s.cfg.Timers, log: s.log, plog: s.plog, rtt: &s.rtt,
		silent: proto == ProtoLCP && s.cfg.Silent}
	f.timer = s.newTimer(f.timeout)
	f.send = func(code Code, id uint8, data []byte) { s.send(proto, code, id, data) }
	return f
}

// Run runs the session until the link is down and returns why, as a
// *DownError. ctx's end closes the link as an administrative Close would.
// Run closes the link and returns only once its reader is out of
// ReadFrame: no goroutine of the session outlives it.
func (s *Session) Run(ctx context.Context) error {
	var linkFrames <-chan Frame
	var linkDown <-chan struct{}
	if fc, ok := s.link.(FrameChannel); ok {
		linkFrames, linkDown = fc.Frames()
	}
	// Run's own: a session run by Start has none of these (it is what
	// an AC's thousands of sessions save).
	s.calls = make(chan func(), 16)
	if linkFrames == nil {
		s.frames = make(chan inFrame, 16)
		go s.reader()
	} else {
		close(s.readerDone)
	}
	s.phase = PhaseEstablish
	s.lcp.Up()
	s.lcp.Open()
	s.runLater()
	stop := ctx.Done()
	for !s.dead {
		select {
		case fr := <-s.frames:
			if fr.err != nil {
				s.lowerDown(fr.err)
			} else {
				s.input(fr.proto, fr.data)
			}
		case fr := <-linkFrames:
			s.input(fr.Proto, fr.Data)
		case <-linkDown:
			_, _, err := s.link.ReadFrame() // says why, at once
			if err == nil {
				err = io.EOF
			}
			s.lowerDown(err)
		case fn := <-s.calls:
			fn()
		case reason := <-s.closeReq:
			s.close(ReasonLocalClose, reason)
		case <-stop:
			stop = nil
			s.log.Info("ppp: stopping", "cause", context.Cause(ctx).Error())
			s.close(ReasonLocalClose, "User request")
		}
		s.runLater()
	}
	s.shutdown()
	return s.reason
}

// Close ends the session from any goroutine, OnEvent included (it never
// blocks): LCP terminates the link (a Terminate-Request, at most
// Max-Terminate times) and Run returns. reason goes to the log.
func (s *Session) Close(reason string) {
	if s.mb.eventDriven() {
		s.deliver(func() { s.close(ReasonLocalClose, reason) })
		return
	}
	select {
	case s.closeReq <- reason:
	default: // a close is already pending
	}
}

// post runs fn on the session's goroutine, unless Run has returned.
func (s *Session) post(fn func()) {
	if s.mb.eventDriven() {
		s.deliver(fn)
		return
	}
	select {
	case s.calls <- fn:
	case <-s.done:
	}
}

// reader feeds received frames to Run; Run waits for it to return.
func (s *Session) reader() {
	defer close(s.readerDone)
	for {
		proto, b, err := s.link.ReadFrame()
		select {
		case s.frames <- inFrame{proto, b, err}:
		case <-s.done:
			return
		}
		if err != nil {
			return
		}
	}
}

// runLater runs the actions deferred while an automaton was mid-event, so
// that none of them re-enters an automaton. Only a layer's nak, reject
// and configure need it (the automaton's transition follows their
// verdict, and a Close inside would be overwritten by it), and a failed
// authentication (lcpUp may go on to start the other direction's after
// one failed at once). The this-layer actions run in the new state, so
// they act at once.
func (s *Session) runLater() {
	for len(s.later) > 0 {
		fn := s.later[0]
		s.later = s.later[1:]
		fn()
	}
}

func (s *Session) defer_(fn func()) { s.later = append(s.later, fn) }

func (s *Session) emit(ev Event) {
	if e, ok := ev.(EchoRTT); ok {
		// A keepalive's round trip, of our latest request only: the
		// fast retransmit's guards follow it.
		s.rtt.sample(e.RTT)
	}
	if s.cfg.OnEvent != nil {
		s.cfg.OnEvent(ev)
	}
}

// maxDetail bounds a Down detail: it may quote the peer.
const maxDetail = 256

// setReason records why the session ends; the first reason stands.
func (s *Session) setReason(r Reason, detail string) {
	if s.reason == nil {
		if len(detail) > maxDetail {
			detail = strings.ToValidUTF8(detail[:maxDetail], "") + "..."
		}
		s.reason = &DownError{Reason: r, Detail: detail}
		s.log.Info("ppp: closing", "reason", r.String(), "detail", detail)
	}
}

// termText is what our Terminate-Request says: pppd's short phrases,
// never the peer's own words back (they could exceed its MRU).
var termText = map[Reason]string{
	ReasonLocalClose:         "User request",
	ReasonNegotiationFailed:  "Negotiation failed",
	ReasonPeerAuthFailed:     "Authentication failed",
	ReasonAuthFailed:         "Failed to authenticate ourselves to peer",
	ReasonPeerDead:           "Peer not responding",
	ReasonLoopback:           "Loopback detected",
	ReasonNoNetworkProtocols: "No network protocols running",
}

// close records why and has LCP terminate the link.
func (s *Session) close(r Reason, detail string) {
	if s.dead {
		return
	}
	s.setReason(r, detail)
	s.phase = PhaseTerminate
	text, ok := termText[r]
	if !ok || r == ReasonLocalClose && detail != "" && len(detail) <= 64 {
		text = detail // an administrative reason, short, from our side
	}
	s.lcp.Close(text)
}

// peerDead ends the session on a peer the keepalive gave up on. It is
// sent one Terminate-Request, in case only its answers were lost, and
// the session ends at once, as if the lower layer had gone down: no
// Restart-timer wait for a Terminate-Ack that a dead peer cannot send.
// RFC 1661 §5.5 stops Terminate-Requests once "a sufficiently large
// number have been transmitted such that the peer is down with
// reasonable certainty": the unanswered keepalive gave us that
// certainty already.
func (s *Session) peerDead(detail string) {
	s.close(ReasonPeerDead, detail) // tld (the NCPs go down), str
	s.lowerDown(nil)                // Closing -> Initial; ReasonPeerDead stands
}

// lowerDown is the link going away under us (EOF, PADT, error).
func (s *Session) lowerDown(err error) {
	detail := "link closed"
	if err != nil && !errors.Is(err, io.EOF) {
		detail = err.Error()
	}
	s.setReason(ReasonLinkLost, detail)
	s.lcp.Down()
	s.dead = true
}

func (s *Session) shutdown() {
	s.phase = PhaseDead
	close(s.done)
	s.lcpL.echo.stop()
	s.stopAuth()
	for _, f := range []*fsm{s.lcp, s.ipcp, s.ipv6cp} {
		if f != nil {
			f.timer.stop()
		}
	}
	if s.ipcpL != nil {
		s.ipcpL.release()
	}
	// Link.Close unblocks ReadFrame: once reader has returned, nothing
	// of the session touches the link, and no goroutine outlives Run.
	_ = s.link.Close()
	<-s.readerDone
	if s.reason == nil {
		s.reason = &DownError{Reason: ReasonUnknown}
	}
	s.emit(Down{Reason: s.reason.Reason, Detail: s.reason.Detail})
}

// Stats returns the session's counters; call it after Run returns (or on
// the session's goroutine, from OnEvent).
func (s *Session) Stats() Stats { return s.stats }

// Phase is the session's phase; the same rules as Stats apply.
func (s *Session) Phase() Phase { return s.phase }

// sessionTimer is a timer whose expiry runs on the session's goroutine; a
// stale expiry (stopped or restarted since) is ignored.
type sessionTimer struct {
	s  *Session
	fn func()
	tm *time.Timer // the running timer, nil when stopped
}

func (s *Session) newTimer(fn func()) *sessionTimer { return &sessionTimer{s: s, fn: fn} }

func (t *sessionTimer) start(d time.Duration) {
	t.stop()
	var tm *time.Timer
	tm = time.AfterFunc(d, func() {
		t.s.post(func() {
			// tm is read on the session's goroutine, which set it
			// before this can run there.
			if t.tm != tm {
				return // stopped or restarted since it fired
			}
			t.tm = nil
			t.s.stats.TimerExpiries++
			t.fn()
		})
	})
	t.tm = tm
}

func (t *sessionTimer) stop() {
	if t.tm != nil {
		t.tm.Stop()
		t.tm = nil
	}
}

// send encodes and writes one control packet.
func (s *Session) send(proto Protocol, code Code, id uint8, data []byte) {
	p := Packet{Protocol: proto, Code: code, ID: id, Data: data}
	b, err := p.Append(nil)
	if err != nil {
		s.plog.Warn("ppp: not sent", "err", err)
		return
	}
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("sent " + p.String())
	}
	s.stats.FramesOut++
	if err := s.link.WriteFrame(proto, b); err != nil {
		s.plog.Warn("ppp: write failed", "protocol", proto.String(), "err", err)
	}
}

// peerMRU is the most the peer accepts in one packet.
func (s *Session) peerMRU() int { return int(s.lcpL.mtu()) }

// input dispatches a received frame by protocol and phase (RFC 1661 §3).
func (s *Session) input(proto Protocol, b []byte) {
	s.stats.FramesIn++
	s.prevRecv, s.lastRecv = s.lastRecv, time.Now()
	if s.log.Enabled(context.Background(), slog.LevelDebug) {
		s.log.Debug("rcvd " + FormatFrame(append(binary.BigEndian.AppendUint16(nil, uint16(proto)), b...)))
	}
	if proto == ProtoLCP {
		s.lcp.input(b, s.peerMRU()-HeaderLen)
		return
	}
	// Everything else waits for LCP to be Opened (RFC 1661 §3.4).
	if s.lcp.state != StateOpened {
		s.plog.Debug("ppp: discarded before LCP is open", "protocol", proto.String())
		return
	}
	switch proto {
	case ProtoPAP, ProtoCHAP:
		s.authInput(proto, b)
	case ProtoIPCP, ProtoIPv6CP:
		f := s.ipcp
		if proto == ProtoIPv6CP {
			f = s.ipv6cp
		}
		if f == nil {
			s.protocolReject(proto, b)
			return
		}
		switch s.phase {
		case PhaseNetwork:
			f.input(b, s.peerMRU()-HeaderLen)
		case PhaseAuthenticate:
			// RFC 1661 §3.5 forbids acting on these before
			// authentication ends. With PPPoE an NCP packet the peer
			// sent after its Success can overtake that Success (it
			// comes on the unit's descriptor, the Success on the
			// channel's), so it is held, not dropped: dropping costs a
			// restart time.
			if len(s.deferred) < 8 {
				s.deferred = append(s.deferred, inFrame{proto: proto, data: b})
			}
			if s.authClient != nil {
				s.authClient.nudge()
			}
		}
	default:
		s.protocolReject(proto, b)
	}
}

// protocolReject answers a packet of a protocol we do not run, when LCP is
// Opened (RFC 1661 §5.7).
func (s *Session) protocolReject(proto Protocol, b []byte) {
	if s.lcp.state != StateOpened {
		return
	}
	info := b[:min(len(b), s.peerMRU()-HeaderLen-2)]
	s.lcp.id++
	s.send(ProtoLCP, CodeProtRej, s.lcp.id, ProtocolReject{Protocol: proto, Info: info}.Append(nil))
}

// protocolRejected handles the peer's Protocol-Reject of one of ours: an
// NCP stops (RXJ-), the others carry on.
func (s *Session) protocolRejected(proto Protocol) {
	s.plog.Info("ppp: peer rejected protocol", "protocol", proto.String())
	switch proto {
	case ProtoLCP:
		s.lcp.failure = "the peer sent a Protocol-Reject of LCP"
		s.lcp.rxjMinus()
	case ProtoIPCP, ProtoIPv6CP:
		f := s.ipcp
		if proto == ProtoIPv6CP {
			f = s.ipv6cp
		}
		if f != nil {
			f.failure = "the peer sent a Protocol-Reject of " + proto.String()
			f.rxjMinus()
		}
	case ProtoPAP, ProtoCHAP:
		// The peer will not do the authentication we agreed on.
		r := ReasonAuthFailed
		if s.authServer != nil {
			r = ReasonPeerAuthFailed
		}
		s.close(r, "the peer rejected "+proto.String())
	}
}

// lcpUp: the link is established. Authenticate, then run the NCPs.
func (s *Session) lcpUp() {
	l := s.lcpL
	s.emit(LinkUp{MRU: l.mru(), MTU: l.mtu(), Magic: l.gotMagic(), PeerMagic: l.peer.magic})
	l.startEcho()
	s.clientOK = l.peer.auth == AuthNone
	s.serverOK = l.got.auth == AuthNone
	if s.clientOK && s.serverOK {
		s.enterNetwork()
		return
	}
	s.phase = PhaseAuthenticate
	if !s.clientOK {
		s.authClient = newAuthPeer(s, l.peer.auth)
		s.authClient.start()
	}
	if !s.serverOK {
		s.authServer = newAuthServer(s, l.got.auth)
		s.authServer.start()
	}
}

// lcpDown: LCP left Opened. Everything above it goes down.
func (s *Session) lcpDown() {
	// The phase first: the NCPs' down events already belong to it.
	if s.phase != PhaseTerminate {
		s.phase = PhaseEstablish
	}
	s.lcpL.echo.stop()
	s.stopAuth()
	s.deferred = nil
	for _, f := range []*fsm{s.ipcp, s.ipv6cp} {
		if f != nil {
			f.Down()
		}
	}
}

// lcpFinished: LCP is done with the link; so is the session.
func (s *Session) lcpFinished() {
	detail := s.lcp.failure
	if detail == "" {
		detail = "LCP negotiation failed"
	}
	s.setReason(ReasonNegotiationFailed, detail)
	s.dead = true
}

func (s *Session) stopAuth() {
	if s.authClient != nil {
		s.authClient.stop()
		s.authClient = nil
	}
	if s.authServer != nil {
		s.authServer.stop()
		s.authServer = nil
	}
}

// authDone is called when one direction of authentication succeeded.
func (s *Session) authDone() {
	if s.phase != PhaseAuthenticate || !s.clientOK || !s.serverOK {
		return
	}
	s.emit(Authenticated{Peer: s.peerName})
	s.enterNetwork()
}

// authFailed ends the session after a failed authentication: once the
// current event is over, since a client's PAP request can fail as lcpUp
// starts it, and lcpUp would then start the other direction on a link
// being closed.
func (s *Session) authFailed(r Reason, detail string) {
	s.defer_(func() { s.close(r, detail) })
}

func (s *Session) enterNetwork() {
	s.phase = PhaseNetwork
	if s.ipcp == nil && s.ipv6cp == nil {
		s.close(ReasonNoNetworkProtocols, "no network protocols configured")
		return
	}
	for _, f := range []*fsm{s.ipcp, s.ipv6cp} {
		if f != nil {
			f.Up()
			f.Open()
		}
	}
	held := s.deferred
	s.deferred = nil
	for _, fr := range held {
		s.input(fr.proto, fr.data)
	}
}

// ncpFinished: an NCP gave up (its automaton is Closed or Stopped
// already). Without any NCP left, the link is useless (pppd: "No network
// protocols running").
func (s *Session) ncpFinished(f *fsm) {
	if f.failure != "" {
		s.ncpFailures = append(s.ncpFailures, f.proto.String()+": "+f.failure)
	}
	for _, f := range []*fsm{s.ipcp, s.ipv6cp} {
		if f != nil && f.state >= StateReqSent {
			return
		}
	}
	if s.phase == PhaseNetwork {
		detail := "No network protocols running"
		if len(s.ncpFailures) > 0 {
			detail += " (" + strings.Join(s.ncpFailures, "; ") + ")"
		}
		s.close(ReasonNoNetworkProtocols, detail)
	}
}

// random fills b from the session's random source, falling back to
// crypto/rand (which cannot fail) if an injected one does.
func (s *Session) random(b []byte) {
	if _, err := io.ReadFull(s.rand, b); err != nil {
		s.log.Warn("ppp: random source failed; using crypto/rand", "err", err)
		s.rand = rand.Reader
		_, _ = rand.Read(b)
	}
}

func (s *Session) random32() uint32 {
	var b [4]byte
	s.random(b[:])
	return binary.BigEndian.Uint32(b[:])
}
