package integration

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/packet"
	"github.com/pppoed/pppoed/integration/lab"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// pppoed's client against Debian's pppoe-server (which runs pppd per
// session): the peer nobody here wrote.

func refServer(t *testing.T, p *lab.Pair, auth lab.Auth, more ...func(*lab.ServerConfig)) *lab.PPPoEServer {
	t.Helper()
	cfg := lab.ServerConfig{
		Interface: p.ACIf, Auth: auth, ServiceNames: []string{"isp"}, ACName: "lab-ac",
		Local: acAddr, PoolStart: clientAddr,
		Secrets: []lab.Secret{{User: "user1", Password: "pass1"}},
		DNS:     []netip.Addr{netip.MustParseAddr("10.64.0.53")},
	}
	for _, f := range more {
		f(&cfg)
	}
	return must[*lab.PPPoEServer](t)(lab.StartPPPoEServer(t, p.AC, cfg))
}

func connect(t *testing.T, p *lab.Pair, args ...string) *lab.Pppoed {
	t.Helper()
	return must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp0", lab.ClientArgs(t, p.ClientIf, "user1", "pass1", args...)...))
}

// stopClean sends SIGTERM and expects pppoed to end the session and exit 0
// within the bounded LCP termination (2 x 3 s) and some slack.
func stopClean(t *testing.T, c *lab.Pppoed) {
	t.Helper()
	if err := c.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := c.Wait(ctx); err != nil || c.ExitCode() != 0 {
		t.Fatalf("pppoed after SIGTERM: %v, status %d\n%s", err, c.ExitCode(), c.Log())
	}
}

// assertNothingLeft checks that no PPP interface, address or route of
// the session remains in ns.
func assertNothingLeft(t *testing.T, ns *lab.Netns) {
	t.Helper()
	for _, l := range must[[]lab.Link](t)(ns.Links()) {
		if l.Kind == "ppp" {
			t.Errorf("interface %s left behind", l.Name)
		}
	}
	for _, r := range must[[]lab.Route](t)(ns.Routes(netlink.FAMILY_ALL)) {
		if strings.HasPrefix(r.Link, "ppp") {
			t.Errorf("route %+v left behind", r)
		}
	}
}

// waitSessionsGone waits for the AC's per-session pppd to exit.
func waitSessionsGone(t *testing.T, srv *lab.PPPoEServer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := lab.Poll(ctx, 50*time.Millisecond, func() (bool, error) {
		s, err := srv.Sessions()
		return len(s) == 0, err
	})
	if err != nil {
		t.Errorf("the AC's session pppd is still running: %v\n%s", err, srv.Log())
	}
}

func TestConnect(t *testing.T) {
	lab.Require(t)
	for _, auth := range []lab.Auth{lab.AuthPAP, lab.AuthCHAP, lab.AuthMSCHAPv2} {
		t.Run(string(auth), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
			srv := refServer(t, p, auth)
			start := time.Now()
			cli := connect(t, p)
			got, err := cli.WaitUp(ctx)
			if err != nil {
				t.Fatalf("%v\nserver:\n%s", err, srv.Log())
			}
			t.Logf("up in %s", time.Since(start).Round(time.Millisecond))
			if got.Local != netip.PrefixFrom(clientAddr, 32) || got.Peer != netip.PrefixFrom(acAddr, 32) {
				t.Errorf("ppp0 %s peer %s", got.Local, got.Peer)
			}
			if l := must[lab.Link](t)(p.Client.Link("ppp0")); l.MTU != 1492 || !l.Up {
				t.Errorf("ppp0 %+v", l)
			}
			// IPv6CP: a link-local pair, without DAD (usable at once).
			err = lab.Poll(ctx, 20*time.Millisecond, func() (bool, error) {
				as, err := p.Client.Addrs("ppp0", netlink.FAMILY_V6)
				return len(as) == 1 && as[0].Local.Addr().IsLinkLocalUnicast() && as[0].Peer.Addr().IsLinkLocalUnicast(), err
			})
			if err != nil {
				t.Errorf("no IPv6 link-local pair on ppp0: %v", err)
			}
			// The kernel carries the session.
			ss := must[[]lab.PPPoESession](t)(lab.PPPoESessions(cli.Pid()))
			if len(ss) != 1 || ss[0].ID != 1 || ss[0].Device != p.ClientIf {
				t.Errorf("kernel sessions %+v", ss)
			}
			if _, err := p.Client.Ping(ctx, acAddr, 2); err != nil {
				t.Error(err)
			}
			stopClean(t, cli)
			assertNothingLeft(t, p.Client)
			waitSessionsGone(t, srv)
			if !strings.Contains(cli.Log(), "PADT sent") {
				t.Errorf("no PADT sent:\n%s", cli.Log())
			}
		})
	}
}

// An interface that is down is refused at once, clearly (status 7).
func TestConnectInterfaceDown(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	must[string](t)(p.Client.Run(ctx, "ip", "link", "set", p.ClientIf, "down"))
	cli := connect(t, p)
	cli.Wait(ctx)
	if cli.ExitCode() != 7 || !strings.Contains(cli.Log(), "interface "+p.ClientIf+" is down") {
		t.Errorf("exit %d\n%s", cli.ExitCode(), cli.Log())
	}
}

func TestConnectWrongPassword(t *testing.T) {
	lab.Require(t)
	for _, auth := range []lab.Auth{lab.AuthPAP, lab.AuthCHAP, lab.AuthMSCHAPv2} {
		t.Run(string(auth), func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
			srv := refServer(t, p, auth)
			cli := must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp0", lab.ClientArgs(t, p.ClientIf, "user1", "WRONG-pw")...))
			cli.Wait(ctx)
			if cli.ExitCode() != 19 {
				t.Fatalf("exit status %d, want 19 (authentication to the peer failed)\n%s", cli.ExitCode(), cli.Log())
			}
			if !strings.Contains(cli.Log(), "authentication failed") {
				t.Errorf("the log does not say authentication failed:\n%s", cli.Log())
			}
			if strings.Contains(cli.Log(), "WRONG-pw") {
				t.Error("the password is in the log")
			}
			assertNothingLeft(t, p.Client)
			waitSessionsGone(t, srv)
		})
	}
}

// twoACs puts a second pppoe-server on a macvlan of the AC's link, with
// its own MAC, service, name and addresses.
func twoACs(t *testing.T) (p *lab.Pair, macOne, macTwo net.HardwareAddr) {
	t.Helper()
	p = must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	macTwo = must[net.HardwareAddr](t)(p.AC.AddMacvlan(p.ACIf, "mv0"))
	macOne = must[lab.Link](t)(p.AC.Link(p.ACIf)).MAC
	refServer(t, p, lab.AuthCHAP, func(c *lab.ServerConfig) { c.ServiceNames, c.ACName = []string{"isp"}, "ac-one" })
	refServer(t, p, lab.AuthCHAP, func(c *lab.ServerConfig) {
		c.Interface, c.ServiceNames, c.ACName = "mv0", []string{"voip", "tv"}, "ac-two"
		c.Local, c.PoolStart = netip.MustParseAddr("10.65.0.1"), netip.MustParseAddr("10.65.0.2")
	})
	return p, macOne, macTwo
}

func TestConnectSelection(t *testing.T) {
	lab.Require(t)
	p, macOne, macTwo := twoACs(t)
	tests := []struct {
		name string
		args []string
		peer string
	}{
		{"service-name", []string{"--service-name", "voip"}, "10.65.0.1"},
		{"ac-name", []string{"--ac-name", "ac-one"}, "10.64.0.1"},
		{"ac-mac two", []string{"--ac-mac", macTwo.String()}, "10.65.0.1"},
		{"ac-mac one", []string{"--ac-mac", macOne.String()}, "10.64.0.1"},
		{"service and name", []string{"--service-name", "tv", "--ac-name", "ac-two"}, "10.65.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			cli := connect(t, p, append(tt.args, "--no-ipv6")...)
			got, err := cli.WaitUp(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got.Peer.Addr().String() != tt.peer {
				t.Errorf("connected to %s, want the AC at %s", got.Peer, tt.peer)
			}
			stopClean(t, cli)
		})
	}
	t.Run("no match", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		cli := connect(t, p, "--service-name", "voip", "--ac-name", "ac-one", "--padi-timeout", "500ms", "--padi-attempts", "2")
		cli.Wait(ctx)
		if cli.ExitCode() != 8 || !strings.Contains(cli.Log(), "no access concentrator answered after 2 PADIs") || !strings.Contains(cli.Log(), "did not match") {
			t.Errorf("exit %d\n%s", cli.ExitCode(), cli.Log())
		}
		assertNothingLeft(t, p.Client)
	})
}

func TestDiscoverCommand(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p, macOne, macTwo := twoACs(t)
	bin := must[string](t)(lab.PppoedBinary())
	out, err := p.Client.Run(ctx, bin, "discover", "--interface", p.ClientIf, "--json")
	if err != nil {
		t.Fatal(err)
	}
	var acs []struct {
		MAC      string   `json:"mac"`
		Name     string   `json:"ac_name"`
		Services []string `json:"services"`
		Cookie   string   `json:"cookie"`
	}
	if err := json.Unmarshal([]byte(out), &acs); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	found := map[string]string{}
	for _, a := range acs {
		found[a.MAC] = a.Name + " " + strings.Join(a.Services, ",")
		if a.Cookie == "" {
			t.Errorf("%s: no cookie", a.MAC)
		}
	}
	if found[macOne.String()] != "ac-one isp" || found[macTwo.String()] != "ac-two voip,tv" {
		t.Errorf("discover --json: %v\n%s", found, out)
	}
	table, err := p.Client.Run(ctx, bin, "discover", "-i", p.ClientIf)
	if err != nil || !strings.Contains(table, "ac-two") || !strings.Contains(table, "voip,tv") || !strings.HasPrefix(table, "MAC") {
		t.Errorf("discover table: %v\n%s", err, table)
	}
}

func TestConnectRoutesAndDNS(t *testing.T) {
	lab.Require(t)
	tests := []struct {
		name     string
		args     []string
		existing bool     // a default route via the Ethernet side first
		during   []string // default routes while up: "dev metric"
	}{
		{"add", []string{"--add-default-route"}, false, []string{"ppp0 0"}},
		{"replace", []string{"--replace-default-route"}, true, []string{"ppp0 0"}},
		{"metric", []string{"--default-route-metric", "50"}, true, []string{"ETH 0", "ppp0 50"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
			refServer(t, p, lab.AuthCHAP)
			if tt.existing {
				must[string](t)(p.Client.Run(ctx, "ip", "addr", "add", "192.0.2.10/24", "dev", p.ClientIf))
				must[string](t)(p.Client.Run(ctx, "ip", "route", "add", "default", "via", "192.0.2.1"))
			}
			resolv := filepath.Join(t.TempDir(), "resolv.conf")
			cli := connect(t, p, append(tt.args, "--use-peer-dns", "--resolv-conf", resolv, "--no-ipv6")...)
			if _, err := cli.WaitUp(ctx); err != nil {
				t.Fatal(err)
			}
			want := strings.ReplaceAll(strings.Join(tt.during, ","), "ETH", p.ClientIf)
			if got := defaults(t, p.Client); got != want {
				t.Errorf("default routes while up: %s, want %s\n%s", got, want, cli.Log())
			}
			if b, err := os.ReadFile(resolv); err != nil || string(b) != "nameserver 10.64.0.53\nnameserver 10.64.0.53\n" {
				t.Errorf("resolv.conf %q, %v", b, err)
			}
			stopClean(t, cli)
			wantAfter := ""
			if tt.existing {
				wantAfter = p.ClientIf + " 0"
			}
			if got := defaults(t, p.Client); got != wantAfter {
				t.Errorf("default routes after: %q, want %q", got, wantAfter)
			}
			if _, err := os.Stat(resolv); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("resolv.conf left behind")
			}
			assertNothingLeft(t, p.Client)
		})
	}
}

func defaults(t *testing.T, ns *lab.Netns) string {
	t.Helper()
	var out []string
	for _, r := range must[[]lab.Route](t)(ns.Routes(netlink.FAMILY_V4)) {
		if r.IsDefault() {
			out = append(out, r.Link+" "+strconv.Itoa(r.Metric))
		}
	}
	return strings.Join(out, ",")
}

// A TCP transfer crosses the kernel's data path (iperf3, 3 s).
func TestConnectTraffic(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	refServer(t, p, lab.AuthCHAP)
	cli := connect(t, p, "--no-ipv6")
	if _, err := cli.WaitUp(ctx); err != nil {
		t.Fatal(err)
	}
	iperf3Server(t, ctx, p, acAddr)
	res := iperf3Client(t, ctx, p, acAddr, 3)
	t.Logf("iperf3 over PPPoE: %.1f Mbit/s", res.bitsPerSecond/1e6)
	if res.bytes < 1e6 {
		t.Errorf("only %.0f bytes crossed", res.bytes)
	}
	stopClean(t, cli)
}

// The AC going away (pppoe-server stopped: its session pppd terminates the
// link, its pppoe sends PADT) ends pppoed with status 16, like pppd.
func TestConnectACStops(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	srv := refServer(t, p, lab.AuthCHAP)
	cli := connect(t, p)
	if _, err := cli.WaitUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	cli.Wait(ctx)
	if cli.ExitCode() != 16 {
		t.Fatalf("exit status %d, want 16\n%s", cli.ExitCode(), cli.Log())
	}
	if !strings.Contains(cli.Log(), "the access concentrator sent PADT") && !strings.Contains(cli.Log(), "terminated by peer") {
		t.Errorf("the log does not say the AC ended it:\n%s", cli.Log())
	}
	if strings.Contains(cli.Log(), "PADT sent") {
		t.Errorf("a PADT went back for a session the AC had ended:\n%s", cli.Log())
	}
	assertNothingLeft(t, p.Client)
}

// RFC 4638 asked for, on an Ethernet MTU of 1508, but the AC's own
// interface stays at 1500, so pppoe-server does not grant PPP-Max-Payload
// (with 1508 it does: see TestConnectRFC4638's note): the MTU stays 1492
// and the log says why.
func TestConnectMTUFallback(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{MTU: 1508, ACMTU: 1500}))
	refServer(t, p, lab.AuthCHAP)
	cli := connect(t, p, "--mtu", "1500", "--mru", "1500", "--no-ipv6", "--debug")
	if _, err := cli.WaitUp(ctx); err != nil {
		t.Fatal(err)
	}
	if l := must[lab.Link](t)(p.Client.Link("ppp0")); l.MTU != 1492 {
		t.Errorf("ppp0 MTU %d, want 1492\n%s", l.MTU, cli.Log())
	}
	if !strings.Contains(cli.Log(), "did not echo PPP-Max-Payload") {
		t.Errorf("no explanation in the log:\n%s", cli.Log())
	}
	stopClean(t, cli)
}

// A PPP unit passes every protocol until told otherwise: with --no-ipv6,
// or an AC refusing IPv6CP, IPv6 would cross the link once IPv4 brought it
// up. pppoed shuts every protocol at connect and passes only what was
// negotiated, so IPv6 sent out of ppp0 is dropped by the kernel (counted
// in tx_dropped) and never reaches the AC's unit.
func TestConnectIPv6Dropped(t *testing.T) {
	lab.Require(t)
	tests := []struct {
		name   string
		args   []string // pppoed's
		acOpts []string // the AC's pppd's
	}{
		{"no-ipv6", []string{"--no-ipv6"}, nil},
		{"AC refuses IPv6CP", nil, []string{"noipv6"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
			refServer(t, p, lab.AuthCHAP, func(c *lab.ServerConfig) { c.PPPDOptions = tt.acOpts })
			cli := connect(t, p, tt.args...)
			if _, err := cli.WaitUp(ctx); err != nil {
				t.Fatal(err)
			}
			// IPv4 crosses: the AC's side is up too.
			if err := lab.Poll(ctx, 20*time.Millisecond, func() (bool, error) {
				_, err := p.Client.Ping(ctx, acAddr, 1)
				return err == nil, nil
			}); err != nil {
				t.Fatal(err)
			}
			acPPP := ""
			for _, l := range must[[]lab.Link](t)(p.AC.Links()) {
				if l.Kind == "ppp" {
					acPPP = l.Name
				}
			}
			heard := listenIPv6(t, p.AC, acPPP)
			before := must[lab.Link](t)(p.Client.Link("ppp0"))
			const n = 3
			sendIPv6(t, p.Client, "ppp0", n)
			var after lab.Link
			pollCtx, cancelPoll := context.WithTimeout(ctx, 10*time.Second)
			defer cancelPoll()
			err := lab.Poll(pollCtx, 10*time.Millisecond, func() (bool, error) {
				l, err := p.Client.Link("ppp0")
				after = l
				return l.TxDropped-before.TxDropped >= n, err
			})
			if err != nil {
				t.Errorf("ppp0 dropped %d of the %d IPv6 packets sent (tx_packets %d -> %d)\n%s",
					after.TxDropped-before.TxDropped, n, before.TxPackets, after.TxPackets, cli.Log())
			}
			if sent := after.TxPackets - before.TxPackets; sent != 0 {
				t.Errorf("ppp0 sent %d packets", sent)
			}
			heard.SetReadDeadline(time.Now().Add(time.Second))
			if _, _, err := heard.ReadFrom(make([]byte, 1500)); err == nil {
				t.Errorf("the AC's %s received IPv6", acPPP)
			}
			stopClean(t, cli)
			assertNothingLeft(t, p.Client)
		})
	}
}

// ipv6Packet is an IPv6 header with nothing after it.
var ipv6Packet = []byte{
	0x60, 0x00, 0x00, 0x00, // version 6, traffic class 0, flow label 0
	0x00, 0x00, // payload length 0
	59,                                                   // next header: none (RFC 8200 §4.7)
	64,                                                   // hop limit
	0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // source fe80::1
	0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, // destination ff02::1
}

// sendIPv6 writes n IPv6 packets to ifname in ns through a packet socket,
// below the IPv6 stack (which has no address on the link to send from).
func sendIPv6(t *testing.T, ns *lab.Netns, ifname string, n int) {
	t.Helper()
	err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		c, err := packet.Listen(ifi, packet.Datagram, unix.ETH_P_IPV6, nil)
		if err != nil {
			return err
		}
		defer c.Close()
		for range n {
			// pppN has no link-layer address: an empty one.
			if _, err := c.WriteTo(ipv6Packet, &packet.Addr{HardwareAddr: net.HardwareAddr{}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// listenIPv6 opens a packet socket for IPv6 on ifname in ns.
func listenIPv6(t *testing.T, ns *lab.Netns, ifname string) *packet.Conn {
	t.Helper()
	var c *packet.Conn
	err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		c, err = packet.Listen(ifi, packet.Datagram, unix.ETH_P_IPV6, nil)
		return err
	})
	if err != nil {
		t.Fatalf("listening on %s: %v", ifname, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// --raise-parent-mtu beside another PPPoE session on the interface: any
// MTU change makes the kernel drop every session on it, so pppoed refuses
// to start (status 7, one line naming the interface and the sessions)
// and the session already there carries on.
func TestConnectRaiseParentMTUBesideSession(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{MTU: 1500, ACMTU: 1508}))
	refServer(t, p, lab.AuthCHAP)
	first := connect(t, p, "--no-ipv6")
	if _, err := first.WaitUp(ctx); err != nil {
		t.Fatal(err)
	}
	second := must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp1", lab.ClientArgs(t, p.ClientIf, "user1", "pass1",
		"--ifname", "ppp1", "--mtu", "1500", "--mru", "1500", "--raise-parent-mtu", "--no-ipv6")...))
	second.Wait(ctx)
	want := "--raise-parent-mtu would change the MTU of " + p.ClientIf + " from 1500 to 1508, and the kernel would drop the PPPoE sessions already on " + p.ClientIf + " (1)"
	if second.ExitCode() != 7 || !strings.Contains(second.Log(), want) {
		t.Errorf("the second pppoed: status %d, want 7 and %q\n%s", second.ExitCode(), want, second.Log())
	}
	if l := must[lab.Link](t)(p.Client.Link(p.ClientIf)); l.MTU != 1500 {
		t.Errorf("Ethernet MTU %d, want 1500 untouched", l.MTU)
	}
	if ss := must[[]lab.PPPoESession](t)(lab.PPPoESessions(first.Pid())); len(ss) != 1 {
		t.Errorf("kernel sessions %+v, want the first one", ss)
	}
	if _, err := p.Client.Ping(ctx, acAddr, 1); err != nil {
		t.Errorf("the first session: %v", err)
	}
	stopClean(t, first)
	assertNothingLeft(t, p.Client)
}

// --add-default-route beside a default route of the same metric: as pppd,
// pppoed leaves that route alone, says so, and keeps the session up (it
// used to exit 1, which systemd turned into a restart loop); at the end
// the old route is still there and nothing of ours is.
func TestConnectDefaultRouteExists(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	refServer(t, p, lab.AuthCHAP)
	must[string](t)(p.Client.Run(ctx, "ip", "addr", "add", "192.0.2.10/24", "dev", p.ClientIf))
	must[string](t)(p.Client.Run(ctx, "ip", "route", "add", "default", "via", "192.0.2.1"))
	old := must[[]lab.Route](t)(p.Client.Routes(netlink.FAMILY_V4))
	cli := connect(t, p, "--add-default-route", "--no-ipv6")
	if _, err := cli.WaitUp(ctx); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(cli.Log(), "not replacing existing default route via 192.0.2.1 dev "+p.ClientIf+" with metric 0") {
		t.Errorf("no word of the existing route:\n%s", cli.Log())
	}
	if got := defaults(t, p.Client); got != p.ClientIf+" 0" {
		t.Errorf("default routes while up: %s, want only the existing one", got)
	}
	// Up, and staying up.
	if _, err := p.Client.Ping(ctx, acAddr, 2); err != nil {
		t.Error(err)
	}
	if cli.Exited() {
		t.Fatalf("pppoed exited with status %d\n%s", cli.ExitCode(), cli.Log())
	}
	stopClean(t, cli)
	var ethRoutes []lab.Route
	for _, r := range must[[]lab.Route](t)(p.Client.Routes(netlink.FAMILY_V4)) {
		if r.Link == p.ClientIf {
			ethRoutes = append(ethRoutes, r)
		}
	}
	if len(ethRoutes) != len(old) || !slices.Equal(ethRoutes, old) {
		t.Errorf("routes after: %+v, want the ones before: %+v", ethRoutes, old)
	}
	assertNothingLeft(t, p.Client)
}
