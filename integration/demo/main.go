// Command demo builds a small PPPoE lab and shows a live session on it,
// pppoed on both ends: `pppoed server` (the access concentrator) in one
// network namespace, `pppoed connect` in another, a veth pair between
// them. It shows the control exchange, the session (its PPPoE id,
// addresses, routes, name servers) from both ends, pings across it, shows
// `pppoed status` and `pppoed server status`, has the AC hang up (`pppoed
// server kick`) and pppoed redial, then stops pppoed and the server and
// shows that nothing was left behind on either side.
//
// Run it with `make demo`, which boots a VM with a PPP kernel when this
// host's kernel has none.
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
	"github.com/pppoed/pppoed/server"
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
	acCfg := lab.ACConfig{
		ACName: "demo-ac", Auth: []string{"chap"},
		Interfaces: []lab.ACInterface{{Name: p.ACIf, ServiceNames: []string{"isp"}}},
		Pools:      []lab.ACPool{{Name: "clients", Ranges: []string{clientAddr.String() + "-10.64.0.254"}}},
		Profiles: []lab.ACProfile{{Name: "default", LocalAddress: acAddr.String(), RemotePool: "clients",
			DNS: []string{"10.64.0.53"}}},
		Users: []lab.ACUser{{Name: "demo", Password: "demo-secret"}},
	}
	srv, err := lab.StartPppoedServer(td, p.AC, acCfg)
	if err != nil {
		return err
	}
	fmt.Printf("access concentrator: pppoed server --config %s\n", srv.ConfigPath)
	if err := printConfig(srv.ConfigPath); err != nil {
		return err
	}
	args := lab.ClientArgs(td, p.ClientIf, "demo", "demo-secret", "--service-name", "isp",
		"--add-default-route", "--use-peer-dns", "--debug", "--persist", "--name", "demo")
	fmt.Printf("\nclient:              pppoed %s\n", strings.Join(redact(args), " "))
	start := time.Now()
	cli, err := lab.StartPppoed(td, p.Client, "ppp0", args...)
	if err != nil {
		return err
	}
	addr, err := cli.WaitUp(ctx)
	if err != nil {
		return fmt.Errorf("%w\naccess concentrator log:\n%s", err, srv.Log())
	}
	fmt.Printf("\nsession up in %.1fs\n\n", time.Since(start).Seconds())

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
	acSt, err := srv.WaitSessions(ctx, 1)
	if err != nil {
		return err
	}
	acIf := acSt.Sessions[0].Ifname
	if as, err := p.AC.Addrs(acIf, netlink.FAMILY_V4); err == nil && len(as) > 0 {
		l, _ := p.AC.Link(acIf)
		fmt.Printf("  AC     %s: %s peer %s, MTU %d\n", acIf, as[0].Local.Addr(), as[0].Peer.Addr(), l.MTU)
	}
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
	if err := showServerStatus(ctx, srv); err != nil {
		return err
	}
	fmt.Println("\nthe access concentrator's log of the session:")
	for _, m := range messages(srv.Log()) {
		if strings.HasPrefix(m, "server: ") {
			fmt.Println("  " + m)
		}
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

	fmt.Println("\nstopping pppoed server (SIGTERM):")
	if st, err := srv.WaitStatus(ctx, "no session", func(st server.Status) bool { return len(st.Sessions) == 0 }); err == nil {
		c := st.Counters
		fmt.Printf("  before: no session; %d PADIs answered, %d sessions started, %d authentication failures\n",
			c.PADIsAnswered, c.SessionsStarted, c.AuthFailures)
	}
	if err := srv.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	if err := srv.Wait(ctx); err != nil {
		return fmt.Errorf("pppoed server: %w", err)
	}
	fmt.Printf("  exit status %d\n", srv.ExitCode())
	acLinks, err := p.AC.PPPLinks()
	if err != nil {
		return err
	}
	left = "nothing"
	if len(acLinks) > 0 {
		left = fmt.Sprint(acLinks)
	}
	if _, err := os.Stat(srv.ControlSocket); err == nil {
		left += ", its control socket"
	}
	fmt.Printf("  left behind in the AC's namespace: %s\n", left)
	fmt.Println("\ntearing down the lab")
	return nil
}

// printConfig prints the server's file, its passwords hidden.
func printConfig(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if strings.HasPrefix(l, "#") {
			continue
		}
		if k, _, ok := strings.Cut(strings.TrimSpace(l), " = "); ok && k == "password" {
			l = strings.Replace(l, strings.TrimSpace(l), `password = "..."`, 1)
		}
		fmt.Println("  " + l)
	}
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

// hangUp has the AC end the session (`pppoed server kick demo`: an LCP
// Terminate-Request, then a PADT) and times pppoed's redial.
func hangUp(ctx context.Context, srv *lab.PppoedServer, cli *lab.Pppoed) error {
	fmt.Printf("\nthe access concentrator hangs up (pppoed server kick demo --socket %s):\n", srv.ControlSocket)
	start := time.Now()
	if err := srv.Kick(ctx, "demo"); err != nil {
		return err
	}
	var st status.Status
	var err error
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

// showServerStatus prints `pppoed server status`, as an operator would
// run it.
func showServerStatus(ctx context.Context, srv *lab.PppoedServer) error {
	bin, err := lab.PppoedBinary()
	if err != nil {
		return err
	}
	fmt.Printf("\npppoed server status --socket %s:\n", srv.ControlSocket)
	out, err := exec.CommandContext(ctx, bin, "server", "status", "--socket", srv.ControlSocket).CombinedOutput()
	for _, l := range strings.Split(strings.TrimRight(string(out), "\n"), "\n") {
		fmt.Println("  " + l)
	}
	return err
}
