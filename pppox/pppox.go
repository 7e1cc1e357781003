package pppox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
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
	// MRU is what the unit accepts; 0 leaves the kernel's default (1500).
	MRU    int
	Logger *slog.Logger
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

// maxFrame is the read buffer: more than any MRU (a larger frame fails
// the read with EOVERFLOW and is lost, as the kernel drops it).
const maxFrame = 65536

// newLink makes the link over its channel and unit descriptors; start
// starts reading them.
func newLink(ch, unit file, log *slog.Logger) *Link {
	return &Link{ch: ch, unit: unit, log: log, frames: make(chan frame, 64), hup: make(chan struct{}), done: make(chan struct{})}
}

func (l *Link) start() {
	l.readers.Add(2)
	go l.read(l.ch, true)
	go l.read(l.unit, false)
}

// read feeds frames from one descriptor. The end of the channel's (EOF,
// or an error once the kernel unregistered the channel: PADT, the
// interface gone) is the end of the session; the unit outlives its
// channel (ppp_read answers 0 once no channel is connected), so its end
// says nothing.
func (l *Link) read(r io.Reader, channel bool) {
	defer l.readers.Done()
	buf := make([]byte, maxFrame)
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

// maxEarly bounds the frames drain keeps, and its reads.
const maxEarly = 64

// drain returns the session's frames that queued on the socket before the
// channel took over, reading each with recv until it fails (nothing left
// without waiting). Until PPPIOCGCHAN binds the socket the kernel queues
// the session's frames there; afterwards it hands them to the channel.
func drain(recv func([]byte) (int, error), log *slog.Logger) []frame {
	var early []frame
	buf := make([]byte, maxFrame)
	for range maxEarly {
		n, err := recv(buf)
		if err != nil {
			break
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

// WriteFrame implements ppp.Link: LCP and authentication go to the
// channel, the NCPs to the unit (as ppp_generic routes them on receipt).
func (l *Link) WriteFrame(proto ppp.Protocol, b []byte) error {
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
}

// Close takes the session out of the kernel: the channel disconnected and
// the unit (and its interface) destroyed. It returns once its readers
// have ended. The socket is the caller's.
func (l *Link) Close() error {
	l.closeOnce.Do(func() {
		close(l.done)
		_ = disconnect(l.ch) // closing would do it too; this says so first
		l.closeErr = errors.Join(l.ch.Close(), l.unit.Close())
		l.readers.Wait()
	})
	return l.closeErr
}

// SetMRU sets what the unit accepts (PPPIOCSMRU).
func (l *Link) SetMRU(mru int) error {
	if err := setMRU(l.unit, mru); err != nil {
		return fmt.Errorf("pppox: PPPIOCSMRU %d: %w", mru, err)
	}
	return nil
}

// SetNPMode sets what the unit does with a network protocol's packets
// (PPPIOCSNPMODE): NPModePass once its NCP is up, NPModeDrop when it goes
// down.
func (l *Link) SetNPMode(proto ppp.Protocol, mode NPMode) error {
	if err := setNPMode(l.unit, proto, mode); err != nil {
		return fmt.Errorf("pppox: PPPIOCSNPMODE %s %s: %w", proto, mode, err)
	}
	return nil
}

// ReceiveIdle is how long ago the unit last received anything, data
// included (PPPIOCGIDLE); it serves adaptive keepalives (ppp.ReceiveIdler).
func (l *Link) ReceiveIdle() time.Duration {
	d, err := receiveIdle(l.unit)
	if err != nil {
		return time.Duration(1<<63 - 1)
	}
	return d
}
