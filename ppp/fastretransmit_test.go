package ppp

import (
	"testing"
	"time"
)

// The fast retransmit's guards on the automaton alone: a fake clock and
// timer, the round trip set by hand. fastretransmit_session_test.go has
// them at work between two ends.

// The guards from the round trip: twice it (age) or once (delay), plus the
// margin; with none measured, the fixed guards LCP had before.
func TestFastGuards(t *testing.T) {
	tests := []struct {
		rtt        time.Duration
		known      bool
		age, delay time.Duration
	}{
		{0, false, time.Second, 200 * time.Millisecond},
		{0, true, 100 * time.Millisecond, 100 * time.Millisecond},
		{5 * time.Millisecond, true, 110 * time.Millisecond, 105 * time.Millisecond},
		{400 * time.Millisecond, true, 900 * time.Millisecond, 500 * time.Millisecond},
		{2 * time.Second, true, 4100 * time.Millisecond, 2100 * time.Millisecond},
	}
	for _, tt := range tests {
		if age, delay := fastGuards(tt.rtt, tt.known); age != tt.age || delay != tt.delay {
			t.Errorf("fastGuards(%v, %v) = %v, %v; want %v, %v", tt.rtt, tt.known, age, delay, tt.age, tt.delay)
		}
	}
}

// fastFSM is an automaton with the fast retransmit on, a clock the test
// moves and a round trip it sets (nil: none measured).
func fastFSM(rtt *time.Duration) (*fsm, *fakeLayer, *fakeTimer, *[]sent, *time.Time) {
	f, l, tm, _, out := newTestFSM()
	now := time.Unix(1000, 0)
	f.now = func() time.Time { return now }
	f.noFast = false
	f.rtt = &rttEstimate{}
	if rtt != nil {
		f.rtt.sample(*rtt)
	}
	return f, l, tm, out, &now
}

func dur(d time.Duration) *time.Duration { return &d }

// When the peer's first request arms the fast retransmit, and for how
// long: until the later of our request's age guard and the delay guard
// after the peer's request, when that is before the restart timer's
// expiry; whether we Ack the peer's request (Ack-Sent) or Nak it
// (Req-Sent).
func TestFastRetransmitWhen(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name    string
		rtt     *time.Duration // nil: none measured
		age     time.Duration  // of our unanswered request at the peer's first
		nak     bool           // we Nak the peer's request (Req-Sent)
		restart time.Duration
		timer   time.Duration // the fast timer; 0: not armed
	}{
		// No round trip: LCP's former fixed guards, 1 s and 200 ms.
		{name: "late peer, no RTT", age: 1300 * ms, timer: 200 * ms},
		{name: "late peer, no RTT, Req-Sent", age: 1300 * ms, nak: true, timer: 200 * ms},
		{name: "just under the age guard, no RTT", age: 900 * ms, timer: 200 * ms},
		{name: "fresh request, no RTT: the age guard", age: 0, timer: time.Second},
		// The incident: the AC's IPCP request 5 ms after ours, 10 ms
		// round trip: ours goes again once 2*10+100 ms old.
		{name: "NCP incident", rtt: dur(10 * ms), age: 5 * ms, timer: 115 * ms},
		{name: "late peer, 10 ms RTT: the delay guard", rtt: dur(10 * ms), age: 2 * time.Second, timer: 110 * ms},
		{name: "zero RTT measured", rtt: dur(0), age: 30 * ms, timer: 100 * ms},
		// The ceiling: guards ending at or after the restart timer's
		// expiry leave the retransmission to it.
		{name: "restart time shorter", age: 0, restart: time.Second},
		{name: "restart time just longer", age: 0, restart: time.Second + ms, timer: time.Second},
		{name: "RTT too long", rtt: dur(1500 * ms), age: 0},
		{name: "RTT just short enough", rtt: dur(1449 * ms), age: 0, timer: 2998 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, l, tm, _, now := fastFSM(tt.rtt)
			if tt.restart != 0 {
				f.timers.Restart = tt.restart
			}
			f.Up()
			f.Open()
			*now = now.Add(tt.age)
			starts := tm.starts
			l.accept = !tt.nak
			f.input(pkt(CodeConfReq, 1, 1, 4, 5, 0xd4), 1500)
			want := StateAckSent
			if tt.nak {
				want = StateReqSent
			}
			if f.state != want {
				t.Fatalf("state %v, want %v", f.state, want)
			}
			armed := tm.starts > starts
			if armed != (tt.timer != 0) || armed && tm.d != tt.timer {
				t.Errorf("timer restarted %v for %v, want %v", armed, tm.d, tt.timer)
			}
			if armed != f.fast {
				t.Errorf("fast %v, timer armed %v", f.fast, armed)
			}
		})
	}
}

// The fast retransmission resends the same request (same Identifier, RFC
// 1661 §5.1), puts the restart timer back, happens once per negotiation,
// and never for a request already answered.
func TestFastRetransmit(t *testing.T) {
	f, l, tm, out, now := fastFSM(nil)
	f.Up()
	f.Open()
	first := (*out)[0]
	*now = now.Add(1300 * time.Millisecond) // the AC's pppd starts late
	l.accept = true
	f.input(pkt(CodeConfReq, 1, 1, 4, 5, 0xd4), 1500)
	if !f.fast || tm.d != fastDefaultDelay {
		t.Fatalf("timer %v (fast %v) after the peer's first request, want %v", tm.d, f.fast, fastDefaultDelay)
	}
	*now = now.Add(tm.d)
	f.timeout()
	last := (*out)[len(*out)-1]
	if last.code != CodeConfReq || last.id != first.id {
		t.Errorf("resent %+v, want the first request %+v again", last, first)
	}
	if tm.d != DefaultRestart || f.fast {
		t.Errorf("timer back to %v (fast %v), want %v", tm.d, f.fast, DefaultRestart)
	}
	// Only once: a second peer request does not shorten the timer again.
	*now = now.Add(2 * time.Second)
	f.input(pkt(CodeConfReq, 2, 1, 4, 5, 0xd4), 1500)
	if tm.d != DefaultRestart || f.fast {
		t.Error("fast retransmit armed twice")
	}
	// Nor when our request was answered before the peer's arrived.
	g, gl, gt, _, gnow := fastFSM(nil)
	g.Up()
	g.Open()
	*gnow = gnow.Add(2 * time.Second)
	g.input(pkt(CodeConfAck, g.reqID, 1, 4, 5, 0xd4), 1500)
	gl.accept = true
	g.input(pkt(CodeConfReq, 1, 1, 4, 5, 0xd4), 1500)
	if g.state != StateOpened || gt.running || g.fast {
		t.Errorf("answered request: %s, timer %v, fast %v", g.state, gt.running, g.fast)
	}
	// Nor when it was answered and the peer's Terminate-Request took us
	// back to Req-Sent (RFC 1661 §4.1, RTR in Ack-Rcvd): the restart
	// timer sends a new one.
	k, kl, _, _, know := fastFSM(nil)
	k.Up()
	k.Open()
	k.input(pkt(CodeConfAck, k.reqID, 1, 4, 5, 0xd4), 1500)
	k.input(pkt(CodeTermReq, 9), 1500)
	*know = know.Add(2 * time.Second)
	kl.accept = true
	k.input(pkt(CodeConfReq, 1, 1, 4, 5, 0xd4), 1500)
	if k.state != StateAckSent || k.fast {
		t.Errorf("answered, then Terminate-Request: %s, fast %v", k.state, k.fast)
	}
	// A new negotiation (Open again, as the NCPs are after LCP's
	// renegotiation) may arm it again.
	h, hl, ht, _, hnow := fastFSM(nil)
	h.Up()
	h.Open()
	hl.accept = true
	*hnow = hnow.Add(2 * time.Second)
	h.input(pkt(CodeConfReq, 1, 1, 4, 5, 0xd4), 1500)
	h.Down()
	h.Up()
	h.Open()
	*hnow = hnow.Add(2 * time.Second)
	starts := ht.starts
	h.input(pkt(CodeConfReq, 2, 1, 4, 5, 0xd4), 1500)
	if ht.starts == starts || !h.fast {
		t.Error("not armed in the second negotiation")
	}
}

// The age guard counts from our latest transmission, not the first: a
// copy the restart timer sent just now may be what the peer is answering.
func TestFastRetransmitAgeFromLatestCopy(t *testing.T) {
	f, l, tm, _, now := fastFSM(dur(10 * time.Millisecond))
	f.Up()
	f.Open()
	*now = now.Add(DefaultRestart)
	f.restart = 5
	f.timeout() // TO+: the same request again
	*now = now.Add(5 * time.Millisecond)
	l.accept = true
	f.input(pkt(CodeConfReq, 1, 1, 4, 5, 0xd4), 1500)
	if tm.d != 115*time.Millisecond {
		t.Errorf("fast timer %v, want 115ms (120 ms after the copy sent 5 ms ago)", tm.d)
	}
}

// An answer to our request while the fast timer runs disarms it: Ack-Rcvd
// waits for the peer's request until the restart timer's expiry, as it
// would have (RFC 1661 §4.1), not a fast timer's; Opened runs no timer.
func TestFastRetransmitAnswered(t *testing.T) {
	// We Nak the peer's request (Req-Sent), then our request is Acked.
	f, _, tm, out, now := fastFSM(dur(10 * time.Millisecond))
	f.Up()
	f.Open()
	*now = now.Add(5 * time.Millisecond)
	f.input(pkt(CodeConfReq, 1, 1, 4, 5, 0xd4), 1500)
	if !f.fast {
		t.Fatal("not armed")
	}
	*now = now.Add(50 * time.Millisecond)
	f.input(pkt(CodeConfAck, f.reqID, 1, 4, 5, 0xd4), 1500)
	if f.state != StateAckRcvd || f.fast || tm.d != DefaultRestart-55*time.Millisecond || !tm.running {
		t.Errorf("after the Ack: %s, fast %v, timer %v (running %v), want Ack-Rcvd and the restart timer's %v left",
			f.state, f.fast, tm.d, tm.running, DefaultRestart-55*time.Millisecond)
	}
	n := len(*out)
	// Its expiry is TO+ in Ack-Rcvd: a new request, as without the fast
	// retransmit.
	*now = now.Add(tm.d)
	f.restart = 5
	f.timeout()
	if len(*out) != n+1 || (*out)[n].id == 1 {
		t.Errorf("sent %+v after the restart timer, want a new request", (*out)[n:])
	}

	// We Ack the peer's (Ack-Sent), then ours is Acked: Opened.
	g, gl, gt, _, gnow := fastFSM(dur(10 * time.Millisecond))
	g.Up()
	g.Open()
	gl.accept = true
	g.input(pkt(CodeConfReq, 1, 1, 4, 5, 0xd4), 1500)
	*gnow = gnow.Add(50 * time.Millisecond)
	g.input(pkt(CodeConfAck, g.reqID, 1, 4, 5, 0xd4), 1500)
	if g.state != StateOpened || gt.running || g.fast {
		t.Errorf("after the Ack: %s, timer %v, fast %v", g.state, gt.running, g.fast)
	}

	// A Nak of ours: a new request and the full restart time.
	h, _, ht, _, hnow := fastFSM(dur(10 * time.Millisecond))
	h.Up()
	h.Open()
	h.input(pkt(CodeConfReq, 1, 1, 4, 5, 0xd4), 1500)
	*hnow = hnow.Add(50 * time.Millisecond)
	h.input(pkt(CodeConfNak, h.reqID, 1, 4, 5, 0xd4), 1500)
	if h.fast || ht.d != DefaultRestart {
		t.Errorf("after the Nak: fast %v, timer %v", h.fast, ht.d)
	}
}

// The round trip is measured by each answer to a request sent once, and
// never by one to a request sent again: the answer may be to the earlier
// copy (Karn's rule), which would understate it and shrink the guards.
func TestRTTMeasured(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name   string
		copies int  // transmissions before the answer
		nak    bool // the answer is a Nak (else an Ack)
		want   time.Duration
		known  bool
	}{
		{name: "Ack of a request sent once", copies: 1, want: 40 * ms, known: true},
		{name: "Nak of a request sent once", copies: 1, nak: true, want: 40 * ms, known: true},
		{name: "Ack after a retransmission", copies: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, _, _, _, now := fastFSM(nil)
			f.Up()
			f.Open()
			for range tt.copies - 1 {
				*now = now.Add(DefaultRestart)
				f.restart = 5
				f.timeout()
			}
			*now = now.Add(40 * ms)
			code := CodeConfAck
			if tt.nak {
				code = CodeConfNak
			}
			f.input(pkt(code, f.reqID, 1, 4, 5, 0xd4), 1500)
			if d, known := f.rtt.get(); d != tt.want || known != tt.known {
				t.Errorf("rtt %v (known %v), want %v (%v)", d, known, tt.want, tt.known)
			}
			// The next request, a new one, is measured again.
			if tt.nak {
				*now = now.Add(7 * ms)
				f.input(pkt(CodeConfAck, f.reqID, 1, 4, 5, 0xd4), 1500)
				if d, _ := f.rtt.get(); d != 7*ms {
					t.Errorf("rtt %v after the new request's Ack, want 7ms", d)
				}
			}
		})
	}
}

// The session's round trip: Config.RTT until one is measured; a
// keepalive's EchoRTT is one.
func TestSessionRTT(t *testing.T) {
	if d, known := testSession(Config{}).rtt.get(); known {
		t.Errorf("no Config.RTT: %v known", d)
	}
	s := testSession(Config{RTT: 30 * time.Millisecond, IPv4: &IPv4Config{}})
	if d, known := s.rtt.get(); !known || d != 30*time.Millisecond {
		t.Errorf("Config.RTT 30ms: %v (known %v)", d, known)
	}
	if s.ipcp.rtt != &s.rtt || s.lcp.rtt != &s.rtt || s.ipcp.noFast {
		t.Error("the automata do not share the session's round trip, or IPCP has no fast retransmit")
	}
	s.emit(EchoRTT{RTT: 7 * time.Millisecond})
	if d, _ := s.rtt.get(); d != 7*time.Millisecond {
		t.Errorf("after EchoRTT 7ms: %v", d)
	}
}
