package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Netns is a named network namespace (visible to `ip netns`).
type Netns struct {
	Name   string
	handle netns.NsHandle
	nl     *netlink.Handle
}

var seq atomic.Uint32

// uniqueName returns a short name unique on this host for this process:
// interface names are limited to 15 characters.
func uniqueName(prefix string) string {
	return fmt.Sprintf("%s%d-%d", prefix, os.Getpid()%10000, seq.Add(1))
}

// NewNetns creates a named network namespace with lo up. It is deleted when
// the scope ends, after every process still in it has been killed.
func NewNetns(s Scope, prefix string) (*Netns, error) {
	s.Helper()
	name := uniqueName(prefix)
	h, err := newNamedNetns(name)
	if err != nil {
		return nil, fmt.Errorf("lab: creating netns %s: %w", name, err)
	}
	n := &Netns{Name: name, handle: h}
	s.Cleanup(func() {
		if err := n.destroy(); err != nil {
			s.Logf("lab: tearing down netns %s: %v", name, err)
		}
	})
	n.nl, err = netlink.NewHandleAt(h)
	if err != nil {
		return nil, fmt.Errorf("lab: netlink in %s: %w", name, err)
	}
	lo, err := n.nl.LinkByName("lo")
	if err == nil {
		err = n.nl.LinkSetUp(lo)
	}
	if err != nil {
		return nil, fmt.Errorf("lab: lo up in %s: %w", name, err)
	}
	return n, nil
}

// newNamedNetns creates the namespace from a locked thread and moves that
// thread back, so no other goroutine ever runs in the wrong namespace.
func newNamedNetns(name string) (netns.NsHandle, error) {
	type res struct {
		h   netns.NsHandle
		err error
	}
	ch := make(chan res, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			ch <- res{err: err}
			return
		}
		defer orig.Close()
		h, err := netns.NewNamed(name)
		if serr := netns.Set(orig); serr != nil {
			// The thread is stuck in the new namespace: leave it locked so
			// that it exits with this goroutine instead of being reused.
			ch <- res{h, errors.Join(err, serr)}
			return
		}
		runtime.UnlockOSThread()
		ch <- res{h, err}
	}()
	r := <-ch
	return r.h, r.err
}

func (n *Netns) destroy() error {
	var errs []error
	if err := n.killAll(); err != nil {
		errs = append(errs, err)
	}
	if n.nl != nil {
		n.nl.Close()
	}
	n.handle.Close()
	if err := netns.DeleteNamed(n.Name); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Pids lists the processes whose network namespace is n.
func (n *Netns) Pids() ([]int, error) {
	var st unix.Stat_t
	if err := unix.Fstat(int(n.handle), &st); err != nil {
		return nil, err
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		var ps unix.Stat_t
		if unix.Stat(filepath.Join("/proc", e.Name(), "ns/net"), &ps) != nil {
			continue // gone, or a kernel thread
		}
		if ps.Dev == st.Dev && ps.Ino == st.Ino {
			pids = append(pids, pid)
		}
	}
	return pids, nil
}

// Processes lists the pids in n whose command name (comm) is name.
func (n *Netns) Processes(name string) ([]int, error) {
	pids, err := n.Pids()
	if err != nil {
		return nil, err
	}
	var out []int
	for _, p := range pids {
		if comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p)); err == nil && strings.TrimSpace(string(comm)) == name {
			out = append(out, p)
		}
	}
	return out, nil
}

// killAll SIGKILLs every process in n and waits until they are gone (zombies
// of our own children are reaped by their Process's Wait).
func (n *Netns) killAll() error {
	deadline := time.Now().Add(5 * time.Second)
	for {
		pids, err := n.Pids()
		if err != nil {
			return err
		}
		live := pids[:0]
		for _, p := range pids {
			if !isZombie(p) {
				live = append(live, p)
			}
		}
		if len(live) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("processes %v survive SIGKILL", live)
		}
		for _, p := range live {
			_ = unix.Kill(p, unix.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true // gone
	}
	// The state follows the parenthesised command name, which may hold spaces.
	i := strings.LastIndexByte(string(b), ')')
	return i >= 0 && i+2 < len(b) && (b[i+2] == 'Z' || b[i+2] == 'X')
}

// Command returns a command that runs in n (through `ip netns exec`, which
// also gives it a /sys of the namespace).
func (n *Netns) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.Name, name}, args...)...)
	// A background child still holding the output must not block Wait.
	cmd.WaitDelay = 2 * time.Second
	return cmd
}

// Run runs a command in n to completion and returns its combined output.
func (n *Netns) Run(ctx context.Context, name string, args ...string) (string, error) {
	out, err := n.Command(ctx, name, args...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("%s %s in %s: %w\n%s", name, strings.Join(args, " "), n.Name, err, out)
	}
	return string(out), nil
}

// Ping sends count echo requests from n to addr (busybox ping, one second
// apart) and fails unless every one is answered.
func (n *Netns) Ping(ctx context.Context, addr netip.Addr, count int) (string, error) {
	args := []string{"ping", "-c", strconv.Itoa(count), "-W", "2"}
	if addr.Is6() {
		args[0] = "ping6"
	}
	out, err := n.Run(ctx, "busybox", append(args, addr.String())...)
	if err == nil && !strings.Contains(out, fmt.Sprintf("%d packets received", count)) {
		err = fmt.Errorf("ping %s from %s: replies missing:\n%s", addr, n.Name, out)
	}
	return out, err
}

// Link is what a test needs to know about a network interface.
type Link struct {
	Name  string
	Index int
	Kind  string // "veth", "ppp", "" for lo
	MTU   int
	Up    bool // administratively up
	MAC   net.HardwareAddr
	// The kernel's counters (IFLA_STATS64).
	RxPackets, TxPackets, TxDropped uint64
}

// Addr is an address on an interface; Peer is set on point-to-point links.
type Addr struct {
	Link  string
	Local netip.Prefix
	Peer  netip.Prefix
	Scope int // netlink scope: 0 global, 253 link
}

// Route is a route in the main table.
type Route struct {
	Dst      netip.Prefix // 0.0.0.0/0 or ::/0 for a default route
	Gateway  netip.Addr
	Link     string
	Metric   int
	Protocol int
}

// IsDefault reports whether r is a default route.
func (r Route) IsDefault() bool { return r.Dst.Bits() == 0 }

func linkOf(l netlink.Link) Link {
	a := l.Attrs()
	out := Link{Name: a.Name, Index: a.Index, Kind: l.Type(), MTU: a.MTU, Up: a.Flags&net.FlagUp != 0, MAC: a.HardwareAddr}
	if st := a.Statistics; st != nil {
		out.RxPackets, out.TxPackets, out.TxDropped = st.RxPackets, st.TxPackets, st.TxDropped
	}
	return out
}

// Links lists n's interfaces.
func (n *Netns) Links() ([]Link, error) {
	ls, err := n.nl.LinkList()
	if err != nil {
		return nil, fmt.Errorf("lab: links of %s: %w", n.Name, err)
	}
	out := make([]Link, 0, len(ls))
	for _, l := range ls {
		out = append(out, linkOf(l))
	}
	return out, nil
}

// Link returns one interface of n.
func (n *Netns) Link(name string) (Link, error) {
	l, err := n.nl.LinkByName(name)
	if err != nil {
		return Link{}, fmt.Errorf("lab: link %s in %s: %w", name, n.Name, err)
	}
	return linkOf(l), nil
}

func prefixOf(ipn *net.IPNet) netip.Prefix {
	if ipn == nil {
		return netip.Prefix{}
	}
	a, ok := netip.AddrFromSlice(ipn.IP)
	if !ok {
		return netip.Prefix{}
	}
	ones, _ := ipn.Mask.Size()
	return netip.PrefixFrom(a.Unmap(), ones)
}

// Addrs lists the addresses on interface ifname ("" for all) of the given
// family (netlink.FAMILY_V4, FAMILY_V6 or FAMILY_ALL).
func (n *Netns) Addrs(ifname string, family int) ([]Addr, error) {
	var link netlink.Link
	if ifname != "" {
		l, err := n.nl.LinkByName(ifname)
		if err != nil {
			return nil, fmt.Errorf("lab: link %s in %s: %w", ifname, n.Name, err)
		}
		link = l
	}
	as, err := n.nl.AddrList(link, family)
	if err != nil {
		return nil, fmt.Errorf("lab: addresses in %s: %w", n.Name, err)
	}
	names := n.linkNames()
	out := make([]Addr, 0, len(as))
	for _, a := range as {
		out = append(out, Addr{Link: names[a.LinkIndex], Local: prefixOf(a.IPNet), Peer: prefixOf(a.Peer), Scope: a.Scope})
	}
	return out, nil
}

func (n *Netns) linkNames() map[int]string {
	names := map[int]string{}
	if ls, err := n.nl.LinkList(); err == nil {
		for _, l := range ls {
			names[l.Attrs().Index] = l.Attrs().Name
		}
	}
	return names
}

// Routes lists the main table's routes of the given family.
func (n *Netns) Routes(family int) ([]Route, error) {
	rs, err := n.nl.RouteListFiltered(family, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return nil, fmt.Errorf("lab: routes in %s: %w", n.Name, err)
	}
	names := n.linkNames()
	out := make([]Route, 0, len(rs))
	for _, r := range rs {
		dst := prefixOf(r.Dst)
		if r.Dst == nil {
			if r.Family == netlink.FAMILY_V6 {
				dst = netip.MustParsePrefix("::/0")
			} else {
				dst = netip.MustParsePrefix("0.0.0.0/0")
			}
		}
		gw, _ := netip.AddrFromSlice(r.Gw)
		out = append(out, Route{Dst: dst, Gateway: gw.Unmap(), Link: names[r.LinkIndex], Metric: r.Priority, Protocol: int(r.Protocol)})
	}
	return out, nil
}

// Poll calls f every interval until it returns true or an error, or ctx ends.
func Poll(ctx context.Context, interval time.Duration, f func() (bool, error)) error {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		ok, err := f()
		if err != nil || ok {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
	}
}

// PairConfig describes a veth link between two new namespaces.
type PairConfig struct {
	MTU      int    // both ends; default 1500
	ACMTU    int    // the AC's end, when it should differ from MTU
	ACIf     string // default: unique
	ClientIf string // default: unique
}

// Pair is two namespaces joined by a veth pair: the access concentrator's
// side and the client's side, both up.
type Pair struct {
	AC, Client     *Netns
	ACIf, ClientIf string
}

// NewPair creates two namespaces and a veth pair between them. Everything
// is removed when the scope ends.
func NewPair(s Scope, cfg PairConfig) (*Pair, error) {
	s.Helper()
	ac, err := NewNetns(s, "pac")
	if err != nil {
		return nil, err
	}
	cl, err := NewNetns(s, "pcl")
	if err != nil {
		return nil, err
	}
	p := &Pair{AC: ac, Client: cl, ACIf: cfg.ACIf, ClientIf: cfg.ClientIf}
	n := seq.Add(1)
	if p.ACIf == "" {
		p.ACIf = fmt.Sprintf("vac%d", n)
	}
	if p.ClientIf == "" {
		p.ClientIf = fmt.Sprintf("vcl%d", n)
	}
	la := netlink.LinkAttrs{Name: p.ACIf, MTU: cfg.MTU}
	veth := &netlink.Veth{LinkAttrs: la, PeerName: p.ClientIf, PeerNamespace: netlink.NsFd(int(cl.handle))}
	if err := ac.nl.LinkAdd(veth); err != nil {
		return nil, fmt.Errorf("lab: veth %s/%s: %w", p.ACIf, p.ClientIf, err)
	}
	if cfg.MTU > 0 {
		// The peer is created with the default MTU unless told otherwise.
		if err := cl.SetMTU(p.ClientIf, cfg.MTU); err != nil {
			return nil, err
		}
	}
	if cfg.ACMTU > 0 {
		if err := ac.SetMTU(p.ACIf, cfg.ACMTU); err != nil {
			return nil, err
		}
	}
	for _, side := range []struct {
		ns *Netns
		If string
	}{{ac, p.ACIf}, {cl, p.ClientIf}} {
		l, err := side.ns.nl.LinkByName(side.If)
		if err == nil {
			err = side.ns.nl.LinkSetUp(l)
		}
		if err != nil {
			return nil, fmt.Errorf("lab: %s up in %s: %w", side.If, side.ns.Name, err)
		}
	}
	return p, nil
}

// SetMTU changes an interface's MTU.
func (n *Netns) SetMTU(ifname string, mtu int) error {
	l, err := n.nl.LinkByName(ifname)
	if err == nil {
		err = n.nl.LinkSetMTU(l, mtu)
	}
	if err != nil {
		return fmt.Errorf("lab: mtu %d on %s in %s: %w", mtu, ifname, n.Name, err)
	}
	return nil
}
