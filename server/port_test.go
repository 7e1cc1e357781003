package server

import (
	"bytes"
	"encoding/hex"
	"errors"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/ppp"
)

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		line, _, _ = strings.Cut(line, "//")
		b.WriteString(strings.Join(strings.Fields(line), ""))
	}
	out, err := hex.DecodeString(b.String())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// goldenKey keys the golden cookies; synctest's clock starts at
// 2000-01-01 00:00:00 UTC, window 946684800/30 = 0x01e18240.
var goldenKey = []byte("0123456789abcdef0123456789abcdef")

func fixedJar(s *Server) { s.jar = NewCookieJar(goldenKey, 0, nil) }

// A PADO, byte for byte: our tags (AC-Name, every service for an empty
// Service-Name, the cookie), then the PADI's Host-Uniq and
// Relay-Session-Id echoed (RFC 2516 §5.2, appendix A).
func TestPADOGolden(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Interfaces[0].ServiceNames = []string{"internet", "voip"}
		h := startHarness(t, cfg, harnessOpts{setup: fixedJar})
		h.send("eth0", discovery.Broadcast, macA, padi(
			discovery.ServiceName(""),
			discovery.HostUniq{0xde, 0xad, 0xbe, 0xef},
			discovery.RelaySessionID{0x01, 0x02, 0x03},
		))
		want := unhex(t, `
			02 00 00 00 00 0a  // destination: the client
			02 ac 00 00 00 01  // source: eth0
			88 63              // EtherType: PPPoE Discovery
			11                 // version 1, type 1
			07                 // code: PADO
			00 00              // session id 0
			00 52              // length 82
			01 02 00 07  74 65 73 74 2d 61 63        // AC-Name "test-ac"
			01 01 00 08  69 6e 74 65 72 6e 65 74     // Service-Name "internet"
			01 01 00 04  76 6f 69 70                 // Service-Name "voip"
			01 04 00 20                              // AC-Cookie, 32 octets:
			00 00 00 00 01 e1 82 40                  //   the window's index
			00 00 00 00 00 00 00 01                  //   the jar's count: its first
			07 ed cf 6f 51 1b 7a 47 0e 6b 9f 59 e9 1c bd 5e // HMAC-SHA256(key, label|index|count|MAC)[:16]
			01 03 00 04  de ad be ef                 // Host-Uniq, echoed
			01 10 00 03  01 02 03                    // Relay-Session-Id, echoed
		`)
		f := h.one("eth0", discovery.CodePADO)
		if !bytes.Equal(f.raw, want) {
			t.Errorf("PADO\n got % x\nwant % x", f.raw, want)
		}
		if c := h.counters(); c.PADIs != 1 || c.PADIsAnswered != 1 {
			t.Errorf("counters %+v", c)
		}
	})
}

// A PADS confirming a session and one refusing a service, byte for
// byte: Service-Name, AC-Name, PPP-Max-Payload when the interface carries
// it (RFC 4638), or the error tag with SESSION_ID 0 (RFC 2516 §5.4); then
// the PADR's Host-Uniq and Relay-Session-Id.
func TestPADSGolden(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Interfaces[0].ServiceNames = []string{"internet"}
		cfg.MaxMTU, cfg.MaxMRU = 1500, 1500
		h := startHarness(t, cfg, harnessOpts{mtu: map[string]int{"eth0": 1508}})
		h.s.ports[0].ids = NewSessionIDs(bytes.NewReader([]byte{0x12, 0x34}))
		cookie := h.offer("eth0", macA)
		f := h.request("eth0", macA, cookie, discovery.ServiceName("internet"), discovery.PPPMaxPayload(1500),
			discovery.HostUniq{0xde, 0xad}, discovery.RelaySessionID{0x01, 0x02, 0x03})
		want := unhex(t, `
			02 00 00 00 00 0a  // destination: the client
			02 ac 00 00 00 01  // source: eth0
			88 63              // EtherType: PPPoE Discovery
			11                 // version 1, type 1
			65                 // code: PADS
			12 34              // the session's id
			00 2a              // length 42
			01 01 00 08  69 6e 74 65 72 6e 65 74  // Service-Name "internet"
			01 02 00 07  74 65 73 74 2d 61 63     // AC-Name "test-ac"
			01 20 00 02  05 dc                    // PPP-Max-Payload 1500, echoed
			01 03 00 02  de ad                    // Host-Uniq, echoed
			01 10 00 03  01 02 03                 // Relay-Session-Id, echoed
		`)
		if !bytes.Equal(f.raw, want) {
			t.Errorf("PADS\n got % x\nwant % x", f.raw, want)
		}
		<-h.k.opened

		cookie = h.offer("eth0", macB)
		f = h.request("eth0", macB, cookie, discovery.ServiceName("tv"), discovery.HostUniq{0xbe, 0xef})
		want = unhex(t, `
			02 00 00 00 00 0b  // destination: the client
			02 ac 00 00 00 01  // source: eth0
			88 63              // EtherType: PPPoE Discovery
			11 65              // version 1, type 1, PADS
			00 00              // session id 0: refused
			00 31              // length 49
			01 01 00 02  74 76                    // Service-Name "tv", as asked
			01 02 00 07  74 65 73 74 2d 61 63     // AC-Name "test-ac"
			02 01 00 16  73 65 72 76 69 63 65 20 6e 6f 74 20 73 65 72 76 65 64 3a 20 74 76
			                                      // Service-Name-Error "service not served: tv"
			01 03 00 02  be ef                    // Host-Uniq, echoed
		`)
		if !bytes.Equal(f.raw, want) {
			t.Errorf("refusing PADS\n got % x\nwant % x", f.raw, want)
		}
	})
}

func serviceNames(p *discovery.Packet) []string {
	var out []string
	for _, s := range discovery.FindAll[discovery.ServiceName](p) {
		out = append(out, string(s))
	}
	return out
}

// Which services a PADO offers: every one for an empty Service-Name, the
// one asked for when served, none (no PADO) for one not served (RFC 2516
// §5.2); an interface without service names serves any.
func TestPADIServices(t *testing.T) {
	tests := []struct {
		name     string
		served   []string
		asked    string
		want     []string // nil: no PADO
		noServed uint64   // PADIsNoService
	}{
		{"empty gets every one", []string{"internet", "voip"}, "", []string{"internet", "voip"}, 0},
		{"a served one is echoed", []string{"internet", "voip"}, "voip", []string{"voip"}, 0},
		{"an unserved one gets nothing", []string{"internet", "voip"}, "tv", nil, 1},
		{"a prefix is not the service", []string{"internet"}, "inter", nil, 1},
		{"any: empty", nil, "", []string{""}, 0},
		{"any: a name is echoed", nil, "tv", []string{"tv"}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := testConfig()
				cfg.Interfaces[0].ServiceNames = tt.served
				h := startHarness(t, cfg)
				h.send("eth0", discovery.Broadcast, macA, padi(discovery.ServiceName(tt.asked)))
				c := h.counters()
				if c.PADIsNoService != tt.noServed {
					t.Errorf("PADIsNoService = %d, want %d", c.PADIsNoService, tt.noServed)
				}
				if tt.want == nil {
					h.none("eth0")
					if c.PADIsAnswered != 0 {
						t.Errorf("PADIsAnswered = %d", c.PADIsAnswered)
					}
					return
				}
				f := h.one("eth0", discovery.CodePADO)
				if got := serviceNames(f.pkt); !slices.Equal(got, tt.want) {
					t.Errorf("PADO offers %q, want %q", got, tt.want)
				}
				if f.pkt.SessionID != 0 || !bytes.Equal(f.dst, macA) {
					t.Errorf("PADO with session id %#x to %v", f.pkt.SessionID, f.dst)
				}
				if n, _ := discovery.Find[discovery.ACName](f.pkt); n != "test-ac" {
					t.Errorf("AC-Name %q", n)
				}
				cookie, _ := discovery.Find[discovery.ACCookie](f.pkt)
				if !h.s.jar.Verify(macA, cookie) {
					t.Error("the PADO's cookie does not verify for the client's MAC")
				}
				if h.s.jar.Verify(macB, cookie) {
					t.Error("the PADO's cookie verifies for another MAC")
				}
			})
		})
	}
}

// Frames a PADI answer must not go to: not broadcast, from no station's
// own address, or not a discovery packet at all.
func TestPADIIgnored(t *testing.T) {
	svc := discovery.ServiceName("")
	tests := []struct {
		name  string
		frame func(t *testing.T) []byte
		padis uint64 // counted as PADIs
	}{
		{"unicast to us", func(t *testing.T) []byte { return frameFrom(t, acMAC0, macA, padi(svc)) }, 0},
		{"to another multicast group", func(t *testing.T) []byte {
			return frameFrom(t, net.HardwareAddr{0x01, 0x80, 0xc2, 0, 0, 0}, macA, padi(svc))
		}, 0},
		{"from a multicast source", func(t *testing.T) []byte {
			return frameFrom(t, discovery.Broadcast, net.HardwareAddr{0x03, 0, 0, 0, 0, 1}, padi(svc))
		}, 0},
		{"from the broadcast address", func(t *testing.T) []byte { return frameFrom(t, discovery.Broadcast, discovery.Broadcast, padi(svc)) }, 0},
		{"from the zero address", func(t *testing.T) []byte {
			return frameFrom(t, discovery.Broadcast, make(net.HardwareAddr, 6), padi(svc))
		}, 0},
		{"session EtherType", func(t *testing.T) []byte {
			b := frameFrom(t, discovery.Broadcast, macA, padi(svc))
			b[13] = 0x64 // 0x8864
			return b
		}, 0},
		{"no Service-Name (§5.1)", func(t *testing.T) []byte {
			return unhex(t, `ff ff ff ff ff ff  02 00 00 00 00 0a  88 63  11 09 00 00 00 00`)
		}, 0},
		{"version 2", func(t *testing.T) []byte {
			b := frameFrom(t, discovery.Broadcast, macA, padi(svc))
			b[14] = 0x21
			return b
		}, 0},
		{"truncated header", func(t *testing.T) []byte { return frameFrom(t, discovery.Broadcast, macA, padi(svc))[:17] }, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := startHarness(t, testConfig())
				h.inject("eth0", tt.frame(t))
				h.none("eth0")
				if c := h.counters(); c.PADIs != tt.padis {
					t.Errorf("PADIs = %d, want %d", c.PADIs, tt.padis)
				}
				// The port still answers a good one.
				h.offer("eth0", macA)
			})
		})
	}
}

// The PADI rate limits apply: past a MAC's burst, no PADO.
func TestPADIRateLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.PADI = PADILimits{MACRate: 1, MACBurst: 2}
		h := startHarness(t, cfg)
		h.offer("eth0", macA)
		h.offer("eth0", macA)
		h.send("eth0", discovery.Broadcast, macA, padi(discovery.ServiceName("")))
		h.none("eth0")
		h.offer("eth0", macB) // another MAC has its own bucket
		if c := h.counters(); c.PADIs != 4 || c.PADIsLimited != 1 || c.PADIsAnswered != 3 {
			t.Errorf("counters %+v", c)
		}
		time.Sleep(time.Second) // one token back
		h.offer("eth0", macA)
	})
}

// RFC 4638: PPP-Max-Payload is echoed only when the interface carries it
// with PPPoE's 8 octets (and it is at most 1500), and the session then
// negotiates up to it; otherwise no tag and 1492 (RFC 2516 §7).
func TestMaxPayload(t *testing.T) {
	tests := []struct {
		name    string
		ifMTU   int
		asked   int // 0: no tag
		echo    bool
		wantMTU int
		maxMTU  int // max-mtu and max-mru; 0: 1500
	}{
		{name: "1500 over 1508, max-mtu/max-mru 1492 (the defaults)", ifMTU: 1508, asked: 1500, echo: false, wantMTU: 1492, maxMTU: 1492},
		{name: "1500 over 1508, max-mtu/max-mru 1496", ifMTU: 1508, asked: 1500, echo: false, wantMTU: 1492, maxMTU: 1496},
		{"1500 over 1508", 1508, 1500, true, 1500, 0},
		{"1496 over 1504", 1504, 1496, true, 1496, 0},
		{"1500 over 9000", 9000, 1500, true, 1500, 0},
		{"1500 over 1500: no room", 1500, 1500, false, 1492, 0},
		{"1500 over 1507: no room", 1507, 1500, false, 1492, 0},
		{"above 1500", 9000, 1501, false, 1492, 0},
		{"1492 asked", 1508, 1492, false, 1492, 0},
		{"below 1492", 1508, 1400, false, 1492, 0},
		{"no tag", 1508, 0, false, 1492, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := testConfig()
				cfg.MaxMTU, cfg.MaxMRU = 1500, 1500
				if tt.maxMTU != 0 {
					cfg.MaxMTU, cfg.MaxMRU = tt.maxMTU, tt.maxMTU
				}
				h := startHarness(t, cfg, harnessOpts{mtu: map[string]int{"eth0": tt.ifMTU}})
				tags := []discovery.Tag{discovery.ServiceName("")}
				if tt.asked != 0 {
					tags = append(tags, discovery.PPPMaxPayload(tt.asked))
				}
				h.send("eth0", discovery.Broadcast, macA, padi(tags...))
				pado := h.one("eth0", discovery.CodePADO)
				cookie, _ := discovery.Find[discovery.ACCookie](pado.pkt)
				pads := h.request("eth0", macA, cookie, tags...)
				for _, f := range []sentFrame{pado, pads} {
					v, ok := discovery.Find[discovery.PPPMaxPayload](f.pkt)
					if ok != tt.echo || (ok && int(v) != tt.asked) {
						t.Errorf("%v: PPP-Max-Payload %d %v, want %d %v", f.pkt.Code, v, ok, tt.asked, tt.echo)
					}
				}
				l := <-h.k.opened
				if l.cfg.MRU != tt.wantMTU {
					t.Errorf("the unit's MRU is %d, want %d", l.cfg.MRU, tt.wantMTU)
				}
				// The client asks for 1500 both ways: LCP settles on what
				// the session carries.
				c := &client{h: h, ifname: "eth0", mac: macA, id: pads.pkt.SessionID, link: l, events: make(chan ppp.Event, 64), done: make(chan error, 1)}
				h.clients = append(h.clients, c)
				var linkUp ppp.LinkUp
				c.login("alice", "alice-pw", func(cfg *ppp.Config) {
					cfg.MRU, cfg.MaxMTU = 1500, 1500
					on := cfg.OnEvent
					cfg.OnEvent = func(ev ppp.Event) {
						if e, ok := ev.(ppp.LinkUp); ok {
							linkUp = e
						}
						on(ev)
					}
				})
				if _, ok := c.waitIPv4(); !ok {
					t.Fatal("no IPv4")
				}
				// What the client may send is the AC's MRU.
				if int(linkUp.MTU) != tt.wantMTU {
					t.Errorf("the client's LCP: MTU %d, want %d", linkUp.MTU, tt.wantMTU)
				}
				if !slices.Contains(h.k.callLog(), "setMTU pppt0 "+strconv.Itoa(tt.wantMTU)) {
					t.Errorf("pppN's MTU: %q, want %d", h.k.callLog(), tt.wantMTU)
				}
				l.mu.Lock()
				mru := l.mru
				l.mu.Unlock()
				if mru != tt.wantMTU {
					t.Errorf("the unit's MRU after LCP: %d, want %d", mru, tt.wantMTU)
				}
				if st := h.s.Status(); st.Sessions[0].MTU != tt.wantMTU {
					t.Errorf("status MTU %d, want %d", st.Sessions[0].MTU, tt.wantMTU)
				}
			})
		})
	}
}

// A PADR without a cookie this AC minted for its source MAC in the last
// two windows gets nothing (RFC 2516 §5.3 leaves it unanswered), and no
// session is made.
func TestPADRBadCookie(t *testing.T) {
	tests := []struct {
		name   string
		cookie func(h *harness) discovery.Tag // nil: none
	}{
		{"no cookie", nil},
		{"forged", func(*harness) discovery.Tag { return discovery.ACCookie(bytes.Repeat([]byte{0x42}, 24)) }},
		{"another MAC's", func(h *harness) discovery.Tag { return h.offer("eth0", macB) }},
		{"another key's", func(*harness) discovery.Tag { return discovery.ACCookie(NewCookieJar(goldenKey, 0, nil).Mint(macA)) }},
		{"truncated", func(h *harness) discovery.Tag { return h.offer("eth0", macA)[:cookieLen-1] }},
		{"expired", func(h *harness) discovery.Tag {
			c := h.offer("eth0", macA)
			time.Sleep(2 * DefaultCookieWindow)
			return c
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := startHarness(t, testConfig())
				tags := []discovery.Tag{discovery.ServiceName("")}
				if tt.cookie != nil {
					tags = append(tags, tt.cookie(h))
				}
				h.send("eth0", acMAC0, macA, &discovery.Packet{Code: discovery.CodePADR, Tags: tags})
				h.none("eth0")
				if c := h.counters(); c.PADRs != 1 || c.BadCookies != 1 || c.SessionsStarted != 0 {
					t.Errorf("counters %+v", c)
				}
				if len(h.k.callLog()) != 0 || h.nsessions() != 0 {
					t.Errorf("a session was made: %q", h.k.callLog())
				}
			})
		})
	}
}

// A cookie is good for the next window too: a PADR a window later still
// gets its session.
func TestPADRCookieNextWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, testConfig())
		c := h.offer("eth0", macA)
		time.Sleep(DefaultCookieWindow + DefaultCookieWindow/2)
		if pads := h.request("eth0", macA, c); pads.pkt.SessionID == 0 {
			t.Fatalf("refused: %v", pads.pkt)
		}
		<-h.k.opened
	})
}

// errorTag returns the PADS's error tag, checking it is a refusal.
func refusal(t *testing.T, f sentFrame) discovery.Tag {
	t.Helper()
	if f.pkt.SessionID != 0 {
		t.Fatalf("PADS with session id %#x, want 0 (refused)", f.pkt.SessionID)
	}
	e := f.pkt.Error()
	if e == nil {
		t.Fatalf("refusing PADS without an error tag: %v", f.pkt)
	}
	return e
}

// RFC 2516 §5.4: a PADR for a service we do not serve gets a PADS with a
// Service-Name-Error and SESSION_ID 0, its Host-Uniq echoed.
func TestPADRServiceNotServed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Interfaces[0].ServiceNames = []string{"internet"}
		h := startHarness(t, cfg)
		cookie := h.offer("eth0", macA)
		f := h.request("eth0", macA, cookie, discovery.ServiceName("tv"), discovery.HostUniq{7})
		if _, ok := refusal(t, f).(discovery.ServiceNameError); !ok {
			t.Errorf("error tag %v, want Service-Name-Error", f.pkt.Error())
		}
		if s, _ := discovery.Find[discovery.ServiceName](f.pkt); s != "tv" {
			t.Errorf("Service-Name %q, want the one asked for", s)
		}
		if hu, _ := discovery.Find[discovery.HostUniq](f.pkt); !bytes.Equal(hu, []byte{7}) {
			t.Errorf("Host-Uniq %x", hu)
		}
		if c := h.counters(); c.RefusedNoService != 1 || c.SessionsStarted != 0 {
			t.Errorf("counters %+v", c)
		}
		if len(h.k.callLog()) != 0 {
			t.Errorf("kernel: %q", h.k.callLog())
		}
	})
}

// At max-sessions a PADR gets AC-System-Error (§5.4) and no link is made;
// once a session ends, the next one gets in.
func TestMaxSessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.MaxSessions = 1
		h := startHarness(t, cfg)
		a, _ := h.connect("eth0", macA, "alice", "alice-pw")
		cookie := h.offer("eth0", macB)
		f := h.request("eth0", macB, cookie)
		if _, ok := refusal(t, f).(discovery.ACSystemError); !ok {
			t.Errorf("error tag %v, want AC-System-Error", f.pkt.Error())
		}
		if c := h.counters(); c.RefusedMax != 1 || c.SessionsStarted != 1 {
			t.Errorf("counters %+v", c)
		}
		if n := len(h.k.opened); n != 0 {
			t.Errorf("%d links made past max-sessions", n)
		}
		if _, err := h.s.Kick("", a.id); err != nil {
			t.Fatal(err)
		}
		a.waitDown()
		if !a.ended() {
			t.Fatal("kicked session still there")
		}
		h.sent("eth0") // the PADT
		h.connect("eth0", macB, "bob", "bob-pw")
	})
}

// A session the kernel cannot make is refused with AC-System-Error
// (RFC 2516 §5.4), its id given back; the next PADR is served.
func TestKernelRefuses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, testConfig())
		h.k.mu.Lock()
		h.k.openErr = errors.New("pppox: /dev/ppp: no such device")
		h.k.mu.Unlock()
		cookie := h.offer("eth0", macA)
		f := h.request("eth0", macA, cookie)
		if _, ok := refusal(t, f).(discovery.ACSystemError); !ok {
			t.Errorf("error tag %v, want AC-System-Error", f.pkt.Error())
		}
		if n := h.s.ports[0].ids.Len(); n != 0 || h.nsessions() != 0 {
			t.Errorf("%d ids live, %d sessions", n, h.nsessions())
		}
		h.k.mu.Lock()
		h.k.openErr = nil
		h.k.mu.Unlock()
		h.connect("eth0", macA, "alice", "alice-pw")
	})
}

// A PADR repeated with the same cookie (our PADS was lost) gets the same
// PADS while LCP is not up, and no second session.
func TestPADRRepeated(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, testConfig())
		cookie := h.offer("eth0", macA)
		first := h.request("eth0", macA, cookie, discovery.ServiceName(""), discovery.HostUniq{1})
		again := h.request("eth0", macA, cookie, discovery.ServiceName(""), discovery.HostUniq{1})
		if !bytes.Equal(first.raw, again.raw) {
			t.Errorf("second PADS % x, want the first % x", again.raw, first.raw)
		}
		if n := h.nsessions(); n != 1 {
			t.Errorf("%d sessions", n)
		}
		if c := h.counters(); c.SessionsStarted != 1 || c.PADRs != 2 {
			t.Errorf("counters %+v", c)
		}
		// Once LCP is up, the client has its PADS: the cookie replayed
		// gets nothing, and starts nothing (a cookie holds one session).
		c := &client{h: h, ifname: "eth0", mac: macA, id: first.pkt.SessionID, link: <-h.k.opened, events: make(chan ppp.Event, 64), done: make(chan error, 1)}
		h.clients = append(h.clients, c)
		c.login("alice", "alice-pw")
		if _, ok := c.waitIPv4(); !ok {
			t.Fatal("no IPv4")
		}
		h.send("eth0", acMAC0, macA, &discovery.Packet{Code: discovery.CodePADR, Tags: []discovery.Tag{discovery.ServiceName(""), discovery.HostUniq{1}, cookie}})
		h.none("eth0")
		if n := h.nsessions(); n != 1 {
			t.Errorf("%d sessions after a replayed cookie", n)
		}
		// A new PADO's cookie (a client that restarted, another Host-Uniq)
		// is a new session, within the same cookie window.
		c2 := h.offer("eth0", macA)
		third := h.request("eth0", macA, c2, discovery.ServiceName(""), discovery.HostUniq{2})
		if third.pkt.SessionID == first.pkt.SessionID || third.pkt.SessionID == 0 {
			t.Errorf("a new PADR got session %#x (first %#x)", third.pkt.SessionID, first.pkt.SessionID)
		}
		if hu, _ := discovery.Find[discovery.HostUniq](third.pkt); !bytes.Equal(hu, []byte{2}) {
			t.Errorf("the new PADS's Host-Uniq is %x, want the new PADR's", hu)
		}
		if n := h.nsessions(); n != 2 {
			t.Errorf("%d sessions", n)
		}
	})
}

// A PADR or PADT unicast to another station (a packet socket sees them
// on a bridge, in promiscuous mode) is not ours.
func TestNotForUs(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, testConfig())
		c, _ := h.connect("eth0", macA, "alice", "alice-pw")
		cookie := h.offer("eth0", macB)
		before := h.counters()
		other := net.HardwareAddr{0x02, 0xff, 0, 0, 0, 9}
		h.send("eth0", other, macB, &discovery.Packet{Code: discovery.CodePADR, Tags: []discovery.Tag{discovery.ServiceName(""), cookie}})
		h.none("eth0")
		h.send("eth0", other, macA, &discovery.Packet{Code: discovery.CodePADT, SessionID: c.id})
		h.none("eth0")
		if cs := h.counters(); cs != before {
			t.Errorf("counters %+v, want %+v", cs, before)
		}
		if c.ended() {
			t.Error("a PADT to another station ended the session")
		}
	})
}

// one-session-per-host: a new session from a MAC ends its old one (LCP
// Terminate-Request, PADT for the old id); without it both stay.
func TestOneSessionPerHost(t *testing.T) {
	for _, on := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			cfg := testConfig()
			cfg.OneSessionPerHost = on
			h := startHarness(t, cfg)
			old, _ := h.connect("eth0", macA, "alice", "alice-pw")
			other, _ := h.connect("eth0", macB, "bob", "bob-pw")
			cookie := h.offer("eth0", macA)
			h.send("eth0", acMAC0, macA, &discovery.Packet{Code: discovery.CodePADR, Tags: []discovery.Tag{discovery.ServiceName(""), cookie}})
			time.Sleep(time.Second) // the old session's Terminate exchange
			if old.ended() != on {
				t.Errorf("one-session-per-host %v: old session ended %v", on, old.ended())
			}
			if other.ended() {
				t.Error("another host's session ended")
			}
			var padts, padss []uint16
			for _, f := range h.sent("eth0") {
				switch {
				case !bytes.Equal(f.dst, macA):
					t.Errorf("%v to %v", f.pkt, f.dst)
				case f.pkt.Code == discovery.CodePADT:
					padts = append(padts, f.pkt.SessionID)
				case f.pkt.Code == discovery.CodePADS:
					padss = append(padss, f.pkt.SessionID)
				}
			}
			if len(padss) != 1 || padss[0] == 0 || padss[0] == old.id {
				t.Fatalf("PADSs for %#x, want one for a new session (the old one is %#x)", padss, old.id)
			}
			<-h.k.opened
			if on {
				if !slices.Equal(padts, []uint16{old.id}) {
					t.Errorf("PADTs for %#x, want one for the old session %#x", padts, old.id)
				}
				if !old.link.sentCode(ppp.ProtoLCP, ppp.CodeTermReq) {
					t.Error("the old session got no Terminate-Request")
				}
			} else if len(padts) != 0 {
				t.Errorf("PADTs %#x", padts)
			}
		})
	}
}

// A PADT ends a session only when interface, client MAC and session id
// all match (RFC 2516 §5.5); the AC answers none.
func TestPADT(t *testing.T) {
	tests := []struct {
		name    string
		ifname  string
		src     net.HardwareAddr
		wrongID bool
		ends    bool
	}{
		{"all match", "eth0", macA, false, true},
		{"another MAC", "eth0", macB, false, false},
		{"another id", "eth0", macA, true, false},
		{"another interface", "eth1", macA, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := testConfig()
				cfg.Interfaces = append(cfg.Interfaces, Interface{Name: "eth1"})
				h := startHarness(t, cfg)
				c, _ := h.connect("eth0", macA, "alice", "alice-pw")
				id := c.id
				if tt.wrongID {
					id ^= 0x0100
				}
				h.send(tt.ifname, h.ifis[tt.ifname].HardwareAddr, tt.src, &discovery.Packet{
					Code: discovery.CodePADT, SessionID: id,
					Tags: []discovery.Tag{discovery.GenericError("bye \x1b[2J")},
				})
				if got := c.ended(); got != tt.ends {
					t.Fatalf("session ended: %v, want %v", got, tt.ends)
				}
				h.none("eth0") // no PADT back either way
				h.none("eth1")
				cs := h.counters()
				if tt.ends {
					if cs.PADTs != 1 || cs.PADTsIgnored != 0 {
						t.Errorf("counters %+v", cs)
					}
					if c.link.sentCode(ppp.ProtoLCP, ppp.CodeTermReq) {
						t.Error("a Terminate-Request to a client that sent a PADT")
					}
					if n := h.s.ports[0].ids.Len(); n != 0 {
						t.Errorf("%d session ids still live", n)
					}
					return
				}
				if cs.PADTs != 0 || cs.PADTsIgnored != 1 {
					t.Errorf("counters %+v", cs)
				}
			})
		})
	}
}

// Every end of a session but the client's PADT sends the client a PADT
// with its session id and our AC-Name, and frees the id.
func TestSessionEndSendsPADT(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, testConfig())
		c, _ := h.connect("eth0", macA, "alice", "alice-pw")
		c.cancel() // the client terminates the link
		c.waitDown()
		time.Sleep(ppp.DefaultRestart) // the AC's Stopping state (RFC 1661 §4.1)
		if !c.ended() {
			t.Fatal("session still there")
		}
		f := h.one("eth0", discovery.CodePADT)
		if f.pkt.SessionID != c.id || !bytes.Equal(f.dst, macA) {
			t.Errorf("PADT for %#x to %v, want %#x to %v", f.pkt.SessionID, f.dst, c.id, macA)
		}
		if n, _ := discovery.Find[discovery.ACName](f.pkt); n != "test-ac" {
			t.Errorf("AC-Name %q", n)
		}
		if n := h.s.ports[0].ids.Len(); n != 0 {
			t.Errorf("%d session ids still live", n)
		}
	})
}

// Kick ends the sessions of a user, or the one with an id, with LCP's
// Terminate-Request and a PADT.
func TestKick(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, testConfig())
		a1, _ := h.connect("eth0", macA, "alice", "alice-pw")
		a2, _ := h.connect("eth0", macB, "alice", "alice-pw")
		b, _ := h.connect("eth0", macC, "bob", "bob-pw")
		if _, err := h.s.Kick("", 0); err == nil {
			t.Error("Kick with neither user nor id")
		}
		if n, err := h.s.Kick("carol", 0); !errors.Is(err, ErrNoSession) || n != 0 {
			t.Errorf("Kick(carol) = %d, %v", n, err)
		}
		if n, err := h.s.Kick("alice", 0); err != nil || n != 2 {
			t.Errorf("Kick(alice) = %d, %v", n, err)
		}
		a1.waitDown()
		a2.waitDown()
		if !a1.ended() || !a2.ended() || b.ended() {
			t.Fatalf("ended: alice %v %v, bob %v", a1.ended(), a2.ended(), b.ended())
		}
		for _, c := range []*client{a1, a2} {
			if !c.link.sentCode(ppp.ProtoLCP, ppp.CodeTermReq) {
				t.Error("no Terminate-Request")
			}
		}
		if n := len(h.sent("eth0")); n != 2 {
			t.Errorf("%d PADTs, want 2", n)
		}
		if n, err := h.s.Kick("", b.id^1); !errors.Is(err, ErrNoSession) || n != 0 {
			t.Errorf("Kick(wrong id) = %d, %v", n, err)
		}
		if n, err := h.s.Kick("", b.id); err != nil || n != 1 {
			t.Errorf("Kick(id) = %d, %v", n, err)
		}
		b.waitDown()
		if !b.ended() {
			t.Error("bob's session still there")
		}
	})
}

// Status shows each session as it is, in PADS order, and the counters.
func TestStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Interfaces[0].ServiceNames = []string{"internet"}
		h := startHarness(t, cfg)
		start := time.Now()
		a, up := h.connect("eth0", macA, "alice", "alice-pw")
		time.Sleep(time.Second)
		b := h.session("eth0", macB) // up to the PADS only
		st := h.s.Status()
		if st.ACName != "test-ac" || !st.Started.Equal(start) {
			t.Errorf("status %+v", st)
		}
		if len(st.Sessions) != 2 {
			t.Fatalf("%d sessions", len(st.Sessions))
		}
		want := SessionStatus{
			User: "alice", MAC: macA.String(), SessionID: a.id, Interface: "eth0", Ifname: "pppt0",
			State: "up", Local: ip("10.0.0.1"), Remote: up.Local, MTU: 1492, Since: start, UpSince: start,
		}
		if got := st.Sessions[0]; got != want {
			t.Errorf("alice:\n got %+v\nwant %+v", got, want)
		}
		want = SessionStatus{
			MAC: macB.String(), SessionID: b.id, Interface: "eth0", Ifname: "pppt1",
			State: "establish", MTU: 1492, Since: start.Add(time.Second),
		}
		if got := st.Sessions[1]; got != want {
			t.Errorf("pending:\n got %+v\nwant %+v", got, want)
		}
		if st.Counters != h.counters() || st.Counters.SessionsUp != 1 || st.Counters.SessionsStarted != 2 {
			t.Errorf("counters %+v", st.Counters)
		}
	})
}

// The end of Run's ctx ends every session with LCP's Terminate-Request
// and a PADT, and Run returns only once all of them are gone (a silent
// client takes Max-Terminate restarts), the kernel last.
func TestRunStopsEverySession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, testConfig())
		a, _ := h.connect("eth0", macA, "alice", "alice-pw")
		b, _ := h.connect("eth0", macB, "bob", "bob-pw")
		pending := h.session("eth0", macC)
		b.link.setMute(true) // bob answers nothing
		start := time.Now()
		h.cancel()
		synctest.Wait()
		select {
		case <-h.runErr:
			t.Fatal("Run returned while bob's session was terminating")
		default:
		}
		if err := h.waitRun(); err != nil {
			t.Errorf("Run: %v", err)
		}
		// Bob's: two Terminate-Requests, 3 s apart, then 3 s for the Ack.
		if d := time.Since(start); d != 6*time.Second {
			t.Errorf("Run took %v, want 6s (Max-Terminate 2, Restart 3s)", d)
		}
		for _, c := range []*client{a, b} {
			if !c.link.sentCode(ppp.ProtoLCP, ppp.CodeTermReq) {
				t.Errorf("%v: no Terminate-Request", c.mac)
			}
		}
		if d := a.waitDown(); d == nil || d.Reason != ppp.ReasonPeerTerminated {
			t.Errorf("alice's client: %v", d)
		}
		for _, c := range []*client{a, b, pending} {
			if !c.link.isClosed() {
				t.Errorf("%v: link open after Run", c.mac)
			}
		}
		if log := h.k.callLog(); log[len(log)-1] != "close" {
			t.Errorf("kernel calls end with %q, want close", log[len(log)-1])
		}
		var padts []string
		for _, f := range h.sent("eth0") {
			if f.pkt.Code == discovery.CodePADT {
				padts = append(padts, f.dst.String())
			}
		}
		slices.Sort(padts)
		if want := []string{macA.String(), macB.String(), macC.String()}; !slices.Equal(padts, want) {
			t.Errorf("PADTs to %v, want %v", padts, want)
		}
		if !h.conns["eth0"].isClosed() {
			t.Error("the discovery socket is open after Run")
		}
	})
}

// A session being started while Run's ctx ends (or while Kick runs) is
// stopped like the others: what stop uses is set before the session is
// published. Run with -race; the window is narrow, so it is tried often.
func TestStopWhileStarting(t *testing.T) {
	for range 200 {
		synctest.Test(t, func(t *testing.T) {
			h := startHarness(t, testConfig())
			cookie := h.offer("eth0", macA)
			h.conns["eth0"].in <- frameFrom(t, acMAC0, macA, &discovery.Packet{Code: discovery.CodePADR, Tags: []discovery.Tag{discovery.ServiceName(""), cookie}})
			start := time.Now()
			h.cancel()
			h.waitRun()
			if d := time.Since(start); d > 10*time.Second {
				t.Fatalf("Run returned %v after its ctx ended: a session starting then was not stopped", d)
			}
		})
	}
}

// Run fails at once when an interface cannot be served, and leaves
// nothing open: the sockets of the interfaces opened before it, the kernel.
func TestRunFailsOnBadInterface(t *testing.T) {
	for _, failing := range []string{"lookup", "listen", "no MAC"} {
		t.Run(failing, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				cfg := testConfig()
				cfg.Interfaces = append(cfg.Interfaces, Interface{Name: "eth1"}, Interface{Name: "eth2"})
				s, err := New(cfg)
				if err != nil {
					t.Fatal(err)
				}
				k := newFakeKernel()
				conns := map[string]*fakeConn{}
				s.kernel = k
				s.iface = func(name string) (*net.Interface, error) {
					if name == "eth1" && failing == "lookup" {
						return nil, errors.New("no such network interface")
					}
					mac := net.HardwareAddr{0x02, 0xac, 0, 0, 0, name[3]}
					if name == "eth1" && failing == "no MAC" {
						mac = nil
					}
					return &net.Interface{Index: int(name[3]), MTU: 1500, Name: name, HardwareAddr: mac}, nil
				}
				s.listen = func(ifi *net.Interface) (frameConn, error) {
					if ifi.Name == "eth1" && failing == "listen" {
						return nil, errors.New("operation not permitted")
					}
					c := newFakeConn()
					conns[ifi.Name] = c
					return c, nil
				}
				err = s.Run(t.Context())
				if err == nil || !strings.Contains(err.Error(), "eth1") {
					t.Fatalf("Run = %v, want an error naming eth1", err)
				}
				if _, ok := conns["eth2"]; ok {
					t.Error("went on after eth1 failed")
				}
				if c := conns["eth0"]; c == nil || !c.isClosed() {
					t.Error("eth0's socket left open")
				}
				if !k.closed {
					t.Error("the kernel left open")
				}
			})
		})
	}
}

// Sessions not up yet are bounded (MaxPending): a PADR past it gets
// AC-System-Error and makes no link, where a station that sends PADRs and
// then nothing would hold a pppN each until SetupTimeout; once one of
// them ends, the next PADR is served.
func TestMaxPending(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, testConfig(), harnessOpts{setup: func(s *Server) { s.maxPending = 2 }})
		var ids []uint16
		for _, mac := range []net.HardwareAddr{macA, macB} {
			f := h.request("eth0", mac, h.offer("eth0", mac))
			if f.pkt.SessionID == 0 {
				t.Fatalf("PADR from %v refused: %v", mac, f.pkt.Error())
			}
			ids = append(ids, f.pkt.SessionID)
		}
		macC := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0c}
		f := h.request("eth0", macC, h.offer("eth0", macC))
		if _, ok := refusal(t, f).(discovery.ACSystemError); !ok {
			t.Errorf("error tag %v, want AC-System-Error", f.pkt.Error())
		}
		if n := h.nsessions(); n != 2 {
			t.Errorf("%d sessions, want 2", n)
		}
		if _, err := h.s.Kick("", ids[0]); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		time.Sleep(time.Minute) // a silent client: no Terminate-Ack
		synctest.Wait()
		h.sent("eth0")
		f = h.request("eth0", macC, h.offer("eth0", macC))
		if f.pkt.SessionID == 0 {
			t.Errorf("PADR refused once a pending session ended: %v", f.pkt.Error())
		}
	})
}

// A session that comes up is no longer pending: with room for one
// pending session, clients that log in one after the other all get in.
func TestMaxPendingCountsUpSessions(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, testConfig(), harnessOpts{setup: func(s *Server) { s.maxPending = 1 }})
		h.connect("eth0", macA, "alice", "alice-pw")
		h.connect("eth0", macB, "bob", "bob-pw")
		if n := h.nsessions(); n != 2 {
			t.Errorf("%d sessions, want 2", n)
		}
	})
}
