package loadgen

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mdlayher/packet"
	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/internal/peerlog"
	"github.com/pppoed/pppoed/ppp"
)

// Conn is a raw packet socket: it reads and writes whole Ethernet frames,
// header included (a *packet.Conn of type packet.Raw). WriteTo's address
// is the frame's destination. It must allow a write concurrent with other
// writes and with a read.
type Conn interface {
	ReadFrom(b []byte) (int, net.Addr, error)
	WriteTo(b []byte, addr net.Addr) (int, error)
	Close() error
}

// Config configures a load generator. The zero value of each field but
// N (and Interface, for Start) means its default.
type Config struct {
	// Interface is the Ethernet interface Start opens its socket on.
	Interface string
	// N is the number of clients emulated.
	N int
	// User and Password are every client's credentials, unless
	// Credentials is set: it gives client i's (0 <= i < N). Passwords
	// are never logged nor recorded.
	User, Password string
	Credentials    func(i int) (user, password string)
	// Allow are the authentication methods the clients accept, most
	// preferred first (default: ppp's, MS-CHAPv2 first).
	Allow []ppp.AuthMethod
	// ServiceName is asked for in every PADI and PADR ("": any).
	ServiceName string
	// ACName, when set, makes the clients take only that AC's offers.
	ACName string
	// Concurrency bounds the clients in set-up at once: from the first
	// PADI to IPv4 up or failure. 0: no bound (all N at once).
	Concurrency int
	// Rate bounds the clients started per second. 0: no bound.
	Rate float64
	// MACBase is client 0's MAC; client i's is MACBase plus i, as a
	// 48-bit number. It must be a locally administered unicast address
	// that leaves room for N clients. Default 02:70:6c:00:00:00.
	MACBase net.HardwareAddr
	Timers  Timers
	// Logger receives the generator's own lines (sessions are not
	// logged: N sessions' debug dumps would drown anything else).
	Logger *slog.Logger
}

// Timers are discovery's retransmission timers and the PPP engine's.
type Timers struct {
	// PADI is the wait for a PADO after the first PADI; it doubles
	// with each retransmission, PADIAttempts PADIs in all. Defaults:
	// discovery.DefaultTimeout (5 s) and discovery.DefaultAttempts (3),
	// pppd's.
	PADI         time.Duration
	PADIAttempts int
	// PADR and PADRAttempts are the same for the PADS.
	PADR         time.Duration
	PADRAttempts int
	// PPP are the PPP restart timer and counters (ppp's defaults).
	PPP ppp.Timers
	// Auth bounds the wait for the AC's authentication (ppp's
	// AuthTimeout, default 30 s).
	Auth time.Duration
}

// DefaultMACBase is client 0's MAC unless Config.MACBase says otherwise:
// locally administered (0x02), unicast, "pl" for pppoed's load.
var DefaultMACBase = net.HardwareAddr{0x02, 0x70, 0x6c, 0x00, 0x00, 0x00}

// Reasons a client's set-up fails, as Client.Failure and Result.Failures
// give them. A PPP failure is "ppp: " and the ppp.Reason; a refusal in
// the PADS is "PADS " and the error tag's name.
const (
	FailNoPADO     = "no PADO"
	FailNoPADS     = "no PADS"
	FailPADT       = "PADT before IPv4 up"
	FailSend       = "send failed"
	FailStopped    = "stopped before IPv4 up"
	FailNotStarted = "not started"
)

// Client is what happened to one emulated client. Times are zero for what
// did not happen.
type Client struct {
	Index     int
	MAC       net.HardwareAddr
	User      string
	AC        net.HardwareAddr // the AC whose PADS confirmed the session
	SessionID uint16
	PADIs     int // PADIs sent
	PADRs     int // PADRs sent
	FirstPADI time.Time
	PADS      time.Time
	LinkUp    time.Time // LCP opened
	Up        time.Time // IPCP opened: IPv4 up
	Addr      netip.Addr
	// Failure says why the set-up failed (one of the Fail reasons, a
	// "PADS ..." refusal or a "ppp: ..." reason); Detail says more.
	Failure, Detail string
	// Down is when a session that was up ended before Stop (the AC's
	// PADT or Terminate-Request, a dead keepalive); DownReason says why.
	Down       time.Time
	DownReason string
}

// Settled reports whether the client is done setting up: up or failed.
func (c Client) Settled() bool { return !c.Up.IsZero() || c.Failure != "" }

// Generator runs the clients of one Config over one socket.
type Generator struct {
	cfg     Config
	conn    Conn
	log     *slog.Logger
	stray   *peerlog.Limiter
	clients []*client
	byMAC   map[[6]byte]*client // read-only once started
	run     [4]byte             // the run's Host-Uniq prefix

	ctx    context.Context // cancelled by Stop
	cancel context.CancelFunc
	slots  chan struct{} // Concurrency's semaphore; nil when unbounded
	wg     sync.WaitGroup

	mu        sync.Mutex
	recs      []Client
	settled   int
	allSettle chan struct{} // closed once every client is settled

	readerDone chan struct{}
	readErr    error // set before readerDone closes
	stopOnce   sync.Once
	stopErr    error

	strayFrames atomic.Int64 // frames for no client or no session of ours
	queueDrops  atomic.Int64 // frames lost to a client's full queue
	malformed   atomic.Int64
	socketDrops uint64 // under mu, from Stop
}

// Result is a snapshot of a run.
type Result struct {
	Clients []Client
	// Start is the first PADI sent, LastUp the last IPv4 up.
	Start, LastUp time.Time
	Up            int // clients whose IPv4 came up
	Failed        int // clients whose set-up failed
	Pending       int // clients still setting up (or not started)
	// Dropped are the sessions that went down before Stop after being
	// up: the AC ended them.
	Dropped  int
	Failures []Count // by reason, most frequent first
	// UniqueAddrs counts the distinct addresses of the sessions that
	// stayed up; DuplicateSessions the ones among them whose (AC,
	// session id) another one also holds: an AC bug.
	UniqueAddrs       int
	DuplicateSessions int
	// Frames that reached no client (another station's, a session we
	// do not have), that were lost to a client's full queue, or that
	// failed to parse; SocketDrops the kernel's count of frames the
	// socket's buffer had no room for (read at Stop).
	StrayFrames, QueueDrops, Malformed int64
	SocketDrops                        uint64
}

// Count is a failure reason and how many clients it failed.
type Count struct {
	Reason string
	N      int
}

// SetupTime is the all-up time: from the first PADI to the last IPv4 up.
func (r *Result) SetupTime() time.Duration {
	if r.Up == 0 {
		return 0
	}
	return r.LastUp.Sub(r.Start)
}

// Rate is the sessions set up per second over SetupTime.
func (r *Result) Rate() float64 {
	d := r.SetupTime()
	if d <= 0 {
		return 0
	}
	return float64(r.Up) / d.Seconds()
}

func (r *Result) String() string {
	s := fmt.Sprintf("%d/%d up in %v (%.1f/s), %d failed", r.Up, len(r.Clients), r.SetupTime().Round(time.Millisecond), r.Rate(), r.Failed)
	if r.Pending > 0 {
		s += fmt.Sprintf(", %d pending", r.Pending)
	}
	for _, f := range r.Failures {
		s += fmt.Sprintf(", %d %s", f.N, f.Reason)
	}
	s += fmt.Sprintf(", %d dropped, %d unique addresses", r.Dropped, r.UniqueAddrs)
	if r.DuplicateSessions > 0 {
		s += fmt.Sprintf(", %d duplicate session ids", r.DuplicateSessions)
	}
	return s
}

// maxClients bounds N: the index goes into the MAC's low 24 bits.
const maxClients = 1 << 24

func (c *Config) fill() error {
	if c.N <= 0 || c.N > maxClients {
		return fmt.Errorf("loadgen: N = %d, want 1 to %d", c.N, maxClients)
	}
	if c.Concurrency < 0 || c.Rate < 0 {
		return errors.New("loadgen: negative Concurrency or Rate")
	}
	if c.MACBase == nil {
		c.MACBase = DefaultMACBase
	}
	if !discovery.ValidUnicast(c.MACBase) || c.MACBase[0]&2 == 0 {
		return fmt.Errorf("loadgen: MACBase %v is not a locally administered unicast address", c.MACBase)
	}
	// Adding N-1 (under 2^24) can carry at most one into the first
	// octet, which, even, turns odd: a group address. So the last MAC
	// tells whether all fit.
	if !discovery.ValidUnicast(clientMAC(c.MACBase, c.N-1)) {
		return fmt.Errorf("loadgen: MACBase %v leaves no room for %d clients", c.MACBase, c.N)
	}
	t := &c.Timers
	if t.PADI <= 0 {
		t.PADI = discovery.DefaultTimeout
	}
	if t.PADIAttempts <= 0 {
		t.PADIAttempts = discovery.DefaultAttempts
	}
	if t.PADR <= 0 {
		t.PADR = discovery.DefaultTimeout
	}
	if t.PADRAttempts <= 0 {
		t.PADRAttempts = discovery.DefaultAttempts
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

func mac48(m net.HardwareAddr) uint64 {
	var v uint64
	for _, b := range m {
		v = v<<8 | uint64(b)
	}
	return v
}

// clientMAC is client i's MAC: base plus i.
func clientMAC(base net.HardwareAddr, i int) net.HardwareAddr {
	v := mac48(base) + uint64(i)
	m := make(net.HardwareAddr, 6)
	for j := 5; j >= 0; j-- {
		m[j] = byte(v)
		v >>= 8
	}
	return m
}

// Start opens a raw packet socket on cfg.Interface (see Listen) and
// starts the clients. Stop ends them and closes the socket.
func Start(cfg Config) (*Generator, error) {
	conn, err := Listen(cfg.Interface)
	if err != nil {
		return nil, err
	}
	g, err := StartConn(conn, cfg)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return g, nil
}

// StartConn starts the clients over conn, which Stop closes.
func StartConn(conn Conn, cfg Config) (*Generator, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	g := &Generator{
		cfg:        cfg,
		conn:       conn,
		log:        cfg.Logger,
		byMAC:      make(map[[6]byte]*client, cfg.N),
		clients:    make([]*client, cfg.N),
		recs:       make([]Client, cfg.N),
		allSettle:  make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	g.stray = peerlog.New(g.log, peerlog.DefaultBurst, peerlog.DefaultEvery)
	_, _ = rand.Read(g.run[:])
	g.ctx, g.cancel = context.WithCancel(context.Background())
	if cfg.Concurrency > 0 {
		g.slots = make(chan struct{}, cfg.Concurrency)
	}
	for i := range cfg.N {
		c := newClient(g, i)
		g.clients[i] = c
		g.byMAC[c.mac] = c
		user := cfg.User
		if cfg.Credentials != nil {
			user, _ = cfg.Credentials(i)
		}
		g.recs[i] = Client{Index: i, MAC: net.HardwareAddr(c.mac[:]), User: user}
	}
	go g.read()
	g.wg.Add(1)
	go g.launch()
	return g, nil
}

// Run starts the clients (Start), waits until every one is up or failed
// or ctx ends, then ends them (Stop) and returns what happened.
func Run(ctx context.Context, cfg Config) (*Result, error) {
	g, err := Start(cfg)
	if err != nil {
		return nil, err
	}
	_, werr := g.Wait(ctx)
	r, err := g.Stop()
	return r, errors.Join(werr, err)
}

// launch starts the clients in order, at most Rate a second and with at
// most Concurrency in set-up at once.
func (g *Generator) launch() {
	defer g.wg.Done()
	var interval time.Duration
	if g.cfg.Rate > 0 {
		interval = time.Duration(float64(time.Second) / g.cfg.Rate)
	}
	next := time.Now()
	for i, c := range g.clients {
		if interval > 0 && i > 0 {
			next = next.Add(interval)
			if !g.sleepUntil(next) {
				g.notStarted(i)
				return
			}
		}
		if g.slots != nil {
			select {
			case g.slots <- struct{}{}:
			case <-g.ctx.Done():
				g.notStarted(i)
				return
			}
		}
		c.started = true
		g.wg.Add(1)
		go c.run()
	}
}

func (g *Generator) sleepUntil(t time.Time) bool {
	d := time.Until(t)
	if d <= 0 {
		return g.ctx.Err() == nil
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-g.ctx.Done():
		return false
	}
}

// notStarted fails the clients from i on, which Stop kept from starting.
func (g *Generator) notStarted(i int) {
	for _, c := range g.clients[i:] {
		g.fail(c, FailNotStarted, "")
	}
}

// update changes client i's record under the lock.
func (g *Generator) update(i int, f func(*Client)) {
	g.mu.Lock()
	defer g.mu.Unlock()
	f(&g.recs[i])
}

// settle counts c as done setting up, once, and frees its slot.
func (g *Generator) settle(c *client) {
	if c.settled {
		return
	}
	c.settled = true
	if g.slots != nil && c.started {
		<-g.slots
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.settled++
	if g.settled == len(g.clients) {
		close(g.allSettle)
	}
}

// fail records why c's set-up failed and settles it.
func (g *Generator) fail(c *client, reason, detail string) {
	g.update(c.index, func(r *Client) { r.Failure, r.Detail = reason, detail })
	g.settle(c)
}

// Wait returns once every client is up or has failed, or when ctx ends
// (with ctx's error), with the run so far.
func (g *Generator) Wait(ctx context.Context) (*Result, error) {
	select {
	case <-g.allSettle:
		return g.Result(), nil
	case <-ctx.Done():
		return g.Result(), fmt.Errorf("loadgen: waiting for the clients: %w", ctx.Err())
	}
}

// Stop ends every session (LCP Terminate-Request, then PADT) and every
// client still in set-up, closes the socket and returns the run. It
// returns once every goroutine of the generator has ended. The error is
// the socket's, if reading it failed before Stop.
func (g *Generator) Stop() (*Result, error) {
	g.stopOnce.Do(func() {
		g.cancel()
		g.wg.Wait()
		var drops uint64
		if s, ok := g.conn.(interface{ Stats() (*packet.Stats, error) }); ok {
			if st, err := s.Stats(); err == nil {
				drops = uint64(st.Drops)
			}
		}
		g.conn.Close()
		<-g.readerDone
		g.mu.Lock()
		g.socketDrops = drops
		g.mu.Unlock()
		if g.readErr != nil && !errors.Is(g.readErr, net.ErrClosed) {
			g.stopErr = fmt.Errorf("loadgen: reading the socket: %w", g.readErr)
		}
	})
	return g.Result(), g.stopErr
}

// Result returns a snapshot of the run.
func (g *Generator) Result() *Result {
	g.mu.Lock()
	r := &Result{Clients: slices.Clone(g.recs), SocketDrops: g.socketDrops}
	g.mu.Unlock()
	r.StrayFrames, r.QueueDrops, r.Malformed = g.strayFrames.Load(), g.queueDrops.Load(), g.malformed.Load()
	failures := map[string]int{}
	addrs := map[netip.Addr]bool{}
	type sessKey struct {
		ac [6]byte
		id uint16
	}
	sessions := map[sessKey]int{}
	for _, c := range r.Clients {
		if !c.FirstPADI.IsZero() && (r.Start.IsZero() || c.FirstPADI.Before(r.Start)) {
			r.Start = c.FirstPADI
		}
		if c.Failure != "" {
			r.Failed++
			failures[c.Failure]++
		}
		if c.Up.IsZero() {
			if c.Failure == "" {
				r.Pending++
			}
			continue
		}
		r.Up++
		if c.Up.After(r.LastUp) {
			r.LastUp = c.Up
		}
		if !c.Down.IsZero() {
			r.Dropped++
			continue
		}
		addrs[c.Addr] = true
		sessions[sessKey{[6]byte(c.AC), c.SessionID}]++
	}
	r.UniqueAddrs = len(addrs)
	for _, n := range sessions {
		if n > 1 {
			r.DuplicateSessions += n
		}
	}
	for reason, n := range failures {
		r.Failures = append(r.Failures, Count{reason, n})
	}
	slices.SortFunc(r.Failures, func(a, b Count) int {
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Reason, b.Reason))
	})
	return r
}

// readBuf holds any frame the interface can carry, jumbo ones included:
// a frame cut short would parse as malformed.
const readBuf = 9216

// read demultiplexes every frame to its client until the socket closes.
// It never blocks on a client: a full queue loses the frame, as a busy
// host would.
func (g *Generator) read() {
	defer close(g.readerDone)
	buf := make([]byte, readBuf)
	for {
		n, _, err := g.conn.ReadFrom(buf)
		if err != nil {
			if g.ctx.Err() == nil {
				g.readErr = err
				g.log.Error("loadgen: reading the socket", "err", err)
				// The clients cannot hear anything any more.
				g.cancel()
			} else {
				g.readErr = net.ErrClosed
			}
			return
		}
		g.handle(buf[:n])
	}
}

// handle dispatches one frame; b is reused after it returns.
func (g *Generator) handle(b []byte) {
	f, err := discovery.ParseFrame(b)
	if err != nil {
		g.strayFrames.Add(1) // some other protocol; the filter lets none through
		return
	}
	c := g.byMAC[[6]byte(f.Dst)]
	if c == nil {
		g.strayFrames.Add(1) // broadcast, or another station's
		return
	}
	if f.EtherType == discovery.EtherTypeDiscovery {
		c.discoveryFrame(f)
		return
	}
	c.sessionFrame(f)
}
