package server

import (
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"github.com/pppoed/pppoed/ppp"
)

// The engine's IPCP server side takes a *Pool as its AddressPool.
var _ ppp.AddressPool = (*Pool)(nil)

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }

func rng(a, b string) Range { return Range{mustAddr(a), mustAddr(b)} }

func TestParseRanges(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []Range
		err  string // substring of the error; "" for none
	}{
		{in: "10.0.0.2-10.0.0.254", want: []Range{rng("10.0.0.2", "10.0.0.254")}},
		{in: "10.0.0.7", want: []Range{rng("10.0.0.7", "10.0.0.7")}},
		{in: " 10.0.0.2 - 10.0.0.100 ,10.0.1.0/24", want: []Range{
			rng("10.0.0.2", "10.0.0.100"),
			rng("10.0.1.1", "10.0.1.254"), // network and broadcast skipped
		}},
		{in: "10.0.0.0/30", want: []Range{rng("10.0.0.1", "10.0.0.2")}},
		{in: "10.0.0.0/31", want: []Range{rng("10.0.0.0", "10.0.0.1")}}, // RFC 3021: both hosts
		{in: "10.0.0.9/32", want: []Range{rng("10.0.0.9", "10.0.0.9")}},
		{in: "10.0.0.5/24", err: "host bits set (10.0.0.0/24?)"},
		{in: "10.0.0.0/33", err: "10.0.0.0/33"},
		{in: "2001:db8::/64", err: "not IPv4"},
		{in: "2001:db8::1-2001:db8::9", err: "not IPv4"},
		{in: "10.0.0.1-2001:db8::9", err: "not IPv4"},
		{in: "::ffff:10.0.0.1", err: "not IPv4"},
		{in: "10.0.0.1-", err: "pool range"},
		{in: "", err: "pool range"},
		{in: "10.0.0.1,,10.0.0.2", err: "pool range"},
		{in: "10.0.0.256", err: "pool range"},
		{in: "10.0.0.1-10.0.0.2-10.0.0.3", err: "pool range"},
	} {
		got, err := ParseRanges(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseRanges(%q) = %v, %v; want error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("ParseRanges(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestNewPool(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ranges []Range
		size   int
		err    string
	}{
		{name: "one", ranges: []Range{rng("10.0.0.2", "10.0.0.254")}, size: 253},
		{name: "two", ranges: []Range{rng("10.0.1.0", "10.0.1.9"), rng("10.0.0.0", "10.0.0.0")}, size: 11},
		{name: "adjacent", ranges: []Range{rng("10.0.0.0", "10.0.0.9"), rng("10.0.0.10", "10.0.0.19")}, size: 20},
		{name: "mapped", ranges: []Range{{mustAddr("::ffff:10.0.0.1"), mustAddr("10.0.0.2")}}, size: 2},
		{name: "none", err: "no ranges"},
		{name: "reversed", ranges: []Range{rng("10.0.0.9", "10.0.0.1")}, err: "range 10.0.0.9-10.0.0.1: last address before first"},
		{name: "ipv6 last", ranges: []Range{{mustAddr("10.0.0.1"), mustAddr("2001:db8::9")}}, err: "not IPv4"},
		{name: "ipv6", ranges: []Range{rng("2001:db8::1", "2001:db8::9")}, err: "not IPv4"},
		{name: "zero", ranges: []Range{{}}, err: "not IPv4"},
		{name: "overlap", ranges: []Range{rng("10.0.0.50", "10.0.0.60"), rng("10.0.0.1", "10.0.0.50")},
			err: "ranges 10.0.0.1-10.0.0.50 and 10.0.0.50-10.0.0.60 overlap"},
		{name: "inside", ranges: []Range{rng("10.0.0.1", "10.0.0.99"), rng("10.0.0.5", "10.0.0.6")},
			err: "ranges 10.0.0.1-10.0.0.99 and 10.0.0.5-10.0.0.6 overlap"},
		{name: "unspecified", ranges: []Range{rng("0.0.0.0", "0.0.0.9")}, err: "holds 0.0.0.0, the unspecified address"},
		{name: "loopback", ranges: []Range{rng("127.0.0.1", "127.0.0.1")}, err: "holds 127.0.0.1, a loopback address"},
		{name: "loopback end", ranges: []Range{rng("127.255.255.255", "128.0.0.1")}, err: "holds 127.255.255.255, a loopback"},
		{name: "across loopback", ranges: []Range{rng("126.255.255.255", "128.0.0.0")}, err: "holds 127.0.0.0, a loopback"},
		{name: "below loopback", ranges: []Range{rng("126.255.255.254", "126.255.255.255")}, size: 2},
		{name: "above loopback", ranges: []Range{rng("128.0.0.0", "128.0.0.1")}, size: 2},
		{name: "multicast", ranges: []Range{rng("224.0.0.1", "224.0.0.1")}, err: "holds 224.0.0.1, a multicast address"},
		{name: "into multicast", ranges: []Range{rng("223.255.255.255", "224.0.0.0")}, err: "holds 224.0.0.0, a multicast"},
		{name: "below multicast", ranges: []Range{rng("223.255.255.254", "223.255.255.255")}, size: 2},
		{name: "class E", ranges: []Range{rng("240.0.0.1", "240.0.0.2")}, err: "holds 240.0.0.1, a reserved (class E) address"},
		{name: "broadcast", ranges: []Range{rng("255.255.255.255", "255.255.255.255")}, err: "class E"},
		{name: "too large", ranges: []Range{rng("10.0.0.0", "10.16.0.0")}, err: "more than 1048576 addresses"},
		{name: "largest", ranges: []Range{rng("10.0.0.0", "10.15.255.255")}, size: MaxPoolSize},
		{name: "too large in sum", ranges: []Range{rng("10.0.0.0", "10.15.255.255"), rng("11.0.0.0", "11.0.0.0")}, err: "more than"},
	} {
		p, err := NewPool(tc.name, tc.ranges...)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), "pool "+tc.name) {
				t.Errorf("%s: NewPool = %v; want error with %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || p.Size() != tc.size || p.Used() != 0 || p.Name() != tc.name {
			t.Errorf("%s: NewPool = %v; want size %d", tc.name, err, tc.size)
		}
	}
}

func newPool(t *testing.T, s string) *Pool {
	t.Helper()
	rs, err := ParseRanges(s)
	if err != nil {
		t.Fatal(err)
	}
	p, err := NewPool("test", rs...)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func alloc(t *testing.T, p *Pool, peer string) netip.Addr {
	t.Helper()
	a, err := p.Allocate(peer)
	if err != nil {
		t.Fatalf("Allocate(%q): %v", peer, err)
	}
	return a
}

// Every address of every range is handed out exactly once, never-used ones
// lowest first, then the pool says it is exhausted, and a released address
// is the one the next client gets.
func TestPoolExhaustion(t *testing.T) {
	p := newPool(t, "10.0.1.0/30,10.0.0.5-10.0.0.6,10.0.2.9")
	want := []string{"10.0.0.5", "10.0.0.6", "10.0.1.1", "10.0.1.2", "10.0.2.9"}
	for i, w := range want {
		if a := alloc(t, p, ""); a != mustAddr(w) {
			t.Fatalf("allocation %d = %v, want %v", i, a, w)
		}
	}
	if p.Used() != 5 || p.Size() != 5 {
		t.Fatalf("Used, Size = %d, %d; want 5, 5", p.Used(), p.Size())
	}
	for range 2 {
		a, err := p.Allocate("alice")
		if !errors.Is(err, ErrPoolExhausted) || a.IsValid() || !strings.Contains(err.Error(), "pool test") {
			t.Fatalf("Allocate on a full pool = %v, %v; want ErrPoolExhausted", a, err)
		}
	}
	p.Release(mustAddr("10.0.1.2"))
	if p.Used() != 4 {
		t.Fatalf("Used after Release = %d, want 4", p.Used())
	}
	if a := alloc(t, p, "bob"); a != mustAddr("10.0.1.2") {
		t.Fatalf("Allocate after Release = %v, want 10.0.1.2", a)
	}
	if _, err := p.Allocate(""); !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("Allocate = %v, want ErrPoolExhausted", err)
	}
}

// A released address rests as long as possible: never-used addresses go
// first, then the least recently released.
func TestPoolLeastRecentlyReleased(t *testing.T) {
	p := newPool(t, "10.0.0.1-10.0.0.4")
	a1, a2, a3 := alloc(t, p, ""), alloc(t, p, ""), alloc(t, p, "")
	p.Release(a2)
	p.Release(a1)
	if a := alloc(t, p, ""); a != mustAddr("10.0.0.4") {
		t.Fatalf("got %v, want the never-used 10.0.0.4", a)
	}
	p.Release(a3)
	for i, w := range []netip.Addr{a2, a1, a3} {
		if a := alloc(t, p, ""); a != w {
			t.Fatalf("reuse %d = %v, want %v (least recently released)", i, a, w)
		}
	}
}

// A named peer gets back the address it released last while no one else
// took it; an anonymous peer never does.
func TestPoolSticky(t *testing.T) {
	p := newPool(t, "10.0.0.1-10.0.0.9")
	alice := alloc(t, p, "alice") // .1
	bob := alloc(t, p, "bob")     // .2
	p.Release(alice)
	p.Release(bob)
	if a := alloc(t, p, "alice"); a != alice {
		t.Fatalf("alice got %v, want her %v back", a, alice)
	}
	// Bob's address was taken by carol meanwhile: he gets another.
	p.Release(alice)
	for range 7 { // .3 to .9, the never-used ones
		alloc(t, p, "")
	}
	if a := alloc(t, p, "carol"); a != bob {
		t.Fatalf("carol got %v, want %v (least recently released)", a, bob)
	}
	if a := alloc(t, p, "bob"); a != alice {
		t.Fatalf("bob got %v, want %v", a, alice)
	}
	// Alice's claim on .1 went with bob's allocation of it.
	p.Release(bob)   // carol's
	p.Release(alice) // bob's: now bob's last
	if a := alloc(t, p, "alice"); a != bob {
		t.Fatalf("alice got %v, want %v (she has no claim left)", a, bob)
	}
	if a := alloc(t, p, "bob"); a != alice {
		t.Fatalf("bob got %v, want his %v", a, alice)
	}
	// "" names no one: it has no address of its own.
	p.Release(alice)
	p.Release(bob)
	anon := alloc(t, p, "") // the least recently released of the two
	p.Release(anon)
	if a := alloc(t, p, ""); a == anon {
		t.Fatalf("anonymous peer got %v back; want the least recently released", a)
	}
	// A peer's claim follows its latest release only.
	q := newPool(t, "10.0.0.1-10.0.0.3")
	x, y := alloc(t, q, "dave"), alloc(t, q, "dave")
	q.Release(x)
	q.Release(y)
	if a := alloc(t, q, "dave"); a != y {
		t.Fatalf("dave got %v, want his last %v", a, y)
	}
	if a := alloc(t, q, "erin"); a != mustAddr("10.0.0.3") {
		t.Fatalf("erin got %v, want 10.0.0.3", a)
	}
	if a := alloc(t, q, "erin"); a != x {
		t.Fatalf("erin got %v, want %v", a, x)
	}
	// A claim replaced by a later release is forgotten: someone else
	// taking the older address leaves the newer claim alone.
	r := newPool(t, "10.0.0.1-10.0.0.4")
	x, y = alloc(t, r, "dave"), alloc(t, r, "dave")
	f, h := alloc(t, r, "frank"), alloc(t, r, "henry")
	for _, a := range []netip.Addr{f, y, h, x} {
		r.Release(a)
	}
	if a := alloc(t, r, "erin"); a != f {
		t.Fatalf("erin got %v, want %v", a, f)
	}
	if a := alloc(t, r, "gina"); a != y {
		t.Fatalf("gina got %v, want %v", a, y)
	}
	if a := alloc(t, r, "dave"); a != x {
		t.Fatalf("dave got %v, want his last %v", a, x)
	}
}

// Releasing twice, releasing what was never allocated or is not in the
// pool, and releasing an IPv6 or zero address change nothing.
func TestPoolReleaseIgnored(t *testing.T) {
	p := newPool(t, "10.0.0.1-10.0.0.3")
	a := alloc(t, p, "alice")
	b := alloc(t, p, "")
	p.Release(a)
	p.Release(a)
	for _, x := range []netip.Addr{{}, mustAddr("10.0.0.3"), mustAddr("10.0.0.4"), mustAddr("10.0.0.0"),
		mustAddr("2001:db8::1"), mustAddr("::ffff:10.0.0.9")} {
		p.Release(x)
	}
	if p.Used() != 1 {
		t.Fatalf("Used = %d, want 1", p.Used())
	}
	// a was queued once: the pool hands out .3, then a, then is full.
	if got := alloc(t, p, ""); got != mustAddr("10.0.0.3") {
		t.Fatalf("got %v, want 10.0.0.3", got)
	}
	if got := alloc(t, p, ""); got != a {
		t.Fatalf("got %v, want %v", got, a)
	}
	if got, err := p.Allocate(""); !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("got %v, %v; want ErrPoolExhausted (an address handed out twice?)", got, err)
	}
	// A 4-in-6 form names the same address.
	p.Release(netip.AddrFrom16(b.As16()))
	if p.Used() != 2 || !p.Contains(netip.AddrFrom16(b.As16())) {
		t.Fatalf("Used = %d after releasing %v as 4-in-6, want 2", p.Used(), b)
	}
}

func TestPoolReserve(t *testing.T) {
	p := newPool(t, "10.0.0.1-10.0.0.4,10.0.1.0/30")
	a := alloc(t, p, "") // .1
	for _, tc := range []struct {
		addr string
		err  string
	}{
		{"10.0.0.3", ""},
		{"10.0.0.3", "10.0.0.3 is in use"},
		{"10.0.0.1", "10.0.0.1 is in use"},
		{"10.0.0.5", "not in the pool"},
		{"10.0.1.0", "not in the pool"}, // the /30's network address
		{"10.0.1.3", "not in the pool"}, // and broadcast
		{"10.0.1.2", ""},
		{"9.255.255.255", "not in the pool"},
		{"2001:db8::1", "not in the pool"},
	} {
		err := p.Reserve(mustAddr(tc.addr))
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("Reserve(%s) = %v, want %q", tc.addr, err, tc.err)
		}
	}
	if err := p.Reserve(netip.Addr{}); err == nil {
		t.Error("Reserve(zero Addr) succeeded")
	}
	if p.Used() != 3 {
		t.Fatalf("Used = %d, want 3", p.Used())
	}
	// Allocate skips the reserved addresses; a reserved one returns to
	// the pool on Release.
	var got []string
	for {
		x, err := p.Allocate("")
		if err != nil {
			break
		}
		got = append(got, x.String())
	}
	if want := "[10.0.0.2 10.0.0.4 10.0.1.1]"; fmt.Sprint(got) != want {
		t.Fatalf("allocated %v, want %s", got, want)
	}
	p.Release(mustAddr("10.0.0.3"))
	if x := alloc(t, p, ""); x != mustAddr("10.0.0.3") {
		t.Fatalf("got %v, want the released reservation 10.0.0.3", x)
	}
	// Reserving a queued address takes it out of the queue, so reserving
	// and releasing again does not queue it twice.
	p.Release(a)
	p.Release(mustAddr("10.0.0.2"))
	for range 3 {
		if err := p.Reserve(a); err != nil {
			t.Fatal(err)
		}
		p.Release(a)
	}
	if err := p.Reserve(a); err != nil {
		t.Fatal(err)
	}
	if x := alloc(t, p, ""); x != mustAddr("10.0.0.2") {
		t.Fatalf("got %v, want 10.0.0.2 (the reserved %v skipped)", x, a)
	}
	if x, err := p.Allocate(""); !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("got %v, %v; want ErrPoolExhausted", x, err)
	}
	if len(p.free) != 0 {
		t.Fatalf("free queue holds %v, want nothing", p.free)
	}
	// A reservation ahead of the never-used scan is skipped by it, and its
	// release puts it back ahead of the scan, not in the queue.
	q := newPool(t, "10.0.0.1-10.0.0.3")
	if err := q.Reserve(mustAddr("10.0.0.2")); err != nil {
		t.Fatal(err)
	}
	q.Release(mustAddr("10.0.0.2"))
	if len(q.free) != 0 {
		t.Fatalf("free queue holds %v, want nothing: 10.0.0.2 was never handed out", q.free)
	}
	for _, w := range []string{"10.0.0.1", "10.0.0.2", "10.0.0.3"} {
		if x := alloc(t, q, ""); x != mustAddr(w) {
			t.Fatalf("got %v, want %v", x, w)
		}
	}
	if x, err := q.Allocate(""); !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("got %v, %v; want ErrPoolExhausted", x, err)
	}
}

// Many sessions allocate and release from one pool at once: no address is
// ever held by two, and the books balance.
func TestPoolConcurrent(t *testing.T) {
	p := newPool(t, "10.0.0.0/26,10.0.1.0-10.0.1.9") // 62 + 10
	var (
		mu     sync.Mutex
		held   = map[netip.Addr]int{}
		dup    []string
		wg     sync.WaitGroup
		exhaus int
	)
	for g := range 16 {
		wg.Go(func() {
			peer := fmt.Sprint("user", g%5)
			var mine []netip.Addr
			for i := range 300 {
				if i%3 != 2 {
					a, err := p.Allocate(peer)
					if errors.Is(err, ErrPoolExhausted) {
						mu.Lock()
						exhaus++
						mu.Unlock()
						continue
					}
					if err != nil || !p.Contains(a) {
						mu.Lock()
						dup = append(dup, fmt.Sprint(a, err))
						mu.Unlock()
						continue
					}
					mu.Lock()
					if held[a]++; held[a] > 1 {
						dup = append(dup, a.String())
					}
					mu.Unlock()
					mine = append(mine, a)
				} else if len(mine) > 0 {
					a := mine[0]
					mine = mine[1:]
					mu.Lock()
					held[a]--
					mu.Unlock()
					p.Release(a)
				}
			}
			for _, a := range mine {
				mu.Lock()
				held[a]--
				mu.Unlock()
				p.Release(a)
			}
		})
	}
	wg.Wait()
	if len(dup) > 0 {
		t.Fatalf("addresses held twice or bad: %v", dup)
	}
	if exhaus == 0 {
		t.Error("the pool was never exhausted: the test did not press it")
	}
	if p.Used() != 0 {
		t.Fatalf("Used = %d after every release, want 0", p.Used())
	}
	for range p.Size() {
		alloc(t, p, "")
	}
	if _, err := p.Allocate(""); !errors.Is(err, ErrPoolExhausted) {
		t.Fatalf("Allocate = %v, want ErrPoolExhausted", err)
	}
}

// A /16 costs two bits per address up front, not an entry per address,
// and allocating from it allocates no per-address memory.
func TestPoolMemoryBounded(t *testing.T) {
	p := newPool(t, "10.1.0.0/16")
	if p.Size() != 65534 {
		t.Fatalf("Size = %d", p.Size())
	}
	if n := 8 * (cap(p.used) + cap(p.queued)); n > 16<<10 {
		t.Fatalf("bit sets take %d bytes, want at most 16 KiB", n)
	}
	if cap(p.free) != 0 || len(p.owner) != 0 {
		t.Fatalf("free has cap %d, owner %d entries before any allocation", cap(p.free), len(p.owner))
	}
	allocs := testing.AllocsPerRun(100, func() {
		rs, _ := ParseRanges("10.1.0.0/16")
		if _, err := NewPool("big", rs...); err != nil {
			t.Fatal(err)
		}
	})
	if allocs > 12 {
		t.Fatalf("NewPool of a /16: %v allocations", allocs)
	}
	// Anonymous allocations of never-used addresses allocate nothing
	// beyond the error-free path.
	if n := testing.AllocsPerRun(1000, func() { alloc(t, p, "") }); n != 0 {
		t.Fatalf("Allocate: %v allocations per call", n)
	}
}

func FuzzParseRanges(f *testing.F) {
	for _, s := range []string{"10.0.0.2-10.0.0.254", "10.0.0.0/24,10.0.1.5", "0.0.0.0/0", "10.0.0.0/31",
		"255.255.255.255/32", "::1", "1.2.3.4-1.2.3.0", "127.0.0.1-128.0.0.1", "224.0.0.0/3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rs, err := ParseRanges(s)
		if err != nil {
			return
		}
		for _, r := range rs {
			if !r.First.Is4() || !r.Last.Is4() {
				t.Fatalf("ParseRanges(%q) = %v: not IPv4", s, rs)
			}
		}
		p, err := NewPool("fuzz", rs...)
		if err != nil {
			return
		}
		// Whatever was accepted, the first few addresses handed out are
		// in the pool and ones a host may have.
		for range min(p.Size(), 4) {
			a, err := p.Allocate("")
			if err != nil || !p.Contains(a) {
				t.Fatalf("pool %v: Allocate = %v, %v", rs, a, err)
			}
			if _, why := badIn(Range{a, a}); why != "" {
				t.Fatalf("pool %v handed out %v, %s", rs, a, why)
			}
		}
	})
}
