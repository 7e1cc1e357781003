package ppp_test

import (
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// timedTap records, for one end of a pipe, the code name of each LCP
// packet it sends (with its options for a Configure-Request) and the
// fake time it left at.
type timedTap struct {
	mu    sync.Mutex
	t0    time.Time
	sent  []string
	times []time.Duration
}

func (l *timedTap) tap(from string, proto ppp.Protocol, p []byte, _ bool) {
	if from != "a" || proto != ppp.ProtoLCP {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	f := ppp.FormatFrame(append([]byte{byte(proto >> 8), byte(proto)}, p...))
	// "[LCP ConfReq id=0x1 <mru 1492> ...]": the code, and what follows
	// the Identifier.
	fields := strings.Fields(strings.Trim(f, "[]"))
	l.sent = append(l.sent, strings.Join(append(fields[1:2], fields[min(3, len(fields)):]...), " "))
	l.times = append(l.times, time.Since(l.t0))
}

// The restart timer and counters of RFC 1661 §4.6, default and
// configured, as the peer sees them: how many requests, how far apart,
// and when the session gives up.
func TestTimersConfigured(t *testing.T) {
	tests := []struct {
		name   string
		timers ppp.Timers
		// peer answers the client's LCP packets; open: the peer opens LCP
		// then goes silent.
		open   bool
		nak    bool // the peer Naks our MRU for ever
		ack    bool // the peer Acks our requests, sends none of its own
		accm   bool // the peer Acks ours, then asks for ACCM for ever
		close  bool // we close once LCP is open
		sent   string
		every  time.Duration
		detail string
	}{{
		name:   "Max-Configure default",
		sent:   strings.Repeat("ConfReq <mru 1492> <magic *>,", 10),
		every:  3 * time.Second,
		detail: "no answer to 10 Configure-Requests",
	}, {
		name:   "Max-Configure and Restart configured",
		timers: ppp.Timers{MaxConfigure: 3, Restart: 2 * time.Second},
		sent:   strings.Repeat("ConfReq <mru 1492> <magic *>,", 3),
		every:  2 * time.Second,
		detail: "no answer to 3 Configure-Requests",
	}, {
		// Each Ack re-initialises the restart counter (RFC 1661 §4.1), so
		// the table alone would wait in Ack-Rcvd for ever (as pppd does);
		// a peer that never sends its request is given Max-Configure
		// requests, as a silent one is.
		name:   "peer only acknowledges",
		ack:    true,
		sent:   strings.Repeat("ConfReq <mru 1492> <magic *>,", 10),
		every:  3 * time.Second,
		detail: "the peer acknowledges our requests but sent none of its own in 10 tries",
	}, {
		// Each of our Rejects re-initialises the peer's counter: after
		// Max-Configure+Max-Failure refusals in a row we give up (the
		// last request goes unanswered).
		name:   "peer keeps asking for what we refuse",
		timers: ppp.Timers{MaxFailure: 2, MaxConfigure: 4},
		accm:   true,
		sent:   "ConfReq <mru 1492> <magic *>," + strings.Repeat("ConfRej <asyncmap 0x0>,", 6),
		detail: "the peer keeps requesting what we refuse (7 requests)",
	}, {
		// Max-Terminate (default 2) Terminate-Requests, a Restart time
		// apart, then we are done, answered or not.
		name:   "Max-Terminate default",
		open:   true,
		close:  true,
		sent:   "TermReq \"User request\",TermReq \"User request\",",
		every:  3 * time.Second,
		detail: "",
	}, {
		name:   "Max-Terminate configured",
		timers: ppp.Timers{MaxTerminate: 4, Restart: time.Second},
		open:   true,
		close:  true,
		sent:   strings.Repeat(`TermReq "User request",`, 4),
		every:  time.Second,
	}, {
		// Max-Failure Naks of the MRU, then the next counts as a Reject:
		// the request goes without it (and the peer, Nak'ing what we no
		// longer ask for, is given up on after Max-Configure+Max-Failure
		// refusals).
		name:   "Max-Failure configured",
		timers: ppp.Timers{MaxFailure: 2, MaxConfigure: 4},
		nak:    true,
		sent:   strings.Repeat("ConfReq <mru 1492> <magic *>,", 3) + strings.Repeat("ConfReq <magic *>,", 4),
		detail: "the peer keeps refusing our requests (7 Naks or Rejects)",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tap := &timedTap{t0: time.Now()}
				a, b := ppptest.Pipe(ppptest.Config{Tap: tap.tap})
				opened := make(chan struct{})
				runScript(b, func(s *script, p ppp.Packet) {
					if p.Protocol != ppp.ProtoLCP || p.Code != ppp.CodeConfReq && !tt.accm {
						return
					}
					if s.count("LCP ConfReq")+s.count("LCP ConfRej") > 100 {
						return // silent then, so that a client without a bound times out
					}
					switch {
					case tt.accm:
						if p.Code == ppp.CodeConfReq && p.ID == 1 {
							s.end.Send(ppp.ProtoLCP, ppp.CodeConfAck, p.ID, p.Data)
						}
						s.end.Send(ppp.ProtoLCP, ppp.CodeConfReq, p.ID+1, opts(t, ppp.ACCM(0)))
					case tt.ack:
						s.end.Send(ppp.ProtoLCP, ppp.CodeConfAck, p.ID, p.Data)
					case tt.nak:
						s.end.Send(ppp.ProtoLCP, ppp.CodeConfNak, p.ID, opts(t, ppp.MRU(9000)))
					case tt.open:
						s.end.Send(ppp.ProtoLCP, ppp.CodeConfAck, p.ID, p.Data)
						s.end.Send(ppp.ProtoLCP, ppp.CodeConfReq, 1, opts(t, ppp.MagicNumber(0xac)))
						close(opened)
					}
				})
				cfg := clientConfig(true, false)
				cfg.Timers = tt.timers
				cli := start(cfg, a)
				if tt.close {
					<-opened
					synctest.Wait()
					tap.mu.Lock()
					tap.sent, tap.times, tap.t0 = nil, nil, time.Now()
					tap.mu.Unlock()
					cli.s.Close("")
				}
				d := cli.waitFor(t, time.Hour)
				tap.mu.Lock()
				defer tap.mu.Unlock()
				var got []string
				for i, s := range tap.sent {
					if strings.HasPrefix(s, "ConfAck") {
						continue
					}
					if i := strings.Index(s, "<magic "); i >= 0 {
						s = s[:i] + "<magic *>"
					}
					got = append(got, s)
					if want := time.Duration(len(got)-1) * tt.every; tap.times[i] != want {
						t.Errorf("packet %d (%s) sent at %v, want %v", len(got), s, tap.times[i], want)
					}
				}
				if g := strings.Join(got, ",") + ","; g != tt.sent {
					t.Errorf("sent\n%s\nwant\n%s", strings.ReplaceAll(g, ",", "\n"), strings.ReplaceAll(tt.sent, ",", "\n"))
				}
				wantDown := ppp.DownError{Reason: ppp.ReasonNegotiationFailed, Detail: tt.detail}
				if tt.close {
					wantDown = ppp.DownError{Reason: ppp.ReasonLocalClose}
				}
				if *d != wantDown {
					t.Errorf("down %v, want %v", d, &wantDown)
				}
				// Each request, the last too, waits out its Restart time:
				// a timer expiry each, when the timer runs at all.
				if want := strings.Count(tt.sent, ","); tt.every > 0 && cli.s.Stats().TimerExpiries != want {
					t.Errorf("%d timer expiries, want %d", cli.s.Stats().TimerExpiries, want)
				}
				// The last request waits out its Restart time too.
				n := strings.Count(tt.sent, ",")
				if took, want := time.Since(tap.t0), time.Duration(n)*tt.every; took != want {
					t.Errorf("took %v, want %v", took, want)
				}
			})
		})
	}
}
