package pppox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"golang.org/x/sys/unix"
)

// fakeUnit is a Unit over a fake descriptor whose ioctls go to a fake
// ioctl answering reply.
func fakeUnit(t *testing.T, reply []byte) (*Unit, *fakeFile, *[]call) {
	f := newFakeFile()
	f.raw = true
	calls := fakeIoctl(t, reply, nil)
	u := newUnitOn(f, 3, "ppp3", slog.New(slog.DiscardHandler))
	u.start()
	return u, f, calls
}

// attachFake attaches a session over a fake channel, as ConnectUnit does
// once the kernel has connected it.
func attachFake(u *Unit) (*Link, *fakeFile) {
	ch := newFakeFile()
	l := newLink(ch, u.f, u.log)
	l.shared, l.Ifname, l.Unit = u, u.ifname, u.number
	u.mu.Lock()
	u.attachLocked(l)
	u.mu.Unlock()
	l.start()
	return l, ch
}

func noPacket(t *testing.T, u *Unit) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if p, b, err := u.ReadPacket(ctx); err != context.Canceled {
		t.Fatalf("ReadPacket = %v %x %v, want nothing held", p, b, err)
	}
}

func readPacket(t *testing.T, u *Unit) got {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p, b, err := u.ReadPacket(ctx)
	return got{p, b, err}
}

// The unit's one reader sorts what it reads: the network protocols'
// packets (looped traffic) to ReadPacket, everything else to the attached
// session, or nowhere without one.
func TestUnitDispatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u, f, _ := fakeUnit(t, nil)
		defer u.Close()
		l, _ := attachFake(u)
		for _, b := range [][]byte{
			{0x00, 0x21, 0x45, 0x01}, // IPv4, looped
			{0x80, 0x21, 0x01, 0x07}, // IPCP Configure-Request
			{0x00, 0x57, 0x60, 0x02}, // IPv6, looped
			{0x00},                   // no protocol field: skipped
			{0x00, 0x23, 0x03},       // OSI network layer: unknown, the session Protocol-Rejects it
			{0x80, 0xfd, 0x04},       // CCP
			{0x02, 0x81, 0x05},       // MPLS unicast: a network protocol
		} {
			f.reads <- read{b: b}
		}
		synctest.Wait()
		for _, want := range []got{{ppp.ProtoIPv4, []byte{0x45, 0x01}, nil}, {ppp.ProtoIPv6, []byte{0x60, 0x02}, nil}, {0x281, []byte{0x05}, nil}} {
			if g := readPacket(t, u); !g.equal(want) {
				t.Errorf("ReadPacket = %+v, want %+v", g, want)
			}
		}
		noPacket(t, u)
		for _, want := range []got{{ppp.ProtoIPCP, []byte{0x01, 0x07}, nil}, {0x0023, []byte{0x03}, nil}, {ppp.ProtoCCP, []byte{0x04}, nil}} {
			if g := readFrame(l); !g.equal(want) {
				t.Errorf("ReadFrame = %+v, want %+v", g, want)
			}
		}
		// Detached: control frames go nowhere, packets still to ReadPacket.
		l.Close()
		f.reads <- read{b: []byte{0x80, 0x21, 0x09}}
		f.reads <- read{b: []byte{0x00, 0x21, 0x45, 0x0a}}
		synctest.Wait()
		if g := readPacket(t, u); !g.equal(got{ppp.ProtoIPv4, []byte{0x45, 0x0a}, nil}) {
			t.Errorf("ReadPacket after the session = %+v", g)
		}
		l2, _ := attachFake(u)
		defer l2.Close()
		done := make(chan got, 1)
		go func() { done <- readFrame(l2) }()
		synctest.Wait()
		select {
		case g := <-done:
			t.Errorf("the next session got the frame sent while none was attached: %+v", g)
		default:
		}
	})
}

// ppp_read answers 0 on a unit with no channel that does not loop
// traffic: the reader then waits for a change (looping turned on, a
// session attached) instead of reading again at once, for ever.
func TestUnitWaitsAfterEOF(t *testing.T) {
	for _, change := range []string{"loop", "attach"} {
		t.Run(change, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				u, f, _ := fakeUnit(t, []byte{0, 0, 0, 0})
				defer u.Close()
				f.reads <- read{}                                  // EOF
				f.reads <- read{b: []byte{0x00, 0x21, 0x45, 0x00}} // what comes after the change
				synctest.Wait()
				noPacket(t, u)
				if change == "loop" {
					if err := u.SetLoopTraffic(true); err != nil {
						t.Fatal(err)
					}
				} else {
					l, _ := attachFake(u)
					defer l.Close()
				}
				synctest.Wait()
				if g := readPacket(t, u); !g.equal(got{ppp.ProtoIPv4, []byte{0x45, 0x00}, nil}) {
					t.Errorf("after the change: %+v", g)
				}
			})
		})
	}
}

// While looping, ppp_read answers 0 only for a dead unit (its interface
// deleted): ReadPacket then fails with ErrUnitGone, and no session can be
// attached. An EOF read while the loop was briefly off is no death.
func TestUnitGone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u, f, _ := fakeUnit(t, []byte{0, 0, 0, 0})
		defer u.Close()
		if err := u.SetLoopTraffic(true); err != nil {
			t.Fatal(err)
		}
		f.reads <- read{b: []byte{0x00, 0x21, 0x45}}
		synctest.Wait() // the reader is in its next Read, looping
		if g := readPacket(t, u); g.err != nil {
			t.Fatal(g.err)
		}
		// Off and on again while that read is under way; its EOF
		// belongs to the moment the loop was off.
		u.SetLoopTraffic(false)
		u.SetLoopTraffic(true)
		f.reads <- read{}
		synctest.Wait()
		noPacket(t, u)
		// Now an EOF while looping throughout.
		f.reads <- read{}
		synctest.Wait()
		if g := readPacket(t, u); !errors.Is(g.err, ErrUnitGone) || !strings.Contains(g.err.Error(), "ppp3") {
			t.Errorf("ReadPacket = %+v, want ErrUnitGone", g)
		}
		u.mu.Lock()
		err := u.attachableLocked()
		u.mu.Unlock()
		if !errors.Is(err, ErrUnitGone) {
			t.Errorf("attaching to a dead unit: %v", err)
		}
	})
}

// Packets ReadPacket is too slow for are dropped, newest first, and
// counted; ctx bounds the wait; Close ends it.
func TestUnitReadPacket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u, f, _ := fakeUnit(t, nil)
		go func() {
			for i := range maxHeld + 3 {
				f.reads <- read{b: []byte{0x00, 0x21, byte(i)}}
			}
		}()
		synctest.Wait()
		if d := u.Dropped(); d != 3 {
			t.Errorf("Dropped = %d, want 3", d)
		}
		for i := range maxHeld {
			if g := readPacket(t, u); !g.equal(got{ppp.ProtoIPv4, []byte{byte(i)}, nil}) {
				t.Fatalf("packet %d: %+v", i, g)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		start := time.Now()
		if _, _, err := u.ReadPacket(ctx); err != context.DeadlineExceeded || time.Since(start) != time.Second {
			t.Errorf("ReadPacket with nothing held: %v after %v", err, time.Since(start))
		}
		done := make(chan error)
		go func() { _, _, err := u.ReadPacket(context.Background()); done <- err }()
		synctest.Wait()
		u.Close()
		if err := <-done; err != io.EOF {
			t.Errorf("ReadPacket across Close: %v", err)
		}
	})
}

// WritePacket writes the protocol field and the packet to the unit; only
// network protocols, and not once closed.
func TestUnitWritePacket(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u, f, _ := fakeUnit(t, nil)
		if err := u.WritePacket(ppp.ProtoIPv4, []byte{0x45, 0x00}); err != nil {
			t.Fatal(err)
		}
		if err := u.WritePacket(ppp.ProtoIPCP, []byte{0x01}); err == nil {
			t.Error("WritePacket sent an IPCP frame")
		}
		if w := f.frames(); len(w) != 1 || !bytes.Equal(w[0], []byte{0x00, 0x21, 0x45, 0x00}) {
			t.Errorf("written: % x", w)
		}
		u.Close()
		if err := u.WritePacket(ppp.ProtoIPv4, []byte{0x45}); !errors.Is(err, os.ErrClosed) {
			t.Errorf("WritePacket after Close: %v", err)
		}
	})
}

// SC_LOOP_TRAFFIC is set and cleared with the unit's other flags kept
// (PPPIOCGFLAGS, then PPPIOCSFLAGS), and refused while a session is
// attached: its NCP frames would come back to it.
func TestUnitSetLoopTraffic(t *testing.T) {
	littleEndian(t)
	synctest.Test(t, func(t *testing.T) {
		u, _, calls := fakeUnit(t, []byte{0x05, 0x00, 0x00, 0x01}) // flags: SC_COMP_PROT|SC_COMP_TCP, and an xstate bit
		defer u.Close()
		if err := u.SetLoopTraffic(true); err != nil {
			t.Fatal(err)
		}
		if err := u.SetLoopTraffic(false); err != nil {
			t.Fatal(err)
		}
		want := []call{
			{-1, 0x8004745a, []byte{0, 0, 0, 0}},             // _IOR('t', 90, int): PPPIOCGFLAGS
			{-1, 0x40047459, []byte{0x05, 0x02, 0x00, 0x01}}, // _IOW('t', 89, int): PPPIOCSFLAGS, | SC_LOOP_TRAFFIC 0x200
			{-1, 0x8004745a, []byte{0, 0, 0, 0}},
			{-1, 0x40047459, []byte{0x05, 0x00, 0x00, 0x01}}, // &^ SC_LOOP_TRAFFIC
		}
		if len(*calls) != len(want) {
			t.Fatalf("%d ioctls: %+v", len(*calls), *calls)
		}
		for i, c := range *calls {
			if c.fd != want[i].fd || c.req != want[i].req || !bytes.Equal(c.arg, want[i].arg) {
				t.Errorf("ioctl %d: (%d, %#x, % x), want (%d, %#x, % x)", i, c.fd, c.req, c.arg, want[i].fd, want[i].req, want[i].arg)
			}
		}
		l, _ := attachFake(u)
		if err := u.SetLoopTraffic(true); err == nil {
			t.Error("looping turned on under a session")
		}
		l.Close()
		if err := u.SetLoopTraffic(true); err != nil {
			t.Errorf("after the session: %v", err)
		}
		fakeIoctl(t, nil, unix.ENOTTY)
		if err := u.SetLoopTraffic(true); !errors.Is(err, unix.ENOTTY) || !strings.Contains(err.Error(), "PPPIOCGFLAGS") {
			t.Errorf("a failing PPPIOCGFLAGS: %v", err)
		}
	})
}

// Idle is PPPIOCGIDLE64's two counts; SetNPMode is PPPIOCSNPMODE on the
// unit.
func TestUnitIoctls(t *testing.T) {
	littleEndian(t)
	synctest.Test(t, func(t *testing.T) {
		u, _, calls := fakeUnit(t, []byte{
			0x05, 0, 0, 0, 0, 0, 0, 0, // __s64 xmit_idle: 5 s
			0x07, 0, 0, 0, 0, 0, 0, 0, // __s64 recv_idle: 7 s
		})
		defer u.Close()
		tx, rx, err := u.Idle()
		if err != nil || tx != 5*time.Second || rx != 7*time.Second {
			t.Errorf("Idle = %v %v %v", tx, rx, err)
		}
		if c := (*calls)[0]; c.req != 0x8010743f { // _IOR('t', 63, struct ppp_idle64)
			t.Errorf("Idle's request %#x", c.req)
		}
		*calls = nil
		if err := u.SetNPMode(ppp.ProtoIPv4, NPModePass); err != nil {
			t.Fatal(err)
		}
		if c := (*calls)[0]; c.req != 0x4008744b || !bytes.Equal(c.arg, []byte{0x21, 0, 0, 0, 0, 0, 0, 0}) {
			t.Errorf("SetNPMode: %#x % x", c.req, c.arg)
		}
		fakeIoctl(t, nil, unix.ENOTTY)
		if _, _, err := u.Idle(); !errors.Is(err, unix.ENOTTY) {
			t.Errorf("a failing Idle: %v", err)
		}
		if err := u.SetNPMode(ppp.ProtoIPv4, NPModeDrop); !errors.Is(err, unix.ENOTTY) || !strings.Contains(err.Error(), "PPPIOCSNPMODE IP drop") {
			t.Errorf("a failing SetNPMode: %v", err)
		}
	})
}

// A session's Link on a shared unit: its Close disconnects the channel
// and leaves the unit open, and the closed link can no longer write to
// the unit or set its modes.
func TestSharedLinkClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u, uf, _ := fakeUnit(t, nil)
		defer u.Close()
		l, ch := attachFake(u)
		if err := l.WriteFrame(ppp.ProtoIPCP, []byte{0x01}); err != nil {
			t.Fatal(err)
		}
		if err := l.WriteFrame(ppp.ProtoLCP, []byte{0x09}); err != nil {
			t.Fatal(err)
		}
		if w := uf.frames(); len(w) != 1 || !bytes.Equal(w[0], []byte{0x80, 0x21, 0x01}) {
			t.Errorf("to the unit: % x", w)
		}
		if w := ch.frames(); len(w) != 1 || !bytes.Equal(w[0], []byte{0xc0, 0x21, 0x09}) {
			t.Errorf("to the channel: % x", w)
		}
		if err := l.Close(); err != nil {
			t.Fatal(err)
		}
		select {
		case <-ch.closed:
		default:
			t.Error("the channel is still open")
		}
		select {
		case <-uf.closed:
			t.Error("the session's Close closed the unit")
		default:
		}
		u.mu.Lock()
		attached := u.link
		u.mu.Unlock()
		if attached != nil {
			t.Error("still attached")
		}
		if err := l.WriteFrame(ppp.ProtoIPCP, []byte{0x02}); !errors.Is(err, os.ErrClosed) {
			t.Errorf("WriteFrame after Close: %v", err)
		}
		if err := l.SetNPMode(ppp.ProtoIPv4, NPModePass); !errors.Is(err, os.ErrClosed) {
			t.Errorf("SetNPMode after Close: %v", err)
		}
		if err := l.SetMRU(1492); !errors.Is(err, os.ErrClosed) {
			t.Errorf("SetMRU after Close: %v", err)
		}
		if len(uf.frames()) != 1 {
			t.Errorf("written after Close: % x", uf.frames())
		}
		if g := readFrame(l); g.err != io.EOF {
			t.Errorf("ReadFrame after Close: %+v", g)
		}
	})
}

// Close closes the attached session first, then the unit's descriptor
// (destroying pppN), and returns once the reader has ended.
func TestUnitClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u, f, _ := fakeUnit(t, nil)
		l, ch := attachFake(u)
		f.hold = make(chan struct{})
		closed := make(chan struct{})
		go func() {
			u.Close()
			close(closed)
		}()
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Close returned while the reader was still reading")
		default:
		}
		close(f.hold)
		<-closed
		select {
		case <-ch.closed:
		default:
			t.Error("the session's channel is still open")
		}
		if g := readFrame(l); g.err != io.EOF {
			t.Errorf("the session after the unit's Close: %+v", g)
		}
		if err := u.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		u.mu.Lock()
		err := u.attachableLocked()
		u.mu.Unlock()
		if !errors.Is(err, os.ErrClosed) {
			t.Errorf("attaching to a closed unit: %v", err)
		}
	})
}

// One session at a time: a second would make a multilink bundle of two
// channels.
func TestUnitOneSession(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		u, _, _ := fakeUnit(t, nil)
		defer u.Close()
		l, _ := attachFake(u)
		l.Channel = 7
		u.mu.Lock()
		err := u.attachableLocked()
		u.mu.Unlock()
		if err == nil || !strings.Contains(err.Error(), "already carries a session (channel 7)") {
			t.Errorf("a second session: %v", err)
		}
		l.Close()
		u.mu.Lock()
		err = u.attachableLocked()
		u.mu.Unlock()
		if err != nil {
			t.Errorf("after the first: %v", err)
		}
	})
}
