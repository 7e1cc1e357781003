package server

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"sync"
)

// ErrPoolExhausted is returned by Pool.Allocate when every address is in
// use: the server refuses the session (IPCP gets no address) and logs it.
var ErrPoolExhausted = errors.New("server: address pool exhausted")

// MaxPoolSize bounds the addresses of one pool (a /12): its bit sets then
// take at most 256 KiB, and a typo such as 10.0.0.0/8 for /24 fails
// loudly instead of costing memory.
const MaxPoolSize = 1 << 20

// Range is the inclusive IPv4 range First..Last of a pool.
type Range struct {
	First, Last netip.Addr
}

func (r Range) String() string {
	if r.First == r.Last {
		return r.First.String()
	}
	return r.First.String() + "-" + r.Last.String()
}

// size is how many addresses r holds; r must be valid.
func (r Range) size() uint32 { return u32(r.Last) - u32(r.First) + 1 }

func u32(a netip.Addr) uint32 {
	b := a.As4()
	return uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
}

func addr4(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// ParseRanges parses a pool as RouterOS's `/ip pool ranges` writes it:
// comma-separated ranges, each as ParseRange takes it.
func ParseRanges(s string) ([]Range, error) {
	var rs []Range
	for f := range strings.SplitSeq(s, ",") {
		r, err := ParseRange(f)
		if err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, nil
}

// ParseRange parses "A-B", "A" or the prefix "N/L". A prefix shorter than
// /31 loses its network and broadcast addresses, which no host on that
// subnet may have; a /31 (RFC 3021) or /32 keeps all. A prefix with host
// bits set (10.0.0.5/24) is refused as the typo it usually is. Only the
// syntax is checked here: NewPool checks what the addresses are.
func ParseRange(s string) (Range, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return Range{}, fmt.Errorf("server: pool range %q: %w", s, err)
		}
		if !p.Addr().Is4() {
			return Range{}, fmt.Errorf("server: pool range %q: not IPv4", s)
		}
		if p.Masked() != p {
			return Range{}, fmt.Errorf("server: pool range %q: host bits set (%s?)", s, p.Masked())
		}
		first := u32(p.Addr())
		last := first | uint32(1<<(32-p.Bits())-1)
		if p.Bits() < 31 {
			first, last = first+1, last-1
		}
		return Range{addr4(first), addr4(last)}, nil
	}
	a, b, isRange := strings.Cut(s, "-")
	first, err := parse4(s, a)
	if err != nil {
		return Range{}, err
	}
	last := first
	if isRange {
		if last, err = parse4(s, b); err != nil {
			return Range{}, err
		}
	}
	return Range{first, last}, nil
}

func parse4(s, a string) (netip.Addr, error) {
	ip, err := netip.ParseAddr(strings.TrimSpace(a))
	if err != nil {
		return netip.Addr{}, fmt.Errorf("server: pool range %q: %w", s, err)
	}
	if !ip.Is4() {
		return netip.Addr{}, fmt.Errorf("server: pool range %q: not IPv4", s)
	}
	return ip, nil
}

// badIn returns an address of r that no host may have and why, or "".
// It is ppp's badIPv4 rule (pppd's bad_ip_adrs plus 0.0.0.0 and
// 255.255.255.255), over a range: 0.0.0.0, 127.0.0.0/8 and 224.0.0.0/3
// (multicast, class E and the limited broadcast). The bad blocks are
// aligned, so a range holds one iff it holds its first, its last, or the
// first address of a bad block lying between them.
func badIn(r Range) (netip.Addr, string) {
	first, last := u32(r.First), u32(r.Last)
	if first == 0 {
		return r.First, "the unspecified address"
	}
	if lo := uint32(127 << 24); first>>24 == 127 || (first < lo && last >= lo) {
		return addr4(max(first, lo)), "a loopback address"
	}
	if last >= 224<<24 {
		a := addr4(max(first, 224<<24))
		if a.IsMulticast() {
			return a, "a multicast address"
		}
		return a, "a reserved (class E) address"
	}
	return netip.Addr{}, ""
}

// Pool is an IPv4 address pool: ppp.IPv4Config.Pool for the sessions of
// a profile. It is safe for concurrent use.
//
// Allocate hands an address to a peer in this order: the address the same
// peer (by its authenticated name) released last, if still free, so a user
// who reconnects keeps its address; then addresses never handed out, lowest
// first; then the least recently released. Reusing the least recently
// released rather than the lowest gives every address the longest rest
// before a new client gets it: a peer whose session died unseen (a killed
// client before keepalive notices, a stale ARP or firewall entry upstream)
// may still use it meanwhile, and a new client on it would get its traffic.
//
// Memory is two bits per address, allocated with the pool (16 KiB for a
// /16), plus what grows only with use: a queue of released addresses (4
// bytes each, at most one entry per address) and the owners of the
// addresses in use and the last address of each named peer.
type Pool struct {
	name   string
	ranges []Range  // sorted, disjoint
	base   []uint32 // base[i]: index of ranges[i].First
	size   uint32

	mu     sync.Mutex
	used   []uint64 // bit i: address i is allocated or reserved
	queued []uint64 // bit i: i is in free
	next   uint32   // addresses at or above next were never handed out
	free   []uint32 // released indexes below next, least recent first
	n      uint32   // bits set in used
	owner  map[uint32]string
	last   map[string]uint32 // peer -> the address it released last
	lastBy map[uint32]string // the inverse of last
}

// NewPool returns the pool of the given ranges, its name used in errors.
// The ranges must be IPv4, First <= Last, disjoint, hold no address that
// no host may have (0.0.0.0, loopback, multicast, class E) and at most
// MaxPoolSize addresses in all.
func NewPool(name string, ranges ...Range) (*Pool, error) {
	if len(ranges) == 0 {
		return nil, fmt.Errorf("server: pool %s: no ranges", name)
	}
	rs := make([]Range, len(ranges))
	for i, r := range ranges {
		r = Range{r.First.Unmap(), r.Last.Unmap()}
		if !r.First.Is4() || !r.Last.Is4() {
			return nil, fmt.Errorf("server: pool %s: range %s: not IPv4", name, r)
		}
		if r.Last.Less(r.First) {
			return nil, fmt.Errorf("server: pool %s: range %s: last address before first", name, r)
		}
		if a, why := badIn(r); why != "" {
			return nil, fmt.Errorf("server: pool %s: range %s holds %s, %s", name, r, a, why)
		}
		rs[i] = r
	}
	slices.SortFunc(rs, func(a, b Range) int { return a.First.Compare(b.First) })
	p := &Pool{name: name, ranges: rs, base: make([]uint32, len(rs))}
	var total uint64
	for i, r := range rs {
		if i > 0 && !rs[i-1].Last.Less(r.First) {
			return nil, fmt.Errorf("server: pool %s: ranges %s and %s overlap", name, rs[i-1], r)
		}
		p.base[i] = uint32(total)
		total += uint64(r.size())
		if total > MaxPoolSize {
			return nil, fmt.Errorf("server: pool %s: more than %d addresses", name, MaxPoolSize)
		}
	}
	p.size = uint32(total)
	words := (p.size + 63) / 64
	p.used = make([]uint64, words)
	p.queued = make([]uint64, words)
	p.owner = make(map[uint32]string)
	p.last = make(map[string]uint32)
	p.lastBy = make(map[uint32]string)
	return p, nil
}

// Name is the pool's name.
func (p *Pool) Name() string { return p.name }

// Size is how many addresses the pool holds.
func (p *Pool) Size() int { return int(p.size) }

// Used is how many are allocated or reserved.
func (p *Pool) Used() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return int(p.n)
}

// Contains says whether a is one of the pool's addresses.
func (p *Pool) Contains(a netip.Addr) bool {
	_, ok := p.index(a)
	return ok
}

func (p *Pool) index(a netip.Addr) (uint32, bool) {
	a = a.Unmap()
	if !a.Is4() {
		return 0, false
	}
	// The range that would hold a is the last one starting at or before it.
	i, found := slices.BinarySearchFunc(p.ranges, a, func(r Range, a netip.Addr) int {
		return cmp.Compare(u32(r.First), u32(a))
	})
	if !found {
		if i == 0 {
			return 0, false
		}
		i--
	}
	r := p.ranges[i]
	if r.Last.Less(a) {
		return 0, false
	}
	return p.base[i] + u32(a) - u32(r.First), true
}

func (p *Pool) addr(i uint32) netip.Addr {
	// The range holding index i is the last one whose base is <= i.
	j, found := slices.BinarySearch(p.base, i)
	if !found {
		j--
	}
	return addr4(u32(p.ranges[j].First) + i - p.base[j])
}

func isSet(bits []uint64, i uint32) bool { return bits[i/64]&(1<<(i%64)) != 0 }
func set(bits []uint64, i uint32)        { bits[i/64] |= 1 << (i % 64) }
func unset(bits []uint64, i uint32)      { bits[i/64] &^= 1 << (i % 64) }

// take marks i used by peer; the caller holds mu and i is free.
func (p *Pool) take(i uint32, peer string) netip.Addr {
	set(p.used, i)
	p.n++
	if isSet(p.queued, i) {
		// Taken out of turn (its peer's own, or reserved): a linear
		// scan, at most 4 bytes per address and only on those paths, keeps
		// free exact and so bounded by the pool.
		unset(p.queued, i)
		if j := slices.Index(p.free, i); j >= 0 {
			p.free = slices.Delete(p.free, j, j+1)
		}
	}
	if peer != "" {
		p.owner[i] = peer
	}
	// Whoever released i last no longer gets it back.
	if q, ok := p.lastBy[i]; ok {
		delete(p.last, q)
		delete(p.lastBy, i)
	}
	return p.addr(i)
}

// Allocate returns a free address for peer (its authenticated name, or ""
// for none) and marks it used until Release, or ErrPoolExhausted. The order
// is documented on Pool.
func (p *Pool) Allocate(peer string) (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n >= p.size {
		return netip.Addr{}, fmt.Errorf("%w: pool %s, %d addresses", ErrPoolExhausted, p.name, p.size)
	}
	// last names free addresses only (take drops a claim) and never "".
	if i, ok := p.last[peer]; ok {
		return p.take(i, peer), nil
	}
	for p.next < p.size {
		i := p.next
		p.next++
		if !isSet(p.used, i) { // else reserved
			return p.take(i, peer), nil
		}
	}
	if len(p.free) > 0 {
		i := p.free[0]
		p.free = p.free[1:]
		unset(p.queued, i)
		return p.take(i, peer), nil
	}
	// n < size, so some free address is below next and was queued when
	// released: unreachable unless the books are wrong.
	return netip.Addr{}, fmt.Errorf("server: pool %s: %d of %d used but none free", p.name, p.n, p.size)
}

// Reserve marks a, an address of the pool, used, as for a user's fixed
// remote address (RouterOS's static remote-address); Release frees it. It
// fails when a is not in the pool or already in use.
func (p *Pool) Reserve(a netip.Addr) error {
	i, ok := p.index(a)
	if !ok {
		return fmt.Errorf("server: pool %s: %s is not in the pool", p.name, a)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if isSet(p.used, i) {
		return fmt.Errorf("server: pool %s: %s is in use", p.name, a)
	}
	p.take(i, "")
	return nil
}

// Release returns a to the pool. An address not in the pool or not in use
// is ignored: a session's teardown may release twice.
func (p *Pool) Release(a netip.Addr) {
	i, ok := p.index(a)
	if !ok {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !isSet(p.used, i) {
		return
	}
	unset(p.used, i)
	p.n--
	if peer, ok := p.owner[i]; ok {
		delete(p.owner, i)
		if old, ok := p.last[peer]; ok {
			delete(p.lastBy, old)
		}
		p.last[peer] = i
		p.lastBy[i] = peer
	}
	// Addresses at or above next are still ahead of the never-used scan.
	if i < p.next {
		set(p.queued, i)
		p.free = append(p.free, i)
	}
}
