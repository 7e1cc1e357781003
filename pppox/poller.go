package pppox

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/pppoed/pppoed/ppp"
)

// Poller reads the control frames of many links with one goroutine and one
// buffer: an access concentrator's thousands of sessions would otherwise
// cost two goroutines and two 64 KiB buffers each (Link's own readers).
// Links made by ConnectPolled register their channel and unit descriptors
// with it; it hands each frame read to its link's ReadFrame, and the end
// of a channel to its HangUp.
type Poller struct {
	log *slog.Logger
	ep  epoller

	mu      sync.Mutex
	entries map[uint32]*pollEntry
	next    uint32
	closed  bool

	// dropped counts frames a link had no room for: its session was too
	// slow to read them (as a full socket queue drops them).
	dropped atomic.Uint64
	done    chan struct{}
}

// epoller is the readiness source: epoll on Linux, a fake in tests.
type epoller interface {
	add(fd int, token uint32) error
	del(fd int) error
	// wait blocks until descriptors are ready, appending their tokens;
	// it returns errPollerClosed once close was called.
	wait(tokens []uint32) ([]uint32, error)
	read(fd int, b []byte) (int, error) // EAGAIN: nothing (errWouldBlock)
	close() error
}

var (
	errPollerClosed = errors.New("pppox: poller closed")
	errWouldBlock   = errors.New("pppox: would block")
)

// pollEntry is one registered descriptor. Its link's pollMu is held while
// it is read, so that Close never closes a descriptor under a read (and
// the number is never read after it was reused).
type pollEntry struct {
	l       *Link
	fd      int
	token   uint32
	channel bool
	gone    bool // deregistered; guarded by l.pollMu
}

// polledFrames is a polled link's queue of frames for its session: control
// frames come a few at a time, and the session reads them at once.
const polledFrames = 8

// NewPoller starts a poller; Close stops it.
func NewPoller(log *slog.Logger) (*Poller, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ep, err := newEpoller()
	if err != nil {
		return nil, err
	}
	return startPoller(ep, log), nil
}

func startPoller(ep epoller, log *slog.Logger) *Poller {
	p := &Poller{log: log, ep: ep, entries: map[uint32]*pollEntry{}, done: make(chan struct{})}
	go p.run()
	return p
}

// Dropped counts the frames dropped because a session was not reading.
func (p *Poller) Dropped() uint64 { return p.dropped.Load() }

// Close stops the poller once its goroutine has returned. The links still
// registered get no more frames: close them first.
func (p *Poller) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		<-p.done
		return nil
	}
	p.closed = true
	p.mu.Unlock()
	err := p.ep.close()
	<-p.done
	return err
}

// register adds l's descriptors: the channel's always, the unit's unless
// the unit is shared (a polled link makes its own).
func (p *Poller) register(l *Link) error {
	fds := []struct {
		f       file
		channel bool
	}{{l.ch, true}, {l.unit, false}}
	for _, d := range fds {
		var fd int
		if err := withFd(d.f, func(n int) error { fd = n; return nil }); err != nil {
			p.unregister(l)
			return fmt.Errorf("pppox: poller: %w", err)
		}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			p.unregister(l)
			return errPollerClosed
		}
		p.next++
		for p.entries[p.next] != nil || p.next == 0 {
			p.next++
		}
		e := &pollEntry{l: l, fd: fd, token: p.next, channel: d.channel}
		p.entries[e.token] = e
		p.mu.Unlock()
		l.pollMu.Lock()
		l.polled = append(l.polled, e)
		l.pollMu.Unlock()
		if err := p.ep.add(fd, e.token); err != nil {
			p.unregister(l)
			return fmt.Errorf("pppox: poller: %w", err)
		}
	}
	return nil
}

// unregister removes l's descriptors; once it returns, the poller reads
// neither of them again.
func (p *Poller) unregister(l *Link) {
	l.pollMu.Lock()
	defer l.pollMu.Unlock()
	for _, e := range l.polled {
		p.removeLocked(e)
	}
	l.polled = nil
}

// removeLocked deregisters e; e.l.pollMu is held.
func (p *Poller) removeLocked(e *pollEntry) {
	if e.gone {
		return
	}
	e.gone = true
	_ = p.ep.del(e.fd)
	p.mu.Lock()
	delete(p.entries, e.token)
	p.mu.Unlock()
}

func (p *Poller) run() {
	defer close(p.done)
	buf := make([]byte, maxFrame)
	var tokens []uint32
	for {
		var err error
		tokens, err = p.ep.wait(tokens[:0])
		if err != nil {
			if !errors.Is(err, errPollerClosed) {
				p.log.Error("pppox: poller stopped", "err", err)
			}
			return
		}
		for _, t := range tokens {
			p.mu.Lock()
			e := p.entries[t]
			p.mu.Unlock()
			if e != nil {
				p.readEntry(e, buf)
			}
		}
	}
}

// maxReads bounds the frames read from one descriptor per wake-up, so that
// one busy session cannot starve the others (epoll is level-triggered:
// what is left wakes us again).
const maxReads = 8

func (p *Poller) readEntry(e *pollEntry, buf []byte) {
	l := e.l
	l.pollMu.Lock()
	defer l.pollMu.Unlock()
	for range maxReads {
		if e.gone {
			return
		}
		n, err := p.ep.read(e.fd, buf)
		if errors.Is(err, errWouldBlock) {
			return
		}
		if err != nil && frameTooLarge(err) {
			continue // the kernel dropped it; the next one may fit
		}
		if err != nil || n == 0 {
			// A channel's end is the session's (see Link.read); a unit
			// without a channel reads as ended for good, and stays
			// readable: it is dropped from the set either way.
			p.removeLocked(e)
			if e.channel {
				if err == nil {
					err = io.EOF
				}
				l.HangUp(err)
			}
			return
		}
		if n < 2 {
			continue // no protocol field: not a frame
		}
		fr := ppp.Frame{Proto: ppp.Protocol(binary.BigEndian.Uint16(buf)), Data: append([]byte(nil), buf[2:n]...)}
		if l.onFrame != nil {
			l.onFrame(fr) // never blocks: ppp's Start queues it
			continue
		}
		select {
		case l.pframes <- fr:
		default:
			p.dropped.Add(1)
		}
	}
}

// ConnectPolled is Connect for a link whose frames the poller reads: it
// starts no goroutine of its own.
func (s *Socket) ConnectPolled(cfg Config, p *Poller) (*Link, error) {
	if len(cfg.AC) != 6 {
		return nil, fmt.Errorf("pppox: peer address %v is not an Ethernet address", cfg.AC)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.poller = p
	return s.connect(cfg)
}
