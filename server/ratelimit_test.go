package server

import (
	"encoding/binary"
	"math"
	"net"
	"strings"
	"testing"
	"time"
)

func mac(i int) net.HardwareAddr {
	m := net.HardwareAddr{0x02, 0, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(m[2:], uint32(i))
	return m
}

func newLimiter(t testing.TB, l PADILimits) *PADILimiter {
	t.Helper()
	p, err := NewPADILimiter(l)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// step is one PADI: from MAC number mac, at ms after t0.
type step struct {
	mac  int
	ms   int
	want bool
}

func TestPADILimiter(t *testing.T) {
	tests := []struct {
		name   string
		limits PADILimits
		steps  []step
	}{
		{
			name:   "per-MAC burst, then refused",
			limits: PADILimits{MACRate: 1, MACBurst: 3},
			steps:  []step{{0, 0, true}, {0, 0, true}, {0, 0, true}, {0, 0, false}, {0, 999, false}},
		},
		{
			name:   "per-MAC refill: one token a second, no more than the burst",
			limits: PADILimits{MACRate: 1, MACBurst: 2},
			steps: []step{
				{0, 0, true}, {0, 0, true}, {0, 0, false},
				{0, 1000, true}, {0, 1000, false},
				{0, 10_000, true}, {0, 10_000, true}, {0, 10_000, false},
			},
		},
		{
			name:   "per-MAC isolation: one MAC's flood leaves another its burst",
			limits: PADILimits{MACRate: 1, MACBurst: 1},
			steps:  []step{{0, 0, true}, {0, 0, false}, {0, 0, false}, {1, 0, true}, {1, 0, false}, {2, 0, true}},
		},
		{
			name:   "global burst across MACs, then refill",
			limits: PADILimits{GlobalRate: 2, GlobalBurst: 3},
			steps: []step{
				{0, 0, true}, {1, 0, true}, {2, 0, true}, {3, 0, false},
				{4, 499, false}, {4, 500, true}, {5, 500, false},
				{6, 2000, true}, {7, 2000, true}, {8, 2000, true}, {9, 2000, false},
			},
		},
		{
			name:   "a MAC over its limit does not drain the global bucket",
			limits: PADILimits{GlobalRate: 1, GlobalBurst: 2, MACRate: 1, MACBurst: 1},
			steps:  []step{{0, 0, true}, {0, 0, false}, {0, 0, false}, {0, 0, false}, {1, 0, true}, {2, 0, false}},
		},
		{
			name:   "a PADI refused globally takes no token from its MAC",
			limits: PADILimits{GlobalRate: 1, GlobalBurst: 1, MACRate: 0.001, MACBurst: 1},
			steps:  []step{{0, 0, true}, {1, 0, false}, {1, 1000, true}},
		},
		{
			name:   "clock stepping back neither takes tokens nor adds them when it comes back",
			limits: PADILimits{GlobalRate: 1, GlobalBurst: 2},
			steps:  []step{{0, 5000, true}, {1, 0, true}, {2, 0, false}, {3, 5000, false}, {4, 6000, true}},
		},
		{
			name:   "defaults: 5 per MAC at once",
			limits: PADILimits{},
			steps:  []step{{0, 0, true}, {0, 0, true}, {0, 0, true}, {0, 0, true}, {0, 0, true}, {0, 0, false}, {0, 1000, true}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := newLimiter(t, tt.limits)
			var want PADIStats
			for i, s := range tt.steps {
				if got := p.Allow(mac(s.mac), t0.Add(time.Duration(s.ms)*time.Millisecond)); got != s.want {
					t.Fatalf("step %d (MAC %d at %d ms): Allow = %v, want %v", i, s.mac, s.ms, got, s.want)
				}
				if s.want {
					want.Allowed++
				} else {
					want.Limited++
				}
			}
			if got := p.Stats(); got != want {
				t.Errorf("Stats = %+v, want %+v", got, want)
			}
		})
	}
}

// TestPADILimiterDefaultGlobal: the default global bucket lets 400 PADIs
// from distinct MACs through at once, then 200 a second.
func TestPADILimiterDefaultGlobal(t *testing.T) {
	p := newLimiter(t, PADILimits{})
	n := 0
	for i := range 1000 {
		if p.Allow(mac(i), t0) {
			n++
		}
	}
	if n != DefaultGlobalBurst {
		t.Fatalf("%d allowed at once, want %d", n, DefaultGlobalBurst)
	}
	n = 0
	for i := range 1000 {
		if p.Allow(mac(1000+i), t0.Add(time.Second)) {
			n++
		}
	}
	if n != DefaultGlobalRate {
		t.Fatalf("%d allowed a second later, want %d", n, DefaultGlobalRate)
	}
}

// TestPADILimiterFlood: 100k random MACs leave at most MaxMACs tracked,
// forgetting the least recently seen: a MAC seen throughout keeps its
// (empty) bucket while the flood passes.
func TestPADILimiterFlood(t *testing.T) {
	const max = 1000
	p := newLimiter(t, PADILimits{GlobalRate: 1e9, GlobalBurst: 1e9, MACRate: 0.001, MACBurst: 1, MaxMACs: max})
	flooder := net.HardwareAddr{0x02, 0xff, 0xff, 0xff, 0xff, 0xff}
	if !p.Allow(flooder, t0) {
		t.Fatal("first PADI refused")
	}
	for i := range 100_000 {
		now := t0.Add(time.Duration(i) * time.Microsecond)
		if !p.Allow(mac(i), now) {
			t.Fatalf("PADI %d of the flood refused", i)
		}
		if i%100 == 0 && p.Allow(flooder, now) {
			t.Fatalf("flooder allowed at PADI %d: its entry was evicted while in use", i)
		}
		if len(p.macs) > max || p.lru.Len() > max {
			t.Fatalf("after %d MACs: %d in the map, %d in the list; bound %d", i+1, len(p.macs), p.lru.Len(), max)
		}
	}
	if len(p.macs) != max || p.lru.Len() != max {
		t.Fatalf("%d in the map, %d in the list, want %d", len(p.macs), p.lru.Len(), max)
	}
	// The oldest of the flood were forgotten: their burst is back.
	if !p.Allow(mac(0), t0.Add(time.Second)) {
		t.Error("an evicted MAC is still limited")
	}
	if p.Allow(mac(99_999), t0.Add(time.Second)) {
		t.Error("a MAC seen last lost its bucket")
	}
}

func TestPADILimitsInvalid(t *testing.T) {
	for _, l := range []PADILimits{
		{GlobalRate: -1}, {GlobalBurst: -1}, {MACRate: -1}, {MACBurst: -1}, {MaxMACs: -1},
		{GlobalRate: math.NaN()}, {MACRate: math.Inf(1)},
	} {
		if _, err := NewPADILimiter(l); err == nil || !strings.HasPrefix(err.Error(), "server: ") {
			t.Errorf("NewPADILimiter(%+v) = %v, want a server: error", l, err)
		}
	}
}
