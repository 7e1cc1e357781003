package netcfg

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// RouteMode says what to do about the default route.
type RouteMode uint8

const (
	RouteNone    RouteMode = iota // leave routing alone
	RouteAdd                      // add ours, unless one with the same metric exists (ErrDefaultRouteExists)
	RouteReplace                  // take the place of the existing default routes, restore them after
)

// ErrDefaultRouteExists is DefaultRoute's answer, with RouteAdd, when a
// default route of the same metric is already there: pppd logs "not
// replacing existing default route" and carries on without its own.
var ErrDefaultRouteExists = errors.New("a default route of the same metric exists")

// Interface configures one pppN and remembers everything it did, to undo it
// all in Close, in reverse.
type Interface struct {
	Name string

	h        *netlink.Handle
	ownH     bool // h was made by Open, and Close closes it
	link     netlink.Link
	log      *slog.Logger
	addrs    []*netlink.Addr
	routes   []*netlink.Route
	replaced []netlink.Route // default routes we displaced, restored on Close
	files    []*written
}

// written is a file we wrote, with what was there before.
type written struct {
	path    string
	link    string      // the symbolic link that was there, or ""
	content []byte      // the file that was there, if not a link
	mode    os.FileMode // its permissions
	existed bool
}

// Open finds the interface name in h's namespace (nil: ours).
func Open(h *netlink.Handle, name string, log *slog.Logger) (*Interface, error) {
	own := false
	if h == nil {
		var err error
		// Route only: asking for every family makes the kernel try to
		// load xfrm and netfilter modules, a third of a second here.
		if h, err = netlink.NewHandle(unix.NETLINK_ROUTE); err != nil {
			return nil, fmt.Errorf("netcfg: netlink: %w", err)
		}
		own = true
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	l, err := h.LinkByName(name)
	if err != nil {
		if own {
			h.Close()
		}
		return nil, fmt.Errorf("netcfg: interface %s: %w", name, err)
	}
	return &Interface{Name: name, h: h, ownH: own, link: l, log: log}, nil
}

// SetMTU sets the interface's MTU.
func (i *Interface) SetMTU(mtu int) error {
	if err := i.h.LinkSetMTU(i.link, mtu); err != nil {
		return fmt.Errorf("netcfg: MTU %d on %s: %w", mtu, i.Name, err)
	}
	return nil
}

// Up sets the interface up.
func (i *Interface) Up() error {
	if err := i.h.LinkSetUp(i.link); err != nil {
		return fmt.Errorf("netcfg: %s up: %w", i.Name, err)
	}
	return nil
}

// AddIPv4 gives the interface its point-to-point addresses: local/32 with
// the peer's as the other end, as pppd does.
func (i *Interface) AddIPv4(local, peer netip.Addr) error {
	if !local.Is4() {
		return fmt.Errorf("netcfg: local address %v is not IPv4", local)
	}
	a := &netlink.Addr{IPNet: hostNet(local)}
	if peer.Is4() && !peer.IsUnspecified() {
		a.Peer = hostNet(peer)
	}
	return i.addAddr(a)
}

// AddIPv6LinkLocal adds fe80::local, with fe80::peer as its other end, from
// IPv6CP's interface identifiers (the kernel does not autoconfigure PPP
// links). Duplicate address detection is skipped: IPv6CP already made the
// identifiers differ (RFC 5072 §4.1), and DAD would hold the address
// "tentative" for a second for nothing.
func (i *Interface) AddIPv6LinkLocal(local, peer netip.Addr) error {
	a := &netlink.Addr{IPNet: hostNet(local), Flags: unix.IFA_F_NODAD}
	if peer.IsValid() {
		a.Peer = hostNet(peer)
	}
	return i.addAddr(a)
}

func hostNet(a netip.Addr) *net.IPNet {
	return &net.IPNet{IP: a.AsSlice(), Mask: net.CIDRMask(a.BitLen(), a.BitLen())}
}

func (i *Interface) addAddr(a *netlink.Addr) error {
	if err := i.h.AddrAdd(i.link, a); err != nil {
		return fmt.Errorf("netcfg: address %s on %s: %w", a.IPNet, i.Name, err)
	}
	i.addrs = append(i.addrs, a)
	i.log.Info("netcfg: address added", "interface", i.Name, "address", a.IPNet.String(), "peer", fmt.Sprint(a.Peer))
	return nil
}

// RemoveAddresses of one family (unix.AF_INET or AF_INET6), when its NCP
// goes down.
func (i *Interface) RemoveAddresses(family int) {
	kept := i.addrs[:0]
	for _, a := range i.addrs {
		if (a.IP.To4() != nil) != (family == unix.AF_INET) {
			kept = append(kept, a)
			continue
		}
		if err := i.h.AddrDel(i.link, a); err != nil && !gone(err) {
			i.log.Warn("netcfg: removing address", "address", a.IPNet.String(), "err", err)
		}
	}
	i.addrs = kept
}

// DefaultRoute routes everything (IPv4) over the interface.
func (i *Interface) DefaultRoute(mode RouteMode, metric int) error {
	if mode == RouteNone {
		return nil
	}
	r := &netlink.Route{LinkIndex: i.link.Attrs().Index, Dst: &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)},
		Scope: netlink.SCOPE_LINK, Priority: metric, Table: unix.RT_TABLE_MAIN}
	existing, err := i.h.RouteListFiltered(unix.AF_INET, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		return fmt.Errorf("netcfg: listing routes: %w", err)
	}
	for _, e := range existing {
		if !isDefault(e) || e.Priority != metric || e.LinkIndex == r.LinkIndex {
			continue
		}
		if mode == RouteAdd {
			// As pppd's sifdefaultroute: the other route stays, and so
			// does the session.
			return fmt.Errorf("netcfg: not replacing existing default route %s with metric %d: %w",
				strings.TrimPrefix(describe(i.h, e), "default "), metric, ErrDefaultRouteExists)
		}
		if err := i.h.RouteDel(&e); err != nil && !gone(err) {
			return fmt.Errorf("netcfg: replacing the default route %s: %w", describe(i.h, e), err)
		}
		i.replaced = append(i.replaced, e)
		i.log.Info("netcfg: default route replaced; restored when the session ends", "route", describe(i.h, e))
	}
	if err := i.h.RouteAdd(r); err != nil {
		if errors.Is(err, unix.EEXIST) {
			// One we did not list: on our own interface, or just added.
			return fmt.Errorf("netcfg: not replacing existing default route with metric %d: %w", metric, ErrDefaultRouteExists)
		}
		return fmt.Errorf("netcfg: default route via %s: %w", i.Name, err)
	}
	i.routes = append(i.routes, r)
	i.log.Info("netcfg: default route added", "interface", i.Name, "metric", metric)
	return nil
}

func isDefault(r netlink.Route) bool {
	if r.Dst == nil {
		return true
	}
	ones, _ := r.Dst.Mask.Size()
	return ones == 0
}

func describe(h *netlink.Handle, r netlink.Route) string {
	dev := fmt.Sprint(r.LinkIndex)
	if l, err := h.LinkByIndex(r.LinkIndex); err == nil {
		dev = l.Attrs().Name
	}
	s := "default dev " + dev
	if r.Gw != nil {
		s = "default via " + r.Gw.String() + " dev " + dev
	}
	return s
}

// RemoveRoutes deletes our routes and restores the ones we displaced.
func (i *Interface) RemoveRoutes() {
	for j := len(i.routes) - 1; j >= 0; j-- {
		if err := i.h.RouteDel(i.routes[j]); err != nil && !gone(err) {
			i.log.Warn("netcfg: removing route", "err", err)
		}
	}
	i.routes = nil
	for _, r := range i.replaced {
		r := r
		if err := i.h.RouteAdd(&r); err != nil && !errors.Is(err, unix.EEXIST) {
			i.log.Warn("netcfg: restoring the default route", "route", describe(i.h, r), "err", err)
			continue
		}
		i.log.Info("netcfg: default route restored", "route", describe(i.h, r))
	}
	i.replaced = nil
}

// WriteResolvConf writes the name servers in resolv.conf form to path, as
// pppd's usepeerdns does (/etc/ppp/resolv.conf), atomically, creating its
// directory if need be. Whatever was at path (a file, a symbolic link such
// as systemd-resolved's) is put back by RemoveFiles.
func (i *Interface) WriteResolvConf(path string, servers []netip.Addr) error {
	if len(servers) == 0 {
		return nil
	}
	w := &written{path: path}
	if !slicesContainsPath(i.files, path) {
		if fi, err := os.Lstat(path); err == nil {
			w.existed, w.mode = true, fi.Mode().Perm()
			if fi.Mode()&os.ModeSymlink != 0 {
				w.link, err = os.Readlink(path)
			} else {
				w.content, err = os.ReadFile(path)
			}
			if err != nil {
				return fmt.Errorf("netcfg: saving %s before replacing it: %w", path, err)
			}
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return fmt.Errorf("netcfg: %w", err)
		}
	}
	if err := writeAtomic(path, resolvConf(servers), 0o644); err != nil {
		return fmt.Errorf("netcfg: %w", err)
	}
	if !slicesContainsPath(i.files, path) {
		i.files = append(i.files, w)
	}
	i.log.Info("netcfg: name servers written", "file", path, "servers", fmt.Sprint(servers))
	return nil
}

// WriteResolvConfFile writes the name servers to path as WriteResolvConf
// does, but for good: nothing remembers to remove it (pppd leaves
// /etc/ppp/resolv.conf behind).
func WriteResolvConfFile(path string, servers []netip.Addr) error {
	if len(servers) == 0 {
		return nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return fmt.Errorf("netcfg: %w", err)
	}
	if err := writeAtomic(path, resolvConf(servers), 0o644); err != nil {
		return fmt.Errorf("netcfg: %w", err)
	}
	return nil
}

// resolvConf is the file's text: pppd's, a nameserver line each.
func resolvConf(servers []netip.Addr) []byte {
	var b strings.Builder
	for _, s := range servers {
		fmt.Fprintf(&b, "nameserver %s\n", s)
	}
	return []byte(b.String())
}

func slicesContainsPath(ws []*written, path string) bool {
	for _, w := range ws {
		if w.path == path {
			return true
		}
	}
	return false
}

func writeAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	_, err = tmp.Write(data)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp.Name(), perm)
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err != nil {
		os.Remove(tmp.Name())
	}
	return err
}

// RemoveFiles deletes the files we wrote, putting back what they replaced.
func (i *Interface) RemoveFiles() {
	for _, w := range i.files {
		var err error
		switch {
		case !w.existed:
			err = os.Remove(w.path)
			if errors.Is(err, os.ErrNotExist) {
				err = nil
			}
		case w.link != "":
			tmp := w.path + ".pppoed-restore"
			os.Remove(tmp)
			if err = os.Symlink(w.link, tmp); err == nil {
				err = os.Rename(tmp, w.path)
			}
		default:
			err = writeAtomic(w.path, w.content, w.mode)
		}
		if err != nil {
			i.log.Warn("netcfg: restoring", "file", w.path, "err", err)
		}
	}
	i.files = nil
}

// Close undoes everything: routes (restoring displaced ones), addresses,
// files. The interface itself belongs to the kernel session.
func (i *Interface) Close() {
	i.RemoveRoutes()
	i.RemoveAddresses(unix.AF_INET)
	i.RemoveAddresses(unix.AF_INET6)
	i.RemoveFiles()
	if i.ownH {
		i.h.Close()
		i.ownH = false
	}
}

// gone reports errors meaning the thing was already removed (the
// interface vanished with the session).
func gone(err error) bool {
	return errors.Is(err, unix.ESRCH) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.EADDRNOTAVAIL) || errors.Is(err, unix.ENOENT)
}
