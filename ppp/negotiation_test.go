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
// the link allows, renegotiation, and an NCP finishing while another
// still negotiates (the fast retransmit: fastretransmit_session_test.go).

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
