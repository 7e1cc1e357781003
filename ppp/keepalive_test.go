package ppp_test

import (
	"fmt"
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

// A peer that freezes (an AC that hangs: nothing passes either way any
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
	}, {
		// The same detection in one duration: echoes every 8s/4.
		name:   "echo timeout 8s",
		config: func(c *ppp.Config) { c.EchoTimeout = 8 * time.Second },
		dead:   8 * time.Second,
		echoes: seconds(2, 4, 6),
		detail: "nothing received for 8s",
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

// EchoTimeout's keepalive, from the wire. The peer is dead once nothing
// was heard from it for EchoTimeout, pinned to the instant; meanwhile
// every period P of quiet (EchoTimeout/4, at least 1 s, at most
// EchoTimeout/2) brings an Echo-Request. Whatever the peer sends counts,
// except echoes that are malformed or our own; so does the kernel's
// data. Times are from the last frame of the negotiation.
func TestEchoTimeout(t *testing.T) {
	const forever = time.Duration(1<<63 - 1) // pppox's ReceiveIdle when it cannot tell
	answer := func(req ppp.Packet, _ uint32) (ppp.Code, []byte) { return ppp.CodeEchoRep, be32(0xac) }
	discard := func(uint32) (ppp.Code, []byte) { return ppp.CodeDiscardReq, be32(0xac) }
	tests := []struct {
		name    string
		timeout time.Duration
		// reply answers each Echo-Request (nil: none), after delay.
		reply func(req ppp.Packet, ours uint32) (ppp.Code, []byte)
		delay time.Duration
		// traffic is an LCP packet the peer sends every `every`.
		traffic func(ours uint32) (ppp.Code, []byte)
		every   time.Duration
		idle    time.Duration // the kernel's receive idle time (0: no ReceiveIdler)
		dead    time.Duration // 0: alive after 10 minutes
		// echoes: when they went out (alive: the first ones, and count
		// in all).
		echoes []time.Duration
		count  int
	}{{
		name:    "silent peer",
		timeout: 8 * time.Second,
		dead:    8 * time.Second,
		echoes:  seconds(2, 4, 6),
	}, {
		name:    "silent peer, a quarter of 60s",
		timeout: time.Minute,
		dead:    time.Minute,
		echoes:  seconds(15, 30, 45),
	}, {
		// A quarter would be 750 ms: one echo a second at most.
		name:    "silent peer, at most one echo a second",
		timeout: 3 * time.Second,
		dead:    3 * time.Second,
		echoes:  seconds(1, 2),
	}, {
		// The last wait is only until the deadline, not a whole period.
		name:    "silent peer, timeout not a multiple of the period",
		timeout: 2500 * time.Millisecond,
		dead:    2500 * time.Millisecond,
		echoes:  seconds(1, 2),
	}, {
		// Below 2 s the period is half the timeout: one echo at least.
		name:    "silent peer, at least one echo",
		timeout: time.Second,
		dead:    time.Second,
		echoes:  seconds(0.5),
	}, {
		// Each reply is heard: the next echo is a period after it.
		name:    "echoes answered",
		timeout: 8 * time.Second,
		reply:   answer,
		echoes:  seconds(2, 4, 6, 8, 10),
		count:   300,
	}, {
		name:    "echoes answered late",
		timeout: 8 * time.Second,
		reply:   answer,
		delay:   1500 * time.Millisecond,
		echoes:  seconds(2, 5.5, 9, 12.5),
		count:   172,
	}, {
		name:    "other frames, more often than the period",
		timeout: 8 * time.Second,
		traffic: discard,
		every:   time.Second,
		count:   0,
	}, {
		// Echoes only when the link was quiet for a period: 2 s after
		// each of the peer's packets (at 3 s, 6 s...).
		name:    "other frames, less often than the period",
		timeout: 8 * time.Second,
		traffic: discard,
		every:   3 * time.Second,
		echoes:  seconds(2, 5, 8, 11),
		count:   200,
	}, {
		name:    "truncated replies",
		timeout: 8 * time.Second,
		reply:   func(ppp.Packet, uint32) (ppp.Code, []byte) { return ppp.CodeEchoRep, []byte{0, 0, 0} },
		dead:    8 * time.Second,
		echoes:  seconds(2, 4, 6),
	}, {
		name:    "replies with our own magic number",
		timeout: 8 * time.Second,
		reply:   func(_ ppp.Packet, ours uint32) (ppp.Code, []byte) { return ppp.CodeEchoRep, be32(ours) },
		dead:    8 * time.Second,
		echoes:  seconds(2, 4, 6),
	}, {
		// A looped-back link: our requests come back as they left.
		name:    "our own requests back",
		timeout: 8 * time.Second,
		reply:   func(req ppp.Packet, _ uint32) (ppp.Code, []byte) { return ppp.CodeEchoReq, req.Data },
		dead:    8 * time.Second,
		echoes:  seconds(2, 4, 6),
	}, {
		name:    "truncated requests from the peer",
		timeout: 8 * time.Second,
		traffic: func(uint32) (ppp.Code, []byte) { return ppp.CodeEchoReq, []byte{0, 0} },
		every:   time.Second,
		dead:    8 * time.Second,
		echoes:  seconds(2, 4, 6),
	}, {
		// Data flows (the kernel heard the peer a second ago, always):
		// no echo is needed, and none answered is no matter.
		name:    "data received",
		timeout: 8 * time.Second,
		idle:    time.Second,
		count:   0,
	}, {
		// A kernel that cannot tell leaves the control frames to count.
		name:    "data idle unknown",
		timeout: 8 * time.Second,
		idle:    forever,
		dead:    8 * time.Second,
		echoes:  seconds(2, 4, 6),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				echoes := &lcpSent{code: ppp.CodeEchoReq}
				a, b := ppptest.Pipe(ppptest.Config{Tap: echoes.tap})
				var mu sync.Mutex
				var ours uint32
				magic := func() uint32 {
					mu.Lock()
					defer mu.Unlock()
					return ours
				}
				runScript(b, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xac)}, func(s *script, p ppp.Packet) {
					s.end.Send(ppp.ProtoIPv6CP, ppp.CodeConfReq, 1, opts(t, ppp.InterfaceID{2, 0, 0, 0, 0, 0, 0, 2}))
				}, func(s *script, p ppp.Packet) {
					switch {
					case p.Protocol == ppp.ProtoIPv6CP && p.Code == ppp.CodeConfReq:
						s.end.Send(ppp.ProtoIPv6CP, ppp.CodeConfAck, p.ID, p.Data)
					case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeEchoReq && tt.reply != nil:
						code, data := tt.reply(p, magic())
						go func() {
							time.Sleep(tt.delay)
							s.end.Send(ppp.ProtoLCP, code, p.ID, data)
						}()
					}
				}))
				cfg := clientConfig(false, true)
				cfg.EchoTimeout = tt.timeout
				// Ignored when EchoTimeout is set.
				cfg.EchoInterval, cfg.EchoFailures, cfg.EchoAdaptive = time.Second, 1, true
				var link ppp.Link = a
				if tt.idle > 0 {
					link = idleLink{End: a, idle: tt.idle}
				}
				cli := start(cfg, link)
				synctest.Wait()
				if _, ok := find[ppp.IPv6Up](cli.rec); !ok {
					t.Fatalf("not up: %s", kinds(cli.rec))
				}
				lu, _ := find[ppp.LinkUp](cli.rec)
				mu.Lock()
				ours = lu.Magic
				mu.Unlock()
				echoes.reset()
				t0 := time.Now()
				stop := make(chan struct{})
				defer close(stop)
				if tt.traffic != nil {
					go func() {
						for {
							select {
							case <-stop:
								return
							case <-time.After(tt.every):
								code, data := tt.traffic(magic())
								b.Send(ppp.ProtoLCP, code, 1, data)
							}
						}
					}()
				}
				got := echoes.times
				if tt.dead > 0 {
					d := cli.wait(t)
					if took := time.Since(t0); took != tt.dead {
						t.Errorf("dead after %v, want %v", took, tt.dead)
					}
					if want := fmt.Sprintf("nothing received for %v", tt.timeout); d.Reason != ppp.ReasonPeerDead || d.Detail != want {
						t.Errorf("down %v, want peer dead: %s", d, want)
					}
					if !sameTimes(got(), tt.echoes) {
						t.Errorf("echoes at %v, want %v", got(), tt.echoes)
					}
					return
				}
				time.Sleep(10*time.Minute + time.Second)
				if d, down := find[ppp.Down](cli.rec); down {
					t.Fatalf("down: %+v", d)
				}
				e := got()
				if len(e) != tt.count || len(e) < len(tt.echoes) || !sameTimes(e[:len(tt.echoes)], tt.echoes) {
					t.Errorf("%d echoes, first at %v; want %d, first at %v", len(e), e[:min(len(e), len(tt.echoes)+2)], tt.count, tt.echoes)
				}
				cli.s.Close("")
				cli.wait(t)
			})
		})
	}
}

// A peer that Code-Rejects our Echo-Request does not do echoes (RFC 1661
// §4.3, RXJ+: we "MUST stop sending the offending packet type"): the keepalive is off for the rest of
// the session, LCP renegotiations included, in both of its forms.
func TestEchoCodeRejectedForGood(t *testing.T) {
	tests := []struct {
		name   string
		config func(*ppp.Config)
	}{
		{"echo interval", func(c *ppp.Config) { c.EchoInterval = 2 * time.Second }},
		{"echo timeout", func(c *ppp.Config) { c.EchoTimeout = 8 * time.Second }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				runScript(b, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xac)}, func(s *script, p ppp.Packet) {
					s.end.Send(ppp.ProtoIPv6CP, ppp.CodeConfReq, 1, opts(t, ppp.InterfaceID{2, 0, 0, 0, 0, 0, 0, 2}))
				}, func(s *script, p ppp.Packet) {
					if p.Protocol == ppp.ProtoIPv6CP && p.Code == ppp.CodeConfReq {
						s.end.Send(ppp.ProtoIPv6CP, ppp.CodeConfAck, p.ID, p.Data)
					}
				}))
				cfg := clientConfig(false, true)
				tt.config(&cfg)
				var mu sync.Mutex
				rejected := false
				var echoes atomic.Int32
				cli := start(cfg, countingRejecter{echoRejecter{End: a, peer: b, mu: &mu, done: &rejected}, &echoes})
				time.Sleep(30 * time.Second)
				// The peer renegotiates LCP: Opened again, the keepalive
				// stays off.
				b.Send(ppp.ProtoLCP, ppp.CodeConfReq, 2, opts(t, ppp.MagicNumber(0xad)))
				time.Sleep(10 * time.Minute)
				if d, down := find[ppp.Down](cli.rec); down {
					t.Fatalf("down: %+v", d)
				}
				if k := kinds(cli.rec); k != "LinkUp,IPv6Up,IPv6Down,LinkUp,IPv6Up" {
					t.Fatalf("events %s, want a renegotiation", k)
				}
				if n := echoes.Load(); n != 1 {
					t.Errorf("%d echoes, want 1 (rejected)", n)
				}
				cli.s.Close("")
				cli.wait(t)
			})
		})
	}
}

// countingRejecter is an echoRejecter that counts the echoes it rejects.
type countingRejecter struct {
	echoRejecter
	n *atomic.Int32
}

func (c countingRejecter) WriteFrame(proto ppp.Protocol, p []byte) error {
	if proto == ppp.ProtoLCP && len(p) > 0 && ppp.Code(p[0]) == ppp.CodeEchoReq {
		c.n.Add(1)
	}
	return c.echoRejecter.WriteFrame(proto, p)
}

// dataUntil is a link whose kernel unit receives data continuously
// until the instant stored in until (none stored: never any data).
type dataUntil struct {
	*ppptest.End
	until *atomic.Pointer[time.Time]
}

func (l dataUntil) ReceiveIdle() time.Duration {
	u := l.until.Load()
	if u == nil {
		return time.Duration(1<<63 - 1)
	}
	return max(time.Since(*u), 0)
}

// EchoQuiet and EchoRepeat: RouterOS's keepalive-timeout K, as the AC
// uses it (EchoTimeout 2K, EchoQuiet K), on the server's side. After K
// of quiet an Echo-Request goes out every second (EchoRepeat), and the
// client is declared dead, with one Terminate-Request, at 2K of quiet.
// Anything heard (an LCP frame, data counted by the kernel, an answer to
// one of the echoes) starts the count again; a client that answers, even
// only some of the echoes, is never declared dead. Times are from the
// last frame of the negotiation.
func TestEchoQuiet(t *testing.T) {
	const k = 10 * time.Second
	tests := []struct {
		name                   string
		timeout, quiet, repeat time.Duration
		// answer says whether the client answers the n-th echo (from 0).
		answer func(n int) bool
		frame  time.Duration // the client sends one Discard-Request then
		data   time.Duration // the kernel receives data until then
		dead   time.Duration // 0: alive after 10 minutes
		echoes []time.Duration
		count  int // echoes in 10 minutes and a second, when alive
	}{{
		name:    "RouterOS keepalive-timeout 10s, silent client",
		timeout: 2 * k, quiet: k,
		dead:   20 * time.Second,
		echoes: seconds(10, 11, 12, 13, 14, 15, 16, 17, 18, 19),
	}, {
		name:    "a frame heard starts the count again",
		timeout: 2 * k, quiet: k,
		frame:  5 * time.Second,
		dead:   25 * time.Second,
		echoes: seconds(15, 16, 17, 18, 19, 20, 21, 22, 23, 24),
	}, {
		name:    "data heard starts the count again",
		timeout: 2 * k, quiet: k,
		data:   30 * time.Second,
		dead:   50 * time.Second,
		echoes: seconds(40, 41, 42, 43, 44, 45, 46, 47, 48, 49),
	}, {
		// Each answer is heard: the next echo is K after it.
		name:    "every echo answered",
		timeout: 2 * k, quiet: k,
		answer: func(int) bool { return true },
		echoes: seconds(10, 20, 30, 40),
		count:  60,
	}, {
		// Two echoes in three lost: still alive, 3 echoes every 12 s.
		name:    "every third echo answered",
		timeout: 2 * k, quiet: k,
		answer: func(n int) bool { return n%3 == 2 },
		echoes: seconds(10, 11, 12, 22, 23, 24, 34),
		count:  150,
	}, {
		name:    "EchoRepeat",
		timeout: 2 * k, quiet: k, repeat: 3 * time.Second,
		dead:   20 * time.Second,
		echoes: seconds(10, 13, 16, 19),
	}, {
		// A first echo past half the timeout would leave the client no
		// time to answer it, or none at all: it is capped there.
		name:    "EchoQuiet capped at half the timeout",
		timeout: 2 * k, quiet: 30 * time.Second,
		dead:   20 * time.Second,
		echoes: seconds(10, 11, 12, 13, 14, 15, 16, 17, 18, 19),
	}, {
		// EchoRepeat alone: the first echo at the default period
		// (EchoTimeout/4).
		name:    "EchoRepeat without EchoQuiet",
		timeout: 8 * time.Second, repeat: time.Second,
		dead:   8 * time.Second,
		echoes: seconds(2, 3, 4, 5, 6, 7),
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				echoes := &lcpSent{code: ppp.CodeEchoReq}
				terms := &lcpSent{code: ppp.CodeTermReq}
				a, b := ppptest.Pipe(ppptest.Config{Tap: func(from string, proto ppp.Protocol, p []byte, lost bool) {
					echoes.tap(from, proto, p, lost)
					terms.tap(from, proto, p, lost)
				}})
				var mu sync.Mutex
				n := 0
				runScript(b, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xac)}, func(s *script, p ppp.Packet) {
					s.end.Send(ppp.ProtoIPv6CP, ppp.CodeConfReq, 1, opts(t, ppp.InterfaceID{2, 0, 0, 0, 0, 0, 0, 2}))
				}, func(s *script, p ppp.Packet) {
					switch {
					case p.Protocol == ppp.ProtoIPv6CP && p.Code == ppp.CodeConfReq:
						s.end.Send(ppp.ProtoIPv6CP, ppp.CodeConfAck, p.ID, p.Data)
					case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeEchoReq && tt.answer != nil:
						mu.Lock()
						ok := tt.answer(n)
						n++
						mu.Unlock()
						if ok {
							s.end.Send(ppp.ProtoLCP, ppp.CodeEchoRep, p.ID, be32(0xac))
						}
					}
				}))
				cfg := serverConfig(ppp.AuthNone, false, true, nil)
				cfg.EchoTimeout, cfg.EchoQuiet, cfg.EchoRepeat = tt.timeout, tt.quiet, tt.repeat
				until := &atomic.Pointer[time.Time]{}
				srv := start(cfg, dataUntil{End: a, until: until})
				synctest.Wait()
				if _, ok := find[ppp.IPv6Up](srv.rec); !ok {
					t.Fatalf("not up: %s", kinds(srv.rec))
				}
				echoes.reset()
				terms.reset()
				t0 := time.Now()
				if tt.data > 0 {
					u := t0.Add(tt.data)
					until.Store(&u)
				}
				if tt.frame > 0 {
					go func() {
						time.Sleep(tt.frame)
						b.Send(ppp.ProtoLCP, ppp.CodeDiscardReq, 1, be32(0xac))
					}()
				}
				if tt.dead > 0 {
					d := srv.wait(t)
					if took := time.Since(t0); took != tt.dead {
						t.Errorf("dead after %v, want %v", took, tt.dead)
					}
					if want := fmt.Sprintf("nothing received for %v", tt.timeout); d.Reason != ppp.ReasonPeerDead || d.Detail != want {
						t.Errorf("down %v, want peer dead: %s", d, want)
					}
					if got := echoes.times(); !sameTimes(got, tt.echoes) {
						t.Errorf("echoes at %v, want %v", got, tt.echoes)
					}
					if got := terms.times(); !sameTimes(got, []time.Duration{tt.dead}) {
						t.Errorf("Terminate-Requests at %v, want one at %v", got, tt.dead)
					}
					return
				}
				time.Sleep(10*time.Minute + time.Second)
				if d, down := find[ppp.Down](srv.rec); down {
					t.Fatalf("down: %+v", d)
				}
				e := echoes.times()
				if len(e) != tt.count || len(e) < len(tt.echoes) || !sameTimes(e[:len(tt.echoes)], tt.echoes) {
					t.Errorf("%d echoes, first at %v; want %d, first at %v", len(e), e[:min(len(e), len(tt.echoes)+2)], tt.count, tt.echoes)
				}
				srv.s.Close("")
				srv.wait(t)
			})
		})
	}
}
