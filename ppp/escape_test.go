package ppp_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/mschap"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// rawHandler writes records as a naive terminal logger would: message
// and values as they are, unquoted. slog's own handlers quote; a
// journal, a syslog line or a custom handler may not, so text from the
// wire must be escaped before it reaches any of them.
type rawHandler struct {
	mu    *sync.Mutex
	w     io.Writer
	attrs []slog.Attr
}

func (h rawHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h rawHandler) WithAttrs(a []slog.Attr) slog.Handler {
	h.attrs = append(append([]slog.Attr(nil), h.attrs...), a...)
	return h
}
func (h rawHandler) WithGroup(string) slog.Handler { return h }
func (h rawHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	fmt.Fprintf(h.w, "%s %s", r.Level, r.Message)
	for _, a := range h.attrs {
		fmt.Fprintf(h.w, " %s=%v", a.Key, a.Value.Any())
	}
	r.Attrs(func(a slog.Attr) bool {
		fmt.Fprintf(h.w, " %s=%v", a.Key, a.Value.Any())
		return true
	})
	_, err := io.WriteString(h.w, "\n")
	return err
}

// hostileText is what a hostile peer writes into every text field: a
// terminal title change, a screen clear, a right-to-left override, and
// a line break to forge a log line.
const hostileText = "\x1b]0;pwned\x07\x1b[2J\u202eevil\r\nlevel=ERROR msg=forged"

// controlIn returns the first control character or bidirectional
// override in s, other than the newlines between log records.
func controlIn(s string) (rune, bool) {
	for _, r := range s {
		if r < 0x20 && r != '\n' || r == 0x7f || r >= 0x80 && r < 0xa0 || r == '\u202e' {
			return r, true
		}
	}
	return 0, false
}

// Every text a peer controls (Terminate text, PAP and CHAP messages,
// MS-CHAP failure texts, Identification, Time-Remaining, user names) is
// escaped before it reaches a log line or the session's Down detail.
func TestWireTextEscaped(t *testing.T) {
	h := []byte(hostileText)
	esc := `\x1b]0;pwned\a\x1b[2J\u202eevil\r\nlevel=ERROR msg=forged` // as peerlog.Text escapes it
	papMsg := func(msg []byte) []byte { d, _ := ppp.PAPResponse{Message: msg}.Append(nil); return d }
	chal := func(name []byte, n int) []byte {
		d, _ := ppp.CHAPChallenge{Value: make([]byte, n), Name: name}.Append(nil)
		return d
	}
	tests := []struct {
		name   string
		server bool // we are the server; the script plays the client
		auth   ppp.AuthProtocol
		peer   func(s *script, p ppp.Packet) // after LCP is open (Protocol 0: just opened)
		want   []string                      // in the log, or after "DOWN " the Down error
	}{{
		name: "Terminate-Request text",
		want: []string{"DOWN ppp: terminated by peer: " + esc},
		auth: ppp.AuthProtocol{Protocol: ppp.ProtoPAP},
		peer: func(s *script, p ppp.Packet) {
			if p.Protocol == ppp.ProtoPAP {
				s.end.Send(ppp.ProtoLCP, ppp.CodeTermReq, 7, h)
			}
		},
	}, {
		name: "PAP Nak message",
		want: []string{"DOWN ppp: authentication failed: " + esc},
		auth: ppp.AuthProtocol{Protocol: ppp.ProtoPAP},
		peer: func(s *script, p ppp.Packet) {
			if p.Protocol == ppp.ProtoPAP {
				s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthNak, p.ID, papMsg(h))
			}
		},
	}, {
		name: "PAP Ack message, Identification, Time-Remaining",
		want: []string{"ppp: authenticated to the peer method=pap message=" + esc, "ppp: peer identification message=" + esc, "ppp: peer announces time remaining seconds=9 message=" + esc},
		auth: ppp.AuthProtocol{Protocol: ppp.ProtoPAP},
		peer: func(s *script, p ppp.Packet) {
			if p.Protocol == ppp.ProtoPAP {
				s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthAck, p.ID, papMsg(h))
				s.end.Send(ppp.ProtoLCP, ppp.CodeIdentif, 1, append([]byte{0, 0, 0, 0}, h...))
				s.end.Send(ppp.ProtoLCP, ppp.CodeTimeRemaining, 2, append([]byte{0, 0, 0, 0, 0, 0, 0, 9}, h...))
				s.end.Send(ppp.ProtoLCP, ppp.CodeTermReq, 7, h)
			}
		},
	}, {
		name: "CHAP challenger's name, Success message",
		want: []string{"ppp: authenticated to the peer method=chap message=" + esc},
		auth: ppp.AuthProtocol{Protocol: ppp.ProtoCHAP, Algorithm: ppp.CHAPMD5},
		peer: func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == 0:
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPChallenge, 1, chal(h, 16))
			case p.Protocol == ppp.ProtoCHAP && p.Code == ppp.CodeCHAPResponse:
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPSuccess, p.ID, h)
				s.end.Send(ppp.ProtoLCP, ppp.CodeTermReq, 7, h)
			}
		},
	}, {
		name: "CHAP Failure message",
		want: []string{"DOWN ppp: authentication failed: " + esc},
		auth: ppp.AuthProtocol{Protocol: ppp.ProtoCHAP, Algorithm: ppp.CHAPMD5},
		peer: func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == 0:
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPChallenge, 1, chal(h, 16))
			case p.Protocol == ppp.ProtoCHAP && p.Code == ppp.CodeCHAPResponse:
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPFailure, p.ID, h)
			}
		},
	}, {
		name: "MS-CHAPv2 Failure message",
		want: []string{"DOWN ppp: authentication failed: E=691 R=0 V=3 M=" + esc + " (authentication failure)"},
		auth: ppp.AuthProtocol{Protocol: ppp.ProtoCHAP, Algorithm: ppp.CHAPMSCHAPv2},
		peer: func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == 0:
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPChallenge, 1, chal(h, 16))
			case p.Protocol == ppp.ProtoCHAP && p.Code == ppp.CodeCHAPResponse:
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPFailure, p.ID, []byte("E=691 R=0 V=3 M="+hostileText))
			}
		},
	}, {
		name: "MS-CHAPv2 Success from an impostor",
		want: []string{"it does not know our password (S=" + strings.Repeat("0", 40) + " M=" + esc + ")"},
		auth: ppp.AuthProtocol{Protocol: ppp.ProtoCHAP, Algorithm: ppp.CHAPMSCHAPv2},
		peer: func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == 0:
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPChallenge, 1, chal(h, 16))
			case p.Protocol == ppp.ProtoCHAP && p.Code == ppp.CodeCHAPResponse:
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPSuccess, p.ID, []byte(mschap.Success{Message: hostileText}.String()))
			}
		},
	}, {
		name:   "user name of a failed PAP request",
		want:   []string{`DOWN ppp: peer failed authentication: PAP authentication of "` + esc + `" failed`},
		server: true,
		auth:   ppp.AuthProtocol{Protocol: ppp.ProtoPAP},
		peer: func(s *script, p ppp.Packet) {
			if p.Protocol == 0 {
				d, _ := ppp.PAPRequest{PeerID: h, Password: []byte("x")}.Append(nil)
				s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthReq, 1, d)
			}
		},
	}, {
		name:   "user name of a failed CHAP response",
		want:   []string{`DOWN ppp: peer failed authentication: chap authentication of "` + esc + `" failed`},
		server: true,
		auth:   ppp.AuthProtocol{Protocol: ppp.ProtoCHAP, Algorithm: ppp.CHAPMD5},
		peer: func(s *script, p ppp.Packet) {
			if p.Protocol == ppp.ProtoCHAP && p.Code == ppp.CodeCHAPChallenge {
				s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPResponse, p.ID, chal(h, 16))
			}
		},
	}, {
		name:   "user name of a successful PAP request",
		want:   []string{"ppp: peer authenticated method=pap user=" + esc},
		server: true,
		auth:   ppp.AuthProtocol{Protocol: ppp.ProtoPAP},
		peer: func(s *script, p ppp.Packet) {
			if p.Protocol == 0 {
				d, _ := ppp.PAPRequest{PeerID: h, Password: []byte("pw")}.Append(nil)
				s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthReq, 1, d)
				s.end.Send(ppp.ProtoLCP, ppp.CodeTermReq, 7, h)
			}
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				var logs strings.Builder
				logger := slog.New(rawHandler{mu: &sync.Mutex{}, w: &logs})
				var r *run
				if tt.server {
					m := ppp.AuthPAP
					if tt.auth.Protocol == ppp.ProtoCHAP {
						m = ppp.AuthCHAPMD5
					}
					scfg := serverConfig(m, true, false, ppptest.NewPool(clientAddr, 1))
					scfg.Secrets = ppp.Secrets{hostileText: "pw"}
					scfg.Logger = logger
					runScript(a, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xc1)},
						func(s *script, _ ppp.Packet) { tt.peer(s, ppp.Packet{}) },
						func(s *script, p ppp.Packet) {
							if p.Code == ppp.CodeTermReq && p.Protocol == ppp.ProtoLCP {
								s.end.Send(p.Protocol, ppp.CodeTermAck, p.ID, nil)
								return
							}
							tt.peer(s, p)
						}))
					r = start(scfg, b)
				} else {
					runScript(b, acScript(t, tt.auth, func(s *script, p ppp.Packet) {
						if p.Code == ppp.CodeTermReq && p.Protocol == ppp.ProtoLCP {
							s.end.Send(p.Protocol, ppp.CodeTermAck, p.ID, nil)
							return
						}
						tt.peer(s, p)
					}))
					ccfg := clientConfig(true, false)
					ccfg.IPv4.Local = clientAddr
					ccfg.Logger = logger
					switch tt.auth.Algorithm {
					case ppp.CHAPMD5:
						ccfg.Allow = []ppp.AuthMethod{ppp.AuthCHAPMD5}
					case ppp.CHAPMSCHAPv2:
						ccfg.Allow = []ppp.AuthMethod{ppp.AuthMSCHAPv2}
					}
					r = start(ccfg, a)
				}
				synctest.Wait()
				r.s.Close("")
				d := r.wait(t)
				if c, bad := controlIn(d.Detail); bad {
					t.Errorf("Down detail has %q: %q", c, d.Detail)
				}
				if c, bad := controlIn(logs.String()); bad {
					t.Errorf("the log has %q:\n%s", c, logs.String())
				}
				all := logs.String() + "DOWN " + d.Error()
				for _, w := range tt.want {
					if !strings.Contains(all, w) {
						t.Errorf("no %q in\n%s", w, all)
					}
				}
				// An event's text is data, and stays as the peer sent it.
				if au, ok := find[ppp.Authenticated](r.rec); ok && au.Peer != "" && au.Peer != hostileText {
					t.Errorf("Authenticated.Peer = %q, want the name as sent", au.Peer)
				}
			})
		})
	}
}
