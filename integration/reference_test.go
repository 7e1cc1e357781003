package integration

import (
	"context"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
	"github.com/vishvananda/netlink"
)

var (
	acAddr     = netip.MustParseAddr("10.64.0.1")
	clientAddr = netip.MustParseAddr("10.64.0.2")
)

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// The harness's self-check: the reference client reaches IPCP up against the
// reference server with CHAP, both ends carry the configured addresses, the
// kernel holds the PPPoE session, and a ping crosses it.
func TestReferenceClientServerCHAP(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	srv := must[*lab.PPPoEServer](t)(lab.StartPPPoEServer(t, p.AC, lab.ServerConfig{
		Interface:    p.ACIf,
		Auth:         lab.AuthCHAP,
		ServiceNames: []string{"isp"},
		ACName:       "lab-ac",
		Local:        acAddr,
		PoolStart:    clientAddr,
		Secrets:      []lab.Secret{{User: "user1", Password: "pass1"}},
		EchoInterval: 10,
		EchoFailure:  3,
	}))
	cli := must[*lab.PPPD](t)(lab.StartPPPD(t, p.Client, lab.PPPDConfig{
		Interface: p.ClientIf, User: "user1", Password: "pass1", ServiceName: "isp",
	}))
	start := time.Now()
	got, err := cli.WaitUp(ctx)
	if err != nil {
		t.Fatalf("%v\nserver log:\n%s", err, srv.Log())
	}
	t.Logf("client %s up in %s with %s peer %s", cli.Ifname, time.Since(start).Round(time.Millisecond), got.Local, got.Peer)

	if want := netip.PrefixFrom(clientAddr, 32); got.Local != want || got.Peer != netip.PrefixFrom(acAddr, 32) {
		t.Errorf("client address %s peer %s, want %s peer %s/32", got.Local, got.Peer, want, acAddr)
	}
	if !strings.Contains(cli.Log(), "CHAP authentication succeeded") {
		t.Errorf("client log does not show CHAP:\n%s", cli.Log())
	}

	// The AC's side: its session pppd configures its own ppp unit.
	var acSide lab.Addr
	err = lab.Poll(ctx, 20*time.Millisecond, func() (bool, error) {
		as, err := p.AC.Addrs("", netlink.FAMILY_V4)
		if err != nil {
			return false, err
		}
		i := slices.IndexFunc(as, func(a lab.Addr) bool { return strings.HasPrefix(a.Link, "ppp") })
		if i < 0 {
			return false, nil
		}
		acSide = as[i]
		// The session pppd may be caught between its two steps (the
		// address, then the peer): CI saw "peer invalid Prefix" once.
		return acSide.Peer.IsValid(), nil
	})
	if err != nil {
		t.Fatalf("no ppp address on the AC side: %v\n%s", err, srv.Log())
	}
	if acSide.Local != netip.PrefixFrom(acAddr, 32) || acSide.Peer != netip.PrefixFrom(clientAddr, 32) {
		t.Errorf("AC %s: %s peer %s, want %s peer %s", acSide.Link, acSide.Local, acSide.Peer, acAddr, clientAddr)
	}
	if sess := must[[]int](t)(srv.Sessions()); len(sess) != 1 {
		t.Errorf("AC runs %d session pppds, want 1", len(sess))
	}

	// The kernel carries the session on the client's side (rp-pppoe.so
	// uses the kernel's PPPoE), towards the AC's veth MAC.
	acLink := must[lab.Link](t)(p.AC.Link(p.ACIf))
	sessions := must[[]lab.PPPoESession](t)(lab.PPPoESessions(cli.Pid()))
	// pppoe-server numbers sessions from 1 (without -r); the id shows that
	// /proc/net/pppoe was read in the right byte order.
	if len(sessions) != 1 || sessions[0].Device != p.ClientIf || sessions[0].Peer.String() != acLink.MAC.String() || sessions[0].ID != 1 {
		t.Errorf("kernel PPPoE sessions %+v, want session 1 on %s to %s", sessions, p.ClientIf, acLink.MAC)
	}

	if out, err := p.Client.Ping(ctx, acAddr, 3); err != nil {
		t.Fatalf("%v", err)
	} else {
		t.Logf("%s", lastLine(out))
	}
}

// The server helper's other authentication modes: each is what the AC
// demands (the client's log names the protocol) and brings the link up.
func TestReferencePeersAuth(t *testing.T) {
	lab.Require(t)
	tests := []struct {
		auth    lab.Auth
		wantLog string // in the client's pppd log, before IPCP (the address can beat later lines)
	}{
		{lab.AuthPAP, "PAP authentication succeeded"},
		{lab.AuthMSCHAPv2, "rcvd [CHAP Challenge id="}, // pppd logs the algorithm in the LCP request
		{lab.AuthNone, "rcvd [LCP ConfReq id=0x1 <mru"},
	}
	for _, tt := range tests {
		t.Run(string(tt.auth), func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
			defer cancel()
			p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
			user := "auth-" + string(tt.auth)
			srv := must[*lab.PPPoEServer](t)(lab.StartPPPoEServer(t, p.AC, lab.ServerConfig{
				Interface: p.ACIf, Auth: tt.auth, Secrets: []lab.Secret{{User: user, Password: "pw-" + user}},
			}))
			cli := must[*lab.PPPD](t)(lab.StartPPPD(t, p.Client, lab.PPPDConfig{Interface: p.ClientIf, User: user, Password: "pw-" + user}))
			if _, err := cli.WaitUp(ctx); err != nil {
				t.Fatalf("%v\nserver log:\n%s", err, srv.Log())
			}
			log := cli.Log()
			if !strings.Contains(log, tt.wantLog) {
				t.Errorf("client log lacks %q:\n%s", tt.wantLog, log)
			}
			if tt.auth == lab.AuthMSCHAPv2 && !strings.Contains(log, "<auth chap MS-v2>") {
				t.Errorf("the AC did not ask for MS-CHAPv2:\n%s", log)
			}
			if tt.auth == lab.AuthNone && strings.Contains(log, "<auth ") {
				t.Errorf("the AC asked for authentication:\n%s", log)
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// A lab's namespaces, veth and processes are gone when its scope ends, even
// when the test stops abruptly (SkipNow and Fatal end it the same way).
func TestLabTeardown(t *testing.T) {
	lab.Require(t)
	var nsNames []string
	var pids []int
	t.Run("abrupt-end", func(t *testing.T) {
		p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{MTU: 1508}))
		nsNames = []string{p.AC.Name, p.Client.Name}
		for _, ns := range []*lab.Netns{p.AC, p.Client} {
			proc := must[*lab.Process](t)(ns.Start(t, "sleep", "sleep", "600"))
			pids = append(pids, proc.Pid())
		}
		// An orphan the harness did not start itself must die too.
		must[string](t)(p.AC.Run(context.Background(), "sh", "-c", "sleep 600 >/dev/null 2>&1 &"))
		for _, side := range []struct {
			ns *lab.Netns
			If string
		}{{p.AC, p.ACIf}, {p.Client, p.ClientIf}} {
			l := must[lab.Link](t)(side.ns.Link(side.If))
			if l.MTU != 1508 || !l.Up || l.Kind != "veth" {
				t.Errorf("%s: %+v, want an up veth with MTU 1508", side.If, l)
			}
		}
		// The orphan's sh may not have exec'd sleep yet: poll.
		var got []int
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := lab.Poll(ctx, 10*time.Millisecond, func() (bool, error) {
			got = must[[]int](t)(p.AC.Processes("sleep"))
			return len(got) == 2, nil
		}); err != nil {
			t.Errorf("sleep processes in the AC namespace: %v, want 2", got)
		}
		t.SkipNow() // ends the subtest like a failure would, without failing the parent
	})
	for _, name := range nsNames {
		if _, err := os.Stat("/run/netns/" + name); err == nil {
			t.Errorf("netns %s still exists", name)
		}
	}
	for _, pid := range pids {
		if _, err := os.Stat("/proc/" + strconv.Itoa(pid)); err == nil {
			t.Errorf("process %d survived the teardown", pid)
		}
	}
	if left := processesWithCmdline("sleep\x00600\x00"); len(left) > 0 {
		t.Errorf("sleep processes survive: %v", left)
	}
}

// processesWithCmdline lists the pids whose /proc/PID/cmdline is cmdline.
func processesWithCmdline(cmdline string) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && string(b) == cmdline {
			out = append(out, pid)
		}
	}
	return out
}

// The server handles a test needs: its log (with the sessions' pppd debug
// lines), kill -9, and a graceful stop, which ends the client's session.
func TestLabServerHandles(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	secret := []lab.Secret{{User: "handles", Password: "pw"}}
	killed := must[*lab.PPPoEServer](t)(lab.StartPPPoEServer(t, p.AC, lab.ServerConfig{Interface: p.ACIf, Auth: lab.AuthPAP, Secrets: secret}))
	if err := killed.Kill(); err != nil {
		t.Fatal(err)
	}
	if !killed.Exited() || killed.ExitCode() != -1 {
		t.Errorf("after Kill: exited %v, status %d; want killed by a signal", killed.Exited(), killed.ExitCode())
	}
	if pids := must[[]int](t)(p.AC.Processes("pppoe-server")); len(pids) != 0 {
		t.Errorf("pppoe-server processes after kill -9: %v", pids)
	}

	srv := must[*lab.PPPoEServer](t)(lab.StartPPPoEServer(t, p.AC, lab.ServerConfig{Interface: p.ACIf, Auth: lab.AuthPAP, Secrets: secret}))
	cli := must[*lab.PPPD](t)(lab.StartPPPD(t, p.Client, lab.PPPDConfig{Interface: p.ClientIf, User: "handles", Password: "pw"}))
	if _, err := cli.WaitUp(ctx); err != nil {
		t.Fatalf("%v\n%s", err, srv.Log())
	}
	if err := srv.WaitPPPDLog(ctx, "rcvd [PAP AuthReq"); err != nil {
		t.Errorf("server log: %v", err)
	}
	if strings.Contains(srv.Log()+cli.Log(), "\"pw\"") {
		t.Errorf("a log shows the password")
	}
	if err := srv.Stop(5 * time.Second); err != nil {
		t.Fatal(err)
	}
	_ = cli.Wait(ctx) // how pppd reports the hang-up is its own business
	if !cli.Exited() {
		t.Errorf("client pppd still running after the AC stopped")
	}
}
