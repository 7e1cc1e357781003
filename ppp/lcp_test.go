package ppp_test

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// LCP once the link is up, from the wire: what LinkUp reports, the
// keepalive against peers that answer badly or not at all, and the
// peer's catastrophic rejects.

func be32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// A peer that rejects our MRU and magic number leaves both at their
// RFC 1661 defaults: 1500 (§6.1) and none, which our echoes carry as
// zero (§5.8).
func TestLinkUpDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		var mu sync.Mutex
		var echoMagic []uint32
		var echoIDs []uint8
		sentReq := false
		runScript(b, func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeConfReq && len(p.Data) > 0:
				s.end.Send(ppp.ProtoLCP, ppp.CodeConfRej, p.ID, p.Data)
			case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeConfReq:
				s.end.Send(ppp.ProtoLCP, ppp.CodeConfAck, p.ID, p.Data)
				if !sentReq {
					sentReq = true
					s.end.Send(ppp.ProtoLCP, ppp.CodeConfReq, 1, opts(t, ppp.MagicNumber(0xac)))
				}
			case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeEchoReq:
				mu.Lock()
				echoMagic = append(echoMagic, binary.BigEndian.Uint32(p.Data))
				echoIDs = append(echoIDs, p.ID)
				mu.Unlock()
				s.end.Send(ppp.ProtoLCP, ppp.CodeEchoRep, p.ID, be32(0xac))
			}
		})
		cfg := clientConfig(false, true)
		cfg.EchoInterval = 10 * time.Second
		cli := start(cfg, a)
		time.Sleep(25 * time.Second)
		up, ok := find[ppp.LinkUp](cli.rec)
		if want := (ppp.LinkUp{MRU: 1500, MTU: 1492, Magic: 0, PeerMagic: 0xac}); !ok || up != want {
			t.Errorf("LinkUp %+v, want %+v", up, want)
		}
		mu.Lock()
		if len(echoMagic) != 2 || echoMagic[0] != 0 || echoMagic[1] != 0 {
			t.Errorf("echoes with magic %x, want two with 0", echoMagic)
		}
		// Numbered from 0, as pppd's lcp_echo_number.
		if len(echoIDs) != 2 || echoIDs[0] != 0 || echoIDs[1] != 1 {
			t.Errorf("echoes with Identifiers %v, want 0, 1", echoIDs)
		}
		mu.Unlock()
		cli.s.Close("")
		cli.wait(t)
	})
}

// The keepalive counts only Echo-Replies that answer it: a truncated one,
// or one carrying our own magic number (our request looped back), is no
// sign of the peer. EchoFailures defaults to 3; an adaptive keepalive
// without the kernel's idle time counts the control packets the peer
// sends.
func TestEchoAnswers(t *testing.T) {
	tests := []struct {
		name     string
		failures int
		adaptive bool
		// answer is the peer's reply to an Echo-Request (nil: none) and
		// traffic what it sends every 2 s in between.
		answer  func(req ppp.Packet, ours uint32) []byte
		traffic bool
		dead    string        // the Down detail; "" for alive after 5 minutes
		deadAt  time.Duration // after LCP opened: echoes every 10 s, then one more interval
	}{{
		name:   "answered",
		answer: func(req ppp.Packet, _ uint32) []byte { return be32(0xac) },
	}, {
		name:   "truncated replies",
		answer: func(req ppp.Packet, _ uint32) []byte { return []byte{0, 0, 0} },
		dead:   "no response to 3 echo-requests",
		deadAt: 40 * time.Second,
	}, {
		name:   "our own requests back",
		answer: func(req ppp.Packet, ours uint32) []byte { return be32(ours) },
		dead:   "no response to 3 echo-requests",
		deadAt: 40 * time.Second,
	}, {
		name:     "unanswered, 5 failures",
		failures: 5,
		dead:     "no response to 5 echo-requests",
		deadAt:   60 * time.Second,
	}, {
		name:     "unanswered, but other packets arrive",
		adaptive: true,
		traffic:  true,
	}, {
		// The last packet came as LCP opened: a whole interval ago at
		// the first tick, which is not within it.
		name:     "unanswered, nothing arrives",
		adaptive: true,
		dead:     "no response to 3 echo-requests",
		deadAt:   40 * time.Second,
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				var mu sync.Mutex
				var ours uint32
				runScript(b, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xac)}, func(s *script, p ppp.Packet) {
					s.end.Send(ppp.ProtoIPv6CP, ppp.CodeConfReq, 1, opts(t, ppp.InterfaceID{2, 0, 0, 0, 0, 0, 0, 2}))
				}, func(s *script, p ppp.Packet) {
					switch {
					case p.Protocol == ppp.ProtoIPv6CP && p.Code == ppp.CodeConfReq:
						s.end.Send(ppp.ProtoIPv6CP, ppp.CodeConfAck, p.ID, p.Data)
					case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeEchoReq && tt.answer != nil:
						mu.Lock()
						m := ours
						mu.Unlock()
						s.end.Send(ppp.ProtoLCP, ppp.CodeEchoRep, p.ID, tt.answer(p, m))
					case p.Code == ppp.CodeTermReq:
						s.end.Send(p.Protocol, ppp.CodeTermAck, p.ID, nil)
					}
				}))
				cfg := clientConfig(false, true)
				cfg.EchoInterval, cfg.EchoFailures, cfg.EchoAdaptive = 10*time.Second, tt.failures, tt.adaptive
				cli := start(cfg, a)
				synctest.Wait()
				up, _ := find[ppp.LinkUp](cli.rec)
				mu.Lock()
				ours = up.Magic
				mu.Unlock()
				t0 := time.Now()
				if tt.dead != "" {
					d := cli.wait(t)
					if d.Reason != ppp.ReasonPeerDead || d.Detail != tt.dead {
						t.Errorf("down %v, want peer dead: %s", d, tt.dead)
					}
					if took := time.Since(t0); took != tt.deadAt {
						t.Errorf("dead after %v, want %v", took, tt.deadAt)
					}
					return
				}
				for range 150 {
					if tt.traffic {
						b.Send(ppp.ProtoLCP, ppp.CodeDiscardReq, 1, be32(0xac))
					}
					time.Sleep(2 * time.Second)
				}
				if d, down := find[ppp.Down](cli.rec); down {
					t.Errorf("down: %+v", d)
				}
				cli.s.Close("")
				cli.wait(t)
			})
		})
	}
}

// A peer whose Configure-Requests keep carrying our magic number is our
// own requests coming back (RFC 1661 §6.4): after 10 clashes the link
// is given up as looped back (pppd's lcp-max-loopback-fail). The first
// Max-Failure clashes are Nak'd with another number, the rest rejected.
func TestLoopbackDetected(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		var id uint8
		sc := runScript(b, func(s *script, p ppp.Packet) {
			if p.Protocol != ppp.ProtoLCP || p.Code != ppp.CodeConfReq {
				return
			}
			o, _ := ppp.ParseOptions(ppp.ProtoLCP, p.Data)
			for _, x := range o {
				if m, ok := x.(ppp.MagicNumber); ok {
					id++
					s.end.Send(ppp.ProtoLCP, ppp.CodeConfReq, id, opts(t, m))
				}
			}
		})
		cli, _ := hostileClient(t, a)
		d := cli.wait(t)
		if d.Reason != ppp.ReasonLoopback || d.Detail != "Loopback detected" {
			t.Errorf("down %v, want loopback", d)
		}
		if naks, rejs := sc.count("LCP ConfNak"), sc.count("LCP ConfRej"); naks != 5 || rejs != 5 {
			t.Errorf("%d Naks and %d Rejects of our magic number, want 5 and 5", naks, rejs)
		}
	})
}

// The peer Protocol-Rejects LCP itself: catastrophic (RXJ-), the link is
// terminated, and the Down says why.
func TestProtocolRejectOfLCP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		sc := runScript(b, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xac)}, func(s *script, p ppp.Packet) {
			s.end.Send(ppp.ProtoLCP, ppp.CodeProtRej, 9, []byte{0xc0, 0x21, 9, 1, 0, 8, 0, 0, 0, 0})
		}, func(s *script, p ppp.Packet) {
			if p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeTermReq {
				s.end.Send(ppp.ProtoLCP, ppp.CodeTermAck, p.ID, nil)
			}
		}))
		cli := start(clientConfig(false, true), a)
		d := cli.waitFor(t, time.Minute)
		if d.Reason != ppp.ReasonNegotiationFailed || d.Detail != "the peer sent a Protocol-Reject of LCP" {
			t.Errorf("down %v", d)
		}
		if n := sc.count("LCP TermReq"); n != 1 {
			t.Errorf("%d Terminate-Requests, want 1", n)
		}
		if !strings.Contains(kinds(cli.rec), "LinkUp") {
			t.Errorf("events %s", kinds(cli.rec))
		}
	})
}

// An Echo-Request is answered with our magic number and its data; one
// carrying our own magic number is our request looped back, which is
// worth a warning (it is still answered: RFC 1661 §5.8 has no exception).
func TestEchoRequestAnswered(t *testing.T) {
	for _, own := range []bool{false, true} {
		t.Run(fmt.Sprint("own magic ", own), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				replies := make(chan ppp.Packet, 1)
				runScript(b, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xac)}, nil, func(s *script, p ppp.Packet) {
					if p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeEchoRep {
						replies <- p
					}
				}))
				var logs strings.Builder
				cfg := clientConfig(false, true)
				cfg.Logger = textLogger(&logs)
				cli := start(cfg, a)
				synctest.Wait()
				up, _ := find[ppp.LinkUp](cli.rec)
				magic := uint32(0xac)
				if own {
					magic = up.Magic
				}
				b.Send(ppp.ProtoLCP, ppp.CodeEchoReq, 0x33, append(be32(magic), "ping"...))
				synctest.Wait()
				select {
				case r := <-replies:
					if want := append(be32(up.Magic), "ping"...); r.ID != 0x33 || !bytes.Equal(r.Data, want) {
						t.Errorf("Echo-Reply id=%#x % x, want id=0x33 % x", r.ID, r.Data, want)
					}
				default:
					t.Error("no Echo-Reply")
				}
				warned := strings.Contains(logs.String(), "received our own echo request")
				if warned != own {
					t.Errorf("warned %v, want %v:\n%s", warned, own, logs.String())
				}
				cli.s.Close("")
				cli.wait(t)
			})
		})
	}
}
