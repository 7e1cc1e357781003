package ppp_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// Negotiation as the peer sees it, beyond the basic exchange: the MRU
// the link allows, the fast retransmit against a peer that starts late,
// renegotiation, and an NCP finishing while another still negotiates.

// The peer may ask for an MRU up to MaxMTU (default 1492, RFC 2516 §7;
// more with RFC 4638); a larger one is Nak'd down to it.
func TestPeerMRU(t *testing.T) {
	tests := []struct {
		name    string
		maxMTU  uint16
		peerMRU uint16
		nak     string // our Nak of the peer's request, "" for an Ack
		mtu     uint16 // LinkUp.MTU
	}{
		{"1492 by default", 0, 1492, "", 1492},
		{"1500 refused by default", 0, 1500, "[LCP ConfNak id=0x1 <mru 1492>]", 1492},
		{"1500 with RFC 4638", 1500, 1500, "", 1500},
		{"9000 above RFC 4638's", 1500, 9000, "[LCP ConfNak id=0x1 <mru 1500>]", 1500},
		{"none asked: 1500, capped", 0, 0, "", 1492},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				var mu sync.Mutex
				var naks []string
				ours := []ppp.Option{ppp.MagicNumber(0xac)}
				if tt.peerMRU != 0 {
					ours = append([]ppp.Option{ppp.MRU(tt.peerMRU)}, ours...)
				}
				runScript(b, lcpPeer(t, ours, nil, func(s *script, p ppp.Packet) {
					if p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeConfNak {
						mu.Lock()
						naks = append(naks, p.String())
						mu.Unlock()
						o, _ := ppp.ParseOptions(ppp.ProtoLCP, p.Data)
						s.end.Send(ppp.ProtoLCP, ppp.CodeConfReq, p.ID+1, opts(t, append(o, ppp.MagicNumber(0xac))...))
					}
				}))
				cfg := clientConfig(false, true)
				cfg.MaxMTU = tt.maxMTU
				cli := start(cfg, a)
				synctest.Wait()
				up, ok := find[ppp.LinkUp](cli.rec)
				if !ok || up.MTU != tt.mtu {
					t.Errorf("LinkUp %+v (%v), want MTU %d", up, ok, tt.mtu)
				}
				mu.Lock()
				if got := strings.Join(naks, ","); got != tt.nak {
					t.Errorf("Naks %q, want %q", got, tt.nak)
				}
				mu.Unlock()
				cli.s.Close("")
				cli.wait(t)
			})
		})
	}
}

// An AC that forks its pppd per session lost our first request: once its
// own request shows it listens, LCP resends ours 200 ms later instead of
// after the 3 s restart time. IPCP, which both ends start together, waits
// the restart time.
func TestFastRetransmitAgainstLateAC(t *testing.T) {
	for _, proto := range []ppp.Protocol{ppp.ProtoLCP, ppp.ProtoIPCP} {
		t.Run(proto.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				var at []time.Duration
				t0 := time.Now()
				a, b := ppptest.Pipe(ppptest.Config{Tap: func(from string, pr ppp.Protocol, p []byte, _ bool) {
					if from == "a" && pr == proto && len(p) > 0 && ppp.Code(p[0]) == ppp.CodeConfReq {
						mu.Lock()
						at = append(at, time.Since(t0))
						mu.Unlock()
					}
				}})
				// The peer starts 1.3 s after the request it needs, and
				// answers only what it receives after that.
				sentReq := map[ppp.Protocol]bool{}
				runScript(b, func(s *script, p ppp.Packet) {
					if p.Protocol == proto && time.Since(t0) < 1300*time.Millisecond {
						go func() {
							time.Sleep(1300*time.Millisecond - time.Since(t0))
							s.end.Send(proto, ppp.CodeConfReq, 1, ipcpOr(t, proto))
						}()
						return
					}
					switch {
					case p.Code == ppp.CodeConfReq:
						s.end.Send(p.Protocol, ppp.CodeConfAck, p.ID, p.Data)
						if !sentReq[p.Protocol] && p.Protocol != proto {
							sentReq[p.Protocol] = true
							s.end.Send(p.Protocol, ppp.CodeConfReq, 1, ipcpOr(t, p.Protocol))
						}
					case p.Code == ppp.CodeTermReq:
						s.end.Send(p.Protocol, ppp.CodeTermAck, p.ID, nil)
					}
				})
				cfg := clientConfig(true, false)
				cfg.User = ""
				cfg.IPv4.Local = clientAddr
				cli := start(cfg, a)
				time.Sleep(10 * time.Second)
				if _, ok := find[ppp.IPv4Up](cli.rec); !ok {
					t.Errorf("not up: %s", kinds(cli.rec))
				}
				mu.Lock()
				got := fmt.Sprint(at)
				mu.Unlock()
				want := fmt.Sprint([]time.Duration{0, 1500 * time.Millisecond})
				if proto == ppp.ProtoIPCP {
					want = fmt.Sprint([]time.Duration{0, 3 * time.Second})
				}
				if got != want {
					t.Errorf("%s requests at %s, want %s", proto, got, want)
				}
				cli.s.Close("")
				cli.wait(t)
			})
		})
	}
}

// ipcpOr is the peer's request of proto: an address for IPCP, a magic
// number for LCP.
func ipcpOr(t *testing.T, proto ppp.Protocol) []byte {
	if proto == ppp.ProtoIPCP {
		return opts(t, ppp.IPAddress(acAddr))
	}
	return opts(t, ppp.MagicNumber(0xac))
}

// The peer renegotiates LCP once the link is up (RFC 1661 §4.1: RCR in
// Opened): the network protocols go down, the link comes up again, and
// so do they, in the phases of §3.2.
func TestRenegotiation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		var mu sync.Mutex
		ipv6Up := 0
		runScript(b, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xac)}, func(s *script, p ppp.Packet) {
			s.end.Send(ppp.ProtoIPv6CP, ppp.CodeConfReq, 1, opts(t, ppp.InterfaceID{2, 0, 0, 0, 0, 0, 0, 2}))
		}, func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == ppp.ProtoIPv6CP && p.Code == ppp.CodeConfReq:
				s.end.Send(ppp.ProtoIPv6CP, ppp.CodeConfAck, p.ID, p.Data)
			case p.Protocol == ppp.ProtoIPv6CP && p.Code == ppp.CodeConfAck:
				mu.Lock()
				ipv6Up++
				mu.Unlock()
			case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeTermReq:
				s.end.Send(ppp.ProtoLCP, ppp.CodeTermAck, p.ID, nil)
			}
		}))
		var s *ppp.Session
		var got []string
		cfg := clientConfig(false, true)
		cfg.OnEvent = func(e ppp.Event) {
			got = append(got, strings.TrimPrefix(fmt.Sprintf("%T", e), "ppp.")+":"+s.Phase().String())
		}
		s = ppp.NewSession(a, cfg)
		done := make(chan error, 1)
		go func() { done <- s.Run(t.Context()) }()
		synctest.Wait()
		b.Send(ppp.ProtoLCP, ppp.CodeConfReq, 2, opts(t, ppp.MagicNumber(0xad)))
		synctest.Wait()
		s.Close("")
		<-done
		want := "LinkUp:establish IPv6Up:network IPv6Down:establish LinkUp:establish IPv6Up:network IPv6Down:terminate Down:dead"
		if g := strings.Join(got, " "); g != want {
			t.Errorf("events %s\nwant %s", g, want)
		}
		mu.Lock()
		defer mu.Unlock()
		if ipv6Up != 2 {
			t.Errorf("IPv6CP acknowledged %d times, want twice", ipv6Up)
		}
	})
}

// One NCP failing while the other still waits for its first answer
// (Req-Sent) is no reason to end the session: the other may yet come up.
func TestNCPFinishesWhileOtherNegotiates(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		ipcpReqs := 0
		runScript(b, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xac)}, nil, func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == ppp.ProtoIPv6CP && p.Code == ppp.CodeConfReq:
				raw, _ := p.Append(nil)
				s.end.Send(ppp.ProtoLCP, ppp.CodeProtRej, 5, append([]byte{0x80, 0x57}, raw...))
			case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfReq:
				// The first is lost: IPCP stays in Req-Sent meanwhile.
				if ipcpReqs++; ipcpReqs == 1 {
					return
				}
				s.end.Send(ppp.ProtoIPCP, ppp.CodeConfAck, p.ID, p.Data)
				s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 1, opts(t, ppp.IPAddress(acAddr)))
			case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeTermReq:
				s.end.Send(ppp.ProtoLCP, ppp.CodeTermAck, p.ID, nil)
			}
		}))
		cfg := clientConfig(true, true)
		cfg.User = ""
		cfg.IPv4.Local, cfg.IPv4.RequestDNS = clientAddr, false
		cli := start(cfg, a)
		time.Sleep(10 * time.Second)
		if _, ok := find[ppp.IPv4Up](cli.rec); !ok {
			t.Errorf("IPv4 not up: %s", kinds(cli.rec))
		}
		cli.s.Close("")
		if d := cli.wait(t); d.Reason != ppp.ReasonLocalClose {
			t.Errorf("down %v", d)
		}
	})
}
