package radius

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
)

// AcctStatus is Acct-Status-Type (RFC 2866 §5.1).
type AcctStatus uint32

// The records we send.
const (
	AcctStart         AcctStatus = 1
	AcctStop          AcctStatus = 2
	AcctInterimUpdate AcctStatus = 3 // RFC 2869 §2.1
	AcctOn            AcctStatus = 7
	AcctOff           AcctStatus = 8
)

func (s AcctStatus) String() string {
	switch s {
	case AcctStart:
		return "Start"
	case AcctStop:
		return "Stop"
	case AcctInterimUpdate:
		return "Interim-Update"
	case AcctOn:
		return "Accounting-On"
	case AcctOff:
		return "Accounting-Off"
	}
	return fmt.Sprintf("AcctStatus(%d)", uint32(s))
}

// TerminateCause is Acct-Terminate-Cause (RFC 2866 §5.10).
type TerminateCause uint32

// The causes a PPPoE AC has a use for.
const (
	CauseUserRequest    TerminateCause = 1 // the client sent LCP Terminate or PADT
	CauseLostCarrier    TerminateCause = 2 // LCP echoes unanswered
	CauseLostService    TerminateCause = 3
	CauseIdleTimeout    TerminateCause = 4
	CauseSessionTimeout TerminateCause = 5
	CauseAdminReset     TerminateCause = 6 // kick, Disconnect-Request
	CauseAdminReboot    TerminateCause = 7 // shutdown
	CausePortError      TerminateCause = 8 // interface gone
	CauseNASError       TerminateCause = 9
	CauseNASRequest     TerminateCause = 10
	CauseNASReboot      TerminateCause = 11
	CauseServiceUnavail TerminateCause = 15 // negotiation failed
)

// Record is one accounting record. Input is what the subscriber sent
// (received on the port), Output what it was sent (RFC 2866 §5.3, §5.4).
type Record struct {
	Status    AcctStatus
	SessionID string // Acct-Session-Id (RFC 2866 §5.5), required in every record
	UserName  string // "" omits it (Accounting-On/Off)
	Port      Port   // the session's line; zero for Accounting-On/Off
	FramedIP  netip.Addr
	// Class: every Class of the Access-Accept, in order (RFC 2865 §5.25).
	Class [][]byte
	// Authentic is Acct-Authentic (RFC 2866 §5.6): 1 RADIUS, 2 Local; 0
	// omits it.
	Authentic uint32
	// For Interim-Update and Stop.
	SessionTime                 time.Duration
	InputOctets, OutputOctets   uint64         // split into Octets and Gigawords (RFC 2869 §5.1, §5.2)
	InputPackets, OutputPackets uint64         // 32 bits on the wire: sent modulo 2^32, as counters wrap
	Cause                       TerminateCause // Stop only
	// Time is when the event happened (default: when it was queued); the
	// time spent in the spool goes out as Acct-Delay-Time (RFC 2866 §5.2).
	Time time.Time
}

// AccountingConfig configures an Accounting.
type AccountingConfig struct {
	// Spool is how many records wait for delivery at most (default 4096).
	Spool int
	// RetryInterval is the pause after a round in which no server took
	// the record at the head (default 5s). The head's session then
	// waits behind the others (see Accounting).
	RetryInterval time.Duration
	Logger        *slog.Logger
}

// ErrSpoolFull is returned by Send when the record could not be queued:
// the spool is full of records that outrank it. It is counted in
// AcctStats.Overflow.
var ErrSpoolFull = errors.New("radius: accounting spool full")

// AcctStats counts an Accounting's records.
type AcctStats struct {
	Queued   int    // waiting now, the one being sent included
	Sent     uint64 // acknowledged by a server
	Overflow uint64 // dropped because the spool was full: older Interim-Updates or the refused record
	Retries  uint64 // rounds in which no server took the head record
}

type spooled struct {
	Record
	queued time.Time
	seq    uint64 // order of Send: the spool's order changes (rotate)
}

// barrier says whether a record must keep its place relative to every
// other: servers take an Accounting-On or -Off (RFC 2866 §5.1) as the
// NAS's restart and close its open sessions (FreeRADIUS clears them from
// radacct), so what was queued before it must reach the server before
// it, and what was queued after it, after it.
func barrier(s AcctStatus) bool { return s == AcctOn || s == AcctOff }

// Accounting delivers records through a Client (configured with the
// accounting servers), one at a time, from a bounded spool: a record
// leaves the spool only once a server acknowledged it.
//
// The records of one session (one Acct-Session-Id) are delivered in the
// order they were sent, and an Accounting-On or -Off in the order it was
// sent relative to every record. The records of different sessions
// between two Accounting-On/Off are not ordered: after a round in which
// no server took the record at the head, that record and every other of
// its session before the next Accounting-On/Off go behind the other
// sessions' records there, so that one record a server never
// acknowledges (its accounting fails on that row and it stays silent)
// does not hold up everyone's until the spool overflows. An On or Off at
// the head holds up everything after it, as it must.
//
// When the spool is full, the oldest Interim-Update not being sent is
// dropped to make room (an Interim is superseded by the next one and by
// the Stop; a Start or a Stop is not); if there is none, the new record
// is refused. Every drop is counted. The spool is in memory: records
// still queued at exit are lost (Flush before Accounting-Off and exit).
type Accounting struct {
	c     *Client
	cap   int
	retry time.Duration
	log   *slog.Logger

	mu    sync.Mutex
	queue []*spooled
	busy  bool          // queue[0] is being sent
	seq   uint64        // Sends so far, for spooled.seq
	wake  chan struct{} // a record was queued
	empty chan struct{} // closed and replaced when the queue empties

	sent, overflow, retries atomic.Uint64
}

// NewAccounting returns an Accounting sending through c; call Run.
func NewAccounting(c *Client, cfg AccountingConfig) *Accounting {
	a := &Accounting{c: c, cap: cfg.Spool, retry: cfg.RetryInterval, log: cfg.Logger,
		wake: make(chan struct{}, 1), empty: make(chan struct{})}
	if a.cap <= 0 {
		a.cap = 4096
	}
	if a.retry <= 0 {
		a.retry = 5 * time.Second
	}
	if a.log == nil {
		a.log = c.log
	}
	close(a.empty)
	return a
}

// Stats returns the counters.
func (a *Accounting) Stats() AcctStats {
	a.mu.Lock()
	n := len(a.queue)
	a.mu.Unlock()
	return AcctStats{Queued: n, Sent: a.sent.Load(), Overflow: a.overflow.Load(), Retries: a.retries.Load()}
}

// Send queues r for delivery and returns at once.
func (a *Accounting) Send(r Record) error {
	if r.SessionID == "" {
		return errors.New("radius: accounting record without a session id")
	}
	now := a.c.now()
	if r.Time.IsZero() {
		r.Time = now
	}
	r.Class = cloneBytes(r.Class)
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.queue) >= a.cap {
		// The oldest by Send, not the first in the spool: rotate
		// reorders sessions.
		victim := -1
		first := 0
		if a.busy {
			first = 1
		}
		for i := first; i < len(a.queue); i++ {
			if a.queue[i].Status == AcctInterimUpdate && (victim < 0 || a.queue[i].seq < a.queue[victim].seq) {
				victim = i
			}
		}
		a.overflow.Add(1)
		if victim < 0 {
			a.log.Warn("radius: accounting spool full, record dropped", "status", r.Status.String(), "session", r.SessionID)
			return fmt.Errorf("%w: %s for session %s not queued", ErrSpoolFull, r.Status, r.SessionID)
		}
		old := a.queue[victim]
		a.log.Warn("radius: accounting spool full, oldest Interim-Update dropped", "session", old.SessionID)
		a.queue = append(a.queue[:victim], a.queue[victim+1:]...)
	}
	if len(a.queue) == 0 {
		a.empty = make(chan struct{})
	}
	a.seq++
	a.queue = append(a.queue, &spooled{Record: r, queued: now, seq: a.seq})
	select {
	case a.wake <- struct{}{}:
	default:
	}
	return nil
}

func cloneBytes(bs [][]byte) [][]byte {
	if bs == nil {
		return nil
	}
	out := make([][]byte, len(bs))
	for i, b := range bs {
		out[i] = append([]byte(nil), b...)
	}
	return out
}

// Flush waits until the spool is empty or ctx is done.
func (a *Accounting) Flush(ctx context.Context) error {
	a.mu.Lock()
	empty := a.empty
	a.mu.Unlock()
	select {
	case <-empty:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("radius: accounting flush: %w", ctx.Err())
	}
}

// Run delivers the spool until ctx is done. Only one Run at a time.
func (a *Accounting) Run(ctx context.Context) error {
	for {
		a.mu.Lock()
		var head *spooled
		if len(a.queue) > 0 {
			head = a.queue[0]
			a.busy = true
		}
		a.mu.Unlock()
		if head == nil {
			select {
			case <-a.wake:
				continue
			case <-ctx.Done():
				return nil
			}
		}
		err := a.deliver(ctx, head)
		a.mu.Lock()
		a.busy = false
		if err == nil {
			// Counted before the spool can read empty, so that a Flush
			// that returns sees every delivered record in Stats.
			a.sent.Add(1)
			a.queue = a.queue[1:]
			if len(a.queue) == 0 {
				a.queue = nil
				close(a.empty)
			}
		} else if ctx.Err() == nil {
			a.rotate()
		}
		a.mu.Unlock()
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		a.retries.Add(1)
		a.log.Warn("radius: accounting record not delivered, will retry", "status", head.Status.String(), "session", head.SessionID, "err", err)
		t := time.NewTimer(a.retry)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil
		}
	}
}

// rotate moves the head's session behind the other sessions after a
// failed round: every record of the head's Acct-Session-Id before the
// first Accounting-On/Off goes, in its order, after the other records
// before that On/Off, which keep theirs. An On/Off at the head stays.
// Called with a.mu held, between rounds (nothing is being sent).
func (a *Accounting) rotate() {
	q := a.queue
	if len(q) == 0 || barrier(q[0].Status) {
		return
	}
	end := 1
	for end < len(q) && !barrier(q[end].Status) {
		end++
	}
	id := q[0].SessionID
	var mine, others []*spooled
	for _, r := range q[:end] {
		if r.SessionID == id {
			mine = append(mine, r)
		} else {
			others = append(others, r)
		}
	}
	n := copy(q, others)
	copy(q[n:], mine)
}

func (a *Accounting) deliver(ctx context.Context, r *spooled) error {
	_, _, err := a.c.exchange(ctx, func(s *server) (*radius.Packet, error) {
		return a.c.buildAcct(r.Record, s.Secret, a.c.now().Sub(r.Time))
	}, false, radius.CodeAccountingResponse)
	return err
}

// buildAcct makes an Accounting-Request. It is rebuilt for each server
// round, since Acct-Delay-Time changes and a changed packet needs a new
// Identifier (RFC 2866 §5.2).
func (c *Client) buildAcct(r Record, secret Secret, delay time.Duration) (*radius.Packet, error) {
	p := radius.New(radius.CodeAccountingRequest, secret)
	errs := []error{
		rfc2866.AcctStatusType_Set(p, rfc2866.AcctStatusType(r.Status)),
		rfc2866.AcctSessionID_SetString(p, r.SessionID),
		c.nas.add(p),
	}
	if delay < 0 {
		delay = 0
	}
	errs = append(errs, rfc2866.AcctDelayTime_Set(p, rfc2866.AcctDelayTime(delay/time.Second)))
	errs = append(errs, rfc2869.EventTimestamp_Set(p, r.Time))
	if r.UserName != "" {
		errs = append(errs, rfc2865.UserName_SetString(p, r.UserName))
	}
	switch r.Status {
	case AcctStart, AcctStop, AcctInterimUpdate:
		errs = append(errs, r.Port.add(p),
			rfc2865.ServiceType_Set(p, rfc2865.ServiceType_Value_FramedUser),
			rfc2865.FramedProtocol_Set(p, rfc2865.FramedProtocol_Value_PPP))
		if r.FramedIP.IsValid() && r.FramedIP.Is4() {
			errs = append(errs, rfc2865.FramedIPAddress_Set(p, r.FramedIP.AsSlice()))
		}
		for _, cl := range r.Class {
			errs = append(errs, rfc2865.Class_Add(p, cl))
		}
		if r.Authentic != 0 {
			errs = append(errs, rfc2866.AcctAuthentic_Set(p, rfc2866.AcctAuthentic(r.Authentic)))
		}
	}
	if r.Status == AcctStop || r.Status == AcctInterimUpdate {
		errs = append(errs,
			rfc2866.AcctSessionTime_Set(p, rfc2866.AcctSessionTime(r.SessionTime/time.Second)),
			rfc2866.AcctInputOctets_Set(p, rfc2866.AcctInputOctets(uint32(r.InputOctets))),
			rfc2869.AcctInputGigawords_Set(p, rfc2869.AcctInputGigawords(r.InputOctets>>32)),
			rfc2866.AcctOutputOctets_Set(p, rfc2866.AcctOutputOctets(uint32(r.OutputOctets))),
			rfc2869.AcctOutputGigawords_Set(p, rfc2869.AcctOutputGigawords(r.OutputOctets>>32)),
			rfc2866.AcctInputPackets_Set(p, rfc2866.AcctInputPackets(uint32(r.InputPackets))),
			rfc2866.AcctOutputPackets_Set(p, rfc2866.AcctOutputPackets(uint32(r.OutputPackets))),
		)
	}
	if r.Status == AcctStop && r.Cause != 0 {
		errs = append(errs, rfc2866.AcctTerminateCause_Set(p, rfc2866.AcctTerminateCause(r.Cause)))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("radius: accounting record: %w", err)
	}
	return p, nil
}

// SessionIDs makes Acct-Session-Ids unique across restarts: a prefix of
// the start time (Unix seconds, 8 hex digits) and 16 random bits, then a
// counter: "66A1B2C3F00D-00000001". Two runs share a prefix only if they
// start in the same second (or the clock went back to it) and draw the
// same random bits (1 in 65536); within a run the counter never repeats
// before 2^32 sessions. Printable, as RFC 2866 §5.5 recommends.
type SessionIDs struct {
	prefix string
	n      atomic.Uint32
}

// NewSessionIDs starts a generator; pass time.Now() at startup.
func NewSessionIDs(start time.Time) *SessionIDs {
	var r [2]byte
	_, _ = rand.Read(r[:])
	return &SessionIDs{prefix: fmt.Sprintf("%08X%04X", uint32(start.Unix()), binary.BigEndian.Uint16(r[:]))}
}

// Next returns a new session id.
func (g *SessionIDs) Next() string {
	return fmt.Sprintf("%s-%08X", g.prefix, g.n.Add(1))
}
