package status

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/pppoed/pppoed/internal/peerlog"
	"golang.org/x/sys/unix"
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

// ErrInUse is returned by Listen when a running pppoed already answers on
// the socket: one daemon per link.
var ErrInUse = errors.New("status: control socket in use")

type inUseError struct {
	path string
	pid  int32 // 0: unknown
}

func (e *inUseError) Error() string {
	pid := ""
	if e.pid > 0 {
		pid = fmt.Sprintf(" (pid %d)", e.pid)
	}
	return fmt.Sprintf("status: %s is in use by a running pppoed%s: one daemon per link", e.path, pid)
}

func (e *inUseError) Unwrap() error { return ErrInUse }

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

// allowedPeer: root, or the daemon's own user. The socket's mode (0600)
// already says so; this holds even if someone loosens the mode.
func allowedPeer(uid, self uint32) bool {
	return uid == 0 || uid == self
}

// A Server serves a link's Status on its control socket.
type Server struct {
	path    string
	log     *slog.Logger
	peerLog *peerlog.Limiter // bounds the lines clients can cause
	cfg     config
	ln      *net.UnixListener
	dev     uint64 // the socket file's identity, to remove only our own
	ino     uint64

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

// Listen creates the control socket at path (its directory too, mode 0700,
// if missing), mode 0600, and serves it until Close.
//
// When path is a socket a pppoed answers on, Listen fails with an error
// matching ErrInUse; when nothing answers (left by a crash) it is
// replaced; anything else at path is left alone and Listen fails.
//
// The socket is bound in a fresh 0700 directory beside path, made 0600
// there, then renamed into place without replacing anything: it is never
// reachable with bind(2)'s umask-derived mode, and the check and the
// rename are made under a lock on the directory so two daemons starting
// at once cannot both take the path.
func Listen(path string, log *slog.Logger) (*Server, error) {
	return listen(path, log, defaults())
}

func listen(path string, log *slog.Logger, cfg config) (*Server, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := clearPath(path, log); err != nil {
		return nil, err
	}
	ln, dev, ino, err := bindPrivate(path)
	if err != nil {
		return nil, err
	}
	s := &Server{
		path: path, log: log, peerLog: peerlog.New(log, 0, 0), cfg: cfg, ln: ln, dev: dev, ino: ino,
		done: make(chan struct{}), changed: make(chan struct{}), conns: make(map[net.Conn]struct{}),
	}
	s.wg.Add(1)
	go s.accept()
	return s, nil
}

// lockDir takes an exclusive flock(2) on dir until unlock.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("status: lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil // closing releases the lock
}

// clearPath makes path free: nothing there, or a stale socket removed.
func clearPath(path string, log *slog.Logger) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("status: %s exists and is not a socket (not replacing it)", path)
	}
	c, err := net.Dial("unix", path)
	if err == nil {
		pid := peerPID(c.(*net.UnixConn))
		c.Close()
		return &inUseError{path: path, pid: pid}
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		// Nobody listens: the socket of a pppoed that crashed.
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("status: remove stale %s: %w", path, err)
		}
		log.Info("status: replaced a stale control socket", "path", path)
		return nil
	case errors.Is(err, syscall.EAGAIN):
		// Listening, with a full backlog: alive, if busy.
		return &inUseError{path: path}
	}
	return fmt.Errorf("status: %s: %w", path, err)
}

func peerPID(c *net.UnixConn) int32 {
	cred, err := peerCred(c)
	if err != nil {
		return 0
	}
	return cred.Pid
}

func peerCred(c *net.UnixConn) (*unix.Ucred, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return nil, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return nil, err
	}
	return cred, cerr
}

// bindPrivate binds and listens in a new 0700 directory beside path, sets
// the socket's mode to 0600, and renames it to path, failing if anything
// is there (RENAME_NOREPLACE).
func bindPrivate(path string) (ln *net.UnixListener, dev, ino uint64, err error) {
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".pppoed") // 0700
	if err != nil {
		return nil, 0, 0, fmt.Errorf("status: %w", err)
	}
	defer os.RemoveAll(tmp)
	tmpSock := filepath.Join(tmp, "s")
	ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: tmpSock, Net: "unix"})
	if err != nil {
		return nil, 0, 0, fmt.Errorf("status: %w", err)
	}
	ln.SetUnlinkOnClose(false) // Close removes path, and only if it is still ours
	fail := func(err error) (*net.UnixListener, uint64, uint64, error) {
		ln.Close()
		return nil, 0, 0, fmt.Errorf("status: %w", err)
	}
	if err := os.Chmod(tmpSock, 0o600); err != nil {
		return fail(err)
	}
	if err := unix.Renameat2(unix.AT_FDCWD, tmpSock, unix.AT_FDCWD, path, unix.RENAME_NOREPLACE); err != nil {
		return fail(&os.LinkError{Op: "rename", Old: tmpSock, New: path, Err: err})
	}
	var st unix.Stat_t
	if err := unix.Lstat(path, &st); err != nil {
		return fail(err)
	}
	return ln, st.Dev, st.Ino, nil
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
	err := s.ln.Close()
	for _, c := range conns {
		c.Close()
	}
	s.wg.Wait()
	var st unix.Stat_t
	if unix.Lstat(s.path, &st) == nil && st.Dev == s.dev && st.Ino == s.ino {
		if rerr := os.Remove(s.path); rerr != nil && err == nil {
			err = rerr
		}
	}
	if err != nil {
		return fmt.Errorf("status: %w", err)
	}
	return nil
}

func (s *Server) accept() {
	defer s.wg.Done()
	for {
		c, err := s.ln.AcceptUnix()
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
		cred, err := peerCred(c)
		if err != nil || !s.cfg.allow(cred.Uid) {
			if err == nil {
				s.peerLog.Warn("status: refused a client", "uid", cred.Uid, "pid", cred.Pid)
			}
			refuse(c, "permission denied")
			continue
		}
		if !s.add(c) {
			refuse(c, "too many clients")
			continue
		}
		s.wg.Add(1)
		go s.serve(c)
	}
}

// refuse tells a client why and closes it. A fresh socket's buffer takes
// the line without blocking; the deadline is for certainty.
func refuse(c net.Conn, why string) {
	c.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	writeLine(c, errorLine{Error: why})
	c.Close()
}

type errorLine struct {
	Error string `json:"error"`
}

func writeLine(c net.Conn, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	_, err = c.Write(append(b, '\n'))
	return err
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
