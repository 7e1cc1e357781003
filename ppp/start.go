package ppp

import (
	"context"
	"io"
	"sync"
)

// FrameSink is implemented by a link that calls the session with each
// frame instead of being read: Start then needs no goroutine to wait on
// it (an access concentrator's poller reads every session's link).
type FrameSink interface {
	// HandleFrames makes the link call onFrame with each frame, in
	// order, and onDown once when the link is down (ReadFrame then says
	// why, at once). Frames that arrived before are handed over first.
	// Neither call may block.
	HandleFrames(onFrame func(Frame), onDown func())
}

// mailbox holds the events of a session run by Start: whoever adds the
// first one to an idle mailbox starts a goroutine that runs them, one at
// a time, in order, and ends when none is left. So the session's state
// machines are owned by one goroutine at a time, and an idle session has
// none.
type mailbox struct {
	mu      sync.Mutex
	started bool // Start was called: Close and the timers deliver here
	q       []func()
	running bool
	closed  bool
}

// eventDriven reports whether Start runs the session (not Run).
func (mb *mailbox) eventDriven() bool {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return mb.started
}

// Start runs the session as Run does, but without a goroutine of its own
// while it waits: each event (a frame, a timer's expiry, Close, ctx's end)
// runs on a goroutine started for it, or on the one already running the
// session's events, one at a time and in order. done is called once, on
// that goroutine, with what Run would have returned, once the link is
// closed. For an access concentrator's thousands of sessions, where a
// parked goroutine's stack would be most of what a session costs.
//
// A link that is a FrameSink is not read at all; any other is read by a
// goroutine, as Run reads it.
func (s *Session) Start(ctx context.Context, done func(error)) {
	s.doneFn = done
	// The first event is queued as the mailbox opens: a Close from
	// another goroutine comes after it, never before LCP's Open.
	s.mb.mu.Lock()
	s.mb.started = true
	s.mb.q = append(s.mb.q, func() {
		s.phase = PhaseEstablish
		s.lcp.Up()
		s.lcp.Open()
	})
	s.mb.running = true // drain starts at the end, once all is set
	s.mb.mu.Unlock()
	if sink, ok := s.link.(FrameSink); ok {
		close(s.readerDone)
		sink.HandleFrames(func(f Frame) {
			s.deliver(func() { s.input(f.Proto, f.Data) })
		}, func() {
			s.deliver(func() {
				_, _, err := s.link.ReadFrame() // says why, at once
				if err == nil {
					err = io.EOF
				}
				s.lowerDown(err)
			})
		})
	} else {
		go s.deliverFrames()
	}
	s.stopCtx = context.AfterFunc(ctx, func() {
		s.deliver(func() {
			s.log.Info("ppp: stopping", "cause", context.Cause(ctx).Error())
			s.close(ReasonLocalClose, "User request")
		})
	})
	// A Close before Start went to Run's channel.
	select {
	case reason := <-s.closeReq:
		s.deliver(func() { s.close(ReasonLocalClose, reason) })
	default:
	}
	go s.drain()
}

// deliverFrames reads a link that is not a FrameSink for Start.
func (s *Session) deliverFrames() {
	defer close(s.readerDone)
	for {
		proto, b, err := s.link.ReadFrame()
		if err != nil {
			s.deliver(func() { s.lowerDown(err) })
			return
		}
		s.deliver(func() { s.input(proto, b) })
	}
}

// deliver queues fn as one of the session's events (Start); after the
// session ended it is dropped.
func (s *Session) deliver(fn func()) {
	mb := s.mb
	mb.mu.Lock()
	if mb.closed {
		mb.mu.Unlock()
		return
	}
	mb.q = append(mb.q, fn)
	if mb.running {
		mb.mu.Unlock()
		return
	}
	mb.running = true
	mb.mu.Unlock()
	go s.drain()
}

// drain runs the queued events until none is left, or the session ends.
func (s *Session) drain() {
	mb := s.mb
	for {
		mb.mu.Lock()
		q := mb.q
		mb.q = nil
		if len(q) == 0 {
			mb.running = false
			mb.mu.Unlock()
			return
		}
		mb.mu.Unlock()
		for _, fn := range q {
			fn()
			s.runLater()
			if s.dead {
				s.end()
				return
			}
		}
	}
}

// end is Run's ending for Start: no event runs after it.
func (s *Session) end() {
	mb := s.mb
	mb.mu.Lock()
	mb.closed = true
	mb.q = nil
	mb.mu.Unlock()
	s.stopCtx()
	s.shutdown()
	s.doneFn(s.reason)
}
