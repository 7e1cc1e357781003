package netcfg

import (
	"errors"
	"fmt"
	"net/netip"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// ReplaceIPv4 makes local, with peer as the other end, the interface's
// IPv4 address in place of the ones AddIPv4 and ReplaceIPv4 gave it, as
// pppd's ipcp_up does in demand mode when IPCP assigns other addresses
// than the interface had while it waited. Deleting an interface's last
// IPv4 address makes the kernel flush every route through it
// (fib_inetaddr_event calls fib_disable_ip), the default route with it,
// so the new address is added before the old ones go, and the routes
// DefaultRoute added are put back if they went anyway. Only when an old
// address has the same peer must it go first: the kernel would make the
// new one its secondary (same /32 "subnet", the peer's), and delete it
// with it (no promote_secondaries by default). Replacing an address by
// itself changes nothing.
func (i *Interface) ReplaceIPv4(local, peer netip.Addr) error {
	if !local.Is4() {
		return fmt.Errorf("netcfg: local address %v is not IPv4", local)
	}
	if !peer.Is4() || peer.IsUnspecified() {
		peer = netip.Addr{} // as AddIPv4: no other end
	}
	same := func(a *netlink.Addr) bool {
		l, p := v4Pair(a)
		return l == local && p == peer
	}
	have, others, samePeer := false, false, false
	for _, a := range i.addrs {
		if a.IP.To4() == nil {
			continue
		}
		if same(a) {
			have = true
			continue
		}
		others = true
		if _, p := v4Pair(a); p == peer {
			samePeer = true
		}
	}
	if !others {
		if have {
			return nil
		}
		return i.AddIPv4(local, peer)
	}
	if !have && !samePeer {
		if err := i.AddIPv4(local, peer); err != nil {
			return err
		}
	}
	kept := i.addrs[:0]
	for _, a := range i.addrs {
		if a.IP.To4() == nil || same(a) {
			kept = append(kept, a)
			continue
		}
		if err := i.h.AddrDel(i.link, a); err != nil && !gone(err) {
			i.log.Warn("netcfg: removing the previous address", "address", a.IPNet.String(), "err", err)
		}
		i.log.Info("netcfg: address replaced", "interface", i.Name, "address", a.IPNet.String(), "by", local.String())
	}
	i.addrs = kept
	if !have && samePeer {
		if err := i.AddIPv4(local, peer); err != nil {
			return err
		}
	}
	for _, r := range i.routes {
		if err := i.h.RouteAdd(r); err != nil && !errors.Is(err, unix.EEXIST) {
			i.log.Warn("netcfg: restoring a route after the address changed", "interface", i.Name, "err", err)
		}
	}
	return nil
}

// v4Pair is an IPv4 address's local and peer ends (the peer invalid when
// it has none).
func v4Pair(a *netlink.Addr) (local, peer netip.Addr) {
	local, _ = netip.AddrFromSlice(a.IP.To4())
	if a.Peer != nil {
		peer, _ = netip.AddrFromSlice(a.Peer.IP.To4())
	}
	return local, peer
}
