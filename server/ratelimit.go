package server

import (
	"container/list"
	"fmt"
	"math"
	"net"
	"sync"
	"time"
)

// PADILimits configures a PADILimiter. Zero fields take the defaults below.
type PADILimits struct {
	// GlobalRate and GlobalBurst bound the PADIs answered per second from
	// all MACs together: the cost of a flood the per-MAC buckets cannot
	// see, from random source MACs.
	GlobalRate  float64
	GlobalBurst int
	// MACRate and MACBurst bound the PADIs answered per second from one
	// MAC. Clients resend PADI with a growing timeout (RFC 2516 §5.1 leaves
	// it to them; pppd starts at 5 s and doubles), so a real client never
	// meets these.
	MACRate  float64
	MACBurst int
	// MaxMACs bounds the MACs tracked; past it the one idle longest is
	// forgotten (and starts again from a full bucket if it comes back,
	// still under the global bucket).
	MaxMACs int
}

// Defaults of PADILimits: 200 PADIs a second in all (bursts of 400), one a
// second per MAC (bursts of 5), 4096 MACs tracked (about 0.5 MiB).
const (
	DefaultGlobalRate  = 200
	DefaultGlobalBurst = 400
	DefaultMACRate     = 1
	DefaultMACBurst    = 5
	DefaultMaxMACs     = 4096
)

// bucket is a token bucket refilled lazily from the time of each call.
type bucket struct {
	tokens float64
	last   time.Time
}

func (b *bucket) refill(now time.Time, rate float64, burst int) {
	// A clock that steps back adds nothing, then, until it is past the
	// last refill again, nothing more: the time it went back is not
	// counted twice.
	if d := now.Sub(b.last); d > 0 {
		b.tokens = math.Min(float64(burst), b.tokens+d.Seconds()*rate)
		b.last = now
	}
}

type macEntry struct {
	key string
	bucket
}

// PADILimiter decides which PADIs the AC answers (RFC 2516 §5.1): one
// passes when both the global bucket and its source MAC's bucket hold a
// token. Its memory is bounded whatever the MACs: a flood of random ones
// evicts the least recently seen. It is safe for concurrent use.
type PADILimiter struct {
	limits PADILimits

	mu      sync.Mutex
	global  bucket
	macs    map[string]*list.Element // of *macEntry
	lru     list.List                // front: seen last
	allowed uint64
	limited uint64
}

// NewPADILimiter returns a limiter whose buckets start full. Negative,
// infinite or NaN limits are an error.
func NewPADILimiter(l PADILimits) (*PADILimiter, error) {
	for _, r := range []struct {
		name string
		v    float64
	}{
		{"GlobalRate", l.GlobalRate}, {"GlobalBurst", float64(l.GlobalBurst)},
		{"MACRate", l.MACRate}, {"MACBurst", float64(l.MACBurst)}, {"MaxMACs", float64(l.MaxMACs)},
	} {
		if r.v < 0 || math.IsNaN(r.v) || math.IsInf(r.v, 0) {
			return nil, fmt.Errorf("server: PADI limit %s = %v: must be a finite number >= 0", r.name, r.v)
		}
	}
	if l.GlobalRate == 0 {
		l.GlobalRate = DefaultGlobalRate
	}
	if l.GlobalBurst == 0 {
		l.GlobalBurst = DefaultGlobalBurst
	}
	if l.MACRate == 0 {
		l.MACRate = DefaultMACRate
	}
	if l.MACBurst == 0 {
		l.MACBurst = DefaultMACBurst
	}
	if l.MaxMACs == 0 {
		l.MaxMACs = DefaultMaxMACs
	}
	p := &PADILimiter{limits: l, macs: make(map[string]*list.Element)}
	p.global.tokens = float64(l.GlobalBurst)
	return p, nil
}

// Allow reports whether a PADI from mac at now is answered, and counts it.
// A refused PADI takes no token from either bucket, so a MAC over its own
// limit does not drain the global one.
func (p *PADILimiter) Allow(mac net.HardwareAddr, now time.Time) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.global.last.IsZero() {
		p.global.last = now
	}
	p.global.refill(now, p.limits.GlobalRate, p.limits.GlobalBurst)
	m := p.entry(mac, now)
	m.refill(now, p.limits.MACRate, p.limits.MACBurst)
	if p.global.tokens < 1 || m.tokens < 1 {
		p.limited++
		return false
	}
	p.global.tokens--
	m.tokens--
	p.allowed++
	return true
}

// entry returns mac's bucket, most recently seen from now on, making a
// full one (and forgetting the MAC seen least recently, past MaxMACs) for
// a MAC not tracked.
func (p *PADILimiter) entry(mac net.HardwareAddr, now time.Time) *macEntry {
	if e, ok := p.macs[string(mac)]; ok {
		p.lru.MoveToFront(e)
		return e.Value.(*macEntry)
	}
	if p.lru.Len() >= p.limits.MaxMACs {
		old := p.lru.Back()
		delete(p.macs, old.Value.(*macEntry).key)
		p.lru.Remove(old)
	}
	m := &macEntry{key: string(mac), bucket: bucket{tokens: float64(p.limits.MACBurst), last: now}}
	p.macs[m.key] = p.lru.PushFront(m)
	return m
}

// PADIStats counts a PADILimiter's decisions.
type PADIStats struct {
	Allowed uint64 // PADIs let through
	Limited uint64 // PADIs refused by either bucket
}

// Stats returns the counts so far.
func (p *PADILimiter) Stats() PADIStats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PADIStats{Allowed: p.allowed, Limited: p.limited}
}
