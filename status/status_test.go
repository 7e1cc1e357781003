package status

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// shortDir is a temporary directory with a short path: sun_path holds
// 108 bytes, and Listen binds one level deeper than the socket's path.
func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "st")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

func testConfig() config {
	c := defaults()
	c.requestTimeout = time.Minute // tests that need it shorten it
	return c
}

// start listens at a fresh path and closes the server at the end.
func start(t *testing.T, cfg config) *Server {
	t.Helper()
	s, err := listen(filepath.Join(shortDir(t), "wan.sock"), discard(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func sample() Status {
	return Status{
		Name: "wan", State: StateConnected, Interface: "eth0", Ifname: "ppp0",
		ACName: "demo-ac", ACMAC: "52:54:00:12:34:56", ServiceName: "internet", SessionID: 0x1a2b,
		LocalIPv4: netip.MustParseAddr("10.64.0.2"), RemoteIPv4: netip.MustParseAddr("10.64.0.1"),
		DNS: []netip.Addr{netip.MustParseAddr("10.64.0.53")}, MTU: 1492, MRU: 1492,
		ConnectedSince: time.Date(2026, 11, 29, 22, 0, 0, 0, time.UTC), Redials: 3,
	}
}

func equal(a, b Status) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}

func TestGet(t *testing.T) {
	s := start(t, testConfig())
	ctx := context.Background()
	st, err := Get(ctx, s.Path())
	if err != nil || st.State != "" {
		t.Fatalf("before any Set: %+v, %v", st, err)
	}
	want := sample()
	s.Set(want)
	got, err := Get(ctx, s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if !equal(got, want) {
		t.Errorf("Get = %+v, want %+v", got, want)
	}
	s.Update(func(st *Status) { st.State = StateDisconnected; st.LastError = "peer dead" })
	got, err = Get(ctx, s.Path())
	if err != nil {
		t.Fatal(err)
	}
	want.State, want.LastError = StateDisconnected, "peer dead"
	if !equal(got, want) {
		t.Errorf("after Update: Get = %+v, want %+v", got, want)
	}
}

// Set keeps a copy: the caller's slice may change afterwards.
func TestSetCopies(t *testing.T) {
	s := start(t, testConfig())
	st := sample()
	s.Set(st)
	st.DNS[0] = netip.MustParseAddr("192.0.2.1")
	got, err := Get(context.Background(), s.Path())
	if err != nil {
		t.Fatal(err)
	}
	if got.DNS[0] != netip.MustParseAddr("10.64.0.53") {
		t.Errorf("DNS = %v: Set kept the caller's slice", got.DNS)
	}
}

// The counters are read when asked for, not when the status was set.
func TestCountersAtQueryTime(t *testing.T) {
	s := start(t, testConfig())
	s.Set(sample())
	var n uint64
	s.SetCounters(func() *Counters { n++; return &Counters{RxBytes: n * 100, TxPackets: n} })
	for want := uint64(1); want <= 2; want++ {
		got, err := Get(context.Background(), s.Path())
		if err != nil {
			t.Fatal(err)
		}
		if got.Counters == nil || got.Counters.RxBytes != want*100 || got.Counters.TxPackets != want {
			t.Errorf("query %d: counters %+v", want, got.Counters)
		}
	}
	s.SetCounters(nil)
	got, _ := Get(context.Background(), s.Path())
	if got.Counters != nil {
		t.Errorf("without a hook: counters %+v", got.Counters)
	}
}

// A watcher that keeps up sees every change, in order.
func TestWatchInOrder(t *testing.T) {
	s := start(t, testConfig())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan Status)
	next := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- Watch(ctx, s.Path(), func(st Status) error {
			got <- st
			<-next
			return nil
		})
	}()
	states := []State{StateWaiting, StateDialing, StateAuthenticating, StateConnected, StateDisconnected}
	first := <-got
	if first.State != "" {
		t.Fatalf("first line %q, want the current (empty) status", first.State)
	}
	for _, state := range states {
		s.Set(Status{Name: "wan", State: state})
		next <- struct{}{}
		if st := <-got; st.State != state {
			t.Fatalf("got %q, want %q", st.State, state)
		}
	}
	cancel()
	next <- struct{}{}
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("Watch after cancel: %v", err)
	}
}

// A slow watcher misses states in between, but what it sees is in order
// and it always ends on the latest.
func TestWatchEndsOnLatest(t *testing.T) {
	s := start(t, testConfig())
	const last = 2000
	var seen []int
	ready := make(chan struct{})
	errc := make(chan error, 1)
	errLast := errors.New("last")
	go func() {
		errc <- Watch(context.Background(), s.Path(), func(st Status) error {
			if seen == nil {
				close(ready)
			}
			seen = append(seen, st.Redials)
			if st.Redials == last {
				return errLast
			}
			return nil
		})
	}()
	<-ready
	for i := 1; i <= last; i++ {
		s.Set(Status{Redials: i})
	}
	if err := <-errc; err != errLast {
		t.Fatalf("Watch: %v, seen %v", err, seen)
	}
	for i := 1; i < len(seen); i++ {
		if seen[i] <= seen[i-1] {
			t.Fatalf("out of order at %d: %v", i, seen)
		}
	}
}

// A watcher that does not read at all does not hold up Set, however much
// is published; the others still get the latest.
func TestSlowWatcherDoesNotBlockSet(t *testing.T) {
	s := start(t, testConfig())
	stuck := rawConn(t, s.Path())
	stuck.Write([]byte(`{"op":"watch"}` + "\n"))
	bufio.NewReader(stuck).ReadString('\n') // it is watching; now it stops reading
	big := strings.Repeat("x", 8192)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 2000 { // 16 MB: far beyond any socket buffer
			s.Set(Status{LastError: big, Redials: i})
		}
	}()
	select {
	case <-done:
	case <-time.After(30 * time.Second):
		t.Fatal("Set blocked behind a watcher that does not read")
	}
	st, err := Get(context.Background(), s.Path())
	if err != nil || st.Redials != 1999 {
		t.Errorf("Get: %d, %v", st.Redials, err)
	}
}

func rawConn(t *testing.T, path string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// At most maxClients are served; a slot frees when its client goes.
func TestClientLimit(t *testing.T) {
	cfg := testConfig()
	cfg.maxClients = 2
	released := make(chan struct{}, 10)
	cfg.released = func() { released <- struct{}{} }
	s := start(t, cfg)
	var watchers []net.Conn
	for range cfg.maxClients {
		c := rawConn(t, s.Path())
		c.Write([]byte(`{"op":"watch"}` + "\n"))
		if _, err := bufio.NewReader(c).ReadString('\n'); err != nil {
			t.Fatal(err)
		}
		watchers = append(watchers, c)
	}
	_, err := Get(context.Background(), s.Path())
	if err == nil || !strings.Contains(err.Error(), "too many clients") {
		t.Fatalf("Get with %d watchers: %v, want too many clients", cfg.maxClients, err)
	}
	watchers[0].Close()
	<-released
	if _, err := Get(context.Background(), s.Path()); err != nil {
		t.Errorf("Get after a watcher left: %v", err)
	}
}

// Bad requests are answered with an error and the connection closed; the
// server goes on serving.
func TestBadRequests(t *testing.T) {
	cfg := testConfig()
	cfg.requestTimeout = 20 * time.Millisecond
	s := start(t, cfg)
	tests := []struct {
		name, send, want string
	}{
		{"too long", strings.Repeat("a", maxRequest+100), `{"error":"request too long"}`},
		{"too long JSON", `{"op":"get","x":"` + strings.Repeat("a", maxRequest) + `"}` + "\n", `{"error":"request too long"}`},
		{"garbage", "hello\n", `{"error":"bad request: not a JSON object with op"}`},
		{"escape sequence", "\x1b[2J\n", `{"error":"bad request: not a JSON object with op"}`},
		{"empty line", "\n", `{"error":"bad request: not a JSON object with op"}`},
		{"unknown op", `{"op":"reboot"}` + "\n", `{"error":"bad request: op must be get or watch"}`},
		{"two requests", `{"op":"get"}{"op":"watch"}` + "\n", `{"error":"bad request: more than one value"}`},
		{"silent", "", ""},
		{"no newline", `{"op":"get"}`, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := rawConn(t, s.Path())
			c.Write([]byte(tt.send))
			got, err := io.ReadAll(c)
			if err != nil && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatal(err)
			}
			if want := tt.want; want != "" {
				want += "\n"
				if string(got) != want {
					t.Errorf("got %q, want %q", got, want)
				}
			} else if len(got) != 0 {
				t.Errorf("got %q, want nothing", got)
			}
		})
	}
	if _, err := Get(context.Background(), s.Path()); err != nil {
		t.Errorf("Get after bad requests: %v", err)
	}
}

// A client that sends anything after its watch request is dropped.
func TestWatcherSpeaksOutOfTurn(t *testing.T) {
	s := start(t, testConfig())
	c := rawConn(t, s.Path())
	c.Write([]byte(`{"op":"watch"}` + "\n"))
	r := bufio.NewReader(c)
	r.ReadString('\n')
	c.Write([]byte("more\n"))
	if rest, err := io.ReadAll(r); len(rest) != 0 || (err != nil && !errors.Is(err, syscall.ECONNRESET)) {
		t.Errorf("after a second line: %q, %v; want the connection closed", rest, err)
	}
}

func TestAllowedPeer(t *testing.T) {
	tests := []struct {
		uid, self uint32
		want      bool
	}{
		{0, 0, true},
		{0, 1000, true},
		{1000, 1000, true},
		{1001, 1000, false},
		{1000, 0, false},
	}
	for _, tt := range tests {
		if got := allowedPeer(tt.uid, tt.self); got != tt.want {
			t.Errorf("allowedPeer(%d, %d) = %v", tt.uid, tt.self, got)
		}
	}
}

// The server asks SO_PEERCRED who connects, and serves only those allowed.
func TestPeerCredentials(t *testing.T) {
	cfg := testConfig()
	asked := make(chan uint32, 1)
	cfg.allow = func(uid uint32) bool { asked <- uid; return false }
	s := start(t, cfg)
	_, err := Get(context.Background(), s.Path())
	if err == nil || err.Error() != "status: pppoed refused: permission denied" {
		t.Errorf("Get: %v, want refused", err)
	}
	if uid := <-asked; uid != uint32(os.Geteuid()) {
		t.Errorf("peer uid %d, want ours, %d", uid, os.Geteuid())
	}
}

func TestSocketMode(t *testing.T) {
	old := syscall.Umask(0) // the mode must not depend on the umask
	defer syscall.Umask(old)
	path := filepath.Join(shortDir(t), "run", "wan.sock")
	s, err := listen(path, discard(), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
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
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("directory holds %v, want only the socket", entries)
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

func TestStaleSocketReplaced(t *testing.T) {
	path := filepath.Join(shortDir(t), "wan.sock")
	leaveStale(t, path)
	var logs bytes.Buffer
	s, err := listen(path, slog.New(slog.NewTextHandler(&logs, nil)), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.Set(sample())
	if st, err := Get(context.Background(), path); err != nil || st.Name != "wan" {
		t.Errorf("Get: %+v, %v", st, err)
	}
	if !strings.Contains(logs.String(), "replaced a stale control socket") {
		t.Errorf("nothing logged: %q", logs.String())
	}
}

func TestLiveSocketRefused(t *testing.T) {
	s := start(t, testConfig())
	s.Set(sample())
	_, err := listen(s.Path(), discard(), testConfig())
	if !errors.Is(err, ErrInUse) {
		t.Fatalf("second Listen: %v, want ErrInUse", err)
	}
	want := "status: " + s.Path() + " is in use by a running pppoed (pid " + strconv.Itoa(os.Getpid()) + "): one daemon per link"
	if err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
	if st, err := Get(context.Background(), s.Path()); err != nil || st.Name != "wan" {
		t.Errorf("the first server after the refusal: %+v, %v", st, err)
	}
}

// Anything at the path that is not a socket is the user's: not removed.
func TestNonSocketRefused(t *testing.T) {
	tests := []struct {
		name string
		make func(path string) error
	}{
		{"file", func(p string) error { return os.WriteFile(p, []byte("mine"), 0o644) }},
		{"directory", func(p string) error { return os.Mkdir(p, 0o755) }},
		{"symlink to a stale socket", func(p string) error {
			leaveStale(t, p+".real")
			return os.Symlink(p+".real", p)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(shortDir(t), "wan.sock")
			if err := tt.make(path); err != nil {
				t.Fatal(err)
			}
			before, _ := os.Lstat(path)
			s, err := listen(path, discard(), testConfig())
			if err == nil {
				s.Close()
				t.Fatal("Listen replaced it")
			}
			if want := "status: " + path + " exists and is not a socket (not replacing it)"; err.Error() != want {
				t.Errorf("error %q, want %q", err, want)
			}
			after, err := os.Lstat(path)
			if err != nil || !os.SameFile(before, after) {
				t.Errorf("the path changed: %v", err)
			}
		})
	}
}

func TestCloseRemovesSocket(t *testing.T) {
	path := filepath.Join(shortDir(t), "wan.sock")
	cfg := testConfig()
	cfg.requestTimeout = time.Hour
	s, err := listen(path, discard(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	// A client in the middle of its request does not hold up Close. It
	// is being served once a later client has been answered: the
	// server accepts in order.
	half := rawConn(t, path)
	half.Write([]byte(`{"op":`))
	if _, err := Get(context.Background(), path); err != nil {
		t.Fatal(err)
	}
	// A watcher in progress ends with the server.
	errc := make(chan error, 1)
	watching := make(chan struct{})
	go func() {
		errc <- Watch(context.Background(), path, func(Status) error { close(watching); return nil })
	}()
	<-watching
	closed := make(chan error)
	go func() { closed <- s.Close() }()
	select {
	case err := <-closed:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for a client")
	}
	if _, err := os.Lstat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after Close: %v, want the socket gone", err)
	}
	if err := <-errc; err == nil || !errors.Is(err, io.EOF) {
		t.Errorf("Watch across Close: %v, want EOF", err)
	}
	if err := s.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := Get(context.Background(), path); err == nil {
		t.Error("Get after Close succeeded")
	}
}

// Close removes only its own socket: one put there since (by hand, or by
// another daemon after this one's was taken for stale) stays.
func TestCloseLeavesOthersSocket(t *testing.T) {
	path := filepath.Join(shortDir(t), "wan.sock")
	s, err := listen(path, discard(), testConfig())
	if err != nil {
		t.Fatal(err)
	}
	os.Remove(path)
	leaveStale(t, path)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(path); err != nil {
		t.Errorf("Close removed a socket that was not its own: %v", err)
	}
}

func TestClientErrors(t *testing.T) {
	dir := shortDir(t)
	stale := filepath.Join(dir, "stale.sock")
	leaveStale(t, stale)
	missing := filepath.Join(dir, "wan.sock")
	tests := []struct {
		name, path, want string
		cause            error
	}{
		{"missing", missing, "status: no pppoed is running for this link (" + missing + " not found)", os.ErrNotExist},
		{"stale", stale, "status: no pppoed is running for this link (" + stale + " is left from one that stopped)", syscall.ECONNREFUSED},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Get(context.Background(), tt.path)
			if err == nil || err.Error() != tt.want || !errors.Is(err, tt.cause) {
				t.Errorf("Get: %v, want %q wrapping %v", err, tt.want, tt.cause)
			}
		})
	}
	// Root is never refused by the file's mode: the message is checked on
	// the error the kernel gives another user.
	err := dialErr("/run/pppoed/wan.sock", &net.OpError{Op: "dial", Net: "unix", Err: os.NewSyscallError("connect", syscall.EACCES)})
	if want := "status: /run/pppoed/wan.sock: permission denied (the control socket is root's: run pppoed status as root)"; err.Error() != want {
		t.Errorf("EACCES: %q, want %q", err, want)
	}
}

func TestReadCounters(t *testing.T) {
	c, err := ReadCounters("lo")
	if err != nil || c == nil {
		t.Fatalf("lo: %v, %v", c, err)
	}
	if _, err := ReadCounters("nosuchif0"); err == nil || !strings.HasPrefix(err.Error(), "status: nosuchif0: ") {
		t.Errorf("missing interface: %v", err)
	}
}

func TestParseRequest(t *testing.T) {
	tests := []struct {
		in   string
		want op
		ok   bool
	}{
		{`{"op":"get"}`, opGet, true},
		{`{"op":"watch"}` + "\n", opWatch, true},
		{` {"op" : "get"} ` + "\r\n", opGet, true},
		{`{"op":"GET"}`, "", false},
		{`{"op":"get","extra":1}`, "", false},
		{`{"op":"get"} x`, "", false},
		{`{"op":"get"}}`, "", false},
		{`{}`, "", false},
		{`null`, "", false},
		{`["get"]`, "", false},
		{`{"op":1}`, "", false},
		{"", "", false},
		{`{"op":"get"}` + strings.Repeat(" ", maxRequest), "", false},
	}
	for _, tt := range tests {
		got, err := parseRequest([]byte(tt.in))
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("parseRequest(%q) = %q, %v", tt.in, got, err)
		}
	}
}

func FuzzParseRequest(f *testing.F) {
	for _, s := range []string{`{"op":"get"}`, `{"op":"watch"}` + "\n", `{"op":"x"}`, "\x1b[2J", `{"op":"get"}{}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := parseRequest(b)
		if err == nil && o != opGet && o != opWatch {
			t.Fatalf("accepted op %q", o)
		}
		if err != nil && o != "" {
			t.Fatalf("op %q with error %v", o, err)
		}
	})
}

// The socket goes into place without replacing anything that appeared
// there after the check.
func TestBindNoReplace(t *testing.T) {
	path := filepath.Join(shortDir(t), "wan.sock")
	os.WriteFile(path, []byte("mine"), 0o644)
	ln, _, _, err := bindPrivate(path)
	if err == nil {
		ln.Close()
		t.Fatal("bindPrivate replaced a file")
	}
	if b, _ := os.ReadFile(path); string(b) != "mine" {
		t.Errorf("file now %q", b)
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
}

// Daemons starting at once for one link, over a stale socket: exactly one
// wins, every other one is told the link is in use.
func TestConcurrentListen(t *testing.T) {
	for range 20 {
		path := filepath.Join(shortDir(t), "wan.sock")
		leaveStale(t, path)
		const n = 6
		type result struct {
			s   *Server
			err error
		}
		results := make(chan result, n)
		for range n {
			go func() {
				s, err := listen(path, discard(), testConfig())
				results <- result{s, err}
			}()
		}
		won := 0
		for range n {
			r := <-results
			if r.err == nil {
				won++
				defer r.s.Close()
			} else if !errors.Is(r.err, ErrInUse) {
				t.Errorf("loser: %v, want ErrInUse", r.err)
			}
		}
		if won != 1 {
			t.Fatalf("%d daemons took the socket", won)
		}
	}
}

// A watcher that stops reading is dropped once a write to it has waited
// writeTimeout, and its slot freed.
func TestStuckWatcherDropped(t *testing.T) {
	cfg := testConfig()
	cfg.writeTimeout = 10 * time.Millisecond
	released := make(chan struct{}, 1)
	cfg.released = func() { released <- struct{}{} }
	s := start(t, cfg)
	c := rawConn(t, s.Path())
	c.Write([]byte(`{"op":"watch"}` + "\n"))
	bufio.NewReader(c).ReadString('\n')
	big := strings.Repeat("x", 8192)
	for i := 0; ; i++ {
		s.Set(Status{LastError: big, Redials: i})
		select {
		case <-released:
			return
		default:
		}
		if i > 1e6 {
			t.Fatal("the watcher was never dropped")
		}
	}
}
