package server

import (
	"fmt"
	"net"
	"net/netip"
	"sync"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/pppox"
	"github.com/pppoed/pppoed/status"
	"github.com/vishvananda/netlink"
)

// kernel is what the server needs of the host beyond Discovery's socket:
// a session's PPP link in the kernel (AF_PPPOX, /dev/ppp) and its pppN's
// configuration over netlink. Tests replace it with an in-memory one.
type kernel interface {
	// open connects a session to the kernel: its link's pppN exists,
	// down, every network protocol dropped.
	open(cfg pppox.Config) (kernelLink, error)
	setMTU(ifname string, mtu int) error
	// addAddr adds local with peer as the other end (a /32 or /128 each:
	// the kernel routes peer through ifname).
	addAddr(ifname string, local, peer netip.Addr) error
	up(ifname string) error
	rename(ifname, name string) error
	removeAddrs(ifname string, family int)
	// counters are pppN's traffic counters.
	counters(ifname string) (*status.Counters, error)
	close() error
}

// kernelLink is a session's link: ppp.Link and what pppox.Link adds.
// Close takes the session out of the kernel (pppN goes) for good.
type kernelLink interface {
	ppp.Link
	ppp.ReceiveIdler
	HangUp(err error)
	SetMRU(mru int) error
	SetNPMode(proto ppp.Protocol, mode pppox.NPMode) error
	ifname() string
}

// sysKernel is the kernel: pppox links read by one Poller, and one
// netlink handle that one goroutine uses. The sessions' goroutines hand
// it their requests and wait: netlink's message building is deep, and a
// goroutine's stack keeps the depth it once reached until the GC halves
// it, so the sessions' stacks stay small (it is most of what a session
// costs).
type sysKernel struct {
	poller *pppox.Poller
	nl     *netlink.Handle
	reqs   chan func()
	done   chan struct{}
	once   sync.Once
}

func newSysKernel(p *pppox.Poller, nl *netlink.Handle) *sysKernel {
	k := &sysKernel{poller: p, nl: nl, reqs: make(chan func()), done: make(chan struct{})}
	go k.work()
	return k
}

func (k *sysKernel) work() {
	defer close(k.done)
	for f := range k.reqs {
		f()
	}
}

// sysLink is a pppox.Link with the socket it was connected through,
// closed with it.
type sysLink struct {
	*pppox.Link
	sock *pppox.Socket
}

func (l sysLink) Close() error {
	err := l.Link.Close()
	l.sock.Close()
	return err
}

func (l sysLink) ifname() string { return l.Link.Ifname }

func (k *sysKernel) open(cfg pppox.Config) (kernelLink, error) {
	sock, err := pppox.OpenSocket()
	if err != nil {
		return nil, err
	}
	l, err := sock.ConnectPolled(cfg, k.poller)
	if err != nil {
		sock.Close()
		return nil, err
	}
	return sysLink{Link: l, sock: sock}, nil
}

// do runs f on the netlink goroutine with ifname's link.
func (k *sysKernel) do(ifname string, f func(h *netlink.Handle, l netlink.Link) error) error {
	errc := make(chan error, 1)
	k.reqs <- func() {
		l, err := k.nl.LinkByName(ifname)
		if err != nil {
			errc <- fmt.Errorf("%s: %w", ifname, err)
			return
		}
		errc <- f(k.nl, l)
	}
	return <-errc
}

func (k *sysKernel) setMTU(ifname string, mtu int) error {
	return k.do(ifname, func(h *netlink.Handle, l netlink.Link) error { return h.LinkSetMTU(l, mtu) })
}

func (k *sysKernel) addAddr(ifname string, local, peer netip.Addr) error {
	bits := local.BitLen()
	a := &netlink.Addr{
		IPNet: &net.IPNet{IP: local.AsSlice(), Mask: net.CIDRMask(bits, bits)},
		Peer:  &net.IPNet{IP: peer.AsSlice(), Mask: net.CIDRMask(bits, bits)},
	}
	return k.do(ifname, func(h *netlink.Handle, l netlink.Link) error {
		if err := h.AddrAdd(l, a); err != nil {
			return fmt.Errorf("address %s peer %s on %s: %w", local, peer, ifname, err)
		}
		return nil
	})
}

func (k *sysKernel) up(ifname string) error {
	return k.do(ifname, func(h *netlink.Handle, l netlink.Link) error { return h.LinkSetUp(l) })
}

func (k *sysKernel) rename(ifname, name string) error {
	return k.do(ifname, func(h *netlink.Handle, l netlink.Link) error { return h.LinkSetName(l, name) })
}

func (k *sysKernel) removeAddrs(ifname string, family int) {
	_ = k.do(ifname, func(h *netlink.Handle, l netlink.Link) error {
		addrs, err := h.AddrList(l, family)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			_ = h.AddrDel(l, &a)
		}
		return nil
	})
}

func (k *sysKernel) counters(ifname string) (*status.Counters, error) {
	var c *status.Counters
	err := k.do(ifname, func(_ *netlink.Handle, l netlink.Link) error {
		st := l.Attrs().Statistics
		if st == nil {
			return fmt.Errorf("%s: the kernel gave no counters", ifname)
		}
		c = &status.Counters{RxBytes: st.RxBytes, TxBytes: st.TxBytes, RxPackets: st.RxPackets, TxPackets: st.TxPackets}
		return nil
	})
	return c, err
}

// close is called once every session has ended.
func (k *sysKernel) close() error {
	k.once.Do(func() { close(k.reqs) })
	<-k.done
	err := k.poller.Close()
	k.nl.Close()
	return err
}
