package pppox

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"slices"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"

	"github.com/pppoed/pppoed/ppp"
)

// fakeFile stands in for an attached /dev/ppp descriptor: each Read
// returns the next scripted result, or os.ErrClosed once closed; writes
// are recorded.
type fakeFile struct {
	reads   chan read
	closed  chan struct{}
	once    sync.Once
	mu      sync.Mutex
	written [][]byte
	// hold, when set, keeps a Read that saw the close from returning
	// until it is closed (a reader slow to notice).
	hold chan struct{}
	// raw, when set, gives the ioctls descriptor -1 (for a fake ioctl)
	// instead of failing them.
	raw bool
}

// fakeRawConn hands its callers descriptor -1.
type fakeRawConn struct{}

func (fakeRawConn) Control(f func(fd uintptr)) error { f(^uintptr(0)); return nil }
func (fakeRawConn) Read(func(uintptr) bool) error    { return errors.New("fake") }
func (fakeRawConn) Write(func(uintptr) bool) error   { return errors.New("fake") }

type read struct {
	b   []byte
	err error
}

func newFakeFile() *fakeFile {
	return &fakeFile{reads: make(chan read, 16), closed: make(chan struct{})}
}

func (f *fakeFile) Read(b []byte) (int, error) {
	select {
	case r := <-f.reads:
		return copy(b, r.b), r.err
	case <-f.closed:
		if f.hold != nil {
			<-f.hold
		}
		return 0, os.ErrClosed
	}
}

func (f *fakeFile) Write(b []byte) (int, error) {
	select {
	case <-f.closed:
		return 0, os.ErrClosed
	default:
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.written = append(f.written, slices.Clone(b))
	return len(b), nil
}

func (f *fakeFile) Close() error {
	f.once.Do(func() { close(f.closed) })
	return nil
}

func (f *fakeFile) SyscallConn() (syscall.RawConn, error) {
	if f.raw {
		return fakeRawConn{}, nil
	}
	return nil, errors.New("a fake has no descriptor")
}

func (f *fakeFile) frames() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.written)
}

func fakeLink() (l *Link, ch, unit *fakeFile) {
	ch, unit = newFakeFile(), newFakeFile()
	l = newLink(ch, unit, slog.New(slog.DiscardHandler))
	l.start()
	return l, ch, unit
}

type got struct {
	proto ppp.Protocol
	b     []byte
	err   error
}

func readFrame(l *Link) got {
	p, b, err := l.ReadFrame()
	return got{p, b, err}
}

// What each descriptor's reads become: frames tagged with their protocol
// field, short reads skipped, the channel's end the link's end, the
// unit's end nothing (it outlives its channel).
func TestLinkReads(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		channel bool // read on the channel, else the unit
		reads   []read
		want    got
		waits   bool // ReadFrame has nothing to return
	}{
		{"LCP on the channel", true, []read{{b: []byte{0xc0, 0x21, 0x01, 0x02}}}, got{ppp.ProtoLCP, []byte{0x01, 0x02}, nil}, false},
		{"IPCP on the unit", false, []read{{b: []byte{0x80, 0x21, 0x09}}}, got{ppp.ProtoIPCP, []byte{0x09}, nil}, false},
		{"protocol field only", false, []read{{b: []byte{0x80, 0x57}}}, got{ppp.ProtoIPv6CP, []byte{}, nil}, false},
		{"one octet skipped", true, []read{{b: []byte{0xc0}}, {b: []byte{0xc2, 0x23, 0x05}}}, got{ppp.ProtoCHAP, []byte{0x05}, nil}, false},
		{"channel EOF", true, []read{{}}, got{0, nil, io.EOF}, false},
		{"channel error", true, []read{{err: errBoom}}, got{0, nil, errBoom}, false},
		{"unit EOF says nothing", false, []read{{}}, got{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				l, ch, unit := fakeLink()
				f := unit
				if tt.channel {
					f = ch
				}
				for _, r := range tt.reads {
					f.reads <- r
				}
				var g got
				done := make(chan struct{})
				go func() {
					g = readFrame(l)
					close(done)
				}()
				synctest.Wait()
				select {
				case <-done:
				default:
					if !tt.waits {
						t.Fatal("ReadFrame is still waiting")
					}
					l.Close()
					<-done
					return
				}
				if tt.waits {
					t.Fatalf("ReadFrame = %+v, want it to wait", g)
				}
				if !g.equal(tt.want) {
					t.Errorf("ReadFrame = %v %x %v, want %v %x %v", g.proto, g.b, g.err, tt.want.proto, tt.want.b, tt.want.err)
				}
				l.Close()
			})
		})
	}
}

func (g got) equal(o got) bool {
	return g.proto == o.proto && bytes.Equal(g.b, o.b) && g.err == o.err
}

// Frames drained from the socket before the channel took over come
// first, in order.
func TestLinkEarlyFramesFirst(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, ch, _ := fakeLink()
		defer l.Close()
		l.early = []frame{{proto: ppp.ProtoLCP, b: []byte{1}}, {proto: ppp.ProtoLCP, b: []byte{2}}}
		ch.reads <- read{b: []byte{0xc0, 0x21, 3}}
		for i := byte(1); i <= 3; i++ {
			if g := readFrame(l); !g.equal(got{ppp.ProtoLCP, []byte{i}, nil}) {
				t.Fatalf("frame %d: %+v", i, g)
			}
		}
	})
}

// LCP and authentication go to the channel, the NCPs to the unit, each
// with its protocol field first.
func TestLinkWriteFrame(t *testing.T) {
	tests := []struct {
		proto   ppp.Protocol
		channel bool
		want    []byte
	}{
		{ppp.ProtoLCP, true, []byte{0xc0, 0x21, 0xaa}},  // protocol, packet
		{ppp.ProtoPAP, true, []byte{0xc0, 0x23, 0xaa}},  // authentication: the channel too
		{ppp.ProtoCHAP, true, []byte{0xc2, 0x23, 0xaa}}, //
		{ppp.ProtoIPCP, false, []byte{0x80, 0x21, 0xaa}},
		{ppp.ProtoIPv6CP, false, []byte{0x80, 0x57, 0xaa}},
		{ppp.ProtoCCP, false, []byte{0x80, 0xfd, 0xaa}},
	}
	for _, tt := range tests {
		synctest.Test(t, func(t *testing.T) {
			l, ch, unit := fakeLink()
			defer l.Close()
			if err := l.WriteFrame(tt.proto, []byte{0xaa}); err != nil {
				t.Fatal(err)
			}
			to, other := unit, ch
			if tt.channel {
				to, other = ch, unit
			}
			if w := to.frames(); len(w) != 1 || !bytes.Equal(w[0], tt.want) {
				t.Errorf("%v: wrote %x, want %x", tt.proto, w, tt.want)
			}
			if w := other.frames(); len(w) != 0 {
				t.Errorf("%v: the other descriptor got %x", tt.proto, w)
			}
		})
	}
}

// HangUp fails ReadFrame at once and for good, queued frames or not; the
// first reason stands.
func TestLinkHangUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, ch, _ := fakeLink()
		defer l.Close()
		ch.reads <- read{b: []byte{0xc0, 0x21, 1}}
		synctest.Wait() // the frame is queued
		errPADT := errors.New("PADT")
		l.HangUp(errPADT)
		l.HangUp(errors.New("later"))
		for range 2 {
			if g := readFrame(l); g.err != errPADT {
				t.Fatalf("ReadFrame after HangUp = %+v", g)
			}
		}
	})
	synctest.Test(t, func(t *testing.T) {
		l, _, _ := fakeLink()
		defer l.Close()
		done := make(chan got)
		go func() { done <- readFrame(l) }()
		synctest.Wait()
		l.HangUp(nil) // a waiting reader wakes, with io.EOF
		if g := <-done; g.err != io.EOF {
			t.Fatalf("ReadFrame = %+v", g)
		}
	})
}

// Close returns only once both readers have ended, and ReadFrame then
// answers io.EOF.
func TestLinkCloseWaitsForReaders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		l, ch, unit := fakeLink()
		ch.hold, unit.hold = make(chan struct{}), make(chan struct{})
		closed := make(chan struct{})
		go func() {
			l.Close()
			close(closed)
		}()
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Close returned while its readers were still reading")
		default:
		}
		close(ch.hold)
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Close returned while the unit's reader was still reading")
		default:
		}
		close(unit.hold)
		<-closed
		if g := readFrame(l); g.err != io.EOF {
			t.Errorf("ReadFrame after Close = %+v", g)
		}
		if err := l.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		if err := l.WriteFrame(ppp.ProtoLCP, nil); err == nil {
			t.Error("WriteFrame after Close succeeded")
		}
	})
}

// A peer may send a 1500-octet Information field whatever MRU was
// negotiated (RFC 1661 §6.1): the channel's and the unit's readers take
// it whole, and so does drain, which drops a longer frame: the socket
// hands one over cut to the buffer (pppoe_recvmsg), and a frame cut short
// must not pass for a whole one.
func TestLargestFrame(t *testing.T) {
	info := bytes.Repeat([]byte{0xa5}, 1500)
	largest := append([]byte{0xc0, 0x21}, info...) // LCP, then 1500 octets
	longer := append(slices.Clone(largest), 0x5a)  // one octet too many
	want := got{ppp.ProtoLCP, info, nil}
	for _, tt := range []struct {
		name string
		feed func(ch, unit *fakeFile)
	}{
		{"channel", func(ch, _ *fakeFile) { ch.reads <- read{b: largest} }},
		{"unit", func(_, unit *fakeFile) { unit.reads <- read{b: largest} }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			l, ch, unit := fakeLink()
			defer l.Close()
			tt.feed(ch, unit)
			if g := readFrame(l); !g.equal(want) {
				t.Errorf("ReadFrame = %v %d octets %v, want %d octets", g.proto, len(g.b), g.err, len(info))
			}
		})
	}
	t.Run("drain", func(t *testing.T) {
		queued := [][]byte{longer, largest, {0xc0, 0x21, 0x09}}
		early := drain(func(b []byte) (int, error) {
			if len(queued) == 0 {
				return 0, errors.New("EAGAIN")
			}
			n := copy(b, queued[0]) // cut to the buffer, as the socket does
			queued = queued[1:]
			return n, nil
		}, slog.New(slog.DiscardHandler))
		if len(early) != 2 || !bytes.Equal(early[0].b, info) || !bytes.Equal(early[1].b, []byte{0x09}) {
			for i, f := range early {
				t.Logf("frame %d: %v, %d octets", i, f.proto, len(f.b))
			}
			t.Errorf("drained %d frames, want the largest (1500 octets) and the small one", len(early))
		}
	})
}

// drain keeps what queued on the socket, skips what has no protocol field,
// stops at the first failure and never reads without bound.
func TestDrain(t *testing.T) {
	errAgain := errors.New("EAGAIN")
	script := func(rs ...[]byte) func([]byte) (int, error) {
		return func(b []byte) (int, error) {
			if len(rs) == 0 {
				return 0, errAgain
			}
			n := copy(b, rs[0])
			rs = rs[1:]
			return n, nil
		}
	}
	log := slog.New(slog.DiscardHandler)
	early := drain(script(
		[]byte{0xc0, 0x21, 0x01, 0x01}, // LCP Configure-Request...
		[]byte{0xc0},                   // one octet: no protocol field
		[]byte{},                       // an empty frame
		[]byte{0xc0, 0x21, 0x02},
	), log)
	want := []frame{{proto: ppp.ProtoLCP, b: []byte{0x01, 0x01}}, {proto: ppp.ProtoLCP, b: []byte{0x02}}}
	if len(early) != len(want) {
		t.Fatalf("drained %+v, want %+v", early, want)
	}
	for i := range want {
		if early[i].proto != want[i].proto || !bytes.Equal(early[i].b, want[i].b) {
			t.Errorf("frame %d: %+v, want %+v", i, early[i], want[i])
		}
	}
	if e := drain(script(), log); len(e) != 0 {
		t.Errorf("nothing queued: %+v", e)
	}
	reads := 0
	endless := func(b []byte) (int, error) { reads++; return copy(b, []byte{0xc0, 0x21}), nil }
	if e := drain(endless, log); len(e) != maxEarly || reads != maxEarly {
		t.Errorf("a socket that never runs dry: %d frames in %d reads, want %d", len(e), reads, maxEarly)
	}
}

func TestNPMode(t *testing.T) {
	// enum NPmode, <linux/ppp_defs.h>.
	for _, tt := range []struct {
		m    NPMode
		v    int32
		name string
	}{{NPModePass, 0, "pass"}, {NPModeDrop, 1, "drop"}, {NPModeError, 2, "error"}, {NPModeQueue, 3, "queue"}, {7, 7, "NPMode(7)"}} {
		if int32(tt.m) != tt.v || tt.m.String() != tt.name {
			t.Errorf("%d %q, want %d %q", int32(tt.m), tt.m, tt.v, tt.name)
		}
	}
	// ppp_generic's NUM_NP protocols (proto_to_npindex), every one of
	// which a new unit passes.
	want := []ppp.Protocol{0x21, 0x57, 0x2b, 0x29, 0x281, 0x283}
	if !slices.Equal(networkProtocols, want) {
		t.Errorf("networkProtocols = %v, want %v", networkProtocols, want)
	}
}

func TestConnectChecksTheACAddress(t *testing.T) {
	s := &Socket{fd: -1}
	if _, err := s.Connect(Config{Interface: "eth0", AC: []byte{1, 2, 3}}); err == nil {
		t.Error("Connect took a 3-octet AC address")
	}
	if err := s.Close(); err != nil {
		t.Errorf("closing a closed socket: %v", err)
	}
}
