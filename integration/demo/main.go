// Command demo builds a small PPPoE lab and shows a live session on it: an
// access concentrator in one network namespace, a client in another, a veth
// pair between them. It shows the control exchange, the session (its PPPoE
// id, addresses, routes) and pings across it, then tears everything down.
//
// Run it with `make demo`, which boots a VM with a PPP kernel when this
// host's kernel has none. Until pppoed's own client and server exist, both
// ends are the reference peers (Debian's pppoe-server, pppd with rp-pppoe.so).
package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
	"github.com/vishvananda/netlink"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

var (
	acAddr     = netip.MustParseAddr("10.64.0.1")
	clientAddr = netip.MustParseAddr("10.64.0.2")
)

func run() error {
	if why := lab.Unavailable(); why != "" {
		return fmt.Errorf("%s", why)
	}
	td := &lab.Teardown{}
	defer func() {
		fmt.Println("\ntearing down: processes, namespaces, veth")
		td.Close()
	}()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()

	rel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	fmt.Printf("pppoed demo: a PPPoE session on Linux %s\n\n", strings.TrimSpace(string(rel)))

	p, err := lab.NewPair(td, lab.PairConfig{})
	if err != nil {
		return err
	}
	fmt.Printf("  [AC: netns %s] %s <== veth ==> %s [client: netns %s]\n\n", p.AC.Name, p.ACIf, p.ClientIf, p.Client.Name)

	fmt.Println("access concentrator: Debian pppoe-server + pppd, CHAP required, service \"isp\", AC name \"demo-ac\"")
	srv, err := lab.StartPPPoEServer(td, p.AC, lab.ServerConfig{
		Interface: p.ACIf, Auth: lab.AuthCHAP, ServiceNames: []string{"isp"}, ACName: "demo-ac",
		Local: acAddr, PoolStart: clientAddr,
		Secrets:      []lab.Secret{{User: "demo", Password: "demo-secret"}},
		EchoInterval: 10, EchoFailure: 3,
		DNS: []netip.Addr{netip.MustParseAddr("10.64.0.53")},
	})
	if err != nil {
		return err
	}
	fmt.Println("client:              pppd + rp-pppoe.so (the kernel's PPPoE data path), user \"demo\"")
	fmt.Println("                     (pppoed replaces both ends as its client and server land)")
	start := time.Now()
	cli, err := lab.StartPPPD(td, p.Client, lab.PPPDConfig{
		Interface: p.ClientIf, User: "demo", Password: "demo-secret", ServiceName: "isp",
		Options: []string{"defaultroute", "usepeerdns"},
	})
	if err != nil {
		return err
	}
	addr, err := cli.WaitUp(ctx)
	if err != nil {
		return fmt.Errorf("%w\nserver log:\n%s", err, srv.Log())
	}
	fmt.Printf("\nsession up in %.1fs\n\n", time.Since(start).Seconds())

	fmt.Println("control exchange (the client's pppd debug log):")
	for _, l := range strings.Split(cli.Log(), "\n") {
		if strings.HasPrefix(l, "sent [") || strings.HasPrefix(l, "rcvd [") {
			if !strings.Contains(l, "Echo") {
				fmt.Println("  " + l)
			}
		}
	}

	fmt.Println("\nthe session:")
	if ss, err := lab.PPPoESessions(cli.Pid()); err == nil {
		for _, s := range ss {
			fmt.Printf("  PPPoE session id 0x%04x on %s, AC at %s (kernel: /proc/net/pppoe)\n", s.ID, s.Device, s.Peer)
		}
	} else {
		return err
	}
	link, err := p.Client.Link(cli.Ifname)
	if err != nil {
		return err
	}
	fmt.Printf("  client %s: %s peer %s, mtu %d\n", cli.Ifname, addr.Local.Addr(), addr.Peer.Addr(), link.MTU)
	_ = lab.Poll(ctx, 20*time.Millisecond, func() (bool, error) {
		as, err := p.AC.Addrs("", netlink.FAMILY_V4)
		if i := slices.IndexFunc(as, func(a lab.Addr) bool { return strings.HasPrefix(a.Link, "ppp") }); i >= 0 {
			fmt.Printf("  AC     %s: %s peer %s\n", as[i].Link, as[i].Local.Addr(), as[i].Peer.Addr())
			return true, nil
		}
		return false, err
	})
	routes, err := p.Client.Routes(netlink.FAMILY_V4)
	if err != nil {
		return err
	}
	fmt.Println("  client routes:")
	for _, r := range routes {
		dst := r.Dst.String()
		if r.IsDefault() {
			dst = "default"
		}
		fmt.Printf("    %-16s dev %s\n", dst, r.Link)
	}
	if dns, err := os.ReadFile("/etc/ppp/resolv.conf"); err == nil {
		fmt.Printf("  DNS from the AC (/etc/ppp/resolv.conf): %s\n", strings.Join(strings.Fields(string(dns)), " "))
	}

	fmt.Printf("\nping %s from the client, across the session:\n", acAddr)
	out, err := p.Client.Ping(ctx, acAddr, 3)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		fmt.Println("  " + l)
	}
	return err
}
