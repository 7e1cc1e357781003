//go:build linux

package pppox

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"slices"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"

	"github.com/pppoed/pppoed/ppp"
)

// fakeEpoller is a level-triggered readiness source over scripted
// descriptors: wait reports every registered descriptor with reads
// queued; an end (EOF or an error) stays queued, as a dead descriptor
// stays readable.
type fakeEpoller struct {
	t    *testing.T
	kick chan struct{}

	mu       sync.Mutex
	tokens   map[int]uint32 // registered descriptors
	queues   map[int][]read
	reads    []int // the descriptors read, in order (would-block reads too)
	dels     []int
	closed   bool
	addErr   map[int]error
	ends     map[int]int // reads of a descriptor's end
	files    map[int]*fakeFile
	onRead   func(fd int) // runs as each read begins, outside mu
	badReads []string
}

func newFakeEpoller(t *testing.T) *fakeEpoller {
	return &fakeEpoller{
		t: t, kick: make(chan struct{}, 1), tokens: map[int]uint32{}, queues: map[int][]read{},
		addErr: map[int]error{}, ends: map[int]int{}, files: map[int]*fakeFile{},
	}
}

func (e *fakeEpoller) wake() {
	select {
	case e.kick <- struct{}{}:
	default:
	}
}

func (e *fakeEpoller) add(fd int, token uint32) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if err := e.addErr[fd]; err != nil {
		return err
	}
	if _, ok := e.tokens[fd]; ok {
		e.t.Errorf("descriptor %d added twice", fd)
	}
	e.tokens[fd] = token
	e.wake()
	return nil
}

func (e *fakeEpoller) del(fd int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	// A descriptor whose add failed may be deleted too: epoll answers
	// ENOENT, which the Poller ignores.
	delete(e.tokens, fd)
	e.dels = append(e.dels, fd)
	return nil
}

func (e *fakeEpoller) registered(fd int) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	_, ok := e.tokens[fd]
	return ok
}

func (e *fakeEpoller) wait(tokens []uint32) ([]uint32, error) {
	for {
		e.mu.Lock()
		if e.closed {
			e.mu.Unlock()
			return tokens, errPollerClosed
		}
		for fd, tok := range e.tokens {
			if len(e.queues[fd]) > 0 {
				tokens = append(tokens, tok)
			}
		}
		e.mu.Unlock()
		if len(tokens) > 0 {
			slices.Sort(tokens) // registration order
			return tokens, nil
		}
		<-e.kick
	}
}

// push queues reads on fd.
func (e *fakeEpoller) push(fd int, rs ...read) { e.pushAll(map[int][]read{fd: rs}) }

// pushAll queues reads on several descriptors at once: one wait sees
// them all.
func (e *fakeEpoller) pushAll(m map[int][]read) {
	e.mu.Lock()
	for fd, rs := range m {
		e.queues[fd] = append(e.queues[fd], rs...)
	}
	e.mu.Unlock()
	e.wake()
}

func (e *fakeEpoller) read(fd int, b []byte) (int, error) {
	if e.onRead != nil {
		e.onRead(fd)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.reads = append(e.reads, fd)
	if _, ok := e.tokens[fd]; !ok {
		e.badReads = append(e.badReads, "read of a deregistered descriptor")
	}
	if f := e.files[fd]; f != nil && f.isClosed() {
		e.badReads = append(e.badReads, "read of a closed descriptor")
	}
	q := e.queues[fd]
	if len(q) == 0 {
		return 0, errWouldBlock
	}
	r := q[0]
	if len(r.b) == 0 && !frameTooLarge(r.err) {
		// An end: it stays (level-triggered), within reason.
		if e.ends[fd]++; e.ends[fd] > 100 {
			e.t.Errorf("descriptor %d read at its end %d times: never deregistered", fd, e.ends[fd])
			e.queues[fd] = nil
		}
		return 0, r.err
	}
	e.queues[fd] = q[1:]
	return copy(b, r.b), r.err
}

func (e *fakeEpoller) close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	e.wake()
	return nil
}

func (e *fakeEpoller) readLog() []int {
	e.mu.Lock()
	defer e.mu.Unlock()
	return slices.Clone(e.reads)
}

func (e *fakeEpoller) check() {
	e.t.Helper()
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, b := range e.badReads {
		e.t.Error(b)
	}
}

// fdFile is a fakeFile with a descriptor number for the poller; its
// number is large, so that the real ioctls Close makes (PPPIOCDISCONN)
// fail with EBADF.
type fdFile struct {
	*fakeFile
	fd int
}

type fdRawConn struct{ fd int }

func (c fdRawConn) Control(f func(fd uintptr)) error { f(uintptr(c.fd)); return nil }
func (fdRawConn) Read(func(uintptr) bool) error      { return errors.New("fake") }
func (fdRawConn) Write(func(uintptr) bool) error     { return errors.New("fake") }

func (f fdFile) SyscallConn() (syscall.RawConn, error) { return fdRawConn{f.fd}, nil }

func (f *fakeFile) isClosed() bool {
	select {
	case <-f.closed:
		return true
	default:
		return false
	}
}

var nextFd = 1 << 24

// polledLink makes a link on two numbered fake descriptors and registers
// it with p.
func polledLink(t *testing.T, p *Poller, ep *fakeEpoller) (l *Link, ch, unit int) {
	t.Helper()
	ch, unit = nextFd, nextFd+1
	nextFd += 2
	chf, unitf := newFakeFile(), newFakeFile()
	ep.mu.Lock()
	ep.files[ch], ep.files[unit] = chf, unitf
	ep.mu.Unlock()
	l = newPolledLink(fdFile{chf, ch}, fdFile{unitf, unit}, slog.New(slog.DiscardHandler), p)
	if err := l.start(); err != nil {
		t.Fatal(err)
	}
	return l, ch, unit
}

func frameOf(proto ppp.Protocol, b ...byte) read {
	return read{b: append([]byte{byte(proto >> 8), byte(proto)}, b...)}
}

// recv takes what the link has for its session now: a frame, or the
// error ReadFrame gives once it is down; nil, nil when it has nothing.
func recv(l *Link) (*ppp.Frame, error) {
	frames, down := l.Frames()
	select {
	case f := <-frames:
		return &f, nil
	default:
	}
	select {
	case <-down:
		_, _, err := l.ReadFrame()
		return nil, err
	default:
		return nil, nil
	}
}

func startFakePoller(t *testing.T) (*Poller, *fakeEpoller) {
	ep := newFakeEpoller(t)
	p := startPoller(ep, slog.New(slog.DiscardHandler))
	t.Cleanup(func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
		ep.check()
	})
	return p, ep
}

// Frames from a link's channel and unit reach that link's session, each
// descriptor's in order, and no other link's.
func TestPollerDelivers(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, ep := startFakePoller(t)
		a, ach, aunit := polledLink(t, p, ep)
		b, bch, _ := polledLink(t, p, ep)
		defer a.Close()
		defer b.Close()
		ep.push(ach, frameOf(ppp.ProtoLCP, 1), frameOf(ppp.ProtoLCP, 2))
		ep.push(bch, frameOf(ppp.ProtoPAP, 9))
		synctest.Wait()
		ep.push(aunit, frameOf(ppp.ProtoIPCP, 3))
		synctest.Wait()
		var got []ppp.Frame
		for {
			f, err := recv(a)
			if err != nil {
				t.Fatal(err)
			}
			if f == nil {
				break
			}
			got = append(got, *f)
		}
		want := []ppp.Frame{{Proto: ppp.ProtoLCP, Data: []byte{1}}, {Proto: ppp.ProtoLCP, Data: []byte{2}}, {Proto: ppp.ProtoIPCP, Data: []byte{3}}}
		if !slices.EqualFunc(got, want, func(x, y ppp.Frame) bool { return x.Proto == y.Proto && bytes.Equal(x.Data, y.Data) }) {
			t.Errorf("a got %v, want %v", got, want)
		}
		// ReadFrame serves too (the session without FrameChannel).
		if proto, data, err := b.ReadFrame(); proto != ppp.ProtoPAP || !bytes.Equal(data, []byte{9}) || err != nil {
			t.Errorf("b: %v %x %v", proto, data, err)
		}
		if p.Dropped() != 0 {
			t.Errorf("Dropped = %d", p.Dropped())
		}
	})
}

// A read that has no protocol field is no frame; the next is read.
func TestPollerShortFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, ep := startFakePoller(t)
		l, ch, _ := polledLink(t, p, ep)
		defer l.Close()
		ep.push(ch, read{b: []byte{0xc0}}, frameOf(ppp.ProtoLCP, 7))
		synctest.Wait()
		if f, err := recv(l); err != nil || f == nil || f.Proto != ppp.ProtoLCP || !bytes.Equal(f.Data, []byte{7}) {
			t.Fatalf("got %v %v", f, err)
		}
		if f, err := recv(l); f != nil || err != nil {
			t.Errorf("then %v %v", f, err)
		}
	})
}

// A session too slow to take its frames loses the ones past its queue,
// counted, as a full socket queue drops them; the ones queued stay in
// order.
func TestPollerQueueFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, ep := startFakePoller(t)
		l, ch, _ := polledLink(t, p, ep)
		defer l.Close()
		const n = polledFrames + 5
		for i := range n {
			ep.push(ch, frameOf(ppp.ProtoLCP, byte(i)))
		}
		synctest.Wait()
		if d := p.Dropped(); d != n-polledFrames {
			t.Errorf("Dropped = %d, want %d", d, n-polledFrames)
		}
		for i := range polledFrames {
			f, err := recv(l)
			if err != nil || f == nil || f.Data[0] != byte(i) {
				t.Fatalf("frame %d: %v %v", i, f, err)
			}
		}
		if f, _ := recv(l); f != nil {
			t.Errorf("a dropped frame arrived: %v", f)
		}
	})
}

// The end of the channel (EOF, or an error: the kernel unregistered it) is
// the session's: its link hangs up with it and the channel leaves the set.
// The unit's end (no channel connected) only takes the unit out.
func TestPollerEnds(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		channel bool
		end     read
		want    error // ReadFrame's, nil: the link stays up
	}{
		{"channel EOF", true, read{}, io.EOF},
		{"channel error", true, read{err: errBoom}, errBoom},
		{"unit EOF", false, read{}, nil},
		{"unit error", false, read{err: errBoom}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				p, ep := startFakePoller(t)
				l, ch, unit := polledLink(t, p, ep)
				other, och, _ := polledLink(t, p, ep)
				defer l.Close()
				defer other.Close()
				fd, stays := unit, ch
				if tt.channel {
					fd, stays = ch, unit
				}
				ep.push(fd, tt.end)
				synctest.Wait()
				if ep.registered(fd) {
					t.Error("the descriptor that ended is still in the set")
				}
				if !ep.registered(stays) || !ep.registered(och) {
					t.Error("another descriptor left the set")
				}
				_, err := recv(l)
				if err != tt.want {
					t.Errorf("the link says %v, want %v", err, tt.want)
				}
				if tt.want == nil {
					// Frames still come through the channel.
					ep.push(ch, frameOf(ppp.ProtoLCP, 1))
					synctest.Wait()
					if f, err := recv(l); f == nil || err != nil {
						t.Errorf("after the unit's end: %v %v", f, err)
					}
				}
				if _, err := recv(other); err != nil {
					t.Errorf("the other link: %v", err)
				}
			})
		})
	}
}

// One descriptor with many frames waiting cannot starve the others: at
// most maxReads are read from it per wake-up, and epoll (level-triggered)
// brings it back for the rest.
func TestPollerFairness(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, ep := startFakePoller(t)
		busy, bch, _ := polledLink(t, p, ep)
		quiet, qch, _ := polledLink(t, p, ep)
		defer busy.Close()
		defer quiet.Close()
		var many []read
		for i := range 3 * maxReads {
			many = append(many, frameOf(ppp.ProtoLCP, byte(i)))
		}
		ep.pushAll(map[int][]read{bch: many, qch: {frameOf(ppp.ProtoLCP, 0xff)}})
		synctest.Wait()
		log := ep.readLog()
		if i := slices.Index(log, qch); i < 0 || i > maxReads {
			t.Errorf("the quiet link's descriptor was read after %d reads of the busy one, want %d at most", i, maxReads)
		}
		if n := len(slices.DeleteFunc(slices.Clone(log), func(fd int) bool { return fd != bch })); n < 3*maxReads {
			t.Errorf("the busy descriptor was read %d times for %d frames", n, 3*maxReads)
		}
	})
}

// Close does not return while the poller reads one of the link's
// descriptors, and the poller never reads them again once it has: the
// number could be another file's by then.
func TestPollerCloseDuringRead(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, ep := startFakePoller(t)
		l, ch, unit := polledLink(t, p, ep)
		reading, release := make(chan struct{}), make(chan struct{})
		var once sync.Once
		ep.onRead = func(fd int) {
			if fd == ch {
				once.Do(func() {
					close(reading)
					<-release
				})
			}
		}
		ep.push(ch, frameOf(ppp.ProtoLCP, 1))
		<-reading
		closed := make(chan struct{})
		go func() {
			l.Close()
			close(closed)
		}()
		// Close waits on a mutex, which synctest.Wait does not take for
		// blocked: give it every chance to get past it instead.
		for range 1000 {
			runtime.Gosched()
		}
		select {
		case <-closed:
			t.Fatal("Close returned during a read of the link's descriptor")
		default:
		}
		close(release)
		<-closed
		n := len(ep.readLog())
		ep.push(ch, frameOf(ppp.ProtoLCP, 2))
		ep.push(unit, frameOf(ppp.ProtoIPCP, 3))
		synctest.Wait()
		if m := len(ep.readLog()); m != n {
			t.Errorf("%d reads after Close", m-n)
		}
		if ep.registered(ch) || ep.registered(unit) {
			t.Error("descriptors left in the set after Close")
		}
	})
}

// Close returns once the poller's goroutine has: not while it is reading.
// Twice is fine; a link cannot register after it.
func TestPollerClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ep := newFakeEpoller(t)
		p := startPoller(ep, slog.New(slog.DiscardHandler))
		l, ch, _ := polledLink(t, p, ep)
		reading, release := make(chan struct{}), make(chan struct{})
		ep.onRead = func(int) {
			close(reading)
			<-release
		}
		ep.push(ch, frameOf(ppp.ProtoLCP, 1))
		<-reading
		closed := make(chan struct{})
		go func() {
			p.Close()
			close(closed)
		}()
		synctest.Wait()
		select {
		case <-closed:
			t.Fatal("Close returned while the poller's goroutine was reading")
		default:
		}
		ep.onRead = nil
		close(release)
		<-closed
		select {
		case <-p.done:
		default:
			t.Fatal("the goroutine has not returned")
		}
		if err := p.Close(); err != nil {
			t.Errorf("second Close: %v", err)
		}
		l.Close()
		chf := newFakeFile()
		l2 := newPolledLink(fdFile{chf, 1 << 23}, fdFile{newFakeFile(), 1<<23 + 1}, slog.New(slog.DiscardHandler), p)
		if err := l2.start(); !errors.Is(err, errPollerClosed) {
			t.Errorf("registering after Close: %v", err)
		}
	})
}

// A link that cannot be registered whole leaves nothing in the set.
func TestPollerRegisterFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, ep := startFakePoller(t)
		// No descriptor (the fake's SyscallConn fails).
		l := newPolledLink(newFakeFile(), newFakeFile(), slog.New(slog.DiscardHandler), p)
		if err := l.start(); err == nil {
			t.Error("registered a file without a descriptor")
		}
		// The unit's add fails after the channel's succeeded.
		ch, unit := nextFd, nextFd+1
		nextFd += 2
		ep.addErr[unit] = errors.New("epoll_ctl: bad")
		l = newPolledLink(fdFile{newFakeFile(), ch}, fdFile{newFakeFile(), unit}, slog.New(slog.DiscardHandler), p)
		if err := l.start(); err == nil {
			t.Error("registered despite a failed add")
		}
		if ep.registered(ch) {
			t.Error("the channel stayed in the set")
		}
		p.mu.Lock()
		n := len(p.entries)
		p.mu.Unlock()
		if n != 0 {
			t.Errorf("%d entries left", n)
		}
	})
}

// The frames the socket held before the channel took over come first.
func TestPollerEarlyFrames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, ep := startFakePoller(t)
		ch, unit := nextFd, nextFd+1
		nextFd += 2
		l := newPolledLink(fdFile{newFakeFile(), ch}, fdFile{newFakeFile(), unit}, slog.New(slog.DiscardHandler), p)
		l.early = []frame{{proto: ppp.ProtoLCP, b: []byte{1}}, {proto: ppp.ProtoLCP, b: []byte{2}}}
		if err := l.start(); err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		ep.push(ch, frameOf(ppp.ProtoLCP, 3))
		synctest.Wait()
		for i := byte(1); i <= 3; i++ {
			if proto, data, err := l.ReadFrame(); proto != ppp.ProtoLCP || !bytes.Equal(data, []byte{i}) || err != nil {
				t.Fatalf("frame %d: %v %x %v", i, proto, data, err)
			}
		}
	})
}
