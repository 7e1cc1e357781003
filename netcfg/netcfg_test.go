package netcfg

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// These tests configure a veth end (standing in for pppN: netlink treats
// them alike) in a network namespace of their own. They need root and
// skip cleanly without it.
func testNS(t *testing.T) (*netlink.Handle, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (network namespaces)")
	}
	name := fmt.Sprintf("netcfg-test-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", name).Run() })
	ns, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Close() })
	h, err := netlink.NewHandleAt(ns)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	if err := h.LinkAdd(&netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: "ppp9"}, PeerName: "eth9"}); err != nil {
		t.Skipf("cannot create a veth pair: %v", err)
	}
	for _, n := range []string{"ppp9", "eth9", "lo"} {
		l, _ := h.LinkByName(n)
		h.LinkSetUp(l)
	}
	return h, name
}

func addrs(t *testing.T, h *netlink.Handle, family int) []string {
	t.Helper()
	l, err := h.LinkByName("ppp9")
	if err != nil {
		t.Fatal(err)
	}
	as, err := h.AddrList(l, family)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range as {
		if a.IP.IsLinkLocalUnicast() && a.Peer == nil {
			continue // the veth's own link-local
		}
		s := a.IPNet.String()
		if a.Peer != nil {
			s += " peer " + a.Peer.String()
		}
		out = append(out, s)
	}
	return out
}

func defaults(t *testing.T, h *netlink.Handle) []string {
	t.Helper()
	rs, err := h.RouteListFiltered(unix.AF_INET, &netlink.Route{Table: unix.RT_TABLE_MAIN}, netlink.RT_FILTER_TABLE)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rs {
		if isDefault(r) {
			out = append(out, fmt.Sprintf("%s metric %d", describe(h, r), r.Priority))
		}
	}
	return out
}

func TestConfigureAndUndo(t *testing.T) {
	h, _ := testNS(t)
	// An existing default route via the "Ethernet" side, to be replaced.
	eth, _ := h.LinkByName("eth9")
	if err := h.AddrAdd(eth, &netlink.Addr{IPNet: &net.IPNet{IP: net.IPv4(192, 0, 2, 10), Mask: net.CIDRMask(24, 32)}}); err != nil {
		t.Fatal(err)
	}
	if err := h.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: net.IPv4(192, 0, 2, 1)}); err != nil {
		t.Fatal(err)
	}
	i, err := Open(h, "ppp9", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := i.SetMTU(1492); err != nil {
		t.Fatal(err)
	}
	if l, _ := h.LinkByName("ppp9"); l.Attrs().MTU != 1492 {
		t.Errorf("MTU %d", l.Attrs().MTU)
	}
	if err := i.AddIPv4(netip.MustParseAddr("10.64.0.2"), netip.MustParseAddr("10.64.0.1")); err != nil {
		t.Fatal(err)
	}
	ll := func(id string) netip.Addr { return netip.MustParseAddr("fe80::" + id) }
	if err := i.AddIPv6LinkLocal(ll("1:2:3:4"), ll("5:6:7:8")); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(addrs(t, h, unix.AF_INET), ","); got != "10.64.0.2/32 peer 10.64.0.1/32" {
		t.Errorf("IPv4 addresses %s", got)
	}
	if got := strings.Join(addrs(t, h, unix.AF_INET6), ","); got != "fe80::1:2:3:4/128 peer fe80::5:6:7:8/128" {
		t.Errorf("IPv6 addresses %s", got)
	}

	// Beside an existing default of the same metric, ours is not added
	// (pppd: "not replacing existing default route").
	if err := i.DefaultRoute(RouteAdd, 0); !errors.Is(err, ErrDefaultRouteExists) ||
		!strings.Contains(err.Error(), "not replacing existing default route via 192.0.2.1 dev eth9 with metric 0") {
		t.Errorf("DefaultRoute(add) beside another = %v", err)
	}
	if got := strings.Join(defaults(t, h), ","); got != "default via 192.0.2.1 dev eth9 metric 0" {
		t.Errorf("defaults after a refused add: %s", got)
	}
	if err := i.DefaultRoute(RouteAdd, 100); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(defaults(t, h), ","); got != "default via 192.0.2.1 dev eth9 metric 0,default dev ppp9 metric 100" {
		t.Errorf("defaults with a metric: %s", got)
	}
	i.RemoveRoutes()
	if err := i.DefaultRoute(RouteReplace, 0); err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(defaults(t, h), ","); got != "default dev ppp9 metric 0" {
		t.Errorf("defaults after replace: %s", got)
	}

	dir := t.TempDir()
	resolv := filepath.Join(dir, "resolv.conf")
	if err := i.WriteResolvConf(resolv, []netip.Addr{netip.MustParseAddr("10.64.0.53"), netip.MustParseAddr("10.64.0.54")}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(resolv); string(b) != "nameserver 10.64.0.53\nnameserver 10.64.0.54\n" {
		t.Errorf("resolv.conf %q", b)
	}

	i.Close()
	if got := addrs(t, h, unix.AF_INET); len(got) != 0 {
		t.Errorf("IPv4 addresses left: %v", got)
	}
	if got := addrs(t, h, unix.AF_INET6); len(got) != 0 {
		t.Errorf("IPv6 addresses left: %v", got)
	}
	if got := strings.Join(defaults(t, h), ","); got != "default via 192.0.2.1 dev eth9 metric 0" {
		t.Errorf("defaults after Close: %s, want the original restored", got)
	}
	if _, err := os.Stat(resolv); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("resolv.conf left behind: %v", err)
	}
	// Closing twice, or after the interface is gone, is harmless.
	i.Close()
}

func TestInterfaceGone(t *testing.T) {
	h, _ := testNS(t)
	i, err := Open(h, "ppp9", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := i.AddIPv4(netip.MustParseAddr("10.64.0.2"), netip.MustParseAddr("10.64.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := i.DefaultRoute(RouteAdd, 5); err != nil {
		t.Fatal(err)
	}
	l, _ := h.LinkByName("ppp9")
	if err := h.LinkDel(l); err != nil {
		t.Fatal(err)
	}
	i.Close() // the session's interface vanished first: nothing to complain about
	if _, err := Open(h, "ppp9", nil); err == nil || !strings.Contains(err.Error(), "interface ppp9") {
		t.Errorf("Open of a missing interface = %v", err)
	}
}

func TestBadInput(t *testing.T) {
	h, _ := testNS(t)
	i, err := Open(h, "ppp9", nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := i.AddIPv4(netip.MustParseAddr("::1"), netip.Addr{}); err == nil {
		t.Error("AddIPv4 took an IPv6 address")
	}
	notDir := filepath.Join(t.TempDir(), "file")
	os.WriteFile(notDir, nil, 0o644)
	if err := i.WriteResolvConf(filepath.Join(notDir, "resolv.conf"), []netip.Addr{netip.MustParseAddr("1.1.1.1")}); err == nil {
		t.Error("WriteResolvConf under a regular file succeeded")
	}
	if err := i.WriteResolvConf(filepath.Join(notDir, "resolv.conf"), nil); err != nil {
		t.Errorf("no servers, no file: %v", err)
	}
}

// A resolv.conf that was there, as a file or as a symbolic link
// (systemd-resolved's), is put back; a missing directory is made.
func TestResolvConfRestored(t *testing.T) {
	h, _ := testNS(t)
	i, err := Open(h, "ppp9", nil)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "resolv.conf")
	os.WriteFile(file, []byte("nameserver 9.9.9.9\n"), 0o640)
	link := filepath.Join(dir, "linked.conf")
	os.Symlink("../run/systemd/resolve/stub-resolv.conf", link)
	fresh := filepath.Join(dir, "new", "dir", "resolv.conf")
	servers := []netip.Addr{netip.MustParseAddr("10.64.0.53")}
	for _, p := range []string{file, link, fresh} {
		if err := i.WriteResolvConf(p, servers); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(p); string(b) != "nameserver 10.64.0.53\n" {
			t.Errorf("%s: %q", p, b)
		}
	}
	// Written twice: still restores the original.
	if err := i.WriteResolvConf(file, servers); err != nil {
		t.Fatal(err)
	}
	i.Close()
	if b, _ := os.ReadFile(file); string(b) != "nameserver 9.9.9.9\n" {
		t.Errorf("file not restored: %q", b)
	}
	if fi, _ := os.Stat(file); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v", fi.Mode())
	}
	if target, err := os.Readlink(link); err != nil || target != "../run/systemd/resolve/stub-resolv.conf" {
		t.Errorf("link not restored: %q %v", target, err)
	}
	if _, err := os.Lstat(fresh); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file that was not there is left: %v", err)
	}
}

// RouteAdd leaves an existing default route of the same metric alone,
// wherever it is, and says so with ErrDefaultRouteExists; another metric
// is no obstacle.
func TestDefaultRouteAdd(t *testing.T) {
	tests := []struct {
		name     string
		existing string // "eth9" or "ppp9": where a default route with metric 10 is
		metric   int
		exists   bool
		want     string // the default routes after
	}{
		{"none", "", 10, false, "default dev ppp9 metric 10"},
		{"another interface, same metric", "eth9", 10, true, "default via 192.0.2.1 dev eth9 metric 10"},
		{"another interface, another metric", "eth9", 20, false, "default via 192.0.2.1 dev eth9 metric 10,default dev ppp9 metric 20"},
		{"ours already", "ppp9", 10, true, "default dev ppp9 metric 10"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, _ := testNS(t)
			eth, _ := h.LinkByName("eth9")
			if err := h.AddrAdd(eth, &netlink.Addr{IPNet: &net.IPNet{IP: net.IPv4(192, 0, 2, 10), Mask: net.CIDRMask(24, 32)}}); err != nil {
				t.Fatal(err)
			}
			ppp, _ := h.LinkByName("ppp9")
			switch tt.existing {
			case "eth9":
				err := h.RouteAdd(&netlink.Route{LinkIndex: eth.Attrs().Index, Gw: net.IPv4(192, 0, 2, 1), Priority: 10})
				if err != nil {
					t.Fatal(err)
				}
			case "ppp9":
				err := h.RouteAdd(&netlink.Route{LinkIndex: ppp.Attrs().Index, Scope: netlink.SCOPE_LINK, Priority: 10,
					Dst: &net.IPNet{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)}})
				if err != nil {
					t.Fatal(err)
				}
			}
			i, err := Open(h, "ppp9", nil)
			if err != nil {
				t.Fatal(err)
			}
			err = i.DefaultRoute(RouteAdd, tt.metric)
			if errors.Is(err, ErrDefaultRouteExists) != tt.exists || err != nil && !tt.exists {
				t.Errorf("DefaultRoute = %v, want exists=%v", err, tt.exists)
			}
			if got := strings.Join(defaults(t, h), ","); got != tt.want {
				t.Errorf("defaults: %s, want %s", got, tt.want)
			}
			i.Close()
			wantAfter := map[string]string{"": "", "eth9": "default via 192.0.2.1 dev eth9 metric 10", "ppp9": "default dev ppp9 metric 10"}[tt.existing]
			if got := strings.Join(defaults(t, h), ","); got != wantAfter {
				t.Errorf("defaults after Close: %s, want %s (only what was there)", got, wantAfter)
			}
		})
	}
}
