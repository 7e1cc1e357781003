package pppox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"
	"unsafe"

	"github.com/pppoed/pppoed/ppp"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// Kernel constants not in x/sys/unix: <linux/if_pppox.h>, <linux/ppp_defs.h>.
const (
	pxProtoOE = 0 // PX_PROTO_OE

	// Network protocol modes (enum NPmode).
	NPModePass  = 0 // pass packets through
	NPModeDrop  = 1 // silently drop them
	NPModeError = 2 // fail sends with an error
)

// Errors callers branch on: what the kernel lacks, what we lack.
var (
	ErrNoKernelSupport = errors.New("the kernel lacks PPPoE support: load it with `modprobe pppoe` (module pppoe, with pppox and ppp_generic)")
	ErrPermission      = errors.New("permission denied: pppoed needs root, or CAP_NET_ADMIN and CAP_NET_RAW")
)

// Socket is an AF_PPPOX/PX_PROTO_OE socket. Opening it before discovery
// leaves only connect(2) between the PADS and the kernel accepting the
// session's frames.
type Socket struct {
	fd int
}

// OpenSocket opens the kernel's PPPoE socket.
func OpenSocket() (*Socket, error) {
	fd, err := unix.Socket(unix.AF_PPPOX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, pxProtoOE)
	if err != nil {
		return nil, fmt.Errorf("pppox: socket(AF_PPPOX): %w", kernelError(err))
	}
	return &Socket{fd: fd}, nil
}

func kernelError(err error) error {
	switch {
	case errors.Is(err, unix.EAFNOSUPPORT), errors.Is(err, unix.EPROTONOSUPPORT):
		return fmt.Errorf("%w (%v)", ErrNoKernelSupport, err)
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return fmt.Errorf("%w (%v)", ErrPermission, err)
	}
	return err
}

// Close closes the socket (a connected one is left by the kernel; the
// session's PADT is the caller's to send).
func (s *Socket) Close() error {
	if s.fd < 0 {
		return nil
	}
	err := unix.Close(s.fd)
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

// Session is a PPPoE session in the kernel: the connected socket, its
// channel and the unit (the pppN interface). It is a ppp.Link: control
// frames are read from and written to the channel (LCP, authentication)
// or the unit (the NCPs); data never leaves the kernel.
type Session struct {
	Ifname  string
	Unit    int
	Channel int

	sock   *Socket
	ch     *os.File // /dev/ppp attached to the channel
	unit   *os.File // /dev/ppp attached to the unit
	log    *slog.Logger
	frames chan frame
	done   chan struct{}
	once   sync.Once
	early  []frame
}

type frame struct {
	proto ppp.Protocol
	b     []byte
	err   error
}

// Connect hands the session to the kernel and builds its channel and unit
// (PPPIOCGCHAN, PPPIOCATTCHAN, a unit through RTM_NEWLINK with
// IFLA_PPP_DEV_FD, PPPIOCCONNECT), as pppd's PPPoE plugin does. On error
// nothing is left behind but the socket, which the caller still owns.
func (s *Socket) Connect(cfg Config) (_ *Session, err error) {
	if len(cfg.AC) != 6 {
		return nil, fmt.Errorf("pppox: AC address %v is not an Ethernet address", cfg.AC)
	}
	sa := &unix.SockaddrPPPoE{SID: cfg.SessionID, Remote: cfg.AC, Dev: cfg.Interface}
	if err := unix.Connect(s.fd, sa); err != nil {
		switch {
		case errors.Is(err, unix.ENODEV):
			return nil, fmt.Errorf("pppox: interface %s does not exist: %w", cfg.Interface, err)
		case errors.Is(err, unix.ENETDOWN), errors.Is(err, unix.ENXIO):
			return nil, fmt.Errorf("pppox: interface %s is down: %w", cfg.Interface, err)
		}
		return nil, fmt.Errorf("pppox: connecting session %#x on %s to %s: %w", cfg.SessionID, cfg.Interface, cfg.AC, kernelError(err))
	}
	ps := &Session{sock: s, log: cfg.Logger, frames: make(chan frame, 64), done: make(chan struct{})}
	if ps.log == nil {
		ps.log = slog.New(slog.DiscardHandler)
	}
	defer func() {
		if err != nil {
			ps.closeFiles()
		}
	}()
	// Until PPPIOCGCHAN binds the socket, the session's frames queue on
	// the socket itself; afterwards the kernel hands them to the channel
	// (which keeps them until we attach) and the socket answers reads with
	// EIO. So what arrived since connect is read now, then the channel
	// takes over: only microseconds are left uncovered.
	ps.drainSocket()
	if ps.Channel, err = ioctlGetInt(s.fd, unix.PPPIOCGCHAN); err != nil {
		return nil, fmt.Errorf("pppox: PPPIOCGCHAN: %w", err)
	}
	chfd, err := openPPP()
	if err != nil {
		return nil, err
	}
	x := int32(ps.Channel)
	if err := ioctlPtr(chfd, unix.PPPIOCATTCHAN, unsafe.Pointer(&x)); err != nil {
		unix.Close(chfd)
		return nil, fmt.Errorf("pppox: PPPIOCATTCHAN %d: %w", ps.Channel, err)
	}
	ps.ch = pollable(chfd)
	unitfd, err := openPPP()
	if err != nil {
		return nil, err
	}
	if err := ps.newUnit(unitfd, cfg.Ifname); err != nil {
		unix.Close(unitfd)
		return nil, err
	}
	ps.unit = pollable(unitfd)
	if err = ioctlSetIntPtr(ps.ch, unix.PPPIOCCONNECT, ps.Unit); err != nil {
		return nil, fmt.Errorf("pppox: PPPIOCCONNECT channel %d to unit %d: %w", ps.Channel, ps.Unit, err)
	}
	if cfg.MRU > 0 {
		if err = ps.SetMRU(cfg.MRU); err != nil {
			return nil, err
		}
	}
	go ps.read(ps.ch, true)
	go ps.read(ps.unit, false)
	return ps, nil
}

// openPPP opens /dev/ppp as a raw descriptor. It goes to Go's poller only
// once attached (pollable): ppp_poll registers no wait queue for a file
// that is neither channel nor unit yet, so an epoll registration made at
// open time would never wake.
func openPPP() (int, error) {
	fd, err := unix.Open("/dev/ppp", unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENXIO) {
			return -1, fmt.Errorf("pppox: /dev/ppp: %w (%v)", ErrNoKernelSupport, err)
		}
		return -1, fmt.Errorf("pppox: /dev/ppp: %w", kernelError(err))
	}
	return fd, nil
}

// pollable hands an attached /dev/ppp descriptor to Go's poller.
func pollable(fd int) *os.File { return os.NewFile(uintptr(fd), "/dev/ppp") }

// newUnit creates the unit on ps.unit: RTM_NEWLINK names it atomically
// (Linux 4.7+); older kernels get PPPIOCNEWUNIT and a rename.
func (ps *Session) newUnit(fd int, name string) error {
	err := rtnlNewPPP(fd, name)
	if err != nil {
		if errors.Is(err, unix.EEXIST) {
			return fmt.Errorf("pppox: interface %s already exists", name)
		}
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return fmt.Errorf("pppox: creating unit %q: %w", name, kernelError(err))
		}
		// Older kernels lack the rtnetlink ops (EOPNOTSUPP), and
		// ppp_nl_newlink answers EBUSY when another unit is being made at
		// the same moment: either way PPPIOCNEWUNIT does it, as pppd falls
		// back on any error.
		ps.log.Debug("pppox: RTM_NEWLINK refused; PPPIOCNEWUNIT", "err", err)
		unit := int32(-1)
		if err := ioctlPtr(fd, unix.PPPIOCNEWUNIT, unsafe.Pointer(&unit)); err != nil {
			return fmt.Errorf("pppox: PPPIOCNEWUNIT: %w", kernelError(err))
		}
		if name != "" {
			l, err := netlink.LinkByName(fmt.Sprintf("ppp%d", unit))
			if err == nil {
				err = netlink.LinkSetName(l, name)
			}
			if err != nil {
				return fmt.Errorf("pppox: naming unit %d %s: %w", unit, name, err)
			}
		}
	}
	unit, err := ioctlGetInt(fd, unix.PPPIOCGUNIT)
	if err != nil {
		return fmt.Errorf("pppox: PPPIOCGUNIT: %w", err)
	}
	ps.Unit = unit
	ps.Ifname = name
	if name == "" {
		ps.Ifname = fmt.Sprintf("ppp%d", unit)
	}
	return nil
}

// rtnlNewPPP sends RTM_NEWLINK for a ppp link bound to /dev/ppp file fd.
func rtnlNewPPP(fd int, name string) error {
	req := nl.NewNetlinkRequest(unix.RTM_NEWLINK, unix.NLM_F_CREATE|unix.NLM_F_EXCL|unix.NLM_F_ACK)
	req.AddData(nl.NewIfInfomsg(unix.AF_UNSPEC))
	if name != "" {
		req.AddData(nl.NewRtAttr(unix.IFLA_IFNAME, nl.ZeroTerminated(name)))
	}
	info := nl.NewRtAttr(unix.IFLA_LINKINFO, nil)
	info.AddRtAttr(nl.IFLA_INFO_KIND, nl.NonZeroTerminated("ppp"))
	data := info.AddRtAttr(nl.IFLA_INFO_DATA, nil)
	data.AddRtAttr(unix.IFLA_PPP_DEV_FD, nl.Uint32Attr(uint32(fd)))
	req.AddData(info)
	_, err := req.Execute(unix.NETLINK_ROUTE, 0)
	return err
}

// drainSocket keeps the session frames queued on the socket before the
// channel took over.
func (ps *Session) drainSocket() {
	buf := make([]byte, 2048)
	for {
		n, _, err := unix.Recvfrom(ps.sock.fd, buf, unix.MSG_DONTWAIT)
		if err != nil || n < 2 {
			return
		}
		proto := ppp.Protocol(binary.BigEndian.Uint16(buf))
		ps.log.Debug("pppox: frame queued before the channel", "protocol", proto.String())
		ps.early = append(ps.early, frame{proto: proto, b: append([]byte(nil), buf[2:n]...)})
	}
}

// read feeds frames from one descriptor. The end of the channel's (EOF,
// or an error once the kernel unregistered the channel: PADT, the
// interface gone) is the end of the session.
func (ps *Session) read(f *os.File, channel bool) {
	buf := make([]byte, 65536)
	for {
		n, err := f.Read(buf)
		var fr frame
		if errors.Is(err, unix.EOVERFLOW) {
			continue // a frame larger than any MRU: dropped by the kernel
		}
		switch {
		case err != nil || n == 0:
			if !channel {
				return // the unit outlives its channel; nothing to report
			}
			if err == nil {
				err = io.EOF
			}
			fr.err = err
		case n < 2:
			continue
		default:
			fr = frame{proto: ppp.Protocol(binary.BigEndian.Uint16(buf)), b: append([]byte(nil), buf[2:n]...)}
		}
		select {
		case ps.frames <- fr:
		case <-ps.done:
			return
		}
		if fr.err != nil {
			return
		}
	}
}

// ReadFrame implements ppp.Link.
func (ps *Session) ReadFrame() (ppp.Protocol, []byte, error) {
	if len(ps.early) > 0 {
		f := ps.early[0]
		ps.early = ps.early[1:]
		return f.proto, f.b, nil
	}
	select {
	case f := <-ps.frames:
		if f.err != nil {
			return 0, nil, f.err
		}
		return f.proto, f.b, nil
	case <-ps.done:
		return 0, nil, io.EOF
	}
}

// WriteFrame implements ppp.Link: LCP and authentication go to the
// channel, the NCPs to the unit (as ppp_generic routes them on receipt).
func (ps *Session) WriteFrame(proto ppp.Protocol, b []byte) error {
	f := ps.unit
	if proto >= 0xc000 {
		f = ps.ch
	}
	buf := make([]byte, 2+len(b))
	binary.BigEndian.PutUint16(buf, uint16(proto))
	copy(buf[2:], b)
	_, err := f.Write(buf)
	return err
}

// HangUp makes ReadFrame fail with err, as the kernel does when the
// channel goes: for a PADT seen by the discovery socket first.
func (ps *Session) HangUp(err error) {
	select {
	case ps.frames <- frame{err: err}:
	case <-ps.done:
	default:
		go func() {
			select {
			case ps.frames <- frame{err: err}:
			case <-ps.done:
			}
		}()
	}
}

// Close takes the session out of the kernel: the channel disconnected and
// the unit (and its interface) destroyed. The socket is the caller's.
func (ps *Session) Close() error {
	ps.once.Do(func() { close(ps.done) })
	return ps.closeFiles()
}

func (ps *Session) closeFiles() error {
	var errs []error
	if ps.ch != nil {
		_ = withFd(ps.ch, func(fd int) error { return ioctlPtr(fd, unix.PPPIOCDISCONN, nil) })
		errs = append(errs, ps.ch.Close())
		ps.ch = nil
	}
	if ps.unit != nil {
		errs = append(errs, ps.unit.Close())
		ps.unit = nil
	}
	return errors.Join(errs...)
}

// SetMRU sets what the unit accepts (PPPIOCSMRU).
func (ps *Session) SetMRU(mru int) error {
	if err := ioctlSetIntPtr(ps.unit, unix.PPPIOCSMRU, mru); err != nil {
		return fmt.Errorf("pppox: PPPIOCSMRU %d: %w", mru, err)
	}
	return nil
}

// SetNPMode lets a network protocol's packets through the unit (pass)
// or not (PPPIOCSNPMODE), as its NCP comes up or goes down.
func (ps *Session) SetNPMode(proto ppp.Protocol, mode int) error {
	np := struct{ protocol, mode int32 }{int32(proto), int32(mode)}
	err := withFd(ps.unit, func(fd int) error { return ioctlPtr(fd, unix.PPPIOCSNPMODE, unsafe.Pointer(&np)) })
	if err != nil {
		return fmt.Errorf("pppox: PPPIOCSNPMODE %s %d: %w", proto, mode, err)
	}
	return nil
}

// ReceiveIdle is how long ago the unit last received anything, data
// included (PPPIOCGIDLE); it serves adaptive keepalives (ppp.ReceiveIdler).
func (ps *Session) ReceiveIdle() time.Duration {
	var idle struct{ xmit, recv int64 }
	err := withFd(ps.unit, func(fd int) error { return ioctlPtr(fd, unix.PPPIOCGIDLE64, unsafe.Pointer(&idle)) })
	if err != nil {
		return time.Duration(1<<63 - 1)
	}
	return time.Duration(idle.recv) * time.Second
}

// The PPPIOC* ioctls take pointers to their arguments: x/sys/unix's
// IoctlSetInt passes the value itself, which the kernel would read as an
// address. These helpers pass pointers.

func ioctlPtr(fd int, req uint, arg unsafe.Pointer) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
	if errno != 0 {
		return errno
	}
	return nil
}

func ioctlGetInt(fd int, req uint) (int, error) {
	var v int32
	err := ioctlPtr(fd, req, unsafe.Pointer(&v))
	return int(v), err
}

func ioctlSetIntPtr(f *os.File, req uint, v int) error {
	x := int32(v)
	return withFd(f, func(fd int) error { return ioctlPtr(fd, req, unsafe.Pointer(&x)) })
}

// withFd runs fn on f's descriptor without racing the poller's use of it.
func withFd(f *os.File, fn func(fd int) error) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var ferr error
	if err := rc.Control(func(fd uintptr) { ferr = fn(int(fd)) }); err != nil {
		return err
	}
	return ferr
}
