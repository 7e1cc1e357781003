package discovery_test

import (
	"context"
	"errors"
	"math"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/discovery/discoverytest"
)

// Checks that no other test notices when they are deleted (issue 8):
// each test here fails without its check.

// WaitPADT takes a PADT only from the AC, for our session: anyone on the
// segment can send a PADT, and the AC's MAC is the only thing that tells
// the AC's apart.
func TestWaitPADTChecks(t *testing.T) {
	ac, other := c2mac("02:00:00:00:00:0a"), c2mac("02:00:00:00:00:0f")
	padt := func(sid uint16) *discovery.Packet {
		return &discovery.Packet{Code: discovery.CodePADT, SessionID: sid, Tags: []discovery.Tag{discovery.GenericError("bye")}}
	}
	tests := []struct {
		name string
		from []byte
		p    *discovery.Packet
		want bool
		// counted as WrongMAC: a forged PADT is worth knowing about
		wrongMAC int
	}{
		{"from the AC", ac, padt(0x42), true, 0},
		{"from another MAC", other, padt(0x42), false, 1},
		{"another session", ac, padt(0x43), false, 0},
		{"not a PADT", ac, &discovery.Packet{Code: discovery.CodePADS, SessionID: 0x42, Tags: []discovery.Tag{discovery.HostUniq{1}}}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				seg := &discoverytest.Segment{}
				defer seg.Close()
				port := seg.Port("02:00:00:00:00:01")
				c := discovery.NewClient(port, discovery.ClientConfig{HostUniq: []byte{1}})
				defer c.Close()
				port.Inject(mustMarshal(t, tt.p), tt.from)
				ctx, cancel := context.WithTimeout(context.Background(), time.Second)
				defer cancel()
				got, err := c.WaitPADT(ctx, &discovery.Session{ID: 0x42, AC: ac, HostUniq: []byte{1}})
				if tt.want && (err != nil || got.SessionID != 0x42) {
					t.Errorf("WaitPADT = %v, %v; want the PADT", got, err)
				}
				if !tt.want && !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("WaitPADT = %v, %v; want it ignored", got, err)
				}
				if st := c.Stats(); st.WrongMAC != tt.wrongMAC {
					t.Errorf("stats %+v, want WrongMAC %d", st, tt.wrongMAC)
				}
			})
		})
	}
}

// A PADS from the chosen AC whose Host-Uniq is not ours answers someone
// else's PADR (or is forged): it is ignored, and the PADR retransmitted.
// The scripted AC's badHostUniq corrupts its PADO as well, which ends
// discovery before any PADS: here the PADO is right and the PADS not.
func TestDiscoverIgnoresPADSOfAnotherHost(t *testing.T) {
	tests := []struct {
		name string
		hu   func(discovery.HostUniq) []discovery.Tag
	}{
		{"other value", func(hu discovery.HostUniq) []discovery.Tag { return []discovery.Tag{discovery.HostUniq{9, 9}} }},
		{"longer", func(hu discovery.HostUniq) []discovery.Tag { return []discovery.Tag{append(hu, 0)} }},
		{"shorter", func(hu discovery.HostUniq) []discovery.Tag { return []discovery.Tag{hu[:1]} }},
		{"missing", func(discovery.HostUniq) []discovery.Tag { return nil }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				seg := &discoverytest.Segment{}
				defer seg.Close()
				ac := newAC(seg, "02:00:00:00:00:0a", "ac1", "isp")
				ac.corruptPADS = tt.hu
				ac.run(t)
				c := discovery.NewClient(seg.Port("02:00:00:00:00:01"), discovery.ClientConfig{HostUniq: []byte{7, 7}})
				defer c.Close()
				s, err := c.Discover(context.Background())
				if err != nil || s.ID != 0x42 {
					t.Fatalf("Discover = %+v, %v; want session 0x42 from the second PADS", s, err)
				}
				if st := c.Stats(); st.WrongHostUniq != 1 {
					t.Errorf("stats %+v", st)
				}
			})
		})
	}
}

// RFC 4638 §4: the session's MaxPayload is what the AC echoed, never more
// than we asked, and nothing when we did not ask (1492 or less is not
// asking: the PADI and PADR carry no tag then).
func TestDiscoverMaxPayloadClamp(t *testing.T) {
	tests := []struct {
		name    string
		ask     uint16
		padsMax uint16 // in the PADS, asked for or not; 0: none
		want    uint16
		wantTag bool // PPP-Max-Payload in our PADI and PADR
	}{
		{"echoed", 1500, 1500, 1500, true},
		{"AC raises it", 1500, 1508, 1500, true},
		{"AC lowers it", 1500, 1496, 1496, true},
		{"AC omits it", 1500, 0, 0, true},
		{"not asked, 1492", discovery.DefaultMTU, 1500, 0, false},
		{"not asked, 0", 0, 1500, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				seg := &discoverytest.Segment{}
				defer seg.Close()
				ac := newAC(seg, "02:00:00:00:00:0a", "ac1", "isp")
				ac.padsMax = tt.padsMax
				ac.run(t)
				c := discovery.NewClient(seg.Port("02:00:00:00:00:01"), discovery.ClientConfig{MaxPayload: tt.ask})
				defer c.Close()
				s, err := c.Discover(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if s.MaxPayload != tt.want {
					t.Errorf("MaxPayload %d, want %d", s.MaxPayload, tt.want)
				}
				ac.mu.Lock()
				defer ac.mu.Unlock()
				for _, p := range []*discovery.Packet{ac.padis[0], ac.padrs[0]} {
					m, ok := discovery.Find[discovery.PPPMaxPayload](p)
					if ok != tt.wantTag || (ok && uint16(m) != tt.ask) {
						t.Errorf("%s PPP-Max-Payload %d (%v), want %d (%v)", p.Code, m, ok, tt.ask, tt.wantTag)
					}
				}
			})
		})
	}
}

// While it waits for the PADS, Discover counts as unexpected what has no
// business arriving then, but not the PADOs of slower ACs, which every
// PADI on a segment with several ACs brings.
func TestDiscoverIgnoresWhileRequesting(t *testing.T) {
	hu := discovery.HostUniq{7, 7}
	tests := []struct {
		name string
		p    *discovery.Packet
		want discovery.Stats
	}{
		{"a late PADO", &discovery.Packet{Code: discovery.CodePADO, Tags: []discovery.Tag{discovery.ACName("slow"), hu}}, discovery.Stats{}},
		{"a PADI", &discovery.Packet{Code: discovery.CodePADI, Tags: []discovery.Tag{discovery.ServiceName(""), discovery.HostUniq{1}}}, discovery.Stats{Unexpected: 1}},
		{"a PADT", &discovery.Packet{Code: discovery.CodePADT, SessionID: 0x42, Tags: []discovery.Tag{hu}}, discovery.Stats{Unexpected: 1}},
		{"a PADR", &discovery.Packet{Code: discovery.CodePADR, Tags: []discovery.Tag{discovery.ServiceName(""), hu}}, discovery.Stats{Unexpected: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				seg := &discoverytest.Segment{}
				defer seg.Close()
				port := seg.Port("02:00:00:00:00:01")
				ac := newAC(seg, "02:00:00:00:00:0a", "ac1", "isp")
				ac.onPADR = func(int, discovery.HostUniq) bool {
					port.Inject(mustMarshal(t, tt.p), c2mac("02:00:00:00:00:0b")) // before the PADS
					return false
				}
				ac.run(t)
				c := discovery.NewClient(port, discovery.ClientConfig{HostUniq: hu})
				defer c.Close()
				if s, err := c.Discover(context.Background()); err != nil || s.ID != 0x42 {
					t.Fatalf("Discover = %+v, %v", s, err)
				}
				if st := c.Stats(); st != tt.want {
					t.Errorf("stats %+v, want %+v", st, tt.want)
				}
			})
		})
	}
}

// A Timeout so long that doubling it would overflow stays as it is:
// wrapped around, the next wait would be negative, and the PADIs left
// would go out at once.
func TestDiscoverHugeTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seg := &discoverytest.Segment{}
		defer seg.Close()
		ac := newAC(seg, "02:00:00:00:00:0a", "ac1", "isp")
		ac.ignorePADI = 99
		ac.run(t)
		const timeout = math.MaxInt64/2 + 1
		c := discovery.NewClient(seg.Port("02:00:00:00:00:01"), discovery.ClientConfig{Timeout: timeout, Attempts: 3})
		errc := make(chan error, 1)
		go func() {
			_, err := c.Discover(context.Background())
			errc <- err
		}()
		time.Sleep(timeout) // the first wait ends
		synctest.Wait()
		ac.mu.Lock()
		n := len(ac.padis)
		ac.mu.Unlock()
		if n != 2 {
			t.Errorf("%d PADIs after the first wait, want 2", n)
		}
		c.Close()
		if err := <-errc; !errors.Is(err, net.ErrClosed) {
			t.Errorf("Discover = %v; want it still waiting until Close", err)
		}
	})
}
