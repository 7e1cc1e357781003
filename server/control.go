package server

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/pppoed/pppoed/internal/peerlog"
	"github.com/pppoed/pppoed/status"
)

// The control socket (Config.ControlSocket, DefaultControlSocket) is how
// `pppoed server status` and `kick` reach a running server: a root-only
// unix socket built as pppoed connect's (status.ListenSocket: mode 0600,
// SO_PEERCRED, one server per socket, a stale one replaced), speaking JSON
// lines. A client sends one request line and gets one answer line:
//
//	{"op":"status"}                 → a Status
//	{"op":"kick","user":"alice"}    → {"kicked":N}
//	{"op":"kick","session_id":6699} → {"kicked":N}
//
// {"kicked":0} is no session matched; anything refused or failed is
// {"error":"..."}. Then the server closes the connection.

// Controller is what the control socket serves: a *Server.
type Controller interface {
	Status() Status
	// Kick ends the sessions of user (when not "") or the one of id
	// sessionID (when not 0) and says how many (ErrNoSession: none).
	Kick(user string, sessionID uint16) (int, error)
}

const (
	// maxControlClients bounds the connections served at once; more are
	// told "too many clients" and closed.
	maxControlClients = 16
	// maxControlRequest bounds a request line, newline included.
	maxControlRequest = 512
	// maxControlAnswer bounds an answer as a client reads it: a Status
	// line is about 600 bytes a session.
	maxControlAnswer = 64 << 20
)

// controlText is what the control socket's errors say.
var controlText = status.SocketText{
	Prefix:     "server",
	Daemon:     "pppoed server",
	NotRunning: "no pppoed server is running",
	InUse:      "one server per control socket",
	Command:    "pppoed server status or kick",
}

// controlConfig holds what tests change.
type controlConfig struct {
	maxClients int
	// requestTimeout bounds the wait for the request line, so that a
	// client that connects and says nothing does not hold a slot.
	requestTimeout time.Duration
	// writeTimeout drops a client that does not read its answer.
	writeTimeout time.Duration
	// allow says whether a peer of this uid may ask.
	allow func(uid uint32) bool
}

func controlDefaults() controlConfig {
	return controlConfig{
		maxClients:     maxControlClients,
		requestTimeout: 5 * time.Second,
		writeTimeout:   10 * time.Second,
		allow:          status.AllowedPeer,
	}
}

// Control serves a Controller on the control socket.
type Control struct {
	sock    *status.Socket
	h       Controller
	peerLog *peerlog.Limiter // bounds the lines clients can cause
	cfg     controlConfig

	done chan struct{}
	wg   sync.WaitGroup

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

// ListenControl creates the control socket at path (mode 0600; its
// directory, if missing, 0700) and serves h on it until Close. A socket
// a server answers on is not taken (an error matching status.ErrInUse); one
// left by a crash is replaced.
func ListenControl(path string, h Controller, log *slog.Logger) (*Control, error) {
	return listenControl(path, h, log, controlDefaults())
}

func listenControl(path string, h Controller, log *slog.Logger, cfg controlConfig) (*Control, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	sock, err := status.ListenSocket(path, controlText, log)
	if err != nil {
		return nil, err
	}
	c := &Control{
		sock: sock, h: h, peerLog: peerlog.New(log, 0, 0), cfg: cfg,
		done: make(chan struct{}), conns: make(map[net.Conn]struct{}),
	}
	c.wg.Add(1)
	go c.accept()
	return c, nil
}

// Path is the socket's path.
func (c *Control) Path() string { return c.sock.Path() }

// Close stops serving, closes every client, removes the socket file if it
// is still ours, and returns once its goroutines have ended (after any
// Status or Kick call in progress).
func (c *Control) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	close(c.done)
	conns := make([]net.Conn, 0, len(c.conns))
	for conn := range c.conns {
		conns = append(conns, conn)
	}
	c.mu.Unlock()
	err := c.sock.Close()
	for _, conn := range conns {
		conn.Close()
	}
	c.wg.Wait()
	return err
}

func (c *Control) accept() {
	defer c.wg.Done()
	for {
		conn, err := c.sock.Accept()
		if err != nil {
			select {
			case <-c.done:
				return
			default:
			}
			// EMFILE and the like: do not spin.
			c.peerLog.Warn("server: control socket: accept", "err", err)
			t := time.NewTimer(100 * time.Millisecond)
			select {
			case <-c.done:
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		uid, pid, err := status.PeerCred(conn)
		if err != nil || !c.cfg.allow(uid) {
			if err == nil {
				c.peerLog.Warn("server: control socket: refused a client", "uid", uid, "pid", pid)
			}
			status.Refuse(conn, "permission denied")
			continue
		}
		if !c.add(conn) {
			status.Refuse(conn, "too many clients")
			continue
		}
		c.wg.Add(1)
		go c.serve(conn)
	}
}

// add counts conn as served, unless the socket is full or closed.
func (c *Control) add(conn net.Conn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || len(c.conns) >= c.cfg.maxClients {
		return false
	}
	c.conns[conn] = struct{}{}
	return true
}

func (c *Control) serve(conn net.Conn) {
	defer c.wg.Done()
	defer func() {
		conn.Close()
		c.mu.Lock()
		delete(c.conns, conn)
		c.mu.Unlock()
	}()
	conn.SetReadDeadline(time.Now().Add(c.cfg.requestTimeout))
	line, err := bufio.NewReaderSize(conn, maxControlRequest).ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		c.answer(conn, errorAnswer{"request too long"})
		return
	}
	if err != nil {
		return // gone, or silent past the deadline
	}
	req, err := parseControlRequest(line)
	if err != nil {
		c.peerLog.Debug("server: control socket: bad request", "err", err)
		c.answer(conn, errorAnswer{err.Error()})
		return
	}
	switch req.Op {
	case opStatus:
		c.answer(conn, c.h.Status())
	case opKick:
		var id uint16
		if req.SessionID != nil {
			id = *req.SessionID
		}
		n, err := c.h.Kick(req.User, id)
		switch {
		case errors.Is(err, ErrNoSession):
			c.answer(conn, kickAnswer{Kicked: 0})
		case err != nil:
			c.answer(conn, errorAnswer{err.Error()})
		default:
			c.answer(conn, kickAnswer{Kicked: n})
		}
	}
}

func (c *Control) answer(conn net.Conn, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		b, _ = json.Marshal(errorAnswer{"server: " + err.Error()})
	}
	conn.SetWriteDeadline(time.Now().Add(c.cfg.writeTimeout))
	conn.Write(append(b, '\n'))
}

type errorAnswer struct {
	Error string `json:"error"`
}

type kickAnswer struct {
	Kicked int `json:"kicked"`
}

const (
	opStatus = "status"
	opKick   = "kick"
)

type controlRequest struct {
	Op        string  `json:"op"`
	User      string  `json:"user,omitempty"`
	SessionID *uint16 `json:"session_id,omitempty"`
}

// parseControlRequest decodes a request line (its newline optional): one
// JSON object, {"op":"status"}, or {"op":"kick"} with a user name or a
// session id (RFC 2516 §4: neither 0 nor 0xFFFF names a session), and
// nothing else. Its errors quote nothing of the request.
func parseControlRequest(line []byte) (controlRequest, error) {
	if len(line) > maxControlRequest {
		return controlRequest{}, errors.New("request too long")
	}
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	var r controlRequest
	if err := dec.Decode(&r); err != nil {
		return controlRequest{}, errors.New("bad request: not a JSON object with op, user, session_id")
	}
	if len(bytes.TrimSpace(line[dec.InputOffset():])) != 0 {
		return controlRequest{}, errors.New("bad request: more than one value")
	}
	switch r.Op {
	case opStatus:
		if r.User != "" || r.SessionID != nil {
			return controlRequest{}, errors.New("bad request: status takes no user or session_id")
		}
	case opKick:
		switch {
		case r.User == "" && r.SessionID == nil:
			return controlRequest{}, errors.New("bad request: kick needs a user or a session_id")
		case r.User != "" && r.SessionID != nil:
			return controlRequest{}, errors.New("bad request: kick takes a user or a session_id, not both")
		case r.SessionID != nil && (*r.SessionID == 0 || *r.SessionID == 0xffff):
			return controlRequest{}, fmt.Errorf("bad request: session_id %d is no session's (RFC 2516 section 4)", *r.SessionID)
		}
	default:
		return controlRequest{}, errors.New("bad request: op must be status or kick")
	}
	return r, nil
}

// GetStatus asks the server at the control socket path for its sessions
// and counters.
func GetStatus(ctx context.Context, path string) (Status, error) {
	var a struct {
		Error string `json:"error"`
		Status
	}
	if err := ask(ctx, path, controlRequest{Op: opStatus}, &a); err != nil {
		return Status{}, err
	}
	if a.Error != "" {
		return Status{}, refused(path, a.Error)
	}
	return a.Status, nil
}

// KickSession asks the server at path to end the sessions of user, or
// the session of id (give one, the other "" or 0), and returns how many it
// ended; none is an error matching ErrNoSession.
func KickSession(ctx context.Context, path, user string, id uint16) (int, error) {
	req := controlRequest{Op: opKick, User: user}
	what := `user "` + peerlog.Text(user) + `"`
	if id != 0 {
		req.SessionID = &id
		what = fmt.Sprintf("session id 0x%04x", id)
	}
	if (user == "") == (id == 0) {
		return 0, errors.New("server: kick: give a user or a session id")
	}
	var a struct {
		Error  string `json:"error"`
		Kicked *int   `json:"kicked"`
	}
	if err := ask(ctx, path, req, &a); err != nil {
		return 0, err
	}
	switch {
	case a.Error != "":
		return 0, refused(path, a.Error)
	case a.Kicked == nil:
		return 0, fmt.Errorf("server: %s: a bad answer from pppoed server (no kicked count)", path)
	case *a.Kicked == 0:
		return 0, fmt.Errorf("%w: %s", ErrNoSession, what)
	}
	return *a.Kicked, nil
}

func refused(path, why string) error {
	return fmt.Errorf("server: %s: pppoed server refused: %s", path, peerlog.Escape(why))
}

// ask sends req to the server at path and decodes its answer into a.
func ask(ctx context.Context, path string, req controlRequest, a any) error {
	conn, err := status.DialSocket(ctx, path, controlText)
	if err != nil {
		return err
	}
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	b, _ := json.Marshal(req)
	// A server that refuses us may have closed before we write: its
	// reason is still there to read.
	_, werr := conn.Write(append(b, '\n'))
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 0, 4096), maxControlAnswer)
	if sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), a); err != nil {
			return fmt.Errorf("server: %s: a bad answer from pppoed server: %w", path, err)
		}
		return nil
	}
	err = sc.Err()
	if err == nil {
		err = werr
	}
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if err != nil {
		return controlText.ConnError(path, err)
	}
	return fmt.Errorf("server: %s: pppoed server closed the connection without an answer: %w", path, io.EOF)
}
