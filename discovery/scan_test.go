package discovery_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/discovery/discoverytest"
)

// Scan lists ACs in the order they first answered; a later PADO from the
// same MAC replaces the earlier one in its place.
func TestScanOrderAndReplace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seg := &discoverytest.Segment{}
		defer seg.Close()
		port := seg.Port("02:00:00:00:00:01")
		hu := discovery.HostUniq{7}
		pado := func(name string) []byte {
			return mustMarshal(t, &discovery.Packet{Code: discovery.CodePADO, Tags: []discovery.Tag{discovery.ACName(name), hu}})
		}
		for _, a := range []struct {
			from int
			name string
		}{{3, "c"}, {1, "a"}, {2, "b"}, {1, "a again"}, {3, "c again"}} {
			port.Inject(pado(a.name), station(a.from))
		}
		c := discovery.NewClient(port, discovery.ClientConfig{HostUniq: hu})
		defer c.Close()
		offers, err := c.Scan(context.Background(), time.Second)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, o := range offers {
			got = append(got, fmt.Sprintf("%s %s", o.AC, o.ACName))
		}
		want := []string{"02:ee:00:00:00:03 c again", "02:ee:00:00:00:01 a again", "02:ee:00:00:00:02 b"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("Scan = %q, want %q", got, want)
		}
	})
}

// However many stations answer, Scan lists 256; the others are counted
// and logged once, and the ones listed can still replace their offer.
func TestScanBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec, log := newRecorder(slog.LevelInfo)
		seg := &discoverytest.Segment{}
		defer seg.Close()
		port := seg.Port("02:00:00:00:00:01")
		hu := discovery.HostUniq{7}
		const n = 300
		go func() {
			pado := func(i int, name string) {
				port.Inject(mustMarshal(t, &discovery.Packet{Code: discovery.CodePADO, Tags: []discovery.Tag{discovery.ACName(name), hu}}), station(i))
			}
			for i := range n {
				pado(i, fmt.Sprint("ac", i))
			}
			pado(5, "ac5 again")   // listed: replaced
			pado(299, "ac299 too") // not listed: counted again
		}()
		c := discovery.NewClient(port, discovery.ClientConfig{HostUniq: hu, Logger: log})
		defer c.Close()
		offers, err := c.Scan(context.Background(), time.Second)
		if err != nil || len(offers) != 256 {
			t.Fatalf("Scan = %d offers, %v; want 256", len(offers), err)
		}
		for i, o := range offers {
			want := fmt.Sprint("ac", i)
			if i == 5 {
				want = "ac5 again"
			}
			if o.AC.String() != station(i).String() || o.ACName != want {
				t.Errorf("offer %d: %s %q, want %s %q", i, o.AC, o.ACName, station(i), want)
			}
		}
		if st := c.Stats(); st.ScanOverflow != n-256+1 {
			t.Errorf("stats %+v, want ScanOverflow %d", st, n-256+1)
		}
		if got := rec.count("discovery: more access concentrators answered"); got != 1 {
			t.Errorf("%d lines about the overflow, want 1", got)
		}
	})
}

// Scan lists only PADOs for our Host-Uniq from unicast addresses; it
// counts the rest, as Discover does.
func TestScanIgnores(t *testing.T) {
	hu := discovery.HostUniq{7}
	pado := func(tags ...discovery.Tag) *discovery.Packet {
		return &discovery.Packet{Code: discovery.CodePADO, Tags: append([]discovery.Tag{discovery.ACName("ac")}, tags...)}
	}
	ac := station(1)
	tests := []struct {
		name   string
		p      *discovery.Packet
		from   net.HardwareAddr
		listed bool
		want   discovery.Stats
	}{
		{"an offer", pado(hu), ac, true, discovery.Stats{}},
		{"not a PADO", &discovery.Packet{Code: discovery.CodePADS, SessionID: 1, Tags: []discovery.Tag{hu}}, ac, false, discovery.Stats{Unexpected: 1}},
		{"another host's", pado(discovery.HostUniq{8}), ac, false, discovery.Stats{WrongHostUniq: 1}},
		{"no Host-Uniq", pado(), ac, false, discovery.Stats{WrongHostUniq: 1}},
		{"from a multicast MAC", pado(hu), net.HardwareAddr{0x03, 0, 0, 0, 0, 1}, false, discovery.Stats{WrongMAC: 1}},
		{"from the zero MAC", pado(hu), net.HardwareAddr{0, 0, 0, 0, 0, 0}, false, discovery.Stats{WrongMAC: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				seg := &discoverytest.Segment{}
				defer seg.Close()
				port := seg.Port("02:00:00:00:00:01")
				port.Inject(mustMarshal(t, tt.p), tt.from)
				c := discovery.NewClient(port, discovery.ClientConfig{HostUniq: hu})
				defer c.Close()
				offers, err := c.Scan(context.Background(), time.Second)
				if err != nil {
					t.Fatal(err)
				}
				if listed := len(offers) == 1 && offers[0].AC.String() == tt.from.String(); listed != tt.listed || len(offers) > 1 {
					t.Errorf("Scan = %+v; want it listed: %v", offers, tt.listed)
				}
				if st := c.Stats(); st != tt.want {
					t.Errorf("stats %+v, want %+v", st, tt.want)
				}
			})
		})
	}
}
