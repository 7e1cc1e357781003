package pppox

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pppoed/pppoed/ppp"
)

// This file is the package's API, the same on every platform. The system
// calls behind it are unexported hooks in pppox_linux.go; elsewhere
// (pppox_others.go) they fail with ErrNoKernelSupport.

// Errors callers branch on: what the kernel lacks, what we lack.
var (
	ErrNoKernelSupport = errors.New("the kernel lacks PPPoE support")
	ErrPermission      = errors.New("permission denied: pppoed needs root, or CAP_NET_ADMIN and CAP_NET_RAW")
)

// NPMode is what the unit does with one network protocol's packets, set
// with Link.SetNPMode (enum NPmode in <linux/ppp_defs.h>).
type NPMode int32

// The modes. On Linux, ppp_generic passes a protocol's packets in
// NPModePass and drops them in every other mode, both ways: ppp_start_xmit
// frees them (counting tx_dropped) and ppp_receive_nonmp_frame frees
// anything received for a protocol not in NPModePass. Error and Queue
// only differ on the BSDs, where pppd's modes come from.
const (
	NPModePass  NPMode = 0 // NPMODE_PASS: the packets cross the link
	NPModeDrop  NPMode = 1 // NPMODE_DROP: dropped silently
	NPModeError NPMode = 2 // NPMODE_ERROR: BSD fails sends; Linux drops, as NPModeDrop
	NPModeQueue NPMode = 3 // NPMODE_QUEUE: BSD holds them; Linux drops, as NPModeDrop
)

func (m NPMode) String() string {
	switch m {
	case NPModePass:
		return "pass"
	case NPModeDrop:
		return "drop"
	case NPModeError:
		return "error"
	case NPModeQueue:
		return "queue"
	}
	return fmt.Sprintf("NPMode(%d)", int32(m))
}

// networkProtocols are the network protocols ppp_generic carries, its
// NUM_NP entries (proto_to_npindex). A new unit passes all of them
// (ppp_create_interface), so Connect sets each to drop and the caller
// passes only those whose NCP is up.
var networkProtocols = []ppp.Protocol{
	0x0021, // IPv4 (NP_IP)
	0x0057, // IPv6 (NP_IPV6)
	0x002b, // IPX (NP_IPX)
	0x0029, // AppleTalk (NP_AT)
	0x0281, // MPLS unicast (NP_MPLS_UC)
	0x0283, // MPLS multicast (NP_MPLS_MC)
}

// Socket is an AF_PPPOX/PX_PROTO_OE socket. Opening it before discovery
// leaves only connect(2) between the PADS and the kernel accepting the
// session's frames.
type Socket struct {
	fd int
}

// OpenSocket opens the kernel's PPPoE socket.
func OpenSocket() (*Socket, error) {
	fd, err := openSocket()
	if err != nil {
		return nil, err
	}
	return &Socket{fd: fd}, nil
}

// Close closes the socket (a connected one is left by the kernel; the
// session's PADT is the caller's to send).
func (s *Socket) Close() error {
	if s.fd < 0 {
		return nil
	}
	err := closeFD(s.fd)
	s.fd = -1
	return err
}

// Config says which session to give the kernel and how to name its unit.
type Config struct {
	Interface string           // the Ethernet interface
	SessionID uint16           // from the PADS
	AC        net.HardwareAddr // the AC's MAC
	// Ifname names the unit's interface; "" lets the kernel name it pppN.
	Ifname string
	// Unit asks for unit number Unit-1 (pppd's unit option), so that
	// the interface is pppN before any rename; 0 takes any free number.
	// A number in use falls back to any, as pppd does (make_ppp_unit).
	Unit int
	// MRU is what the unit accepts; 0 leaves the kernel's default (1500).
	MRU int
	// Tapped, when set, is called just before the socket is connected to
	// the session. The control frames it returns reached the host before
	// the kernel knew the session, so they cannot reach the socket too
	// (discovery.SessionTap keeps them); the link gives them before any
	// other. Between the call and the connect only microseconds pass, as
	// between the drain of the socket and PPPIOCGCHAN.
	Tapped func() []ppp.Frame
	Logger *slog.Logger

	poller *Poller // ConnectPolled's
}

// Connect hands the session to the kernel and builds its channel and unit
// (PPPIOCGCHAN, PPPIOCATTCHAN, a unit through RTM_NEWLINK with
// IFLA_PPP_DEV_FD, PPPIOCCONNECT), as pppd's PPPoE plugin does. Every
// network protocol is set to drop before the unit is connected to the
// channel: the caller passes each one once its NCP is up (SetNPMode). On
// error nothing is left behind but the socket, which the caller still
// owns.
func (s *Socket) Connect(cfg Config) (*Link, error) {
	if len(cfg.AC) != 6 {
		return nil, fmt.Errorf("pppox: AC address %v is not an Ethernet address", cfg.AC)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return s.connect(cfg)
}

// Link is a PPPoE session's PPP link in the kernel: the connected socket's
// channel and the unit (the pppN interface). It implements ppp.Link:
// control frames are read from and written to the channel (LCP,
// authentication) or the unit (the NCPs); data never leaves the kernel.
type Link struct {
	Ifname  string
	Unit    int
	Channel int

	ch, unit file // /dev/ppp attached to the channel, to the unit
	// shared is the Unit the link was attached to by ConnectUnit: its
	// reader hands the link the unit's control frames, and Close leaves
	// the unit in place. Nil when the link made its own unit (Connect).
	shared *Unit
	// poller, when set, reads the link's descriptors (ConnectPolled):
	// polled are its entries, pollMu guards them against Close.
	poller   *Poller
	pollMu   sync.Mutex
	polled   []*pollEntry
	pframes  chan ppp.Frame  // the poller's frames (ppp.FrameChannel)
	onFrame  func(ppp.Frame) // HandleFrames's; guarded by pollMu
	sinkMu   sync.Mutex      // guards onDown and downSent
	onDown   func()
	downSent bool
	log      *slog.Logger
	early    []frame // read from the socket before the channel took over
	frames   chan frame
	readers  sync.WaitGroup

	hup     chan struct{} // closed by HangUp
	hupErr  error
	hupOnce sync.Once

	done      chan struct{} // closed by Close
	closeOnce sync.Once
	closeErr  error
}

// file is an attached /dev/ppp descriptor: an *os.File, a fake in tests.
type file interface {
	io.ReadWriteCloser
	syscall.Conn
}

type frame struct {
	proto ppp.Protocol
	b     []byte
	err   error
}

// maxFrame is the read buffer of the poller and of a unit's looped
// packets: more than any MRU (a larger frame fails the read with
// EOVERFLOW and is lost, as the kernel drops it).
const maxFrame = 65536

// linkFrame is a session's read buffer (Link's readers, drain): the
// protocol field and the largest Information field a peer may send, 1500
// octets, which must be received whatever MRU was negotiated (RFC 1661
// §6.1) and which our MRU never exceeds (PPPoE carries at most 1500, RFC
// 4638). pppd reads into as much (PPP_MRU + PPP_HDRLEN, less the address
// and control fields it puts in front). A larger frame fails the read
// with EOVERFLOW and is lost, as pppd loses it. Two buffers of maxFrame
// were 128 KiB of a client's heap for the whole session.
const linkFrame = 2 + 1500

// newLink makes the link over its channel and unit descriptors; start
// starts reading them.
func newLink(ch, unit file, log *slog.Logger) *Link {
	return &Link{ch: ch, unit: unit, log: log, frames: make(chan frame, 64), hup: make(chan struct{}), done: make(chan struct{})}
}

// newPolledLink is newLink for a link that p reads.
func newPolledLink(ch, unit file, log *slog.Logger, p *Poller) *Link {
	return &Link{ch: ch, unit: unit, log: log, poller: p, pframes: make(chan ppp.Frame, polledFrames), hup: make(chan struct{}), done: make(chan struct{})}
}

func (l *Link) start() error {
	if l.poller != nil {
		// The frames read before the channel took over go first; the
		// poller adds to the queue once registered.
		for _, f := range l.early {
			select {
			case l.pframes <- ppp.Frame{Proto: f.proto, Data: f.b}:
			default:
				l.poller.dropped.Add(1)
			}
		}
		l.early = nil
		return l.poller.register(l)
	}
	if l.shared != nil {
		// The unit's descriptor has one reader, the Unit's.
		l.readers.Add(1)
		go l.read(l.ch, true)
		return nil
	}
	l.readers.Add(2)
	go l.read(l.ch, true)
	go l.read(l.unit, false)
	return nil
}

// read feeds frames from one descriptor. The end of the channel's (EOF,
// or an error once the kernel unregistered the channel: PADT, the
// interface gone) is the end of the session; the unit outlives its
// channel (ppp_read answers 0 once no channel is connected), so its end
// says nothing.
func (l *Link) read(r io.Reader, channel bool) {
	defer l.readers.Done()
	buf := make([]byte, linkFrame)
	for {
		n, err := r.Read(buf)
		if err != nil && frameTooLarge(err) {
			continue // the kernel dropped it; the next one may fit
		}
		var fr frame
		switch {
		case err != nil || n == 0:
			if !channel {
				return
			}
			if err == nil {
				err = io.EOF
			}
			fr.err = err
		case n < 2:
			continue // no protocol field: not a frame
		default:
			fr = frame{proto: ppp.Protocol(binary.BigEndian.Uint16(buf)), b: append([]byte(nil), buf[2:n]...)}
		}
		select {
		case l.frames <- fr:
		case <-l.done:
			return
		}
		if fr.err != nil {
			return
		}
	}
}

// tappedFrames are the frames cfg.Tapped gives, ahead of the socket's.
func tappedFrames(cfg Config) []frame {
	if cfg.Tapped == nil {
		return nil
	}
	var out []frame
	for _, f := range cfg.Tapped() {
		if len(out) == maxEarly {
			break
		}
		out = append(out, frame{proto: f.Proto, b: f.Data})
	}
	return out
}

// maxEarly bounds the frames drain keeps, and its reads.
const maxEarly = 64

// drain returns the session's frames that queued on the socket before the
// channel took over, reading each with recv until it fails (nothing left
// without waiting). Until PPPIOCGCHAN binds the socket the kernel queues
// the session's frames there; afterwards it hands them to the channel.
// The socket cuts a frame longer than the buffer to fit (pppoe_recvmsg
// ignores MSG_TRUNC), so the buffer has an octet more than linkFrame: a
// read that fills it was a longer frame, lost, as the channel's reader
// loses it.
func drain(recv func([]byte) (int, error), log *slog.Logger) []frame {
	var early []frame
	buf := make([]byte, linkFrame+1)
	for range maxEarly {
		n, err := recv(buf)
		if err != nil {
			break
		}
		if n > linkFrame {
			log.Debug("pppox: frame queued before the channel dropped: longer than the largest a peer may send", "max", linkFrame)
			continue
		}
		if n < 2 {
			continue // no protocol field: not a frame
		}
		proto := ppp.Protocol(binary.BigEndian.Uint16(buf))
		log.Debug("pppox: frame queued before the channel", "protocol", proto.String())
		early = append(early, frame{proto: proto, b: append([]byte(nil), buf[2:n]...)})
	}
	return early
}

// ReadFrame implements ppp.Link. One goroutine reads. After Close it
// returns io.EOF, after HangUp HangUp's error.
func (l *Link) ReadFrame() (ppp.Protocol, []byte, error) {
	select {
	case <-l.done:
		return 0, nil, io.EOF
	case <-l.hup:
		return 0, nil, l.hupErr
	default:
	}
	if len(l.early) > 0 {
		f := l.early[0]
		l.early = l.early[1:]
		return f.proto, f.b, nil
	}
	if l.pframes != nil {
		select {
		case f := <-l.pframes:
			return f.Proto, f.Data, nil
		case <-l.hup:
			return 0, nil, l.hupErr
		case <-l.done:
			return 0, nil, io.EOF
		}
	}
	select {
	case f := <-l.frames:
		if f.err != nil {
			return 0, nil, f.err
		}
		return f.proto, f.b, nil
	case <-l.hup:
		return 0, nil, l.hupErr
	case <-l.done:
		return 0, nil, io.EOF
	}
}

// Frames implements ppp.FrameChannel for a link the Poller reads
// (ConnectPolled): its session needs no reader goroutine. Other links
// return nil channels, and their sessions use ReadFrame.
func (l *Link) Frames() (<-chan ppp.Frame, <-chan struct{}) {
	if l.pframes == nil {
		return nil, nil
	}
	return l.pframes, l.hup
}

// HandleFrames implements ppp.FrameSink: the poller calls onFrame with
// each frame (those queued before first) and onDown when the link is
// down, so that a session run by ppp's Start has no goroutine waiting on
// it. A link not made by ConnectPolled gets a goroutine that reads it.
func (l *Link) HandleFrames(onFrame func(ppp.Frame), onDown func()) {
	l.sinkMu.Lock()
	l.onDown = onDown
	l.sinkMu.Unlock()
	if l.pframes == nil {
		l.readers.Add(1)
		go func() {
			defer l.readers.Done()
			for {
				proto, b, err := l.ReadFrame()
				if err != nil {
					l.HangUp(err) // ReadFrame says it from now on
					return
				}
				onFrame(ppp.Frame{Proto: proto, Data: b})
			}
		}()
		return
	}
	l.pollMu.Lock()
	for queued := true; queued; {
		select {
		case f := <-l.pframes:
			onFrame(f)
		default:
			queued = false
		}
	}
	l.onFrame = onFrame
	l.pollMu.Unlock()
	select {
	case <-l.hup:
		l.downNow()
	default:
	}
}

// downNow calls HandleFrames's onDown, once.
func (l *Link) downNow() {
	l.sinkMu.Lock()
	defer l.sinkMu.Unlock()
	if l.onDown != nil && !l.downSent {
		l.downSent = true
		l.onDown()
	}
}

// WriteFrame implements ppp.Link: LCP and authentication go to the
// channel, the NCPs to the unit (as ppp_generic routes them on receipt).
func (l *Link) WriteFrame(proto ppp.Protocol, b []byte) error {
	select {
	case <-l.done:
		// A shared unit is still open: a closed link must not write
		// through it.
		return os.ErrClosed
	default:
	}
	f := l.unit
	if proto >= 0xc000 {
		f = l.ch
	}
	buf := make([]byte, 2+len(b))
	binary.BigEndian.PutUint16(buf, uint16(proto))
	copy(buf[2:], b)
	_, err := f.Write(buf)
	return err
}

// HangUp makes ReadFrame fail with err from now on (io.EOF if nil), as
// the kernel's channel going away does: the PPP session sees its lower
// layer go down (RFC 1661 "Down") and ends at once, without a
// Terminate-Request. It serves a PADT seen by the discovery socket first,
// and a stop that must not wait for the peer. The first call's err
// stands.
func (l *Link) HangUp(err error) {
	if err == nil {
		err = io.EOF
	}
	l.hupOnce.Do(func() {
		l.hupErr = err
		close(l.hup)
	})
	l.downNow()
}

// Close takes the session out of the kernel: the channel disconnected and
// the unit (and its interface) destroyed, unless the link was attached to
// a Unit (ConnectUnit): that unit stays, with its name, addresses and
// routes, for the next session. It returns once its readers have ended.
// The socket is the caller's.
func (l *Link) Close() error {
	l.closeOnce.Do(func() {
		close(l.done)
		if l.poller != nil {
			l.poller.unregister(l)
		}
		_ = disconnect(l.ch) // closing would do it too; this says so first
		if l.shared != nil {
			l.shared.detach(l)
			l.closeErr = l.ch.Close()
		} else {
			l.closeErr = errors.Join(l.ch.Close(), l.unit.Close())
		}
		l.readers.Wait()
	})
	return l.closeErr
}

// closed reports whether Close was called: the ioctls of a link attached
// to a Unit would otherwise still reach the unit.
func (l *Link) closed() error {
	select {
	case <-l.done:
		return os.ErrClosed
	default:
		return nil
	}
}

// SetMRU sets what the unit accepts (PPPIOCSMRU).
func (l *Link) SetMRU(mru int) error {
	if err := l.closed(); err != nil {
		return fmt.Errorf("pppox: PPPIOCSMRU %d: %w", mru, err)
	}
	if err := setMRU(l.unit, mru); err != nil {
		return fmt.Errorf("pppox: PPPIOCSMRU %d: %w", mru, err)
	}
	return nil
}

// SetNPMode sets what the unit does with a network protocol's packets
// (PPPIOCSNPMODE): NPModePass once its NCP is up, NPModeDrop when it goes
// down.
func (l *Link) SetNPMode(proto ppp.Protocol, mode NPMode) error {
	if err := l.closed(); err != nil {
		return fmt.Errorf("pppox: PPPIOCSNPMODE %s %s: %w", proto, mode, err)
	}
	if err := setNPMode(l.unit, proto, mode); err != nil {
		return fmt.Errorf("pppox: PPPIOCSNPMODE %s %s: %w", proto, mode, err)
	}
	return nil
}

// ReceiveIdle is how long ago the unit last received a network
// protocol's packet (PPPIOCGIDLE64: ppp_receive_nonmp_frame sets last_recv
// for data only, not for control frames); it serves adaptive keepalives
// (ppp.ReceiveIdler).
func (l *Link) ReceiveIdle() time.Duration {
	d, err := receiveIdle(l.unit)
	if err != nil {
		return time.Duration(1<<63 - 1)
	}
	return d
}

// ErrUnitGone: the unit's interface was deleted under us (`ip link del`);
// the Unit is useless and must be closed and opened again.
var ErrUnitGone = errors.New("pppox: the ppp unit's interface was deleted")

// UnitConfig names a unit made on its own (OpenUnit).
type UnitConfig struct {
	// Ifname names the interface; "" lets the kernel name it pppN.
	Ifname string
	// Unit is Config.Unit: unit number Unit-1, 0 any.
	Unit   int
	Logger *slog.Logger
}

// Unit is a PPP unit (the pppN interface) that outlives its sessions, as
// pppd's is in demand mode: it exists while no session does, with its
// addresses and routes, and each session's channel is attached to it in
// turn (Socket.ConnectUnit), so the interface keeps its name and index.
//
// While no session is attached, SetLoopTraffic(true) with a network
// protocol in NPModePass hands the packets the host sends through the
// interface to ReadPacket (SC_LOOP_TRAFFIC: ppp_send_frame queues them on
// the unit's descriptor, at most 32, PPP_MAX_RQLEN, instead of a
// channel) — the first is the reason to dial. The kernel cannot hold
// them itself: on Linux NPMODE_QUEUE drops (ppp_start_xmit: "it would be
// nice to have a way to tell the network system to queue this one up").
//
// One goroutine reads the unit's descriptor and sorts what it reads: the
// network protocols' packets (IPv4, IPv6, ...: only looped traffic comes
// this way, received data goes to the stack) to ReadPacket, everything
// else (the NCPs' control frames, unknown protocols the peer sent) to the
// attached Link's ReadFrame, or nowhere when none is attached.
type Unit struct {
	ifname string
	number int
	f      file // /dev/ppp, the unit's owner: closing it destroys pppN
	log    *slog.Logger

	packets chan frame    // looped packets for ReadPacket
	kick    chan struct{} // wakes a reader waiting after EOF
	done    chan struct{} // closed by Close
	gone    chan struct{} // closed by the reader when the unit was deleted
	reader  sync.WaitGroup
	dropped atomic.Uint64 // looped packets ReadPacket was too slow for

	mu   sync.Mutex
	link *Link  // the attached session, if any
	loop bool   // SC_LOOP_TRAFFIC as last set
	gen  uint64 // counts changes of loop, for the reader's EOF test

	closeOnce sync.Once
	closeErr  error
}

// maxHeld bounds the looped packets waiting for ReadPacket: beyond it the
// newest are dropped, as the kernel drops past PPP_MAX_RQLEN.
const maxHeld = 64

// OpenUnit makes a unit with no channel (RTM_NEWLINK with
// IFLA_PPP_DEV_FD, or PPPIOCNEWUNIT on older kernels) with every network
// protocol set to drop, and starts its reader. The interface is down and
// has no address: configure it over netlink as for a session's.
func OpenUnit(cfg UnitConfig) (*Unit, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return openUnit(cfg)
}

func newUnitOn(f file, number int, ifname string, log *slog.Logger) *Unit {
	return &Unit{
		f: f, number: number, ifname: ifname, log: log,
		packets: make(chan frame, maxHeld), kick: make(chan struct{}, 1),
		done: make(chan struct{}), gone: make(chan struct{}),
	}
}

func (u *Unit) start() {
	u.reader.Add(1)
	go u.read()
}

// Ifname is the interface's name.
func (u *Unit) Ifname() string { return u.ifname }

// Number is the unit's number (the N the kernel gave it, whatever its name).
func (u *Unit) Number() int { return u.number }

// read is the unit descriptor's only reader. ppp_read answers 0 (EOF) on
// a unit with no channel that does not loop traffic (and ppp_poll says
// readable), so after an EOF it waits for a change that can make the
// descriptor readable (kick) instead of spinning. An EOF while looping,
// with no change since the read began, is the unit's death: only a dead
// unit (its interface deleted) answers 0 then.
func (u *Unit) read() {
	defer u.reader.Done()
	buf := make([]byte, maxFrame)
	for {
		u.mu.Lock()
		loop, gen := u.loop, u.gen
		u.mu.Unlock()
		n, err := u.f.Read(buf)
		if err != nil && frameTooLarge(err) {
			continue
		}
		if err != nil && !errors.Is(err, io.EOF) {
			select {
			case <-u.done:
			default:
				u.log.Warn("pppox: reading the unit", "interface", u.ifname, "err", err)
				close(u.gone)
			}
			return
		}
		if n == 0 {
			u.mu.Lock()
			dead := loop && u.loop && gen == u.gen
			u.mu.Unlock()
			if dead {
				u.log.Warn("pppox: the unit's interface is gone", "interface", u.ifname)
				close(u.gone)
				return
			}
			select {
			case <-u.kick:
			case <-u.done:
				return
			}
			continue
		}
		if n < 2 {
			continue // no protocol field: not a frame
		}
		fr := frame{proto: ppp.Protocol(binary.BigEndian.Uint16(buf)), b: append([]byte(nil), buf[2:n]...)}
		if slices.Contains(networkProtocols, fr.proto) {
			select {
			case u.packets <- fr:
			default:
				u.dropped.Add(1)
				u.log.Debug("pppox: looped packet dropped: too many held", "protocol", fr.proto.String())
			}
			continue
		}
		u.mu.Lock()
		l := u.link
		u.mu.Unlock()
		if l == nil {
			u.log.Debug("pppox: control frame for the unit with no session attached", "protocol", fr.proto.String())
			continue
		}
		select {
		case l.frames <- fr:
		case <-l.done:
		case <-u.done:
			return
		}
	}
}

// wake tells a reader waiting after EOF to read again.
func (u *Unit) wake() {
	select {
	case u.kick <- struct{}{}:
	default:
	}
}

// ReadPacket returns the next looped packet: its protocol (ppp.ProtoIPv4,
// ...) and the packet (an IP datagram, without the PPP protocol field).
// It returns ctx's error when ctx ends first, an error wrapping
// ErrUnitGone once the interface was deleted, and io.EOF after Close. A
// packet already read is returned even when ctx has ended, so a cancelled
// ctx drains what is held. One goroutine reads.
func (u *Unit) ReadPacket(ctx context.Context) (ppp.Protocol, []byte, error) {
	select {
	case f := <-u.packets:
		return f.proto, f.b, nil
	default:
	}
	select {
	case <-u.gone:
		return 0, nil, fmt.Errorf("pppox: %s: %w", u.ifname, ErrUnitGone)
	case <-u.done:
		return 0, nil, io.EOF
	default:
	}
	select {
	case f := <-u.packets:
		return f.proto, f.b, nil
	case <-u.gone:
		return 0, nil, fmt.Errorf("pppox: %s: %w", u.ifname, ErrUnitGone)
	case <-u.done:
		return 0, nil, io.EOF
	case <-ctx.Done():
		return 0, nil, ctx.Err()
	}
}

// Dropped counts the looped packets dropped because ReadPacket did not
// keep up.
func (u *Unit) Dropped() uint64 { return u.dropped.Load() }

// WritePacket sends a network protocol's packet (pkt without the protocol
// field) through the unit (ppp_write on the unit's descriptor): down the
// attached session's channel, whatever the protocol's NPMode (which only
// gates what the host stack sends). With no session attached the kernel
// drops it; while looping it comes back to ReadPacket. It serves the
// packets held while dialling, once their NCP is up.
func (u *Unit) WritePacket(proto ppp.Protocol, pkt []byte) error {
	if !slices.Contains(networkProtocols, proto) {
		return fmt.Errorf("pppox: WritePacket: %s is not a network protocol", proto)
	}
	select {
	case <-u.done:
		return fmt.Errorf("pppox: WritePacket: %w", os.ErrClosed)
	default:
	}
	buf := make([]byte, 2+len(pkt))
	binary.BigEndian.PutUint16(buf, uint16(proto))
	copy(buf[2:], pkt)
	if _, err := u.f.Write(buf); err != nil {
		return fmt.Errorf("pppox: writing a %s packet to %s: %w", proto, u.ifname, err)
	}
	return nil
}

// SetNPMode sets what the unit does with a network protocol's packets
// (PPPIOCSNPMODE). In demand mode, NPModePass with SetLoopTraffic(true)
// while waiting.
func (u *Unit) SetNPMode(proto ppp.Protocol, mode NPMode) error {
	if err := setNPMode(u.f, proto, mode); err != nil {
		return fmt.Errorf("pppox: PPPIOCSNPMODE %s %s: %w", proto, mode, err)
	}
	return nil
}

// SetLoopTraffic turns SC_LOOP_TRAFFIC on or off (PPPIOCGFLAGS then
// PPPIOCSFLAGS, the unit's other flags kept): on, what the unit would
// send goes to ReadPacket instead, control frames included, so it is
// refused while a session is attached. ConnectUnit turns it off.
func (u *Unit) SetLoopTraffic(on bool) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if on && u.link != nil {
		return fmt.Errorf("pppox: %s: no looped traffic while a session is attached", u.ifname)
	}
	return u.setLoopLocked(on)
}

// setLoopLocked sets the flag with u.mu held. The reader's EOF test needs
// u.loop true only while the kernel loops: cleared before the ioctl, set
// after it.
func (u *Unit) setLoopLocked(on bool) error {
	if !on {
		u.loop = false
		u.gen++
	}
	if err := setLoop(u.f, on); err != nil {
		return fmt.Errorf("pppox: SC_LOOP_TRAFFIC %v on %s: %w", on, u.ifname, err)
	}
	if on {
		u.loop = true
		u.gen++
		u.wake()
	}
	return nil
}

// Idle is how long ago the unit last sent and received a data packet
// (PPPIOCGIDLE64, whole seconds): ppp_generic counts only protocols below
// 0x8000, so LCP echoes keep neither fresh, and looped packets count as
// sent. It serves pppd's idle option.
func (u *Unit) Idle() (tx, rx time.Duration, err error) {
	tx, rx, err = idle(u.f)
	if err != nil {
		return 0, 0, fmt.Errorf("pppox: PPPIOCGIDLE64: %w", err)
	}
	return tx, rx, nil
}

// attach makes l the unit's session; with u.mu held.
func (u *Unit) attachLocked(l *Link) {
	u.link = l
	u.wake() // the descriptor reads again now that a channel is there
}

// detach is Link.Close's: the unit no longer hands l its frames.
func (u *Unit) detach(l *Link) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.link == l {
		u.link = nil
	}
}

// Close destroys the unit and its interface (the owner's descriptor
// closed: ppp_release unregisters pppN), after closing the attached
// session's Link if there is one. It returns once the reader has ended.
func (u *Unit) Close() error {
	u.closeOnce.Do(func() {
		u.mu.Lock()
		l := u.link
		u.mu.Unlock()
		if l != nil {
			l.Close()
		}
		close(u.done)
		u.closeErr = u.f.Close()
		u.reader.Wait()
	})
	return u.closeErr
}

// ConnectUnit hands the session to the kernel as Connect does, but
// attaches its channel to u (PPPIOCCONNECT) instead of making a unit: the
// interface keeps its name, index, addresses and routes across sessions.
// Before the channel is connected every network protocol is set to drop
// (pass each once its NCP is up, Link.SetNPMode or Unit.SetNPMode) and
// looped traffic is turned off, as pppd's demand_block and
// generic_establish_ppp do: packets looped before then stay readable
// with ReadPacket. One session at a time: the Link's Close disconnects
// the channel (PPPIOCDISCONN) and leaves the unit; cfg.Ifname is unused.
func (s *Socket) ConnectUnit(cfg Config, u *Unit) (*Link, error) {
	if len(cfg.AC) != 6 {
		return nil, fmt.Errorf("pppox: AC address %v is not an Ethernet address", cfg.AC)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return s.connectUnit(cfg, u)
}

// attachable says whether a session may be attached to u now; with u.mu
// held.
func (u *Unit) attachableLocked() error {
	select {
	case <-u.done:
		return fmt.Errorf("pppox: unit %s: %w", u.ifname, os.ErrClosed)
	case <-u.gone:
		return fmt.Errorf("pppox: %s: %w", u.ifname, ErrUnitGone)
	default:
	}
	if u.link != nil {
		return fmt.Errorf("pppox: %s already carries a session (channel %d)", u.ifname, u.link.Channel)
	}
	return nil
}
