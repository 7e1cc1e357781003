package ppptest

import (
	"errors"
	"net/netip"
	"sync"
)

// Pool is a ppp.AddressPool over a range of consecutive addresses.
type Pool struct {
	mu    sync.Mutex
	first netip.Addr
	used  []bool
}

// NewPool returns a pool of n addresses from first on.
func NewPool(first netip.Addr, n int) *Pool { return &Pool{first: first, used: make([]bool, n)} }

// ErrExhausted is returned when every address is taken.
var ErrExhausted = errors.New("ppptest: address pool exhausted")

// Allocate implements ppp.AddressPool.
func (p *Pool) Allocate(string) (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	a := p.first
	for i := range p.used {
		if !p.used[i] {
			p.used[i] = true
			return a, nil
		}
		a = a.Next()
	}
	return netip.Addr{}, ErrExhausted
}

// Release implements ppp.AddressPool.
func (p *Pool) Release(a netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	b := p.first
	for i := range p.used {
		if b == a {
			p.used[i] = false
			return
		}
		b = b.Next()
	}
}

// InUse counts the allocated addresses.
func (p *Pool) InUse() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, u := range p.used {
		if u {
			n++
		}
	}
	return n
}
