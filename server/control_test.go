package server

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pppoed/pppoed/status"
)

// fakeController answers as a server would and records the kicks asked.
type fakeController struct {
	mu     sync.Mutex
	st     Status
	kicks  []string // "user" or "#id"
	n      int
	err    error
	calls  int
	block  chan struct{} // when set, Status and Kick wait for it to close
	inCall chan struct{} // when set, told of each call as it starts
}

func (f *fakeController) enter() {
	f.mu.Lock()
	f.calls++
	block, in := f.block, f.inCall
	f.mu.Unlock()
	if in != nil {
		in <- struct{}{}
	}
	if block != nil {
		<-block
	}
}

func (f *fakeController) Status() Status {
	f.enter()
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.st
}

func (f *fakeController) Kick(user string, id uint16) (int, error) {
	f.enter()
	f.mu.Lock()
	defer f.mu.Unlock()
	if user != "" {
		f.kicks = append(f.kicks, user)
	} else {
		f.kicks = append(f.kicks, "#"+strconv.Itoa(int(id)))
	}
	return f.n, f.err
}

func (f *fakeController) called() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// shortDir is a temporary directory with a short path: sun_path holds
// 108 bytes, and the socket is bound one level deeper first.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "sc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func testControlConfig() controlConfig {
	c := controlDefaults()
	c.requestTimeout = time.Minute // tests that need it shorten it
	return c
}

func startControl(t *testing.T, h Controller, cfg controlConfig) *Control {
	t.Helper()
	c, err := listenControl(filepath.Join(shortDir(t), "server.sock"), h, slog.New(slog.DiscardHandler), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func sampleStatus() Status {
	since := time.Date(2026, 11, 29, 22, 0, 0, 0, time.UTC)
	return Status{
		ACName:  "ac1",
		Started: since.Add(-time.Hour),
		Sessions: []SessionStatus{{
			User: "alice\x1b[2J", MAC: "52:54:00:12:34:56", SessionID: 0x1a2b, Interface: "eth1", Ifname: "ppp-alice",
			Service: "internet", State: "network", Local: netip.MustParseAddr("10.0.0.1"), Remote: netip.MustParseAddr("10.0.0.50"),
			RemoteV6: netip.MustParseAddr("fe80::1"), MTU: 1492, Since: since, UpSince: since.Add(time.Second),
			Counters: &status.Counters{RxBytes: 1, TxBytes: 2, RxPackets: 3, TxPackets: 4},
		}, {
			MAC: "52:54:00:12:34:57", SessionID: 7, Interface: "eth1", Ifname: "ppp1", State: "authenticate", Since: since,
		}},
		Counters: Counters{PADIs: 1, PADIsAnswered: 2, PADIsLimited: 3, PADIsNoService: 4, PADRs: 5, BadCookies: 6, PADTs: 7,
			PADTsIgnored: 8, SessionsStarted: 9, SessionsUp: 10, AuthFailures: 11, RefusedMax: 12, RefusedNoService: 13,
			RefusedOnlyOne: 14, NoAddress: 15},
	}
}

func TestControlStatus(t *testing.T) {
	f := &fakeController{st: sampleStatus()}
	c := startControl(t, f, testControlConfig())
	got, err := GetStatus(context.Background(), c.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, f.st) {
		t.Errorf("got\n %+v\nwant\n %+v", got, f.st)
	}
}

// A Status of thousands of sessions is one line far past pppoed connect's
// 64 KiB bound: it arrives whole.
func TestControlLargeStatus(t *testing.T) {
	f := &fakeController{st: sampleStatus()}
	for i := range 5000 {
		s := f.st.Sessions[0]
		s.SessionID = uint16(i + 1)
		f.st.Sessions = append(f.st.Sessions, s)
	}
	c := startControl(t, f, testControlConfig())
	got, err := GetStatus(context.Background(), c.Path())
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Sessions) != len(f.st.Sessions) {
		t.Errorf("%d sessions, want %d", len(got.Sessions), len(f.st.Sessions))
	}
}

func TestControlKick(t *testing.T) {
	tests := []struct {
		name    string
		user    string
		id      uint16
		n       int
		err     error
		want    int
		wantErr string // "" none
		kicks   []string
	}{
		{"by user", "alice", 0, 2, nil, 2, "", []string{"alice"}},
		{"by session id", "", 0x1a2b, 1, nil, 1, "", []string{"#6699"}},
		{"no such user", "bob", 0, 0, ErrNoSession, 0, `server: no such session: user "bob"`, []string{"bob"}},
		{"no such session", "", 9, 0, ErrNoSession, 0, "server: no such session: session id 0x0009", []string{"#9"}},
		{"a user name to escape", "b\x1bob", 0, 0, ErrNoSession, 0, `server: no such session: user "b\x1bob"`, []string{"b\x1bob"}},
		{"the server fails", "alice", 0, 0, errors.New("server: kick: busy"), 0, "pppoed server refused: server: kick: busy", []string{"alice"}},
		{"neither", "", 0, 0, nil, 0, "server: kick: give a user or a session id", nil},
		{"both", "alice", 7, 0, nil, 0, "server: kick: give a user or a session id", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeController{n: tt.n, err: tt.err}
			c := startControl(t, f, testControlConfig())
			n, err := KickSession(context.Background(), c.Path(), tt.user, tt.id)
			if tt.wantErr == "" {
				if err != nil || n != tt.want {
					t.Errorf("KickSession: %d, %v; want %d", n, err, tt.want)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("KickSession: %d, %v; want error %q", n, err, tt.wantErr)
			}
			if errors.Is(tt.err, ErrNoSession) && !errors.Is(err, ErrNoSession) {
				t.Errorf("%v does not match ErrNoSession", err)
			}
			if !reflect.DeepEqual(f.kicks, tt.kicks) {
				t.Errorf("kicks %q, want %q", f.kicks, tt.kicks)
			}
		})
	}
}

// rawConn connects to the socket without the client's help.
func rawConn(t *testing.T, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// rawAsk sends line and reads the answer line; the server closes after.
func rawAsk(t *testing.T, path, line string) string {
	t.Helper()
	c := rawConn(t, path)
	c.SetDeadline(time.Now().Add(10 * time.Second))
	c.Write([]byte(line))
	r := bufio.NewReader(c)
	answer, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("no answer to %q: %v", line, err)
	}
	if _, err := r.ReadByte(); err == nil {
		t.Errorf("more after the answer to %q", line)
	}
	return answer
}

// What a client may send, and what it gets: a bad request never reaches
// the Controller.
func TestControlRequests(t *testing.T) {
	tests := []struct {
		name, line, want string
		call             bool
	}{
		{"status", `{"op":"status"}` + "\n", `"ac_name":"ac1"`, true},
		{"status without a newline", `{"op":"status"}`, "", false}, // the server waits for the line
		{"kick a user", `{"op":"kick","user":"alice"}` + "\n", `{"kicked":1}`, true},
		{"kick a session", `{"op":"kick","session_id":7}` + "\n", `{"kicked":1}`, true},
		{"kick session 0", `{"op":"kick","session_id":0}` + "\n", `{"error":"bad request: session_id 0 is no session's (RFC 2516 section 4)"}`, false},
		{"kick session 0xffff", `{"op":"kick","session_id":65535}` + "\n", `{"error":"bad request: session_id 65535 is no session's (RFC 2516 section 4)"}`, false},
		{"session id too large", `{"op":"kick","session_id":65536}` + "\n", `{"error":"bad request: not a JSON object with op, user, session_id"}`, false},
		{"negative session id", `{"op":"kick","session_id":-1}` + "\n", `{"error":"bad request: not a JSON object with op, user, session_id"}`, false},
		{"kick nobody", `{"op":"kick"}` + "\n", `{"error":"bad request: kick needs a user or a session_id"}`, false},
		{"kick an empty name", `{"op":"kick","user":""}` + "\n", `{"error":"bad request: kick needs a user or a session_id"}`, false},
		{"kick both", `{"op":"kick","user":"a","session_id":7}` + "\n", `{"error":"bad request: kick takes a user or a session_id, not both"}`, false},
		{"status of a user", `{"op":"status","user":"a"}` + "\n", `{"error":"bad request: status takes no user or session_id"}`, false},
		{"unknown op", `{"op":"shutdown"}` + "\n", `{"error":"bad request: op must be status or kick"}`, false},
		{"pppoed connect's op", `{"op":"get"}` + "\n", `{"error":"bad request: op must be status or kick"}`, false},
		{"unknown field", `{"op":"status","all":true}` + "\n", `{"error":"bad request: not a JSON object with op, user, session_id"}`, false},
		{"not JSON", "status\n", `{"error":"bad request: not a JSON object with op, user, session_id"}`, false},
		{"two values", `{"op":"status"} {"op":"kick","user":"a"}` + "\n", `{"error":"bad request: more than one value"}`, false},
		{"too long", `{"op":"kick","user":"` + strings.Repeat("a", maxControlRequest) + `"}` + "\n", `{"error":"request too long"}`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeController{st: sampleStatus(), n: 1}
			cfg := testControlConfig()
			if tt.want == "" {
				cfg.requestTimeout = 50 * time.Millisecond
			}
			c := startControl(t, f, cfg)
			if tt.want == "" {
				conn := rawConn(t, c.Path())
				conn.Write([]byte(tt.line))
				conn.SetReadDeadline(time.Now().Add(10 * time.Second))
				if b, err := bufio.NewReader(conn).ReadString('\n'); err == nil {
					t.Errorf("an answer to a request without its newline: %q", b)
				}
			} else if got := rawAsk(t, c.Path(), tt.line); !strings.Contains(got, tt.want) {
				t.Errorf("answer %q, want %q", got, tt.want)
			}
			if called := f.called() > 0; called != tt.call {
				t.Errorf("Controller called: %v, want %v", called, tt.call)
			}
		})
	}
}

// The server asks SO_PEERCRED who connects and serves only those allowed.
func TestControlPeerRefused(t *testing.T) {
	f := &fakeController{st: sampleStatus()}
	cfg := testControlConfig()
	asked := make(chan uint32, 1)
	cfg.allow = func(uid uint32) bool { asked <- uid; return false }
	c := startControl(t, f, cfg)
	_, err := GetStatus(context.Background(), c.Path())
	if want := "server: " + c.Path() + ": pppoed server refused: permission denied"; err == nil || err.Error() != want {
		t.Errorf("GetStatus: %v, want %s", err, want)
	}
	select {
	case uid := <-asked:
		if uid != uint32(os.Geteuid()) {
			t.Errorf("peer uid %d, want ours, %d", uid, os.Geteuid())
		}
	default:
		t.Error("the peer's uid was not checked")
	}
	if f.called() != 0 {
		t.Error("a refused client reached the Controller")
	}
}

func TestControlDefaultAllowsRootAndSelf(t *testing.T) {
	// The default is status.AllowedPeer's rule: root and our own uid.
	allow := controlDefaults().allow
	if !allow(0) || !allow(uint32(os.Geteuid())) {
		t.Error("root or our own uid refused")
	}
	if os.Geteuid() != 12345 && allow(12345) {
		t.Error("another uid allowed")
	}
}

func TestControlSocketMode(t *testing.T) {
	old := syscall.Umask(0) // the mode must not depend on the umask
	defer syscall.Umask(old)
	path := filepath.Join(shortDir(t), "run", "server.sock")
	c, err := listenControl(path, &fakeController{}, nil, testControlConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fi, err := os.Lstat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode() != os.ModeSocket|0o600 {
		t.Errorf("socket mode %v, want Srw-------", fi.Mode())
	}
	di, err := os.Stat(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	if di.Mode() != os.ModeDir|0o700 {
		t.Errorf("directory mode %v, want drwx------", di.Mode())
	}
}

// leaveStale leaves a socket file nobody listens on, as a crash does.
func leaveStale(t *testing.T, path string) {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
}

func TestControlStaleReplacedLiveRefused(t *testing.T) {
	path := filepath.Join(shortDir(t), "server.sock")
	leaveStale(t, path)
	f := &fakeController{st: sampleStatus()}
	c, err := ListenControl(path, f, nil)
	if err != nil {
		t.Fatalf("over a stale socket: %v", err)
	}
	defer c.Close()
	_, err = ListenControl(path, f, nil)
	if !errors.Is(err, status.ErrInUse) {
		t.Fatalf("a second server: %v, want ErrInUse", err)
	}
	want := "server: " + path + " is in use by a running pppoed server (pid " + strconv.Itoa(os.Getpid()) + "): one server per control socket"
	if err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
	if st, err := GetStatus(context.Background(), path); err != nil || st.ACName != "ac1" {
		t.Errorf("the first server after the refusal: %+v, %v", st, err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Close left the socket: %v", err)
	}
}

func TestControlClientErrors(t *testing.T) {
	dir := shortDir(t)
	stale := filepath.Join(dir, "stale.sock")
	leaveStale(t, stale)
	missing := filepath.Join(dir, "server.sock")
	tests := []struct {
		name, path, want string
		cause            error
	}{
		{"missing", missing, "server: no pppoed server is running (" + missing + " not found)", os.ErrNotExist},
		{"stale", stale, "server: no pppoed server is running (" + stale + " is left from one that stopped)", syscall.ECONNREFUSED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := GetStatus(context.Background(), tt.path)
			if err == nil || err.Error() != tt.want || !errors.Is(err, tt.cause) {
				t.Errorf("GetStatus: %v, want %q wrapping %v", err, tt.want, tt.cause)
			}
			_, err = KickSession(context.Background(), tt.path, "alice", 0)
			if err == nil || err.Error() != tt.want {
				t.Errorf("KickSession: %v, want %q", err, tt.want)
			}
		})
	}
}

// A client that connects and says nothing is dropped after
// requestTimeout; one past maxClients is told so.
func TestControlClientLimits(t *testing.T) {
	cfg := testControlConfig()
	cfg.maxClients = 1
	cfg.requestTimeout = 200 * time.Millisecond
	c := startControl(t, &fakeController{st: sampleStatus()}, cfg)
	silent := rawConn(t, c.Path())
	// Wait until the silent client holds the slot.
	for {
		c.mu.Lock()
		n := len(c.conns)
		c.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := GetStatus(context.Background(), c.Path()); err == nil || !strings.Contains(err.Error(), "refused: too many clients") {
		t.Errorf("over the limit: %v", err)
	}
	silent.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := silent.Read(make([]byte, 1)); err == nil {
		t.Error("the silent client got an answer")
	}
	// Its slot is free again.
	for {
		_, err := GetStatus(context.Background(), c.Path())
		if err == nil {
			break
		}
		if !strings.Contains(err.Error(), "too many clients") {
			t.Fatal(err)
		}
		time.Sleep(time.Millisecond)
	}
}

// Close ends every client and returns once the call in progress has.
func TestControlCloseWaits(t *testing.T) {
	f := &fakeController{block: make(chan struct{}), inCall: make(chan struct{}, 1)}
	c, err := listenControl(filepath.Join(shortDir(t), "server.sock"), f, nil, testControlConfig())
	if err != nil {
		t.Fatal(err)
	}
	asked := make(chan error, 1)
	go func() {
		_, err := KickSession(context.Background(), c.Path(), "alice", 0)
		asked <- err
	}()
	<-f.inCall
	closed := make(chan error, 1)
	go func() { closed <- c.Close() }()
	select {
	case err := <-closed:
		t.Fatalf("Close returned during a Kick: %v", err)
	case <-time.After(20 * time.Millisecond):
	}
	close(f.block)
	if err := <-closed; err != nil {
		t.Error(err)
	}
	if err := <-asked; err == nil {
		t.Error("the client got an answer from a closed server")
	}
	if err := c.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// The client gives up when its context ends, with the context's error.
func TestControlClientContext(t *testing.T) {
	f := &fakeController{block: make(chan struct{}), inCall: make(chan struct{}, 1)}
	c := startControl(t, f, testControlConfig())
	defer close(f.block)
	ctx, cancel := context.WithCancel(context.Background())
	got := make(chan error, 1)
	go func() {
		_, err := GetStatus(ctx, c.Path())
		got <- err
	}()
	<-f.inCall
	cancel()
	if err := <-got; !errors.Is(err, context.Canceled) {
		t.Errorf("GetStatus: %v, want context.Canceled", err)
	}
}

// A server that answers garbage: the client says so, quoting nothing raw.
func TestControlBadAnswer(t *testing.T) {
	path := filepath.Join(shortDir(t), "server.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	answers := []string{"\x1b[2J not json\n", `{"error":"no\u001b[2J"}` + "\n", "{}\n", ""}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, a := range answers {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			bufio.NewReader(conn).ReadString('\n')
			conn.Write([]byte(a))
			conn.Close()
		}
	}()
	defer wg.Wait()
	for _, want := range []string{"a bad answer from pppoed server", `pppoed server refused: no\x1b[2J`, "no kicked count", "closed the connection without an answer"} {
		_, err := KickSession(context.Background(), path, "alice", 0)
		if err == nil || !strings.Contains(err.Error(), want) || strings.ContainsRune(err.Error(), 0x1b) {
			t.Errorf("KickSession: %v, want %q", err, want)
		}
	}
}

// FuzzParseControlRequest: a request is refused, or is one the server
// can act on: status alone, or kick with exactly one of a name and a
// session's id.
func FuzzParseControlRequest(f *testing.F) {
	for _, s := range []string{
		`{"op":"status"}`, `{"op":"kick","user":"a"}`, `{"op":"kick","session_id":1}`,
		`{"op":"kick","session_id":65535}`, `{"op":"kick","user":"a","session_id":1}`, "{}", "[]", `{"op":"status"} x`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := parseControlRequest(b)
		if err != nil {
			if !reflect.DeepEqual(r, controlRequest{}) {
				t.Fatalf("request %+v with error %v", r, err)
			}
			if bytes.Contains([]byte(err.Error()), b) && len(b) > 8 {
				t.Fatalf("the error quotes the request: %v", err)
			}
			return
		}
		switch r.Op {
		case opStatus:
			if r.User != "" || r.SessionID != nil {
				t.Fatalf("status with arguments: %+v", r)
			}
		case opKick:
			if (r.User == "") == (r.SessionID == nil) {
				t.Fatalf("kick of %q / %v", r.User, r.SessionID)
			}
			if r.SessionID != nil && (*r.SessionID == 0 || *r.SessionID == 0xffff) {
				t.Fatalf("kick of session %d", *r.SessionID)
			}
		default:
			t.Fatalf("op %q", r.Op)
		}
	})
}
