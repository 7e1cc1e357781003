package ppp_test

import (
	"bytes"
	"errors"
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

// The authenticator's Authorize hook (Config.Authorize): the AC's say,
// once the peer's credentials are good, over whether it gets the session
// and with which addresses.

// countingPool is an AddressPool of n consecutive addresses that counts
// what is allocated and released, per address, and fails a release of an
// address it did not hand out or already has back.
type countingPool struct {
	mu       sync.Mutex
	first    netip.Addr
	n        int
	out      map[netip.Addr]bool
	allocs   int
	releases int
	bad      []string // releases that were wrong
}

func newCountingPool(first netip.Addr, n int) *countingPool {
	return &countingPool{first: first, n: n, out: map[netip.Addr]bool{}}
}

func (p *countingPool) Allocate(string) (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.first
	for range p.n {
		if !p.out[a] {
			p.out[a] = true
			p.allocs++
			return a, nil
		}
		a = a.Next()
	}
	return netip.Addr{}, errors.New("counting pool: exhausted")
}

func (p *countingPool) Release(a netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.releases++
	if !p.out[a] {
		p.bad = append(p.bad, "released "+a.String()+", which was not out")
		return
	}
	delete(p.out, a)
}

// counts returns the allocations, releases, addresses still out and the
// wrong releases.
func (p *countingPool) counts() (allocs, releases, out int, bad []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.allocs, p.releases, len(p.out), append([]string(nil), p.bad...)
}

// authFrames records what one end sent, as bytes, and counts the
// authenticator's successes (PAP Authenticate-Ack, CHAP Success).
type authFrames struct {
	from      string
	mu        sync.Mutex
	frames    [][]byte
	successes int
}

func (f *authFrames) tap(from string, proto ppp.Protocol, p []byte, _ bool) {
	if from != f.from {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.frames = append(f.frames, append([]byte{byte(proto >> 8), byte(proto)}, p...))
	if len(p) > 0 && (proto == ppp.ProtoPAP && ppp.Code(p[0]) == ppp.CodePAPAuthAck || proto == ppp.ProtoCHAP && ppp.Code(p[0]) == ppp.CodeCHAPSuccess) {
		f.successes++
	}
}

func (f *authFrames) all() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.frames...)
}

func (f *authFrames) successCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.successes
}

var (
	profLocal = netip.MustParseAddr("10.99.0.1")
	profPool  = netip.MustParseAddr("10.99.0.10")
	profDNS   = netip.MustParseAddr("10.99.0.53")
	profFixed = netip.MustParseAddr("10.99.0.77")
)

// For each method: a peer whose credentials are good is put to
// Authorize before its Success or Ack goes out. What it grants is the
// session's IPCP: the server Naks the client's request over to the
// profile's address and hands out the profile's name servers, from the
// profile's pool (given back at the end, once) or its fixed address (no
// pool asked). A refusal looks to the client exactly as a wrong
// password or an unknown user does, byte for byte (the server's own
// reason reaches only its log and its Down detail); neither of those is
// ever put to Authorize. MS-CHAPv2's authenticator response still
// proves, to our client, that the server knows the password.
func TestAuthorize(t *testing.T) {
	methods := []ppp.AuthMethod{ppp.AuthPAP, ppp.AuthCHAPMD5, ppp.AuthMSCHAPv1, ppp.AuthMSCHAPv2}
	const secretReason = "user1 has a session already (shard 7 of the session table)"
	tests := []struct {
		name string
		user string // default user1
		pass string // default pass1
		// noPass: the client's password is empty, which an unknown
		// user's lookup also gives.
		noPass bool
		// grant is what Authorize returns, given the profile's pool.
		grant func(pool ppp.AddressPool) (*ppp.Authorization, error)
		calls int // of Authorize
		// up: the client's IPv4Up; zero: the session is refused.
		up ppp.IPv4Up
		// nak: the server's IPCP Configure-Nak of the client's first
		// request.
		nak []ppp.Option
		// profile: what the profile's pool is left with (allocations,
		// releases) once the session is over; the default pool is never
		// asked when a profile's is granted.
		allocs int
	}{{
		name: "granted with the profile's pool and name server",
		grant: func(pool ppp.AddressPool) (*ppp.Authorization, error) {
			return &ppp.Authorization{IPv4: &ppp.IPv4Config{Local: profLocal, Pool: pool, DNS: []netip.Addr{profDNS}}}, nil
		},
		calls:  1,
		up:     ppp.IPv4Up{Local: profPool, Peer: profLocal, DNS: []netip.Addr{profDNS}},
		nak:    []ppp.Option{ppp.IPAddress(profPool), ppp.PrimaryDNS(profDNS)},
		allocs: 1,
	}, {
		// The fixed address wins over a pool given with it, which is
		// then never asked, nor given the address back.
		name: "granted with a fixed address",
		grant: func(pool ppp.AddressPool) (*ppp.Authorization, error) {
			return &ppp.Authorization{IPv4: &ppp.IPv4Config{Local: profLocal, Remote: profFixed, Pool: pool}}, nil
		},
		calls: 1,
		up:    ppp.IPv4Up{Local: profFixed, Peer: profLocal},
		nak:   []ppp.Option{ppp.IPAddress(profFixed)},
	}, {
		name:  "granted as configured",
		grant: func(ppp.AddressPool) (*ppp.Authorization, error) { return nil, nil },
		calls: 1,
		up:    ppp.IPv4Up{Local: clientAddr, Peer: acAddr, DNS: []netip.Addr{dns1, dns2}},
		nak:   []ppp.Option{ppp.IPAddress(clientAddr), ppp.PrimaryDNS(dns1), ppp.SecondaryDNS(dns2)},
	}, {
		name:  "refused",
		grant: func(ppp.AddressPool) (*ppp.Authorization, error) { return nil, errors.New(secretReason) },
		calls: 1,
	}, {
		name:  "wrong password",
		pass:  "wrong",
		grant: func(ppp.AddressPool) (*ppp.Authorization, error) { return &ppp.Authorization{}, nil },
	}, {
		name:  "unknown user",
		user:  "nobody",
		grant: func(ppp.AddressPool) (*ppp.Authorization, error) { return &ppp.Authorization{}, nil },
	}, {
		name:   "unknown user, empty password",
		user:   "nobody",
		noPass: true,
		grant:  func(ppp.AddressPool) (*ppp.Authorization, error) { return &ppp.Authorization{}, nil },
	}}
	for _, m := range methods {
		// What the server sent when it refused the session, per case:
		// every refusal must be the same on the wire.
		refusals := map[string][][]byte{}
		for _, tt := range tests {
			t.Run(m.String()+"/"+tt.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					sent := &authFrames{from: "b"}
					a, b := ppptest.Pipe(ppptest.Config{Tap: sent.tap})
					defPool := newCountingPool(clientAddr, 4)
					profile := newCountingPool(profPool, 4)
					var calls []string
					var successesBefore []int
					scfg := serverConfig(m, true, false, nil)
					scfg.IPv4.Pool = defPool
					scfg.Rand = &countingRand{}
					var logs strings.Builder
					scfg.Logger = textLogger(&logs)
					scfg.Authorize = func(peer string) (*ppp.Authorization, error) {
						calls = append(calls, peer)
						successesBefore = append(successesBefore, sent.successCount())
						return tt.grant(profile)
					}
					srv := start(scfg, b)
					ccfg := clientConfig(true, false)
					ccfg.Rand = &countingRand{n: 100} // not the server's magic numbers
					if tt.user != "" {
						ccfg.User = tt.user
					}
					if tt.pass != "" {
						ccfg.Password = tt.pass
					}
					if tt.noPass {
						ccfg.Password = ""
					}
					cli := start(ccfg, a)
					synctest.Wait()
					if len(calls) != tt.calls {
						t.Errorf("Authorize called %d times (%q), want %d", len(calls), calls, tt.calls)
					}
					if tt.calls > 0 && len(calls) > 0 && (calls[0] != "user1" || successesBefore[0] != 0) {
						t.Errorf("Authorize(%q) after %d successes sent, want Authorize(\"user1\") before any", calls[0], successesBefore[0])
					}
					if !tt.up.Local.IsValid() {
						cd, sd := cli.wait(t), srv.wait(t)
						if cd.Reason != ppp.ReasonAuthFailed || sd.Reason != ppp.ReasonPeerAuthFailed {
							t.Fatalf("down: client %v, server %v", cd, sd)
						}
						if tt.calls > 0 {
							want := m.String() + ` authentication of "user1" refused: ` + secretReason
							if sd.Detail != want {
								t.Errorf("server detail %q, want %q", sd.Detail, want)
							}
							if !strings.Contains(logs.String(), secretReason) {
								t.Errorf("the refusal's reason is not in the log:\n%s", logs.String())
							}
						}
						if strings.Contains(cd.Error(), "shard") {
							t.Errorf("the client learnt the server's reason: %v", cd)
						}
						for _, f := range sent.all() {
							if bytes.Contains(f, []byte("shard")) {
								t.Errorf("the server's reason went on the wire: % x", f)
							}
						}
						if _, ok := find[ppp.IPv4Up](cli.rec); ok {
							t.Error("IPCP came up")
						}
						refusals[tt.name] = sent.all()
					} else {
						up, ok := find[ppp.IPv4Up](cli.rec)
						if !ok || !reflect.DeepEqual(up, tt.up) {
							t.Errorf("client IPv4Up = %+v (%s), want %+v", up, kinds(cli.rec), tt.up)
						}
						sup, _ := find[ppp.IPv4Up](srv.rec)
						if sup.Local != tt.up.Peer || sup.Peer != tt.up.Local {
							t.Errorf("server IPv4Up = %+v", sup)
						}
						if got := firstIPCPNak(t, sent.all()); !reflect.DeepEqual(got, tt.nak) {
							t.Errorf("server's IPCP Nak %v, want %v", got, tt.nak)
						}
						cli.s.Close("")
						cli.wait(t)
						srv.wait(t)
					}
					if pa, pr, out, bad := profile.counts(); pa != tt.allocs || pr != tt.allocs || out != 0 || bad != nil {
						t.Errorf("profile pool: %d allocated, %d released, %d out, %q; want %d and %d", pa, pr, out, bad, tt.allocs, tt.allocs)
					}
					wantDef := 0
					if tt.up.Peer == acAddr {
						wantDef = 1
					}
					if da, dr, out, bad := defPool.counts(); da != wantDef || dr != wantDef || out != 0 || bad != nil {
						t.Errorf("default pool: %d allocated, %d released, %d out, %q; want %d each", da, dr, out, bad, wantDef)
					}
				})
			})
		}
		t.Run(m.String()+"/refusals alike", func(t *testing.T) {
			want := refusals["wrong password"]
			if len(want) == 0 {
				t.Fatal("no wrong-password run recorded")
			}
			for _, name := range []string{"refused", "unknown user", "unknown user, empty password"} {
				if got := refusals[name]; !reflect.DeepEqual(got, want) {
					t.Errorf("%s: the server sent\n%s\nwant, as to a wrong password,\n%s", name, dump(got), dump(want))
				}
			}
		})
	}
}

func dump(frames [][]byte) string {
	var s []string
	for _, f := range frames {
		s = append(s, ppp.FormatFrame(f))
	}
	return strings.Join(s, "\n")
}

// firstIPCPNak is the options of the first IPCP Configure-Nak in frames.
func firstIPCPNak(t *testing.T, frames [][]byte) []ppp.Option {
	t.Helper()
	for _, f := range frames {
		if len(f) < 3 || ppp.Protocol(f[0])<<8|ppp.Protocol(f[1]) != ppp.ProtoIPCP || ppp.Code(f[2]) != ppp.CodeConfNak {
			continue
		}
		p, err := ppp.Parse(ppp.ProtoIPCP, f[2:])
		if err != nil {
			t.Fatal(err)
		}
		o, err := ppp.ParseOptions(ppp.ProtoIPCP, p.Data)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	return nil
}

// After an LCP renegotiation (RFC 1661 §3.5: authentication follows each
// Establish phase) the peer authenticates again, under the name it had:
// the first authorization stands and Authorize is not asked again (the
// session would count as its own second one). Another name, even with
// its own good password, is refused as a wrong password is.
func TestReauthenticationKeepsTheName(t *testing.T) {
	tests := []struct {
		name       string
		user, pass string // of the second authentication
		acks, naks int
		down       string // the server's Down detail; "": still up
	}{
		{name: "same name", user: "user1", pass: "pass1", acks: 2},
		{name: "another name", user: `CORP\bob`, pass: "pw", acks: 1, naks: 1,
			down: `pap authentication of "CORP\\bob" refused: the peer authenticated as "user1" earlier in the session`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				var mu sync.Mutex
				opened := 0
				sc := runScript(b, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xc1)}, func(s *script, _ ppp.Packet) {
					mu.Lock()
					opened++
					n := opened
					mu.Unlock()
					user, pass := "user1", "pass1"
					if n > 1 {
						user, pass = tt.user, tt.pass
					}
					d, _ := ppp.PAPRequest{PeerID: []byte(user), Password: []byte(pass)}.Append(nil)
					s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthReq, byte(n), d)
				}, func(s *script, p ppp.Packet) {
					if p.Code == ppp.CodeTermReq {
						s.end.Send(p.Protocol, ppp.CodeTermAck, p.ID, nil)
					}
				}))
				scfg := serverConfig(ppp.AuthPAP, false, true, nil)
				var calls []string
				scfg.Authorize = func(peer string) (*ppp.Authorization, error) {
					calls = append(calls, peer)
					return nil, nil
				}
				srv := start(scfg, a)
				synctest.Wait()
				if n := sc.count("PAP AuthAck"); n != 1 {
					srv.s.Close("")
					srv.wait(t)
					t.Fatalf("first authentication: %d Acks", n)
				}
				b.Send(ppp.ProtoLCP, ppp.CodeConfReq, 7, opts(t, ppp.MagicNumber(0xc2)))
				synctest.Wait()
				if acks, naks := sc.count("PAP AuthAck"), sc.count("PAP AuthNak"); acks != tt.acks || naks != tt.naks {
					t.Errorf("%d Acks, %d Naks; want %d, %d", acks, naks, tt.acks, tt.naks)
				}
				if len(calls) != 1 || calls[0] != "user1" {
					t.Errorf("Authorize called for %q, want once for user1", calls)
				}
				if tt.down == "" {
					if d, down := find[ppp.Down](srv.rec); down {
						t.Fatalf("down: %+v", d)
					}
					srv.s.Close("")
					srv.wait(t)
					return
				}
				if d := srv.wait(t); d.Reason != ppp.ReasonPeerAuthFailed || d.Detail != tt.down {
					t.Errorf("down %v, want peer auth failed: %s", d, tt.down)
				}
			})
		})
	}
}

// AuthTimeout bounds the time a peer has to authenticate in all: an LCP
// renegotiation restarts authentication (RFC 1661 §3.5) but not the
// peer's time, or a client with no credentials could hold an AC's
// session for ever by renegotiating before each timeout. A peer that has
// authenticated gets the whole AuthTimeout again after a renegotiation.
func TestAuthTimeoutSpansRenegotiations(t *testing.T) {
	const timeout = 20 * time.Second
	tests := []struct {
		name   string
		method ppp.AuthMethod
		// auth: the client authenticates (PAP) at each of these
		// renegotiations (0: the first LCP Opened), by index.
		auth func(n int) bool
		// renegotiate: the client renegotiates LCP this often.
		renegotiate time.Duration
		dead        time.Duration // 0: up after 10 minutes
		linkUps     int           // LinkUp events by then
	}{{
		name:   "PAP, never authenticating, renegotiating every 15s",
		method: ppp.AuthPAP, auth: func(int) bool { return false },
		renegotiate: 15 * time.Second,
		dead:        timeout,
		linkUps:     2,
	}, {
		// CHAP's Challenge count starts over at each renegotiation too.
		name:   "CHAP, never answering, renegotiating every 15s",
		method: ppp.AuthCHAPMD5, auth: func(int) bool { return false },
		renegotiate: 15 * time.Second,
		dead:        timeout,
		linkUps:     2,
	}, {
		name:   "PAP, authenticating each time",
		method: ppp.AuthPAP, auth: func(int) bool { return true },
		renegotiate: 15 * time.Second,
		linkUps:     41,
	}, {
		// Authenticated at first, then not after the second
		// renegotiation (at 30 s): AuthTimeout from there.
		name:   "PAP, authenticated, then not",
		method: ppp.AuthPAP, auth: func(n int) bool { return n < 2 },
		renegotiate: 30 * time.Second,
		dead:        60*time.Second + timeout,
		linkUps:     3,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				var mu sync.Mutex
				opened := 0
				runScript(a, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xc1)}, func(s *script, _ ppp.Packet) {
					mu.Lock()
					n := opened
					opened++
					mu.Unlock()
					if tt.method == ppp.AuthPAP && tt.auth(n) {
						d, _ := ppp.PAPRequest{PeerID: []byte("user1"), Password: []byte("pass1")}.Append(nil)
						s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthReq, byte(n), d)
						s.end.Send(ppp.ProtoIPv6CP, ppp.CodeConfReq, byte(n), opts(t, ppp.InterfaceID{2, 0, 0, 0, 0, 0, 0, 2}))
					}
				}, func(s *script, p ppp.Packet) {
					switch {
					case p.Protocol == ppp.ProtoIPv6CP && p.Code == ppp.CodeConfReq:
						s.end.Send(p.Protocol, ppp.CodeConfAck, p.ID, p.Data)
					case p.Code == ppp.CodeTermReq:
						s.end.Send(p.Protocol, ppp.CodeTermAck, p.ID, nil)
					}
				}))
				cfg := serverConfig(tt.method, false, true, nil)
				cfg.AuthTimeout = timeout
				srv := start(cfg, b)
				stop := make(chan struct{})
				defer close(stop)
				go func() {
					for i := 0; ; i++ {
						select {
						case <-stop:
							return
						case <-time.After(tt.renegotiate):
							a.Send(ppp.ProtoLCP, ppp.CodeConfReq, byte(0x40+i), opts(t, ppp.MagicNumber(0xc1)))
						}
					}
				}()
				t0 := time.Now()
				linkUps := func() int {
					n := 0
					for _, e := range srv.rec.all() {
						if _, ok := e.(ppp.LinkUp); ok {
							n++
						}
					}
					return n
				}
				if tt.dead == 0 {
					time.Sleep(10*time.Minute + time.Second)
					if n := linkUps(); n != tt.linkUps {
						t.Errorf("LCP up %d times, want %d", n, tt.linkUps)
					}
					if d, down := find[ppp.Down](srv.rec); down {
						t.Fatalf("down: %+v", d)
					}
					srv.s.Close("")
					srv.wait(t)
					return
				}
				d := srv.wait(t)
				if n := linkUps(); n != tt.linkUps {
					t.Errorf("LCP up %d times, want %d", n, tt.linkUps)
				}
				if took := time.Since(t0); took != tt.dead {
					t.Errorf("down after %v, want %v", took, tt.dead)
				}
				if want := "the peer did not authenticate within 20s"; d.Reason != ppp.ReasonPeerAuthFailed || d.Detail != want {
					t.Errorf("down %v, want peer auth failed: %s", d, want)
				}
			})
		})
	}
}
