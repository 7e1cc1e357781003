package ppp_test

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// These tests run sessions inside synctest bubbles: timers use a fake clock
// that only moves when every goroutine waits, so a 30 s timeout takes no
// real time, and a negotiation that needed no timer ends at fake time 0.

var (
	acAddr     = netip.MustParseAddr("10.64.0.1")
	clientAddr = netip.MustParseAddr("10.64.0.2")
	dns1       = netip.MustParseAddr("10.64.0.53")
	dns2       = netip.MustParseAddr("10.64.0.54")
)

// recorder collects a session's events.
type recorder struct {
	mu     sync.Mutex
	events []ppp.Event
}

func (r *recorder) on(e ppp.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

func (r *recorder) all() []ppp.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]ppp.Event(nil), r.events...)
}

// find returns the first event of type T.
func find[T ppp.Event](r *recorder) (T, bool) {
	for _, e := range r.all() {
		if v, ok := e.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

func kinds(r *recorder) string {
	var s []string
	for _, e := range r.all() {
		s = append(s, strings.TrimPrefix(fmt.Sprintf("%T", e), "ppp."))
	}
	return strings.Join(s, ",")
}

type run struct {
	s    *ppp.Session
	rec  *recorder
	done chan error
}

func start(cfg ppp.Config, link ppp.Link) *run {
	r := &run{rec: &recorder{}, done: make(chan error, 1)}
	cfg.OnEvent = r.rec.on
	r.s = ppp.NewSession(link, cfg)
	go func() { r.done <- r.s.Run(context.Background()) }()
	return r
}

// wait returns why the session ended. A session still up after a day (of
// fake time, in a bubble) fails the test instead of hanging it: a broken
// bound (say, a counter that never reaches its limit) is then a failure
// like any other.
func (r *run) wait(t *testing.T) *ppp.DownError {
	t.Helper()
	return r.waitFor(t, 24*time.Hour)
}

// waitFor is wait with a bound of d (fake time in a bubble): a session
// still up by then fails the test and is closed.
func (r *run) waitFor(t *testing.T, d time.Duration) *ppp.DownError {
	t.Helper()
	var err error
	select {
	case err = <-r.done:
	case <-time.After(d):
		t.Errorf("still up after %v: %s", d, kinds(r.rec))
		r.s.Close("the test gave up")
		err = <-r.done
	}
	de, ok := err.(*ppp.DownError)
	if !ok {
		t.Fatalf("Run returned %T %v, want *ppp.DownError", err, err)
	}
	return de
}

func serverConfig(m ppp.AuthMethod, v4, v6 bool, pool *ppptest.Pool) ppp.Config {
	c := ppp.Config{Role: ppp.RoleServer, Name: "lab-ac", Secrets: ppp.Secrets{"user1": "pass1", `CORP\bob`: "pw"}}
	if m != ppp.AuthNone {
		c.Require = []ppp.AuthMethod{m}
	}
	if v4 {
		c.IPv4 = &ppp.IPv4Config{Local: acAddr, Pool: pool, DNS: []netip.Addr{dns1, dns2}}
	}
	if v6 {
		c.IPv6 = &ppp.IPv6Config{}
	}
	return c
}

func clientConfig(v4, v6 bool) ppp.Config {
	c := ppp.Config{User: "user1", Password: "pass1"}
	if v4 {
		c.IPv4 = &ppp.IPv4Config{RequestDNS: true}
	}
	if v6 {
		c.IPv6 = &ppp.IPv6Config{}
	}
	return c
}

// Our client against our server, for every authentication method and every
// mix of NCPs: both NCPs come up with no timer having fired (every step was
// driven by a packet), the addresses and DNS are as configured, and a
// close takes both sides down cleanly.
func TestClientServer(t *testing.T) {
	methods := []ppp.AuthMethod{ppp.AuthNone, ppp.AuthPAP, ppp.AuthCHAPMD5, ppp.AuthMSCHAPv1, ppp.AuthMSCHAPv2}
	ncps := []struct {
		name   string
		v4, v6 bool
	}{{"ipv4", true, false}, {"ipv6", false, true}, {"both", true, true}}
	for _, m := range methods {
		for _, n := range ncps {
			t.Run(m.String()+"/"+n.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					pool := ppptest.NewPool(clientAddr, 4)
					a, b := ppptest.Pipe(ppptest.Config{})
					t0 := time.Now()
					srv := start(serverConfig(m, n.v4, n.v6, pool), b)
					cli := start(clientConfig(n.v4, n.v6), a)
					synctest.Wait() // both sessions idle: negotiation is over
					if d := time.Since(t0); d != 0 {
						t.Errorf("negotiation took %v of fake time: a timer fired", d)
					}
					for _, side := range []*run{cli, srv} {
						if _, ok := find[ppp.LinkUp](side.rec); !ok {
							t.Fatalf("no LinkUp: %s", kinds(side.rec))
						}
						up4, ok4 := find[ppp.IPv4Up](side.rec)
						up6, ok6 := find[ppp.IPv6Up](side.rec)
						if ok4 != n.v4 || ok6 != n.v6 {
							t.Fatalf("events %s, want IPv4 %v IPv6 %v", kinds(side.rec), n.v4, n.v6)
						}
						if ok6 && (up6.Local == up6.Peer || up6.Local == (ppp.InterfaceID{}) || up6.Peer == (ppp.InterfaceID{})) {
							t.Errorf("interface ids %x %x", up6.Local, up6.Peer)
						}
						_ = up4
					}
					if up, ok := find[ppp.IPv4Up](cli.rec); ok {
						want := ppp.IPv4Up{Local: clientAddr, Peer: acAddr, DNS: []netip.Addr{dns1, dns2}}
						if !reflect.DeepEqual(up, want) {
							t.Errorf("client IPv4Up = %+v, want %+v", up, want)
						}
						sup, _ := find[ppp.IPv4Up](srv.rec)
						if sup.Local != acAddr || sup.Peer != clientAddr || sup.DNS != nil {
							t.Errorf("server IPv4Up = %+v", sup)
						}
					}
					c6, _ := find[ppp.IPv6Up](cli.rec)
					s6, _ := find[ppp.IPv6Up](srv.rec)
					if c6.Local != s6.Peer || c6.Peer != s6.Local {
						t.Errorf("IPv6 ids disagree: client %+v server %+v", c6, s6)
					}
					if m != ppp.AuthNone {
						au, ok := find[ppp.Authenticated](srv.rec)
						if !ok || au.Peer != "user1" {
							t.Errorf("server Authenticated = %+v, %v", au, ok)
						}
						// The client knows the authenticator by the name
						// in its Challenge; PAP names none.
						want := "lab-ac"
						if m == ppp.AuthPAP {
							want = ""
						}
						if au, ok := find[ppp.Authenticated](cli.rec); !ok || au.Peer != want {
							t.Errorf("client Authenticated = %+v, %v; want Peer %q", au, ok, want)
						}
					}
					lu, _ := find[ppp.LinkUp](cli.rec)
					if lu.MRU != 1492 || lu.MTU != 1492 || lu.Magic == 0 || lu.PeerMagic == 0 {
						t.Errorf("client LinkUp = %+v", lu)
					}
					if cli.s.Stats().TimerExpiries != 0 || srv.s.Stats().TimerExpiries != 0 {
						t.Errorf("timer expiries: client %d, server %d", cli.s.Stats().TimerExpiries, srv.s.Stats().TimerExpiries)
					}

					cli.s.Close("User request")
					cd, sd := cli.wait(t), srv.wait(t)
					if cd.Reason != ppp.ReasonLocalClose || sd.Reason != ppp.ReasonPeerTerminated || sd.Detail != `User request` {
						t.Errorf("down: client %v, server %v", cd, sd)
					}
					if pool.InUse() != 0 {
						t.Errorf("the server did not release the client's address")
					}
					last := cli.rec.all()[len(cli.rec.all())-1]
					if _, ok := last.(ppp.Down); !ok {
						t.Errorf("last client event %T, want Down", last)
					}
				})
			})
		}
	}
}

// An authenticator with no Name configured calls itself "pppoed" in its
// Challenges.
func TestDefaultAuthenticatorName(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		scfg := serverConfig(ppp.AuthCHAPMD5, false, true, nil)
		scfg.Name = ""
		srv := start(scfg, b)
		cli := start(clientConfig(false, true), a)
		synctest.Wait()
		if au, ok := find[ppp.Authenticated](cli.rec); !ok || au.Peer != "pppoed" {
			t.Errorf("client Authenticated = %+v, %v; want Peer \"pppoed\"", au, ok)
		}
		cli.s.Close("")
		cli.wait(t)
		srv.wait(t)
	})
}

// NCPs that one side does not run are rejected and the other carries on.
func TestProtocolRejectOfOneNCP(t *testing.T) {
	tests := []struct {
		name         string
		cli4, cli6   bool
		srv4, srv6   bool
		want4, want6 bool
		wantDown     bool
	}{
		{"server without IPv6", true, true, true, false, true, false, false},
		{"server without IPv4", true, true, false, true, false, true, false},
		{"client without IPv6", true, false, true, true, true, false, false},
		{"nothing in common", true, false, false, true, false, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				srv := start(serverConfig(ppp.AuthCHAPMD5, tt.srv4, tt.srv6, ppptest.NewPool(clientAddr, 1)), b)
				cli := start(clientConfig(tt.cli4, tt.cli6), a)
				synctest.Wait()
				_, got4 := find[ppp.IPv4Up](cli.rec)
				_, got6 := find[ppp.IPv6Up](cli.rec)
				if got4 != tt.want4 || got6 != tt.want6 {
					t.Errorf("client events %s", kinds(cli.rec))
				}
				if tt.wantDown {
					want := "No network protocols running (IPCP: the peer sent a Protocol-Reject of IPCP)"
					if d := cli.wait(t); d.Reason != ppp.ReasonNoNetworkProtocols || d.Detail != want {
						t.Errorf("client down %v, want no network protocols: %s", d, want)
					}
					srv.wait(t)
					return
				}
				if _, down := find[ppp.Down](cli.rec); down {
					t.Fatalf("session went down: %s", kinds(cli.rec))
				}
				cli.s.Close("bye")
				cli.wait(t)
				srv.wait(t)
			})
		})
	}
}

func TestWrongPassword(t *testing.T) {
	for _, m := range []ppp.AuthMethod{ppp.AuthPAP, ppp.AuthCHAPMD5, ppp.AuthMSCHAPv1, ppp.AuthMSCHAPv2} {
		t.Run(m.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				pool := ppptest.NewPool(clientAddr, 1)
				srv := start(serverConfig(m, true, false, pool), b)
				ccfg := clientConfig(true, false)
				ccfg.Password = "wrong"
				cli := start(ccfg, a)
				cd, sd := cli.wait(t), srv.wait(t)
				if cd.Reason != ppp.ReasonAuthFailed || sd.Reason != ppp.ReasonPeerAuthFailed {
					t.Fatalf("down: client %v, server %v", cd, sd)
				}
				// The authenticator's words reach the user.
				want := map[ppp.AuthMethod]string{
					ppp.AuthPAP:      "Login incorrect",
					ppp.AuthCHAPMD5:  "Access denied",
					ppp.AuthMSCHAPv1: "E=691 R=0 (authentication failure)",
					ppp.AuthMSCHAPv2: "V=3 M=Access denied (authentication failure)",
				}[m]
				if !strings.Contains(cd.Error(), want) || !strings.HasPrefix(cd.Error(), "ppp: authentication failed: ") {
					t.Errorf("client error %q lacks %q", cd.Error(), want)
				}
				if strings.Contains(cd.Error()+sd.Error(), "pass1") || strings.Contains(cd.Error()+sd.Error(), "wrong") {
					t.Errorf("a password leaked into an error: %q %q", cd, sd)
				}
				if _, ok := find[ppp.IPv4Up](cli.rec); ok {
					t.Error("IPCP came up without authentication")
				}
				if pool.InUse() != 0 {
					t.Error("address not released")
				}
			})
		})
	}
}

// A user name with a domain prefix authenticates with MS-CHAPv2: the
// domain is not hashed (RFC 2759 §8.2), on either side.
func TestMSCHAPv2Domain(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		srv := start(serverConfig(ppp.AuthMSCHAPv2, true, false, ppptest.NewPool(clientAddr, 1)), b)
		ccfg := clientConfig(true, false)
		ccfg.User, ccfg.Password = `CORP\bob`, "pw"
		cli := start(ccfg, a)
		synctest.Wait()
		if _, ok := find[ppp.IPv4Up](cli.rec); !ok {
			t.Fatalf("not up: %s", kinds(cli.rec))
		}
		cli.s.Close("")
		cli.wait(t)
		srv.wait(t)
	})
}

// Auth negotiation: the client accepts what it allows and Naks the rest
// with its own preference; the server follows a Nak within its list.
func TestAuthNegotiation(t *testing.T) {
	tests := []struct {
		name    string
		require []ppp.AuthMethod
		allow   []ppp.AuthMethod
		want    string // "" for a failure
	}{
		{"server's first choice", []ppp.AuthMethod{ppp.AuthMSCHAPv2, ppp.AuthPAP}, nil, "mschap2"},
		{"client refuses the first", []ppp.AuthMethod{ppp.AuthMSCHAPv2, ppp.AuthCHAPMD5}, []ppp.AuthMethod{ppp.AuthCHAPMD5}, "chap"},
		{"client suggests one not first", []ppp.AuthMethod{ppp.AuthPAP, ppp.AuthMSCHAPv1}, []ppp.AuthMethod{ppp.AuthMSCHAPv1}, "mschap1"},
		{"nothing in common", []ppp.AuthMethod{ppp.AuthPAP}, []ppp.AuthMethod{ppp.AuthMSCHAPv2}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				scfg := serverConfig(ppp.AuthNone, true, false, ppptest.NewPool(clientAddr, 1))
				scfg.Require = tt.require
				var logs strings.Builder
				scfg.Logger = textLogger(&logs)
				srv := start(scfg, b)
				ccfg := clientConfig(true, false)
				ccfg.Allow = tt.allow
				cli := start(ccfg, a)
				synctest.Wait()
				if tt.want == "" {
					sd := srv.wait(t)
					if sd.Reason != ppp.ReasonPeerAuthFailed || !strings.Contains(sd.Detail, "refused") {
						t.Errorf("server down %v, want the peer refusing authentication", sd)
					}
					cli.wait(t)
					return
				}
				if _, ok := find[ppp.IPv4Up](cli.rec); !ok {
					t.Fatalf("not up: %s", kinds(cli.rec))
				}
				if !strings.Contains(logs.String(), "method="+tt.want) {
					t.Errorf("server did not authenticate with %s:\n%s", tt.want, logs.String())
				}
				cli.s.Close("")
				cli.wait(t)
				srv.wait(t)
			})
		})
	}
}

// Loss, duplication and delay only slow negotiation down: with 30% loss
// both NCPs still come up, by retransmissions.
func TestLossyLink(t *testing.T) {
	for seed := uint64(1); seed <= 8; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{Loss: 0.3, Duplicate: 0.2, Delay: 20 * time.Millisecond, Seed: seed})
				srv := start(serverConfig(ppp.AuthMSCHAPv2, true, true, ppptest.NewPool(clientAddr, 1)), b)
				cli := start(clientConfig(true, true), a)
				deadline := time.Now().Add(5 * time.Minute)
				for time.Now().Before(deadline) {
					_, up4 := find[ppp.IPv4Up](cli.rec)
					_, up6 := find[ppp.IPv6Up](cli.rec)
					_, down := find[ppp.Down](cli.rec)
					if up4 && up6 || down {
						break
					}
					time.Sleep(100 * time.Millisecond)
				}
				_, up4 := find[ppp.IPv4Up](cli.rec)
				_, up6 := find[ppp.IPv6Up](cli.rec)
				if !up4 || !up6 {
					t.Fatalf("not up after loss: %s", kinds(cli.rec))
				}
				cli.s.Close("")
				cli.wait(t)
				srv.wait(t)
			})
		})
	}
}

// The peer hanging up (PADT, EOF) ends the session as link lost.
func TestLinkLost(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		srv := start(serverConfig(ppp.AuthCHAPMD5, true, false, ppptest.NewPool(clientAddr, 1)), b)
		cli := start(clientConfig(true, false), a)
		synctest.Wait()
		b.Close()
		if d := cli.wait(t); d.Reason != ppp.ReasonLinkLost {
			t.Errorf("client down %v, want link lost", d)
		}
		srv.wait(t)
		if _, ok := find[ppp.IPv4Down](cli.rec); !ok {
			t.Errorf("no IPv4Down before Down: %s", kinds(cli.rec))
		}
	})
}

// Keepalives: a silent peer is declared dead after the configured number
// of unanswered echoes; a live one is not.
func TestEchoKeepalive(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		silent := false
		a, b := ppptest.Pipe(ppptest.Config{Drop: func(from string, _ ppp.Protocol, _ []byte) bool {
			mu.Lock()
			defer mu.Unlock()
			return silent && from == "b"
		}})
		srv := start(serverConfig(ppp.AuthNone, true, false, ppptest.NewPool(clientAddr, 1)), b)
		ccfg := clientConfig(true, false)
		ccfg.EchoInterval, ccfg.EchoFailures = 10*time.Second, 3
		cli := start(ccfg, a)
		synctest.Wait()
		time.Sleep(time.Minute) // echoes answered: still up
		if _, down := find[ppp.Down](cli.rec); down {
			t.Fatalf("down with a live peer: %s", kinds(cli.rec))
		}
		mu.Lock()
		silent = true
		mu.Unlock()
		t0 := time.Now()
		d := cli.wait(t)
		if d.Reason != ppp.ReasonPeerDead || !strings.Contains(d.Detail, "3 echo-requests") {
			t.Errorf("client down %v, want peer dead", d)
		}
		// 3 unanswered echoes, then the fourth tick gives up; then the
		// Terminate-Requests (2 x 3 s) go unanswered too.
		if took := time.Since(t0); took < 30*time.Second || took > 50*time.Second {
			t.Errorf("declared dead after %v", took)
		}
		srv.s.Close("")
		srv.wait(t)
	})
}

// ctx ending is an administrative close.
func TestContextCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		srv := start(serverConfig(ppp.AuthPAP, true, false, ppptest.NewPool(clientAddr, 1)), b)
		ctx, cancel := context.WithCancel(context.Background())
		cs := ppp.NewSession(a, clientConfig(true, false))
		done := make(chan error, 1)
		go func() { done <- cs.Run(ctx) }()
		synctest.Wait()
		cancel()
		err := <-done
		if d, ok := err.(*ppp.DownError); !ok || d.Reason != ppp.ReasonLocalClose {
			t.Errorf("Run = %v, want a local close", err)
		}
		if d := srv.wait(t); d.Reason != ppp.ReasonPeerTerminated {
			t.Errorf("server down %v", d)
		}
	})
}

// idleLink reports data traffic the way the kernel unit does.
type idleLink struct {
	*ppptest.End
	idle time.Duration
}

func (l idleLink) ReceiveIdle() time.Duration { return l.idle }

// Adaptive keepalives send no echo while data arrives within the
// interval: a peer that stops answering echoes but keeps sending data is
// alive. Data last heard a whole interval ago does not count.
func TestEchoAdaptive(t *testing.T) {
	tests := []struct {
		idle time.Duration // the kernel's receive idle time, interval 5 s
		dead bool
	}{{time.Second, false}, {5*time.Second - time.Millisecond, false}, {5 * time.Second, true}}
	for _, tt := range tests {
		t.Run(tt.idle.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				echoes := 0
				a, b := ppptest.Pipe(ppptest.Config{Tap: func(from string, proto ppp.Protocol, p []byte, _ bool) {
					if from == "a" && proto == ppp.ProtoLCP && len(p) > 0 && ppp.Code(p[0]) == ppp.CodeEchoReq {
						mu.Lock()
						echoes++
						mu.Unlock()
					}
				}, Drop: func(from string, proto ppp.Protocol, p []byte) bool {
					return from == "b" && proto == ppp.ProtoLCP && len(p) > 0 && ppp.Code(p[0]) == ppp.CodeEchoRep
				}})
				srv := start(serverConfig(ppp.AuthNone, true, false, ppptest.NewPool(clientAddr, 1)), b)
				ccfg := clientConfig(true, false)
				ccfg.EchoInterval, ccfg.EchoFailures, ccfg.EchoAdaptive = 5*time.Second, 2, true
				cli := start(ccfg, idleLink{End: a, idle: tt.idle})
				synctest.Wait()
				time.Sleep(10 * time.Minute)
				mu.Lock()
				n := echoes
				mu.Unlock()
				if !tt.dead {
					if _, down := find[ppp.Down](cli.rec); down {
						t.Fatalf("an active peer was declared dead: %s", kinds(cli.rec))
					}
					if n != 0 {
						t.Errorf("%d echoes sent while data flowed", n)
					}
					cli.s.Close("")
				} else if n != 2 {
					t.Errorf("%d echoes sent, want 2", n)
				}
				d := cli.wait(t)
				if tt.dead && d.Reason != ppp.ReasonPeerDead {
					t.Errorf("down %v, want peer dead", d)
				}
				srv.wait(t)
			})
		})
	}
}

// A peer that Code-Rejects our Echo-Requests turns keepalives off instead
// of being declared dead (RXJ+).
func TestEchoCodeRejected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		runScript(b, acScript(t, ppp.AuthProtocol{Protocol: ppp.ProtoPAP}, func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == ppp.ProtoPAP && p.Code == ppp.CodePAPAuthReq:
				d, _ := ppp.PAPResponse{}.Append(nil)
				s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthAck, p.ID, d)
				s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 1, opts(t, ppp.IPAddress(acAddr)))
			case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfReq:
				s.end.Send(ppp.ProtoIPCP, ppp.CodeConfAck, p.ID, p.Data)
			}
		}))
		// acScript ignores echo requests; answer them with Code-Rejects.
		ccfg := clientConfig(true, false)
		ccfg.IPv4.Local = clientAddr
		ccfg.EchoInterval, ccfg.EchoFailures = 5*time.Second, 2
		var mu sync.Mutex
		rejected := false
		cli := start(ccfg, echoRejecter{End: a, peer: b, mu: &mu, done: &rejected})
		time.Sleep(10 * time.Minute)
		if d, down := find[ppp.Down](cli.rec); down {
			t.Fatalf("down: %v", d)
		}
		mu.Lock()
		defer mu.Unlock()
		if !rejected {
			t.Fatal("no echo was sent, so none was rejected")
		}
		cli.s.Close("")
		cli.wait(t)
	})
}

// echoRejecter answers every Echo-Request the client writes with a
// Code-Reject from the peer's end.
type echoRejecter struct {
	*ppptest.End
	peer *ppptest.End
	mu   *sync.Mutex
	done *bool
}

func (e echoRejecter) WriteFrame(proto ppp.Protocol, p []byte) error {
	if proto == ppp.ProtoLCP && len(p) > 0 && ppp.Code(p[0]) == ppp.CodeEchoReq {
		e.mu.Lock()
		*e.done = true
		e.mu.Unlock()
		return e.peer.Send(ppp.ProtoLCP, ppp.CodeCodeRej, 200, p)
	}
	return e.End.WriteFrame(proto, p)
}

// gateLink's ReadFrame, once the pipe is closed, returns only when the
// test opens the gate: a link slow to let its reader go.
type gateLink struct {
	*ppptest.End
	gate     chan struct{}
	returned chan struct{}
}

func (l gateLink) ReadFrame() (ppp.Protocol, []byte, error) {
	proto, b, err := l.End.ReadFrame()
	if err != nil {
		<-l.gate
		close(l.returned)
	}
	return proto, b, err
}

// Run returns only once its reader goroutine is done with the link: a
// caller may reuse or free the link then, and leak checks see nothing.
func TestRunWaitsForReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, _ := ppptest.Pipe(ppptest.Config{})
		link := gateLink{End: a, gate: make(chan struct{}), returned: make(chan struct{})}
		cli := start(clientConfig(true, false), link)
		synctest.Wait()
		cli.s.Close("bye") // the peer is silent: Max-Terminate times out
		time.Sleep(time.Minute)
		select {
		case err := <-cli.done:
			t.Fatalf("Run returned (%v) while its reader was still in ReadFrame", err)
		default:
		}
		close(link.gate)
		if d := cli.wait(t); d.Reason != ppp.ReasonLocalClose {
			t.Errorf("down %v", d)
		}
		select {
		case <-link.returned:
		default:
			t.Error("Run returned before ReadFrame did")
		}
	})
}

// CHAPPassword picks the password by the challenger's name (pppd's
// chap_respond over chap-secrets): Password then does not serve CHAP, the
// MS-CHAPv2 authenticator's response is checked against the password
// used, and a lookup error fails the authentication locally, its text in
// the Down detail.
func TestCHAPPasswordByChallengerName(t *testing.T) {
	for _, m := range []ppp.AuthMethod{ppp.AuthCHAPMD5, ppp.AuthMSCHAPv1, ppp.AuthMSCHAPv2} {
		t.Run(m.String(), func(t *testing.T) {
			for _, lookupFails := range []bool{false, true} {
				synctest.Test(t, func(t *testing.T) {
					a, b := ppptest.Pipe(ppptest.Config{})
					srv := start(serverConfig(m, true, false, ppptest.NewPool(clientAddr, 1)), b)
					ccfg := clientConfig(true, false)
					ccfg.Password = "not this one"
					var names []string
					ccfg.CHAPPassword = func(name []byte) (string, error) {
						names = append(names, string(name))
						if lookupFails {
							return "", errors.New("no CHAP secret for user1 to lab-ac")
						}
						if string(name) == "lab-ac" {
							return "pass1", nil
						}
						return "other", nil
					}
					cli := start(ccfg, a)
					synctest.Wait()
					if len(names) == 0 || names[0] != "lab-ac" {
						t.Fatalf("looked up %q, want the challenger's name lab-ac", names)
					}
					if lookupFails {
						cd := cli.wait(t)
						if cd.Reason != ppp.ReasonAuthFailed || !strings.Contains(cd.Detail, "no CHAP secret") {
							t.Fatalf("client down %v", cd)
						}
						srv.wait(t)
						return
					}
					if _, ok := find[ppp.IPv4Up](cli.rec); !ok {
						t.Fatalf("not up: %s", kinds(cli.rec))
					}
					cli.s.Close("")
					cli.wait(t)
					srv.wait(t)
				})
			}
		})
	}
}

// Each answered keepalive reports its round trip (EchoRTT): on a link
// that delays each frame 30 ms, 60 ms.
func TestEchoRTT(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{Delay: 30 * time.Millisecond})
		srv := start(serverConfig(ppp.AuthNone, true, false, ppptest.NewPool(clientAddr, 1)), b)
		ccfg := clientConfig(true, false)
		ccfg.EchoInterval, ccfg.EchoFailures = 10*time.Second, 3
		cli := start(ccfg, a)
		time.Sleep(25 * time.Second)
		synctest.Wait()
		var rtts []time.Duration
		for _, e := range cli.rec.all() {
			if r, ok := e.(ppp.EchoRTT); ok {
				rtts = append(rtts, r.RTT)
			}
		}
		if len(rtts) != 2 || rtts[0] != 60*time.Millisecond || rtts[1] != 60*time.Millisecond {
			t.Errorf("round trips %v, want two of 60ms", rtts)
		}
		cli.s.Close("")
		cli.wait(t)
		srv.wait(t)
	})
}
