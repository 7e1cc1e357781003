package ppp_test

import (
	"bytes"
	"crypto/md5"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// The authentication phase's timers, retry limits and malformed or
// unexpected packets, on both sides: each case ends the way a user (the
// Down) and the peer (the packets it got) can see, and no authenticator
// can keep a session in the phase for ever.

// authLog records the authentication packets a session sends, with the
// fake time each left at.
type authLog struct {
	mu      sync.Mutex
	t0      time.Time
	packets []ppp.Packet
	at      []time.Duration
}

func (l *authLog) add(p ppp.Packet) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.packets = append(l.packets, p)
	l.at = append(l.at, time.Since(l.t0))
}

func (l *authLog) all() ([]ppp.Packet, []time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ppp.Packet(nil), l.packets...), append([]time.Duration(nil), l.at...)
}

// every returns the times 0, step, 2 step... of n packets.
func every(n int, step time.Duration) []time.Duration {
	var d []time.Duration
	for i := range n {
		d = append(d, time.Duration(i)*step)
	}
	return d
}

func sameTimes(a, b []time.Duration) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func chapData(t *testing.T, value []byte, name string) []byte {
	d, err := ppp.CHAPChallenge{Value: value, Name: []byte(name)}.Append(nil)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// chapMD5 is the CHAP-MD5 Response value (RFC 1994 §4.1): the MD5 of
// the Identifier, the secret and the challenge.
func chapMD5(id uint8, secret string, challenge []byte) []byte {
	h := md5.New()
	h.Write([]byte{id})
	h.Write([]byte(secret))
	h.Write(challenge)
	return h.Sum(nil)
}

// Our client against an authenticator that does not answer, answers
// late, or sends challenges it cannot take.
func TestAuthClientLimits(t *testing.T) {
	pap := ppp.AuthProtocol{Protocol: ppp.ProtoPAP}
	md5 := ppp.AuthProtocol{Protocol: ppp.ProtoCHAP, Algorithm: ppp.CHAPMD5}
	ms1 := ppp.AuthProtocol{Protocol: ppp.ProtoCHAP, Algorithm: ppp.CHAPMSCHAPv1}
	ms2 := ppp.AuthProtocol{Protocol: ppp.ProtoCHAP, Algorithm: ppp.CHAPMSCHAPv2}
	tests := []struct {
		name        string
		auth        ppp.AuthProtocol
		user        string        // default user1
		authTimeout time.Duration // default an hour, out of the way
		// ac answers each authentication packet of ours (Protocol 0:
		// LCP just opened); nil answers nothing.
		ac     func(t *testing.T, s *script, p ppp.Packet)
		detail string // of the Down (AuthFailed); "" for authenticated
		sent   []time.Duration
		// sameID: every packet we sent has the same Identifier and data
		// (CHAP Responses repeat), else each a new Identifier (PAP).
		sameID bool
	}{{
		// RFC 1334 §2.2.1: the peer retransmits; pppd's pap-max-authreq
		// (10) bounds it, with a new Identifier each time.
		name:   "PAP unanswered",
		auth:   pap,
		detail: "no answer to 10 PAP requests",
		sent:   every(10, 3*time.Second),
	}, {
		name:        "PAP answered too late",
		auth:        pap,
		authTimeout: 10 * time.Second,
		detail:      "no pap answer within 10s",
		sent:        every(4, 3*time.Second),
	}, {
		name:   "PAP user name too long to send",
		auth:   pap,
		user:   strings.Repeat("u", 256),
		detail: "user name or password over 255 octets",
	}, {
		// Only an Ack or a Nak answers a request (RFC 1334 §2.2.2),
		// and only with its Identifier.
		name: "PAP: other codes and Identifiers",
		auth: pap,
		ac: func(t *testing.T, s *script, p ppp.Packet) {
			if p.Protocol != ppp.ProtoPAP {
				return
			}
			nak, _ := ppp.PAPResponse{Message: []byte("no")}.Append(nil)
			s.end.Send(ppp.ProtoPAP, 4, p.ID, nak)
			s.end.Send(ppp.ProtoPAP, 9, p.ID, nak)
			s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthNak, p.ID+1, nak)
			s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthAck, p.ID, nil)
		},
		sent: []time.Duration{0},
	}, {
		// A lost Success would leave us waiting: the Response is
		// repeated, unchanged, Max-Configure times.
		name: "CHAP Response unanswered",
		auth: md5,
		ac: func(t *testing.T, s *script, p ppp.Packet) {
			if p.Protocol == 0 {
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPChallenge, 7, chapData(t, []byte("0123456789abcdef"), "ac"))
			}
		},
		detail: "no answer to 10 CHAP responses",
		sent:   every(10, 3*time.Second),
		sameID: true,
	}, {
		name:   "no Challenge",
		auth:   md5,
		detail: "no chap answer within 1h0m0s",
	}, {
		// A challenge that cannot be answered (no value, value past the
		// packet, the wrong size for MS-CHAP) is dropped; the next,
		// good, one is answered.
		name: "malformed CHAP Challenge",
		auth: md5,
		ac: func(t *testing.T, s *script, p ppp.Packet) {
			switch p.Protocol {
			case 0:
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPChallenge, 1, nil)
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPChallenge, 2, []byte{16, 1, 2})
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPChallenge, 3, chapData(t, []byte("0123456789abcdef"), "ac"))
			case ppp.ProtoCHAP:
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPSuccess, p.ID, []byte("ok"))
			}
		},
		sent: []time.Duration{0},
	}, {
		name: "MS-CHAPv1 Challenge of 16 octets",
		auth: ms1,
		ac: func(t *testing.T, s *script, p ppp.Packet) {
			switch p.Protocol {
			case 0:
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPChallenge, 1, chapData(t, make([]byte, 16), "ac"))
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPChallenge, 2, chapData(t, make([]byte, 8), "ac"))
			case ppp.ProtoCHAP:
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPSuccess, p.ID, nil)
			}
		},
		sent: []time.Duration{0},
	}, {
		name: "MS-CHAPv2 Challenge of 8 octets",
		auth: ms2,
		ac: func(t *testing.T, s *script, p ppp.Packet) {
			if p.Protocol == 0 {
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPChallenge, 1, chapData(t, make([]byte, 8), "ac"))
			}
		},
		detail: "no mschap2 answer within 1h0m0s",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				sent := &authLog{}
				runScript(b, acScript(t, tt.auth, func(s *script, p ppp.Packet) {
					switch {
					case p.Protocol == ppp.ProtoPAP || p.Protocol == ppp.ProtoCHAP:
						sent.add(p)
					case p.Code == ppp.CodeTermReq:
						s.end.Send(p.Protocol, ppp.CodeTermAck, p.ID, nil)
						return
					case p.Protocol != 0:
						return
					}
					if tt.ac != nil {
						tt.ac(t, s, p)
					}
				}))
				cfg := clientConfig(false, true)
				if tt.user != "" {
					cfg.User = tt.user
				}
				cfg.AuthTimeout = time.Hour
				if tt.authTimeout != 0 {
					cfg.AuthTimeout = tt.authTimeout
				}
				sent.t0 = time.Now()
				cli := start(cfg, a)
				if tt.detail == "" {
					synctest.Wait()
					if _, ok := find[ppp.Authenticated](cli.rec); !ok {
						t.Errorf("not authenticated: %s", kinds(cli.rec))
					}
					cli.s.Close("")
				}
				d := cli.waitFor(t, 2*time.Hour)
				if tt.detail != "" && (d.Reason != ppp.ReasonAuthFailed || d.Detail != tt.detail) {
					t.Errorf("down %v, want %q", d, tt.detail)
				}
				packets, at := sent.all()
				if !sameTimes(at, tt.sent) {
					t.Errorf("sent %d packets at %v, want at %v", len(at), at, tt.sent)
				}
				for i := 1; i < len(packets); i++ {
					same := packets[i].ID == packets[0].ID && bytes.Equal(packets[i].Data, packets[0].Data)
					if tt.sameID && !same {
						t.Errorf("packet %d %v differs from the first %v", i, packets[i], packets[0])
					}
					if !tt.sameID && packets[i].ID == packets[i-1].ID {
						t.Errorf("packet %d repeats the Identifier 0x%x", i, packets[i].ID)
					}
				}
			})
		})
	}
}

// Our authenticator against clients that do not answer, answer with the
// wrong Identifier, send malformed packets, or repeat themselves.
func TestAuthServerLimits(t *testing.T) {
	papReq := func(t *testing.T, user, pass string) []byte {
		d, err := ppp.PAPRequest{PeerID: []byte(user), Password: []byte(pass)}.Append(nil)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	tests := []struct {
		name        string
		require     ppp.AuthMethod
		authTimeout time.Duration // default an hour
		noSecrets   bool
		// client answers each authentication packet of ours (Protocol
		// 0: LCP just opened).
		client func(t *testing.T, s *script, p ppp.Packet)
		detail string   // of the Down (PeerAuthFailed); "" for authenticated
		sent   []string // what we sent, as FormatFrame prints it, up to the first " id="
		at     []time.Duration
	}{{
		// The Challenge is repeated, unchanged, Max-Configure times
		// (RFC 1994 §4.1), then the peer has failed.
		name:    "CHAP Challenge unanswered",
		require: ppp.AuthCHAPMD5,
		detail:  "no response to 10 challenges",
		sent:    strings.Split(strings.Repeat("[CHAP Challenge,", 10), ",")[:10],
		at:      every(10, 3*time.Second),
	}, {
		name:        "PAP request never comes",
		require:     ppp.AuthPAP,
		authTimeout: 20 * time.Second,
		detail:      "the peer did not authenticate within 20s",
	}, {
		// A Response to another Challenge (RFC 1994 §4.1: the
		// Identifier "MUST be copied") is ignored, a malformed one too;
		// the right one succeeds, and a repeat of it gets the Success
		// again (ours was lost).
		name:    "CHAP Response with the wrong Identifier",
		require: ppp.AuthCHAPMD5,
		client: func(t *testing.T, s *script, p ppp.Packet) {
			if p.Protocol != ppp.ProtoCHAP || p.Code != ppp.CodeCHAPChallenge {
				return
			}
			c, _ := ppp.ParseCHAPChallenge(p.Data)
			good := chapData(t, chapMD5(p.ID, "pass1", c.Value), "user1")
			s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPResponse, p.ID+1, good)
			s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPResponse, p.ID, []byte{16, 0})
			s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPResponse, p.ID, good)
			s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPResponse, p.ID, good)
			s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPResponse, p.ID+1, good)
		},
		sent: []string{"[CHAP Challenge", `[CHAP Success`, `[CHAP Success`},
		at:   []time.Duration{0, 0, 0},
	}, {
		// pppd acknowledges a repeated Authenticate-Request after its
		// Ack (which was lost), whatever its Identifier, and ignores a
		// malformed one.
		name:    "PAP request repeated",
		require: ppp.AuthPAP,
		client: func(t *testing.T, s *script, p ppp.Packet) {
			if p.Protocol != 0 {
				return
			}
			s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthReq, 1, []byte{9, 'u'})
			s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthReq, 2, papReq(t, "user1", "pass1"))
			s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthReq, 3, papReq(t, "user1", "pass1"))
			s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthReq, 4, []byte{9, 'u'})
		},
		sent: []string{`[PAP AuthAck id=0x2 "Login ok"]`, `[PAP AuthAck id=0x3 "Login ok"]`},
		at:   []time.Duration{0, 0},
	}, {
		name:      "no secrets",
		require:   ppp.AuthPAP,
		noSecrets: true,
		client: func(t *testing.T, s *script, p ppp.Packet) {
			if p.Protocol == 0 {
				s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthReq, 1, papReq(t, "user1", "pass1"))
			}
		},
		detail: `PAP authentication of "user1" failed`,
		sent:   []string{`[PAP AuthNak id=0x1 "Login incorrect"]`},
		at:     []time.Duration{0},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				sent := &authLog{}
				runScript(a, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xc1)},
					func(s *script, _ ppp.Packet) {
						if tt.client != nil {
							tt.client(t, s, ppp.Packet{})
						}
					},
					func(s *script, p ppp.Packet) {
						switch {
						case p.Protocol == ppp.ProtoPAP || p.Protocol == ppp.ProtoCHAP:
							sent.add(p)
							if tt.client != nil {
								tt.client(t, s, p)
							}
						case p.Code == ppp.CodeTermReq:
							s.end.Send(p.Protocol, ppp.CodeTermAck, p.ID, nil)
						}
					}))
				cfg := serverConfig(tt.require, false, true, nil)
				cfg.AuthTimeout = time.Hour
				if tt.authTimeout != 0 {
					cfg.AuthTimeout = tt.authTimeout
				}
				if tt.noSecrets {
					cfg.Secrets = nil
				}
				sent.t0 = time.Now()
				srv := start(cfg, b)
				if tt.detail == "" {
					synctest.Wait()
					if au, ok := find[ppp.Authenticated](srv.rec); !ok || au.Peer != "user1" {
						t.Errorf("not authenticated: %s", kinds(srv.rec))
					}
					srv.s.Close("")
				}
				d := srv.waitFor(t, 2*time.Hour)
				if tt.detail != "" && (d.Reason != ppp.ReasonPeerAuthFailed || d.Detail != tt.detail) {
					t.Errorf("down %v, want %q", d, tt.detail)
				}
				packets, at := sent.all()
				var got []string
				for _, p := range packets {
					got = append(got, p.String())
				}
				if len(got) != len(tt.sent) {
					t.Fatalf("sent %q, want %q", got, tt.sent)
				}
				for i := range got {
					if !strings.HasPrefix(got[i], tt.sent[i]) || i > 0 && strings.HasPrefix(got[i], "[CHAP Challenge") && got[i] != got[0] {
						t.Errorf("sent %q, want %q (Challenges all the same)", got, tt.sent)
						break
					}
				}
				if !sameTimes(at, tt.at) {
					t.Errorf("sent at %v, want at %v", at, tt.at)
				}
			})
		})
	}
}
