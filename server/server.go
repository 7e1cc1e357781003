package server

import (
	"context"
	"errors"
	"fmt"
	vm "github.com/VictoriaMetrics/metrics"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/pppoed/pppoed/internal/peerlog"
	"github.com/pppoed/pppoed/pppox"
	"github.com/pppoed/pppoed/radius"
	"github.com/pppoed/pppoed/status"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Server is an access concentrator. Its methods are safe for concurrent
// use.
//
// Goroutines: one reads each interface's Discovery frames and runs
// Discovery (stateless until a PADR with a valid cookie); one pppox.Poller
// reads every session's control frames; each session has the goroutine
// that owns its PPP state machines (ppp.Session.Run, and ppp's reader,
// which waits on the poller's queue). Nothing else is per session: no
// buffer, no descriptor reader of its own.
type Server struct {
	cfg   Config
	log   *slog.Logger
	plog  *peerlog.Limiter // lines a station on the wire can cause
	jar   *CookieJar
	padi  *PADILimiter
	pools map[string]*Pool

	mu         sync.Mutex
	started    time.Time
	dir        *directory
	sessions   map[sessionKey]*session
	pending    int            // sessions not up yet
	maxPending int            // MaxPending; tests lower it
	byUser     map[string]int // sessions per authenticated user (only-one)
	counters   Counters
	stopping   bool
	wg         sync.WaitGroup // the sessions' goroutines

	// kernel makes the sessions' links and configures their pppN;
	// listen opens an interface's Discovery socket; iface finds an
	// interface (net.InterfaceByName). Tests replace all three.
	kernel kernel
	listen func(ifi *net.Interface) (frameConn, error)
	iface  func(name string) (*net.Interface, error)
	ports  []*port

	// metrics is the Set Metrics returns; authSeconds its latency
	// histogram.
	metrics     *vm.Set
	authSeconds *vm.PrometheusHistogram

	// aaa is RADIUS, nil without; radiusDial, when set, replaces its
	// UDP sockets (tests).
	aaa        *aaa
	radiusDial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// frameConn is an interface's Discovery socket: a packet.Conn in Raw
// mode, bound to the Discovery EtherType.
type frameConn interface {
	ReadFrom(b []byte) (int, net.Addr, error)
	WriteTo(b []byte, addr net.Addr) (int, error)
	SetReadDeadline(t time.Time) error
	Close() error
}

// sessionKey identifies a session as RFC 2516 §4 does: the pair of MACs
// (ours is the interface's) and the SESSION_ID.
type sessionKey struct {
	ifindex int
	mac     [6]byte
	id      uint16
}

// ErrNoSession is what Kick returns when no session matches.
var ErrNoSession = errors.New("server: no such session")

// New checks cfg and prepares a server; Run starts it.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "pppoed"
	}
	cfg = cfg.withDefaults(host)
	s := &Server{
		cfg:        cfg,
		log:        cfg.Logger,
		jar:        NewCookieJar(nil, 0, nil),
		pools:      map[string]*Pool{},
		sessions:   map[sessionKey]*session{},
		maxPending: MaxPending,
		byUser:     map[string]int{},
		dir:        newDirectory(cfg.Users, cfg.Secrets, cfg.ACName),
	}
	s.plog = peerlog.New(s.log, peerlog.DefaultBurst, peerlog.DefaultEvery)
	if cfg.RADIUS != nil {
		if s.aaa, err = newAAA(*cfg.RADIUS, cfg.ACName, s); err != nil {
			return nil, err
		}
	}
	s.newMetrics()
	if s.padi, err = NewPADILimiter(cfg.PADI); err != nil {
		return nil, err
	}
	for _, pc := range cfg.Pools {
		p, err := NewPool(pc.Name, pc.Ranges...)
		if err != nil {
			return nil, err
		}
		s.pools[pc.Name] = p
	}
	// Our own addresses are never handed out.
	for _, pr := range cfg.Profiles {
		if p := s.pools[pr.RemotePool]; p != nil && p.Contains(pr.LocalAddress) {
			_ = p.Reserve(pr.LocalAddress) // shared by the profiles that name it
		}
	}
	return s, nil
}

// Run serves until ctx ends, then ends every session (LCP
// Terminate-Request, PADT) and removes every pppN before returning. It
// fails at once when an interface cannot be served.
func (s *Server) Run(ctx context.Context) (err error) {
	s.mu.Lock()
	if !s.started.IsZero() {
		s.mu.Unlock()
		return errors.New("server: Run called twice")
	}
	s.started = time.Now()
	s.mu.Unlock()

	if s.kernel == nil {
		k, err := openSysKernel(s.log)
		if err != nil {
			return err
		}
		s.kernel = k
		raiseFileLimit(s.log) // once the kernel can serve at all
	}
	defer s.kernel.close()

	for _, ic := range s.cfg.Interfaces {
		p, err := s.openPort(ic)
		if err != nil {
			// Nothing reads them yet: closing is all they need.
			for _, p := range s.ports {
				p.conn.Close()
			}
			return err
		}
		s.ports = append(s.ports, p)
	}
	stopAcct, err := s.startAAA()
	if err != nil {
		for _, p := range s.ports {
			p.conn.Close()
		}
		return err
	}
	defer stopAcct()
	var readers sync.WaitGroup
	for _, p := range s.ports {
		readers.Add(1)
		go func() {
			defer readers.Done()
			p.serve(ctx)
		}()
	}
	names := make([]string, len(s.ports))
	for i, p := range s.ports {
		names[i] = p.ifi.Name
	}
	s.log.Info("server: serving", "interfaces", names, "ac-name", peerlog.Text(s.cfg.ACName),
		"auth", fmt.Sprint(s.cfg.Auth), "max-sessions", s.cfg.MaxSessions)
	if s.cfg.Ready != nil {
		s.cfg.Ready()
	}

	<-ctx.Done()
	s.mu.Lock()
	s.stopping = true
	n := len(s.sessions)
	for _, ss := range s.sessions {
		ss.stopWith(radius.CauseAdminReboot, "AC shutting down")
	}
	s.mu.Unlock()
	s.log.Info("server: stopping", "sessions", n)
	// The readers go first: no PADR starts a session now. Then each
	// session terminates its link (a Terminate-Request, at most
	// Max-Terminate times) and sends its PADT.
	s.closePorts()
	readers.Wait()
	s.wg.Wait()
	for _, p := range s.ports {
		p.conn.Close()
	}
	return nil
}

func (s *Server) closePorts() {
	for _, p := range s.ports {
		p.stopReading()
	}
}

// Status returns the sessions and counters, the kernel's traffic
// counters of each pppN included.
func (s *Server) Status() Status {
	s.mu.Lock()
	st := Status{ACName: s.cfg.ACName, Started: s.started, Counters: s.counters}
	st.Sessions = make([]SessionStatus, 0, len(s.sessions))
	for _, ss := range s.sessions {
		st.Sessions = append(st.Sessions, ss.statusLocked())
	}
	s.mu.Unlock()
	for i := range st.Sessions {
		if c, err := status.ReadCounters(st.Sessions[i].Ifname); err == nil {
			st.Sessions[i].Counters = c
		}
	}
	slices.SortFunc(st.Sessions, func(a, b SessionStatus) int {
		if a.Since.Equal(b.Since) {
			return int(a.SessionID) - int(b.SessionID)
		}
		return a.Since.Compare(b.Since)
	})
	return st
}

// Kick ends the sessions of user (when not "") or the session with id
// sessionID (when not 0), with an LCP Terminate-Request and a PADT, and
// returns how many it ended (ErrNoSession for none).
func (s *Server) Kick(user string, sessionID uint16) (int, error) {
	if user == "" && sessionID == 0 {
		return 0, errors.New("server: kick: name a user or a session id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for k, ss := range s.sessions {
		if (user != "" && ss.user == user) || (sessionID != 0 && k.id == sessionID) {
			ss.stopWith(radius.CauseAdminReset, "Kicked by administrator")
			n++
		}
	}
	if n == 0 {
		return 0, ErrNoSession
	}
	s.log.Info("server: kicked", "user", peerlog.Text(user), "session-id", sessionID, "sessions", n)
	return n, nil
}

// Reload re-reads users and secrets through Config.Reload (SIGHUP); the
// sessions that are up are not touched: each keeps the profile and
// address it was given.
func (s *Server) Reload() error {
	if s.cfg.Reload == nil {
		return errors.New("server: reload: no configuration file to re-read")
	}
	c, err := s.cfg.Reload()
	if err != nil {
		return fmt.Errorf("server: reload: %w (the previous users stay)", err)
	}
	profiles := map[string]bool{}
	for _, p := range s.cfg.Profiles {
		profiles[p.Name] = true
	}
	if err := validateUsers(c.Users, profiles); err != nil {
		return fmt.Errorf("server: reload: %w (profiles and pools are read at start only)", err)
	}
	d := newDirectory(c.Users, c.Secrets, s.cfg.ACName)
	s.mu.Lock()
	s.dir = d
	s.mu.Unlock()
	s.log.Info("server: users reloaded", "users", len(c.Users), "secrets", len(c.Secrets))
	return nil
}

func (s *Server) directory() *directory {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dir
}

// count updates the counters under the lock.
func (s *Server) count(f func(c *Counters)) {
	s.mu.Lock()
	f(&s.counters)
	s.mu.Unlock()
}

// openSysKernel checks the kernel's side first: a host without PPPoE
// fails here, before any client is offered a session.
func openSysKernel(log *slog.Logger) (*sysKernel, error) {
	probe, err := pppox.OpenSocket()
	if err != nil {
		return nil, err
	}
	probe.Close()
	nl, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("server: netlink: %w", err)
	}
	p, err := pppox.NewPoller(log)
	if err != nil {
		nl.Close()
		return nil, err
	}
	return newSysKernel(p, nl), nil
}

func macKey(m net.HardwareAddr) (k [6]byte) {
	copy(k[:], m)
	return k
}

// Run is New and Server.Run; ctx's end stops the server.
func Run(ctx context.Context, cfg Config) error {
	s, err := New(cfg)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}
