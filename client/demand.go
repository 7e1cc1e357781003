package client

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/netcfg"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/pppox"
)

// Dial on demand (--dial-on-demand, pppd's demand): pppN exists while no
// session does, configured as pppd's demand mode configures it
// (ipcp.c ip_demand_conf): placeholder addresses, the default route if
// asked for, IPv4 passed and looped back to us (pppox.Unit). The first
// packet the host sends through it dials; what is looped meanwhile is
// held, and sent once IPCP is up with the assigned address as its source
// (pppd's demand_rexmit). After --idle without traffic the session is
// closed and pppN waits again; so it does after a session lost, and the
// next packet redials. These choices follow pppd:
//
//   - pppN keeps the last session's addresses while it waits (ipcp_down
//     in demand mode only queues IP, ipcp_up replaces the addresses when
//     IPCP assigns others), and so its default route and the name
//     servers written for it: connections bound to the address survive a
//     redial that gets it again, and a name lookup is traffic that dials.
//   - IPv6 is not part of it: it stays dropped until IPv6CP is up and
//     goes with the session, as without demand; no IPv6 packet dials.
//   - Demand implies persist (pppd(8): "The demand option implies the
//     persist option"); an explicit --persist=false is refused.
//   - Idle is min(sent, received) idle time (auth.c check_idle), and an
//     idle hang-up is no failure: no wait, no redial until traffic.
//   - A failed dial drops what was held (demand_discard) and backs off
//     as without demand; what the host sends during the wait is dropped
//     too, so that a host sending all the time does not hammer the AC.

// Placeholder addresses while no session ever assigned one: pppd's
// ip_demand_conf makes them up as 10.64.64.64 and 10.112.112.112 plus the
// unit's number.
var (
	placeholderLocal = netip.AddrFrom4([4]byte{10, 64, 64, 64})
	placeholderPeer  = netip.AddrFrom4([4]byte{10, 112, 112, 112})
)

// placeholders are unit n's addresses while it waits.
func placeholders(n int) (local, peer netip.Addr) {
	add := func(a netip.Addr) netip.Addr {
		v := binary.BigEndian.Uint32(a.AsSlice()) + uint32(n)
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], v)
		return netip.AddrFrom4(b)
	}
	return add(placeholderLocal), add(placeholderPeer)
}

// Bounds of what is held while dialling: about what a host sends while
// waiting some seconds for a connection (TCP retransmits, DNS retries);
// more would only be stale.
const (
	maxHeldPackets = 32
	maxHeldBytes   = 64 << 10
)

// errIdle ends a session closed for lack of traffic; pppd exits with
// EXIT_IDLE_TIMEOUT then.
var errIdle = errors.New("client: no traffic for the idle time: hung up")

// demandUnit is what dial on demand needs of the unit that outlives the
// sessions (*pppox.Unit). The tests give it a fake.
type demandUnit interface {
	Ifname() string
	Number() int
	ReadPacket(ctx context.Context) (ppp.Protocol, []byte, error)
	WritePacket(proto ppp.Protocol, pkt []byte) error
	SetNPMode(proto ppp.Protocol, mode pppox.NPMode) error
	SetLoopTraffic(on bool) error
	Idle() (tx, rx time.Duration, err error)
	Dropped() uint64
	Close() error
}

// demandIfconfig is pppN's configuration in demand mode: it also replaces
// the addresses (*netcfg.Interface).
type demandIfconfig interface {
	ifconfig
	ReplaceIPv4(local, peer netip.Addr) error
}

// onDemand is pppN between sessions: the unit, its configuration, and
// what was held for the next session. The daemon's goroutine owns it,
// except ipv4Up, ipv4Down and attached, which the session's goroutine
// calls while the daemon waits for the session (dial).
type onDemand struct {
	cfg   *Config
	log   *slog.Logger
	unit  demandUnit
	iface demandIfconfig
	// kernel is unit as a *pppox.Unit, for Socket.ConnectUnit; nil in
	// tests.
	kernel *pppox.Unit

	// local and peer are pppN's IPv4 addresses now: the placeholders,
	// then the last session's.
	local, peer netip.Addr

	mu        sync.Mutex
	held      []heldPacket
	heldBytes int
	dropped   int    // held packets dropped: too many
	kDropped  uint64 // unit.Dropped() when last looked at
	// stopSend cancels the held packets' delayed send (ipv4Up); nil
	// when none is pending. The session's goroutine, then the daemon's
	// once the session is over, own it.
	stopSend func()
}

type heldPacket struct {
	proto ppp.Protocol
	b     []byte
}

// openDemand makes the unit and configures it to wait for traffic.
func openDemand(cfg *Config) (*onDemand, error) {
	u, err := pppox.OpenUnit(pppox.UnitConfig{Ifname: cfg.Ifname, Unit: cfg.Unit, Logger: cfg.Logger})
	if err != nil {
		if errors.Is(err, pppox.ErrNoKernelSupport) || errors.Is(err, pppox.ErrPermission) {
			return nil, kernelExit(err)
		}
		return nil, &ExitError{Code: ExitFatal, Err: fmt.Errorf("client: %w", err)}
	}
	iface, err := openNetcfg(u.Ifname(), cfg.Logger)
	if err != nil {
		u.Close()
		return nil, &ExitError{Code: ExitFatal, Err: fmt.Errorf("client: %w", err)}
	}
	dm := newOnDemand(cfg, u, iface.(demandIfconfig))
	dm.kernel = u
	if err := dm.setUp(); err != nil {
		dm.close()
		return nil, &ExitError{Code: ExitFatal, Err: fmt.Errorf("client: %w", err)}
	}
	return dm, nil
}

func newOnDemand(cfg *Config, u demandUnit, iface demandIfconfig) *onDemand {
	return &onDemand{cfg: cfg, log: cfg.Logger, unit: u, iface: iface}
}

// setUp configures pppN as pppd's ip_demand_conf does: the placeholder
// addresses, up, the default route if asked for; then it waits.
func (dm *onDemand) setUp() error {
	dm.local, dm.peer = placeholders(dm.unit.Number())
	// The most a session can have without RFC 4638; LCP sets the real
	// one.
	if err := dm.iface.SetMTU(min(dm.cfg.MTU, discovery.DefaultMTU)); err != nil {
		return err
	}
	if err := dm.iface.AddIPv4(dm.local, dm.peer); err != nil {
		return err
	}
	if dm.cfg.OnMoment != nil {
		// pppd's demand_conf runs ip-pre-up here: addresses set, pppN
		// not yet up.
		dm.cfg.OnMoment(Moment{Kind: MomentDemandReady, Ifname: dm.unit.Ifname(), Unit: dm.unit.Number(),
			Interface: dm.cfg.Interface, Local: dm.local, Peer: dm.peer})
	}
	if err := dm.iface.Up(); err != nil {
		return err
	}
	if err := dm.iface.DefaultRoute(dm.cfg.DefaultRoute, dm.cfg.DefaultRouteMetric); err != nil {
		if !errors.Is(err, netcfg.ErrDefaultRouteExists) {
			return err
		}
		dm.log.Warn("client: "+err.Error(), "hint", "--replace-default-route replaces it; --default-route-metric adds ours beside it")
	}
	dm.log.Info("client: dial on demand: waiting for traffic", "interface", dm.unit.Ifname(),
		"local", dm.local.String(), "peer", dm.peer.String(), "idle", dm.cfg.Idle.String())
	return dm.rearm()
}

// rearm makes pppN wait for traffic again once no session is attached:
// IPv4 passed and looped back to us (pppd's demand_unblock), whatever
// was held dropped (demand_discard).
func (dm *onDemand) rearm() error {
	dm.stopSending()
	dm.discard()
	if err := dm.unit.SetNPMode(ppp.ProtoIPv4, pppox.NPModePass); err != nil {
		return err
	}
	return dm.unit.SetLoopTraffic(true)
}

// discard drops what is held and what was looped since.
func (dm *onDemand) discard() {
	n := dm.drain(false)
	dm.mu.Lock()
	n += len(dm.held)
	dm.held, dm.heldBytes = nil, 0
	dm.mu.Unlock()
	if n > 0 {
		dm.log.Info("client: packets sent while no session could carry them dropped", "packets", n, "interface", dm.unit.Ifname())
	}
}

// drain reads what the unit looped without waiting, holding it when hold
// is set; it returns how many packets it read.
func (dm *onDemand) drain(hold bool) int {
	done, cancel := context.WithCancel(context.Background())
	cancel()
	n := 0
	for {
		proto, b, err := dm.unit.ReadPacket(done)
		if err != nil {
			return n
		}
		n++
		if hold {
			dm.hold(proto, b)
		}
	}
}

// hold keeps a looped packet for the session, within the bounds.
func (dm *onDemand) hold(proto ppp.Protocol, b []byte) {
	dm.mu.Lock()
	defer dm.mu.Unlock()
	if len(dm.held) >= maxHeldPackets || dm.heldBytes+len(b) > maxHeldBytes {
		dm.dropped++
		return
	}
	dm.held = append(dm.held, heldPacket{proto, b})
	dm.heldBytes += len(b)
}

// waitTraffic waits for a packet worth dialling for (activePacket), and
// holds it. Looped packets that are not are dropped, as pppd's
// loop_frame drops them.
func (dm *onDemand) waitTraffic(ctx context.Context) (netip.AddrPort, error) {
	for {
		proto, b, err := dm.unit.ReadPacket(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return netip.AddrPort{}, ctx.Err()
			}
			if errors.Is(err, pppox.ErrUnitGone) {
				return netip.AddrPort{}, &ExitError{Code: ExitFatal, Err: fmt.Errorf("client: %s was deleted: dial on demand cannot go on: %w", dm.unit.Ifname(), err)}
			}
			return netip.AddrPort{}, &ExitError{Code: ExitFatal, Err: fmt.Errorf("client: %w", err)}
		}
		if proto != ppp.ProtoIPv4 || !activePacket(b) {
			continue
		}
		dm.hold(proto, b)
		return netip.AddrPortFrom(netip.AddrFrom4([4]byte(b[16:20])), dstPort(b)), nil
	}
}

// attached: a session's channel is attached to the unit, which loops no
// more; what it looped until then is held too.
func (dm *onDemand) attached() {
	dm.drain(true)
}

// heldDelay is how long the held packets wait once IPCP is up, as pppd's
// demand_rexmit sleeps a second before sending them: the peer has just
// acknowledged our addresses and may still be configuring its side (a
// pppd AC passes IPv4 in its ipcp_up, after sending the Configure-Ack).
// Measured in the VM against pppoe-server: a ping's held echo request
// sent at once was dropped by the AC; a second later it is answered.
const heldDelay = time.Second

// ipv4Up is pppd's ipcp_up in demand mode: the assigned addresses in
// place of the ones pppN waited with, IPv4 passed, and heldDelay later
// the held packets sent with the new source address (demand_rexmit).
// pppd sends them before it passes IPv4, but on Linux a unit drops what
// it receives for a protocol not passed (ppp_receive_nonmp_frame), and
// their answers must come in; so a packet the host sends meanwhile goes
// before the held ones. It runs on the session's goroutine; ipv4Down (or
// stopSending) cancels the send.
func (dm *onDemand) ipv4Up(link kernelLink, up ppp.IPv4Up) error {
	if up.Local != dm.local || up.Peer != dm.peer {
		if err := dm.iface.ReplaceIPv4(up.Local, up.Peer); err != nil {
			return err
		}
		if up.Local != dm.local {
			dm.log.Info("client: local IPv4 address changed", "from", dm.local.String(), "to", up.Local.String())
		}
	}
	from := dm.local
	dm.local, dm.peer = up.Local, up.Peer
	if err := link.SetNPMode(ppp.ProtoIPv4, pppox.NPModePass); err != nil {
		return err
	}
	dm.mu.Lock()
	held := dm.held
	dm.held, dm.heldBytes = nil, 0
	dropped := dm.dropped
	dm.dropped = 0
	dm.mu.Unlock()
	if k := dm.unit.Dropped(); k > dm.kDropped {
		dropped += int(k - dm.kDropped)
		dm.kDropped = k
	}
	if len(held)+dropped == 0 {
		return nil
	}
	dm.stopSending()
	cancel := make(chan struct{})
	ended := make(chan struct{})
	dm.stopSend = func() {
		close(cancel)
		<-ended
	}
	go func() {
		defer close(ended)
		select {
		case <-time.After(heldDelay):
		case <-cancel:
			dm.log.Info("client: IPv4 went down before the held packets were sent: dropped", "packets", len(held))
			return
		}
		sent, bad := 0, 0
		for _, p := range held {
			if p.proto != ppp.ProtoIPv4 {
				continue
			}
			if !rewriteHeld(p.b, from, up.Local) {
				bad++
				continue
			}
			if err := dm.unit.WritePacket(p.proto, p.b); err != nil {
				dm.log.Warn("client: sending a held packet", "err", err)
				continue
			}
			sent++
		}
		dm.log.Info("client: packets held while dialling sent", "sent", sent, "malformed", bad, "dropped", dropped)
	}()
	return nil
}

// stopSending cancels the held packets' send if it has not happened, and
// returns once it cannot happen any more: once the session is over, pppN
// loops again, and a held packet written then would come back as
// traffic.
func (dm *onDemand) stopSending() {
	if dm.stopSend != nil {
		dm.stopSend()
		dm.stopSend = nil
	}
}

// rewriteHeld readies a held IPv4 packet for the session: one the host
// sent from the address pppN had gets the new one (pppox.RewriteIPv4Source,
// checksums updated); one from any other source (routed for another host)
// goes as it is, as the link would have carried it. A malformed packet
// from our address is dropped.
func rewriteHeld(b []byte, from, to netip.Addr) bool {
	if len(b) < 20 || b[0]>>4 != 4 {
		return false
	}
	if netip.AddrFrom4([4]byte(b[12:16])) != from {
		return true
	}
	return pppox.RewriteIPv4Source(b, from, to)
}

// ipv4Down is pppd's ipcp_down in demand mode: IPv4 stops crossing the
// link, and pppN keeps its addresses, routes and name servers for the
// next session.
func (dm *onDemand) ipv4Down(link kernelLink) {
	dm.stopSending()
	_ = link.SetNPMode(ppp.ProtoIPv4, pppox.NPModeDrop)
}

// close undoes everything: routes (restoring a replaced default route),
// addresses, files, then the unit and pppN with it.
func (dm *onDemand) close() {
	dm.stopSending()
	dm.iface.Close()
	if err := dm.unit.Close(); err != nil {
		dm.log.Warn("client: closing "+dm.unit.Ifname(), "err", err)
	}
}

// activePacket says whether an IPv4 packet is worth bringing the link up
// for, as pppd's ip_active_pkt (ipcp.c) does: not a fragment after the
// first, nor a TCP FIN without data (the end of a connection that went
// quiet), nor anything too short to be a datagram.
func activePacket(b []byte) bool {
	if len(b) < 20 || b[0]>>4 != 4 {
		return false
	}
	if binary.BigEndian.Uint16(b[6:8])&0x1fff != 0 {
		return false
	}
	if b[9] != 6 { // TCP
		return true
	}
	hlen := int(b[0]&0x0f) * 4
	if hlen < 20 || len(b) < hlen+20 {
		return false
	}
	tcp := b[hlen:]
	const fin = 0x01
	if tcp[13]&fin != 0 && len(b) == hlen+int(tcp[12]>>4)*4 {
		return false
	}
	return true
}

// dstPort is a TCP or UDP packet's destination port, for the log; 0 for
// others.
func dstPort(b []byte) uint16 {
	hlen := int(b[0]&0x0f) * 4
	if (b[9] == 6 || b[9] == 17) && hlen >= 20 && len(b) >= hlen+4 {
		return binary.BigEndian.Uint16(b[hlen+2:])
	}
	return 0
}

// watchIdle starts, at the first network protocol up with dial on demand
// and --idle, pppd's idle check (auth.c check_idle): a session whose unit
// has neither sent nor received a data packet for the idle time
// (min(tx, rx) from PPPIOCGIDLE: traffic either way keeps it) is closed
// with an LCP Terminate-Request, as pppd's lcp_close(0, "Link
// inactive"). The check looks again when the idle time could first be
// over, not every second. It runs on the session's goroutine; stopIdle
// ends it.
func (c *connection) watchIdle() {
	if c.dm == nil || c.cfg.Idle <= 0 || c.stopIdle != nil {
		return
	}
	limit := c.cfg.Idle
	done := make(chan struct{})
	ended := make(chan struct{})
	c.stopIdle = func() {
		close(done)
		<-ended
	}
	go func() {
		defer close(ended)
		t := time.NewTimer(limit)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
			}
			tx, rx, err := c.dm.unit.Idle()
			if err != nil {
				c.log.Warn("client: reading the idle time", "err", err)
				t.Reset(limit)
				continue
			}
			idle := min(tx, rx)
			if idle < limit {
				t.Reset(limit - idle)
				continue
			}
			c.log.Info("client: no traffic: hanging up", "idle", idle.String(), "limit", limit.String(), "interface", c.ifname)
			c.idled.Store(true)
			c.control.Close("pppoed: link inactive")
			return
		}
	}()
}

// waitTraffic is the daemon waiting for a packet to dial for (attempt
// counts the dials, from 1).
func (d *daemon) waitTraffic(ctx context.Context, attempt int) error {
	d.report.waitingForTraffic()
	d.log.Info("client: waiting for traffic", "interface", d.demand.unit.Ifname())
	to, err := d.demand.waitTraffic(ctx)
	if err != nil {
		return err
	}
	d.log.Info("client: traffic: dialling", "to", to.String(), "attempt", attempt)
	if attempt > 1 {
		d.report.redial()
	}
	return nil
}

// demandWait follows an attempt that ended (how: c, err), with dial on
// demand: no redial, the next packet dials, but not before the policy's
// wait is over; what the host sends meanwhile is dropped. It returns
// ctx's error if a stop came first.
func (d *daemon) demandWait(ctx context.Context, c cause, wait time.Duration, start time.Time, err error) error {
	d.log.Warn("client: session over: the next packet redials", "cause", c.String(), "wait", wait.Round(time.Millisecond).String(),
		"after", time.Since(start).Round(time.Millisecond).String(), "err", err)
	if wait <= 0 {
		return nil
	}
	d.report.waiting(time.Now().Add(wait), false)
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-d.after(wait):
	}
	d.demand.discard()
	return nil
}
