package pppox

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"github.com/pppoed/pppoed/ppp"
	"golang.org/x/sys/unix"
)

// call is one ioctl as the kernel would see it: the request and the
// argument's bytes, as many as the request's size field says.
type call struct {
	fd  int
	req uint
	arg []byte
}

// fakeIoctl replaces the system call for the test: it records each call
// and answers with reply (copied into the argument) or err.
func fakeIoctl(t *testing.T, reply []byte, err error) *[]call {
	t.Helper()
	var calls []call
	orig := ioctl
	t.Cleanup(func() { ioctl = orig })
	ioctl = func(fd int, req uint, arg unsafe.Pointer) error {
		size := int(req >> 16 & 0x3fff) // _IOC_SIZE
		c := call{fd: fd, req: req}
		if arg != nil {
			b := unsafe.Slice((*byte)(arg), size)
			c.arg = bytes.Clone(b)
			copy(b, reply)
		}
		calls = append(calls, c)
		return err
	}
	return &calls
}

func littleEndian(t *testing.T) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the golden vectors are little-endian")
	}
}

// Each PPPIOC* request gets a pointer to its argument laid out as
// <linux/ppp-ioctl.h> has it, and the request number says that size.
func TestIoctlArguments(t *testing.T) {
	littleEndian(t)
	f, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	defer w.Close()
	tests := []struct {
		name  string
		do    func() (any, error)
		reply []byte
		req   uint   // the request number, from _IOW/_IOR('t', nr, type)
		arg   []byte // what the kernel reads
		want  any    // what the call returns
	}{
		{"SetNPMode", func() (any, error) { return nil, setNPMode(f, ppp.ProtoIPv6, NPModeDrop) }, nil,
			0x4008744b, // _IOW('t', 75, struct npioctl)
			[]byte{
				0x57, 0x00, 0x00, 0x00, // int protocol: 0x57, IPv6
				0x01, 0x00, 0x00, 0x00, // enum NPmode mode: NPMODE_DROP
			}, nil},
		{"SetNPMode pass", func() (any, error) { return nil, setNPMode(f, 0x283, NPModePass) }, nil,
			0x4008744b,
			[]byte{
				0x83, 0x02, 0x00, 0x00, // protocol 0x283, MPLS multicast
				0x00, 0x00, 0x00, 0x00, // NPMODE_PASS
			}, nil},
		{"SetMRU", func() (any, error) { return nil, setMRU(f, 1500) }, nil,
			0x40047452,                     // _IOW('t', 82, int): PPPIOCSMRU
			[]byte{0xdc, 0x05, 0x00, 0x00}, // int: 1500
			nil},
		{"PPPIOCCONNECT", func() (any, error) { return nil, ioctlSetInt(int(f.Fd()), unix.PPPIOCCONNECT, 3) }, nil,
			0x4004743a,                     // _IOW('t', 58, int)
			[]byte{0x03, 0x00, 0x00, 0x00}, // int: unit 3
			nil},
		{"PPPIOCATTCHAN", func() (any, error) { return nil, ioctlSetInt(int(f.Fd()), unix.PPPIOCATTCHAN, 0x102) }, nil,
			0x40047438,                     // _IOW('t', 56, int)
			[]byte{0x02, 0x01, 0x00, 0x00}, // int: channel 0x102
			nil},
		{"PPPIOCGCHAN", func() (any, error) { return ioctlGetInt(int(f.Fd()), unix.PPPIOCGCHAN) },
			[]byte{0x09, 0x00, 0x00, 0x00}, // the kernel writes channel 9
			0x80047437,                     // _IOR('t', 55, int)
			[]byte{0, 0, 0, 0}, 9},
		{"PPPIOCGUNIT", func() (any, error) { return ioctlGetInt(int(f.Fd()), unix.PPPIOCGUNIT) },
			[]byte{0x2a, 0x00, 0x00, 0x00},
			0x80047456, // _IOR('t', 86, int)
			[]byte{0, 0, 0, 0}, 42},
		{"ReceiveIdle", func() (any, error) { return receiveIdle(f) },
			[]byte{
				0x05, 0, 0, 0, 0, 0, 0, 0, // __s64 xmit_idle: 5 s
				0x07, 0, 0, 0, 0, 0, 0, 0, // __s64 recv_idle: 7 s
			},
			0x8010743f, // _IOR('t', 63, struct ppp_idle64)
			make([]byte, 16), 7 * time.Second},
		{"PPPIOCDISCONN", func() (any, error) { return nil, disconnect(f) }, nil,
			0x7439, // _IO('t', 57): no argument
			nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := fakeIoctl(t, tt.reply, nil)
			v, err := tt.do()
			if err != nil {
				t.Fatal(err)
			}
			if len(*calls) != 1 {
				t.Fatalf("%d ioctls", len(*calls))
			}
			c := (*calls)[0]
			if c.fd != int(f.Fd()) || c.req != tt.req || !bytes.Equal(c.arg, tt.arg) {
				t.Errorf("ioctl(%d, %#x, % x), want (%d, %#x, % x)", c.fd, c.req, c.arg, f.Fd(), tt.req, tt.arg)
			}
			if tt.want != nil && v != tt.want {
				t.Errorf("returned %v, want %v", v, tt.want)
			}
		})
	}
}

// The errors of the ioctls come back wrapped, naming the request.
func TestIoctlErrors(t *testing.T) {
	f, w, _ := os.Pipe()
	defer f.Close()
	defer w.Close()
	fakeIoctl(t, nil, unix.ENOTTY)
	l := newLink(f, f, slog.New(slog.DiscardHandler))
	if err := l.SetNPMode(ppp.ProtoIPv4, NPModePass); !errors.Is(err, unix.ENOTTY) || !strings.Contains(err.Error(), "PPPIOCSNPMODE IP pass") {
		t.Errorf("SetNPMode: %v", err)
	}
	if err := l.SetMRU(1492); !errors.Is(err, unix.ENOTTY) || !strings.Contains(err.Error(), "PPPIOCSMRU 1492") {
		t.Errorf("SetMRU: %v", err)
	}
	if d := l.ReceiveIdle(); d != time.Duration(1<<63-1) {
		t.Errorf("ReceiveIdle on failure = %v, want forever (never skip an echo)", d)
	}
}

// Connect shuts every network protocol ppp_generic knows; a kernel that
// does not know one (EINVAL) drops it anyway; any other failure is one.
func TestDropAll(t *testing.T) {
	f, w, _ := os.Pipe()
	defer f.Close()
	defer w.Close()
	l := newLink(f, f, slog.New(slog.DiscardHandler))
	calls := fakeIoctl(t, nil, nil)
	if err := l.dropAll(); err != nil {
		t.Fatal(err)
	}
	var set []string
	for _, c := range *calls {
		if c.req != unix.PPPIOCSNPMODE {
			t.Errorf("request %#x", c.req)
		}
		set = append(set, fmt.Sprintf("%#x=%d", binary.NativeEndian.Uint32(c.arg), binary.NativeEndian.Uint32(c.arg[4:])))
	}
	want := "0x21=1 0x57=1 0x2b=1 0x29=1 0x281=1 0x283=1"
	if got := strings.Join(set, " "); got != want {
		t.Errorf("modes set: %s, want %s", got, want)
	}

	*calls = nil
	ioctl = func(fd int, req uint, arg unsafe.Pointer) error {
		if (*npioctl)(arg).protocol >= 0x281 {
			return unix.EINVAL // a kernel without MPLS
		}
		return nil
	}
	if err := l.dropAll(); err != nil {
		t.Errorf("a protocol the kernel does not know: %v", err)
	}
	ioctl = func(int, uint, unsafe.Pointer) error { return unix.EBADF }
	if err := l.dropAll(); !errors.Is(err, unix.EBADF) || !strings.Contains(err.Error(), "PPPIOCSNPMODE IP drop") {
		t.Errorf("a failure: %v", err)
	}
}

func TestKernelErrors(t *testing.T) {
	other := errors.New("other")
	tests := []struct {
		name string
		err  error
		is   error
		text string
	}{
		{"no address family", kernelError(unix.EAFNOSUPPORT), ErrNoKernelSupport, "modprobe pppoe"},
		{"no protocol", kernelError(unix.EPROTONOSUPPORT), ErrNoKernelSupport, "modprobe pppoe"},
		{"EPERM", kernelError(unix.EPERM), ErrPermission, "CAP_NET_ADMIN"},
		{"EACCES", kernelError(unix.EACCES), ErrPermission, "permission denied"},
		{"other", kernelError(other), other, "other"},
		{"no /dev/ppp", openPPPError(unix.ENOENT), ErrNoKernelSupport, "/dev/ppp"},
		{"no driver", openPPPError(unix.ENODEV), ErrNoKernelSupport, "/dev/ppp"},
		{"no device", openPPPError(unix.ENXIO), ErrNoKernelSupport, "/dev/ppp"},
		{"/dev/ppp denied", openPPPError(unix.EACCES), ErrPermission, "/dev/ppp"},
		{"/dev/ppp other", openPPPError(unix.EMFILE), unix.EMFILE, "/dev/ppp"},
		{"no interface", connectError(unix.ENODEV, Config{Interface: "eth7"}), unix.ENODEV, "interface eth7 does not exist"},
		{"interface down", connectError(unix.ENETDOWN, Config{Interface: "eth7"}), unix.ENETDOWN, "interface eth7 is down"},
		{"interface down (ENXIO)", connectError(unix.ENXIO, Config{Interface: "eth7"}), unix.ENXIO, "interface eth7 is down"},
		{"connect other", connectError(unix.EBUSY, Config{Interface: "eth7", SessionID: 0x12, AC: []byte{2, 0, 0, 0, 0, 1}}), unix.EBUSY,
			"connecting session 0x12 on eth7 to 02:00:00:00:00:01"},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.is) || !strings.Contains(tt.err.Error(), tt.text) {
			t.Errorf("%s: %v, want %v and %q", tt.name, tt.err, tt.is, tt.text)
		}
		if tt.is != ErrNoKernelSupport && errors.Is(tt.err, ErrNoKernelSupport) {
			t.Errorf("%s: %v claims the kernel lacks PPPoE", tt.name, tt.err)
		}
	}
	// The real open: a missing device node.
	orig := devPPP
	t.Cleanup(func() { devPPP = orig })
	devPPP = filepath.Join(t.TempDir(), "ppp")
	if _, err := openPPP(); !errors.Is(err, ErrNoKernelSupport) {
		t.Errorf("openPPP of a missing node: %v", err)
	}
	devPPP = t.TempDir()
	if _, err := openPPP(); err == nil || errors.Is(err, ErrNoKernelSupport) {
		t.Errorf("openPPP of a directory: %v", err)
	}
}

// This host may lack PPPoE (the project's CI host does): OpenSocket says
// so with the sentinel callers branch on.
func TestOpenSocketWithoutPPPoE(t *testing.T) {
	s, err := OpenSocket()
	if err == nil {
		s.Close()
		t.Skip("this kernel has PPPoE")
	}
	if !errors.Is(err, ErrNoKernelSupport) && !errors.Is(err, ErrPermission) {
		t.Errorf("OpenSocket: %v", err)
	}
}

// A frame larger than the buffer fails its read with EOVERFLOW; the
// kernel has dropped it and the next one is read.
func TestLinkSkipsOverflow(t *testing.T) {
	l, ch, _ := fakeLink()
	defer l.Close()
	ch.reads <- read{err: unix.EOVERFLOW}
	ch.reads <- read{b: []byte{0xc0, 0x21, 0x09}}
	if g := readFrame(l); !g.equal(got{ppp.ProtoLCP, []byte{0x09}, nil}) {
		t.Errorf("ReadFrame = %+v", g)
	}
}

// socketpair gives a pollable descriptor that keeps message boundaries,
// as /dev/ppp does, and the other end.
func socketpair(t *testing.T) (ours, theirs *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs = os.NewFile(uintptr(fds[0]), "ours"), os.NewFile(uintptr(fds[1]), "theirs")
	t.Cleanup(func() { theirs.Close() })
	return ours, theirs
}

func readersRunning() int {
	buf := make([]byte, 1<<20)
	return strings.Count(string(buf[:runtime.Stack(buf, true)]), "pppox.(*Link).read(")
}

// waitReaders waits a moment for n readers to be running: one that has
// called Done (a previous test's, or this one's after Close) may not have
// returned yet, as goleak allows for.
func waitReaders(n int) int {
	for i := 0; i < 100 && readersRunning() != n; i++ {
		time.Sleep(time.Millisecond)
	}
	return readersRunning()
}

// Over real descriptors in Go's poller: frames both ways, and Close ends
// readers blocked in read(2).
func TestLinkOverDescriptors(t *testing.T) {
	ch, chPeer := socketpair(t)
	unit, unitPeer := socketpair(t)
	l := newLink(ch, unit, slog.New(slog.DiscardHandler))
	l.start()
	chPeer.Write([]byte{0xc0, 0x21, 0x01, 0x07, 0x00, 0x04})
	if g := readFrame(l); !g.equal(got{ppp.ProtoLCP, []byte{0x01, 0x07, 0x00, 0x04}, nil}) {
		t.Errorf("from the channel: %+v", g)
	}
	unitPeer.Write([]byte{0x80, 0x21, 0x02})
	if g := readFrame(l); !g.equal(got{ppp.ProtoIPCP, []byte{0x02}, nil}) {
		t.Errorf("from the unit: %+v", g)
	}
	if err := l.WriteFrame(ppp.ProtoIPCP, []byte{0x05, 0x01, 0x00, 0x04}); err != nil {
		t.Fatal(err)
	}
	b := make([]byte, 100)
	unitPeer.SetReadDeadline(time.Now().Add(5 * time.Second))
	if n, err := unitPeer.Read(b); err != nil || !bytes.Equal(b[:n], []byte{0x80, 0x21, 0x05, 0x01, 0x00, 0x04}) {
		t.Errorf("written to the unit: % x %v", b[:n], err)
	}
	if n := waitReaders(2); n != 2 {
		t.Fatalf("%d readers before Close", n)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if n := waitReaders(0); n != 0 {
		t.Errorf("%d readers left after Close", n)
	}
	if _, _, err := l.ReadFrame(); err != io.EOF {
		t.Errorf("ReadFrame after Close: %v", err)
	}
}

// The channel's end (the kernel unregistered it: a PADT) ends the link.
func TestLinkChannelGone(t *testing.T) {
	ch, chPeer := socketpair(t)
	unit, _ := socketpair(t)
	l := newLink(ch, unit, slog.New(slog.DiscardHandler))
	l.start()
	defer l.Close()
	chPeer.Close()
	if _, _, err := l.ReadFrame(); err != io.EOF {
		t.Errorf("ReadFrame once the channel is gone: %v", err)
	}
}
