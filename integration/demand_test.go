package integration

import (
	"context"
	"net/netip"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
	"github.com/pppoed/pppoed/status"
	"github.com/vishvananda/netlink"
)

// Dial on demand (issue 9 point 4) end to end: pppoed --dial-on-demand
// --idle against the reference AC. pppN waits with pppd's placeholder
// addresses and no session; a ping dials, and its first echo request,
// held while dialling, is answered (it went out with the assigned source
// address); after the idle time the session is closed and pppN waits
// again; a second ping dials again; SIGTERM leaves nothing behind.
func TestDemand(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	srv := refServer(t, p, lab.AuthCHAP)
	// The default route takes the ping to pppN while it waits: 10.64.0.1
	// is not the placeholder peer.
	c := connect(t, p, "--persist", "--dial-on-demand", "--idle", "3s", "--add-default-route",
		"--holdoff", "0", "--padi-timeout", "1s")

	waiting := func(what string) status.Status {
		t.Helper()
		st, err := c.WaitStatus(ctx, what, func(s status.Status) bool { return s.State == status.StateWaiting && s.NextRedial.IsZero() })
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	st := waiting("waiting for traffic")
	ifname := st.Ifname
	unit, err := strconv.Atoi(strings.TrimPrefix(ifname, "ppp"))
	if err != nil {
		t.Fatalf("pppN is %q", ifname)
	}
	pppN := must[lab.Link](t)(p.Client.Link(ifname))
	// pppd's ip_demand_conf: 10.64.64.64 and 10.112.112.112, plus the unit.
	local := netip.AddrFrom4([4]byte{10, 64, 64, 64 + byte(unit)})
	peer := netip.AddrFrom4([4]byte{10, 112, 112, 112 + byte(unit)})
	addrs := must[[]lab.Addr](t)(p.Client.Addrs(ifname, netlink.FAMILY_V4))
	if len(addrs) != 1 || addrs[0].Local.Addr() != local || addrs[0].Peer.Addr() != peer {
		t.Errorf("%s waits with %+v, want %s peer %s", ifname, addrs, local, peer)
	}
	if !pppN.Up {
		t.Errorf("%s is down while waiting", ifname)
	}
	hasDefault(t, p.Client, ifname)
	if s, err := srv.Sessions(); err != nil || len(s) != 0 {
		t.Errorf("sessions at the AC before any traffic: %v %v", s, err)
	}
	if n := pppoeSessions(t, p.Client); n != 0 {
		t.Errorf("%d PPPoE sessions in the kernel before any traffic", n)
	}

	for round := 1; round <= 2; round++ {
		// One echo request, answered: it was held while dialling and
		// sent with the address IPCP assigned (or no reply could
		// come back).
		start := time.Now()
		out, err := p.Client.Run(ctx, "busybox", "ping", "-c", "1", "-W", "20", acAddr.String())
		if err != nil || !strings.Contains(out, "1 packets received") {
			t.Fatalf("round %d: the first ping: %v\n%s\npppoed log:\n%s\nAC log:\n%s", round, err, out, c.Log(), srv.Log())
		}
		lab.Report(t, "demand: first ping answered, dial included: %s", time.Since(start).Round(time.Millisecond))
		up, err := c.WaitStatus(ctx, "connected", func(s status.Status) bool { return s.State == status.StateConnected })
		if err != nil {
			t.Fatal(err)
		}
		// The AC's pool may hand the second session the next address.
		assigned := up.LocalIPv4
		if !netip.MustParsePrefix("10.64.0.0/24").Contains(assigned) || up.RemoteIPv4 != acAddr {
			t.Errorf("round %d: connected as %s peer %s", round, assigned, up.RemoteIPv4)
		}
		addrs := must[[]lab.Addr](t)(p.Client.Addrs(ifname, netlink.FAMILY_V4))
		if len(addrs) != 1 || addrs[0].Local.Addr() != assigned || addrs[0].Peer.Addr() != acAddr {
			t.Errorf("round %d: addresses %+v, want only %s peer %s", round, addrs, assigned, acAddr)
		}
		hasDefault(t, p.Client, ifname)
		if n := strings.Count(c.Log(), `msg="client: packets held while dialling sent"`); n != round {
			t.Errorf("round %d: held packets sent %d times", round, n)
		}

		// Idle: hung up, and waiting again on the same pppN.
		downStart := time.Now()
		waiting("waiting for traffic after idle")
		lab.Report(t, "demand: back to waiting %s after connected (idle 3s)", time.Since(downStart).Round(time.Millisecond))
		wait, cancelWait := context.WithTimeout(ctx, 20*time.Second)
		if err := lab.Poll(wait, 100*time.Millisecond, func() (bool, error) {
			s, err := srv.Sessions()
			return len(s) == 0 && pppoeSessions(t, p.Client) == 0, err
		}); err != nil {
			t.Errorf("round %d: the session stays after the idle hang-up (AC or kernel)", round)
		}
		cancelWait()
		if l, err := p.Client.Link(ifname); err != nil || l.Index != pppN.Index {
			t.Errorf("round %d: %s after idle: %+v %v, want index %d", round, ifname, l, err, pppN.Index)
		}
		// pppd keeps the last addresses in demand mode (ipcp_down).
		if addrs := must[[]lab.Addr](t)(p.Client.Addrs(ifname, netlink.FAMILY_V4)); len(addrs) != 1 || addrs[0].Local.Addr() != assigned {
			t.Errorf("round %d: addresses while waiting %+v", round, addrs)
		}
		hasDefault(t, p.Client, ifname)
		if !strings.Contains(c.Log(), `msg="client: no traffic: hanging up"`) {
			t.Errorf("round %d: no idle hang-up in the log", round)
		}
	}

	if err := c.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	stop, cancelStop := context.WithTimeout(ctx, 15*time.Second)
	defer cancelStop()
	if err := c.Wait(stop); err != nil || c.ExitCode() != 0 {
		t.Fatalf("after SIGTERM: %v, status %d\n%s", err, c.ExitCode(), c.Log())
	}
	assertNothingLeft(t, p.Client)
	if _, err := p.Client.Link(ifname); err == nil {
		t.Errorf("%s left behind", ifname)
	}
}

// hasDefault checks that the default route goes through ifname.
func hasDefault(t *testing.T, ns *lab.Netns, ifname string) {
	t.Helper()
	for _, r := range must[[]lab.Route](t)(ns.Routes(netlink.FAMILY_V4)) {
		if r.IsDefault() && r.Link == ifname {
			return
		}
	}
	t.Errorf("no default route through %s", ifname)
}
