package status

import (
	"bufio"
	"errors"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/pppoed/pppoed/internal/peerlog"
)

// The protocol is JSON lines over a unix stream socket. A client sends one
// request line, {"op":"get"} or {"op":"watch"}; the server answers with
// one Status line (get), or the current Status and then one line per
// change until either side goes away (watch). A request the server
// refuses is answered with {"error":"..."} and the connection closed.
const (
	// MaxClients bounds the connections served at once; more are told
	// "too many clients" and closed.
	MaxClients = 16
	// maxRequest bounds a request line, newline included.
	maxRequest = 512
	// maxResponse bounds a Status line as a client reads it.
	maxResponse = 1 << 16
)

// config holds what tests change; Listen uses defaults().
type config struct {
	maxClients int
	// requestTimeout bounds the wait for the request line, so a client
	// that connects and says nothing does not hold a slot.
	requestTimeout time.Duration
	// writeTimeout drops a watcher that stops reading.
	writeTimeout time.Duration
	// allow says whether a peer of this uid may ask.
	allow func(uid uint32) bool
	// released, if set, is called when a client's slot is free again.
	released func()
}

func defaults() config {
	self := uint32(os.Geteuid())
	return config{
		maxClients:     MaxClients,
		requestTimeout: 5 * time.Second,
		writeTimeout:   10 * time.Second,
		allow:          func(uid uint32) bool { return allowedPeer(uid, self) },
	}
}

// A Server serves a link's Status on its control socket.
type Server struct {
	path    string
	log     *slog.Logger
	peerLog *peerlog.Limiter // bounds the lines clients can cause
	cfg     config
	sock    *Socket

	done chan struct{}
	wg   sync.WaitGroup

	mu       sync.Mutex
	cur      Status
	version  uint64
	changed  chan struct{} // closed and replaced by every change
	counters func() *Counters
	conns    map[net.Conn]struct{}
	closed   bool
}

// Listen creates the control socket at path as ListenSocket does (mode
// 0600, a running pppoed refused with ErrInUse, a stale socket replaced)
// and serves the link's status on it until Close.
func Listen(path string, log *slog.Logger) (*Server, error) {
	return listen(path, log, defaults())
}

func listen(path string, log *slog.Logger, cfg config) (*Server, error) {
	sock, err := ListenSocket(path, linkText, log)
	if err != nil {
		return nil, err
	}
	s := &Server{
		path: path, log: log, peerLog: peerlog.New(log, 0, 0), cfg: cfg, sock: sock,
		done: make(chan struct{}), changed: make(chan struct{}), conns: make(map[net.Conn]struct{}),
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// Path is the socket's path.
func (s *Server) Path() string { return s.path }

// Set publishes st (a copy of it) as the link's status.
func (s *Server) Set(st Status) {
	s.Update(func(cur *Status) { *cur = st })
}

// Update publishes the status f makes of the current one. f runs under
// the server's lock: it must not call the Server.
func (s *Server) Update(f func(*Status)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.cur
	f(&st)
	// A copy: f may keep the slice it set, and the old one may be
	// written by f; readers hold clones of their own.
	s.cur = clone(st)
	s.version++
	close(s.changed)
	s.changed = make(chan struct{})
}

// SetCounters sets the hook that reads the kernel's counters each time a
// status is sent (nil: none). Safe at any time; see ReadCounters.
func (s *Server) SetCounters(f func() *Counters) {
	s.mu.Lock()
	s.counters = f
	s.mu.Unlock()
}

func clone(st Status) Status {
	if st.DNS != nil {
		st.DNS = append(st.DNS[:0:0], st.DNS...)
	}
	if st.Counters != nil {
		c := *st.Counters
		st.Counters = &c
	}
	return st
}

// load returns the current status, its version and the channel closed at
// the next change.
func (s *Server) load() (Status, uint64, <-chan struct{}, func() *Counters) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return clone(s.cur), s.version, s.changed, s.counters
}

// Close stops serving, closes every client, waits for its goroutines and
// removes the socket file if it is still the one Listen made.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	conns := make([]net.Conn, 0, len(s.conns))
	for c := range s.conns {
		conns = append(conns, c)
	}
	s.mu.Unlock()
	err := s.sock.Close()
	for _, c := range conns {
		c.Close()
	}
	s.wg.Wait()
	return err
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.sock.Accept()
		if err != nil {
			select {
			case <-s.done:
				return
			default:
			}
			// EMFILE and the like: do not spin.
			s.peerLog.Warn("status: accept", "err", err)
			t := time.NewTimer(100 * time.Millisecond)
			select {
			case <-s.done:
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		uid, pid, err := PeerCred(c)
		if err != nil || !s.cfg.allow(uid) {
			if err == nil {
				s.peerLog.Warn("status: refused a client", "uid", uid, "pid", pid)
			}
			Refuse(c, "permission denied")
			continue
		}
		if !s.add(c) {
			Refuse(c, "too many clients")
			continue
		}
		s.wg.Add(1)
		go s.serve(c)
	}
}

// add counts c as served, unless the server is full or closed.
func (s *Server) add(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || len(s.conns) >= s.cfg.maxClients {
		return false
	}
	s.conns[c] = struct{}{}
	return true
}

func (s *Server) serve(c *net.UnixConn) {
	defer s.wg.Done()
	defer func() {
		c.Close()
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		if s.cfg.released != nil {
			s.cfg.released()
		}
	}()
	c.SetReadDeadline(time.Now().Add(s.cfg.requestTimeout))
	r := bufio.NewReaderSize(c, maxRequest)
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		s.refuseRequest(c, "request too long")
		return
	}
	if err != nil {
		return // gone, or silent past the deadline
	}
	op, err := parseRequest(line)
	if err != nil {
		s.refuseRequest(c, err.Error())
		return
	}
	c.SetReadDeadline(time.Time{})
	switch op {
	case opGet:
		st, _, _, counters := s.load()
		s.send(c, st, counters)
	case opWatch:
		s.watch(c)
	}
}

func (s *Server) refuseRequest(c net.Conn, why string) {
	s.peerLog.Debug("status: bad request", "err", why)
	c.SetWriteDeadline(time.Now().Add(s.cfg.writeTimeout))
	writeLine(c, errorLine{Error: why})
}

func (s *Server) send(c net.Conn, st Status, counters func() *Counters) error {
	if counters != nil {
		if n := counters(); n != nil {
			st.Counters = n
		}
	}
	c.SetWriteDeadline(time.Now().Add(s.cfg.writeTimeout))
	return writeLine(c, st)
}

// watch sends the current status, then the latest one after each change.
// A slow client misses the states between two of its writes, never the
// last: Set does not wait for anyone.
func (s *Server) watch(c *net.UnixConn) {
	gone := make(chan struct{})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(gone)
		// A client says nothing after its request: any byte, EOF or
		// error ends the watch (the read ends when serve closes c).
		var b [1]byte
		c.Read(b[:])
	}()
	var sent uint64
	for first := true; ; first = false {
		st, v, changed, counters := s.load()
		if first || v != sent {
			if err := s.send(c, st, counters); err != nil {
				return
			}
			sent = v
		}
		select {
		case <-changed:
		case <-gone:
			return
		case <-s.done:
			return
		}
	}
}
