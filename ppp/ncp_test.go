package ppp_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"
	"testing/synctest"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// How NCPs that cannot be used end, and how a session ends for reasons
// the peer supplied. Each case must leave a Down that says why, and no
// Up/Down event for a layer that configured nothing.

// papAC is an acScript that accepts any PAP request, then runs ncp for
// every NCP packet.
func papAC(t *testing.T, ncp func(s *script, p ppp.Packet)) func(*script, ppp.Packet) {
	return acScript(t, ppp.AuthProtocol{Protocol: ppp.ProtoPAP}, func(s *script, p ppp.Packet) {
		switch {
		case p.Protocol == 0:
		case p.Protocol == ppp.ProtoPAP && p.Code == ppp.CodePAPAuthReq:
			d, _ := ppp.PAPResponse{}.Append(nil)
			s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthAck, p.ID, d)
			ncp(s, ppp.Packet{})
		default:
			ncp(s, p)
		}
	})
}

func TestNCPUnusable(t *testing.T) {
	tests := []struct {
		name     string
		v4, v6   bool
		local    netip.Addr // our configured IPv4 address
		ncp      func(t *testing.T) func(s *script, p ppp.Packet)
		detail   string
		noEvents []string
	}{{
		// RFC 1661's automaton alone would keep us in Ack-Rcvd for ever:
		// each Ack re-initialises the restart counter.
		name: "IPCP peer acks but never requests",
		v4:   true,
		ncp: func(t *testing.T) func(s *script, p ppp.Packet) {
			return func(s *script, p ppp.Packet) {
				if p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfReq {
					s.end.Send(ppp.ProtoIPCP, ppp.CodeConfAck, p.ID, p.Data)
				}
			}
		},
		detail:   "IPCP: the peer acknowledges our requests but sent none of its own",
		noEvents: []string{"IPv4Up", "IPv4Down"},
	}, {
		// As pppd's ipv6cp_up: no identifier from the peer, no link-local
		// address for its end.
		name: "IPv6CP peer sends no interface identifier",
		v6:   true,
		ncp: func(t *testing.T) func(s *script, p ppp.Packet) {
			return func(s *script, p ppp.Packet) {
				switch {
				case p.Protocol == 0:
					s.end.Send(ppp.ProtoIPv6CP, ppp.CodeConfReq, 1, nil)
				case p.Protocol == ppp.ProtoIPv6CP && p.Code == ppp.CodeConfReq:
					s.end.Send(ppp.ProtoIPv6CP, ppp.CodeConfAck, p.ID, p.Data)
				case p.Protocol == ppp.ProtoIPv6CP && p.Code == ppp.CodeTermReq:
					s.end.Send(ppp.ProtoIPv6CP, ppp.CodeTermAck, p.ID, nil)
				}
			}
		},
		detail:   "IPV6CP: the peer sent no interface identifier",
		noEvents: []string{"IPv6Up", "IPv6Down"},
	}, {
		// The peer rejects the address option, so none is agreed.
		name: "IPCP without a local address",
		v4:   true,
		ncp: func(t *testing.T) func(s *script, p ppp.Packet) {
			return func(s *script, p ppp.Packet) {
				switch {
				case p.Protocol == 0:
					s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 1, opts(t, ppp.IPAddress(acAddr)))
				case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfReq:
					all, _ := ppp.ParseOptions(ppp.ProtoIPCP, p.Data)
					var rej []ppp.Option
					for _, o := range all {
						if _, ok := o.(ppp.IPAddress); ok {
							rej = append(rej, o)
						}
					}
					if len(rej) > 0 {
						s.end.Send(ppp.ProtoIPCP, ppp.CodeConfRej, p.ID, opts(t, rej...))
					} else {
						s.end.Send(ppp.ProtoIPCP, ppp.CodeConfAck, p.ID, p.Data)
					}
				case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeTermReq:
					s.end.Send(ppp.ProtoIPCP, ppp.CodeTermAck, p.ID, nil)
				}
			}
		},
		detail:   "IPCP: no local IPv4 address was agreed",
		noEvents: []string{"IPv4Up", "IPv4Down"},
	}, {
		// Configured, and acknowledged, but no host's address.
		name:  "IPCP with a loopback address configured",
		v4:    true,
		local: netip.MustParseAddr("127.0.0.2"),
		ncp: func(t *testing.T) func(s *script, p ppp.Packet) {
			return func(s *script, p ppp.Packet) {
				switch {
				case p.Protocol == 0:
					s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 1, opts(t, ppp.IPAddress(acAddr)))
				case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfReq:
					s.end.Send(ppp.ProtoIPCP, ppp.CodeConfAck, p.ID, p.Data)
				case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeTermReq:
					s.end.Send(ppp.ProtoIPCP, ppp.CodeTermAck, p.ID, nil)
				}
			}
		},
		detail:   "IPCP: our address 127.0.0.2 is a loopback address",
		noEvents: []string{"IPv4Up", "IPv4Down"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				runScript(b, papAC(t, tt.ncp(t)))
				cfg := clientConfig(tt.v4, tt.v6)
				if tt.local.IsValid() {
					cfg.IPv4.Local = tt.local
				}
				cli := start(cfg, a)
				d := cli.wait(t)
				if d.Reason != ppp.ReasonNoNetworkProtocols || !strings.Contains(d.Detail, tt.detail) {
					t.Errorf("down %v, want no network protocols with %q", d, tt.detail)
				}
				for _, k := range tt.noEvents {
					if strings.Contains(kinds(cli.rec), k) {
						t.Errorf("events %s include %s", kinds(cli.rec), k)
					}
				}
			})
		})
	}
}

// An AC whose pool is empty closes IPCP and says so, instead of bringing
// up a link with nowhere to route; it reports no IPv4Down for an up it
// never reported, so a caller does not tear down what it never set up.
func TestPoolExhausted(t *testing.T) {
	tests := []struct {
		name   string
		pool   *ppptest.Pool // nil: the server has no pool
		detail string
	}{
		{"pool exhausted", ppptest.NewPool(clientAddr, 0),
			"No network protocols running (IPCP: no IPv4 address for the peer: ppptest: address pool exhausted)"},
		{"no pool", nil, "No network protocols running (IPCP: no IPv4 address for the peer)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				scfg := serverConfig(ppp.AuthPAP, true, false, tt.pool)
				if tt.pool == nil {
					scfg.IPv4.Pool = nil
				}
				srv := start(scfg, b)
				cli := start(clientConfig(true, false), a)
				d := srv.wait(t)
				if d.Reason != ppp.ReasonNoNetworkProtocols || d.Detail != tt.detail {
					t.Errorf("server down %v, want %s", d, tt.detail)
				}
				cli.wait(t)
				for _, r := range []*run{srv, cli} {
					if k := kinds(r.rec); strings.Contains(k, "IPv4") {
						t.Errorf("events %s", k)
					}
				}
				if tt.pool != nil && tt.pool.InUse() != 0 {
					t.Errorf("%d addresses in use", tt.pool.InUse())
				}
			})
		})
	}
}

// Close may be called from OnEvent, any number of times, without
// blocking the session's own goroutine.
func TestCloseFromOnEvent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		srv := start(serverConfig(ppp.AuthPAP, true, false, ppptest.NewPool(clientAddr, 1)), b)
		cfg := clientConfig(true, false)
		rec := &recorder{}
		var s *ppp.Session
		cfg.OnEvent = func(e ppp.Event) {
			rec.on(e)
			if _, ok := e.(ppp.IPv4Up); ok {
				for range 64 {
					s.Close("enough")
				}
			}
		}
		s = ppp.NewSession(a, cfg)
		done := make(chan error, 1)
		go func() { done <- s.Run(t.Context()) }()
		err := <-done
		de, ok := err.(*ppp.DownError)
		if !ok || de.Reason != ppp.ReasonLocalClose || de.Detail != "enough" {
			t.Errorf("Run: %v", err)
		}
		if _, ok := find[ppp.IPv4Down](rec); !ok {
			t.Errorf("no IPv4Down: %s", kinds(rec))
		}
		srv.wait(t)
	})
}

// Our Terminate-Request carries pppd's short phrase, not the peer's words
// echoed back: they may be long, or a message we would rather not repeat.
func TestTermReqText(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		long := strings.Repeat("go away ", 400)
		termData := make(chan []byte, 1)
		runScript(b, acScript(t, ppp.AuthProtocol{Protocol: ppp.ProtoPAP}, func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == ppp.ProtoPAP && p.Code == ppp.CodePAPAuthReq:
				d, _ := ppp.PAPResponse{Message: []byte(long[:250])}.Append(nil)
				s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthNak, p.ID, d)
			case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeTermReq:
				select {
				case termData <- p.Data:
				default:
				}
				s.end.Send(ppp.ProtoLCP, ppp.CodeTermAck, p.ID, nil)
			}
		}))
		cli := start(clientConfig(true, false), a)
		d := cli.wait(t)
		if d.Reason != ppp.ReasonAuthFailed {
			t.Errorf("down %v", d)
		}
		if len(d.Detail) > 260 {
			t.Errorf("detail of %d bytes", len(d.Detail))
		}
		if got := string(<-termData); got != "Failed to authenticate ourselves to peer" {
			t.Errorf("Terminate-Request says %q", got)
		}
	})
}

// A peer that Protocol-Rejects the authentication we require of it has
// failed it (pppd: exit 11, "peer refused to authenticate"), not us.
func TestProtRejOfRequiredAuth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		sentReq := false
		runScript(a, func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeConfReq:
				s.end.Send(ppp.ProtoLCP, ppp.CodeConfAck, p.ID, p.Data)
				if !sentReq {
					sentReq = true
					s.end.Send(ppp.ProtoLCP, ppp.CodeConfReq, 1, opts(t, ppp.MagicNumber(0xc1)))
				}
			case p.Protocol == ppp.ProtoCHAP:
				raw, _ := p.Append(nil)
				rej := append([]byte{0xc2, 0x23}, raw...) // the rejected protocol: CHAP
				s.end.Send(ppp.ProtoLCP, ppp.CodeProtRej, 7, rej)
			case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeTermReq:
				s.end.Send(ppp.ProtoLCP, ppp.CodeTermAck, p.ID, nil)
			}
		})
		srv := start(serverConfig(ppp.AuthCHAPMD5, true, false, ppptest.NewPool(clientAddr, 1)), b)
		if d := srv.wait(t); d.Reason != ppp.ReasonPeerAuthFailed {
			t.Errorf("server down %v, want the peer's authentication failed", d)
		}
	})
}

// A session with no NCP configured has no use for the link: it closes as
// soon as LCP is up (from LCP's this-layer-up without authentication, or
// once authentication is over), and the peer is told why.
func TestNoNCPConfigured(t *testing.T) {
	for _, m := range []ppp.AuthMethod{ppp.AuthNone, ppp.AuthPAP} {
		t.Run(m.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				srv := start(serverConfig(m, true, false, ppptest.NewPool(clientAddr, 1)), b)
				cli := start(clientConfig(false, false), a)
				d := cli.wait(t)
				if d.Reason != ppp.ReasonNoNetworkProtocols || d.Detail != "no network protocols configured" {
					t.Errorf("client down %v", d)
				}
				if sd := srv.wait(t); sd.Reason != ppp.ReasonPeerTerminated || sd.Detail != "No network protocols running" {
					t.Errorf("server down %v", sd)
				}
				if k := kinds(cli.rec); strings.Contains(k, "IPv") {
					t.Errorf("events %s", k)
				}
			})
		})
	}
}

// Close's reason goes in our Terminate-Request when it is short (at most
// 64 octets), else pppd's "User request" does; the Down detail keeps it.
func TestCloseReasonInTermReq(t *testing.T) {
	tests := []struct {
		reason, term string
	}{
		{"", "User request"},
		{"maintenance", "maintenance"},
		{strings.Repeat("r", 64), strings.Repeat("r", 64)},
		{strings.Repeat("r", 65), "User request"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(len(tt.reason)), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				termText := make(chan string, 1)
				runScript(b, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xac)}, nil, func(s *script, p ppp.Packet) {
					if p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeTermReq {
						termText <- string(p.Data)
						s.end.Send(ppp.ProtoLCP, ppp.CodeTermAck, p.ID, nil)
					}
				}))
				cli := start(clientConfig(false, true), a)
				synctest.Wait()
				cli.s.Close(tt.reason)
				d := cli.wait(t)
				if d.Reason != ppp.ReasonLocalClose || d.Detail != tt.reason {
					t.Errorf("down %v, want closed locally: %s", d, tt.reason)
				}
				if got := <-termText; got != tt.term {
					t.Errorf("Terminate-Request says %q, want %q", got, tt.term)
				}
			})
		})
	}
}

// An AC that Protocol-Rejects the PAP it asked us to use will not let us
// authenticate: we have failed, and say what it rejected.
func TestProtRejOfOurAuth(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		runScript(b, acScript(t, ppp.AuthProtocol{Protocol: ppp.ProtoPAP}, func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == ppp.ProtoPAP:
				raw, _ := p.Append(nil)
				s.end.Send(ppp.ProtoLCP, ppp.CodeProtRej, 7, append([]byte{0xc0, 0x23}, raw...))
			case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeTermReq:
				s.end.Send(ppp.ProtoLCP, ppp.CodeTermAck, p.ID, nil)
			}
		}))
		cli := start(clientConfig(true, false), a)
		if d := cli.wait(t); d.Reason != ppp.ReasonAuthFailed || d.Detail != "the peer rejected PAP" {
			t.Errorf("down %v, want authentication failed: the peer rejected PAP", d)
		}
	})
}

// The peer closing the only NCP leaves the link useless: the session
// ends as pppd's does ("No network protocols running"), with no reason
// of the NCP's own to add. A Protocol-Reject of an NCP we do not run
// changes nothing.
func TestPeerClosesTheOnlyNCP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		runScript(b, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xac)}, func(s *script, _ ppp.Packet) {
			s.end.Send(ppp.ProtoIPv6CP, ppp.CodeConfReq, 1, opts(t, ppp.InterfaceID{2, 0, 0, 0, 0, 0, 0, 2}))
		}, func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == ppp.ProtoIPv6CP && p.Code == ppp.CodeConfReq:
				s.end.Send(ppp.ProtoIPv6CP, ppp.CodeConfAck, p.ID, p.Data)
			case p.Code == ppp.CodeTermReq:
				s.end.Send(p.Protocol, ppp.CodeTermAck, p.ID, nil)
			}
		}))
		cli := start(clientConfig(false, true), a)
		synctest.Wait()
		b.Send(ppp.ProtoLCP, ppp.CodeProtRej, 5, []byte{0x80, 0x21, 1, 1, 0, 4}) // IPCP, which we do not run
		synctest.Wait()
		if k := kinds(cli.rec); k != "LinkUp,IPv6Up" {
			t.Errorf("events %s, want the link up", k)
		}
		b.Send(ppp.ProtoIPv6CP, ppp.CodeTermReq, 7, []byte("bye"))
		d := cli.wait(t)
		if d.Reason != ppp.ReasonNoNetworkProtocols || d.Detail != "No network protocols running" {
			t.Errorf("down %v, want no network protocols", d)
		}
		if k := kinds(cli.rec); k != "LinkUp,IPv6Up,IPv6Down,Down" {
			t.Errorf("events %s", k)
		}
	})
}
