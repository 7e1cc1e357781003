package integration

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/integration/lab"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/pppox"
	"github.com/vishvananda/netlink"
)

// The kernel side of dial on demand (issue 9 point 4), driven the way
// pppd's demand mode drives it: a unit with no channel loops what the
// host sends to us, a session's channel is attached to that same unit,
// the held packet goes out with the assigned address once IPCP is up,
// and the unit outlives the session.

// placeholderAddr is the unit's address while it waits, pppd's
// 10.64.64.64 (ipcp.c's demand configuration).
var placeholderAddr = netip.MustParseAddr("10.64.64.64")

// openDemandUnit makes a unit named ifname in ns with the placeholder
// address and acAddr as its peer, up, looping IPv4.
func openDemandUnit(t *testing.T, ns *lab.Netns, ifname string) *pppox.Unit {
	t.Helper()
	var u *pppox.Unit
	if err := ns.Do(func() error {
		var err error
		u, err = pppox.OpenUnit(pppox.UnitConfig{Ifname: ifname})
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	setAddr(t, ns, ifname, placeholderAddr, acAddr)
	l := must[netlink.Link](t)(ns.Handle().LinkByName(ifname))
	if err := ns.Handle().LinkSetUp(l); err != nil {
		t.Fatal(err)
	}
	waiting(t, u)
	return u
}

// waiting puts the unit back to waiting for traffic, as pppd's
// demand_unblock and its disestablish do.
func waiting(t *testing.T, u *pppox.Unit) {
	t.Helper()
	if err := u.SetNPMode(ppp.ProtoIPv4, pppox.NPModePass); err != nil {
		t.Fatal(err)
	}
	if err := u.SetLoopTraffic(true); err != nil {
		t.Fatal(err)
	}
}

// setAddr replaces ifname's IPv4 addresses by local with peer.
func setAddr(t *testing.T, ns *lab.Netns, ifname string, local, peer netip.Addr) {
	t.Helper()
	h := ns.Handle()
	l := must[netlink.Link](t)(h.LinkByName(ifname))
	for _, a := range must[[]netlink.Addr](t)(h.AddrList(l, netlink.FAMILY_V4)) {
		if err := h.AddrDel(l, &a); err != nil {
			t.Fatal(err)
		}
	}
	a := &netlink.Addr{
		IPNet: &net.IPNet{IP: local.AsSlice(), Mask: net.CIDRMask(32, 32)},
		Peer:  &net.IPNet{IP: peer.AsSlice(), Mask: net.CIDRMask(32, 32)},
	}
	if err := h.AddrAdd(l, a); err != nil {
		t.Fatalf("address %s peer %s on %s: %v", local, peer, ifname, err)
	}
}

// sendUDP sends payload from ns to to:port; the stack picks the source.
func sendUDP(t *testing.T, ns *lab.Netns, to netip.Addr, port int, payload string) {
	t.Helper()
	if err := ns.Do(func() error {
		c, err := net.Dial("udp4", netip.AddrPortFrom(to, uint16(port)).String())
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = c.Write([]byte(payload))
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// heldUDP reads the next looped packet and checks it is the UDP datagram
// sent from the placeholder to to:port with payload.
func heldUDP(t *testing.T, ctx context.Context, u *pppox.Unit, to netip.Addr, port int, payload string) []byte {
	t.Helper()
	proto, pkt, err := u.ReadPacket(ctx)
	if err != nil {
		t.Fatalf("ReadPacket: %v", err)
	}
	if proto != ppp.ProtoIPv4 || len(pkt) < 28 || pkt[0] != 0x45 || pkt[9] != 17 {
		t.Fatalf("looped %v % x, want an IPv4 UDP packet", proto, pkt)
	}
	src, dst := netip.AddrFrom4([4]byte(pkt[12:16])), netip.AddrFrom4([4]byte(pkt[16:20]))
	if src != placeholderAddr || dst != to || int(binary.BigEndian.Uint16(pkt[22:24])) != port || string(pkt[28:]) != payload {
		t.Fatalf("looped %s -> %s port %d %q, want %s -> %s port %d %q", src, dst, binary.BigEndian.Uint16(pkt[22:24]), pkt[28:], placeholderAddr, to, port, payload)
	}
	return pkt
}

// Waiting: what the host sends through the unit comes to ReadPacket, the
// placeholder as its source; deleting the interface under the unit fails
// ReadPacket with ErrUnitGone instead of leaving it waiting for ever.
func TestPPPoXDemandLoop(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ns := must[*lab.Netns](t)(lab.NewNetns(t, "pdl"))
	u := openDemandUnit(t, ns, "dod0")
	if u.Ifname() != "dod0" {
		t.Errorf("Ifname %q", u.Ifname())
	}
	sendUDP(t, ns, acAddr, 9999, "first")
	sendUDP(t, ns, acAddr, 9999, "second")
	heldUDP(t, ctx, u, acAddr, 9999, "first")
	heldUDP(t, ctx, u, acAddr, 9999, "second")
	tx, _, err := u.Idle()
	if err != nil || tx > time.Second {
		t.Errorf("Idle: sent %v ago (%v); looped packets count as sent", tx, err)
	}

	// Not looping: the kernel drops (no channel), nothing is read.
	if err := u.SetLoopTraffic(false); err != nil {
		t.Fatal(err)
	}
	sendUDP(t, ns, acAddr, 9999, "dropped")
	short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancelShort()
	if proto, pkt, err := u.ReadPacket(short); err != context.DeadlineExceeded {
		t.Errorf("with looping off: %v % x %v", proto, pkt, err)
	}

	if err := u.SetLoopTraffic(true); err != nil {
		t.Fatal(err)
	}
	l := must[netlink.Link](t)(ns.Handle().LinkByName("dod0"))
	if err := ns.Handle().LinkDel(l); err != nil {
		t.Fatal(err)
	}
	if _, _, err := u.ReadPacket(ctx); !errors.Is(err, pppox.ErrUnitGone) {
		t.Errorf("ReadPacket once the interface is deleted: %v", err)
	}
}

// pppoeSessions counts the kernel's PPPoE sessions in ns
// (/proc/net/pppoe as the namespace sees it).
func pppoeSessions(t *testing.T, ns *lab.Netns) int {
	t.Helper()
	var n int
	if err := ns.Do(func() error {
		b, err := os.ReadFile("/proc/thread-self/net/pppoe")
		n = strings.Count(strings.TrimSpace(string(b)), "\n") // after the header
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return n
}

// demandSession is one session on a shared unit: discovery, ConnectUnit,
// PPP with the ppp package as the client.
type demandSession struct {
	dc      *discovery.Client
	sock    *pppox.Socket
	pppoe   *discovery.Session
	link    *pppox.Link
	control *ppp.Session
	up      chan ppp.IPv4Up
	ran     chan error
	cancel  context.CancelFunc
}

// clientEnds opens, in p's client namespace, a discovery client for the
// reference AC's service "isp" and a PPPoE socket; the caller closes both.
func clientEnds(t *testing.T, p *lab.Pair) (*discovery.Client, *pppox.Socket) {
	t.Helper()
	var dc *discovery.Client
	var sock *pppox.Socket
	if err := p.Client.Do(func() error {
		ifi, err := net.InterfaceByName(p.ClientIf)
		if err != nil {
			return err
		}
		conn, err := discovery.Listen(ifi)
		if err != nil {
			return err
		}
		dc = discovery.NewClient(conn, discovery.ClientConfig{ServiceName: "isp", Timeout: time.Second, Attempts: 5})
		sock, err = pppox.OpenSocket()
		if err != nil {
			dc.Close()
		}
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return dc, sock
}

func dialUnit(t *testing.T, ctx context.Context, p *lab.Pair, u *pppox.Unit) *demandSession {
	t.Helper()
	d := &demandSession{up: make(chan ppp.IPv4Up, 1), ran: make(chan error, 1)}
	d.dc, d.sock = clientEnds(t, p)
	t.Cleanup(func() { d.sock.Close() })
	t.Cleanup(func() { d.dc.Close() })
	var err error
	if d.pppoe, err = d.dc.Discover(ctx); err != nil {
		t.Fatal(err)
	}
	if err := p.Client.Do(func() error {
		d.link, err = d.sock.ConnectUnit(pppox.Config{Interface: p.ClientIf, SessionID: d.pppoe.ID, AC: d.pppoe.AC}, u)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	if d.link.Ifname != u.Ifname() || d.link.Unit != u.Number() {
		t.Errorf("link %s unit %d on unit %s %d", d.link.Ifname, d.link.Unit, u.Ifname(), u.Number())
	}
	d.control = ppp.NewSession(d.link, ppp.Config{
		Role: ppp.RoleClient, User: "user1", Password: "pass1", Allow: []ppp.AuthMethod{ppp.AuthCHAPMD5},
		IPv4: &ppp.IPv4Config{},
		OnEvent: func(e ppp.Event) {
			if up, ok := e.(ppp.IPv4Up); ok {
				d.up <- up
			}
		},
	})
	sctx, cancel := context.WithCancel(context.Background())
	d.cancel = cancel
	go func() { d.ran <- d.control.Run(sctx) }()
	t.Cleanup(d.hangUp)
	return d
}

// hangUp ends the session (LCP Terminate, then PADT) and waits for Run,
// which closes the link; closing the socket takes the session out of the
// kernel (/proc/net/pppoe).
func (d *demandSession) hangUp() {
	if d.cancel == nil {
		return
	}
	d.cancel()
	<-d.ran
	d.cancel = nil
	d.dc.SendPADT(d.pppoe, "test: idle")
	d.sock.Close()
}

func (d *demandSession) waitUp(t *testing.T, ctx context.Context) ppp.IPv4Up {
	t.Helper()
	select {
	case up := <-d.up:
		return up
	case err := <-d.ran:
		d.cancel = nil
		t.Fatalf("the session ended: %v", err)
	case <-ctx.Done():
		t.Fatal("IPCP not up")
	}
	return ppp.IPv4Up{}
}

// udpListener listens on addr:port in ns.
func udpListener(t *testing.T, ns *lab.Netns, addr netip.Addr, port int) net.PacketConn {
	t.Helper()
	var c net.PacketConn
	if err := ns.Do(func() error {
		var err error
		c, err = net.ListenPacket("udp4", netip.AddrPortFrom(addr, uint16(port)).String())
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// expectUDP waits for payload on c and returns where it came from.
func expectUDP(t *testing.T, c net.PacketConn, payload string) netip.Addr {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	buf := make([]byte, 100)
	n, from, err := c.ReadFrom(buf)
	if err != nil || string(buf[:n]) != payload {
		t.Fatalf("the AC got %q %v, want %q", buf[:n], err, payload)
	}
	return from.(*net.UDPAddr).AddrPort().Addr().Unmap()
}

// The whole cycle against the reference AC, twice: a packet sent while
// waiting is looped and held; a session is dialled and attached to the
// same unit; once IPCP is up the unit gets the real address and the held
// packet goes out rewritten to it (and reaches the AC); the session ends
// and the unit stays, same name and index, and waits again; a second
// packet dials a second session on it.
func TestPPPoXDemandSession(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	srv := refServer(t, p, lab.AuthCHAP)
	u := openDemandUnit(t, p.Client, "dod0")
	index := must[lab.Link](t)(p.Client.Link("dod0")).Index
	// The AC's address exists only while its pppd runs: any address.
	sink := udpListener(t, p.AC, netip.IPv4Unspecified(), 9999)

	for round := 1; round <= 2; round++ {
		payload := fmt.Sprintf("held %d", round)
		sendUDP(t, p.Client, acAddr, 9999, payload)
		held := heldUDP(t, ctx, u, acAddr, 9999, payload)

		d := dialUnit(t, ctx, p, u)
		if n := pppoeSessions(t, p.Client); n != 1 {
			t.Errorf("round %d: %d PPPoE sessions in the kernel, want 1", round, n)
		}
		// Attached: nothing loops any more, every protocol is dropped
		// until its NCP is up.
		sendUDP(t, p.Client, acAddr, 9999, "too early")
		short, cancelShort := context.WithTimeout(ctx, 300*time.Millisecond)
		if proto, pkt, err := u.ReadPacket(short); err != context.DeadlineExceeded {
			t.Errorf("round %d: looped while attached: %v % x %v", round, proto, pkt, err)
		}
		cancelShort()

		up := d.waitUp(t, ctx)
		// The AC's pool may hand the second session the next address.
		if !up.Local.Is4() || up.Local == placeholderAddr || up.Peer != acAddr {
			t.Fatalf("IPCP up %s peer %s", up.Local, up.Peer)
		}
		// pppd's ipcp_up: the real addresses, demand_rexmit, then pass.
		setAddr(t, p.Client, "dod0", up.Local, up.Peer)
		if !pppox.RewriteIPv4Source(held, placeholderAddr, up.Local) {
			t.Fatalf("RewriteIPv4Source refused % x", held)
		}
		if err := d.link.SetNPMode(ppp.ProtoIPv4, pppox.NPModePass); err != nil {
			t.Fatal(err)
		}
		// As pppd's demand_rexmit (and client's demand mode): a second
		// for the AC's pppd to finish its side once it has Acked.
		time.Sleep(time.Second)
		if err := u.WritePacket(ppp.ProtoIPv4, held); err != nil {
			t.Fatal(err)
		}
		if from := expectUDP(t, sink, payload); from != up.Local {
			t.Errorf("round %d: the held packet came from %s, want %s", round, from, up.Local)
		}
		if _, err := p.Client.Ping(ctx, acAddr, 1); err != nil {
			t.Errorf("round %d: ping over the session: %v", round, err)
		}
		if tx, rx, err := u.Idle(); err != nil || tx > 2*time.Second || rx > 2*time.Second {
			t.Errorf("round %d: Idle %v %v %v", round, tx, rx, err)
		}

		// Idle: hang up. The unit stays, with its index; the session
		// leaves the kernel.
		d.hangUp()
		if l, err := p.Client.Link("dod0"); err != nil || l.Index != index {
			t.Fatalf("round %d: after the session dod0 is %+v (%v), want index %d", round, l, err, index)
		}
		wait, cancelWait := context.WithTimeout(ctx, 20*time.Second)
		if err := lab.Poll(wait, 50*time.Millisecond, func() (bool, error) { return pppoeSessions(t, p.Client) == 0, nil }); err != nil {
			t.Errorf("round %d: the PPPoE session stays in the kernel", round)
		}
		if err := lab.Poll(wait, 100*time.Millisecond, func() (bool, error) {
			s, err := srv.Sessions()
			return len(s) == 0, err
		}); err != nil {
			t.Errorf("round %d: the AC's session stays", round)
		}
		cancelWait()
		setAddr(t, p.Client, "dod0", placeholderAddr, acAddr)
		waiting(t, u)
	}
	if err := u.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Client.Link("dod0"); err == nil {
		t.Error("dod0 outlived its unit's Close")
	}
}

// The same name across redials without demand (issue 9 point 1): a
// session whose unit the kernel named pppN, closed, then a new one asked
// for that name (Config.Ifname) gets it, by RTM_NEWLINK's IFLA_IFNAME.
func TestPPPoXSameName(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	refServer(t, p, lab.AuthCHAP)
	name := ""
	for round := range 3 {
		dc, sock := clientEnds(t, p)
		s, err := dc.Discover(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if round == 1 {
			// Another unit takes number 0 first: the name asked for
			// need not be the unit's number.
			if err := p.Client.Do(func() error {
				other, err := pppox.OpenUnit(pppox.UnitConfig{Ifname: "other0"})
				if err == nil {
					t.Cleanup(func() { other.Close() })
				}
				return err
			}); err != nil {
				t.Fatal(err)
			}
		}
		var link *pppox.Link
		if err := p.Client.Do(func() error {
			link, err = sock.Connect(pppox.Config{Interface: p.ClientIf, SessionID: s.ID, AC: s.AC, Ifname: name})
			return err
		}); err != nil {
			t.Fatalf("round %d, name %q: %v", round, name, err)
		}
		if name == "" {
			if !strings.HasPrefix(link.Ifname, "ppp") {
				t.Errorf("the kernel named the unit %q", link.Ifname)
			}
			name = link.Ifname
		} else if link.Ifname != name {
			t.Errorf("round %d: %q, want %q", round, link.Ifname, name)
		}
		if _, err := p.Client.Link(name); err != nil {
			t.Errorf("round %d: %v", round, err)
		}
		t.Logf("round %d: %s is unit %d", round, link.Ifname, link.Unit)
		link.Close()
		dc.SendPADT(s, "test")
		dc.Close()
		sock.Close()
		if err := lab.Poll(ctx, 20*time.Millisecond, func() (bool, error) {
			_, err := p.Client.Link(name)
			return err != nil, nil
		}); err != nil {
			t.Fatalf("round %d: %s stays after Close", round, name)
		}
	}
	if !bytes.HasPrefix([]byte(name), []byte("ppp")) {
		t.Errorf("name %q", name)
	}
}

// A Connect that fails once the socket is connected to the session (the
// interface name asked for is another interface's) leaves the socket to
// be connected again, as the client's redial does without the name
// (client.dialWith, ifnameKept): before, the second connect failed with
// EBUSY (pppoe_connect: the socket was still bound), and the client could
// not reconnect for as long as the name stayed taken.
func TestPPPoXConnectRetry(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	refServer(t, p, lab.AuthCHAP)
	if out, err := p.Client.Run(ctx, "ip", "link", "add", "taken0", "type", "dummy"); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	dc, sock := clientEnds(t, p)
	defer dc.Close()
	defer sock.Close()
	s, err := dc.Discover(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer dc.SendPADT(s, "test")
	cfg := pppox.Config{Interface: p.ClientIf, SessionID: s.ID, AC: s.AC, Ifname: "taken0"}
	if err := p.Client.Do(func() error {
		_, err := sock.Connect(cfg)
		return err
	}); err == nil {
		t.Fatal("a unit got the name of an existing interface")
	} else {
		t.Logf("the name taken: %v", err)
	}
	cfg.Ifname = ""
	var link *pppox.Link
	if err := p.Client.Do(func() error {
		link, err = sock.Connect(cfg)
		return err
	}); err != nil {
		t.Fatalf("connecting the same socket again: %v", err)
	}
	defer link.Close()
	if !strings.HasPrefix(link.Ifname, "ppp") {
		t.Errorf("the unit is %q", link.Ifname)
	}
	if _, err := p.Client.Link(link.Ifname); err != nil {
		t.Error(err)
	}
}
