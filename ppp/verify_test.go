package ppp_test

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/mschap"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// The authenticator's external verifier (Config.Verify): what an AC asks
// RADIUS about a user its Secrets do not hold, on a goroutine of its
// own, with the verdict coming back as one of the session's events.

const (
	rUser = "radius1"      // a user only the verifier knows
	rPass = "rpass-5ecret" // its password, which no log may show
	// lPass is a local fallback's password that is not the client's.
	lPass = "local-5ecret"
)

// verifier is a Config.Verify that records what it was asked, and how
// its context stood when it answered.
type verifier struct {
	mu    sync.Mutex
	creds []ppp.Credentials // deep copies, as asked
	// errs is ctx.Err() as each call returned, by call; returned counts
	// the calls that have.
	errs     []error
	returned int
	// released counts the calls whose context was done: cancelled once
	// the authentication is abandoned, or once its verdict is taken.
	released int
	// fn answers the n-th call (from 0).
	fn func(ctx context.Context, n int, c ppp.Credentials) ppp.Verdict
}

func (v *verifier) verify(ctx context.Context, c ppp.Credentials) ppp.Verdict {
	v.mu.Lock()
	n := len(v.creds)
	v.creds = append(v.creds, ppp.Credentials{Method: c.Method, User: c.User, Password: bytes.Clone(c.Password),
		ID: c.ID, Challenge: bytes.Clone(c.Challenge), Response: bytes.Clone(c.Response)})
	v.errs = append(v.errs, nil)
	v.mu.Unlock()
	context.AfterFunc(ctx, func() {
		v.mu.Lock()
		v.released++
		v.mu.Unlock()
	})
	verdict := v.fn(ctx, n, c)
	v.mu.Lock()
	v.errs[n] = ctx.Err()
	v.returned++
	v.mu.Unlock()
	return verdict
}

func (v *verifier) releasedCount() int {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.released
}

// asked returns what the verifier was asked and, once every call has
// returned, ctx.Err() as each did (nil before).
func (v *verifier) asked() ([]ppp.Credentials, []error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	var errs []error
	if v.returned == len(v.creds) {
		errs = append(errs, v.errs...)
	}
	return append([]ppp.Credentials(nil), v.creds...), errs
}

// radiusCheck is what a RADIUS server makes of c for a user whose
// password is pass: whether the credentials are good, and for MS-CHAPv2
// the Success message with the authenticator response worked out with
// pass (RFC 2759 §5, RFC 2548 §2.3.3's MS-CHAP2-Success).
func radiusCheck(c ppp.Credentials, pass string) (bool, []byte) {
	switch c.Method {
	case ppp.AuthPAP:
		return bytes.Equal(c.Password, []byte(pass)), nil
	case ppp.AuthCHAPMD5:
		return bytes.Equal(c.Response, chapMD5(c.ID, pass, c.Challenge)), nil
	case ppp.AuthMSCHAPv1:
		r, err := mschap.ParseV1Response(c.Response)
		return err == nil && r.NTResponse == mschap.NTChallengeResponse([8]byte(c.Challenge), pass), nil
	case ppp.AuthMSCHAPv2:
		r, err := mschap.ParseV2Response(c.Response)
		if err != nil {
			return false, nil
		}
		good := r.NTResponse == mschap.GenerateNTResponse([16]byte(c.Challenge), r.PeerChallenge, c.User, pass)
		auth := mschap.GenerateAuthenticatorResponse(pass, r.NTResponse, r.PeerChallenge, [16]byte(c.Challenge), c.User)
		return good, []byte(mschap.Success{AuthResponse: auth, Message: "welcome mschap2"}.String())
	}
	return false, nil
}

// wire records every frame on a pipe, parsed, with the fake time it was
// written at.
type wire struct {
	mu      sync.Mutex
	t0      time.Time
	packets []wirePacket
}

type wirePacket struct {
	from string
	at   time.Duration
	p    ppp.Packet
}

func newWire() *wire { return &wire{t0: time.Now()} }

func (w *wire) tap(from string, proto ppp.Protocol, b []byte, _ bool) {
	p, err := ppp.Parse(proto, b)
	if err != nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.packets = append(w.packets, wirePacket{from: from, at: time.Since(w.t0), p: p})
}

// auth returns the PAP and CHAP packets from one end ("a" or "b").
func (w *wire) auth(from string) []wirePacket {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []wirePacket
	for _, wp := range w.packets {
		if wp.from == from && (wp.p.Protocol == ppp.ProtoPAP || wp.p.Protocol == ppp.ProtoCHAP) {
			out = append(out, wp)
		}
	}
	return out
}

// answers are the authenticator's verdicts among packets: Ack, Nak,
// Success, Failure.
func answers(packets []wirePacket) []wirePacket {
	var out []wirePacket
	for _, wp := range packets {
		if wp.p.Protocol == ppp.ProtoPAP || wp.p.Code == ppp.CodeCHAPSuccess || wp.p.Code == ppp.CodeCHAPFailure {
			out = append(out, wp)
		}
	}
	return out
}

// message is what an answer says: a PAP message, or a CHAP packet's
// data.
func message(t *testing.T, p ppp.Packet) []byte {
	t.Helper()
	if p.Protocol != ppp.ProtoPAP {
		return p.Data
	}
	r, err := ppp.ParsePAPResponse(p.Data)
	if err != nil {
		t.Errorf("the AC's %v is malformed: %v", p, err)
	}
	return r.Message
}

// acSide is the AC's session, run by Run or by Start (over a FrameSink).
type acSide struct {
	s    *ppp.Session
	rec  *recorder
	wait func(t *testing.T) *ppp.DownError
}

var acModes = []string{"run", "start"}

func startAC(mode string, cfg ppp.Config, link *ppptest.End) *acSide {
	if mode == "start" {
		r := startEvents(context.Background(), cfg, newSinkLink(link))
		return &acSide{s: r.s, rec: r.rec, wait: r.wait}
	}
	r := start(cfg, link)
	return &acSide{s: r.s, rec: r.rec, wait: r.wait}
}

var allMethods = []ppp.AuthMethod{ppp.AuthPAP, ppp.AuthCHAPMD5, ppp.AuthMSCHAPv1, ppp.AuthMSCHAPv2}

// verifyCase is one of TestVerify's.
type verifyCase struct {
	name       string
	methods    []ppp.AuthMethod // nil: all
	user, pass string           // the client's; default rUser, rPass
	verdict    func(c ppp.Credentials) ppp.Verdict
	authorize  error // Authorize's answer
	calls      int   // of Verify
	up         bool  // the client authenticated
	// said is in the AC's answer (its message), per method; nil: ppp's
	// own (success or failure as up says).
	said func(m ppp.AuthMethod) string
	// check, when set, sees the AC's answer.
	check func(t *testing.T, m ppp.AuthMethod, answer ppp.Packet)
	// clientLog: in the client's log; clientDown, serverDown: in the
	// Down details, when not up.
	clientLog, clientDown, serverDown string
	serverReason                      ppp.Reason // default PeerAuthFailed
}

// A user Secrets does not hold is put to the verifier, our own client
// authenticating, for each method and each way of running the AC: the
// verdict (accepted, refused, or left to a local password) is what the
// client gets, with the verifier's message or ppp's own, and it then
// passes Authorize as a locally checked user does. A user Secrets holds
// is checked here, and the verifier never asked. The verifier is asked
// with the credentials on the wire, in slices of its own, and neither
// its local password nor the client's reaches the AC's log.
func TestVerify(t *testing.T) {
	accept := func(msg string) func(c ppp.Credentials) ppp.Verdict {
		return func(c ppp.Credentials) ppp.Verdict {
			ok, success := radiusCheck(c, rPass)
			if c.Method != ppp.AuthMSCHAPv2 {
				success = []byte(msg)
			}
			return ppp.Verdict{Accept: ok, Message: success}
		}
	}
	// ppp's own failure message, per method.
	ownFailure := map[ppp.AuthMethod]string{ppp.AuthPAP: "Login incorrect", ppp.AuthCHAPMD5: "Access denied",
		ppp.AuthMSCHAPv1: "E=691 R=0", ppp.AuthMSCHAPv2: "E=691 R=0 C="}
	ownSuccess := map[ppp.AuthMethod]string{ppp.AuthPAP: "Login ok", ppp.AuthCHAPMD5: "Access granted",
		ppp.AuthMSCHAPv1: "Access granted", ppp.AuthMSCHAPv2: " M=Access granted"}
	const refusal = "one session per user (test)"
	tests := []verifyCase{{
		name:      "accepted with the verifier's message",
		verdict:   accept("welcome radius1"),
		calls:     1,
		up:        true,
		said:      func(ppp.AuthMethod) string { return "welcome" },
		clientLog: "welcome",
	}, {
		name:    "accepted with ppp's message",
		methods: []ppp.AuthMethod{ppp.AuthPAP, ppp.AuthCHAPMD5, ppp.AuthMSCHAPv1},
		verdict: func(c ppp.Credentials) ppp.Verdict {
			ok, _ := radiusCheck(c, rPass)
			return ppp.Verdict{Accept: ok}
		},
		calls: 1,
		up:    true,
	}, {
		// A PAP message has one octet of length (RFC 1334 §2.2.2), and
		// no packet may exceed the client's MRU, 1492 (RFC 1661 §6.1):
		// a verifier's long message is cut to fit.
		name: "accepted with a message too long for a packet",
		verdict: func(c ppp.Credentials) ppp.Verdict {
			v := accept(strings.Repeat("x", 2000))(c)
			if c.Method == ppp.AuthMSCHAPv2 {
				v.Message = append(v.Message, strings.Repeat("x", 2000)...)
			}
			return v
		},
		calls: 1,
		up:    true,
		said:  func(ppp.AuthMethod) string { return "xxxxxxxx" },
		check: func(t *testing.T, m ppp.AuthMethod, answer ppp.Packet) {
			want := 1492 - 4
			if m == ppp.AuthPAP {
				want = 255
			}
			if got := len(message(t, answer)); got != want {
				t.Errorf("the answer's message has %d octets, want %d", got, want)
			}
		},
	}, {
		name: "refused with the verifier's message",
		verdict: func(ppp.Credentials) ppp.Verdict {
			return ppp.Verdict{Message: []byte("E=691 R=0 V=3 M=go away"), Detail: "unknown to \x1b[2Jradius"}
		},
		calls:      1,
		said:       func(ppp.AuthMethod) string { return "E=691 R=0 V=3 M=go away" },
		clientDown: "go away",
		// The verifier's detail, escaped.
		serverDown: `authentication of "radius1" failed: unknown to \x1b[2Jradius`,
	}, {
		name:       "refused with ppp's message",
		verdict:    func(ppp.Credentials) ppp.Verdict { return ppp.Verdict{} },
		calls:      1,
		serverDown: `authentication of "radius1" failed`,
	}, {
		// The verifier's fallback to a local user: checked here, as if
		// Secrets held it, MS-CHAPv2's authenticator response included.
		// The verifier scribbles on what it was given: its own copies.
		name: "local password, right",
		verdict: func(c ppp.Credentials) ppp.Verdict {
			for _, b := range [][]byte{c.Password, c.Challenge, c.Response} {
				clear(b)
			}
			return ppp.Verdict{Local: true, Password: rPass, Detail: "no RADIUS server answered"}
		},
		calls: 1,
		up:    true,
	}, {
		name: "local password, wrong",
		verdict: func(ppp.Credentials) ppp.Verdict {
			return ppp.Verdict{Local: true, Password: lPass, Detail: "no RADIUS server answered"}
		},
		calls:      1,
		serverDown: `authentication of "radius1" failed: no RADIUS server answered`,
	}, {
		name:      "Authorize refuses",
		verdict:   accept("welcome radius1"),
		authorize: errors.New(refusal),
		calls:     1,
		// ppp's own failure, not the verifier's welcome.
		serverDown: `authentication of "radius1" refused: ` + refusal,
	}, {
		// A verifier accepting anyone is never asked about a user that
		// Secrets holds.
		name: "a local user",
		user: "user1",
		pass: "pass1",
		verdict: func(ppp.Credentials) ppp.Verdict {
			return ppp.Verdict{Accept: true, Message: []byte("S=" + strings.Repeat("0", 40))}
		},
		up: true,
	}, {
		name: "a local user, wrong password",
		user: "user1",
		pass: "wrong",
		verdict: func(ppp.Credentials) ppp.Verdict {
			return ppp.Verdict{Accept: true, Message: []byte("S=" + strings.Repeat("0", 40))}
		},
		serverDown: `authentication of "user1" failed`,
	}, {
		// RFC 2759 §5: our client checks the authenticator response,
		// which the verifier worked out: for another password, the
		// client hangs up.
		name:    "accepted, authenticator response for another password",
		methods: []ppp.AuthMethod{ppp.AuthMSCHAPv2},
		verdict: func(c ppp.Credentials) ppp.Verdict {
			ok, _ := radiusCheck(c, rPass)
			_, success := radiusCheck(c, "another")
			return ppp.Verdict{Accept: ok, Message: success}
		},
		calls:        1,
		said:         func(ppp.AuthMethod) string { return "S=" },
		clientDown:   "does not know our password",
		serverReason: ppp.ReasonPeerTerminated,
	}}
	// An MS-CHAPv2 Accept must carry the Success text, "S=" and 40 hex
	// digits: without one the authentication fails.
	for _, bad := range []struct{ name, msg string }{
		{"none", ""},
		{"no S=", "M=welcome"},
		{"lower-case s=", "s=" + strings.Repeat("A", 40)},
		{"a digit short", "S=" + strings.Repeat("A", 39)},
		{"not hex", "S=" + strings.Repeat("A", 39) + "G M=welcome"},
	} {
		tests = append(tests, verifyCase{
			name:    "accepted without a Success text: " + bad.name,
			methods: []ppp.AuthMethod{ppp.AuthMSCHAPv2},
			verdict: func(ppp.Credentials) ppp.Verdict {
				v := ppp.Verdict{Accept: true, Detail: "from radius"}
				if bad.msg != "" {
					// Clipped: a look past its length would find
					// nothing (and panic).
					v.Message = slices.Clip([]byte(bad.msg))
				}
				return v
			},
			calls:      1,
			serverDown: `mschap2 authentication of "radius1" failed: the verifier's MS-CHAPv2 Success lacks S=<40 hex digits> (from radius)`,
		})
	}
	for _, mode := range acModes {
		for _, m := range allMethods {
			for _, tt := range tests {
				if tt.methods != nil && !containsMethod(tt.methods, m) {
					continue
				}
				t.Run(mode+"/"+m.String()+"/"+tt.name, func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						w := newWire()
						a, b := ppptest.Pipe(ppptest.Config{Tap: w.tap})
						v := &verifier{fn: func(_ context.Context, _ int, c ppp.Credentials) ppp.Verdict { return tt.verdict(c) }}
						var srvLog, cliLog strings.Builder
						scfg := serverConfig(m, false, true, nil)
						scfg.Verify = v.verify
						scfg.Logger = textLogger(&srvLog)
						var authorized []string
						scfg.Authorize = func(peer string) (*ppp.Authorization, error) {
							authorized = append(authorized, peer)
							return nil, tt.authorize
						}
						srv := startAC(mode, scfg, b)
						ccfg := clientConfig(false, true)
						ccfg.User, ccfg.Password = rUser, rPass
						if tt.user != "" {
							ccfg.User, ccfg.Password = tt.user, tt.pass
						}
						ccfg.Logger = textLogger(&cliLog)
						cli := start(ccfg, a)
						synctest.Wait()

						creds, _ := v.asked()
						if len(creds) != tt.calls {
							t.Errorf("Verify asked %d times, want %d", len(creds), tt.calls)
						}
						if len(creds) > 0 {
							checkCredentials(t, m, creds[0], w)
						}
						acAnswers := answers(w.auth("b"))
						if len(acAnswers) != 1 {
							t.Fatalf("the AC answered %d times, want once: %v", len(acAnswers), acAnswers)
						}
						answer := acAnswers[0].p
						said := ""
						if tt.said != nil {
							said = tt.said(m)
						} else if tt.up {
							said = ownSuccess[m]
						} else {
							said = ownFailure[m]
						}
						if msg := message(t, answer); !bytes.Contains(msg, []byte(said)) {
							t.Errorf("the AC's answer %v does not say %q", answer, said)
						}
						if tt.check != nil {
							tt.check(t, m, answer)
						}
						if tt.up {
							if au, ok := find[ppp.Authenticated](srv.rec); !ok || au.Peer != ccfg.User {
								t.Errorf("AC: %s, %+v", kinds(srv.rec), au)
							}
							if _, ok := find[ppp.Authenticated](cli.rec); !ok {
								t.Errorf("client not authenticated: %s", kinds(cli.rec))
							}
							if len(authorized) != 1 || authorized[0] != ccfg.User {
								t.Errorf("Authorize asked about %q, want %q once", authorized, ccfg.User)
							}
							cli.s.Close("")
							cli.wait(t)
							srv.wait(t)
						} else {
							cd, sd := cli.wait(t), srv.wait(t)
							want := tt.serverReason
							if want == ppp.ReasonUnknown {
								want = ppp.ReasonPeerAuthFailed
							}
							if cd.Reason != ppp.ReasonAuthFailed || !strings.Contains(cd.Detail, tt.clientDown) {
								t.Errorf("client down %v, want authentication failed with %q", cd, tt.clientDown)
							}
							if sd.Reason != want || !strings.Contains(sd.Detail, tt.serverDown) {
								t.Errorf("AC down %v, want %v with %q", sd, want, tt.serverDown)
							}
							if strings.ContainsRune(sd.Detail, 0x1b) {
								t.Errorf("AC down detail %q holds an escape character", sd.Detail)
							}
							if _, ok := find[ppp.Authenticated](cli.rec); ok && tt.serverReason != ppp.ReasonPeerTerminated {
								t.Error("client authenticated")
							}
						}
						if tt.clientLog != "" && !strings.Contains(cliLog.String(), tt.clientLog) {
							t.Errorf("client log lacks %q:\n%s", tt.clientLog, cliLog.String())
						}
						synctest.Wait()
						if n := v.releasedCount(); n != tt.calls {
							t.Errorf("%d of the verifier's %d contexts are done, want all", n, tt.calls)
						}
						for _, secret := range []string{rPass, lPass} {
							if strings.Contains(srvLog.String(), secret) {
								t.Errorf("the AC's log shows a password:\n%s", srvLog.String())
							}
						}
					})
				})
			}
		}
	}
}

func containsMethod(ms []ppp.AuthMethod, m ppp.AuthMethod) bool {
	for _, x := range ms {
		if x == m {
			return true
		}
	}
	return false
}

// checkCredentials compares what the verifier was asked with the wire:
// the PAP request's name and password, or the CHAP Challenge's
// Identifier and Value and the Response's Value and name.
func checkCredentials(t *testing.T, m ppp.AuthMethod, c ppp.Credentials, w *wire) {
	t.Helper()
	if c.Method != m {
		t.Errorf("Credentials.Method %v, want %v", c.Method, m)
	}
	var fromClient []ppp.Packet
	for _, wp := range w.auth("a") {
		fromClient = append(fromClient, wp.p)
	}
	if len(fromClient) == 0 {
		t.Fatal("the client sent no authentication packet")
	}
	if m == ppp.AuthPAP {
		req, err := ppp.ParsePAPRequest(fromClient[0].Data)
		if err != nil {
			t.Fatal(err)
		}
		if c.User != string(req.PeerID) || !bytes.Equal(c.Password, req.Password) || c.ID != 0 || c.Challenge != nil || c.Response != nil {
			t.Errorf("Verify asked about user %q, password %q, ID %d, challenge %x, response %x; want %q and the request's password",
				c.User, c.Password, c.ID, c.Challenge, c.Response, req.PeerID)
		}
		return
	}
	var challenge ppp.Packet
	for _, wp := range w.auth("b") {
		if wp.p.Code == ppp.CodeCHAPChallenge {
			challenge = wp.p
			break
		}
	}
	ch, err := ppp.ParseCHAPChallenge(challenge.Data)
	if err != nil {
		t.Fatalf("the AC's Challenge: %v", err)
	}
	resp, err := ppp.ParseCHAPChallenge(fromClient[0].Data)
	if err != nil || fromClient[0].Code != ppp.CodeCHAPResponse || fromClient[0].ID != challenge.ID {
		t.Fatalf("the client's Response %v: %v", fromClient[0], err)
	}
	if c.User != string(resp.Name) || c.ID != challenge.ID || !bytes.Equal(c.Challenge, ch.Value) || !bytes.Equal(c.Response, resp.Value) || c.Password != nil {
		t.Errorf("Verify asked about %+v; want user %q, ID %d, challenge %x, response %x",
			c, resp.Name, challenge.ID, ch.Value, resp.Value)
	}
}

// While the verifier works (10 s here) the AC is quiet: the client's
// repeats (PAP requests every 3 s, RFC 1334 §2.2.1; CHAP Responses
// repeated by our client every 3 s) are not answered, nor put to the
// verifier again, and no Challenge is resent. The verdict answers the
// latest PAP request, the only one the client still takes (§2.2.2).
func TestVerifyPending(t *testing.T) {
	for _, mode := range acModes {
		for _, m := range allMethods {
			t.Run(mode+"/"+m.String(), func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					w := newWire()
					a, b := ppptest.Pipe(ppptest.Config{Tap: w.tap})
					v := &verifier{fn: func(_ context.Context, _ int, c ppp.Credentials) ppp.Verdict {
						time.Sleep(10 * time.Second)
						ok, success := radiusCheck(c, rPass)
						return ppp.Verdict{Accept: ok, Message: success}
					}}
					scfg := serverConfig(m, false, true, nil)
					scfg.Verify = v.verify
					srv := startAC(mode, scfg, b)
					ccfg := clientConfig(false, true)
					ccfg.User, ccfg.Password = rUser, rPass
					cli := start(ccfg, a)
					time.Sleep(time.Minute)
					synctest.Wait()

					if creds, _ := v.asked(); len(creds) != 1 {
						t.Errorf("Verify asked %d times, want once", len(creds))
					}
					fromClient := w.auth("a")
					if len(fromClient) != 4 {
						t.Errorf("the client sent %d authentication packets, want 4 (at 0, 3, 6, 9 s)", len(fromClient))
					}
					var got []string
					for _, wp := range w.auth("b") {
						got = append(got, codeName(wp.p)+"@"+wp.at.String())
					}
					want := []string{"Success@10s"}
					if m == ppp.AuthPAP {
						want = []string{"AuthAck@10s"}
					} else {
						want = append([]string{"Challenge@0s"}, want...)
					}
					if strings.Join(got, " ") != strings.Join(want, " ") {
						t.Errorf("the AC sent %q, want %q", got, want)
					}
					if acks := answers(w.auth("b")); m == ppp.AuthPAP && len(acks) > 0 && len(fromClient) > 0 &&
						acks[0].p.ID != fromClient[len(fromClient)-1].p.ID {
						t.Errorf("the Ack has Identifier %d, want the latest request's, %d", acks[0].p.ID, fromClient[len(fromClient)-1].p.ID)
					}
					if _, ok := find[ppp.Authenticated](cli.rec); !ok {
						t.Errorf("client not authenticated: %s", kinds(cli.rec))
					}
					cli.s.Close("")
					cli.wait(t)
					srv.wait(t)
				})
			})
		}
	}
}

// An authentication abandoned while the verifier works (the session
// closed by the AC or by the client, the link lost, the deadline
// passed) cancels the verifier's context, and its verdict, coming late,
// is dropped: no packet, no panic, no goroutine left waiting to deliver
// it, even from a verifier that ignores its context and answers an hour
// later, long after the session ended.
func TestVerifyAbandoned(t *testing.T) {
	tests := []struct {
		name      string
		end       func(srv *acSide, cli *run, a *ppptest.End)
		ignoreCtx bool
		reason    ppp.Reason
		detail    string
		after     time.Duration // the AC's Down, in fake time
	}{{
		name:   "the AC closes",
		end:    func(srv *acSide, _ *run, _ *ppptest.End) { srv.s.Close("kicked") },
		reason: ppp.ReasonLocalClose,
	}, {
		name:   "the client terminates",
		end:    func(_ *acSide, cli *run, _ *ppptest.End) { cli.s.Close("bye") },
		reason: ppp.ReasonPeerTerminated,
	}, {
		name:   "the link is lost",
		end:    func(_ *acSide, _ *run, a *ppptest.End) { a.Close() },
		reason: ppp.ReasonLinkLost,
	}, {
		// The deadline runs while the verifier works, and fails the
		// peer as it always did.
		name:   "the deadline passes",
		reason: ppp.ReasonPeerAuthFailed,
		detail: "the peer did not authenticate within 20s",
		after:  20 * time.Second,
	}, {
		name:      "the AC closes, the verifier answers an hour later",
		end:       func(srv *acSide, _ *run, _ *ppptest.End) { srv.s.Close("kicked") },
		ignoreCtx: true,
		reason:    ppp.ReasonLocalClose,
	}}
	for _, mode := range acModes {
		for _, m := range []ppp.AuthMethod{ppp.AuthPAP, ppp.AuthMSCHAPv2} {
			for _, tt := range tests {
				t.Run(mode+"/"+m.String()+"/"+tt.name, func(t *testing.T) {
					synctest.Test(t, func(t *testing.T) {
						w := newWire()
						a, b := ppptest.Pipe(ppptest.Config{Tap: w.tap})
						v := &verifier{fn: func(ctx context.Context, _ int, c ppp.Credentials) ppp.Verdict {
							if tt.ignoreCtx {
								time.Sleep(time.Hour)
							} else {
								<-ctx.Done()
							}
							ok, success := radiusCheck(c, rPass)
							if success == nil {
								success = []byte("late")
							}
							return ppp.Verdict{Accept: ok, Message: success}
						}}
						scfg := serverConfig(m, false, true, nil)
						scfg.Verify = v.verify
						scfg.AuthTimeout = 20 * time.Second
						t0 := time.Now()
						srv := startAC(mode, scfg, b)
						ccfg := clientConfig(false, true)
						ccfg.User, ccfg.Password = rUser, rPass
						ccfg.AuthTimeout = time.Hour
						cli := start(ccfg, a)
						synctest.Wait()
						if creds, _ := v.asked(); len(creds) != 1 {
							t.Fatalf("Verify asked %d times, want once", len(creds))
						}
						if tt.end != nil {
							tt.end(srv, cli, a)
						}
						d := srv.wait(t)
						if d.Reason != tt.reason || tt.detail != "" && d.Detail != tt.detail {
							t.Errorf("AC down %v, want %v %q", d, tt.reason, tt.detail)
						}
						if took := time.Since(t0); took != tt.after {
							t.Errorf("AC down after %v, want %v", took, tt.after)
						}
						a.Close()
						cli.wait(t)
						time.Sleep(2 * time.Hour) // the late verdict comes
						synctest.Wait()
						if _, errs := v.asked(); len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
							t.Errorf("Verify returned with ctx.Err() %v, want once, cancelled", errs)
						}
						if got := answers(w.auth("b")); len(got) != 0 {
							t.Errorf("the AC answered: %v", got)
						}
						if _, ok := find[ppp.Authenticated](srv.rec); ok {
							t.Errorf("the AC authenticated the client: %s", kinds(srv.rec))
						}
					})
				})
			}
		}
	}
}

// An LCP renegotiation while the verifier works (RFC 1661 §3.5:
// authentication starts over) abandons its call: its context is
// cancelled, its verdict, coming afterwards, is dropped (the Accept it
// carries must not answer the new authentication), and the user, still
// unknown to Secrets, is put to the verifier again.
func TestVerifyStaleVerdict(t *testing.T) {
	for _, mode := range acModes {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWire()
				a, b := ppptest.Pipe(ppptest.Config{Tap: w.tap})
				var mu sync.Mutex
				opened := 0
				runScript(a, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xc1)}, func(s *script, _ ppp.Packet) {
					mu.Lock()
					opened++
					n := opened
					mu.Unlock()
					d, _ := ppp.PAPRequest{PeerID: []byte(rUser), Password: []byte(rPass)}.Append(nil)
					s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthReq, byte(n), d)
				}, func(s *script, p ppp.Packet) {
					if p.Code == ppp.CodeTermReq {
						s.end.Send(p.Protocol, ppp.CodeTermAck, p.ID, nil)
					}
				}))
				v := &verifier{fn: func(ctx context.Context, n int, _ ppp.Credentials) ppp.Verdict {
					if n == 0 {
						<-ctx.Done()
						return ppp.Verdict{Accept: true, Message: []byte("stale")}
					}
					return ppp.Verdict{Accept: true, Message: []byte("fresh")}
				}}
				scfg := serverConfig(ppp.AuthPAP, false, true, nil)
				scfg.Verify = v.verify
				srv := startAC(mode, scfg, b)
				synctest.Wait()
				if creds, _ := v.asked(); len(creds) != 1 {
					t.Fatalf("Verify asked %d times, want once", len(creds))
				}
				a.Send(ppp.ProtoLCP, ppp.CodeConfReq, 7, opts(t, ppp.MagicNumber(0xc2)))
				synctest.Wait()
				creds, errs := v.asked()
				if len(creds) != 2 || len(errs) != 2 || !errors.Is(errs[0], context.Canceled) || errs[1] != nil {
					t.Errorf("Verify asked %d times, returned with %v; want twice, the first cancelled", len(creds), errs)
				}
				var got []string
				for _, wp := range answers(w.auth("b")) {
					got = append(got, wp.p.String())
				}
				if want := `[PAP AuthAck id=0x2 "fresh"]`; len(got) != 1 || got[0] != want {
					t.Errorf("the AC answered %q, want only %q", got, want)
				}
				if d, down := find[ppp.Down](srv.rec); down {
					t.Fatalf("down: %+v", d)
				}
				srv.s.Close("")
				srv.wait(t)
			})
		})
	}
}

// An MS-CHAP Response that cannot be right (not 49 octets; MS-CHAPv1
// without its "use the NT response" flag, RFC 2433 §2.1.2) fails here,
// as for an unknown user without a verifier: the verifier is not
// asked.
func TestVerifyNotAskedMalformed(t *testing.T) {
	tests := []struct {
		name  string
		m     ppp.AuthMethod
		value []byte
	}{
		{"MS-CHAPv2, 48 octets", ppp.AuthMSCHAPv2, make([]byte, 48)},
		{"MS-CHAPv2, 50 octets", ppp.AuthMSCHAPv2, make([]byte, 50)},
		{"MS-CHAPv1, 48 octets", ppp.AuthMSCHAPv1, make([]byte, 48)},
		{"MS-CHAPv1, LM response only", ppp.AuthMSCHAPv1, mschap.V1Response{Flags: 0}.Marshal()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWire()
				a, b := ppptest.Pipe(ppptest.Config{Tap: w.tap})
				runScript(a, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xc1)}, nil, func(s *script, p ppp.Packet) {
					switch {
					case p.Protocol == ppp.ProtoCHAP && p.Code == ppp.CodeCHAPChallenge:
						s.end.Send(ppp.ProtoCHAP, ppp.CodeCHAPResponse, p.ID, chapData(t, tt.value, rUser))
					case p.Code == ppp.CodeTermReq:
						s.end.Send(p.Protocol, ppp.CodeTermAck, p.ID, nil)
					}
				}))
				v := &verifier{fn: func(context.Context, int, ppp.Credentials) ppp.Verdict {
					return ppp.Verdict{Accept: true, Message: []byte("S=" + strings.Repeat("0", 40))}
				}}
				scfg := serverConfig(tt.m, false, true, nil)
				scfg.Verify = v.verify
				srv := start(scfg, b)
				d := srv.wait(t)
				if creds, _ := v.asked(); len(creds) != 0 {
					t.Errorf("Verify asked about %+v", creds)
				}
				if want := tt.m.String() + ` authentication of "radius1" failed`; d.Reason != ppp.ReasonPeerAuthFailed || d.Detail != want {
					t.Errorf("down %v, want %q", d, want)
				}
				got := answers(w.auth("b"))
				if len(got) != 1 || got[0].p.Code != ppp.CodeCHAPFailure {
					t.Errorf("the AC answered %v, want a Failure", got)
				}
			})
		})
	}
}

// A peer that renegotiates LCP over and over while a slow verifier works
// leaves one abandoned call behind each time; their verdicts, all coming
// after the session ended, are dropped without any of them waiting for
// the session (more of them than a Run session's event queue holds).
func TestVerifyManyLateVerdicts(t *testing.T) {
	const renegotiations = 40
	for _, mode := range acModes {
		t.Run(mode, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWire()
				a, b := ppptest.Pipe(ppptest.Config{Tap: w.tap})
				var mu sync.Mutex
				opened := 0
				runScript(a, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xc1)}, func(s *script, _ ppp.Packet) {
					mu.Lock()
					opened++
					n := opened
					mu.Unlock()
					d, _ := ppp.PAPRequest{PeerID: []byte(rUser), Password: []byte(rPass)}.Append(nil)
					s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthReq, byte(n), d)
				}, func(s *script, p ppp.Packet) {
					if p.Code == ppp.CodeTermReq {
						s.end.Send(p.Protocol, ppp.CodeTermAck, p.ID, nil)
					}
				}))
				v := &verifier{fn: func(context.Context, int, ppp.Credentials) ppp.Verdict {
					time.Sleep(time.Hour) // deaf to its context
					return ppp.Verdict{Accept: true, Message: []byte("late")}
				}}
				scfg := serverConfig(ppp.AuthPAP, false, true, nil)
				scfg.Verify = v.verify
				srv := startAC(mode, scfg, b)
				synctest.Wait()
				for i := range renegotiations {
					a.Send(ppp.ProtoLCP, ppp.CodeConfReq, byte(0x40+i), opts(t, ppp.MagicNumber(0xc1)))
					synctest.Wait()
				}
				srv.s.Close("kicked")
				srv.wait(t)
				time.Sleep(2 * time.Hour) // every verdict comes, late
				synctest.Wait()
				creds, errs := v.asked()
				if len(creds) != renegotiations+1 || len(errs) != len(creds) {
					t.Fatalf("Verify asked %d times, %d returned; want %d", len(creds), len(errs), renegotiations+1)
				}
				for i, err := range errs {
					if !errors.Is(err, context.Canceled) {
						t.Errorf("call %d returned with ctx.Err() %v, want cancelled", i, err)
					}
				}
				if got := answers(w.auth("b")); len(got) != 0 {
					t.Errorf("the AC answered: %v", got)
				}
			})
		})
	}
}

// After an LCP renegotiation the peer authenticates again (RFC 1661
// §3.5): a user the verifier accepted is put to it again, and must keep
// the name it had, as a local user must (Config.Authorize is asked once
// per session).
func TestVerifyReauthentication(t *testing.T) {
	tests := []struct {
		name       string
		second     string // the name of the second authentication
		acks, naks int
		down       string // the AC's Down detail; "": still up
	}{
		{name: "same name", second: rUser, acks: 2},
		{name: "another name", second: "radius2", acks: 1, naks: 1,
			down: `pap authentication of "radius2" refused: the peer authenticated as "radius1" earlier in the session`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				var mu sync.Mutex
				opened := 0
				sc := runScript(a, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xc1)}, func(s *script, _ ppp.Packet) {
					mu.Lock()
					opened++
					n := opened
					mu.Unlock()
					user := rUser
					if n > 1 {
						user = tt.second
					}
					d, _ := ppp.PAPRequest{PeerID: []byte(user), Password: []byte(rPass)}.Append(nil)
					s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthReq, byte(n), d)
				}, func(s *script, p ppp.Packet) {
					if p.Code == ppp.CodeTermReq {
						s.end.Send(p.Protocol, ppp.CodeTermAck, p.ID, nil)
					}
				}))
				v := &verifier{fn: func(_ context.Context, _ int, c ppp.Credentials) ppp.Verdict {
					ok, _ := radiusCheck(c, rPass)
					return ppp.Verdict{Accept: ok}
				}}
				scfg := serverConfig(ppp.AuthPAP, false, true, nil)
				scfg.Verify = v.verify
				var authorized []string
				scfg.Authorize = func(peer string) (*ppp.Authorization, error) {
					authorized = append(authorized, peer)
					return nil, nil
				}
				srv := startAC("run", scfg, b)
				synctest.Wait()
				a.Send(ppp.ProtoLCP, ppp.CodeConfReq, 7, opts(t, ppp.MagicNumber(0xc2)))
				synctest.Wait()
				if creds, _ := v.asked(); len(creds) != 2 || creds[0].User != rUser || creds[1].User != tt.second {
					t.Errorf("Verify asked about %+v, want %s then %s", creds, rUser, tt.second)
				}
				if acks, naks := sc.count("PAP AuthAck"), sc.count("PAP AuthNak"); acks != tt.acks || naks != tt.naks {
					t.Errorf("%d Acks, %d Naks; want %d, %d", acks, naks, tt.acks, tt.naks)
				}
				if len(authorized) != 1 || authorized[0] != rUser {
					t.Errorf("Authorize asked about %q, want %q once", authorized, rUser)
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
