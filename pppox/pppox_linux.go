package pppox

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"
	"unsafe"

	"github.com/pppoed/pppoed/ppp"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netlink/nl"
	"golang.org/x/sys/unix"
)

// The Linux hooks behind pppox.go: drivers/net/ppp/pppoe.c and
// ppp_generic.c through socket(2), connect(2), /dev/ppp and its PPPIOC*
// ioctls.

const pxProtoOE = 0 // PX_PROTO_OE, <linux/if_pppox.h>

// devPPP is the PPP device (a variable for the tests).
var devPPP = "/dev/ppp"

func openSocket() (int, error) {
	fd, err := unix.Socket(unix.AF_PPPOX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, pxProtoOE)
	if err != nil {
		return -1, fmt.Errorf("pppox: socket(AF_PPPOX): %w", kernelError(err))
	}
	return fd, nil
}

func closeFD(fd int) error { return unix.Close(fd) }

// kernelError maps what says the kernel lacks PPPoE, or that we lack
// privileges, to the sentinels; anything else is returned as is.
func kernelError(err error) error {
	switch {
	case errors.Is(err, unix.EAFNOSUPPORT), errors.Is(err, unix.EPROTONOSUPPORT):
		return fmt.Errorf("%w: load it with `modprobe pppoe` (module pppoe, with pppox and ppp_generic) (%v)", ErrNoKernelSupport, err)
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		return fmt.Errorf("%w (%v)", ErrPermission, err)
	}
	return err
}

// connectError explains connect(2)'s failures.
func connectError(err error, cfg Config) error {
	switch {
	case errors.Is(err, unix.ENODEV):
		return fmt.Errorf("pppox: interface %s does not exist: %w", cfg.Interface, err)
	case errors.Is(err, unix.ENETDOWN), errors.Is(err, unix.ENXIO):
		return fmt.Errorf("pppox: interface %s is down: %w", cfg.Interface, err)
	}
	return fmt.Errorf("pppox: connecting session %#x on %s to %s: %w", cfg.SessionID, cfg.Interface, cfg.AC, kernelError(err))
}

func (s *Socket) connect(cfg Config) (_ *Link, err error) {
	ch, channel, early, err := s.openChannel(cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			s.unbind(cfg) // after the channel's descriptor is closed (defers run last first)
		}
	}()
	unitfd, err := openPPP()
	if err != nil {
		ch.Close()
		return nil, err
	}
	unit, ifname, err := newUnit(unitfd, cfg.Ifname, cfg.Unit-1, cfg.Logger)
	if err != nil {
		ch.Close()
		unix.Close(unitfd)
		return nil, err
	}
	var l *Link
	if cfg.poller != nil {
		l = newPolledLink(ch, pollable(unitfd), cfg.Logger, cfg.poller)
	} else {
		l = newLink(ch, pollable(unitfd), cfg.Logger)
	}
	l.Ifname, l.Unit, l.Channel, l.early = ifname, unit, channel, early
	defer func() {
		if err != nil {
			l.ch.Close()
			l.unit.Close()
		}
	}()
	// Before the channel is connected no frame can reach the unit, and
	// the interface is still down: the protocols are shut first.
	if err = l.dropAll(); err != nil {
		return nil, err
	}
	if err = connectChannel(l.ch, channel, unit); err != nil {
		return nil, err
	}
	if cfg.MRU > 0 {
		if err = l.SetMRU(cfg.MRU); err != nil {
			return nil, err
		}
	}
	if err = l.start(); err != nil {
		return nil, err
	}
	return l, nil
}

// openChannel connects the socket to the session and attaches a /dev/ppp
// descriptor to its channel (PPPIOCGCHAN, PPPIOCATTCHAN). It returns the
// session's frames that arrived on the socket meanwhile.
func (s *Socket) openChannel(cfg Config) (ch file, channel int, early []frame, err error) {
	sa := &unix.SockaddrPPPoE{SID: cfg.SessionID, Remote: cfg.AC, Dev: cfg.Interface}
	tapped := tappedFrames(cfg)
	if err := unix.Connect(s.fd, sa); err != nil {
		return nil, 0, nil, connectError(err, cfg)
	}
	defer func() {
		if err != nil {
			s.unbind(cfg)
		}
	}()
	// Until PPPIOCGCHAN binds the socket, the session's frames queue on
	// the socket itself; afterwards the kernel hands them to the channel
	// (which keeps them until we attach) and the socket answers reads with
	// EIO. So what arrived since connect is read now, then the channel
	// takes over: only microseconds are left uncovered.
	early = append(tapped, drain(func(b []byte) (int, error) {
		n, _, err := unix.Recvfrom(s.fd, b, unix.MSG_DONTWAIT)
		return n, err
	}, cfg.Logger)...)
	channel, err = ioctlGetInt(s.fd, unix.PPPIOCGCHAN)
	if err != nil {
		return nil, 0, nil, fmt.Errorf("pppox: PPPIOCGCHAN: %w", err)
	}
	chfd, err := openPPP()
	if err != nil {
		return nil, 0, nil, err
	}
	if err := ioctlSetInt(chfd, unix.PPPIOCATTCHAN, channel); err != nil {
		unix.Close(chfd)
		return nil, 0, nil, fmt.Errorf("pppox: PPPIOCATTCHAN %d: %w", channel, err)
	}
	return pollable(chfd), channel, early, nil
}

// unbind undoes the socket's connect after a later step failed, so that
// the socket can be connected again (the client retries without the
// interface name it asked for): connecting a connected socket to a
// session fails with EBUSY, and connecting it to session 0 deletes its
// binding and unregisters its channel (pppoe_connect). Best effort: the
// socket's Close does the same.
func (s *Socket) unbind(cfg Config) {
	_ = unix.Connect(s.fd, &unix.SockaddrPPPoE{SID: 0, Remote: cfg.AC, Dev: cfg.Interface})
}

// connectChannel connects the channel's descriptor to the unit
// (PPPIOCCONNECT).
func connectChannel(ch file, channel, unit int) error {
	if err := withFd(ch, func(fd int) error { return ioctlSetInt(fd, unix.PPPIOCCONNECT, unit) }); err != nil {
		return fmt.Errorf("pppox: PPPIOCCONNECT channel %d to unit %d: %w", channel, unit, err)
	}
	return nil
}

// connectUnit is ConnectUnit on Linux. u.mu is held throughout: no other
// session can be attached meanwhile, nor looped traffic turned on.
func (s *Socket) connectUnit(cfg Config, u *Unit) (_ *Link, err error) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if err := u.attachableLocked(); err != nil {
		return nil, err
	}
	ch, channel, early, err := s.openChannel(cfg)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			ch.Close()
			s.unbind(cfg)
		}
	}()
	l := newLink(ch, u.f, cfg.Logger)
	l.shared = u
	l.Ifname, l.Unit, l.Channel, l.early = u.ifname, u.number, channel, early
	// No packet may leave before its NCP is up (pppd's demand_block), nor
	// any frame be looped back once the channel carries them.
	if err = l.dropAll(); err != nil {
		return nil, err
	}
	if err = u.setLoopLocked(false); err != nil {
		return nil, err
	}
	if err = connectChannel(ch, channel, u.number); err != nil {
		return nil, err
	}
	if cfg.MRU > 0 {
		if err = l.SetMRU(cfg.MRU); err != nil {
			_ = disconnect(ch)
			return nil, err
		}
	}
	u.attachLocked(l)
	if err := l.start(); err != nil {
		return nil, err
	}
	return l, nil
}

func openUnit(cfg UnitConfig) (_ *Unit, err error) {
	fd, err := openPPP()
	if err != nil {
		return nil, err
	}
	number, ifname, err := newUnit(fd, cfg.Ifname, cfg.Unit-1, cfg.Logger)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	u := newUnitOn(pollable(fd), number, ifname, cfg.Logger)
	if err := dropAll(u.f, cfg.Logger); err != nil {
		u.f.Close()
		return nil, err
	}
	u.start()
	return u, nil
}

// dropAll sets every network protocol the unit knows to drop. A kernel
// that does not know one of them answers EINVAL; it drops that
// protocol's packets anyway (ppp_start_xmit frees what it cannot map, and
// the receive side gives it to us as a control frame, not to the stack).
func (l *Link) dropAll() error { return dropAll(l.unit, l.log) }

func dropAll(unit file, log *slog.Logger) error {
	for _, proto := range networkProtocols {
		err := setNPMode(unit, proto, NPModeDrop)
		if errors.Is(err, unix.EINVAL) {
			log.Debug("pppox: the kernel does not know a network protocol", "protocol", proto.String())
			continue
		}
		if err != nil {
			return fmt.Errorf("pppox: PPPIOCSNPMODE %s %s: %w", proto, NPModeDrop, err)
		}
	}
	return nil
}

// openPPP opens /dev/ppp as a raw descriptor. It goes to Go's poller only
// once attached (pollable): ppp_poll registers no wait queue for a file
// that is neither channel nor unit yet, so an epoll registration made at
// open time would never wake.
func openPPP() (int, error) {
	fd, err := unix.Open(devPPP, unix.O_RDWR|unix.O_CLOEXEC|unix.O_NONBLOCK, 0)
	if err != nil {
		return -1, openPPPError(err)
	}
	return fd, nil
}

// openPPPError: no device node, or no driver behind it, is a kernel
// without PPP.
func openPPPError(err error) error {
	if errors.Is(err, unix.ENOENT) || errors.Is(err, unix.ENODEV) || errors.Is(err, unix.ENXIO) {
		return fmt.Errorf("pppox: %s: %w (%v)", devPPP, ErrNoKernelSupport, err)
	}
	return fmt.Errorf("pppox: %s: %w", devPPP, kernelError(err))
}

// pollable hands an attached /dev/ppp descriptor to Go's poller.
func pollable(fd int) *os.File { return os.NewFile(uintptr(fd), devPPP) }

// newUnit creates the unit on fd: RTM_NEWLINK names it atomically
// (Linux 4.7+); older kernels get PPPIOCNEWUNIT and a rename. A unit
// number (want >= 0) can only be asked for through PPPIOCNEWUNIT: one in
// use is logged and any other taken, as pppd's make_ppp_unit does.
func newUnit(fd int, name string, want int, log *slog.Logger) (unit int, ifname string, _ error) {
	var err error = unix.EOPNOTSUPP
	if want < 0 {
		err = rtnlNewPPP(fd, name)
	}
	if err != nil {
		if errors.Is(err, unix.EEXIST) {
			return 0, "", fmt.Errorf("pppox: interface %s already exists", name)
		}
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return 0, "", fmt.Errorf("pppox: creating unit %q: %w", name, kernelError(err))
		}
		// Older kernels lack the rtnetlink ops (EOPNOTSUPP), and
		// ppp_nl_newlink answers EBUSY when another unit is being made at
		// the same moment: either way PPPIOCNEWUNIT does it, as pppd falls
		// back on any error.
		if want < 0 {
			log.Debug("pppox: RTM_NEWLINK refused; PPPIOCNEWUNIT", "err", err)
		}
		n := int32(max(want, -1))
		err := ioctl(fd, unix.PPPIOCNEWUNIT, unsafe.Pointer(&n))
		if err != nil && want >= 0 && errors.Is(err, unix.EEXIST) {
			log.Warn(fmt.Sprintf("pppox: PPP unit %d is in use; taking another", want))
			n = -1
			err = ioctl(fd, unix.PPPIOCNEWUNIT, unsafe.Pointer(&n))
		}
		if err != nil {
			return 0, "", fmt.Errorf("pppox: PPPIOCNEWUNIT: %w", kernelError(err))
		}
		if name != "" {
			l, err := netlink.LinkByName(fmt.Sprintf("ppp%d", n))
			if err == nil {
				err = netlink.LinkSetName(l, name)
			}
			if err != nil {
				return 0, "", fmt.Errorf("pppox: naming unit %d %s: %w", n, name, err)
			}
		}
	}
	unit, err = ioctlGetInt(fd, unix.PPPIOCGUNIT)
	if err != nil {
		return 0, "", fmt.Errorf("pppox: PPPIOCGUNIT: %w", err)
	}
	if name == "" {
		name = fmt.Sprintf("ppp%d", unit)
	}
	return unit, name, nil
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

// frameTooLarge: ppp_read fails a frame larger than the buffer with
// EOVERFLOW, and drops it.
func frameTooLarge(err error) bool { return errors.Is(err, unix.EOVERFLOW) }

// The ioctls on attached descriptors.

// npioctl is struct npioctl (<linux/ppp-ioctl.h>): int protocol; enum
// NPmode mode.
type npioctl struct {
	protocol int32
	mode     int32
}

// ppp_idle64 (<linux/ppp_defs.h>): seconds since the last frame sent and
// received.
type pppIdle64 struct {
	xmit, recv int64
}

func disconnect(f file) error {
	return withFd(f, func(fd int) error { return ioctl(fd, unix.PPPIOCDISCONN, nil) })
}

func setMRU(f file, mru int) error {
	return withFd(f, func(fd int) error { return ioctlSetInt(fd, unix.PPPIOCSMRU, mru) })
}

func setNPMode(f file, proto ppp.Protocol, mode NPMode) error {
	np := npioctl{protocol: int32(proto), mode: int32(mode)}
	return withFd(f, func(fd int) error { return ioctl(fd, unix.PPPIOCSNPMODE, unsafe.Pointer(&np)) })
}

func receiveIdle(f file) (time.Duration, error) {
	_, rx, err := idle(f)
	return rx, err
}

func idle(f file) (tx, rx time.Duration, _ error) {
	var idle pppIdle64
	err := withFd(f, func(fd int) error { return ioctl(fd, unix.PPPIOCGIDLE64, unsafe.Pointer(&idle)) })
	return time.Duration(idle.xmit) * time.Second, time.Duration(idle.recv) * time.Second, err
}

// scLoopTraffic is SC_LOOP_TRAFFIC (<linux/ppp-ioctl.h>): the unit hands
// what it would send to its descriptor's readers.
const scLoopTraffic = 0x00000200

// setLoop sets SC_LOOP_TRAFFIC and keeps the other flags, as pppd's
// modify_flags does. PPPIOCGFLAGS adds the compressor's state bits
// (xstate, rstate) to the flags; PPPIOCSFLAGS masks them off again
// (SC_FLAG_BITS), so writing them back is harmless.
func setLoop(f file, on bool) error {
	return withFd(f, func(fd int) error {
		flags, err := ioctlGetInt(fd, unix.PPPIOCGFLAGS)
		if err != nil {
			return fmt.Errorf("PPPIOCGFLAGS: %w", err)
		}
		if on {
			flags |= scLoopTraffic
		} else {
			flags &^= scLoopTraffic
		}
		if err := ioctlSetInt(fd, unix.PPPIOCSFLAGS, flags); err != nil {
			return fmt.Errorf("PPPIOCSFLAGS %#x: %w", flags, err)
		}
		return nil
	})
}

// ioctl is the system call; the tests replace it to see what each
// request is given. The PPPIOC* ioctls take pointers to their arguments:
// x/sys/unix's IoctlSetInt passes the value itself, which the kernel
// would read as an address.
var ioctl = func(fd int, req uint, arg unsafe.Pointer) error {
	_, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), uintptr(req), uintptr(arg))
	if errno != 0 {
		return errno
	}
	return nil
}

// ioctlGetInt reads an int the kernel writes.
func ioctlGetInt(fd int, req uint) (int, error) {
	var v int32
	err := ioctl(fd, req, unsafe.Pointer(&v))
	return int(v), err
}

// ioctlSetInt passes a pointer to an int.
func ioctlSetInt(fd int, req uint, v int) error {
	x := int32(v)
	return ioctl(fd, req, unsafe.Pointer(&x))
}

// withFd runs fn on f's descriptor without racing the poller's use of it.
func withFd(f file, fn func(fd int) error) error {
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
