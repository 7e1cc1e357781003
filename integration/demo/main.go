// Command demo builds a small PPPoE lab and shows a live session on it: an
// access concentrator in one network namespace, `pppoed connect` in
// another, a veth pair between them. It shows the control exchange, the
// session (its PPPoE id, addresses, routes, name servers), pings across it,
// shows `pppoed status`, has the AC hang up and pppoed redial, then stops
// pppoed and shows that nothing was left behind.
//
// Run it with `make demo`, which boots a VM with a PPP kernel when this
// host's kernel has none. The access concentrator is Debian's pppoe-server
// (pppd per session) until pppoed's own server exists.
package main

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
	"github.com/pppoed/pppoed/status"
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
	if _, err := lab.PppoedBinary(); err != nil {
		return err
	}
	td := &lab.Teardown{}
	defer td.Close()
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
	fmt.Printf("  [access concentrator: netns %s] %s <== veth ==> %s [client: netns %s]\n\n", p.AC.Name, p.ACIf, p.ClientIf, p.Client.Name)
	fmt.Println("access concentrator: Debian's pppoe-server (pppd per session), CHAP required,")
	fmt.Println("                     service \"isp\", AC name \"demo-ac\", name server 10.64.0.53")
	srv, err := lab.StartPPPoEServer(td, p.AC, lab.ServerConfig{
		Interface: p.ACIf, Auth: lab.AuthCHAP, ServiceNames: []string{"isp"}, ACName: "demo-ac",
		Local: acAddr, PoolStart: clientAddr,
		Secrets: []lab.Secret{{User: "demo", Password: "demo-secret"}},
		DNS:     []netip.Addr{netip.MustParseAddr("10.64.0.53")},
	})
	if err != nil {
		return err
	}
	args := lab.ClientArgs(td, p.ClientIf, "demo", "demo-secret", "--service-name", "isp",
		"--add-default-route", "--use-peer-dns", "--debug", "--persist", "--name", "demo")
	fmt.Printf("client:              pppoed %s\n", strings.Join(redact(args), " "))
	start := time.Now()
	cli, err := lab.StartPppoed(td, p.Client, "ppp0", args...)
	if err != nil {
		return err
	}
	addr, err := cli.WaitUp(ctx)
	if err != nil {
		return fmt.Errorf("%w\naccess concentrator log:\n%s", err, srv.Log())
	}
	fmt.Printf("\nsession up in %.1fs (pppd takes about 3.5s against this AC: make bench)\n\n", time.Since(start).Seconds())

	fmt.Println("the exchange, from pppoed's debug log:")
	for _, m := range messages(cli.Log()) {
		if strings.HasPrefix(m, "sent ") || strings.HasPrefix(m, "rcvd ") {
			if !strings.Contains(m, "Echo") {
				fmt.Println("  " + m)
			}
		}
	}

	fmt.Println("\nthe session:")
	ss, err := lab.PPPoESessions(cli.Pid())
	if err != nil {
		return err
	}
	for _, s := range ss {
		fmt.Printf("  PPPoE session id 0x%04x on %s with the AC at %s, carried by the kernel (/proc/net/pppoe)\n", s.ID, s.Device, s.Peer)
	}
	link, err := p.Client.Link("ppp0")
	if err != nil {
		return err
	}
	fmt.Printf("  client ppp0: %s peer %s, MTU %d\n", addr.Local.Addr(), addr.Peer.Addr(), link.MTU)
	if as, err := p.Client.Addrs("ppp0", netlink.FAMILY_V6); err == nil {
		for _, a := range as {
			fmt.Printf("  client ppp0: %s peer %s (IPv6CP)\n", a.Local.Addr(), a.Peer.Addr())
		}
	}
	_ = lab.Poll(ctx, 20*time.Millisecond, func() (bool, error) {
		as, err := p.AC.Addrs("", netlink.FAMILY_V4)
		if i := slices.IndexFunc(as, func(a lab.Addr) bool { return strings.HasPrefix(a.Link, "ppp") }); i >= 0 {
			fmt.Printf("  AC     %s: %s peer %s\n", as[i].Link, as[i].Local.Addr(), as[i].Peer.Addr())
			return true, nil
		}
		return false, err
	})
	if err := printRoutes(p.Client); err != nil {
		return err
	}
	if dns, err := os.ReadFile("/etc/ppp/resolv.conf"); err == nil {
		fmt.Printf("  name servers (/etc/ppp/resolv.conf): %s\n", strings.Join(strings.Fields(string(dns)), " "))
	}

	fmt.Printf("\nping %s from the client, across the session:\n", acAddr)
	out, err := p.Client.Ping(ctx, acAddr, 3)
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		fmt.Println("  " + l)
	}
	if err != nil {
		return err
	}

	if err := showStatus(ctx, cli); err != nil {
		return err
	}
	if err := hangUp(ctx, srv, cli); err != nil {
		return err
	}

	fmt.Println("\nstopping pppoed (SIGTERM):")
	mark := len(cli.Log())
	if err := cli.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	if err := cli.Wait(ctx); err != nil {
		return fmt.Errorf("pppoed: %w", err)
	}
	for _, m := range messages(cli.Log()[mark:]) {
		if strings.Contains(m, "TermReq") || strings.Contains(m, "TermAck") || strings.Contains(m, "PADT") || strings.Contains(m, "restored") {
			fmt.Println("  " + m)
		}
	}
	fmt.Printf("  exit status %d\n", cli.ExitCode())
	links, err := p.Client.Links()
	if err != nil {
		return err
	}
	left := "nothing"
	for _, l := range links {
		if l.Kind == "ppp" {
			left = "interface " + l.Name
		}
	}
	if _, err := os.Stat("/etc/ppp/resolv.conf"); err == nil {
		left += ", /etc/ppp/resolv.conf"
	}
	fmt.Printf("  left behind in the client's namespace: %s\n", left)
	if err := printRoutes(p.Client); err != nil {
		return err
	}
	fmt.Println("\ntearing down the lab")
	return nil
}

func printRoutes(ns *lab.Netns) error {
	routes, err := ns.Routes(netlink.FAMILY_V4)
	if err != nil {
		return err
	}
	fmt.Println("  client routes:")
	if len(routes) == 0 {
		fmt.Println("    (none)")
	}
	for _, r := range routes {
		dst := r.Dst.String()
		if r.IsDefault() {
			dst = "default"
		}
		fmt.Printf("    %-16s dev %s\n", dst, r.Link)
	}
	return nil
}

// messages extracts the msg values of slog's text lines, unquoted.
func messages(log string) []string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		i := strings.Index(l, "msg=")
		if i < 0 {
			continue
		}
		rest := l[i+4:]
		if strings.HasPrefix(rest, `"`) {
			if q, err := strconv.QuotedPrefix(rest); err == nil {
				if s, err := strconv.Unquote(q); err == nil {
					msg := s
					if attrs := strings.TrimSpace(rest[len(q):]); attrs != "" && !strings.HasPrefix(msg, "sent ") && !strings.HasPrefix(msg, "rcvd ") {
						msg += " (" + attrs + ")"
					}
					out = append(out, msg)
				}
			}
			continue
		}
		msg, attrs, _ := strings.Cut(rest, " ")
		if attrs != "" {
			msg += " (" + attrs + ")"
		}
		out = append(out, msg)
	}
	return out
}

// redact hides the password file's path in what the demo prints.
func redact(args []string) []string {
	out := slices.Clone(args)
	for i := range out {
		if i > 0 && out[i-1] == "--password-file" {
			out[i] = "FILE"
		}
	}
	return out
}

// showStatus prints `pppoed status`, as a user would run it.
func showStatus(ctx context.Context, cli *lab.Pppoed) error {
	bin, err := lab.PppoedBinary()
	if err != nil {
		return err
	}
	fmt.Printf("\npppoed status --control-socket %s:\n", cli.ControlSocket)
	out, err := exec.CommandContext(ctx, bin, "status", "--control-socket", cli.ControlSocket).CombinedOutput()
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		fmt.Println("  " + l)
	}
	return err
}

// hangUp has the AC end the session (its pppd stopped: an LCP
// Terminate-Request, then the session goes) and times pppoed's redial.
func hangUp(ctx context.Context, srv *lab.PPPoEServer, cli *lab.Pppoed) error {
	pids, err := srv.Sessions()
	if err != nil || len(pids) == 0 {
		return fmt.Errorf("the AC's pppd: %v %v", pids, err)
	}
	fmt.Printf("\nthe access concentrator hangs up (SIGTERM to its pppd, pid %d):\n", pids[0])
	start := time.Now()
	if err := syscall.Kill(pids[0], syscall.SIGTERM); err != nil {
		return err
	}
	var st status.Status
	err = lab.Poll(ctx, 20*time.Millisecond, func() (bool, error) {
		st, err = status.Get(ctx, cli.ControlSocket)
		return err == nil && st.Redials >= 1 && st.State == status.StateConnected && st.LocalIPv4.IsValid(), nil
	})
	if err != nil {
		return fmt.Errorf("no redial: %w\n%s", err, cli.Log())
	}
	for _, m := range messages(cli.Log()) {
		if strings.HasPrefix(m, "client: session ended") || strings.HasPrefix(m, "client: redialling") {
			fmt.Println("  " + m)
		}
	}
	fmt.Printf("  pppoed redialled and is connected again after %.1fs: %s %s, session 0x%04x, redials %d\n",
		time.Since(start).Seconds(), st.Ifname, st.LocalIPv4, st.SessionID, st.Redials)
	return nil
}
