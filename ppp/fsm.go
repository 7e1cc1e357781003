package ppp

import (
	"bytes"
	"fmt"
	"log/slog"
	"time"

	"github.com/pppoed/pppoed/internal/peerlog"
)

// State is a state of the option negotiation automaton (RFC 1661 §4.2).
//
//	           Up          Open / irc,scr          RCR+ / sca
//	Initial ──────▶ Closed ──────────────▶ Req-Sent ─────────▶ Ack-Sent
//	                  ▲                     │   ▲                  │
//	                  │ RTA / tlf      RCA  │   │ TO+ / scr        │ RCA / tlu
//	                  │                     ▼   │                  ▼
//	               Closing ◀── Close ──── Ack-Rcvd ── RCR+ / sca,tlu ──▶ Opened
//	                                                                  │ RTR / tld,zrc,sta
//	                                                                  ▼
//	                                                              Stopping ── TO- / tlf ──▶ Stopped
//
// The full table, with every event in every state, is RFC 1661 §4.1; fsm
// implements it row by row (see fsm_test.go).
type State uint8

const (
	StateInitial State = iota
	StateStarting
	StateClosed
	StateStopped
	StateClosing
	StateStopping
	StateReqSent
	StateAckRcvd
	StateAckSent
	StateOpened
)

var stateNames = []string{"Initial", "Starting", "Closed", "Stopped", "Closing", "Stopping", "Req-Sent", "Ack-Rcvd", "Ack-Sent", "Opened"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Timers are the negotiation's restart timer and counters (RFC 1661 §4.6),
// with pppd's defaults.
type Timers struct {
	Restart      time.Duration // between retransmissions (default 3 s)
	MaxConfigure int           // Configure-Requests without an answer (default 10)
	MaxTerminate int           // Terminate-Requests without an answer (default 2)
	MaxFailure   int           // Configure-Naks before they become Rejects (default 5)
}

// Defaults of RFC 1661 §4.6 and pppd.
const (
	DefaultRestart      = 3 * time.Second
	DefaultMaxConfigure = 10
	DefaultMaxTerminate = 2
	DefaultMaxFailure   = 5
)

func (t Timers) withDefaults() Timers {
	if t.Restart <= 0 {
		t.Restart = DefaultRestart
	}
	if t.MaxConfigure <= 0 {
		t.MaxConfigure = DefaultMaxConfigure
	}
	if t.MaxTerminate <= 0 {
		t.MaxTerminate = DefaultMaxTerminate
	}
	if t.MaxFailure <= 0 {
		t.MaxFailure = DefaultMaxFailure
	}
	return t
}

// The fast retransmit. Once the peer's first Configure-Request of a
// negotiation shows that it listens, our own request, if still unanswered,
// goes again (same Identifier: RFC 1661 §5.1 allows a retransmission at any
// time) as soon as an answer to it would have arrived, instead of after the
// restart time (3 s). It was lost before the peer started: an AC that forks
// its pppd per session misses the LCP request we send right after the PADS,
// and a fast AC drops the NCP request we send as authentication succeeds
// when its own NCP starts a few milliseconds later (pppd tosses NCP packets
// before its network phase).
//
// The hazard is a duplicate reaching a peer already Opened: pppd then
// renegotiates (RFC 1661 §4.1, RCR in Opened), taking the protocol down and
// up again. The peer is Opened only once it has acknowledged our request, so
// the duplicate may go only once that Ack would have arrived. With R the
// round trip (rttEstimate), it could still be coming in two ways:
//
//   - the peer got our request and answered it as it came: the Ack arrives
//     R after our latest transmission, R including the peer's turnaround.
//     Hence the age guard: our request must be 2R + fastMargin old.
//   - the peer held our request until it started its own negotiation (a
//     frame queued while its pppd starts, or an NCP packet deferred during
//     authentication as our server does): it answers right after sending
//     its own request, so that its Ack follows the request by its turnaround.
//     Hence the delay guard: R + fastMargin after the peer's request.
//
// The retransmission goes at whichever guard ends later, and only if that
// is before the restart timer's own expiry: the restart timer is the
// ceiling, so a round trip long enough for the guards to reach it leaves
// the retransmission to the restart timer, as without a fast retransmit.
// Without any round trip measured, the guards are the fixed ones LCP had
// before they were derived: fastDefaultAge and fastDefaultDelay.
const (
	// fastMargin is the floor of both guards, beyond twice (age) or once
	// (delay) the round trip: the scheduling of the peer and of ourselves
	// (a busy AC, an emulated VM), and the jitter of one measurement.
	fastMargin = 100 * time.Millisecond
	// fastDefaultAge and fastDefaultDelay are the guards with no round
	// trip measured: our request older than any plausible round trip, and
	// room for the Ack of a request the peer held.
	fastDefaultAge   = time.Second
	fastDefaultDelay = 200 * time.Millisecond
)

// fastGuards returns the fast retransmit's age and delay guards for a
// round trip rtt (known false: none measured).
func fastGuards(rtt time.Duration, known bool) (age, delay time.Duration) {
	if !known {
		return fastDefaultAge, fastDefaultDelay
	}
	return 2*rtt + fastMargin, rtt + fastMargin
}

// rttEstimate is a session's round trip to its peer, shared by its automata:
// the latest one measured, by a Configure-Request sent once and its
// answer or by an Echo-Request and its reply; before any, Config.RTT.
type rttEstimate struct {
	d     time.Duration
	known bool
}

// get returns the round trip; known is false when none was measured (rt
// nil included).
func (rt *rttEstimate) get() (d time.Duration, known bool) {
	if rt == nil {
		return 0, false
	}
	return rt.d, rt.known
}

// sample records a measurement.
func (rt *rttEstimate) sample(d time.Duration) {
	if rt != nil && d >= 0 {
		rt.d, rt.known = d, true
	}
}

// layer is what a protocol adds to the automaton: its options and the
// this-layer actions (RFC 1661 §4.4), like pppd's fsm_callbacks. The
// automaton owns the outstanding Configure-Request (its Identifier and
// data) and matches every reply against it; a layer only builds
// requests, follows the peer's Naks and Rejects, and judges the peer's
// requests.
type layer interface {
	// resetOptions sets the options to request back to the configured ones.
	resetOptions()
	// request is the option data of our next Configure-Request.
	request() []byte
	// acked: the peer acknowledged, exactly, the data request last
	// returned. The layer commits those options as agreed.
	acked()
	// nak and reject adjust our request to a Configure-Nak or -Reject of
	// the outstanding one; false means the packet is invalid and is
	// dropped.
	nak(data []byte, treatAsReject bool) bool
	reject(data []byte) bool
	// configure judges the peer's Configure-Request: CodeConfAck,
	// CodeConfNak or CodeConfRej, and the data to send back.
	configure(data []byte, rejectIfDisagree bool) (Code, []byte)
	// up, down, starting and finished are this-layer-up, -down, -started
	// and -finished; they run in the state the event led to (down in
	// Opened, which it is leaving).
	up()
	down()
	starting()
	finished()
	// extension handles codes beyond 1-7 (LCP's Echo and the like); false
	// makes it an unknown code, answered with a Code-Reject.
	extension(code Code, id uint8, data []byte) bool
}

// timer is one restart timer, run by the session's goroutine.
type timer interface {
	start(d time.Duration)
	stop()
}

// fsm is the option negotiation automaton of RFC 1661 §4 for one protocol.
// It is not safe for concurrent use: the session's goroutine owns it.
type fsm struct {
	proto  Protocol
	layer  layer
	state  State
	timers Timers
	timer  timer
	send   func(code Code, id uint8, data []byte)
	log    *slog.Logger
	// plog bounds the lines the peer's packets cause (the session's).
	plog *peerlog.Limiter
	// trace, when set, receives each action's RFC name (tests).
	trace func(action string)

	restart   int   // the Restart counter (RFC 1661 §4.6)
	id        uint8 // the last Identifier we used
	reqID     uint8 // the Identifier of our outstanding Configure-Request
	reqData   []byte
	seenReply bool // an Ack, Nak or Reject for reqID was processed
	nakLoops  int  // Configure-Naks we sent since the last Ack we sent
	rnakLoops int  // Configure-Naks received since the last Ack received
	heard     bool // the peer sent a Configure-Request since we opened
	ackedID   uint8
	acked     []byte // the peer's request we last acknowledged
	refusals  int    // Naks and Rejects we sent since our last Ack
	refused   int    // Naks and Rejects we received since the last Ack
	// failure says why the automaton last gave up (tlf), for the logs and
	// the session's Down reason.
	failure string

	termReason []byte // data of our Terminate-Request
	passive    bool   // TO- in Req-Sent.. stays Stopped without tlf ("p")
	silent     bool   // Open and Up wait in Stopped for the peer's first packet (pppd's silent)
	noFast     bool   // disables the fast retransmit (tests of the bare automaton)
	timerSet   time.Duration
	timerAt    time.Time // when the timer was last started
	lastSent   time.Time // our current request's latest transmission
	sends      int       // transmissions of our current request
	fast       bool      // the timer runs for a fast retransmit
	rtt        *rttEstimate
	now        func() time.Time
	// idleAcks counts restart timeouts in Ack-Rcvd with no request from
	// the peer in between: a peer that acknowledges ours but never sends
	// its own would otherwise keep us there for ever, as the counter is
	// re-initialised on each Ack. It gets Max-Configure requests, as a
	// silent peer does.
	idleAcks int
}

// refuse is the Nak or Reject a layer's configure answers with, given the
// options it rejects, those it Naks (with its suggestions) and the same
// as the peer sent them: Reject wins over Nak (RFC 1661 §5.3, §5.4), and
// once Max-Failure Naks have gone unheeded the disputed options are
// rejected as sent (§4.6). ok false: nothing to refuse, Ack.
func refuse(rej, nak, nakOrig []Option, rejectIfDisagree bool) (code Code, data []byte, ok bool) {
	if len(rej) > 0 {
		data, _ = AppendOptions(nil, rej)
		return CodeConfRej, data, true
	}
	if len(nak) == 0 {
		return 0, nil, false
	}
	if rejectIfDisagree {
		data, _ = AppendOptions(nil, nakOrig)
		return CodeConfRej, data, true
	}
	data, _ = AppendOptions(nil, nak)
	return CodeConfNak, data, true
}

func (f *fsm) clock() time.Time {
	if f.now != nil {
		return f.now()
	}
	return time.Now()
}

func (f *fsm) act(a string) {
	if f.trace != nil {
		f.trace(a)
	}
}

// peerLog writes a line that a packet from the peer caused, within the
// session's bound.
func (f *fsm) peerLog(level slog.Level, msg string, args ...any) {
	if f.plog != nil {
		f.plog.Log(level, fmt.Sprintf("ppp: %s: %s", f.proto, msg), args...)
	}
}

func (f *fsm) setState(s State) {
	// Not bounded: state changes are --debug's trace, like the packet
	// dumps, and no more numerous than the packets and timer fires.
	if f.state != s && f.log != nil {
		f.log.Debug(fmt.Sprintf("ppp: %s: %s -> %s", f.proto, f.state, s))
	}
	f.state = s
	switch s {
	case StateClosing, StateStopping, StateReqSent, StateAckRcvd, StateAckSent:
	default:
		// Only these states run the restart timer (RFC 1661 §4.2).
		f.timer.stop()
	}
}

// Actions (RFC 1661 §4.4). As in pppd's fsm.c, the automaton enters its
// new state before this-layer-up, -starting or -finished runs (and leaves
// Opened only after this-layer-down): a layer sees the state the event
// led to, and may itself raise an event, say Close from up(), without the
// transition it is part of overwriting the result.

func (f *fsm) tlu() { f.act("tlu"); f.layer.up() }
func (f *fsm) tld() { f.act("tld"); f.layer.down() }
func (f *fsm) tls() { f.act("tls"); f.layer.starting() }
func (f *fsm) tlf() { f.act("tlf"); f.layer.finished() }

// ircConfigure and ircTerminate are irc for the two kinds of request.
func (f *fsm) ircConfigure() { f.act("irc"); f.restart = f.timers.MaxConfigure }
func (f *fsm) ircTerminate() { f.act("irc"); f.restart = f.timers.MaxTerminate }

// zrc zeroes the counter and runs the timer, so that the peer gets one
// Restart time to see our Terminate-Ack before we finish (RFC 1661 §4.4).
func (f *fsm) zrc() {
	f.act("zrc")
	f.restart = 0
	f.startTimer(f.timers.Restart)
}

func (f *fsm) startTimer(d time.Duration) {
	f.timerSet, f.timerAt, f.fast = d, f.clock(), false
	f.timer.start(d)
}

// scr sends a Configure-Request. A retransmission keeps the Identifier
// (RFC 1661 §5.1: it "MAY remain unchanged"), so a late reply to an earlier
// copy still counts; new contents get a new one.
func (f *fsm) scr(retransmit bool) {
	f.act("scr")
	switch f.state {
	case StateReqSent, StateAckRcvd, StateAckSent:
	default:
		// Not negotiating yet: start from the configured options (as
		// pppd's fsm_sconfreq does).
		f.layer.resetOptions()
		f.nakLoops, f.rnakLoops = 0, 0
		f.reqData = nil
	}
	// A copy of a request that was answered would be ignored as stale
	// by its reply (RFC 1661 §5.2); only an unanswered one is resent.
	if !retransmit || f.reqData == nil || f.seenReply {
		f.reqData = f.layer.request()
		f.id++
		f.reqID = f.id
		f.seenReply = false
		f.sends = 0
	}
	f.restart--
	f.sends++
	f.lastSent = f.clock()
	f.send(CodeConfReq, f.reqID, f.reqData)
	f.startTimer(f.timers.Restart)
}

func (f *fsm) sca(id uint8, data []byte) { f.act("sca"); f.send(CodeConfAck, id, data) }
func (f *fsm) scn(code Code, id uint8, data []byte) {
	f.act("scn")
	f.send(code, id, data)
}

func (f *fsm) str() {
	f.act("str")
	f.id++
	f.restart--
	f.send(CodeTermReq, f.id, f.termReason)
	f.startTimer(f.timers.Restart)
}

func (f *fsm) sta(id uint8) { f.act("sta"); f.send(CodeTermAck, id, nil) }

// scj sends a Code-Reject with the rejected packet, which the caller has
// cut to fit the peer's MRU.
func (f *fsm) scj(rejected []byte) {
	f.act("scj")
	f.id++
	f.send(CodeCodeRej, f.id, rejected)
}

// Events from below and above (RFC 1661 §4.3).

// Up is the lower layer becoming ready.
func (f *fsm) Up() {
	switch f.state {
	case StateInitial:
		f.setState(StateClosed)
	case StateStarting:
		if f.silent {
			f.setState(StateStopped)
			return
		}
		f.ircConfigure()
		f.scr(false)
		f.setState(StateReqSent)
	}
}

// Down is the lower layer going away.
func (f *fsm) Down() {
	switch f.state {
	case StateClosed, StateClosing:
		f.setState(StateInitial)
	case StateStopped:
		f.setState(StateStarting)
		f.tls()
	case StateStopping, StateReqSent, StateAckRcvd, StateAckSent:
		f.setState(StateStarting)
	case StateOpened:
		f.tld()
		f.setState(StateStarting)
	}
}

// Open is the administrative Open.
func (f *fsm) Open() {
	f.heard = false
	switch f.state {
	case StateInitial:
		f.setState(StateStarting)
		f.tls()
	case StateClosed:
		// pppd's fsm_open: with OPT_SILENT, Stopped, where the peer's
		// Configure-Request starts the negotiation (RFC 1661 §4.2,
		// Stopped: "the peer's Configure-Request ... irc,scr,sca").
		if f.silent {
			f.setState(StateStopped)
			return
		}
		f.ircConfigure()
		f.scr(false)
		f.setState(StateReqSent)
	case StateClosing:
		f.setState(StateStopping)
	}
}

// Close is the administrative Close; reason goes in the Terminate-Request.
func (f *fsm) Close(reason string) {
	f.termReason = []byte(reason)
	switch f.state {
	case StateStarting:
		f.setState(StateInitial)
		f.tlf()
	case StateStopped:
		f.setState(StateClosed)
		if f.silent || f.passive {
			// pppd's lcp_close: not in RFC 1661's table, but a silent
			// link closed before the peer spoke must finish, or
			// nothing ends it (it entered Stopped without tlf).
			f.tlf()
		}
	case StateStopping:
		f.setState(StateClosing)
	case StateReqSent, StateAckRcvd, StateAckSent:
		f.ircTerminate()
		f.str()
		f.setState(StateClosing)
	case StateOpened:
		f.tld()
		f.ircTerminate()
		f.str()
		f.setState(StateClosing)
	}
}

// timeout is the restart timer's expiry: TO+ while the counter is above
// zero, TO- once it is spent.
func (f *fsm) timeout() {
	plus := f.restart > 0
	switch f.state {
	case StateClosing, StateStopping:
		if plus {
			f.str()
			return
		}
		if f.state == StateClosing {
			f.setState(StateClosed)
		} else {
			f.setState(StateStopped)
		}
		f.tlf()
	case StateReqSent, StateAckRcvd, StateAckSent:
		if f.state == StateAckRcvd {
			f.idleAcks++
			if f.idleAcks >= f.timers.MaxConfigure {
				f.giveUp(fmt.Sprintf("the peer acknowledges our requests but sent none of its own in %d tries", f.idleAcks))
				return
			}
		}
		if plus {
			f.scr(true)
			if f.state == StateAckRcvd {
				f.setState(StateReqSent)
			}
			return
		}
		f.failure = fmt.Sprintf("no answer to %d Configure-Requests", f.timers.MaxConfigure)
		if f.log != nil {
			f.log.Info(fmt.Sprintf("ppp: %s: %s", f.proto, f.failure))
		}
		f.setState(StateStopped)
		if !f.passive {
			f.tlf()
		}
	}
}

// input handles a received packet of f's protocol (after the protocol
// field). Malformed packets are dropped (RFC 1661 §5).
func (f *fsm) input(b []byte, maxReject int) {
	p, err := Parse(f.proto, b)
	if err != nil {
		f.peerLog(slog.LevelDebug, "dropped malformed packet", "err", err)
		return
	}
	if f.state == StateInitial || f.state == StateStarting {
		// No event is defined here: the lower layer is not up (RFC 1661
		// §4.2), so nothing can have been sent to us on purpose.
		return
	}
	switch p.Code {
	case CodeConfReq:
		f.rcvConfReq(p.ID, p.Data)
	case CodeConfAck:
		f.rcvConfAck(p.ID, p.Data)
	case CodeConfNak, CodeConfRej:
		f.rcvConfNakRej(p.Code, p.ID, p.Data)
	case CodeTermReq:
		f.rcvTermReq(p.ID, p.Data)
	case CodeTermAck:
		f.rcvTermAck()
	case CodeCodeRej:
		f.rcvCodeRej(p.Data)
	default:
		if !f.layer.extension(p.Code, p.ID, p.Data) {
			// RUC: Code-Reject with as much of the packet (up to its
			// Length) as fits.
			f.scj(b[:min(HeaderLen+len(p.Data), maxReject)])
		}
	}
}

func (f *fsm) rcvConfReq(id uint8, data []byte) {
	if _, err := ParseOptions(f.proto, data); err != nil {
		// RFC 1661 §6: an option running past the packet makes the whole
		// packet be silently discarded.
		f.peerLog(slog.LevelDebug, "dropped Configure-Request", "err", err)
		return
	}
	f.idleAcks = 0
	switch f.state {
	case StateClosed:
		f.sta(id)
		return
	case StateClosing, StateStopping:
		return
	case StateOpened:
		if id == f.ackedID && f.acked != nil && bytes.Equal(data, f.acked) {
			// The request we acknowledged, again: our Ack was lost (the
			// peer retransmits) or the link duplicated it. Renegotiating,
			// as the table has it, would take every layer above down for
			// nothing; the peer only needs its Ack. pppd renegotiates.
			f.sca(id, data)
			return
		}
		f.tld()
		f.scr(false)
	case StateStopped:
		f.ircConfigure()
		f.scr(false)
	}
	code, resp := f.layer.configure(data, f.nakLoops >= f.timers.MaxFailure)
	if code != CodeConfAck {
		f.refusals++
		if f.refusals > f.giveUpAfter() {
			f.giveUp(fmt.Sprintf("the peer keeps requesting what we refuse (%d requests)", f.refusals))
			return
		}
	}
	if code == CodeConfAck {
		f.sca(id, data)
		f.ackedID, f.acked = id, append([]byte(nil), data...)
		f.nakLoops, f.refusals = 0, 0
		switch f.state {
		case StateAckRcvd:
			f.setState(StateOpened)
			f.tlu()
		default: // Req-Sent, Ack-Sent, and Opened or Stopped after scr
			f.setState(StateAckSent)
		}
	} else {
		f.scn(code, id, resp)
		if code == CodeConfNak {
			f.nakLoops++
		}
		if f.state != StateAckRcvd {
			f.setState(StateReqSent)
		}
	}
	// The peer is listening now: our request, if still unanswered, goes
	// again once an answer would have come (see fastMargin).
	if !f.heard {
		f.heard = true
		f.armFast()
	}
}

// armFast starts the timer for the fast retransmit of our unanswered
// request, when the guards end before the restart timer would.
func (f *fsm) armFast() {
	if f.noFast || f.seenReply || f.state != StateReqSent && f.state != StateAckSent {
		return
	}
	age, delay := fastGuards(f.rtt.get())
	now := f.clock()
	at := f.lastSent.Add(age)
	if d := now.Add(delay); d.After(at) {
		at = d
	}
	if !at.Before(f.timerAt.Add(f.timerSet)) {
		return // the restart timer comes first: the ceiling
	}
	f.startTimer(at.Sub(now))
	f.fast = true
}

// answered is a reply (Ack, Nak, Reject) to our outstanding request. It
// measures the round trip, unless the request went more than once: the
// reply may then answer an earlier copy (Karn's rule). And a fast
// retransmit no longer has a reason: the timer goes back to the restart
// timer's expiry, which Ack-Rcvd keeps waiting for (RFC 1661 §4.1).
func (f *fsm) answered() {
	if f.sends == 1 {
		f.rtt.sample(f.clock().Sub(f.lastSent))
	}
	if f.fast {
		f.startTimer(f.lastSent.Add(f.timers.Restart).Sub(f.clock()))
	}
}

func (f *fsm) rcvConfAck(id uint8, data []byte) {
	if id != f.reqID || f.seenReply {
		return // a reply to an older request (RFC 1661 §5.2)
	}
	if !bytes.Equal(data, f.reqData) {
		// "The Configuration Options in a Configure-Ack MUST exactly
		// match those of the last transmitted Configure-Request" (RFC
		// 1661 §5.2): anything else is not an Ack of what we asked for.
		f.peerLog(slog.LevelDebug, "Configure-Ack does not match our request: dropped")
		return
	}
	f.layer.acked()
	f.answered()
	f.seenReply = true
	f.rnakLoops, f.refused = 0, 0
	switch f.state {
	case StateClosed, StateStopped:
		f.sta(id)
	case StateReqSent:
		f.ircConfigure()
		f.setState(StateAckRcvd)
	case StateAckRcvd:
		f.scr(false)
		f.setState(StateReqSent)
	case StateAckSent:
		f.ircConfigure()
		f.setState(StateOpened)
		f.tlu()
	case StateOpened:
		f.tld()
		f.scr(false)
		f.setState(StateReqSent)
	}
}

func (f *fsm) rcvConfNakRej(code Code, id uint8, data []byte) {
	if id != f.reqID || f.seenReply {
		return
	}
	if len(data) == 0 {
		return // lists nothing to change: meaningless (RFC 1661 §5.3, §5.4)
	}
	var ok bool
	if code == CodeConfNak {
		// After Max-Failure Naks in a row, treat them as Rejects, so
		// negotiation converges (RFC 1661 §4.6).
		ok = f.layer.nak(data, f.rnakLoops >= f.timers.MaxFailure)
	} else {
		ok = f.layer.reject(data)
	}
	if !ok {
		what := "Nak"
		if code == CodeConfRej {
			what = "Reject"
		}
		f.peerLog(slog.LevelDebug, "invalid Configure-"+what+": dropped")
		return
	}
	f.answered()
	f.seenReply = true
	if code == CodeConfNak {
		f.rnakLoops++
	}
	f.refused++
	if f.refused > f.giveUpAfter() {
		f.giveUp(fmt.Sprintf("the peer keeps refusing our requests (%d Naks or Rejects)", f.refused))
		return
	}
	switch f.state {
	case StateClosed, StateStopped:
		f.sta(id)
	case StateReqSent, StateAckSent:
		f.ircConfigure()
		f.scr(false)
	case StateAckRcvd:
		f.scr(false)
		f.setState(StateReqSent)
	case StateOpened:
		f.tld()
		f.scr(false)
		f.setState(StateReqSent)
	}
}

// termObserver and codeRejectObserver are optional parts of a layer.
type termObserver interface{ peerTerminated(data []byte) }
type codeRejectObserver interface{ codeRejected(code Code) }

func (f *fsm) rcvTermReq(id uint8, data []byte) {
	if t, ok := f.layer.(termObserver); ok && f.state == StateOpened {
		t.peerTerminated(data)
	}
	switch f.state {
	case StateClosed, StateStopped, StateClosing, StateStopping:
		f.sta(id)
	case StateReqSent, StateAckRcvd, StateAckSent:
		f.sta(id)
		f.setState(StateReqSent)
	case StateOpened:
		f.tld()
		f.zrc()
		f.sta(id)
		f.setState(StateStopping)
	}
}

func (f *fsm) rcvTermAck() {
	switch f.state {
	case StateClosing:
		f.setState(StateClosed)
		f.tlf()
	case StateStopping:
		f.setState(StateStopped)
		f.tlf()
	case StateAckRcvd:
		f.setState(StateReqSent)
	case StateOpened:
		f.tld()
		f.scr(false)
		f.setState(StateReqSent)
	}
}

// giveUpAfter bounds the Nak and Reject exchanges of one negotiation. The
// restart counter is re-initialised on every such reply (RFC 1661 §4.1),
// so a peer that refuses for ever would otherwise keep both sides busy at
// wire speed; Max-Failure already turned our Naks into Rejects by then.
func (f *fsm) giveUpAfter() int { return f.timers.MaxConfigure + f.timers.MaxFailure }

// giveUp ends a negotiation that cannot converge, as its timeout would:
// tlf, Stopped.
func (f *fsm) giveUp(why string) {
	f.act("giveup")
	f.failure = why
	f.peerLog(slog.LevelInfo, why)
	f.setState(StateStopped)
	f.tlf()
}

// rcvCodeRej judges a Code-Reject: rejecting one of the codes every
// implementation must know (1-7) is catastrophic (RXJ-), rejecting an
// extension merely tells us not to use it (RXJ+) (RFC 1661 §5.6).
func (f *fsm) rcvCodeRej(data []byte) {
	if len(data) < 1 {
		return
	}
	rejected := Code(data[0])
	if rejected >= CodeConfReq && rejected <= CodeCodeRej {
		f.failure = fmt.Sprintf("the peer sent a Code-Reject of our code %d", rejected)
		f.rxjMinus()
		return
	}
	if o, ok := f.layer.(codeRejectObserver); ok {
		o.codeRejected(rejected)
	}
	f.rxjPlus()
}

func (f *fsm) rxjPlus() {
	if f.state == StateAckRcvd {
		f.setState(StateReqSent)
	}
}

// rxjMinus is a catastrophic reject: of one of our core codes, or (for an
// NCP) a Protocol-Reject of the whole protocol.
func (f *fsm) rxjMinus() {
	switch f.state {
	case StateClosed, StateClosing:
		f.setState(StateClosed)
		f.tlf()
	case StateStopped, StateStopping, StateReqSent, StateAckRcvd, StateAckSent:
		f.setState(StateStopped)
		f.tlf()
	case StateOpened:
		f.tld()
		f.ircTerminate()
		f.str()
		f.setState(StateStopping)
	}
}
