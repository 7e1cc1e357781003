package loadgen

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/ppp"
	"go.uber.org/goleak"
)

// Every test must leave no goroutine behind: Stop waits for the
// generator's, close for the test AC's.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// hop is the segment's delay each way: it gives the runs a duration.
const hop = time.Millisecond

type harness struct {
	g   *Generator
	ac  *testAC
	gen *end
}

// setup starts a test AC requiring method of users, shaped by opts, and a
// generator of cfg against it. Call stop.
func setup(t *testing.T, cfg Config, method ppp.AuthMethod, users ppp.Secrets, opts ...func(*harness)) *harness {
	t.Helper()
	gen, acEnd := newSegment(hop)
	h := &harness{ac: newTestAC(t, acEnd, method, users), gen: gen}
	for _, o := range opts {
		o(h)
	}
	g, err := StartConn(gen, cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.g = g
	// After h.g is set: hooks may use it. Frames wait for it in its queue.
	h.ac.start()
	return h
}

// stop stops the generator, then the AC, and returns the generator's
// final result.
func (h *harness) stop(t *testing.T) *Result {
	t.Helper()
	r, err := h.g.Stop()
	if err != nil {
		t.Errorf("Stop: %v", err)
	}
	synctest.Wait() // the AC has handled what the generator sent last
	h.ac.close()
	return r
}

func wait(t *testing.T, g *Generator) *Result {
	t.Helper()
	r, err := g.Wait(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// TestAllUp: every client comes up with each authentication method, with
// its own session and address, and Stop ends every session with an LCP
// Terminate-Request (the AC's session ends as terminated by its peer)
// and a PADT from the client's MAC with its session id.
func TestAllUp(t *testing.T) {
	for _, m := range []ppp.AuthMethod{ppp.AuthPAP, ppp.AuthCHAPMD5, ppp.AuthMSCHAPv2} {
		t.Run(m.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				const n = 20
				h := setup(t, Config{N: n, User: "u", Password: "pw"}, m, ppp.Secrets{"u": "pw"})
				r := wait(t, h.g)
				if r.Up != n || r.Failed != 0 || r.UniqueAddrs != n || r.DuplicateSessions != 0 {
					t.Fatalf("result: %v", r)
				}
				if r.SetupTime() <= 0 || r.Rate() != float64(n)/r.SetupTime().Seconds() {
					t.Errorf("set-up time %v, rate %v", r.SetupTime(), r.Rate())
				}
				for i, c := range r.Clients {
					if c.Index != i || !bytes.Equal(c.MAC, clientMAC(DefaultMACBase, i)) || c.User != "u" {
						t.Errorf("client %d: index %d, MAC %v, user %q", i, c.Index, c.MAC, c.User)
					}
					if c.FirstPADI.IsZero() || c.PADS.Before(c.FirstPADI) || c.LinkUp.Before(c.PADS) || c.Up.Before(c.LinkUp) ||
						c.PADIs != 1 || c.PADRs != 1 || !c.Addr.IsValid() || !bytes.Equal(c.AC, acMAC) || c.SessionID == 0 {
						t.Errorf("client %d: %+v", i, c)
					}
					if c.FirstPADI.Before(r.Start) || c.Up.After(r.LastUp) {
						t.Errorf("client %d outside [Start, LastUp]", i)
					}
				}
				final := h.stop(t)
				if final.Up != n || final.Dropped != 0 || final.Failed != 0 {
					t.Errorf("after Stop: %v", final)
				}
				for _, c := range final.Clients {
					if got := h.ac.padtsFrom(c.MAC); !slices.Equal(got, []uint16{c.SessionID}) {
						t.Errorf("client %d: PADTs for %#x, want one for %#x", c.Index, got, c.SessionID)
					}
					s := h.ac.sessionOf(c.SessionID)
					s.mu.Lock()
					if !s.ended || s.endedBy != ppp.ReasonPeerTerminated {
						t.Errorf("client %d: AC's session ended %v by %v, want terminated by peer", c.Index, s.ended, s.endedBy)
					}
					s.mu.Unlock()
				}
			})
		})
	}
}

// TestCredentials: Credentials gives each client its own; a wrong
// password fails that client alone, by the PPP reason; no password is
// kept in the result.
func TestCredentials(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		users := ppp.Secrets{}
		for i := range 5 {
			users[fmt.Sprintf("u%d", i)] = "s3cr3t"
		}
		cfg := Config{N: 5, Credentials: func(i int) (string, string) {
			if i == 3 {
				return "u3", "s3cr3t-wrong"
			}
			return fmt.Sprintf("u%d", i), "s3cr3t"
		}}
		h := setup(t, cfg, ppp.AuthCHAPMD5, users)
		r := wait(t, h.g)
		h.stop(t)
		if r.Up != 4 || r.Failed != 1 || !slices.Equal(r.Failures, []Count{{"ppp: authentication failed", 1}}) {
			t.Fatalf("result: %v", r)
		}
		if c := r.Clients[3]; c.Failure != "ppp: authentication failed" || !c.Up.IsZero() {
			t.Errorf("client 3: %+v", c)
		}
		for i, c := range r.Clients {
			if c.User != fmt.Sprintf("u%d", i) {
				t.Errorf("client %d: user %q", i, c.User)
			}
		}
		if s := fmt.Sprintf("%+v %v", r, r); strings.Contains(s, "s3cr3t") {
			t.Errorf("a password is in the result: %s", s)
		}
	})
}

// TestPADIRetransmit: PADIs go out until a PADO comes, each wait double
// the one before, PADIAttempts at most; with no answer the client fails
// once the last wait is over.
func TestPADIRetransmit(t *testing.T) {
	for _, tc := range []struct {
		name     string
		answer   int // the first PADI answered; 0: none
		wantGaps []time.Duration
		fail     string
		took     time.Duration // first PADI to settled
	}{
		{"first", 1, nil, "", 0},
		{"third", 3, []time.Duration{time.Second, 2 * time.Second}, "", 0},
		{"none", 0, []time.Duration{time.Second, 2 * time.Second}, FailNoPADO, 7 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := Config{N: 1, User: "u", Password: "pw", Timers: Timers{PADI: time.Second, PADIAttempts: 3}}
				h := setup(t, cfg, ppp.AuthPAP, ppp.Secrets{"u": "pw"}, func(h *harness) {
					h.ac.padi = func(_ net.HardwareAddr, n int) bool { return tc.answer > 0 && n >= tc.answer }
				})
				start := time.Now()
				r := wait(t, h.g)
				took := time.Since(start)
				h.stop(t)
				c := r.Clients[0]
				h.ac.mu.Lock()
				times := h.ac.padis[c.MAC.String()]
				h.ac.mu.Unlock()
				var gaps []time.Duration
				for i := 1; i < len(times); i++ {
					gaps = append(gaps, times[i].Sub(times[i-1]))
				}
				if !slices.Equal(gaps, tc.wantGaps) || c.PADIs != len(times) {
					t.Errorf("PADIs %d, gaps %v; want gaps %v", c.PADIs, gaps, tc.wantGaps)
				}
				if c.Failure != tc.fail || (tc.fail == "") != !c.Up.IsZero() {
					t.Errorf("failure %q, up %v; want failure %q", c.Failure, c.Up, tc.fail)
				}
				if tc.fail != "" && took != tc.took {
					t.Errorf("failed after %v, want %v", took, tc.took)
				}
			})
		})
	}
}

// TestPADRRetransmit: the same for PADR and PADS.
func TestPADRRetransmit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer int
		padrs  int
		fail   string
	}{
		{"second", 2, 2, ""},
		{"none", 0, 2, FailNoPADS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := Config{N: 1, User: "u", Password: "pw", Timers: Timers{PADR: time.Second, PADRAttempts: 2}}
				h := setup(t, cfg, ppp.AuthPAP, ppp.Secrets{"u": "pw"}, func(h *harness) {
					h.ac.padr = func(_ net.HardwareAddr, n int) bool { return tc.answer > 0 && n >= tc.answer }
				})
				start := time.Now()
				r := wait(t, h.g)
				took := time.Since(start)
				h.stop(t)
				c := r.Clients[0]
				if c.PADRs != tc.padrs || c.Failure != tc.fail || (tc.fail == "") != !c.Up.IsZero() {
					t.Errorf("%+v", c)
				}
				if tc.fail != "" && took != 3*time.Second+2*hop {
					t.Errorf("failed after %v, want 3s after the PADI's answer", took)
				}
			})
		})
	}
}

// TestExtraSessions: when the AC confirms a retransmitted PADR too, the
// session the client did not take gets a PADT, so that it holds nothing
// at the AC. None goes to another station's PADS, to a refusal, to a
// repeat of the session taken, nor beyond the PADRs sent.
func TestExtraSessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{N: 1, User: "u", Password: "pw", Timers: Timers{PADR: time.Second}}
		h := setup(t, cfg, ppp.AuthPAP, ppp.Secrets{"u": "pw"}, func(h *harness) {
			h.ac.pads = func(to net.HardwareAddr, p *discovery.Packet) {
				if p.SessionID != 0x100 { // the second PADR's: at once
					h.ac.sendDisc(acMAC, to, p)
					return
				}
				// The first PADR's comes after the retransmission,
				// after PADSs that must get no PADT, and before more
				// for PADRs never sent.
				time.AfterFunc(1500*time.Millisecond, func() {
					with := func(from net.HardwareAddr, id uint16, more ...discovery.Tag) {
						q := *p
						q.SessionID = id
						q.Tags = append(slices.Clone(q.Tags), more...)
						h.ac.sendDisc(from, to, &q)
					}
					with(rogueMAC, 0x300)
					with(acMAC, 0x101) // the session taken
					with(acMAC, 0x301, discovery.ACSystemError("no"))
					with(acMAC, 0x100)
					with(acMAC, 0x200)
					with(acMAC, 0x201)
				})
			}
		})
		r := wait(t, h.g)
		time.Sleep(time.Second)
		synctest.Wait()
		c := r.Clients[0]
		if c.PADRs != 2 || c.SessionID != 0x101 || c.Up.IsZero() {
			t.Fatalf("%+v", c)
		}
		if got := h.ac.padtsFrom(c.MAC); !slices.Equal(got, []uint16{0x100}) {
			t.Errorf("PADTs for %#x, want one for the first PADR's session 0x100", got)
		}
		h.ac.mu.Lock()
		if h.ac.toRogue != 0 {
			t.Errorf("%d frames to the rogue station", h.ac.toRogue)
		}
		h.ac.mu.Unlock()
		final := h.stop(t)
		if !final.Clients[0].Down.IsZero() || final.Up != 1 {
			t.Errorf("session dropped: %+v", final.Clients[0])
		}
	})
}

// TestDuplicateSessions: sessions up with the same AC and id are counted:
// an AC bug the result shows.
func TestDuplicateSessions(t *testing.T) {
	for _, same := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			h := setup(t, Config{N: 3, User: "u", Password: "pw"}, ppp.AuthPAP, ppp.Secrets{"u": "pw"}, func(h *harness) {
				h.ac.sameID = same
			})
			r := wait(t, h.g)
			h.stop(t)
			want := map[bool]int{true: 3}[same]
			if r.Up != 3 || r.DuplicateSessions != want || r.UniqueAddrs != 3 {
				t.Errorf("same id %v: %v", same, r)
			}
		})
	}
}

// TestUpOnce: Up is when IPv4 first came up; an IPCP renegotiation the AC
// starts later does not move it.
func TestUpOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := setup(t, Config{N: 1, User: "u", Password: "pw"}, ppp.AuthPAP, ppp.Secrets{"u": "pw"})
		r := wait(t, h.g)
		c := r.Clients[0]
		time.Sleep(time.Second)
		// An IPCP Configure-Request from the AC: the client's IPCP
		// leaves Opened and negotiates again with the AC's session.
		req, _ := ppp.Packet{Protocol: ppp.ProtoIPCP, Code: ppp.CodeConfReq, ID: 77, Data: []byte{3, 6, 10, 0, 0, 1}}.Append(
			binary.BigEndian.AppendUint16(nil, uint16(ppp.ProtoIPCP)))
		h.ac.sendSession(acMAC, c.MAC, c.SessionID, req)
		time.Sleep(time.Minute)
		synctest.Wait()
		r = h.g.Result()
		if got := r.Clients[0]; !got.Up.Equal(c.Up) || !got.Down.IsZero() || got.Addr != c.Addr {
			t.Errorf("after renegotiation %+v, before %+v", got, c)
		}
		h.stop(t)
	})
}

// TestOfferSelection: an offer is taken only with the client's own
// Host-Uniq, from a unicast MAC, without an error tag, from the AC and
// for the service asked for; the rest are ignored and the client goes on
// to the real AC. The last case, an acceptable offer from the rogue
// station, shows that the test sees a PADR to it.
func TestOfferSelection(t *testing.T) {
	hostUniq := func(g *Generator, i int) discovery.HostUniq { return g.clients[i].hostUniq[:] }
	for _, tc := range []struct {
		name  string
		cfg   Config
		from  net.HardwareAddr
		pado  func(g *Generator) []discovery.Tag
		rogue bool // the client takes the rogue offer
	}{
		{"no Host-Uniq", Config{}, rogueMAC, func(g *Generator) []discovery.Tag {
			return []discovery.Tag{discovery.ACName("rogue")}
		}, false},
		{"wrong Host-Uniq", Config{}, rogueMAC, func(g *Generator) []discovery.Tag {
			return []discovery.Tag{discovery.HostUniq("whatever"), discovery.ACName("rogue")}
		}, false},
		{"another client's Host-Uniq", Config{}, rogueMAC, func(g *Generator) []discovery.Tag {
			return []discovery.Tag{hostUniq(g, 1), discovery.ACName("rogue")}
		}, false},
		{"multicast source", Config{}, net.HardwareAddr{0x0b, 0xba, 0xd0, 0, 0, 2}, func(g *Generator) []discovery.Tag {
			return []discovery.Tag{hostUniq(g, 0), discovery.ACName("rogue")}
		}, false},
		{"error tag", Config{}, rogueMAC, func(g *Generator) []discovery.Tag {
			return []discovery.Tag{hostUniq(g, 0), discovery.ACName("rogue"), discovery.GenericError("no")}
		}, false},
		{"other AC name", Config{ACName: "test-ac"}, rogueMAC, func(g *Generator) []discovery.Tag {
			return []discovery.Tag{hostUniq(g, 0), discovery.ACName("rogue"), discovery.ServiceName("isp")}
		}, false},
		{"other service", Config{ServiceName: "isp"}, rogueMAC, func(g *Generator) []discovery.Tag {
			return []discovery.Tag{hostUniq(g, 0), discovery.ACName("rogue"), discovery.ServiceName("other")}
		}, false},
		{"acceptable", Config{ACName: "rogue", ServiceName: "isp"}, rogueMAC, func(g *Generator) []discovery.Tag {
			return []discovery.Tag{hostUniq(g, 0), discovery.ACName("rogue"), discovery.ServiceName("x"), discovery.ServiceName("isp")}
		}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := tc.cfg
				cfg.N, cfg.User, cfg.Password = 2, "u", "pw"
				cfg.Timers = Timers{PADR: time.Second, PADRAttempts: 1}
				var mu sync.Mutex
				var padrTo []string
				h := setup(t, cfg, ppp.AuthPAP, ppp.Secrets{"u": "pw"}, func(hh *harness) {
					hh.gen.tap = func(b []byte) {
						f, _ := discovery.ParseFrame(b)
						if p, err := discovery.Parse(f.Payload); err == nil && p.Code == discovery.CodePADR && bytes.Equal(f.Src, clientMAC(DefaultMACBase, 0)) {
							mu.Lock()
							padrTo = append(padrTo, f.Dst.String())
							mu.Unlock()
						}
					}
					hh.ac.padi = func(from net.HardwareAddr, _ int) bool {
						if from.String() == clientMAC(DefaultMACBase, 0).String() {
							// Ahead of the AC's own offer.
							hh.ac.sendDisc(tc.from, from, &discovery.Packet{Code: discovery.CodePADO, Tags: tc.pado(hh.g)})
						}
						return true
					}
				})
				r := wait(t, h.g)
				h.stop(t)
				mu.Lock()
				defer mu.Unlock()
				want := []string{acMAC.String()}
				if tc.rogue {
					want = []string{tc.from.String()}
				}
				if !slices.Equal(padrTo, want) {
					t.Errorf("PADRs to %v, want %v", padrTo, want)
				}
				if (r.Clients[0].Up.IsZero()) != tc.rogue {
					t.Errorf("client 0: %+v", r.Clients[0])
				}
			})
		})
	}
}

// TestForgedPADS: a PADS from another station than the chosen AC, even
// with the client's Host-Uniq, neither confirms nor refuses the session.
func TestForgedPADS(t *testing.T) {
	for _, tag := range []discovery.Tag{nil, discovery.ACSystemError("forged")} {
		t.Run(fmt.Sprint(tag), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := setup(t, Config{N: 1, User: "u", Password: "pw"}, ppp.AuthPAP, ppp.Secrets{"u": "pw"}, func(h *harness) {
					h.ac.padr = func(from net.HardwareAddr, _ int) bool {
						p := &discovery.Packet{Code: discovery.CodePADS, SessionID: 0x999, Tags: []discovery.Tag{discovery.HostUniq(h.g.clients[0].hostUniq[:])}}
						if tag != nil {
							p.SessionID = 0
							p.Tags = append(p.Tags, tag)
						}
						h.ac.sendDisc(rogueMAC, from, p)
						return true
					}
				})
				r := wait(t, h.g)
				h.stop(t)
				if c := r.Clients[0]; c.SessionID != 0x100 || !bytes.Equal(c.AC, acMAC) || c.Up.IsZero() {
					t.Errorf("%+v", c)
				}
			})
		})
	}
}

// TestRefused: a PADS with an error tag fails the client with the tag's
// name; the detail, the AC's text, arrives printable.
func TestRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := setup(t, Config{N: 2, User: "u", Password: "pw"}, ppp.AuthPAP, ppp.Secrets{"u": "pw"}, func(h *harness) {
			h.ac.refuse = discovery.ACSystemError("full\x1b[2J")
		})
		r := wait(t, h.g)
		h.stop(t)
		if !slices.Equal(r.Failures, []Count{{"PADS AC-system-error", 2}}) {
			t.Errorf("failures %v", r.Failures)
		}
		if d := r.Clients[0].Detail; !strings.Contains(d, "full") || strings.ContainsRune(d, 0x1b) {
			t.Errorf("detail %q", d)
		}
	})
}

// sendTo is a frame the AC sends to the generator.
type sendTo struct {
	from, to net.HardwareAddr
	id       uint16
}

// TestPADTFromAC: a PADT ends a session only from its AC, to its client,
// with its id; the client then sends none back. The others change
// nothing.
func TestPADTFromAC(t *testing.T) {
	for _, tc := range []struct {
		name string
		to   func(r *Result) sendTo
		ends bool
	}{
		{"right", func(r *Result) sendTo { return sendTo{acMAC, r.Clients[0].MAC, r.Clients[0].SessionID} }, true},
		{"wrong id", func(r *Result) sendTo { return sendTo{acMAC, r.Clients[0].MAC, r.Clients[0].SessionID + 7} }, false},
		{"wrong AC", func(r *Result) sendTo { return sendTo{rogueMAC, r.Clients[0].MAC, r.Clients[0].SessionID} }, false},
		{"other client", func(r *Result) sendTo { return sendTo{acMAC, r.Clients[1].MAC, r.Clients[0].SessionID} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := setup(t, Config{N: 2, User: "u", Password: "pw"}, ppp.AuthPAP, ppp.Secrets{"u": "pw"})
				r := wait(t, h.g)
				s := tc.to(r)
				h.ac.sendDisc(s.from, s.to, &discovery.Packet{Code: discovery.CodePADT, SessionID: s.id})
				time.Sleep(time.Minute)
				synctest.Wait()
				r = h.g.Result()
				c := r.Clients[0]
				if tc.ends != !c.Down.IsZero() || r.Dropped != map[bool]int{true: 1}[tc.ends] {
					t.Errorf("client 0: %+v", c)
				}
				if tc.ends && c.DownReason != "ppp: link lost" {
					t.Errorf("down reason %q", c.DownReason)
				}
				if !tc.ends && r.StrayFrames == 0 {
					t.Errorf("the PADT was not counted as stray")
				}
				final := h.stop(t)
				if got := h.ac.padtsFrom(c.MAC); tc.ends != (len(got) == 0) {
					t.Errorf("client 0 sent PADTs %#x", got)
				}
				if final.Up != 2 || final.Dropped != r.Dropped {
					t.Errorf("after Stop: %v", final)
				}
			})
		})
	}
}

// TestSessionDemux: a session frame reaches a session only from its AC,
// to its client, with its id; data frames reach no session (they would
// get a Protocol-Reject).
func TestSessionDemux(t *testing.T) {
	termReq, err := ppp.Packet{Protocol: ppp.ProtoLCP, Code: ppp.CodeTermReq, ID: 99}.Append(binary.BigEndian.AppendUint16(nil, uint16(ppp.ProtoLCP)))
	if err != nil {
		t.Fatal(err)
	}
	data := []byte{0x00, 0x57, 0x60, 0, 0, 0} // IPv6, which no NCP carries here
	for _, tc := range []struct {
		name    string
		to      func(r *Result) sendTo
		payload []byte
		ends    bool
	}{
		{"right", func(r *Result) sendTo { return sendTo{acMAC, r.Clients[0].MAC, r.Clients[0].SessionID} }, termReq, true},
		{"wrong id", func(r *Result) sendTo { return sendTo{acMAC, r.Clients[0].MAC, r.Clients[0].SessionID + 7} }, termReq, false},
		{"wrong AC", func(r *Result) sendTo { return sendTo{rogueMAC, r.Clients[0].MAC, r.Clients[0].SessionID} }, termReq, false},
		{"other client", func(r *Result) sendTo { return sendTo{acMAC, r.Clients[1].MAC, r.Clients[0].SessionID} }, termReq, false},
		{"data", func(r *Result) sendTo { return sendTo{acMAC, r.Clients[0].MAC, r.Clients[0].SessionID} }, data, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := setup(t, Config{N: 2, User: "u", Password: "pw"}, ppp.AuthPAP, ppp.Secrets{"u": "pw"})
				r := wait(t, h.g)
				s := tc.to(r)
				h.ac.sendSession(s.from, s.to, s.id, tc.payload)
				time.Sleep(time.Minute)
				synctest.Wait()
				r = h.g.Result()
				c := r.Clients[0]
				if tc.ends != !c.Down.IsZero() {
					t.Errorf("client 0: %+v", c)
				}
				if tc.ends && c.DownReason != "ppp: terminated by peer" {
					t.Errorf("down reason %q", c.DownReason)
				}
				h.ac.mu.Lock()
				rejs := h.ac.protRejs
				h.ac.mu.Unlock()
				if rejs != 0 {
					t.Errorf("%d Protocol-Rejects", rejs)
				}
				h.stop(t)
			})
		})
	}
}

// TestConcurrency: at most Concurrency clients are in set-up at once
// (first PADI to IPv4 up), and the bound is reached.
func TestConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := setup(t, Config{N: 10, Concurrency: 3, User: "u", Password: "pw"}, ppp.AuthPAP, ppp.Secrets{"u": "pw"})
		r := wait(t, h.g)
		h.stop(t)
		if r.Up != 10 {
			t.Fatalf("result: %v", r)
		}
		most := 0
		for _, a := range r.Clients {
			// Clients in set-up when a sent its first PADI.
			n := 0
			for _, b := range r.Clients {
				if !b.FirstPADI.After(a.FirstPADI) && b.Up.After(a.FirstPADI) {
					n++
				}
			}
			most = max(most, n)
		}
		if most != 3 {
			t.Errorf("at most %d clients in set-up at once, want 3", most)
		}
	})
}

// TestRate: the clients start Rate a second, evenly.
func TestRate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := setup(t, Config{N: 5, Rate: 10, User: "u", Password: "pw"}, ppp.AuthPAP, ppp.Secrets{"u": "pw"})
		r := wait(t, h.g)
		h.stop(t)
		for i, c := range r.Clients {
			if got := c.FirstPADI.Sub(r.Start); got != time.Duration(i)*100*time.Millisecond {
				t.Errorf("client %d started at %v", i, got)
			}
		}
	})
}

// TestStopInDiscovery: Stop ends the clients still in discovery, and the
// ones Concurrency kept waiting never start; Stop returns at once.
func TestStopInDiscovery(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := setup(t, Config{N: 5, Concurrency: 2, User: "u", Password: "pw"}, ppp.AuthPAP, ppp.Secrets{"u": "pw"}, func(h *harness) {
			h.ac.padi = func(net.HardwareAddr, int) bool { return false }
		})
		time.Sleep(time.Second)
		start := time.Now()
		r := h.stop(t)
		if took := time.Since(start); took != 0 {
			t.Errorf("Stop took %v", took)
		}
		want := []Count{{FailNotStarted, 3}, {FailStopped, 2}}
		if !slices.Equal(r.Failures, want) || r.Failed != 5 {
			t.Errorf("failures %v, want %v", r.Failures, want)
		}
		if _, err := h.g.Wait(context.Background()); err != nil {
			t.Errorf("Wait after Stop: %v", err)
		}
	})
}

// TestWaitContext: Wait gives up when its context ends, with the run so
// far.
func TestWaitContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := setup(t, Config{N: 1, User: "u", Password: "pw"}, ppp.AuthPAP, ppp.Secrets{"u": "pw"}, func(h *harness) {
			h.ac.padi = func(net.HardwareAddr, int) bool { return false }
		})
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		r, err := h.g.Wait(ctx)
		if err == nil || r.Clients[0].Settled() || r.Clients[0].PADIs != 1 || r.Pending != 1 || !strings.Contains(r.String(), "1 pending") {
			t.Errorf("Wait: %v, %+v", err, r.Clients[0])
		}
		h.stop(t)
	})
}

// TestConfig: the checks on N, Concurrency, Rate and the MACs, and the
// MACs the clients get.
func TestConfig(t *testing.T) {
	for _, tc := range []struct {
		name string
		cfg  Config
		ok   bool
	}{
		{"default", Config{N: 3}, true},
		{"N 0", Config{}, false},
		{"N too big", Config{N: 1<<24 + 1}, false},
		{"negative concurrency", Config{N: 1, Concurrency: -1}, false},
		{"negative rate", Config{N: 1, Rate: -1}, false},
		{"multicast base", Config{N: 1, MACBase: net.HardwareAddr{3, 0, 0, 0, 0, 0}}, false},
		{"global base", Config{N: 1, MACBase: net.HardwareAddr{0, 0, 0x5e, 0, 0, 1}}, false},
		{"short base", Config{N: 1, MACBase: net.HardwareAddr{2, 0, 0}}, false},
		{"room", Config{N: 2, MACBase: net.HardwareAddr{2, 0xff, 0xff, 0xff, 0xff, 0xfe}}, true},
		{"no room", Config{N: 3, MACBase: net.HardwareAddr{2, 0xff, 0xff, 0xff, 0xff, 0xfe}}, false},
		{"carry into the first octet", Config{N: 3, MACBase: net.HardwareAddr{6, 0xff, 0xff, 0xff, 0xff, 0xfe}}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.fill()
			if (err == nil) != tc.ok {
				t.Fatalf("fill: %v", err)
			}
		})
	}
	want := []string{"02:70:6c:00:00:00", "02:70:6c:00:00:01", "02:70:6c:00:01:00"}
	for i, n := range []int{0, 1, 256} {
		if got := clientMAC(DefaultMACBase, n).String(); got != want[i] {
			t.Errorf("client %d: MAC %s, want %s", n, got, want[i])
		}
	}
}

// TestFrames pins the first frames a client sends: its PADI and its
// first session frame.
func TestFrames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var sent [][]byte
		h := setup(t, Config{N: 1, User: "u", Password: "pw"}, ppp.AuthPAP, ppp.Secrets{"u": "pw"}, func(h *harness) {
			h.gen.tap = func(b []byte) {
				mu.Lock()
				sent = append(sent, b)
				mu.Unlock()
			}
		})
		wait(t, h.g)
		h.stop(t)
		mu.Lock()
		defer mu.Unlock()
		run := h.g.run
		padi := []byte{
			0xff, 0xff, 0xff, 0xff, 0xff, 0xff, // destination: broadcast
			0x02, 0x70, 0x6c, 0x00, 0x00, 0x00, // source: client 0
			0x88, 0x63, // discovery
			0x11, 0x09, 0x00, 0x00, // VER/TYPE, PADI, session 0
			0x00, 0x10, // LENGTH 16
			0x01, 0x01, 0x00, 0x00, // Service-Name "" (any)
			0x01, 0x03, 0x00, 0x08, // Host-Uniq, 8 octets:
			run[0], run[1], run[2], run[3], // the run's
			0x00, 0x00, 0x00, 0x00, // and client 0's
		}
		if !bytes.Equal(sent[0], padi) {
			t.Errorf("PADI\n% x, want\n% x", sent[0], padi)
		}
		var sess []byte
		for _, b := range sent {
			if b[12] == 0x88 && b[13] == 0x64 {
				sess = b
				break
			}
		}
		head := []byte{
			0x0a, 0xac, 0x00, 0x00, 0x00, 0x01, // destination: the AC
			0x02, 0x70, 0x6c, 0x00, 0x00, 0x00, // source: client 0
			0x88, 0x64, // session
			0x11, 0x00, 0x01, 0x00, // VER/TYPE, code 0, session 0x100
		}
		if len(sess) < len(head)+4 || !bytes.Equal(sess[:len(head)], head) ||
			int(binary.BigEndian.Uint16(sess[18:])) != len(sess)-20 ||
			!bytes.Equal(sess[20:23], []byte{0xc0, 0x21, byte(ppp.CodeConfReq)}) {
			t.Errorf("first session frame % x, want % x, LENGTH, then an LCP Configure-Request", sess, head)
		}
	})
}

// TestSplitProtocol: the protocol field in two octets or, compressed, in
// one; never an even protocol number.
func TestSplitProtocol(t *testing.T) {
	for _, tc := range []struct {
		in    []byte
		proto ppp.Protocol
		rest  []byte
		ok    bool
	}{
		{[]byte{0xc0, 0x21, 1, 2}, ppp.ProtoLCP, []byte{1, 2}, true},
		{[]byte{0x80, 0x21}, ppp.ProtoIPCP, []byte{}, true},
		{[]byte{0x21, 0x45}, ppp.ProtoIPv4, []byte{0x45}, true}, // compressed
		{[]byte{0x00, 0x21, 0x45}, ppp.ProtoIPv4, []byte{0x45}, true},
		{[]byte{0xc0, 0x22}, 0, nil, false}, // even
		{[]byte{0xc0}, 0, nil, false},
		{nil, 0, nil, false},
	} {
		proto, rest, ok := splitProtocol(tc.in)
		if proto != tc.proto || !bytes.Equal(rest, tc.rest) || ok != tc.ok {
			t.Errorf("splitProtocol(% x) = %v, % x, %v; want %v, % x, %v", tc.in, proto, rest, ok, tc.proto, tc.rest, tc.ok)
		}
	}
}

// FuzzHandle feeds the reader's dispatch any frame, addressed to a client
// with a session: nothing may panic.
func FuzzHandle(f *testing.F) {
	gen, acEnd := newSegment(0)
	g, err := StartConn(gen, Config{N: 2, User: "u", Password: "pw"})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() {
		g.Stop()
		acEnd.Close()
	})
	c := g.clients[0]
	c.sess.Store(&session{ac: [6]byte(acMAC), id: 0x100, link: newLink(c, acMAC, 0x100)})
	c.padrs.Store(2)
	hdr := func(et uint16) []byte {
		b, _ := discovery.AppendFrame(nil, net.HardwareAddr(c.mac[:]), acMAC, et, nil)
		return b
	}
	for _, p := range []*discovery.Packet{
		{Code: discovery.CodePADO, Tags: []discovery.Tag{discovery.HostUniq(c.hostUniq[:])}},
		{Code: discovery.CodePADS, SessionID: 0x101, Tags: []discovery.Tag{discovery.HostUniq(c.hostUniq[:])}},
		{Code: discovery.CodePADT, SessionID: 0x100},
	} {
		b, _ := p.Append(hdr(discovery.EtherTypeDiscovery))
		f.Add(b)
	}
	s, _ := discovery.AppendSession(hdr(discovery.EtherTypeSession), 0x100, []byte{0xc0, 0x21, 9, 1, 0, 8, 0, 0, 0, 0})
	f.Add(s)
	f.Add(hdr(discovery.EtherTypeSession))
	f.Fuzz(func(t *testing.T, b []byte) {
		g.handle(b)
	})
}

var _ ppp.FrameChannel = (*link)(nil)

// TestLinkDown: once the link is down, ReadFrame says why at once, even
// with frames still queued (the session asks when Frames' down channel
// closes), and the first reason stands.
func TestLinkDown(t *testing.T) {
	for _, tc := range []struct {
		name   string
		down   func(l *link)
		want   error
		hungUp bool
	}{
		{"PADT", func(l *link) { l.hangUp(); l.Close() }, errPADT, true},
		{"Close", func(l *link) { l.Close(); l.hangUp() }, net.ErrClosed, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for range 100 { // a select between ready channels picks at random
				l := newLink(&client{g: &Generator{}}, acMAC, 1)
				l.deliver(ppp.ProtoLCP, []byte{1})
				tc.down(l)
				if _, _, err := l.ReadFrame(); err != tc.want {
					t.Fatalf("ReadFrame: %v, want %v", err, tc.want)
				}
				if l.hungUp() != tc.hungUp {
					t.Fatalf("hungUp %v", !tc.hungUp)
				}
				if err := l.WriteFrame(ppp.ProtoLCP, []byte{1}); !errors.Is(err, net.ErrClosed) {
					t.Fatalf("WriteFrame on a link down: %v", err)
				}
			}
		})
	}
}

// TestAuthTimeout: Timers.Auth bounds the client's wait for the AC's
// authentication (here a CHAP challenge that never comes).
func TestAuthTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := Config{N: 1, User: "u", Password: "pw", Timers: Timers{Auth: 5 * time.Second}}
		h := setup(t, cfg, ppp.AuthCHAPMD5, ppp.Secrets{"u": "pw"}, func(h *harness) { h.ac.mute = ppp.ProtoCHAP })
		r := wait(t, h.g)
		// The failure is recorded once LCP has terminated: a round trip
		// after the timeout.
		took := time.Since(r.Clients[0].LinkUp)
		h.stop(t)
		c := r.Clients[0]
		if c.Failure != "ppp: authentication failed" || c.LinkUp.IsZero() {
			t.Fatalf("%+v", c)
		}
		if took != 5*time.Second+2*hop {
			t.Errorf("gave up %v after LCP up, want 5s and a round trip", took)
		}
	})
}
