package status

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// A control socket is a unix stream socket under /run/pppoed that only
// root and the daemon's own user may use: mode 0600 in a directory made
// 0700, each peer's uid checked with SO_PEERCRED, one daemon per socket, a
// socket left by a crash replaced. Listen's Server (pppoed connect's) and
// pppoed server's are built from the pieces below, each with its own
// protocol.

// SocketText is what a control socket's errors say, so that each kind of
// daemon's name it and the command that reaches it.
type SocketText struct {
	Prefix     string // every error's: the package ("status")
	Daemon     string // what answers there ("pppoed")
	NotRunning string // what a missing or stale socket means ("no pppoed is running for this link")
	InUse      string // why a second daemon is refused ("one daemon per link")
	Command    string // what to run as root ("pppoed status")
}

// linkText is pppoed connect's.
var linkText = SocketText{
	Prefix:     "status",
	Daemon:     "pppoed",
	NotRunning: "no pppoed is running for this link",
	InUse:      "one daemon per link",
	Command:    "pppoed status",
}

// ErrInUse is returned by Listen and ListenSocket when a running daemon
// already answers on the socket.
var ErrInUse = errors.New("status: control socket in use")

type inUseError struct {
	path   string
	pid    int32 // 0: unknown
	daemon string
	why    string
}

func (e *inUseError) Error() string {
	pid := ""
	if e.pid > 0 {
		pid = fmt.Sprintf(" (pid %d)", e.pid)
	}
	return fmt.Sprintf("%s is in use by a running %s%s: %s", e.path, e.daemon, pid, e.why)
}

func (e *inUseError) Unwrap() error { return ErrInUse }

// A Socket is a listening control socket.
type Socket struct {
	ln     *net.UnixListener
	path   string
	prefix string
	dev    uint64 // the socket file's identity, to remove only our own
	ino    uint64
}

// ListenSocket creates the control socket at path (its directory too, mode
// 0700, if missing), mode 0600. Its errors start with text.Prefix.
//
// When path is a socket a daemon answers on, it fails with an error
// matching ErrInUse; when nothing answers (left by a crash) it is
// replaced; anything else at path is left alone and ListenSocket fails.
//
// The socket is bound in a fresh 0700 directory beside path, made 0600
// there, then renamed into place without replacing anything: it is never
// reachable with bind(2)'s umask-derived mode, and the check and the
// rename are made under a lock on the directory so two daemons starting
// at once cannot both take the path.
func ListenSocket(path string, text SocketText, log *slog.Logger) (*Socket, error) {
	fail := func(err error) (*Socket, error) { return nil, fmt.Errorf("%s: %w", text.Prefix, err) }
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fail(err)
	}
	unlock, err := lockDir(dir)
	if err != nil {
		return fail(err)
	}
	defer unlock()
	if err := clearPath(path, text, log); err != nil {
		return fail(err)
	}
	ln, dev, ino, err := bindPrivate(path)
	if err != nil {
		return fail(err)
	}
	return &Socket{ln: ln, path: path, prefix: text.Prefix, dev: dev, ino: ino}, nil
}

// Path is the socket's path.
func (s *Socket) Path() string { return s.path }

// Accept waits for the next client; check it with PeerCred and
// AllowedPeer before serving it.
func (s *Socket) Accept() (*net.UnixConn, error) { return s.ln.AcceptUnix() }

// Close stops listening (a blocked Accept returns) and removes the socket
// file if it is still the one ListenSocket made. Once only.
func (s *Socket) Close() error {
	err := s.ln.Close()
	var st unix.Stat_t
	if unix.Lstat(s.path, &st) == nil && st.Dev == s.dev && st.Ino == s.ino {
		if rerr := os.Remove(s.path); rerr != nil && err == nil {
			err = rerr
		}
	}
	if err != nil {
		return fmt.Errorf("%s: %w", s.prefix, err)
	}
	return nil
}

// lockDir takes an exclusive flock(2) on dir until unlock.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.Open(dir)
	if err != nil {
		return nil, err
	}
	for {
		err = unix.Flock(int(f.Fd()), unix.LOCK_EX)
		if err != unix.EINTR {
			break
		}
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	return func() { f.Close() }, nil // closing releases the lock
}

// clearPath makes path free: nothing there, or a stale socket removed.
func clearPath(path string, text SocketText, log *slog.Logger) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("%s exists and is not a socket (not replacing it)", path)
	}
	c, err := net.Dial("unix", path)
	if err == nil {
		_, pid, _ := PeerCred(c.(*net.UnixConn))
		c.Close()
		return &inUseError{path: path, pid: pid, daemon: text.Daemon, why: text.InUse}
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		// Nobody listens: the socket of a daemon that crashed.
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("remove stale %s: %w", path, err)
		}
		log.Info(text.Prefix+": replaced a stale control socket", "path", path)
		return nil
	case errors.Is(err, syscall.EAGAIN):
		// Listening, with a full backlog: alive, if busy.
		return &inUseError{path: path, daemon: text.Daemon, why: text.InUse}
	}
	return fmt.Errorf("%s: %w", path, err)
}

// bindPrivate binds and listens in a new 0700 directory beside path, sets
// the socket's mode to 0600, and renames it to path, failing if anything
// is there (RENAME_NOREPLACE).
func bindPrivate(path string) (ln *net.UnixListener, dev, ino uint64, err error) {
	tmp, err := os.MkdirTemp(filepath.Dir(path), ".pppoed") // 0700
	if err != nil {
		return nil, 0, 0, err
	}
	defer os.RemoveAll(tmp)
	tmpSock := filepath.Join(tmp, "s")
	ln, err = net.ListenUnix("unix", &net.UnixAddr{Name: tmpSock, Net: "unix"})
	if err != nil {
		return nil, 0, 0, err
	}
	ln.SetUnlinkOnClose(false) // Close removes path, and only if it is still ours
	fail := func(err error) (*net.UnixListener, uint64, uint64, error) {
		ln.Close()
		return nil, 0, 0, err
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

// PeerCred is who is at the other end of c (SO_PEERCRED).
func PeerCred(c *net.UnixConn) (uid uint32, pid int32, err error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return 0, 0, err
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return 0, 0, err
	}
	if cerr != nil {
		return 0, 0, cerr
	}
	return cred.Uid, cred.Pid, nil
}

// AllowedPeer says whether a client of uid may use a control socket: root,
// or the daemon's own user. The socket's mode (0600) already says so; this
// holds even if someone loosens the mode.
func AllowedPeer(uid uint32) bool { return allowedPeer(uid, uint32(os.Geteuid())) }

func allowedPeer(uid, self uint32) bool {
	return uid == 0 || uid == self
}

// Refuse tells a client why, as {"error":"why"}, and closes it. A fresh
// socket's buffer takes the line without blocking; the deadline is for
// certainty.
func Refuse(c net.Conn, why string) {
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

// dialError is a one-line message for a failed connect; the cause stays
// reachable with errors.Is/As.
type dialError struct {
	msg string
	err error
}

func (e *dialError) Error() string { return e.msg }
func (e *dialError) Unwrap() error { return e.err }

// DialSocket connects to the control socket at path. Its errors are one
// line and say plainly when no daemon runs there or when we may not ask
// it, in text's words.
func DialSocket(ctx context.Context, path string, text SocketText) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, text.dialErr(path, err)
	}
	return c, nil
}

func (t SocketText) dialErr(path string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &dialError{fmt.Sprintf("%s: %s (%s not found)", t.Prefix, t.NotRunning, path), err}
	case errors.Is(err, syscall.ECONNREFUSED):
		return &dialError{fmt.Sprintf("%s: %s (%s is left from one that stopped)", t.Prefix, t.NotRunning, path), err}
	case errors.Is(err, fs.ErrPermission):
		return &dialError{fmt.Sprintf("%s: %s: permission denied (the control socket is root's: run %s as root)", t.Prefix, path, t.Command), err}
	}
	return t.ConnError(path, err)
}

// ConnError is the error of a connection to path that failed after the
// dial: it names path rather than the address the kernel reports (the
// name the server bound before renaming its socket into place).
func (t SocketText) ConnError(path string, err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return &dialError{fmt.Sprintf("%s: %s: %v", t.Prefix, path, oe.Err), err}
	}
	return fmt.Errorf("%s: %s: %w", t.Prefix, path, err)
}
