package radius

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"layeh.com/radius"
)

// Defaults for Config's zero fields.
const (
	DefaultTimeout  = 3 * time.Second
	DefaultRetries  = 2
	DefaultDeadTime = 30 * time.Second
)

// Server is one RADIUS server. Secret is never logged nor put into an
// error.
type Server struct {
	// Addr is host:port, e.g. "192.0.2.1:1812" (authentication) or
	// ":1813" (accounting).
	Addr   string
	Secret Secret
}

// Config configures a Client.
type Config struct {
	// Servers in order of preference: the first alive one is asked first.
	Servers []Server
	// NAS is sent in every request.
	NAS NAS
	// Timeout is how long one transmission waits for a reply
	// (default DefaultTimeout).
	Timeout time.Duration
	// Retries is how many times a request is retransmitted to an alive
	// server before that server is marked dead and the next one is tried
	// (default DefaultRetries; negative means none). A dead server is sent
	// the request once, without retransmissions.
	Retries int
	// DeadTime is how long a server that did not answer is tried only
	// after every alive one, and only once per request (default
	// DefaultDeadTime).
	DeadTime time.Duration
	// Logger gets a line per server going dead or coming back and per
	// dropped reply (default: discard).
	Logger *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Dial opens the socket to a server (default net.Dialer.DialContext
	// with "udp"); a fresh one per request, so a late reply to an earlier
	// request cannot be taken for this one's.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// ErrNoServer is returned when no server gave a trustworthy reply: every
// one timed out, was unreachable or answered only with packets that were
// dropped. Callers apply their fallback rule (local users, or refuse).
var ErrNoServer = errors.New("radius: no server answered")

// ServerStats counts one server's traffic (Client.Stats). Dropped counts
// replies that were not trusted; DroppedBy splits them by reason.
type ServerStats struct {
	Addr        string
	Dead        bool
	Requests    uint64 // first transmissions
	Retransmits uint64
	Timeouts    uint64 // transmissions that got no trustworthy reply in time
	Replies     uint64 // trusted replies
	Dropped     uint64
	DroppedBy   DropCounts
}

// DropCounts counts untrusted packets by reason.
type DropCounts struct {
	Malformed               uint64 // bad length, truncated attribute, two Message-Authenticators
	Oversized               uint64 // over 4096 octets
	BadAuthenticator        uint64 // Response (or Request) Authenticator wrong
	NoMessageAuthenticator  uint64 // required and absent
	BadMessageAuthenticator uint64
	Unexpected              uint64 // wrong identifier or code
}

type dropCounters struct {
	malformed, oversized, badAuth, noMA, badMA, unexpected atomic.Uint64
}

func (d *dropCounters) add(r dropReason) {
	switch r {
	case dropMalformed:
		d.malformed.Add(1)
	case dropOversized:
		d.oversized.Add(1)
	case dropBadAuthenticator:
		d.badAuth.Add(1)
	case dropNoMessageAuthenticator:
		d.noMA.Add(1)
	case dropBadMessageAuthenticator:
		d.badMA.Add(1)
	case dropUnexpected:
		d.unexpected.Add(1)
	}
}

func (d *dropCounters) snapshot() (DropCounts, uint64) {
	c := DropCounts{
		Malformed:               d.malformed.Load(),
		Oversized:               d.oversized.Load(),
		BadAuthenticator:        d.badAuth.Load(),
		NoMessageAuthenticator:  d.noMA.Load(),
		BadMessageAuthenticator: d.badMA.Load(),
		Unexpected:              d.unexpected.Load(),
	}
	return c, c.Malformed + c.Oversized + c.BadAuthenticator + c.NoMessageAuthenticator + c.BadMessageAuthenticator + c.Unexpected
}

type server struct {
	Server
	requests, retransmits, timeouts, replies atomic.Uint64
	drops                                    dropCounters

	mu        sync.Mutex
	deadUntil time.Time // zero: alive
}

// Client sends requests to a list of servers with retransmission and
// failover. It is safe for concurrent use; each request has its own
// socket and its own goroutine (the caller's).
type Client struct {
	nas      NAS
	servers  []*server
	timeout  time.Duration
	retries  int
	deadTime time.Duration
	log      *slog.Logger
	now      func() time.Time
	dial     func(ctx context.Context, network, addr string) (net.Conn, error)
}

// NewClient checks cfg and returns a Client.
func NewClient(cfg Config) (*Client, error) {
	if len(cfg.Servers) == 0 {
		return nil, errors.New("radius: no server configured")
	}
	if err := cfg.NAS.valid(); err != nil {
		return nil, err
	}
	c := &Client{
		nas:      cfg.NAS,
		timeout:  cfg.Timeout,
		retries:  cfg.Retries,
		deadTime: cfg.DeadTime,
		log:      cfg.Logger,
		now:      cfg.Now,
		dial:     cfg.Dial,
	}
	for i, s := range cfg.Servers {
		if s.Addr == "" {
			return nil, fmt.Errorf("radius: server %d: no address", i+1)
		}
		// RFC 2865 §3: the secret MUST NOT be empty.
		if len(s.Secret) == 0 {
			return nil, fmt.Errorf("radius: server %s: empty shared secret", s.Addr)
		}
		c.servers = append(c.servers, &server{Server: Server{Addr: s.Addr, Secret: append(Secret(nil), s.Secret...)}})
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.retries == 0 {
		c.retries = DefaultRetries
	} else if c.retries < 0 {
		c.retries = 0
	}
	if c.deadTime <= 0 {
		c.deadTime = DefaultDeadTime
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.dial == nil {
		var d net.Dialer
		c.dial = d.DialContext
	}
	return c, nil
}

// Stats returns each server's counters, in configuration order.
func (c *Client) Stats() []ServerStats {
	now := c.now()
	out := make([]ServerStats, 0, len(c.servers))
	for _, s := range c.servers {
		s.mu.Lock()
		dead := now.Before(s.deadUntil)
		s.mu.Unlock()
		by, total := s.drops.snapshot()
		out = append(out, ServerStats{
			Addr:        s.Addr,
			Dead:        dead,
			Requests:    s.requests.Load(),
			Retransmits: s.retransmits.Load(),
			Timeouts:    s.timeouts.Load(),
			Replies:     s.replies.Load(),
			Dropped:     total,
			DroppedBy:   by,
		})
	}
	return out
}

// attempt is a server to try and how many retransmissions it gets.
type attempt struct {
	s       *server
	retries int
}

// order returns the servers to try: the alive ones in configuration order
// with c.retries retransmissions each, then the dead ones with none, so
// that a dead server is retried once its dead time is over, and still
// tried (last) when every server is dead rather than failing every login
// until one's time is over, but for one timeout only: a request to
// servers that are all down then fails after servers × Timeout instead of
// servers × (Retries+1) × Timeout, soon enough for the caller's fallback
// (the AC's local users, within the peer's 30 s authentication timeout).
func (c *Client) order() []attempt {
	now := c.now()
	alive := make([]attempt, 0, len(c.servers))
	var dead []attempt
	for _, s := range c.servers {
		s.mu.Lock()
		d := now.Before(s.deadUntil)
		s.mu.Unlock()
		if d {
			dead = append(dead, attempt{s: s})
		} else {
			alive = append(alive, attempt{s: s, retries: c.retries})
		}
	}
	return append(alive, dead...)
}

func (c *Client) markDead(s *server) {
	s.mu.Lock()
	was := c.now().Before(s.deadUntil)
	s.deadUntil = c.now().Add(c.deadTime)
	s.mu.Unlock()
	if !was {
		c.log.Warn("radius: server not answering, marked dead", "server", s.Addr, "for", c.deadTime)
	}
}

func (c *Client) markAlive(s *server) {
	s.mu.Lock()
	was := !s.deadUntil.IsZero()
	s.deadUntil = time.Time{}
	s.mu.Unlock()
	if was {
		c.log.Info("radius: server answering again", "server", s.Addr)
	}
}

// exchange sends the request built by build, for each server in turn, and
// returns the first trusted reply whose code is one of want. build is
// called once per server: the Identifier, the authenticator, the hidden
// User-Password and the Message-Authenticator depend on the server.
func (c *Client) exchange(ctx context.Context, build func(s *server) (*radius.Packet, error), requireMA bool, want ...radius.Code) (*radius.Packet, *server, error) {
	var last error
	for _, at := range c.order() {
		s := at.s
		if err := ctx.Err(); err != nil {
			return nil, nil, fmt.Errorf("%w: %w", ErrNoServer, err)
		}
		p, err := build(s)
		if err != nil {
			return nil, nil, err
		}
		reply, err := c.exchangeOne(ctx, s, p, at.retries, requireMA, want)
		if err == nil {
			c.markAlive(s)
			return reply, s, nil
		}
		last = err
		if ctx.Err() != nil {
			// Our caller gave up, not the server.
			break
		}
		c.markDead(s)
	}
	return nil, nil, fmt.Errorf("%w (last: %w)", ErrNoServer, last)
}

// exchangeOne sends p to s, retransmitting the same octets (same
// Identifier and authenticator: RFC 5080 §2.2.1) after each timeout, at
// most retries times.
func (c *Client) exchangeOne(ctx context.Context, s *server, p *radius.Packet, retries int, requireMA bool, want []radius.Code) (*radius.Packet, error) {
	var id [1]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, fmt.Errorf("radius: %w", err)
	}
	p.Identifier = id[0]
	var reqAuth [16]byte
	b, err := encode(p, s.Secret, reqAuth)
	if err != nil {
		return nil, err
	}
	copy(reqAuth[:], b[4:20])
	conn, err := c.dial(ctx, "udp", s.Addr)
	if err != nil {
		return nil, fmt.Errorf("radius: server %s: %w", s.Addr, err)
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { _ = conn.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()

	// One octet more than the largest packet, to see an oversized one.
	buf := make([]byte, maxPacketLen+1)
	var last error
	for try := 0; try <= retries; try++ {
		if try == 0 {
			s.requests.Add(1)
		} else {
			s.retransmits.Add(1)
		}
		if _, werr := conn.Write(b); werr != nil {
			// ICMP port unreachable from the previous send shows up here
			// on a connected socket: the server is not there.
			s.timeouts.Add(1)
			last = fmt.Errorf("radius: server %s: %w", s.Addr, werr)
			if ctx.Err() != nil {
				return nil, last
			}
			continue
		}
		// Socket deadlines are in real time, whatever c.now says.
		deadline := time.Now().Add(c.timeout)
		if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
			deadline = d
		}
		_ = conn.SetReadDeadline(deadline)
		if err := ctx.Err(); err != nil {
			// Cancelled before the deadline above replaced AfterFunc's.
			return nil, fmt.Errorf("radius: server %s: %w", s.Addr, err)
		}
		for {
			n, rerr := conn.Read(buf)
			if rerr != nil {
				s.timeouts.Add(1)
				if ctx.Err() != nil {
					return nil, fmt.Errorf("radius: server %s: %w", s.Addr, ctx.Err())
				}
				var ne net.Error
				if errors.As(rerr, &ne) && ne.Timeout() {
					last = fmt.Errorf("radius: server %s: timeout", s.Addr)
				} else {
					last = fmt.Errorf("radius: server %s: %w", s.Addr, rerr)
				}
				break
			}
			reply, reason := c.check(buf[:n], p.Identifier, reqAuth, s.Secret, requireMA, want)
			if reason != dropNone {
				s.drops.add(reason)
				c.log.Debug("radius: reply dropped", "server", s.Addr, "reason", reason.String())
				continue
			}
			s.replies.Add(1)
			return reply, nil
		}
	}
	return nil, last
}

func (c *Client) check(b []byte, id byte, reqAuth [16]byte, secret []byte, requireMA bool, want []radius.Code) (*radius.Packet, dropReason) {
	if len(b) >= 2 && b[1] != id {
		return nil, dropUnexpected
	}
	reply, err := parseReply(b, reqAuth, secret, requireMA)
	if err != nil {
		var de *dropError
		if errors.As(err, &de) {
			return nil, de.reason
		}
		return nil, dropMalformed
	}
	for _, w := range want {
		if reply.Code == w {
			return reply, dropNone
		}
	}
	return nil, dropUnexpected
}
