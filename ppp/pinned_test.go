package ppp_test

import (
	"bytes"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// Checks that a hostile peer would exploit if they went missing, each
// driven from the wire (issue 8: none of them had a test that failed when
// the check was deleted).

// lcpPeer is a scripted peer that acknowledges the client's LCP request
// and sends its own, with ours (MRU, auth...); open runs once the client
// has acknowledged it (LCP is Opened on both sides), other sees every
// other packet.
func lcpPeer(t *testing.T, ours []ppp.Option, open, other func(s *script, p ppp.Packet)) func(*script, ppp.Packet) {
	sentReq := false
	return func(s *script, p ppp.Packet) {
		switch {
		case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeConfReq:
			s.end.Send(ppp.ProtoLCP, ppp.CodeConfAck, p.ID, p.Data)
			if !sentReq {
				sentReq = true
				s.end.Send(ppp.ProtoLCP, ppp.CodeConfReq, 1, opts(t, ours...))
			}
		case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeConfAck:
			if open != nil {
				open(s, p)
			}
		default:
			if other != nil {
				other(s, p)
			}
		}
	}
}

// A Protocol-Reject carries the rejected packet cut to the peer's MRU
// (RFC 1661 §5.7: "MUST be truncated"), and so does a Code-Reject, of
// LCP or of an NCP (§5.6): a peer with a small MRU would otherwise get
// packets it cannot take, and a peer sending large junk would have it
// echoed back in full.
func TestProtocolRejectFitsPeerMRU(t *testing.T) {
	junk := bytes.Repeat([]byte{0xa5}, 400)
	unknownCode := append([]byte{0x42, 9, 0x01, 0x90}, junk[4:]...) // code 0x42, id 9, Length 400
	tests := []struct {
		name   string
		proto  ppp.Protocol
		packet []byte
		on     ppp.Protocol // of the reject
		code   ppp.Code
		want   []byte // the reject's data
	}{
		// The rejected protocol, then as much of the packet as fits in
		// 128 octets.
		{"Protocol-Reject", 0x8281, junk, ppp.ProtoLCP, ppp.CodeProtRej, append([]byte{0x82, 0x81}, junk[:128-ppp.HeaderLen-2]...)},
		// The packet, from its Code field, as much as fits.
		{"Code-Reject of LCP", ppp.ProtoLCP, unknownCode, ppp.ProtoLCP, ppp.CodeCodeRej, unknownCode[:128-ppp.HeaderLen]},
		{"Code-Reject of IPCP", ppp.ProtoIPCP, unknownCode, ppp.ProtoIPCP, ppp.CodeCodeRej, unknownCode[:128-ppp.HeaderLen]},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				var mu sync.Mutex
				var rejects [][]byte
				runScript(b, lcpPeer(t, []ppp.Option{ppp.MRU(128), ppp.MagicNumber(0xac)},
					func(s *script, _ ppp.Packet) {
						s.end.WriteFrame(tt.proto, tt.packet)
					},
					func(s *script, p ppp.Packet) {
						if p.Protocol == tt.on && p.Code == tt.code {
							raw, _ := p.Append(nil)
							mu.Lock()
							rejects = append(rejects, raw)
							mu.Unlock()
						}
					}))
				cfg := clientConfig(true, false)
				cfg.User = ""
				cli := start(cfg, a)
				synctest.Wait()
				mu.Lock()
				got := rejects
				mu.Unlock()
				if len(got) != 1 {
					t.Errorf("%d rejects, want 1", len(got))
				} else if len(got[0]) != 128 || !bytes.Equal(got[0][ppp.HeaderLen:], tt.want) {
					t.Errorf("reject of %d octets: % x\nwant 128 octets ending % x", len(got[0]), got[0], tt.want)
				}
				cli.s.Close("")
				cli.wait(t)
			})
		})
	}
}

// A CHAP Success or Failure answers one Response: its Identifier must be
// the Response's (RFC 1994 §4.2). One with another Identifier is stale or
// forged and is ignored; the right one still counts.
func TestCHAPResultIdentifier(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		const id = 9
		runScript(b, acScript(t, ppp.AuthProtocol{Protocol: ppp.ProtoCHAP, Algorithm: ppp.CHAPMD5}, func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == 0:
				d, _ := ppp.CHAPChallenge{Value: []byte("0123456789abcdef"), Name: []byte("ac")}.Append(nil)
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPChallenge, id, d)
			case p.Protocol == ppp.ProtoCHAP && p.Code == ppp.CodeCHAPResponse:
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPSuccess, id+1, []byte("forged"))
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPFailure, id-1, []byte("forged"))
			}
		}))
		ccfg := clientConfig(true, false)
		ccfg.IPv4.Local = clientAddr
		cli := start(ccfg, a)
		synctest.Wait()
		if k := kinds(cli.rec); k != "LinkUp" {
			t.Fatalf("events %s after results with the wrong Identifier, want LinkUp only", k)
		}
		b.Send(ppp.ProtoCHAP, ppp.CodeCHAPSuccess, id, []byte("welcome"))
		synctest.Wait()
		if _, ok := find[ppp.Authenticated](cli.rec); !ok {
			t.Errorf("the right Success was not taken: %s", kinds(cli.rec))
		}
		cli.s.Close("")
		cli.wait(t)
	})
}

// Echo-Requests are answered only in Opened (RFC 1661 §5.8: "only in the
// Opened state"); before that, they are silently discarded.
func TestEchoRequestBeforeOpened(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		sc := runScript(b, func(s *script, p ppp.Packet) {
			if p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeConfReq {
				// Never Ack: the client stays in Req-Sent.
				s.end.Send(ppp.ProtoLCP, ppp.CodeEchoReq, 1, []byte{0, 0, 0, 0})
			}
		})
		cli := start(clientConfig(true, false), a)
		synctest.Wait()
		if n := sc.count("LCP EchoRep"); n != 0 {
			t.Errorf("%d Echo-Replies before LCP is Opened", n)
		}
		cli.s.Close("")
		cli.wait(t)
	})
}

// NCP packets that arrive during authentication are held for the network
// phase, at most 8 of them: a peer flooding them must not grow our memory.
func TestHeldNCPFramesBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		responses := 0
		sc := runScript(b, acScript(t, ppp.AuthProtocol{Protocol: ppp.ProtoCHAP, Algorithm: ppp.CHAPMD5}, func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == 0:
				d, _ := ppp.CHAPChallenge{Value: []byte("0123456789abcdef"), Name: []byte("ac")}.Append(nil)
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPChallenge, 3, d)
			case p.Protocol == ppp.ProtoCHAP && p.Code == ppp.CodeCHAPResponse:
				responses++
				if responses == 1 {
					// Before our Success: 20 requests, all held.
					for id := range 20 {
						s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, uint8(id+1), opts(t, ppp.IPAddress(acAddr)))
					}
					return
				}
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPSuccess, p.ID, []byte("ok"))
			}
		}))
		ccfg := clientConfig(true, false)
		ccfg.IPv4.Local = clientAddr
		cli := start(ccfg, a)
		synctest.Wait()
		if _, ok := find[ppp.Authenticated](cli.rec); !ok {
			t.Fatalf("not authenticated: %s", kinds(cli.rec))
		}
		if n := sc.count("IPCP ConfAck"); n != 8 {
			t.Errorf("%d held IPCP requests answered, want 8", n)
		}
		cli.s.Close("")
		cli.wait(t)
	})
}
