package ppp_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// Dead-peer detection: the keepalive (EchoInterval and EchoFailures, or
// the single EchoTimeout) and how a session whose peer is dead ends.

// lcpSent records when the client ("a") sent each LCP packet of one code,
// as fake time since t0.
type lcpSent struct {
	code ppp.Code
	mu   sync.Mutex
	t0   time.Time
	at   []time.Duration
}

func (l *lcpSent) tap(from string, proto ppp.Protocol, p []byte, _ bool) {
	if from != "a" || proto != ppp.ProtoLCP || len(p) == 0 || ppp.Code(p[0]) != l.code {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.at = append(l.at, time.Since(l.t0))
}

func (l *lcpSent) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.t0, l.at = time.Now(), nil
}

func (l *lcpSent) times() []time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]time.Duration(nil), l.at...)
}

func seconds(s ...float64) []time.Duration {
	var d []time.Duration
	for _, x := range s {
		d = append(d, time.Duration(x*float64(time.Second)))
	}
	return d
}

// A peer that freezes (an AC that hangs: nothing it sends arrives any
// more) is declared dead by the keepalive, and the session ends then:
// one Terminate-Request, in case only the peer's answers are lost, and
// no Restart-timer wait for the Terminate-Ack that cannot come (RFC 1661
// §5.5 stops the requests once "the peer is down with reasonable
// certainty"). The network protocols go down first, then Down says why.
func TestPeerDeadEndsAtOnce(t *testing.T) {
	tests := []struct {
		name   string
		config func(*ppp.Config)
		dead   time.Duration // after the last frame heard: detection and Run's return
		echoes []time.Duration
		detail string
	}{{
		// pppd's lcp-echo-interval 2, lcp-echo-failure 3.
		name:   "echo interval 2s, 3 failures",
		config: func(c *ppp.Config) { c.EchoInterval, c.EchoFailures = 2*time.Second, 3 },
		dead:   8 * time.Second,
		echoes: seconds(2, 4, 6),
		detail: "no response to 3 echo-requests",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var frozen atomic.Bool
				echoes := &lcpSent{code: ppp.CodeEchoReq}
				terms := &lcpSent{code: ppp.CodeTermReq}
				a, b := ppptest.Pipe(ppptest.Config{
					Tap: func(from string, proto ppp.Protocol, p []byte, lost bool) {
						echoes.tap(from, proto, p, lost)
						terms.tap(from, proto, p, lost)
					},
					Drop: func(string, ppp.Protocol, []byte) bool { return frozen.Load() },
				})
				srv := start(serverConfig(ppp.AuthNone, true, false, ppptest.NewPool(clientAddr, 1)), b)
				ccfg := clientConfig(true, false)
				tt.config(&ccfg)
				cli := start(ccfg, a)
				synctest.Wait() // IPCP is up; the last frame arrived now
				if _, ok := find[ppp.IPv4Up](cli.rec); !ok {
					t.Fatalf("not up: %s", kinds(cli.rec))
				}
				frozen.Store(true)
				echoes.reset()
				terms.reset()
				t0 := time.Now()
				d := cli.wait(t)
				if took := time.Since(t0); took != tt.dead {
					t.Errorf("Run returned %v after the last frame, want %v", took, tt.dead)
				}
				if d.Reason != ppp.ReasonPeerDead || d.Detail != tt.detail {
					t.Errorf("down %v, want peer dead: %s", d, tt.detail)
				}
				if got := echoes.times(); !sameTimes(got, tt.echoes) {
					t.Errorf("Echo-Requests at %v, want %v", got, tt.echoes)
				}
				if got := terms.times(); !sameTimes(got, []time.Duration{tt.dead}) {
					t.Errorf("Terminate-Requests at %v, want one at %v", got, tt.dead)
				}
				if k := kinds(cli.rec); k != "LinkUp,IPv4Up,IPv4Down,Down" {
					t.Errorf("events %s", k)
				}
				if down, _ := find[ppp.Down](cli.rec); down != (ppp.Down{Reason: ppp.ReasonPeerDead, Detail: tt.detail}) {
					t.Errorf("Down %+v", down)
				}
				srv.wait(t)
			})
		})
	}
}
