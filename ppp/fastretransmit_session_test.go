package ppp_test

import (
	"fmt"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// The fast retransmit between two ends (fsm.go, fastMargin): a client
// against scripted peers that start late, drop our first request, hold it,
// or answer it slowly, on pipes with a delay. The peer keeps its own view
// of each protocol's state, to see whether a request of ours ever reaches
// it Opened (pppd would renegotiate). Times are exact: the bubble's clock
// only moves when everything waits.

// latePeer is a scripted peer with no authentication.
type latePeer struct {
	ncp ppp.Protocol // the NCP the client runs (IPCP or IPv6CP)
	// lcpStart: the peer's LCP starts this long after the test began;
	// our LCP requests before that are lost. Its own request goes then.
	lcpStart time.Duration
	// lcpEarly: its LCP request goes as the test begins, not in answer
	// to ours.
	lcpEarly bool
	// Its NCP starts (its own request goes) startAfter after our first
	// NCP request arrives, or with its LCP's opening when startAfter is
	// 0. Before: our requests are lost, or with hold kept and answered
	// right after its own request, as a peer whose socket queued them
	// while it started.
	startAfter time.Duration
	hold       bool
	// turnaround: it answers each of our NCP requests this long after it
	// arrived (or after its start, for one it held).
	turnaround time.Duration
}

// peerRun is a latePeer at work.
type peerRun struct {
	latePeer
	mu      sync.Mutex
	t0      time.Time
	sentLCP bool
	// lcpAcked, lcpGotAck: its LCP acknowledged ours, we acknowledged
	// its: Opened.
	lcpAcked, lcpGotAck bool
	started             bool
	held                []ppp.Packet
	acked               bool // it acknowledged our NCP request
	gotAck              bool // we acknowledged its NCP request
	// received: when our NCP requests arrived; inOpened: those it
	// handled while its NCP was Opened.
	received []time.Duration
	inOpened int
}

func (lp *peerRun) request(t *testing.T, proto ppp.Protocol) []byte {
	switch proto {
	case ppp.ProtoLCP:
		return opts(t, ppp.MagicNumber(0xac))
	case ppp.ProtoIPCP:
		return opts(t, ppp.IPAddress(acAddr))
	}
	return opts(t, ppp.InterfaceID{2, 0, 0, 0, 0, 0, 0, 0xac})
}

// run answers the client over end until the pipe closes.
func (lp *peerRun) run(t *testing.T, end *ppptest.End) {
	lp.t0 = time.Now()
	sendLCP := func() {
		if !lp.sentLCP {
			lp.sentLCP = true
			end.Send(ppp.ProtoLCP, ppp.CodeConfReq, 1, lp.request(t, ppp.ProtoLCP))
		}
	}
	if lp.lcpEarly {
		sendLCP()
	}
	if lp.lcpStart > 0 {
		time.AfterFunc(lp.lcpStart, func() {
			lp.mu.Lock()
			defer lp.mu.Unlock()
			sendLCP()
		})
	}
	// startNCP runs with lp.mu held.
	startNCP := func() {
		if lp.started {
			return
		}
		lp.started = true
		end.Send(lp.ncp, ppp.CodeConfReq, 1, lp.request(t, lp.ncp))
		for _, p := range lp.held {
			lp.answerLater(end, p)
		}
		lp.held = nil
	}
	runScript(end, func(s *script, p ppp.Packet) {
		lp.mu.Lock()
		defer lp.mu.Unlock()
		switch {
		case p.Protocol == ppp.ProtoLCP && time.Since(lp.t0) < lp.lcpStart:
			// Not started: lost.
		case p.Protocol == ppp.ProtoLCP && (p.Code == ppp.CodeConfReq || p.Code == ppp.CodeConfAck):
			if p.Code == ppp.CodeConfReq {
				end.Send(ppp.ProtoLCP, ppp.CodeConfAck, p.ID, p.Data)
				sendLCP()
				lp.lcpAcked = true
			} else {
				lp.lcpGotAck = true
			}
			if lp.lcpAcked && lp.lcpGotAck && lp.startAfter == 0 {
				startNCP()
			}
		case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeTermReq:
			end.Send(ppp.ProtoLCP, ppp.CodeTermAck, p.ID, nil)
		case p.Protocol == lp.ncp && p.Code == ppp.CodeConfReq:
			lp.received = append(lp.received, time.Since(lp.t0))
			if lp.started {
				lp.answerLater(end, p)
				return
			}
			if len(lp.received) == 1 && lp.startAfter > 0 {
				time.AfterFunc(lp.startAfter, func() {
					lp.mu.Lock()
					defer lp.mu.Unlock()
					startNCP()
				})
			}
			if lp.hold {
				lp.held = append(lp.held, p)
			}
		case p.Protocol == lp.ncp && p.Code == ppp.CodeConfAck:
			lp.gotAck = true
		}
	})
}

// answerLater handles our request after the turnaround, with lp.mu held.
func (lp *peerRun) answerLater(end *ppptest.End, p ppp.Packet) {
	answer := func() {
		if lp.acked && lp.gotAck {
			lp.inOpened++ // pppd: RCR in Opened, renegotiation
		}
		lp.acked = true
		end.Send(p.Protocol, ppp.CodeConfAck, p.ID, p.Data)
	}
	if lp.turnaround == 0 {
		answer()
		return
	}
	time.AfterFunc(lp.turnaround, func() {
		lp.mu.Lock()
		defer lp.mu.Unlock()
		answer()
	})
}

// fastCase is one client against one latePeer.
type fastCase struct {
	name  string
	delay time.Duration // one way, each way
	rtt   time.Duration // Config.RTT
	peer  latePeer
	// lcp and ncp: when the client sent its requests of LCP and of the
	// NCP; nil: not checked.
	lcp, ncp []time.Duration
}

func (tt *fastCase) run(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		sent := map[ppp.Protocol][]time.Duration{}
		t0 := time.Now()
		a, b := ppptest.Pipe(ppptest.Config{Delay: tt.delay, Tap: func(from string, proto ppp.Protocol, p []byte, _ bool) {
			if from == "a" && len(p) > 0 && ppp.Code(p[0]) == ppp.CodeConfReq {
				mu.Lock()
				sent[proto] = append(sent[proto], time.Since(t0))
				mu.Unlock()
			}
		}})
		lp := &peerRun{latePeer: tt.peer}
		lp.run(t, b)
		cfg := clientConfig(lp.ncp == ppp.ProtoIPCP, lp.ncp == ppp.ProtoIPv6CP)
		cfg.User = ""
		if cfg.IPv4 != nil {
			cfg.IPv4.Local, cfg.IPv4.RequestDNS = clientAddr, false
		}
		cfg.RTT = tt.rtt
		cli := start(cfg, a)
		time.Sleep(10 * time.Second)
		up := false
		if lp.ncp == ppp.ProtoIPCP {
			_, up = find[ppp.IPv4Up](cli.rec)
		} else {
			_, up = find[ppp.IPv6Up](cli.rec)
		}
		if !up {
			t.Errorf("%s not up: %s", lp.ncp, kinds(cli.rec))
		}
		mu.Lock()
		for _, c := range []struct {
			proto ppp.Protocol
			want  []time.Duration
		}{{ppp.ProtoLCP, tt.lcp}, {lp.ncp, tt.ncp}} {
			if got := sent[c.proto]; c.want != nil && fmt.Sprint(got) != fmt.Sprint(c.want) {
				t.Errorf("%s requests sent at %v, want %v", c.proto, got, c.want)
			}
		}
		mu.Unlock()
		lp.mu.Lock()
		if lp.inOpened != 0 {
			t.Errorf("%d of our %s requests reached the peer Opened (at %v)", lp.inOpened, lp.ncp, lp.received)
		}
		lp.mu.Unlock()
		cli.s.Close("")
		cli.wait(t)
	})
}

const ms = time.Millisecond

// A peer whose NCP starts just after ours, losing our first request (as a
// fast AC did in the VM: its IPCP request came 5 ms after ours, which it
// had dropped): once its request shows it listens, ours goes again as
// soon as the guards allow, not after the 3 s restart time. And a peer
// starting late (1.3 s after our request), as an AC forking its pppd per
// session does for LCP: the delay guard after its request.
//
// With a delay of 1 ms each way LCP measures a 2 ms round trip and opens
// at 2 ms, when the NCP request goes; the peer gets it at 3 ms and starts
// at 8 ms, its request arriving at 9 ms: ours goes again at the later of
// 2+(2*2+100) and 9+(2+100) ms.
func TestNCPFastRetransmit(t *testing.T) {
	for _, ncp := range []ppp.Protocol{ppp.ProtoIPCP, ppp.ProtoIPv6CP} {
		for _, tt := range []fastCase{{
			name:  "peer starts 5 ms after our request",
			delay: 1 * ms,
			peer:  latePeer{ncp: ncp, startAfter: 5 * ms},
			lcp:   []time.Duration{0},
			ncp:   []time.Duration{2 * ms, 111 * ms},
		}, {
			name:  "peer starts 1.3 s after our request",
			delay: 1 * ms,
			peer:  latePeer{ncp: ncp, startAfter: 1300 * ms},
			ncp:   []time.Duration{2 * ms, (1304 + 102) * ms},
		}, {
			// Before the fast retransmit (and without it): 3 s.
			name: "no delay, peer starts 5 ms after our request",
			peer: latePeer{ncp: ncp, startAfter: 5 * ms},
			ncp:  []time.Duration{0, 105 * ms},
		}} {
			t.Run(ncp.String()+"/"+tt.name, tt.run)
		}
	}
}

// A peer that answers our request, however it times it, never gets a
// second copy while its Ack may still be on its way: none reaches it
// Opened.
func TestFastRetransmitNoDuplicate(t *testing.T) {
	for _, ncp := range []ppp.Protocol{ppp.ProtoIPCP, ppp.ProtoIPv6CP} {
		for _, tt := range []fastCase{{
			name: "no delay",
			peer: latePeer{ncp: ncp},
			ncp:  []time.Duration{0},
		}, {
			// Its LCP request goes at once, so its NCP request comes
			// 40 ms after ours; LCP measured 80 ms. Its Ack of ours,
			// 160 ms in the making, arrives at 80+240 ms: the age
			// guard (ours 2*80+100 ms old) holds the copy until 340.
			// The delay guard alone (its request at 120, +80+100)
			// would send it at 300.
			name:  "Ack in flight, slow turnaround",
			delay: 40 * ms,
			peer:  latePeer{ncp: ncp, lcpEarly: true, turnaround: 160 * ms},
			ncp:   []time.Duration{80 * ms},
		}, {
			// It held our request (sent at 2 ms) until it started,
			// 300 ms after: its request arrives at 304 ms, its Ack of
			// ours, 20 ms in the making, at 324. The delay guard
			// (304+2+100 ms) holds the copy until 406; the age guard
			// alone (2+2*2+100 ms) would send it at once.
			name:  "Ack of a held request",
			delay: 1 * ms,
			peer:  latePeer{ncp: ncp, startAfter: 300 * ms, hold: true, turnaround: 20 * ms},
			ncp:   []time.Duration{2 * ms},
		}} {
			t.Run(ncp.String()+"/"+tt.name, tt.run)
		}
	}
}

// LCP's guards from Config.RTT (discovery's PADR->PADS time) against a
// peer starting late: our first request (at 0) is lost; the copy goes at
// the later of 2*RTT+100 ms and the peer's request + RTT+100 ms. Without
// a round trip, the former fixed guards: 1 s and 200 ms.
func TestLCPFastRetransmitFromRTT(t *testing.T) {
	for _, tt := range []fastCase{{
		name: "no RTT, peer at 1.3 s",
		peer: latePeer{lcpStart: 1300 * ms},
		lcp:  []time.Duration{0, 1500 * ms},
	}, {
		name: "no RTT, peer at 100 ms",
		peer: latePeer{lcpStart: 100 * ms},
		lcp:  []time.Duration{0, time.Second},
	}, {
		name: "RTT 20 ms, peer at 1.3 s",
		rtt:  20 * ms,
		peer: latePeer{lcpStart: 1300 * ms},
		lcp:  []time.Duration{0, 1420 * ms},
	}, {
		name: "RTT 20 ms, peer at 100 ms",
		rtt:  20 * ms,
		peer: latePeer{lcpStart: 100 * ms},
		lcp:  []time.Duration{0, 220 * ms},
	}, {
		name: "RTT 20 ms, peer at 10 ms",
		rtt:  20 * ms,
		peer: latePeer{lcpStart: 10 * ms},
		lcp:  []time.Duration{0, 140 * ms},
	}, {
		// A round trip whose guards reach the restart time: the
		// restart timer, as before.
		name: "RTT 1.5 s, peer at 100 ms",
		rtt:  1500 * ms,
		peer: latePeer{lcpStart: 100 * ms},
		lcp:  []time.Duration{0, 3 * time.Second},
	}} {
		tt.peer.ncp = ppp.ProtoIPCP
		t.Run(tt.name, tt.run)
	}
}

// Which round trip the NCPs' guards use: LCP's own measurement when there
// is one, over Config.RTT; Config.RTT when LCP could not measure (its
// request went twice: Karn's rule); the fixed guards with neither. The
// peer (no delay) starts its NCP 5 ms after our request, lost.
func TestNCPFastRetransmitRTTSource(t *testing.T) {
	for _, tt := range []fastCase{{
		// LCP measured 0: 100 ms guards; Config.RTT's 500 ms would
		// make them 1.1 s and 600 ms.
		name: "LCP measured",
		rtt:  500 * ms,
		peer: latePeer{ncp: ppp.ProtoIPCP, startAfter: 5 * ms},
		lcp:  []time.Duration{0},
		ncp:  []time.Duration{0, 105 * ms},
	}, {
		// LCP's copy at 1.42 s opens it: no measure; IPCP's request
		// goes again at 1.42+0.14 s (Config.RTT 20 ms).
		name: "LCP sent twice, Config.RTT",
		rtt:  20 * ms,
		peer: latePeer{ncp: ppp.ProtoIPCP, lcpStart: 1300 * ms, startAfter: 5 * ms},
		lcp:  []time.Duration{0, 1420 * ms},
		ncp:  []time.Duration{1420 * ms, 1560 * ms},
	}, {
		// Nor Config.RTT: 1 s after the request.
		name: "LCP sent twice, no RTT",
		peer: latePeer{ncp: ppp.ProtoIPCP, lcpStart: 1300 * ms, startAfter: 5 * ms},
		lcp:  []time.Duration{0, 1500 * ms},
		ncp:  []time.Duration{1500 * ms, 2500 * ms},
	}} {
		t.Run(tt.name, tt.run)
	}
}
