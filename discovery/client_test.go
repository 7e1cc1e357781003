package discovery_test

import (
	"bytes"
	"context"
	"errors"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mdlayher/packet"
	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/discovery/discoverytest"
)

// scriptedAC answers discovery on a port of a test segment.
type scriptedAC struct {
	port        *discoverytest.Port
	name        string
	services    []string
	cookie      []byte
	relay       []byte // added to its PADO, as a relay agent would
	echoMax     bool   // echo PPP-Max-Payload (RFC 4638)
	sessionID   uint16
	refuse      discovery.Tag // sent in the PADS instead of a session
	ignorePADI  int           // PADIs to ignore before answering
	ignorePADR  int
	badHostUniq bool
	// corruptPADS, when set, makes the Host-Uniq tags of the first PADS,
	// which offers session 666, from the PADR's Host-Uniq.
	corruptPADS func(hu discovery.HostUniq) []discovery.Tag
	// padsMax, when set, is put in every PADS as PPP-Max-Payload, asked
	// for or not.
	padsMax uint16
	// padoExtra is appended to every PADO.
	padoExtra []discovery.Tag
	// padoDelay delays every PADO; padsDelays[n] the n-th PADS (the
	// answer to the n-th PADR), which then does not hold up the
	// following ones.
	padoDelay  time.Duration
	padsDelays []time.Duration
	// sessionIDs[n] is the session the n-th PADR opens (default
	// sessionID): an AC may open a session per PADR.
	sessionIDs []uint16
	// onPADR runs when the n-th PADR arrives, before the answer; true
	// means no answer.
	onPADR func(n int, hu discovery.HostUniq) bool

	mu    sync.Mutex
	padis []*discovery.Packet
	padrs []*discovery.Packet
	padts []*discovery.Packet
}

func (a *scriptedAC) run(t *testing.T) {
	go func() {
		for {
			b, from, err := a.port.Receive()
			if err != nil {
				return
			}
			p, err := discovery.Parse(b)
			if err != nil {
				t.Errorf("AC %s got a malformed packet: %v", a.name, err)
				continue
			}
			hu, _ := discovery.Find[discovery.HostUniq](p)
			if a.badHostUniq {
				hu = append(slices.Clone(hu), 0xff)
			}
			switch p.Code {
			case discovery.CodePADI:
				a.mu.Lock()
				a.padis = append(a.padis, p)
				a.mu.Unlock()
				if a.ignorePADI > 0 {
					a.ignorePADI--
					continue
				}
				pado := &discovery.Packet{Code: discovery.CodePADO, Tags: []discovery.Tag{discovery.ACName(a.name)}}
				for _, s := range a.services {
					pado.Tags = append(pado.Tags, discovery.ServiceName(s))
				}
				pado.Tags = append(pado.Tags, discovery.ACCookie(a.cookie), discovery.HostUniq(hu))
				if a.relay != nil {
					pado.Tags = append(pado.Tags, discovery.RelaySessionID(a.relay))
				}
				if m, ok := discovery.Find[discovery.PPPMaxPayload](p); ok && a.echoMax {
					pado.Tags = append(pado.Tags, m)
				}
				pado.Tags = append(pado.Tags, a.padoExtra...)
				time.Sleep(a.padoDelay)
				a.send(t, pado, from)
			case discovery.CodePADR:
				a.mu.Lock()
				a.padrs = append(a.padrs, p)
				n := len(a.padrs) - 1
				a.mu.Unlock()
				if a.onPADR != nil && a.onPADR(n, hu) {
					continue
				}
				if a.ignorePADR > 0 {
					a.ignorePADR--
					continue
				}
				if ck, _ := discovery.Find[discovery.ACCookie](p); !bytes.Equal(ck, a.cookie) {
					t.Errorf("AC %s: PADR cookie %x, want %x", a.name, ck, a.cookie)
				}
				sn, _ := discovery.Find[discovery.ServiceName](p)
				pads := &discovery.Packet{Code: discovery.CodePADS, SessionID: a.sessionID, Tags: []discovery.Tag{sn, discovery.HostUniq(hu)}}
				if n < len(a.sessionIDs) {
					pads.SessionID = a.sessionIDs[n]
				}
				if a.refuse != nil {
					pads.SessionID = 0
					pads.Tags = []discovery.Tag{discovery.HostUniq(hu), a.refuse}
				}
				if m, ok := discovery.Find[discovery.PPPMaxPayload](p); ok && a.echoMax {
					pads.Tags = append(pads.Tags, m)
				}
				if a.padsMax != 0 {
					pads.Tags = append(pads.Tags, discovery.PPPMaxPayload(a.padsMax))
				}
				if a.corruptPADS != nil {
					pads.SessionID = 666
					pads.Tags = append([]discovery.Tag{sn}, a.corruptPADS(hu)...)
					a.corruptPADS = nil
				}
				if n < len(a.padsDelays) && a.padsDelays[n] > 0 {
					go func(d time.Duration) {
						time.Sleep(d)
						a.send(t, pads, from)
					}(a.padsDelays[n])
					continue
				}
				a.send(t, pads, from)
			case discovery.CodePADT:
				a.mu.Lock()
				a.padts = append(a.padts, p)
				a.mu.Unlock()
			}
		}
	}()
}

func (a *scriptedAC) send(t *testing.T, p *discovery.Packet, to net.HardwareAddr) {
	b, err := p.Marshal()
	if err != nil {
		t.Errorf("AC %s: %v", a.name, err)
		return
	}
	a.port.WriteTo(b, addr(to))
}

func newAC(seg *discoverytest.Segment, mac, name string, services ...string) *scriptedAC {
	return &scriptedAC{port: seg.Port(mac), name: name, services: services, cookie: []byte("cookie-" + name), sessionID: 0x42}
}

func TestDiscover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seg := &discoverytest.Segment{}
		defer seg.Close()
		ac := newAC(seg, "02:00:00:00:00:0a", "ac1", "isp")
		ac.relay = []byte{1, 2, 3}
		ac.run(t)
		c := discovery.NewClient(seg.Port("02:00:00:00:00:01"), discovery.ClientConfig{ServiceName: "isp", HostUniq: []byte{7, 7}})
		defer c.Close()
		t0 := time.Now()
		s, err := c.Discover(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if s.ID != 0x42 || s.AC.String() != "02:00:00:00:00:0a" || s.ACName != "ac1" || s.ServiceName != "isp" || s.MaxPayload != 0 {
			t.Errorf("session %+v", s)
		}
		if !bytes.Equal(s.RelaySessionID, []byte{1, 2, 3}) {
			t.Errorf("relay id %x", s.RelaySessionID)
		}
		if time.Since(t0) != 0 {
			t.Errorf("took %v: a timer waited", time.Since(t0))
		}
		ac.mu.Lock()
		padr := ac.padrs[0]
		ac.mu.Unlock()
		// The PADR echoes the Relay-Session-Id (appendix A) and the
		// Host-Uniq.
		if r, _ := discovery.Find[discovery.RelaySessionID](padr); !bytes.Equal(r, []byte{1, 2, 3}) {
			t.Errorf("PADR relay id %x", r)
		}
		if hu, _ := discovery.Find[discovery.HostUniq](padr); !bytes.Equal(hu, []byte{7, 7}) {
			t.Errorf("PADR host-uniq %x", hu)
		}
		// PADT, both ways.
		if err := c.SendPADT(s, "user request"); err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		ac.mu.Lock()
		padt := ac.padts[0]
		ac.mu.Unlock()
		if padt.SessionID != 0x42 || discovery.PADTReason(padt) != "user request" {
			t.Errorf("PADT %v", padt)
		}
		ac.send(t, &discovery.Packet{Code: discovery.CodePADT, SessionID: 0x43}, c2mac("02:00:00:00:00:01")) // another session
		ac.send(t, &discovery.Packet{Code: discovery.CodePADT, SessionID: 0x42, Tags: []discovery.Tag{discovery.GenericError("maintenance")}}, c2mac("02:00:00:00:00:01"))
		got, err := c.WaitPADT(context.Background(), s)
		if err != nil || got.SessionID != 0x42 || discovery.PADTReason(got) != "maintenance" {
			t.Errorf("WaitPADT = %v, %v", got, err)
		}
	})
}

func c2mac(s string) net.HardwareAddr { m, _ := net.ParseMAC(s); return m }

// PADIs are retransmitted after 5, then 10 s; without any answer,
// discovery fails after 5 + 10 + 20 s.
func TestDiscoverRetransmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seg := &discoverytest.Segment{}
		defer seg.Close()
		ac := newAC(seg, "02:00:00:00:00:0a", "ac1", "isp")
		ac.ignorePADI = 2
		ac.ignorePADR = 1
		ac.run(t)
		c := discovery.NewClient(seg.Port("02:00:00:00:00:01"), discovery.ClientConfig{})
		defer c.Close()
		t0 := time.Now()
		if _, err := c.Discover(context.Background()); err != nil {
			t.Fatal(err)
		}
		// Two PADIs unanswered (5 s, 10 s), one PADR unanswered (5 s).
		if took := time.Since(t0); took != 20*time.Second {
			t.Errorf("took %v, want 5+10+5 s", took)
		}

		empty := &discoverytest.Segment{}
		defer empty.Close()
		silent := discovery.NewClient(empty.Port("02:00:00:00:00:02"), discovery.ClientConfig{Timeout: time.Second, Attempts: 4})
		defer silent.Close()
		t0 = time.Now()
		_, err := silent.Discover(context.Background())
		if !errors.Is(err, discovery.ErrNoOffer) || !strings.Contains(err.Error(), "after 4 PADIs") {
			t.Errorf("Discover on an empty segment = %v", err)
		}
		if took := time.Since(t0); took != 15*time.Second {
			t.Errorf("gave up after %v, want 1+2+4+8 s", took)
		}
	})
}

func TestDiscoverNoConfirmation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seg := &discoverytest.Segment{}
		defer seg.Close()
		ac := newAC(seg, "02:00:00:00:00:0a", "ac1", "isp")
		ac.ignorePADR = 99
		ac.run(t)
		c := discovery.NewClient(seg.Port("02:00:00:00:00:01"), discovery.ClientConfig{})
		defer c.Close()
		_, err := c.Discover(context.Background())
		if !errors.Is(err, discovery.ErrNoConfirmation) || !strings.Contains(err.Error(), "02:00:00:00:00:0a after 3 PADRs") {
			t.Errorf("Discover = %v", err)
		}
	})
}

// With two ACs on the segment, the filters choose; without them the first
// valid offer wins.
func TestDiscoverSelection(t *testing.T) {
	tests := []struct {
		name   string
		cfg    discovery.ClientConfig
		wantAC string
	}{
		{"by service name", discovery.ClientConfig{ServiceName: "voip"}, "ac2"},
		{"by AC name", discovery.ClientConfig{ACName: "ac2"}, "ac2"},
		{"by AC MAC", discovery.ClientConfig{ACMAC: c2mac("02:00:00:00:00:0b")}, "ac2"},
		{"by both names", discovery.ClientConfig{ServiceName: "isp", ACName: "ac1"}, "ac1"},
		{"nothing matches", discovery.ClientConfig{ServiceName: "isp", ACName: "ac2"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				seg := &discoverytest.Segment{}
				defer seg.Close()
				newAC(seg, "02:00:00:00:00:0a", "ac1", "isp").run(t)
				ac2 := newAC(seg, "02:00:00:00:00:0b", "ac2", "voip", "any")
				ac2.sessionID = 7
				ac2.run(t)
				tt.cfg.Timeout, tt.cfg.Attempts = time.Second, 2
				c := discovery.NewClient(seg.Port("02:00:00:00:00:01"), tt.cfg)
				defer c.Close()
				s, err := c.Discover(context.Background())
				if tt.wantAC == "" {
					if !errors.Is(err, discovery.ErrNoOffer) || !strings.Contains(err.Error(), "offers did not match") {
						t.Errorf("Discover = %v, %v", s, err)
					}
					return
				}
				if err != nil || s.ACName != tt.wantAC {
					t.Errorf("Discover = %+v, %v; want %s", s, err, tt.wantAC)
				}
			})
		})
	}
}

// Replies that are not for us are counted and ignored: with nothing else
// on the segment, discovery times out having seen them all.
func TestDiscoverIgnores(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seg := &discoverytest.Segment{}
		defer seg.Close()
		other := newAC(seg, "02:00:00:00:00:0c", "other", "isp")
		other.badHostUniq = true // answers with a Host-Uniq that is not ours
		other.run(t)
		client := seg.Port("02:00:00:00:00:01")
		junk := seg.Port("02:00:00:00:00:0d")
		junk.WriteTo([]byte{0x11, 0x07, 0, 0, 0, 9}, addr(client.MAC))             // malformed
		junk.WriteTo([]byte{0x11, 0x65, 0, 5, 0, 4, 1, 3, 0, 0}, addr(client.MAC)) // a PADS nobody asked for
		mcast := seg.Port("03:00:00:00:00:0e")                                     // a multicast source
		go func() {
			for {
				b, from, err := mcast.Receive()
				if err != nil {
					return
				}
				p, _ := discovery.Parse(b)
				hu, _ := discovery.Find[discovery.HostUniq](p)
				pado := &discovery.Packet{Code: discovery.CodePADO, Tags: []discovery.Tag{discovery.ACName("mc"), discovery.ServiceName("isp"), discovery.HostUniq(hu)}}
				w, _ := pado.Marshal()
				mcast.WriteTo(w, addr(from))
			}
		}()
		c := discovery.NewClient(client, discovery.ClientConfig{Timeout: time.Second, Attempts: 1})
		defer c.Close()
		if _, err := c.Discover(context.Background()); !errors.Is(err, discovery.ErrNoOffer) {
			t.Fatalf("Discover = %v", err)
		}
		if st := c.Stats(); st != (discovery.Stats{Malformed: 1, Unexpected: 1, WrongHostUniq: 1, WrongMAC: 1}) {
			t.Errorf("stats %+v", st)
		}
	})
}

// A PADS from another station than the chosen AC is ignored (counted),
// however well it imitates the real one.
func TestDiscoverIgnoresImpostorPADS(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seg := &discoverytest.Segment{}
		defer seg.Close()
		ac := newAC(seg, "02:00:00:00:00:0a", "ac1", "isp")
		ac.ignorePADR = 1 // the real PADS comes after 5 s
		ac.run(t)
		impostor := seg.Port("02:00:00:00:00:0f")
		go func() {
			b, from, err := impostor.Receive() // the PADI
			if err != nil {
				return
			}
			p, _ := discovery.Parse(b)
			hu, _ := discovery.Find[discovery.HostUniq](p)
			time.Sleep(time.Second) // the client waits for its PADS now
			pads := &discovery.Packet{Code: discovery.CodePADS, SessionID: 666, Tags: []discovery.Tag{discovery.ServiceName("isp"), discovery.HostUniq(hu)}}
			w, _ := pads.Marshal()
			impostor.WriteTo(w, addr(from))
		}()
		c := discovery.NewClient(seg.Port("02:00:00:00:00:01"), discovery.ClientConfig{})
		defer c.Close()
		s, err := c.Discover(context.Background())
		if err != nil || s.ID != 0x42 {
			t.Fatalf("Discover = %+v, %v", s, err)
		}
		if st := c.Stats(); st.WrongMAC != 1 {
			t.Errorf("stats %+v", st)
		}
	})
}

// A PADS refusing the session is reported with its tag, the text escaped.
func TestDiscoverRefused(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seg := &discoverytest.Segment{}
		defer seg.Close()
		ac := newAC(seg, "02:00:00:00:00:0a", "ac1", "isp")
		ac.refuse = discovery.ServiceNameError("no such service\x07")
		ac.run(t)
		c := discovery.NewClient(seg.Port("02:00:00:00:00:01"), discovery.ClientConfig{})
		defer c.Close()
		_, err := c.Discover(context.Background())
		var refused *discovery.RefusedError
		if !errors.As(err, &refused) || err.Error() != "discovery: access concentrator 02:00:00:00:00:0a refused the session: service-name-error: no such service\\a" {
			t.Fatalf("Discover = %v", err)
		}
	})
}

// RFC 4638: PPP-Max-Payload goes out in PADI and PADR; the session gets it
// only when the AC echoes it.
func TestDiscoverMaxPayload(t *testing.T) {
	for _, echo := range []bool{true, false} {
		synctest.Test(t, func(t *testing.T) {
			seg := &discoverytest.Segment{}
			defer seg.Close()
			ac := newAC(seg, "02:00:00:00:00:0a", "ac1", "isp")
			ac.echoMax = echo
			ac.run(t)
			c := discovery.NewClient(seg.Port("02:00:00:00:00:01"), discovery.ClientConfig{MaxPayload: 1500})
			defer c.Close()
			s, err := c.Discover(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			want := uint16(0)
			if echo {
				want = 1500
			}
			if s.MaxPayload != want {
				t.Errorf("echo %v: MaxPayload %d, want %d", echo, s.MaxPayload, want)
			}
			ac.mu.Lock()
			m, ok := discovery.Find[discovery.PPPMaxPayload](ac.padrs[0])
			ac.mu.Unlock()
			if !ok || m != 1500 {
				t.Errorf("PADR PPP-Max-Payload %v %v", m, ok)
			}
		})
	}
}

func TestScan(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seg := &discoverytest.Segment{}
		defer seg.Close()
		newAC(seg, "02:00:00:00:00:0a", "ac1", "isp").run(t)
		ac2 := newAC(seg, "02:00:00:00:00:0b", "ac2", "voip", "isp")
		ac2.echoMax = true
		ac2.run(t)
		c := discovery.NewClient(seg.Port("02:00:00:00:00:01"), discovery.ClientConfig{MaxPayload: 1500})
		defer c.Close()
		t0 := time.Now()
		offers, err := c.Scan(context.Background(), 3*time.Second)
		if err != nil || len(offers) != 2 || time.Since(t0) != 3*time.Second {
			t.Fatalf("Scan = %+v, %v after %v", offers, err, time.Since(t0))
		}
		slices.SortFunc(offers, func(a, b discovery.Offer) int { return strings.Compare(a.ACName, b.ACName) })
		if offers[1].ACName != "ac2" || !slices.Equal(offers[1].Services, []string{"voip", "isp"}) || offers[1].MaxPayload != 1500 ||
			string(offers[1].Cookie) != "cookie-ac2" || offers[0].MaxPayload != 0 {
			t.Errorf("offers %+v", offers)
		}
	})
}

func TestDiscoverCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seg := &discoverytest.Segment{}
		defer seg.Close()
		c := discovery.NewClient(seg.Port("02:00:00:00:00:01"), discovery.ClientConfig{})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		if _, err := c.Discover(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Discover = %v", err)
		}
		c.Close()
		if _, err := c.Discover(context.Background()); err == nil {
			t.Error("Discover on a closed client succeeded")
		}
	})
}

func addr(mac net.HardwareAddr) net.Addr { return &packet.Addr{HardwareAddr: mac} }

// When no offer is taken, the error says what was asked for, how many
// offers the filters refused, and the last AC's error, each only when
// there is something to say: it is all a user has to go on.
func TestDiscoverNoOfferError(t *testing.T) {
	tests := []struct {
		name string
		cfg  discovery.ClientConfig
		ac   bool          // an AC "ac1" offers "isp"
		tag  discovery.Tag // ... with this error tag in its PADO
		want string
	}{
		{name: "nothing on the segment", want: "discovery: no access concentrator answered after 2 PADIs"},
		{name: "a service asked for", cfg: discovery.ClientConfig{ServiceName: "voip"},
			want: `discovery: no access concentrator answered after 2 PADIs (service-name "voip", ac-name "", ac-mac )`},
		{name: "an AC name asked for", cfg: discovery.ClientConfig{ACName: "ac9"},
			want: `discovery: no access concentrator answered after 2 PADIs (service-name "", ac-name "ac9", ac-mac )`},
		{name: "an AC MAC asked for", cfg: discovery.ClientConfig{ACMAC: c2mac("02:00:00:00:00:09")},
			want: `discovery: no access concentrator answered after 2 PADIs (service-name "", ac-name "", ac-mac 02:00:00:00:00:09)`},
		{name: "offers refused", cfg: discovery.ClientConfig{ServiceName: "voip"}, ac: true,
			want: `discovery: no access concentrator answered after 2 PADIs (service-name "voip", ac-name "", ac-mac ); 2 offers did not match`},
		{name: "an AC's error", ac: true, tag: discovery.ACSystemError("full"),
			want: "discovery: no access concentrator answered after 2 PADIs; 02:00:00:00:00:0a (ac1) answered with AC-system-error: full"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				seg := &discoverytest.Segment{}
				defer seg.Close()
				if tt.ac {
					ac := newAC(seg, "02:00:00:00:00:0a", "ac1", "isp")
					if tt.tag != nil {
						ac.padoExtra = []discovery.Tag{tt.tag}
					}
					ac.run(t)
				}
				tt.cfg.Timeout, tt.cfg.Attempts = time.Second, 2
				c := discovery.NewClient(seg.Port("02:00:00:00:00:01"), tt.cfg)
				defer c.Close()
				_, err := c.Discover(context.Background())
				if !errors.Is(err, discovery.ErrNoOffer) || err.Error() != tt.want {
					t.Errorf("Discover = %v\nwant               %s", err, tt.want)
				}
			})
		})
	}
}

// Listen names the interface when it cannot open the socket: here one
// that does not exist (or, unprivileged, any).
func TestListenError(t *testing.T) {
	c, err := discovery.Listen(&net.Interface{Index: 1 << 30, Name: "nosuch0"})
	if err == nil {
		if c != nil {
			c.Close()
		}
		t.Fatal("Listen on a missing interface succeeded")
	}
	if !strings.HasPrefix(err.Error(), "discovery: packet socket on nosuch0: ") {
		t.Errorf("Listen = %v", err)
	}
}
