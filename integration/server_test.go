package integration

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/packet"
	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/integration/lab"
	"github.com/pppoed/pppoed/server"
	"github.com/vishvananda/netlink"
)

// pppoed server, the access concentrator, against the reference client
// (pppd with rp-pppoe.so), against pppoed's own client, and against
// hostile stations written here (a PADI flooder, forged PADRs and PADTs).
// The AC is watched through its control socket (`pppoed server status
// --json`), netlink in its namespace and its process's /proc.

var (
	srvLocal = netip.MustParseAddr("10.70.0.1")
	srvDNS   = netip.MustParseAddr("10.70.0.53")
)

// acConfig is a one-interface AC offering every method, preferred
// first, with a pool of 10.70.0.10-10.70.0.250 and users.
func acConfig(p *lab.Pair, users ...lab.ACUser) lab.ACConfig {
	return lab.ACConfig{
		ACName:     "lab-goac",
		Auth:       []string{"mschap2", "chap", "mschap1", "pap"},
		Interfaces: []lab.ACInterface{{Name: p.ACIf}},
		Pools:      []lab.ACPool{{Name: "clients", Ranges: []string{"10.70.0.10-10.70.0.250"}}},
		Profiles: []lab.ACProfile{{
			Name: "default", LocalAddress: srvLocal.String(), RemotePool: "clients", DNS: []string{srvDNS.String()},
		}},
		Users: users,
	}
}

// startAC starts pppoed server with --debug (the packet dumps are what a
// failing test is read by).
func startAC(t *testing.T, p *lab.Pair, cfg lab.ACConfig) *lab.PppoedServer {
	t.Helper()
	return startACFlags(t, p, cfg, "--debug")
}

func startACFlags(t *testing.T, p *lab.Pair, cfg lab.ACConfig, flags ...string) *lab.PppoedServer {
	t.Helper()
	srv := must[*lab.PppoedServer](t)(lab.StartPppoedServer(t, p.AC, cfg, flags...))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pppoed server log:\n%s", lastLines(srv.Log(), 150))
		}
	})
	return srv
}

// logLine is the first line of log that holds substr.
func logLine(log, substr string) string {
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, substr) {
			return l
		}
	}
	return ""
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// pppdAuth are the refuse-* options that leave pppd (as the
// authenticatee) one method, and what its LCP Configure-Ack of the AC's
// Authentication-Protocol option then shows.
var pppdAuth = []struct {
	name    string
	refuse  []string
	ackShow string
}{
	{"pap", []string{"refuse-chap", "refuse-mschap", "refuse-mschap-v2", "refuse-eap"}, "<auth pap>"},
	{"chap", []string{"refuse-pap", "refuse-mschap", "refuse-mschap-v2", "refuse-eap"}, "<auth chap MD5>"},
	{"mschap2", []string{"refuse-pap", "refuse-chap", "refuse-mschap", "refuse-eap"}, "<auth chap MS-v2>"},
}

// ackedAuth is the Authentication-Protocol of the last LCP Configure-Ack
// a peer sent, from its packet dump (pppd's and pppoed's share the form).
func ackedAuth(log string) string {
	got := ""
	for _, l := range strings.Split(log, "\n") {
		i := strings.Index(l, "sent [LCP ConfAck")
		if i < 0 {
			continue
		}
		rest := l[i:]
		if j := strings.Index(rest, "<auth "); j >= 0 {
			if k := strings.IndexByte(rest[j:], '>'); k >= 0 {
				got = rest[j : j+k+1]
			}
		}
	}
	return got
}

func startPPPD(t *testing.T, ns *lab.Netns, iface, user, password string, opts ...string) *lab.PPPD {
	t.Helper()
	c := must[*lab.PPPD](t)(lab.StartPPPD(t, ns, lab.PPPDConfig{Interface: iface, User: user, Password: password, Options: opts}))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pppd %s log:\n%s", c.Ifname, lastLines(c.Log(), 60))
		}
	})
	return c
}

// station adds a macvlan named name on the client's link: another host,
// with a MAC of its own.
func station(t *testing.T, p *lab.Pair, name string) string {
	t.Helper()
	must[net.HardwareAddr](t)(p.Client.AddMacvlan(p.ClientIf, name))
	return name
}

// waitExit waits for a client to end by itself.
func waitExit(t *testing.T, ctx context.Context, p *lab.Process, why string) {
	t.Helper()
	if err := p.Wait(ctx); err != nil && !p.Exited() {
		t.Fatalf("%s: %s did not end: %v\n%s", why, p.Name, err, lastLines(p.Log(), 40))
	}
}

// sessionOf returns the session of st whose remote address is a.
func sessionOf(st server.Status, a netip.Addr) (server.SessionStatus, bool) {
	i := slices.IndexFunc(st.Sessions, func(s server.SessionStatus) bool { return s.Remote == a })
	if i < 0 {
		return server.SessionStatus{}, false
	}
	return st.Sessions[i], true
}

// checkACSide checks the AC's pppN of session ss: our address with the
// client's as its peer, MTU mtu, and the route to the client through it.
func checkACSide(t *testing.T, p *lab.Pair, ss server.SessionStatus, client netip.Addr, mtu int) {
	t.Helper()
	as, err := p.AC.Addrs(ss.Ifname, netlink.FAMILY_V4)
	if err != nil || len(as) != 1 || as[0].Local.Addr() != srvLocal || as[0].Peer.Addr() != client {
		t.Errorf("AC %s addresses %+v (%v), want %s peer %s", ss.Ifname, as, err, srvLocal, client)
	}
	l, err := p.AC.Link(ss.Ifname)
	if err != nil || !l.Up || l.Kind != "ppp" || l.MTU != mtu {
		t.Errorf("AC %s: %+v (%v), want a ppp link up with MTU %d", ss.Ifname, l, err, mtu)
	}
	routes := must[[]lab.Route](t)(p.AC.Routes(netlink.FAMILY_V4))
	if !slices.ContainsFunc(routes, func(r lab.Route) bool {
		return r.Dst == netip.PrefixFrom(client, 32) && r.Link == ss.Ifname
	}) {
		t.Errorf("AC: no route to %s via %s: %+v", client, ss.Ifname, routes)
	}
}

// waitACEmpty waits until the AC has no session and no PPP interface.
func waitACEmpty(t *testing.T, ctx context.Context, p *lab.Pair, srv *lab.PppoedServer) server.Status {
	t.Helper()
	st, err := srv.WaitStatus(ctx, "no session", func(st server.Status) bool { return len(st.Sessions) == 0 })
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AC.WaitNoPPP(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

// 1. The reference client with each method: the AC's auth list decides
// (pppd requires nothing of the AC and refuses all but one method), the
// client gets a pool address and the AC's name server, pings the AC, the
// AC's pppN carries the route to it; once pppd stops, nothing is left on
// the AC.
func TestServerPPPD(t *testing.T) {
	lab.Require(t)
	for _, m := range pppdAuth {
		t.Run(m.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
			user := "srv-" + m.name
			srv := startAC(t, p, acConfig(p, lab.ACUser{Name: user, Password: "pw-" + m.name}))
			cli := startPPPD(t, p.Client, p.ClientIf, user, "pw-"+m.name, append([]string{"usepeerdns"}, m.refuse...)...)
			got, err := cli.WaitUp(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got.Peer.Addr() != srvLocal {
				t.Errorf("pppd's peer %s, want %s", got.Peer, srvLocal)
			}
			if a := ackedAuth(cli.Log()); a != m.ackShow {
				t.Errorf("pppd acked %q, want %q", a, m.ackShow)
			}
			if _, err := p.Client.Ping(ctx, srvLocal, 2); err != nil {
				t.Error(err)
			}
			st := must[server.Status](t)(srv.WaitSessions(ctx, 1))
			ss := st.Sessions[0]
			mac := must[net.HardwareAddr](t)(p.Client.MAC(p.ClientIf))
			if ss.User != user || ss.Remote != got.Local.Addr() || ss.Local != srvLocal || ss.MAC != mac.String() ||
				ss.Interface != p.ACIf || ss.State != "up" || ss.SessionID == 0 || ss.SessionID == 0xffff {
				t.Errorf("status %+v, want user %s, remote %s, MAC %s on %s, up", ss, user, got.Local.Addr(), mac, p.ACIf)
			}
			checkACSide(t, p, ss, got.Local.Addr(), 1492)
			// The name server the profile hands out (RFC 1877): pppd's
			// usepeerdns logs it.
			if !strings.Contains(cli.Log(), "primary   DNS address "+srvDNS.String()) {
				t.Errorf("pppd got no DNS %s", srvDNS)
			}
			if err := cli.Stop(10 * time.Second); err != nil {
				t.Fatal(err)
			}
			st = waitACEmpty(t, ctx, p, srv)
			if st.Counters.SessionsStarted != 1 || st.Counters.SessionsUp != 1 || st.Counters.AuthFailures != 0 {
				t.Errorf("counters %+v", st.Counters)
			}
			// pppd's Terminate-Request ended it (Debian's pppd 2.4.9 sends
			// no PADT of its own: the AC's PADT closes the session).
			// (The line follows the session's removal from the status.)
			if err := srv.WaitLog(ctx, `msg="server: session ended"`); err != nil {
				t.Fatal(err)
			}
			if l := logLine(srv.Log(), `msg="server: session ended"`); !strings.Contains(l, `reason="terminated by peer"`) {
				t.Errorf("the AC logged %q, want the end by the peer", l)
			}
		})
	}
}

// 2. RFC 4638 with the reference client: pppd asks for 1500 over 1508-octet
// Ethernet, the AC (max-mtu/max-mru 1500) echoes PPP-Max-Payload, both
// pppN run at 1500 and a 1500-octet packet with DF set crosses both ways.
func TestServerPPPDRFC4638(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{MTU: 1508}))
	cfg := acConfig(p, lab.ACUser{Name: "srv-4638", Password: "pw-4638"})
	cfg.MaxMTU, cfg.MaxMRU = 1500, 1500
	srv := startAC(t, p, cfg)
	cli := startPPPD(t, p.Client, p.ClientIf, "srv-4638", "pw-4638", "mtu", "1500", "mru", "1500")
	got, err := cli.WaitUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if l := must[lab.Link](t)(p.Client.Link(cli.Ifname)); l.MTU != 1500 {
		t.Errorf("pppd's %s MTU %d, want 1500", cli.Ifname, l.MTU)
	}
	st := must[server.Status](t)(srv.WaitSessions(ctx, 1))
	checkACSide(t, p, st.Sessions[0], got.Local.Addr(), 1500)
	fullSizeDF(t, ctx, p, got.Local.Addr())
}

// fullSizeDF sends 1500-octet IP packets with DF set across the session,
// both ways, and checks that 1501 octets are refused (so the DF ping can
// fail: the MTU is what let 1500 through).
func fullSizeDF(t *testing.T, ctx context.Context, p *lab.Pair, client netip.Addr) {
	t.Helper()
	if err := p.Client.PingDF(ctx, srvLocal, 1472); err != nil {
		t.Errorf("client to AC: %v", err)
	}
	if err := p.AC.PingDF(ctx, client, 1472); err != nil {
		t.Errorf("AC to client: %v", err)
	}
	if err := p.Client.PingDF(ctx, srvLocal, 1473); err == nil || !strings.Contains(err.Error(), "message too long") {
		t.Errorf("a 1501-octet packet with DF: %v, want EMSGSIZE", err)
	}
}

// 3. pppoed's client against pppoed server with each method (the client
// allows one with --auth; the AC offers all four), then RFC 4638.
func TestServerPppoedClient(t *testing.T) {
	lab.Require(t)
	for _, m := range []struct{ auth, ackShow string }{
		{"pap", "<auth pap>"}, {"chap", "<auth chap MD5>"}, {"mschap1", "<auth chap MS>"}, {"mschap2", "<auth chap MS-v2>"},
	} {
		t.Run(m.auth, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
			user := "srvgo-" + m.auth
			srv := startAC(t, p, acConfig(p, lab.ACUser{Name: user, Password: "pw"}))
			cli := must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp0",
				lab.ClientArgs(t, p.ClientIf, user, "pw", "--auth", m.auth, "--ifname", "ppp0", "--debug")...))
			got, err := cli.WaitUp(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if got.Peer.Addr() != srvLocal {
				t.Errorf("peer %s, want %s", got.Peer, srvLocal)
			}
			if a := ackedAuth(cli.Log()); a != m.ackShow {
				t.Errorf("pppoed acked %q, want %q", a, m.ackShow)
			}
			if _, err := p.Client.Ping(ctx, srvLocal, 2); err != nil {
				t.Error(err)
			}
			st := must[server.Status](t)(srv.WaitSessions(ctx, 1))
			if ss := st.Sessions[0]; ss.User != user || ss.Remote != got.Local.Addr() {
				t.Errorf("status %+v", ss)
			}
			checkACSide(t, p, st.Sessions[0], got.Local.Addr(), 1492)
			stopClean(t, cli)
			assertNothingLeft(t, p.Client)
			waitACEmpty(t, ctx, p, srv)
		})
	}
	t.Run("rfc4638", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{MTU: 1508}))
		cfg := acConfig(p, lab.ACUser{Name: "srvgo-4638", Password: "pw"})
		cfg.MaxMTU, cfg.MaxMRU = 1500, 1500
		srv := startAC(t, p, cfg)
		cli := must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp0",
			lab.ClientArgs(t, p.ClientIf, "srvgo-4638", "pw", "--mtu", "1500", "--mru", "1500", "--ifname", "ppp0", "--debug")...))
		got, err := cli.WaitUp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if l := must[lab.Link](t)(p.Client.Link("ppp0")); l.MTU != 1500 {
			t.Errorf("client ppp0 MTU %d, want 1500", l.MTU)
		}
		st := must[server.Status](t)(srv.WaitSessions(ctx, 1))
		if st.Sessions[0].MTU != 1500 {
			t.Errorf("status MTU %d, want 1500", st.Sessions[0].MTU)
		}
		checkACSide(t, p, st.Sessions[0], got.Local.Addr(), 1500)
		fullSizeDF(t, ctx, p, got.Local.Addr())
		stopClean(t, cli)
		waitACEmpty(t, ctx, p, srv)
	})
}

// 4. Fifty pppd clients at once, each on its own macvlan (its own MAC):
// all up with unique addresses, each answering a ping from the AC through
// its own pppN, and the status lists fifty sessions with fifty MACs.
func TestServer50PPPD(t *testing.T) {
	lab.Require(t)
	const n = 50
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	// Not --debug: fifty sessions' packet dumps would slow the AC down.
	srv := startACFlags(t, p, acConfig(p, lab.ACUser{Name: "srv-many", Password: "pw-many"}))
	before := must[lab.ProcStats](t)(srv.Stats())
	macs := map[string]bool{}
	clients := make([]*lab.PPPD, n)
	for i := range n {
		mv := fmt.Sprintf("smv%d", i)
		mac := must[net.HardwareAddr](t)(p.Client.AddMacvlan(p.ClientIf, mv))
		macs[mac.String()] = true
		clients[i] = startPPPD(t, p.Client, mv, "srv-many", "pw-many")
	}
	start := time.Now()
	addrs := make([]netip.Addr, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i, c := range clients {
		wg.Go(func() {
			a, err := c.WaitUp(ctx)
			addrs[i] = a.Local.Addr()
			if err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if t.Failed() {
		t.FailNow()
	}
	lab.Report(t, "%d pppd clients up in %.1fs", n, time.Since(start).Seconds())
	seen := map[netip.Addr]bool{}
	for _, a := range addrs {
		if seen[a] {
			t.Errorf("address %s given twice: %v", a, addrs)
		}
		seen[a] = true
	}
	st := must[server.Status](t)(srv.WaitSessions(ctx, n))
	for _, ss := range st.Sessions {
		if !macs[ss.MAC] || !seen[ss.Remote] {
			t.Errorf("session %+v: not one of our MACs or addresses", ss)
		}
		delete(macs, ss.MAC)
	}
	if len(macs) != 0 {
		t.Errorf("MACs without a session: %v", macs)
	}
	// Each session answers through its own pppN (the AC routes each /32
	// to its own), a few pings at a time.
	sem := make(chan struct{}, 8)
	for _, a := range addrs {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if _, err := p.AC.Ping(ctx, a, 1); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	after := must[lab.ProcStats](t)(srv.Stats())
	lab.Report(t, "pppoed server with %d pppd sessions: %s (idle: %s; %+.0f KiB per session)", n, after, before,
		float64(after.RSSKiB-before.RSSKiB)/n)
	for _, c := range clients {
		wg.Go(func() { _ = c.Stop(10 * time.Second) })
	}
	wg.Wait()
	waitACEmpty(t, ctx, p, srv)
}

// 5. A pool of two: the third client is refused cleanly (it ends; the AC
// has no pppN or session for it, and counts no_address), and gets in
// once an address is back in the pool.
func TestServerPoolExhausted(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	cfg := acConfig(p, lab.ACUser{Name: "srv-pool", Password: "pw-pool"})
	cfg.Pools[0].Ranges = []string{"10.70.0.10-10.70.0.11"}
	srv := startAC(t, p, cfg)
	one := startPPPD(t, p.Client, station(t, p, "spool1"), "srv-pool", "pw-pool")
	two := startPPPD(t, p.Client, station(t, p, "spool2"), "srv-pool", "pw-pool")
	a1 := must[lab.Addr](t)(one.WaitUp(ctx))
	must[lab.Addr](t)(two.WaitUp(ctx))
	must[server.Status](t)(srv.WaitSessions(ctx, 2))

	three := startPPPD(t, p.Client, station(t, p, "spool3"), "srv-pool", "pw-pool")
	waitExit(t, ctx, three.Process, "the third client, with the pool empty")
	t.Logf("the third client: pppd exit status %d; it logged:\n%s", three.ExitCode(), lastLines(three.Log(), 8))
	st, err := srv.WaitStatus(ctx, "two sessions, one refused for want of an address", func(st server.Status) bool {
		return len(st.Sessions) == 2 && st.Counters.NoAddress >= 1
	})
	if err != nil {
		t.Fatal(err)
	}
	if links := must[[]lab.Link](t)(p.AC.PPPLinks()); len(links) != 2 {
		t.Errorf("AC PPP interfaces %+v, want the two sessions'", links)
	}
	if len(lab.UpSessions(st)) != 2 {
		t.Errorf("sessions %+v", st.Sessions)
	}

	if err := one.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WaitStatus(ctx, "one session", func(st server.Status) bool { return len(st.Sessions) == 1 }); err != nil {
		t.Fatal(err)
	}
	four := startPPPD(t, p.Client, "spool3", "srv-pool", "pw-pool")
	a4 := must[lab.Addr](t)(four.WaitUp(ctx))
	if a4.Local != a1.Local {
		t.Errorf("the returning client got %s, want %s, the address that came back", a4.Local, a1.Local)
	}
	must[server.Status](t)(srv.WaitSessions(ctx, 2))
}

// Several sessions from one MAC (pppd clients on one host; RFC 2516 tells
// them apart by session id, and their discovery by Host-Uniq), started
// together so that their PADIs fall in the same cookie window: each gets
// its own session.
func TestServerSessionsOneMAC(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	srv := startAC(t, p, acConfig(p, lab.ACUser{Name: "srv-mac", Password: "pw-mac"}))
	one := startPPPD(t, p.Client, p.ClientIf, "srv-mac", "pw-mac")
	two := startPPPD(t, p.Client, p.ClientIf, "srv-mac", "pw-mac")
	a1 := must[lab.Addr](t)(one.WaitUp(ctx))
	a2 := must[lab.Addr](t)(two.WaitUp(ctx))
	if a1.Local == a2.Local {
		t.Errorf("both got %s", a1.Local)
	}
	st := must[server.Status](t)(srv.WaitSessions(ctx, 2))
	if st.Sessions[0].MAC != st.Sessions[1].MAC || st.Sessions[0].SessionID == st.Sessions[1].SessionID {
		t.Errorf("sessions %+v, want one MAC, two ids", st.Sessions)
	}
	// Each first PADR got its own PADS: an AC that took the second
	// client's PADR for a repeat of the first's (same MAC, a cookie of
	// the same window) left it to pppd's retries, which get in only once
	// the window has moved on.
	for _, c := range []*lab.PPPD{one, two} {
		firstPADRAnswered(t, c)
	}
}

// firstPADRAnswered fails unless pppd's first PADR got its PADS.
func firstPADRAnswered(t *testing.T, c *lab.PPPD) {
	t.Helper()
	if strings.Contains(c.Log(), "Timeout waiting for PADS") {
		t.Errorf("%s: a PADR went unanswered:\n%s", c.Ifname, lastLines(c.Log(), 40))
	}
}

// 6. max-sessions, one-session-per-host and only-one.
func TestServerLimits(t *testing.T) {
	lab.Require(t)
	t.Run("max-sessions", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
		cfg := acConfig(p, lab.ACUser{Name: "srv-max", Password: "pw-max"})
		cfg.MaxSessions = 1
		srv := startAC(t, p, cfg)
		first := startPPPD(t, p.Client, p.ClientIf, "srv-max", "pw-max")
		must[lab.Addr](t)(first.WaitUp(ctx))
		second := startPPPD(t, p.Client, station(t, p, "smax1"), "srv-max", "pw-max")
		waitExit(t, ctx, second.Process, "the second client past max-sessions")
		// RFC 2516 §5.4: a PADS with SESSION_ID 0 and AC-System-Error.
		if !strings.Contains(second.Log(), "PADS: System-Error") {
			t.Errorf("pppd did not log the AC-System-Error of the PADS:\n%s", lastLines(second.Log(), 20))
		}
		st := must[server.Status](t)(srv.WaitSessions(ctx, 1))
		// pppd sends its PADR three times, each refused.
		if st.Counters.RefusedMax == 0 {
			t.Errorf("refused_max_sessions 0")
		}
		if _, err := p.Client.Ping(ctx, srvLocal, 1); err != nil {
			t.Error(err)
		}
		if n := len(must[[]lab.Link](t)(p.AC.PPPLinks())); n != 1 {
			t.Errorf("%d PPP interfaces on the AC, want 1", n)
		}
	})
	t.Run("one-session-per-host", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
		cfg := acConfig(p, lab.ACUser{Name: "srv-host", Password: "pw-host"})
		cfg.OneSessionPerHost = true
		srv := startAC(t, p, cfg)
		first := startPPPD(t, p.Client, p.ClientIf, "srv-host", "pw-host")
		must[lab.Addr](t)(first.WaitUp(ctx))
		old := must[server.Status](t)(srv.WaitSessions(ctx, 1)).Sessions[0]
		// Same interface, same MAC.
		second := startPPPD(t, p.Client, p.ClientIf, "srv-host", "pw-host")
		got := must[lab.Addr](t)(second.WaitUp(ctx))
		firstPADRAnswered(t, second)
		waitExit(t, ctx, first.Process, "the first session of the host")
		st := must[server.Status](t)(srv.WaitSessions(ctx, 1))
		if ss := st.Sessions[0]; ss.SessionID == old.SessionID || ss.Remote != got.Local.Addr() {
			t.Errorf("the session left is %+v, want the second's (not id %#x), %s", ss, old.SessionID, got.Local)
		}
		if n := len(must[[]lab.Link](t)(p.AC.PPPLinks())); n != 1 {
			t.Errorf("%d PPP interfaces on the AC, want 1", n)
		}
	})
	t.Run("only-one", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
		cfg := acConfig(p, lab.ACUser{Name: "srv-one", Password: "pw-one"}, lab.ACUser{Name: "srv-other", Password: "pw-other"})
		cfg.Profiles[0].OnlyOne = true
		srv := startAC(t, p, cfg)
		first := startPPPD(t, p.Client, p.ClientIf, "srv-one", "pw-one")
		a1 := must[lab.Addr](t)(first.WaitUp(ctx))
		// Another host, the same user: refused.
		mv := station(t, p, "sonly1")
		second := startPPPD(t, p.Client, mv, "srv-one", "pw-one")
		waitExit(t, ctx, second.Process, "the second login of an only-one user")
		st, err := srv.WaitStatus(ctx, "refused_only_one", func(st server.Status) bool {
			return st.Counters.RefusedOnlyOne == 1 && len(st.Sessions) == 1
		})
		if err != nil {
			t.Fatal(err)
		}
		if ss := st.Sessions[0]; ss.Remote != a1.Local.Addr() || ss.User != "srv-one" {
			t.Errorf("session left %+v, want the first's", ss)
		}
		if _, err := p.Client.Ping(ctx, srvLocal, 1); err != nil {
			t.Error(err)
		}
		// Another user of the profile still gets in.
		third := startPPPD(t, p.Client, mv, "srv-other", "pw-other")
		must[lab.Addr](t)(third.WaitUp(ctx))
		must[server.Status](t)(srv.WaitSessions(ctx, 2))
	})
}

// 7. A wrong password: the client is refused, the AC keeps nothing of it
// and counts an authentication failure.
func TestServerWrongPassword(t *testing.T) {
	lab.Require(t)
	for _, c := range []struct {
		name   string
		client func(t *testing.T, p *lab.Pair) *lab.Process
	}{
		{"pppd-mschap2", func(t *testing.T, p *lab.Pair) *lab.Process {
			return startPPPD(t, p.Client, p.ClientIf, "srv-wrong", "not-the-password").Process
		}},
		{"pppd-pap", func(t *testing.T, p *lab.Pair) *lab.Process {
			return startPPPD(t, p.Client, p.ClientIf, "srv-wrong", "not-the-password", pppdAuth[0].refuse...).Process
		}},
		{"pppoed-chap", func(t *testing.T, p *lab.Pair) *lab.Process {
			return must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp0",
				lab.ClientArgs(t, p.ClientIf, "srv-wrong", "not-the-password", "--auth", "chap", "--debug")...)).Process
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			defer cancel()
			p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
			srv := startAC(t, p, acConfig(p, lab.ACUser{Name: "srv-wrong", Password: "the-password"}))
			cli := c.client(t, p)
			waitExit(t, ctx, cli, "a client with the wrong password")
			// pppd and pppoed both exit 19: authentication to the peer failed.
			if cli.ExitCode() != 19 {
				t.Errorf("client exit status %d, want 19\n%s", cli.ExitCode(), lastLines(cli.Log(), 30))
			}
			// The failure is counted as the session ends, just after it
			// leaves the status.
			st, err := srv.WaitStatus(ctx, "no session, one auth failure", func(st server.Status) bool {
				return len(st.Sessions) == 0 && st.Counters.AuthFailures > 0
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := p.AC.WaitNoPPP(ctx); err != nil {
				t.Fatal(err)
			}
			if st.Counters.AuthFailures != 1 || st.Counters.SessionsUp != 0 {
				t.Errorf("counters %+v, want one auth failure, no session up", st.Counters)
			}
			if strings.Contains(srv.Log(), "the-password") || strings.Contains(srv.Log(), "not-the-password") {
				t.Errorf("a password is in the AC's log")
			}
		})
	}
}

// 8. A client killed with SIGKILL sends nothing more: keepalive-timeout
// (2 s: an echo a second after 2 s of quiet, dead at 4 s) ends its session,
// and its address, the pool's only one, goes to the next client.
func TestServerKeepaliveDeadClient(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	cfg := acConfig(p, lab.ACUser{Name: "srv-dead", Password: "pw-dead"})
	cfg.KeepaliveTimeout = "2s"
	cfg.Pools[0].Ranges = []string{"10.70.0.10-10.70.0.10"}
	srv := startAC(t, p, cfg)
	first := startPPPD(t, p.Client, p.ClientIf, "srv-dead", "pw-dead")
	a1 := must[lab.Addr](t)(first.WaitUp(ctx))
	must[server.Status](t)(srv.WaitSessions(ctx, 1))
	if err := first.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	waitACEmpty(t, ctx, p, srv)
	took := time.Since(killed)
	lab.Report(t, "a SIGKILLed pppd detected by keepalive-timeout 2s after %.1fs", took.Seconds())
	// Echoes start after 2 s of quiet: the session cannot end sooner.
	if took < 2*time.Second {
		t.Errorf("session ended %s after the kill: before keepalive-timeout", took)
	}
	if !strings.Contains(srv.Log(), "EchoReq") {
		t.Errorf("the AC sent no LCP Echo-Request")
	}
	second := startPPPD(t, p.Client, p.ClientIf, "srv-dead", "pw-dead")
	a2 := must[lab.Addr](t)(second.WaitUp(ctx))
	if a2.Local != a1.Local {
		t.Errorf("next client got %s, want %s again", a2.Local, a1.Local)
	}
}

// discoveryConn is a packet socket on a client-side interface that sends
// Discovery frames from any MAC and reads those addressed to any MAC.
type discoveryConn struct {
	conn *packet.Conn
}

func openDiscovery(t *testing.T, ns *lab.Netns, iface string) *discoveryConn {
	t.Helper()
	var c *packet.Conn
	err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			return err
		}
		c, err = packet.Listen(ifi, packet.Raw, discovery.EtherTypeDiscovery, nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &discoveryConn{conn: c}
}

func (d *discoveryConn) send(t *testing.T, dst, src net.HardwareAddr, pkt *discovery.Packet) {
	t.Helper()
	payload, err := pkt.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	frame, err := discovery.AppendFrame(nil, dst, src, discovery.EtherTypeDiscovery, payload)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.conn.WriteTo(frame, &packet.Addr{HardwareAddr: dst}); err != nil {
		t.Fatal(err)
	}
}

// until reads frames until one addressed to dst satisfies ok, returning
// it, and every earlier frame addressed to dst; it fails at the deadline.
func (d *discoveryConn) until(t *testing.T, dst net.HardwareAddr, ok func(*discovery.Packet) bool) (*discovery.Packet, []*discovery.Packet) {
	t.Helper()
	_ = d.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var before []*discovery.Packet
	buf := make([]byte, 1600)
	for {
		n, _, err := d.conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("waiting for a discovery frame to %s: %v (saw %v)", dst, err, before)
		}
		f, err := discovery.ParseFrame(buf[:n])
		if err != nil || f.EtherType != discovery.EtherTypeDiscovery || !slices.Equal(f.Dst, dst) {
			continue
		}
		pkt, err := discovery.Parse(f.Payload)
		if err != nil {
			continue
		}
		if ok(pkt) {
			return pkt, before
		}
		before = append(before, pkt)
	}
}

// randomMAC is a locally administered unicast address.
func randomMAC() net.HardwareAddr {
	m := make(net.HardwareAddr, 6)
	rand.Read(m)
	m[0] = m[0]&^0x01 | 0x02
	return m
}

// offer sends a PADI from mac and returns the PADO's cookie.
func (d *discoveryConn) offer(t *testing.T, mac net.HardwareAddr) discovery.ACCookie {
	t.Helper()
	hu := discovery.HostUniq(randomMAC())
	d.send(t, discovery.Broadcast, mac, &discovery.Packet{Code: discovery.CodePADI, Tags: []discovery.Tag{discovery.ServiceName(""), hu}})
	pado, _ := d.until(t, mac, func(p *discovery.Packet) bool {
		h, ok := discovery.Find[discovery.HostUniq](p)
		return p.Code == discovery.CodePADO && ok && string(h) == string(hu)
	})
	c, ok := discovery.Find[discovery.ACCookie](pado)
	if !ok {
		t.Fatalf("PADO without a cookie: %v", pado)
	}
	return c
}

// barrier makes sure the AC has handled every frame sent before it: the
// AC reads one interface's Discovery frames in order on one goroutine,
// so once a later PADI's PADO is here, any answer to an earlier frame
// would be here too. It returns the frames to mac that came first.
func (d *discoveryConn) barrier(t *testing.T, mac net.HardwareAddr) []*discovery.Packet {
	t.Helper()
	hu := discovery.HostUniq(randomMAC())
	d.send(t, discovery.Broadcast, mac, &discovery.Packet{Code: discovery.CodePADI, Tags: []discovery.Tag{discovery.ServiceName(""), hu}})
	_, before := d.until(t, mac, func(p *discovery.Packet) bool {
		h, ok := discovery.Find[discovery.HostUniq](p)
		return p.Code == discovery.CodePADO && ok && string(h) == string(hu)
	})
	return before
}

// 9. A PADI flood from random MACs, as fast as a packet socket sends them
// for a few seconds: the established session stays up and passes
// traffic throughout, the server's RSS stays flat, and the counters show
// the PADIs the rate limits dropped.
func TestServerPADIFlood(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	// Not --debug: a dump of every PADI would measure the log, not the AC.
	srv := startACFlags(t, p, acConfig(p, lab.ACUser{Name: "srv-flood", Password: "pw-flood"}))
	cli := startPPPD(t, p.Client, p.ClientIf, "srv-flood", "pw-flood")
	must[lab.Addr](t)(cli.WaitUp(ctx))
	before := must[server.Status](t)(srv.WaitSessions(ctx, 1))
	rssBefore := must[lab.ProcStats](t)(srv.Stats())

	d := openDiscovery(t, p.Client, p.ClientIf)
	// Two rounds: the first fills what the flood may fill (the per-MAC
	// table is bounded, Go's heap grows to its GC target), the second
	// must not grow it further.
	const floodFor = 4 * time.Second
	var sent atomic.Int64
	var st server.Status
	var rss []lab.ProcStats
	for round := range 2 {
		done := make(chan struct{})
		go func() {
			defer close(done)
			end := time.Now().Add(floodFor)
			frame := make([]byte, 0, 64)
			for time.Now().Before(end) {
				mac := randomMAC()
				payload, _ := (&discovery.Packet{Code: discovery.CodePADI, Tags: []discovery.Tag{
					discovery.ServiceName(""), discovery.HostUniq(mac)}}).Marshal()
				frame, _ = discovery.AppendFrame(frame[:0], discovery.Broadcast, mac, discovery.EtherTypeDiscovery, payload)
				if _, err := d.conn.WriteTo(frame, &packet.Addr{HardwareAddr: discovery.Broadcast}); err == nil {
					sent.Add(1)
				}
			}
		}()
		// Traffic across the session while the flood lasts.
		if _, err := p.Client.Ping(ctx, srvLocal, 3); err != nil {
			t.Errorf("during flood %d: %v", round+1, err)
		}
		<-done
		// The AC may still be reading the socket's backlog: wait until
		// the count stops moving.
		var last uint64
		var err error
		st, err = srv.WaitStatus(ctx, "the flood's PADIs all read", func(st server.Status) bool {
			settled := st.Counters.PADIs > 0 && st.Counters.PADIs == last
			last = st.Counters.PADIs
			return settled
		})
		if err != nil {
			t.Fatal(err)
		}
		rss = append(rss, must[lab.ProcStats](t)(srv.Stats()))
	}
	after := st
	c := after.Counters
	lab.Report(t, "PADI flood: %d sent in 2 x %s, %d seen, %d answered, %d rate-limited; server RSS %d KiB before, %d KiB after the first flood, %d KiB after the second",
		sent.Load(), floodFor, c.PADIs, c.PADIsAnswered, c.PADIsLimited, rssBefore.RSSKiB, rss[0].RSSKiB, rss[1].RSSKiB)
	if c.PADIsLimited == 0 {
		t.Errorf("no PADI rate-limited: %+v", c)
	}
	// The global bucket: 400 at once, then 200 a second (the defaults);
	// the time counted generously (the status polls, the pings).
	if limit := uint64(server.DefaultGlobalBurst + server.DefaultGlobalRate*(2*floodFor+20*time.Second).Seconds()); c.PADIsAnswered > limit {
		t.Errorf("%d PADIs answered, more than the global limit allows (%d)", c.PADIsAnswered, limit)
	}
	if grew := rss[1].RSSKiB - rss[0].RSSKiB; grew > 2048 {
		t.Errorf("the server's RSS grew by %d KiB in the second flood (%d KiB after the first)", grew, rss[0].RSSKiB)
	}
	if grew := rss[1].RSSKiB - rssBefore.RSSKiB; grew > 8192 {
		t.Errorf("the server's RSS grew by %d KiB in the floods (from %d KiB)", grew, rssBefore.RSSKiB)
	}
	ss := upSessions(t, after, 1)
	if ss[0].SessionID != before.Sessions[0].SessionID {
		t.Errorf("session %#x replaced by %#x", before.Sessions[0].SessionID, ss[0].SessionID)
	}
	if cli.Exited() {
		t.Errorf("pppd ended in the flood")
	}
	if _, err := p.Client.Ping(ctx, srvLocal, 2); err != nil {
		t.Errorf("after the flood: %v", err)
	}
}

// upSessions returns st's sessions, failing unless exactly n are up.
func upSessions(t *testing.T, st server.Status, n int) []server.SessionStatus {
	t.Helper()
	up := lab.UpSessions(st)
	if len(up) != n || len(st.Sessions) != n {
		t.Fatalf("sessions %+v, want %d up", st.Sessions, n)
	}
	return up
}

// 10. Hand-made PADRs get a PADS only with the cookie the AC gave that
// very MAC; a PADT ends a session only from the client's MAC with its
// session id.
func TestServerForgedDiscovery(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	srv := startAC(t, p, acConfig(p, lab.ACUser{Name: "srv-forge", Password: "pw-forge"}))
	acMAC := must[net.HardwareAddr](t)(p.AC.MAC(p.ACIf))
	d := openDiscovery(t, p.Client, p.ClientIf)

	t.Run("cookies", func(t *testing.T) {
		mac, other := randomMAC(), randomMAC()
		cookie := d.offer(t, mac)
		padr := func(src net.HardwareAddr, tags ...discovery.Tag) {
			d.send(t, acMAC, src, &discovery.Packet{Code: discovery.CodePADR, Tags: append([]discovery.Tag{discovery.ServiceName("")}, tags...)})
		}
		forged := make(discovery.ACCookie, len(cookie))
		rand.Read(forged)
		// The right window, a wrong MAC: only the key could make it.
		forgedMAC := append(discovery.ACCookie(nil), cookie...)
		forgedMAC[len(forgedMAC)-1] ^= 1
		padr(mac)                         // no cookie
		padr(mac, forged)                 // random
		padr(mac, forgedMAC)              // the window right, the MAC wrong
		padr(mac, cookie[:len(cookie)-1]) // truncated
		padr(other, cookie)               // another station's
		for _, got := range append(d.barrier(t, mac), d.barrier(t, other)...) {
			if got.Code == discovery.CodePADS {
				t.Errorf("a forged PADR got a PADS: %v", got)
			}
		}
		st := must[server.Status](t)(srv.Status(ctx))
		if st.Counters.BadCookies != 5 || st.Counters.SessionsStarted != 0 || len(st.Sessions) != 0 {
			t.Errorf("counters %+v, sessions %+v: want 5 bad cookies and nothing started", st.Counters, st.Sessions)
		}
		// The control: the real cookie from its own MAC gets a session.
		padr(mac, cookie)
		pads, _ := d.until(t, mac, func(p *discovery.Packet) bool { return p.Code == discovery.CodePADS })
		if pads.SessionID == 0 || pads.Error() != nil {
			t.Fatalf("the genuine PADR got %v", pads)
		}
		// It ends on its PADT.
		d.send(t, acMAC, mac, &discovery.Packet{Code: discovery.CodePADT, SessionID: pads.SessionID})
		if _, err := srv.WaitStatus(ctx, "the PADT ended the session", func(st server.Status) bool {
			return len(st.Sessions) == 0 && st.Counters.PADTs == 1
		}); err != nil {
			t.Fatal(err)
		}
		if err := p.AC.WaitNoPPP(ctx); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("padt", func(t *testing.T) {
		cli := startPPPD(t, p.Client, p.ClientIf, "srv-forge", "pw-forge")
		must[lab.Addr](t)(cli.WaitUp(ctx))
		ss := must[server.Status](t)(srv.WaitSessions(ctx, 1)).Sessions[0]
		mac := must[net.HardwareAddr](t)(net.ParseMAC(ss.MAC))
		ignoredBefore := must[server.Status](t)(srv.Status(ctx)).Counters.PADTsIgnored
		// The right id from another station, another id from the right
		// one: both ignored.
		stranger := randomMAC()
		d.send(t, acMAC, stranger, &discovery.Packet{Code: discovery.CodePADT, SessionID: ss.SessionID})
		d.send(t, acMAC, mac, &discovery.Packet{Code: discovery.CodePADT, SessionID: ss.SessionID ^ 0x0100})
		d.barrier(t, stranger)
		st := must[server.Status](t)(srv.Status(ctx))
		if len(lab.UpSessions(st)) != 1 || st.Sessions[0].SessionID != ss.SessionID {
			t.Fatalf("a forged PADT ended the session: %+v", st.Sessions)
		}
		if got := st.Counters.PADTsIgnored - ignoredBefore; got != 2 {
			t.Errorf("padt_ignored grew by %d, want 2", got)
		}
		if _, err := p.Client.Ping(ctx, srvLocal, 1); err != nil {
			t.Error(err)
		}
		// The client's MAC and id: the session ends at the AC.
		d.send(t, acMAC, mac, &discovery.Packet{Code: discovery.CodePADT, SessionID: ss.SessionID})
		waitACEmpty(t, ctx, p, srv)
	})
}

// 11. SIGHUP re-reads the users: a user added to the file logs in, and
// the session that was up stays up, untouched.
func TestServerReloadUsers(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	cfg := acConfig(p, lab.ACUser{Name: "srv-alice", Password: "pw-alice"})
	srv := startAC(t, p, cfg)
	alice := startPPPD(t, p.Client, station(t, p, "shup1"), "srv-alice", "pw-alice")
	must[lab.Addr](t)(alice.WaitUp(ctx))
	before := must[server.Status](t)(srv.WaitSessions(ctx, 1)).Sessions[0]

	// Bob is not a user yet.
	early := must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp0", lab.ClientArgs(t, p.ClientIf, "srv-bob", "pw-bob", "--debug")...))
	waitExit(t, ctx, early.Process, "an unknown user")
	if early.ExitCode() != 19 {
		t.Errorf("unknown user: exit status %d, want 19", early.ExitCode())
	}

	cfg.Users = append(cfg.Users, lab.ACUser{Name: "srv-bob", Password: "pw-bob", InterfaceName: "ppp-bob"})
	if err := srv.Reload(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	bob := must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp1", lab.ClientArgs(t, p.ClientIf, "srv-bob", "pw-bob", "--ifname", "ppp1", "--debug")...))
	got := must[lab.Addr](t)(bob.WaitUp(ctx))
	st := must[server.Status](t)(srv.WaitSessions(ctx, 2))
	ss, ok := sessionOf(st, got.Local.Addr())
	if !ok || ss.User != "srv-bob" || ss.Ifname != "ppp-bob" {
		t.Errorf("bob's session %+v, want user srv-bob on ppp-bob", ss)
	}
	if a, ok := sessionOf(st, before.Remote); !ok || a.SessionID != before.SessionID || !a.UpSince.Equal(before.UpSince) {
		t.Errorf("alice's session %+v, want %+v untouched", a, before)
	}
	if alice.Exited() {
		t.Errorf("alice's pppd ended")
	}
	if err := p.AC.PingDF(ctx, before.Remote, 56); err != nil {
		t.Errorf("alice's session after the reload: %v", err)
	}
}

// 12. SIGTERM to the server: every client sees its session end, every
// pppN on the AC goes, and the server exits 0.
func TestServerSIGTERM(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	srv := startAC(t, p, acConfig(p, lab.ACUser{Name: "srv-term", Password: "pw-term"}))
	one := startPPPD(t, p.Client, station(t, p, "sterm1"), "srv-term", "pw-term")
	two := startPPPD(t, p.Client, station(t, p, "sterm2"), "srv-term", "pw-term")
	ours := must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp0", lab.ClientArgs(t, p.ClientIf, "srv-term", "pw-term", "--ifname", "ppp0", "--debug")...))
	must[lab.Addr](t)(one.WaitUp(ctx))
	must[lab.Addr](t)(two.WaitUp(ctx))
	must[lab.Addr](t)(ours.WaitUp(ctx))
	must[server.Status](t)(srv.WaitSessions(ctx, 3))

	if err := srv.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*lab.Process{one.Process, two.Process, ours.Process} {
		waitExit(t, ctx, c, "a client of an AC that stops")
	}
	for _, c := range []*lab.PPPD{one, two} {
		if !strings.Contains(c.Log(), "LCP terminated by peer") {
			t.Errorf("%s: no Terminate-Request from the AC:\n%s", c.Ifname, lastLines(c.Log(), 15))
		}
	}
	if !strings.Contains(ours.Log(), "terminated by peer") {
		t.Errorf("pppoed: the session did not end by the AC's Terminate-Request:\n%s", lastLines(ours.Log(), 15))
	}
	waitExit(t, ctx, srv.Process, "the server after SIGTERM")
	if srv.ExitCode() != 0 {
		t.Errorf("server exit status %d, want 0", srv.ExitCode())
	}
	if links := must[[]lab.Link](t)(p.AC.PPPLinks()); len(links) != 0 {
		t.Errorf("PPP interfaces left on the AC: %+v", links)
	}
	assertNothingLeft(t, p.Client)
}

// 13. `pppoed server status --json` and `kick`: the sessions with their
// users, MACs, ids, interfaces, addresses and kernel counters; kick USER
// and kick --session-id end one session each, and its client sees it.
func TestServerStatusKick(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	srv := startAC(t, p, acConfig(p,
		lab.ACUser{Name: "srv-kick1", Password: "pw1"}, lab.ACUser{Name: "srv-kick2", Password: "pw2"}))
	one := startPPPD(t, p.Client, station(t, p, "skick1"), "srv-kick1", "pw1")
	two := must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp0", lab.ClientArgs(t, p.ClientIf, "srv-kick2", "pw2", "--ifname", "ppp0", "--debug")...))
	a1 := must[lab.Addr](t)(one.WaitUp(ctx))
	a2 := must[lab.Addr](t)(two.WaitUp(ctx))
	if _, err := p.Client.Ping(ctx, srvLocal, 1); err != nil {
		t.Error(err)
	}
	if err := p.AC.PingDF(ctx, a1.Local.Addr(), 100); err != nil {
		t.Error(err)
	}
	st := must[server.Status](t)(srv.WaitSessions(ctx, 2))
	if st.ACName != "lab-goac" || st.Started.IsZero() {
		t.Errorf("status %+v", st)
	}
	ids := map[uint16]bool{}
	for _, want := range []struct {
		user, iface string
		addr        netip.Addr
	}{{"srv-kick1", "skick1", a1.Local.Addr()}, {"srv-kick2", p.ClientIf, a2.Local.Addr()}} {
		mac := must[net.HardwareAddr](t)(p.Client.MAC(want.iface)).String()
		ss, ok := sessionOf(st, want.addr)
		if !ok {
			t.Fatalf("no session for %s: %+v", want.addr, st.Sessions)
		}
		if ss.User != want.user || ss.MAC != mac || ss.Interface != p.ACIf || ss.Local != srvLocal || ss.State != "up" ||
			ss.Since.IsZero() || ss.UpSince.Before(ss.Since) || ids[ss.SessionID] {
			t.Errorf("session %+v, want user %s from %s on %s", ss, want.user, mac, p.ACIf)
		}
		ids[ss.SessionID] = true
		l := must[lab.Link](t)(p.AC.Link(ss.Ifname))
		if ss.Counters == nil || ss.Counters.RxPackets == 0 || ss.Counters.TxPackets == 0 || l.Kind != "ppp" {
			t.Errorf("session %s: kernel counters %+v of %s", want.user, ss.Counters, ss.Ifname)
		}
	}
	// The command's JSON is the same record.
	cli := must[server.Status](t)(srv.StatusCLI(ctx))
	if len(cli.Sessions) != 2 || cli.ACName != st.ACName || cli.Counters.SessionsUp != st.Counters.SessionsUp {
		t.Errorf("pppoed server status --json: %+v, want %+v", cli, st)
	}
	for _, ss := range st.Sessions {
		if c, ok := sessionOf(cli, ss.Remote); !ok || c.User != ss.User || c.SessionID != ss.SessionID || c.MAC != ss.MAC || c.Ifname != ss.Ifname {
			t.Errorf("pppoed server status --json: session %+v, want %+v", c, ss)
		}
	}
	// The text form names both users.
	bin := must[string](t)(lab.PppoedBinary())
	out, err := p.AC.Run(ctx, bin, "server", "status", "--socket", srv.ControlSocket)
	if err != nil || !strings.Contains(out, "srv-kick1") || !strings.Contains(out, "srv-kick2") {
		t.Errorf("pppoed server status: %v\n%s", err, out)
	}
	t.Logf("pppoed server status:\n%s", out)

	if err := srv.Kick(ctx, "srv-kick1"); err != nil {
		t.Fatal(err)
	}
	waitExit(t, ctx, one.Process, "pppd kicked")
	if !strings.Contains(one.Log(), "LCP terminated by peer") {
		t.Errorf("pppd saw no Terminate-Request:\n%s", lastLines(one.Log(), 15))
	}
	st = must[server.Status](t)(srv.WaitSessions(ctx, 1))
	if st.Sessions[0].User != "srv-kick2" {
		t.Errorf("left %+v, want srv-kick2's session", st.Sessions[0])
	}
	if err := srv.Kick(ctx, "srv-nobody"); err == nil {
		t.Errorf("kick of a user without a session succeeded")
	}
	if err := srv.KickSession(ctx, st.Sessions[0].SessionID); err != nil {
		t.Fatal(err)
	}
	waitExit(t, ctx, two.Process, "pppoed kicked")
	if !strings.Contains(two.Log(), "terminated by peer") {
		t.Errorf("pppoed did not see the AC end the session:\n%s", lastLines(two.Log(), 15))
	}
	waitACEmpty(t, ctx, p, srv)
	js, _ := json.Marshal(st)
	if strings.Contains(string(js), "pw1") || strings.Contains(string(js), "pw2") {
		t.Errorf("a password in the status: %s", js)
	}
}
