package client

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/netcfg"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/pppox"
	"github.com/pppoed/pppoed/status"
)

// fakeUnit is dial on demand's unit (pppox.Unit): what the host sends
// (send) is looped to ReadPacket while the unit loops with IPv4 passed,
// and dropped otherwise; Idle follows the bubble's clock in whole seconds,
// as PPPIOCGIDLE does.
type fakeUnit struct {
	j      *journal
	number int
	pkts   chan []byte
	gone   chan struct{}

	mu      sync.Mutex
	loop    bool
	pass    bool
	written [][]byte
	lastTx  time.Time
	lastRx  time.Time
	lost    int // sent while not looping
}

func newFakeUnit(j *journal, number int) *fakeUnit {
	now := time.Now()
	return &fakeUnit{j: j, number: number, pkts: make(chan []byte, 64), gone: make(chan struct{}), lastTx: now, lastRx: now}
}

func (u *fakeUnit) Ifname() string { return fmt.Sprintf("ppp%d", u.number) }
func (u *fakeUnit) Number() int    { return u.number }

// send is the host sending pkt through pppN.
func (u *fakeUnit) send(pkt []byte) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.lastTx = time.Now()
	if !u.loop || !u.pass {
		u.lost++
		return
	}
	u.pkts <- slices.Clone(pkt)
}

// recv is a data packet received from the peer.
func (u *fakeUnit) recv() {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.lastRx = time.Now()
}

func (u *fakeUnit) ReadPacket(ctx context.Context) (ppp.Protocol, []byte, error) {
	select {
	case b := <-u.pkts:
		return ppp.ProtoIPv4, b, nil
	default:
	}
	select {
	case b := <-u.pkts:
		return ppp.ProtoIPv4, b, nil
	case <-u.gone:
		return 0, nil, fmt.Errorf("pppox: %s: %w", u.Ifname(), pppox.ErrUnitGone)
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
}

func (u *fakeUnit) WritePacket(proto ppp.Protocol, pkt []byte) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.j.add("unit sent %s", describePacket(pkt))
	u.written = append(u.written, slices.Clone(pkt))
	u.lastTx = time.Now()
	return nil
}

func (u *fakeUnit) SetNPMode(proto ppp.Protocol, mode pppox.NPMode) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.j.add("unit %s %s", proto, mode)
	if proto == ppp.ProtoIPv4 {
		u.pass = mode == pppox.NPModePass
	}
	return nil
}

func (u *fakeUnit) SetLoopTraffic(on bool) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.j.add("unit loop %v", on)
	u.loop = on
	return nil
}

func (u *fakeUnit) Idle() (tx, rx time.Duration, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	now := time.Now()
	return now.Sub(u.lastTx).Truncate(time.Second), now.Sub(u.lastRx).Truncate(time.Second), nil
}

func (u *fakeUnit) Dropped() uint64 { return 0 }

func (u *fakeUnit) Close() error {
	u.j.add("unit closed")
	return nil
}

func (u *fakeUnit) sent() [][]byte {
	u.mu.Lock()
	defer u.mu.Unlock()
	return slices.Clone(u.written)
}

// fakeDemandIface is pppN's configuration, which can replace addresses.
type fakeDemandIface struct{ *fakeIface }

func (f *fakeDemandIface) ReplaceIPv4(local, peer netip.Addr) error {
	if err := f.do("ReplaceIPv4", "replace address %s peer %s", local, peer); err != nil {
		return err
	}
	f.remove("4 address")
	f.set("4 address " + local.String())
	return nil
}

// A UDP datagram's or TCP segment's parts, for building test packets.
type ipPacket struct {
	src, dst   string
	proto      uint8 // 17 UDP, 6 TCP, 1 ICMP
	flags      uint8 // TCP flags
	fragOffset uint16
	payload    string
}

// bytes builds the packet with valid checksums.
func (p ipPacket) bytes() []byte {
	thl := map[uint8]int{17: 8, 6: 20, 1: 8}[p.proto]
	b := make([]byte, 20+thl+len(p.payload))
	b[0] = 0x45
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)))
	binary.BigEndian.PutUint16(b[6:], p.fragOffset)
	b[8], b[9] = 64, p.proto
	src, dst := netip.MustParseAddr(p.src).As4(), netip.MustParseAddr(p.dst).As4()
	copy(b[12:], src[:])
	copy(b[16:], dst[:])
	binary.BigEndian.PutUint16(b[10:], ^onesSum(b[:20]))
	t := b[20:]
	copy(t[thl:], p.payload)
	switch p.proto {
	case 17:
		binary.BigEndian.PutUint16(t[0:], 40000)
		binary.BigEndian.PutUint16(t[2:], 53)
		binary.BigEndian.PutUint16(t[4:], uint16(len(t)))
		binary.BigEndian.PutUint16(t[6:], ^transportSum(b))
	case 6:
		binary.BigEndian.PutUint16(t[0:], 40000)
		binary.BigEndian.PutUint16(t[2:], 443)
		t[12], t[13] = 5<<4, p.flags
		binary.BigEndian.PutUint16(t[16:], ^transportSum(b))
	case 1:
		t[0] = 8 // echo request
	}
	return b
}

func onesSum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s > 0xffff {
		s = s&0xffff + s>>16
	}
	return uint16(s)
}

// transportSum is the UDP/TCP sum over the pseudo-header and segment.
func transportSum(b []byte) uint16 {
	t := b[20:]
	ph := make([]byte, 12+len(t))
	copy(ph, b[12:20])
	ph[9] = b[9]
	binary.BigEndian.PutUint16(ph[10:], uint16(len(t)))
	copy(ph[12:], t)
	return onesSum(ph)
}

// checksumsOK: the header's and the transport's checksums verify.
func checksumsOK(b []byte) bool {
	return onesSum(b[:20]) == 0xffff && (b[9] == 1 || transportSum(b) == 0xffff)
}

func describePacket(b []byte) string {
	if len(b) < 20 {
		return fmt.Sprintf("%d bytes", len(b))
	}
	return fmt.Sprintf("%s -> %s %q", netip.AddrFrom4([4]byte(b[12:16])), netip.AddrFrom4([4]byte(b[16:20])), b[min(len(b), 28):])
}

// pppd's ip_active_pkt: no dial for a fragment after the first, nor for a
// TCP FIN without data, nor for what is not an IPv4 datagram.
func TestActivePacket(t *testing.T) {
	const fin, ack, syn = 0x01, 0x10, 0x02
	for _, tt := range []struct {
		name string
		pkt  []byte
		want bool
	}{
		{"UDP", ipPacket{src: "10.64.64.64", dst: "192.0.2.1", proto: 17, payload: "q"}.bytes(), true},
		{"ICMP", ipPacket{src: "10.64.64.64", dst: "192.0.2.1", proto: 1}.bytes(), true},
		{"TCP SYN", ipPacket{src: "10.64.64.64", dst: "192.0.2.1", proto: 6, flags: syn}.bytes(), true},
		{"TCP FIN without data", ipPacket{src: "10.64.64.64", dst: "192.0.2.1", proto: 6, flags: fin | ack}.bytes(), false},
		{"TCP FIN with data", ipPacket{src: "10.64.64.64", dst: "192.0.2.1", proto: 6, flags: fin | ack, payload: "bye"}.bytes(), true},
		{"TCP ACK without data", ipPacket{src: "10.64.64.64", dst: "192.0.2.1", proto: 6, flags: ack}.bytes(), true},
		{"first fragment", ipPacket{src: "10.64.64.64", dst: "192.0.2.1", proto: 17, fragOffset: 0x2000}.bytes(), true}, // MF set, offset 0
		{"later fragment", ipPacket{src: "10.64.64.64", dst: "192.0.2.1", proto: 17, fragOffset: 0x0010}.bytes(), false},
		{"TCP too short for its header", ipPacket{src: "10.64.64.64", dst: "192.0.2.1", proto: 6}.bytes()[:39], false},
		{"19 bytes", make([]byte, 19), false},
		{"IPv6", append([]byte{0x60}, make([]byte, 39)...), false},
		{"TCP with IHL under 5", func() []byte {
			b := ipPacket{src: "10.64.64.64", dst: "192.0.2.1", proto: 6, flags: fin}.bytes()
			b[0] = 0x44
			return b
		}(), false},
	} {
		if got := activePacket(tt.pkt); got != tt.want {
			t.Errorf("%s: activePacket = %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	for _, tt := range []struct {
		n           int
		local, peer string
	}{
		{0, "10.64.64.64", "10.112.112.112"},
		{3, "10.64.64.67", "10.112.112.115"},
		{300, "10.64.65.108", "10.112.113.156"}, // carries into the next octet, as pppd's htonl(0x0a404040 + ifunit)
	} {
		l, p := placeholders(tt.n)
		if l.String() != tt.local || p.String() != tt.peer {
			t.Errorf("placeholders(%d) = %s, %s; want %s, %s", tt.n, l, p, tt.local, tt.peer)
		}
	}
}

// demandRig is onDemand on fakes.
type demandRig struct {
	j     *journal
	unit  *fakeUnit
	iface *fakeIface
	dm    *onDemand
	link  *fakeLink
	log   *syncBuffer
}

func newDemandRig(t *testing.T, cfg Config) *demandRig {
	t.Helper()
	r := &demandRig{j: &journal{}, log: &syncBuffer{}}
	cfg.Interface, cfg.User, cfg.Persist, cfg.DialOnDemand = "eth0", "u", true, true
	cfg.Logger = slog.New(slog.NewTextHandler(r.log, nil))
	if err := cfg.fill(); err != nil {
		t.Fatal(err)
	}
	r.unit = newFakeUnit(r.j, 3)
	r.iface = &fakeIface{j: r.j}
	r.dm = newOnDemand(&cfg, r.unit, &fakeDemandIface{r.iface})
	r.link = &fakeLink{j: r.j}
	return r
}

// pppN waits as pppd's ip_demand_conf leaves it: placeholder addresses,
// up, the default route, and only then IPv4 passed and looped, so that
// the first packet already has its source and its route.
func TestDemandSetUp(t *testing.T) {
	var moments []Moment
	var r *demandRig
	r = newDemandRig(t, Config{DefaultRoute: netcfg.RouteAdd, DefaultRouteMetric: 5, MTU: 1500, OnMoment: func(m Moment) {
		r.j.add("moment %s", m.Kind)
		moments = append(moments, m)
	}})
	if err := r.dm.setUp(); err != nil {
		t.Fatal(err)
	}
	if len(moments) != 1 || moments[0].Ifname != "ppp3" || moments[0].Unit != 3 || moments[0].Local.String() != "10.64.64.67" || moments[0].Peer.String() != "10.112.112.115" {
		t.Errorf("moments %+v", moments)
	}
	want := []string{
		"iface mtu 1492", // without RFC 4638 until a session says otherwise
		"iface address 10.64.64.67 peer 10.112.112.115",
		"moment demand-ready", // pppd's ip-pre-up: addresses set, not up
		"iface up",
		"iface default route metric 5",
		"unit IP pass",
		"unit loop true",
	}
	if got := r.j.all(); !slices.Equal(got, want) {
		t.Errorf("set up:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// A default route already there is no reason not to wait (as
	// without demand).
	r = newDemandRig(t, Config{DefaultRoute: netcfg.RouteAdd})
	r.iface.fail, r.iface.failErr = "DefaultRoute", fmt.Errorf("netcfg: x: %w", netcfg.ErrDefaultRouteExists)
	if err := r.dm.setUp(); err != nil {
		t.Errorf("with a default route already there: %v", err)
	}
	r = newDemandRig(t, Config{})
	r.iface.fail = "AddIPv4"
	if err := r.dm.setUp(); err == nil || slices.Contains(r.j.all(), "unit loop true") {
		t.Errorf("a failed address: %v, and looping: %q", err, r.j.all())
	}
}

// The first active packet dials and is held, and so is what the unit
// looped until the session was attached, in order and within bounds;
// once IPCP is up the addresses are replaced, IPv4 passes (before: the
// unit would drop the answers), and a second later (pppd's
// demand_rexmit: the peer may still be setting up its side) the held
// packets go out with the assigned source (checksums updated).
func TestDemandHeldPackets(t *testing.T) {
	synctest.Test(t, testDemandHeldPackets)
}

// sendHeld waits for the held packets' delayed send.
func sendHeld(t *testing.T, r *demandRig, mark string) {
	t.Helper()
	time.Sleep(heldDelay - time.Millisecond)
	synctest.Wait()
	if got := r.j.after(mark); slices.ContainsFunc(got, func(l string) bool { return strings.HasPrefix(l, "unit sent") }) {
		t.Errorf("held packets sent before %v: %q", heldDelay, got)
	}
	time.Sleep(time.Millisecond)
	synctest.Wait()
}

func testDemandHeldPackets(t *testing.T) {
	r := newDemandRig(t, Config{})
	if err := r.dm.setUp(); err != nil {
		t.Fatal(err)
	}
	ph := "10.64.64.67"
	fin := ipPacket{src: ph, dst: "192.0.2.1", proto: 6, flags: 0x11}.bytes()
	first := ipPacket{src: ph, dst: "192.0.2.53", proto: 17, payload: "first"}.bytes()
	r.unit.send(fin) // not worth a dial: dropped
	r.unit.send(first)
	to, err := r.dm.waitTraffic(context.Background())
	if err != nil || to.String() != "192.0.2.53:53" {
		t.Fatalf("waitTraffic = %v, %v", to, err)
	}
	// Dialling: the kernel loops on until the session is attached.
	routed := ipPacket{src: "192.168.1.10", dst: "192.0.2.80", proto: 6, flags: 0x02, payload: "routed"}.bytes()
	bad := ipPacket{src: ph, dst: "192.0.2.1", proto: 17, payload: "truncated"}.bytes()
	bad[3] = 0xff // longer than it is: RewriteIPv4Source refuses it
	r.unit.send(ipPacket{src: ph, dst: "192.0.2.1", proto: 6, flags: 0x02, payload: "second"}.bytes())
	r.unit.send(routed)
	r.unit.send(bad)
	for i := range maxHeldPackets {
		r.unit.send(ipPacket{src: ph, dst: "192.0.2.1", proto: 1, payload: fmt.Sprint(i)}.bytes())
	}
	r.dm.attached()
	r.j.add("attached")

	up := ppp.IPv4Up{Local: netip.MustParseAddr("10.64.0.2"), Peer: netip.MustParseAddr("10.64.0.1")}
	if err := r.dm.ipv4Up(r.link, up); err != nil {
		t.Fatal(err)
	}
	sendHeld(t, r, "attached")
	// Held: first, second, routed, the truncated one, ICMP 0..27 (32);
	// ICMP 28..31 over the bound. Sent: all but the truncated one, in
	// order, after the new address and IPv4 passed.
	got := r.j.after("attached")
	if len(got) != 2+maxHeldPackets-1 {
		t.Fatalf("after IPCP up %d lines:\n%s", len(got), strings.Join(got, "\n"))
	}
	if got[0] != "iface replace address 10.64.0.2 peer 10.64.0.1" || got[1] != "link IP pass" {
		t.Errorf("first %q, want the address replaced, then IPv4 passed", got[:2])
	}
	for _, l := range got[2:] {
		if !strings.HasPrefix(l, "unit sent ") {
			t.Errorf("%q among the held packets sent", l)
		}
	}
	sent := r.unit.sent()
	if len(sent) != maxHeldPackets-1 {
		t.Fatalf("%d sent, want %d", len(sent), maxHeldPackets-1)
	}
	for i, b := range sent {
		if !checksumsOK(b) {
			t.Errorf("sent %d (%s): bad checksums", i, describePacket(b))
		}
	}
	for i, want := range []struct{ src, suffix string }{{"10.64.0.2", "first"}, {"10.64.0.2", "second"}, {"192.168.1.10", "routed"}, {"10.64.0.2", "0"}} {
		if src := netip.AddrFrom4([4]byte(sent[i][12:16])).String(); src != want.src || !strings.HasSuffix(string(sent[i]), want.suffix) {
			t.Errorf("sent %d: %s, want from %s ...%q", i, describePacket(sent[i]), want.src, want.suffix)
		}
	}
	if string(sent[2]) != string(routed) {
		t.Errorf("the routed packet changed: % x", sent[2])
	}
	if p := sent[len(sent)-1]; string(p[28:]) != "27" {
		t.Errorf("last sent %s, want ICMP 27 (order kept)", describePacket(p))
	}
	if !strings.Contains(r.log.String(), "sent=31 malformed=1 dropped=4") {
		t.Errorf("log lacks the counts:\n%s", r.log)
	}

	// IPCP down: IPv4 stops, the addresses stay (pppd's ipcp_down in
	// demand mode); waiting again, the next packet comes from them, and
	// the next session's address replaces them.
	r.j.add("down")
	r.dm.ipv4Down(r.link)
	if err := r.dm.rearm(); err != nil {
		t.Fatal(err)
	}
	if got, want := r.j.after("down"), []string{"link IP drop", "unit IP pass", "unit loop true"}; !slices.Equal(got, want) {
		t.Errorf("down:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if left := r.iface.left(); !slices.Equal(left, []string{"4 address 10.64.0.2"}) {
		t.Errorf("configured while waiting: %q", left)
	}
	r.unit.send(ipPacket{src: "10.64.0.2", dst: "192.0.2.53", proto: 17, payload: "again"}.bytes())
	if _, err := r.dm.waitTraffic(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.dm.attached()
	r.j.add("up again")
	if err := r.dm.ipv4Up(r.link, ppp.IPv4Up{Local: netip.MustParseAddr("10.64.0.7"), Peer: up.Peer}); err != nil {
		t.Fatal(err)
	}
	sendHeld(t, r, "up again")
	want := []string{"iface replace address 10.64.0.7 peer 10.64.0.1", "link IP pass", `unit sent 10.64.0.7 -> 192.0.2.53 "again"`}
	if got := r.j.after("up again"); !slices.Equal(got, want) {
		t.Errorf("second session:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The same address a third time: nothing to replace.
	r.j.add("same")
	if err := r.dm.ipv4Up(r.link, ppp.IPv4Up{Local: netip.MustParseAddr("10.64.0.7"), Peer: up.Peer}); err != nil {
		t.Fatal(err)
	}
	if got := r.j.after("same"); !slices.Equal(got, []string{"link IP pass"}) {
		t.Errorf("the same address again: %q", got)
	}
}

// IPv4 going down before the held packets are sent cancels the send:
// after the session pppN loops again, and a held packet written then
// would come back as traffic.
func TestDemandHeldCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := newDemandRig(t, Config{})
		if err := r.dm.setUp(); err != nil {
			t.Fatal(err)
		}
		r.unit.send(ipPacket{src: "10.64.64.67", dst: "192.0.2.53", proto: 17, payload: "q"}.bytes())
		if _, err := r.dm.waitTraffic(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := r.dm.ipv4Up(r.link, ppp.IPv4Up{Local: netip.MustParseAddr("10.64.0.2"), Peer: netip.MustParseAddr("10.64.0.1")}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(heldDelay / 2)
		r.dm.ipv4Down(r.link)
		time.Sleep(heldDelay)
		synctest.Wait()
		if s := r.unit.sent(); len(s) != 0 {
			t.Errorf("sent after IPv4 went down: %d packets", len(s))
		}
		if !strings.Contains(r.log.String(), "IPv4 went down before the held packets were sent: dropped\" packets=1") {
			t.Errorf("log:\n%s", r.log)
		}
	})
}

// A failed dial (or one that never got IPCP up) drops what it held, as
// pppd's demand_discard: the next session must not send stale packets.
func TestDemandDiscard(t *testing.T) {
	r := newDemandRig(t, Config{})
	if err := r.dm.setUp(); err != nil {
		t.Fatal(err)
	}
	r.unit.send(ipPacket{src: "10.64.64.67", dst: "192.0.2.53", proto: 17, payload: "stale"}.bytes())
	if _, err := r.dm.waitTraffic(context.Background()); err != nil {
		t.Fatal(err)
	}
	r.unit.send(ipPacket{src: "10.64.64.67", dst: "192.0.2.53", proto: 17, payload: "stale too"}.bytes())
	if err := r.dm.rearm(); err != nil {
		t.Fatal(err)
	}
	if err := r.dm.ipv4Up(r.link, ppp.IPv4Up{Local: netip.MustParseAddr("10.64.0.2"), Peer: netip.MustParseAddr("10.64.0.1")}); err != nil {
		t.Fatal(err)
	}
	if s := r.unit.sent(); len(s) != 0 {
		t.Errorf("sent after a discard: %d packets", len(s))
	}
	if !strings.Contains(r.log.String(), "packets=2") {
		t.Errorf("the discard is not logged with its count:\n%s", r.log)
	}
}

// The unit's interface deleted under us ends the wait with an error
// that says so, instead of waiting for ever.
func TestDemandUnitGone(t *testing.T) {
	r := newDemandRig(t, Config{})
	close(r.unit.gone)
	_, err := r.dm.waitTraffic(context.Background())
	if !errors.Is(err, pppox.ErrUnitGone) || ExitCode(err) != ExitFatal || !strings.Contains(err.Error(), "ppp3 was deleted") {
		t.Errorf("waitTraffic = %v (status %d)", err, ExitCode(err))
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = newDemandRig(t, Config{})
	if _, err := r.dm.waitTraffic(ctx); err != context.Canceled {
		t.Errorf("waitTraffic after a stop = %v", err)
	}
}

// Idle: pppd's check_idle hangs up once neither way has carried a data
// packet for the idle time (min of the two), with an LCP
// Terminate-Request and a PADT; pppN keeps its configuration.
func TestDemandIdle(t *testing.T) {
	s := time.Second
	tests := []struct {
		name    string
		idle    time.Duration
		traffic func(u *fakeUnit) // from IPCP up, in the bubble
		hangUp  time.Duration     // after IPCP up; 0: not within the hour
	}{
		{"quiet", 3 * s, nil, 3 * s},
		{"received data keeps it", 3 * s, every(s, 10*s, (*fakeUnit).recv), 13 * s},
		{"sent data keeps it", 3 * s, every(s, 10*s, func(u *fakeUnit) { u.send(nil) }), 13 * s},
		{"a long idle time", time.Minute, every(20*s, 50*s, (*fakeUnit).recv), 100 * s},
		{"no idle time: never", 0, nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				u := newFakeUnit(&journal{}, 0)
				h := start(t, setup{ctx: ctx, demand: u, cfg: Config{Persist: true, DialOnDemand: true, Idle: tt.idle}})
				u.j = h.j
				waitEvent[ppp.IPv4Up](h)
				upAt := time.Now()
				u.recv()
				u.send(nil)
				if tt.traffic != nil {
					go tt.traffic(u)
				}
				var err error
				select {
				case err = <-h.done:
				case <-time.After(time.Hour):
				}
				took := time.Since(upAt)
				if tt.hangUp == 0 {
					if err != nil || took < time.Hour {
						t.Fatalf("ended after %v: %v", took, err)
					}
					cancel()
					h.wait()
					return
				}
				synctest.Wait()
				if !errors.Is(err, errIdle) || ExitCode(err) != ExitIdleTimeout {
					t.Fatalf("run = %v (status %d), want the idle hang-up", err, ExitCode(err))
				}
				// PPPIOCGIDLE counts whole seconds: up to one late.
				if took < tt.hangUp || took > tt.hangUp+s {
					t.Errorf("hung up %v after IPCP up, want %v", took, tt.hangUp)
				}
				if n := h.termReqs.Load(); n == 0 {
					t.Error("no LCP Terminate-Request")
				}
				if h.j.count(fmt.Sprintf("PADT 0x%x", sessionID)) != 1 {
					t.Errorf("PADTs: %q", h.j.all())
				}
				if left := h.iface.left(); !slices.Equal(left, []string{"4 address 10.64.0.2"}) {
					t.Errorf("configured after the idle hang-up: %q, want the address kept", left)
				}
				if slices.Contains(h.j.all(), "iface closed") || !slices.Contains(h.j.all(), "link closed") {
					t.Errorf("teardown: %q", h.j.all())
				}
				if !strings.Contains(h.log.String(), `msg="client: no traffic: hanging up"`) {
					t.Errorf("log:\n%s", h.log)
				}
			})
		})
	}
}

// every calls f every d until until has passed.
func every(d, until time.Duration, f func(*fakeUnit)) func(*fakeUnit) {
	return func(u *fakeUnit) {
		for t := d; t <= until; t += d {
			time.Sleep(d)
			f(u)
		}
	}
}

// A stop while the session is up closes it as without demand, but
// leaves pppN's configuration to the daemon, which undoes it with the
// unit (onDemand.close): routes, addresses and files, then the unit.
func TestDemandStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		u := newFakeUnit(&journal{}, 0)
		h := start(t, setup{ctx: ctx, demand: u, cfg: Config{Persist: true, DialOnDemand: true, Idle: time.Minute,
			UsePeerDNS: true, ResolvConf: "/run/test/resolv.conf"}})
		u.j = h.j
		waitEvent[ppp.IPv4Up](h)
		h.j.add("stop")
		cancel()
		if err := h.wait(); err != nil {
			t.Fatal(err)
		}
		h.dm.close()
		want := []string{"link IP drop", "link closed", fmt.Sprintf("PADT 0x%x", sessionID), "iface closed", "unit closed"}
		if got := h.j.after("stop"); !slices.Equal(got, want) {
			t.Errorf("stop:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if left := h.iface.left(); len(left) != 0 {
			t.Errorf("left: %q", left)
		}
	})
}

// The daemon with dial on demand: nothing dials before traffic; traffic
// dials; an idle hang-up and a lost session wait for traffic again
// instead of redialling; failed dials still back off, and what the host
// sends meanwhile is dropped; maxfail still gives up.
func TestDemandDaemon(t *testing.T) {
	s := time.Second
	idle := &ExitError{Code: ExitIdleTimeout, Err: errIdle}
	noPADO := &ExitError{Code: ExitConnectFailed, Err: errors.New("no PADO")}
	pkt := ipPacket{src: "10.64.64.64", dst: "192.0.2.53", proto: 17, payload: "q"}.bytes()
	tests := []struct {
		name     string
		cfg      Config
		attempts []attemptFunc
		packets  []time.Duration // when the host sends one
		stopAt   time.Duration   // 0: it must end by itself
		starts   []time.Duration
		status   int
		states   []status.State
	}{
		{
			name:   "nothing dials without traffic",
			stopAt: time.Hour,
			states: []status.State{status.StateWaiting, status.StateStopping},
		},
		{
			name:     "traffic dials; after an idle hang-up the next packet redials",
			attempts: []attemptFunc{connects(time.Minute, idle), connects(time.Minute, idle)},
			packets:  []time.Duration{10 * s, 30 * time.Minute},
			stopAt:   time.Hour,
			starts:   []time.Duration{10 * s, 30 * time.Minute},
			states: []status.State{status.StateWaiting, status.StateDialing, status.StateAuthenticating, status.StateConnected,
				status.StateDisconnected, status.StateWaiting, status.StateDialing, status.StateAuthenticating, status.StateConnected,
				status.StateDisconnected, status.StateWaiting, status.StateStopping},
		},
		{
			name:     "a lost session is not redialled before traffic",
			attempts: []attemptFunc{connects(time.Minute, down(ppp.ReasonPeerDead))},
			packets:  []time.Duration{10 * s},
			stopAt:   time.Hour,
			starts:   []time.Duration{10 * s},
		},
		{
			// Packets every second; each attempt fails after 5.25 s:
			// 0.3 dials, fails at 5.55, waits 2 s (to 7.55: 6.3 and
			// 7.3 dropped), 8.3 dials, fails at 13.55, waits 4 s (to
			// 17.55), 18.3 dials and fails: the third failure.
			name:     "failed dials back off, and maxfail gives up",
			cfg:      Config{MaxFail: 3},
			attempts: []attemptFunc{fails(5250*time.Millisecond, noPADO), fails(5250*time.Millisecond, noPADO), fails(5250*time.Millisecond, noPADO)},
			packets: func() (p []time.Duration) {
				for i := range 30 {
					p = append(p, time.Duration(i)*s+300*time.Millisecond)
				}
				return p
			}(),
			starts: []time.Duration{300 * time.Millisecond, 8300 * time.Millisecond, 18300 * time.Millisecond},
			status: ExitConnectFailed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tt.cfg.Persist, tt.cfg.DialOnDemand, tt.cfg.Ifname = true, true, "ppp0"
				rig := newDaemonRig(t, tt.cfg, newFakeEther(true), tt.attempts...)
				j := &journal{}
				u := newFakeUnit(j, 0)
				iface := &fakeIface{j: j}
				rig.d.demand = newOnDemand(rig.d.cfg, u, &fakeDemandIface{iface})
				if err := rig.d.demand.setUp(); err != nil {
					t.Fatal(err)
				}
				// The daemon's attempts stand for dialWith: the unit
				// stops looping while one runs.
				dial := rig.d.dial
				rig.d.dial = func(ctx, lost context.Context, cfg *Config, r *reporter) error {
					u.SetLoopTraffic(false)
					u.SetNPMode(ppp.ProtoIPv4, pppox.NPModeDrop)
					rig.d.demand.attached()
					return dial(ctx, lost, cfg, r)
				}
				ctx, cancel := context.WithCancel(t.Context())
				defer cancel()
				for _, at := range tt.packets {
					time.AfterFunc(at, func() { u.send(pkt) })
				}
				if tt.stopAt > 0 {
					time.AfterFunc(tt.stopAt, cancel)
				}
				err := rig.d.run(ctx)
				synctest.Wait() // STOPPING=1's goroutine
				if ExitCode(err) != tt.status {
					t.Errorf("run: %v (status %d), want %d\n%s", err, ExitCode(err), tt.status, rig.log)
				}
				if !slices.Equal(rig.starts, tt.starts) {
					t.Errorf("dials at %v, want %v\n%s", rig.starts, tt.starts, rig.log)
				}
				if tt.states != nil && !slices.Equal(rig.sink.states, tt.states) {
					t.Errorf("states %v, want %v", rig.sink.states, tt.states)
				}
				if n := rig.notify.all(); len(n) < 2 || n[0] != "STATUS=waiting for traffic on ppp0" || n[1] != "READY=1" {
					t.Errorf("sd_notify begins %q: want waiting for traffic, then READY=1", n)
				}
			})
		})
	}
}
