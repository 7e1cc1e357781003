package ppp_test

import (
	"bytes"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/mschap"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// Scripted peers that misbehave. Each answers our client with the other
// end of a pipe; none may wedge the session or crash it, and each failure
// must say what went wrong.

// script runs fn for each packet the client sends, until the pipe closes.
// It counts what the client sent, per protocol and code.
type script struct {
	end  *ppptest.End
	mu   sync.Mutex
	seen map[string]int
}

func runScript(end *ppptest.End, fn func(s *script, p ppp.Packet)) *script {
	s := &script{end: end, seen: map[string]int{}}
	go func() {
		for {
			p, err := end.Receive()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.seen[p.Protocol.String()+" "+codeName(p)]++
			s.mu.Unlock()
			fn(s, p)
		}
	}()
	return s
}

func (s *script) count(key string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seen[key]
}

func codeName(p ppp.Packet) string {
	f := p.String() // "[LCP ConfReq id=..."
	parts := strings.Fields(f)
	if len(parts) < 2 {
		return "?"
	}
	return parts[1]
}

func opts(t testing.TB, o ...ppp.Option) []byte {
	b, err := ppp.AppendOptions(nil, o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func hostileClient(t *testing.T, a *ppptest.End) (*run, time.Time) {
	return start(clientConfig(true, false), a), time.Now()
}

// A peer that Naks every request never converges; the client gives up
// after a bounded exchange instead of spinning at wire speed.
func TestHostileNakStorm(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		sc := runScript(b, func(s *script, p ppp.Packet) {
			// Silent after 100 rounds: a client that does not bound the
			// exchange then times out instead of spinning for ever.
			if p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeConfReq && s.count("LCP ConfReq") <= 100 {
				s.end.Send(ppp.ProtoLCP, ppp.CodeConfNak, p.ID, opts(t, ppp.MRU(9000)))
			}
		})
		cli, t0 := hostileClient(t, a)
		d := cli.wait(t)
		if d.Reason != ppp.ReasonNegotiationFailed || !strings.Contains(d.Detail, "keeps refusing") {
			t.Errorf("down %v", d)
		}
		if n := sc.count("LCP ConfReq"); n > 20 {
			t.Errorf("%d requests sent into the storm", n)
		}
		if time.Since(t0) > 0 {
			t.Errorf("took %v: the bound should end it without timers", time.Since(t0))
		}
	})
}

// A peer that keeps asking for what we refuse (ACCM, which PPPoE forbids).
func TestHostileConfReqLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		var id uint8
		sc := runScript(b, func(s *script, p ppp.Packet) {
			if p.Protocol != ppp.ProtoLCP || s.count("LCP ConfRej") > 100 { // then silent, as above
				return
			}
			switch p.Code {
			case ppp.CodeConfReq:
				s.end.Send(ppp.ProtoLCP, ppp.CodeConfAck, p.ID, p.Data)
				id++
				s.end.Send(ppp.ProtoLCP, ppp.CodeConfReq, id, opts(t, ppp.ACCM(0), ppp.MagicNumber(0x1234)))
			case ppp.CodeConfRej:
				id++
				s.end.Send(ppp.ProtoLCP, ppp.CodeConfReq, id, opts(t, ppp.ACCM(0), ppp.MagicNumber(0x1234)))
			}
		})
		cli, _ := hostileClient(t, a)
		d := cli.wait(t)
		if d.Reason != ppp.ReasonNegotiationFailed || !strings.Contains(d.Detail, "keeps requesting") {
			t.Errorf("down %v", d)
		}
		if n := sc.count("LCP ConfRej"); n < 5 || n > 20 {
			t.Errorf("%d rejects sent", n)
		}
	})
}

// Acks with the wrong Identifier are stale: the request is retransmitted
// Max-Configure times, then negotiation fails (30 s of fake time).
func TestHostileWrongIDs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		sc := runScript(b, func(s *script, p ppp.Packet) {
			if p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeConfReq {
				s.end.Send(ppp.ProtoLCP, ppp.CodeConfAck, p.ID+1, p.Data)
				s.end.Send(ppp.ProtoLCP, ppp.CodeConfRej, p.ID-1, p.Data)
			}
		})
		cli, t0 := hostileClient(t, a)
		d := cli.wait(t)
		if d.Reason != ppp.ReasonNegotiationFailed || d.Detail != "no answer to 10 Configure-Requests" {
			t.Errorf("down %v", d)
		}
		if took := time.Since(t0); took != 30*time.Second {
			t.Errorf("gave up after %v, want 10 x 3 s", took)
		}
		if n := sc.count("LCP ConfReq"); n != 10 {
			t.Errorf("%d requests, want 10", n)
		}
	})
}

// A peer that never answers: 10 requests 3 s apart, then failure.
func TestHostileSilentPeer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		sc := runScript(b, func(*script, ppp.Packet) {})
		cli, t0 := hostileClient(t, a)
		d := cli.wait(t)
		if d.Reason != ppp.ReasonNegotiationFailed || time.Since(t0) != 30*time.Second || sc.count("LCP ConfReq") != 10 {
			t.Errorf("down %v after %v with %d requests", d, time.Since(t0), sc.count("LCP ConfReq"))
		}
	})
}

// A looped-back line: everything we send comes back. Our own magic number
// shows it; after 10 clashes the link is given up as looped back. Each
// round clashes twice (our request comes back as the peer's, our Nak of
// it as a Nak of ours), so the tenth is the fifth round's Nak: five Naks
// from us, no Reject, then the Terminate-Request.
func TestHostileLoopback(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var sent []string
		a, b := ppptest.Pipe(ppptest.Config{Tap: func(from string, proto ppp.Protocol, p []byte, _ bool) {
			if from == "a" && proto == ppp.ProtoLCP && len(p) > 0 && ppp.Code(p[0]) != ppp.CodeConfReq {
				mu.Lock()
				sent = append(sent, codeName(ppp.Packet{Protocol: proto, Code: ppp.Code(p[0])}))
				mu.Unlock()
			}
		}})
		go func() {
			for {
				proto, p, err := b.ReadFrame()
				if err != nil {
					return
				}
				b.WriteFrame(proto, p)
			}
		}()
		cli, _ := hostileClient(t, a)
		if d := cli.wait(t); d.Reason != ppp.ReasonLoopback {
			t.Errorf("down %v, want loopback", d)
		}
		mu.Lock()
		defer mu.Unlock()
		if got := strings.Join(sent, " "); !strings.HasPrefix(got, strings.Repeat("ConfNak ", 5)+"TermReq") {
			t.Errorf("sent %s, want 5 ConfNak then TermReq", got)
		}
	})
}

// A Code-Reject of our Configure-Request is catastrophic (RXJ-).
func TestHostileCodeRejectOfConfReq(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		runScript(b, func(s *script, p ppp.Packet) {
			if p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeConfReq {
				rejected, _ := p.Append(nil)
				s.end.Send(ppp.ProtoLCP, ppp.CodeCodeRej, 77, rejected)
			}
		})
		cli, t0 := hostileClient(t, a)
		d := cli.wait(t)
		if d.Reason != ppp.ReasonNegotiationFailed || !strings.Contains(d.Detail, "Code-Reject of our code 1") || time.Since(t0) != 0 {
			t.Errorf("down %v after %v", d, time.Since(t0))
		}
	})
}

// acScript is a minimal access concentrator: it acks the client's LCP
// request and asks for auth; then onAuth takes over.
func acScript(t *testing.T, auth ppp.AuthProtocol, onAuth func(s *script, p ppp.Packet)) func(*script, ppp.Packet) {
	sentReq := false
	return func(s *script, p ppp.Packet) {
		switch {
		case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeConfReq:
			s.end.Send(ppp.ProtoLCP, ppp.CodeConfAck, p.ID, p.Data)
			if !sentReq {
				sentReq = true
				s.end.Send(ppp.ProtoLCP, ppp.CodeConfReq, 1, opts(t, auth, ppp.MagicNumber(0xac)))
			}
		case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeConfAck:
			onAuth(s, ppp.Packet{}) // LCP is open: begin
		case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeEchoReq:
		default:
			onAuth(s, p)
		}
	}
}

// An MS-CHAPv2 authenticator whose response is wrong does not know our
// password: the client hangs up (RFC 2759 §5) instead of going online.
func TestHostileWrongAuthenticatorResponse(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		challenge := bytes.Repeat([]byte{0x5a}, 16)
		runScript(b, acScript(t, ppp.AuthProtocol{Protocol: ppp.ProtoCHAP, Algorithm: ppp.CHAPMSCHAPv2}, func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == 0: // LCP open
				d, _ := ppp.CHAPChallenge{Value: challenge, Name: []byte("evil-ac")}.Append(nil)
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPChallenge, 9, d)
			case p.Protocol == ppp.ProtoCHAP && p.Code == ppp.CodeCHAPResponse:
				bogus := mschap.Success{Message: "welcome"} // all-zero authenticator response
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPSuccess, p.ID, []byte(bogus.String()))
				s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 1, opts(t, ppp.IPAddress(acAddr)))
			}
		}))
		cli, _ := hostileClient(t, a)
		d := cli.wait(t)
		if d.Reason != ppp.ReasonAuthFailed || !strings.Contains(d.Detail, "does not know our password") {
			t.Errorf("down %v", d)
		}
		if _, ok := find[ppp.IPv4Up](cli.rec); ok {
			t.Error("IPv4 came up with an impostor")
		}
	})
}

// The authenticator's NCP packets overtake its Success or Ack (as they
// can with PPPoE's two descriptors): they are held, our Response or
// Authenticate-Request is repeated at once, and the link comes up
// without waiting a restart time. The client's Authenticated names the
// authenticator as its Challenge did (PAP names no one).
func TestSuccessOvertakenByIPCP(t *testing.T) {
	tests := []struct {
		name  string
		auth  ppp.AuthProtocol
		peer  string
		reply func(s *script, p ppp.Packet)
	}{{
		name: "CHAP",
		auth: ppp.AuthProtocol{Protocol: ppp.ProtoCHAP, Algorithm: ppp.CHAPMD5},
		peer: "ac",
		reply: func(s *script, p ppp.Packet) {
			s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPSuccess, p.ID, []byte("ok"))
		},
	}, {
		name: "PAP",
		auth: ppp.AuthProtocol{Protocol: ppp.ProtoPAP},
		reply: func(s *script, p ppp.Packet) {
			d, _ := ppp.PAPResponse{Message: []byte("ok")}.Append(nil)
			s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthAck, p.ID, d)
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				var ipcpID uint8
				requests := 0
				runScript(b, acScript(t, tt.auth, func(s *script, p ppp.Packet) {
					switch {
					case p.Protocol == 0 && tt.auth.Protocol == ppp.ProtoCHAP:
						d, _ := ppp.CHAPChallenge{Value: []byte("0123456789abcdef"), Name: []byte("ac")}.Append(nil)
						s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPChallenge, 3, d)
					case p.Protocol == ppp.ProtoCHAP && p.Code == ppp.CodeCHAPResponse,
						p.Protocol == ppp.ProtoPAP && p.Code == ppp.CodePAPAuthReq:
						requests++
						if requests == 1 {
							// The Success or Ack is "lost"; IPCP goes ahead.
							s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 1, opts(t, ppp.IPAddress(acAddr)))
							return
						}
						tt.reply(s, p)
					case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfReq:
						if o, _ := ppp.ParseOptions(ppp.ProtoIPCP, p.Data); len(o) > 0 && o[0] == ppp.Option(ppp.IPAddress(netip.IPv4Unspecified())) {
							s.end.Send(ppp.ProtoIPCP, ppp.CodeConfNak, p.ID, opts(t, ppp.IPAddress(clientAddr)))
						} else {
							s.end.Send(ppp.ProtoIPCP, ppp.CodeConfAck, p.ID, p.Data)
						}
						ipcpID = p.ID
					}
				}))
				cli, t0 := hostileClient(t, a)
				synctest.Wait()
				up, ok := find[ppp.IPv4Up](cli.rec)
				if !ok || up.Local != clientAddr || up.Peer != acAddr {
					t.Fatalf("not up: %s %+v", kinds(cli.rec), up)
				}
				if time.Since(t0) != 0 || requests != 2 || ipcpID == 0 {
					t.Errorf("took %v, %d requests", time.Since(t0), requests)
				}
				if au, _ := find[ppp.Authenticated](cli.rec); au.Peer != tt.peer {
					t.Errorf("Authenticated{Peer: %q}, want %q", au.Peer, tt.peer)
				}
				cli.s.Close("")
				cli.wait(t)
			})
		})
	}
}

// Authentication packets of protocols that were not negotiated are
// dropped; unknown protocols get a Protocol-Reject; malformed packets are
// dropped; none of it disturbs the link.
func TestHostileJunkAfterOpen(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		sc := runScript(b, acScript(t, ppp.AuthProtocol{Protocol: ppp.ProtoPAP}, func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == 0:
				// Before the client's PAP request is answered: junk.
				d, _ := ppp.CHAPChallenge{Value: []byte("x"), Name: []byte("?")}.Append(nil)
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPChallenge, 1, d)        // CHAP was not agreed
				s.end.Send(ppp.ProtoEAP, 1, 1, []byte{1})                     // EAP neither
				s.end.WriteFrame(ppp.ProtoLCP, []byte{1, 2, 0, 9, 1})         // truncated LCP
				s.end.WriteFrame(ppp.ProtoLCP, []byte{1, 2, 0, 7, 1, 9, 0})   // option past the end
				s.end.WriteFrame(ppp.ProtoIPCP, []byte{1})                    // truncated NCP
				s.end.Send(ppp.ProtoLCP, ppp.CodeEchoReq, 5, []byte{0, 0, 0}) // echo without magic
			case p.Protocol == ppp.ProtoPAP && p.Code == ppp.CodePAPAuthReq:
				d, _ := ppp.PAPResponse{Message: []byte("welcome")}.Append(nil)
				s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthAck, p.ID, d)
			case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfReq:
				s.end.Send(ppp.ProtoIPCP, ppp.CodeConfAck, p.ID, p.Data)
			}
		}))
		ccfg := clientConfig(true, false)
		ccfg.IPv4.Local = clientAddr
		cli := start(ccfg, a)
		synctest.Wait()
		if sc.count("CHAP Response") != 0 {
			t.Error("answered a CHAP challenge that was never negotiated")
		}
		if sc.count("LCP ProtRej") != 1 {
			t.Errorf("%d Protocol-Rejects, want one for EAP", sc.count("LCP ProtRej"))
		}
		if _, down := find[ppp.Down](cli.rec); down {
			t.Fatalf("junk took the link down: %s", kinds(cli.rec))
		}
		cli.s.Close("")
		cli.wait(t)
	})
}

// Arbitrary frames thrown at a client that negotiates with a real server:
// nothing panics, and the sessions still end when asked.
func FuzzSessionInput(f *testing.F) {
	f.Add([]byte{0xc0, 0x21, 9, 1, 0, 8, 0, 0, 0, 1})
	f.Add([]byte{0xc2, 0x23, 1, 1, 0, 6, 1, 0x41, 0x80, 0x21, 1, 1, 0, 4})
	f.Add([]byte{0xc0, 0x21, 8, 1, 0, 6, 0x80, 0x21, 0xc0, 0x21, 5, 3, 0, 4})
	f.Fuzz(func(t *testing.T, junk []byte) {
		synctest.Test(t, func(t *testing.T) {
			a, b := ppptest.Pipe(ppptest.Config{})
			srv := start(serverConfig(ppp.AuthMSCHAPv2, true, true, ppptest.NewPool(clientAddr, 1)), b)
			cli := start(clientConfig(true, true), a)
			// The junk, cut into frames: 2 octets of protocol, then up to
			// 14 octets of packet, interleaved with the real exchange.
			for len(junk) >= 2 {
				n := min(len(junk), 16)
				proto := ppp.Protocol(uint16(junk[0])<<8 | uint16(junk[1]))
				b.WriteFrame(proto, junk[2:n])
				junk = junk[n:]
				time.Sleep(time.Millisecond)
			}
			time.Sleep(time.Minute)
			cli.s.Close("done")
			srv.s.Close("done")
			cli.wait(t)
			srv.wait(t)
		})
	})
}
