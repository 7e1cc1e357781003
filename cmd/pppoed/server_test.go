package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pppoed/pppoed/client"
	"github.com/pppoed/pppoed/server"
	"github.com/pppoed/pppoed/status"
	"github.com/pppoed/pppoed/systemd/systemdtest"
)

// fakeServer answers the control socket as a running server would.
type fakeServer struct {
	mu    sync.Mutex
	st    server.Status
	kicks []string
	n     int
}

func (f *fakeServer) Status() server.Status { return f.st }

func (f *fakeServer) Kick(user string, id uint16) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if user != "" {
		f.kicks = append(f.kicks, user)
	} else {
		f.kicks = append(f.kicks, "#"+strconv.Itoa(int(id)))
	}
	if f.n == 0 {
		return 0, server.ErrNoSession
	}
	return f.n, nil
}

// serveControl serves f on a fresh socket and returns its path.
func serveControl(t *testing.T, f *fakeServer) string {
	t.Helper()
	dir := fixedClock(t)
	c, err := server.ListenControl(filepath.Join(dir, "server.sock"), f, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c.Path()
}

func serverStatusSample() server.Status {
	up := statusNow.Add(-(time.Hour + 2*time.Minute + 3*time.Second))
	return server.Status{
		ACName:  "ac1",
		Started: statusNow.Add(-26 * time.Hour),
		Sessions: []server.SessionStatus{{
			User: "alice", MAC: "52:54:00:12:34:56", SessionID: 0x1a2b, Interface: "eth1", Ifname: "ppp-alice",
			State: "network", Local: netip.MustParseAddr("10.0.0.1"), Remote: netip.MustParseAddr("10.0.0.50"),
			RemoteV6: netip.MustParseAddr("fe80::1"), Since: up.Add(-time.Second), UpSince: up,
			Counters: &status.Counters{RxBytes: 1_234_567, TxBytes: 345_000, RxPackets: 1234, TxPackets: 567},
		}, {
			User: "evil\x1b[2J\u202e\tx", MAC: "52:54:00:12:34:57", SessionID: 7, Interface: "eth1", Ifname: "ppp1",
			State: "authenticate", Since: statusNow.Add(-4 * time.Second),
		}},
		Counters: server.Counters{PADIs: 10, PADIsAnswered: 8, PADIsLimited: 1, PADIsNoService: 1, PADRs: 5, BadCookies: 1,
			PADTs: 2, PADTsIgnored: 1, SessionsStarted: 4, SessionsUp: 3, AuthFailures: 1, RefusedMax: 0, RefusedNoService: 1,
			RefusedOnlyOne: 0, NoAddress: 0},
	}
}

func TestServerStatusCommand(t *testing.T) {
	path := serveControl(t, &fakeServer{st: serverStatusSample()})
	code, out, errs := run("server", "status", "--socket", path)
	want := `USER                  MAC                SESSION-ID  INTERFACE  IFNAME     STATE         REMOTE             LOCAL     UPTIME  IN             OUT
alice                 52:54:00:12:34:56  0x1a2b      eth1       ppp-alice  network       10.0.0.50,fe80::1  10.0.0.1  1h2m3s  1.2 MB (1234)  345 kB (567)
evil\x1b[2J\u202e\tx  52:54:00:12:34:57  0x0007      eth1       ppp1       authenticate  -                  -         4s      -              -

      ac-name: ac1
       uptime: 26h (since 2026-11-28 21:02:03)
     sessions: 2 (4 started, 3 reached an NCP)
         padi: 10 (answered 8, rate-limited 1, no service 1)
         padr: 5 (bad cookie 1)
         padt: 2 (ignored 1)
      refused: max-sessions 0, no service 1, only-one 0, no address 0
auth-failures: 1
`
	if code != 0 || out != want || errs != "" {
		t.Errorf("exit %d, stderr %q, stdout\n%s\nwant\n%s", code, errs, out, want)
	}
	if err := terminalSafe(out); err != nil {
		t.Errorf("raw: %v", err)
	}
}

// --json is the Status as the control socket gives it, with what could act
// on a terminal escaped.
func TestServerStatusJSON(t *testing.T) {
	path := serveControl(t, &fakeServer{st: serverStatusSample()})
	code, out, _ := run("server", "status", "--json", "--socket", path)
	var got server.Status
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
		t.Fatalf("exit %d, %v: %q", code, err, out)
	}
	if len(got.Sessions) != 2 || got.Sessions[1].User != "evil\x1b[2J\u202e\tx" || got.Counters.PADIs != 10 ||
		got.Sessions[0].Counters.RxBytes != 1_234_567 {
		t.Errorf("decoded %+v", got)
	}
	if err := terminalSafe(out); err != nil {
		t.Errorf("raw: %v", err)
	}
}

func TestServerKickCommand(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		n       int
		code    int
		stdout  string
		stderr  string // contained
		kicks   []string
		socket  bool // pass --socket
		running bool
	}{
		{"a user", []string{"alice"}, 2, 0, "kicked 2 sessions of user \"alice\"\n", "", []string{"alice"}, true, true},
		{"a session", []string{"--session-id", "0x7"}, 1, 0, "kicked 1 session (session id 0x0007)\n", "", []string{"#7"}, true, true},
		{"a session in decimal", []string{"--session-id", "7"}, 1, 0, "kicked 1 session (session id 0x0007)\n", "", []string{"#7"}, true, true},
		{"no such user", []string{"bob"}, 0, client.ExitFatal, "", `server: no such session: user "bob"`, []string{"bob"}, true, true},
		{"a hostile name", []string{"b\x1bob"}, 1, 0, "kicked 1 session of user \"b\\x1bob\"\n", "", []string{"b\x1bob"}, true, true},
		{"not running", []string{"alice"}, 0, client.ExitFatal, "", "server: no pppoed server is running (", nil, true, false},
		{"nobody", nil, 0, client.ExitOptionError, "", "give a user or --session-id ID", nil, true, true},
		{"both", []string{"--session-id", "7", "alice"}, 0, client.ExitOptionError, "", "give a user or --session-id, not both", nil, true, true},
		{"two users", []string{"alice", "bob"}, 0, client.ExitOptionError, "", `server kick takes one user: ["alice" "bob"]`, nil, true, true},
		{"session 0", []string{"--session-id", "0"}, 0, client.ExitOptionError, "", `--session-id "0": not a number from 1 to 0xfffe`, nil, true, true},
		{"session 0xffff", []string{"--session-id", "0xffff"}, 0, client.ExitOptionError, "", `--session-id "0xffff": not a number`, nil, true, true},
		{"session too large", []string{"--session-id", "65536"}, 0, client.ExitOptionError, "", `--session-id "65536": not a number`, nil, true, true},
		{"session not a number", []string{"--session-id", "x"}, 0, client.ExitOptionError, "", `--session-id "x": not a number`, nil, true, true},
		{"an empty name", []string{""}, 0, client.ExitOptionError, "", "an empty user name", nil, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fakeServer{n: tt.n}
			path := serveControl(t, f)
			if !tt.running {
				path += ".none"
			}
			args := append([]string{"server", "kick", "--socket", path}, tt.args...)
			code, out, errs := run(args...)
			if code != tt.code || out != tt.stdout || !strings.Contains(errs, tt.stderr) || (tt.stderr == "" && errs != "") {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant %d, %q, %q", code, out, errs, tt.code, tt.stdout, tt.stderr)
			}
			if strings.Count(errs, "\n") > 1 {
				t.Errorf("more than one line: %q", errs)
			}
			f.mu.Lock()
			defer f.mu.Unlock()
			if strings.Join(f.kicks, ",") != strings.Join(tt.kicks, ",") {
				t.Errorf("kicks %q, want %q", f.kicks, tt.kicks)
			}
		})
	}
}

const goodServerFile = `[[interface]]
name = "eth1"
[[interface]]
name = "eth2"
[[profile]]
name = "default"
local-address = "10.0.0.1"
[[user]]
name = "alice"
password = "hunter2"
`

func TestServerCheck(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "server.toml")
	os.WriteFile(good, []byte(goodServerFile), 0o600)
	readable := filepath.Join(dir, "readable.toml")
	os.WriteFile(readable, []byte(goodServerFile), 0o600)
	os.Chmod(readable, 0o644)
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte(goodServerFile+"bogus = 1\n"), 0o600)
	withRADIUS := filepath.Join(dir, "radius.toml")
	os.WriteFile(withRADIUS, []byte(goodServerFile+`[radius]
order = "radius,local"
[[radius.server]]
address = "192.0.2.10"
secret = "hunter2"
[[radius.server]]
address = "192.0.2.11"
secret = "hunter2"
[radius.incoming]
listen = "192.0.2.1:3799"
[[radius.incoming.client]]
address = "192.0.2.10"
secret = "hunter2"
`), 0o600)
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string
		stderr string
	}{
		{"good", []string{"--config", good}, 0, good + ": good: 2 interfaces (eth1,eth2); 1 profile, 0 pools, 1 user, 0 secrets entries\n", ""},
		{"radius", []string{"--config", withRADIUS}, 0, withRADIUS + ": good: 2 interfaces (eth1,eth2); 1 profile, 0 pools, 1 user, 0 secrets entries; radius: 2 servers (order radius,local), incoming on 192.0.2.1:3799\n", ""},
		{"unknown key", []string{"--config", bad}, client.ExitOptionError, "", "pppoed: " + bad + `:11: key "user.bogus": unknown key` + "\n"},
		{"readable passwords", []string{"--config", readable}, client.ExitOptionError, "", "pppoed: " + readable + `:10: key "user.password": the file is readable by others (mode 0644): chmod 600 it` + "\n"},
		{"missing", []string{"--config", filepath.Join(dir, "nope.toml")}, client.ExitOptionError, "", "pppoed: " + filepath.Join(dir, "nope.toml") + ": no such file or directory\n"},
		{"arguments", []string{"--config", good, "x"}, client.ExitOptionError, "", "pppoed: server check takes no arguments: [\"x\"]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errs := run(append([]string{"server", "check"}, tt.args...)...)
			if code != tt.code || out != tt.stdout || errs != tt.stderr {
				t.Errorf("exit %d, stdout %q, stderr %q\nwant %d, %q, %q", code, out, errs, tt.code, tt.stdout, tt.stderr)
			}
			if strings.Contains(out+errs, "hunter2") {
				t.Error("the password leaked")
			}
		})
	}
}

// Bad command lines and files stop the server before it touches anything:
// exit 2, one line.
func TestServerUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.toml")
	os.WriteFile(bad, []byte("max-mtu = 9000\n"+goodServerFile), 0o600)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown subcommand", []string{"server", "stats"}, `pppoed: no server command "stats" (want status, kick or check; pppoed server --help)` + "\n"},
		{"bad file", []string{"server", "--config", bad}, "pppoed: " + bad + ": server: max-mtu 9000 is not within 128..1500\n"},
		{"missing file", []string{"server", "--config", filepath.Join(dir, "nope")}, "pppoed: " + filepath.Join(dir, "nope") + ": no such file or directory\n"},
		{"unknown flag", []string{"server", "--bogus"}, "bogus"},
		{"status arguments", []string{"server", "status", "x"}, "pppoed: server status takes no arguments: [\"x\"]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, errs := run(tt.args...)
			if code != client.ExitOptionError || !strings.Contains(errs, tt.want) || strings.Count(errs, "\n") != 1 {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errs, tt.want)
			}
		})
	}
}

// The server stops with Run's status and leaves no control socket behind;
// under systemd it never said READY=1. This host
// may lack PPPoE (exit 4) or the interface (exit 1): Run fails either way,
// after the control socket was up.
func TestServerRunFails(t *testing.T) {
	dir, err := os.MkdirTemp("", "sv") // short: sun_path holds 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	sock := filepath.Join(dir, "server.sock")
	cfgPath := filepath.Join(dir, "server.toml")
	os.WriteFile(cfgPath, []byte("control-socket = \""+sock+"\"\n"+strings.Replace(goodServerFile, "eth1", "nosuch0", 1)), 0o600)
	notify, msgs := systemdtest.Listen(t)
	t.Setenv("NOTIFY_SOCKET", notify)
	code, _, errs := run("server", "--config", cfgPath)
	if code == 0 || !strings.HasPrefix(errs, "pppoed: ") || strings.Count(errs, "pppoed: ") != 1 {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if _, err := os.Lstat(sock); !os.IsNotExist(err) {
		t.Errorf("the control socket is left: %v", err)
	}
	// READY=1 comes from Run once every interface is served: a server
	// that could not serve one never said it was ready (systemd then
	// sees the start fail, not a service that came up and died).
	select {
	case m := <-msgs:
		if strings.Contains(m, "READY=1") {
			t.Errorf("notified %q though Run failed before serving", m)
		}
	case <-time.After(500 * time.Millisecond):
	}
}

// A second server on the same control socket is refused before it serves
// anything (exit 1), the first left alone.
func TestServerControlSocketInUse(t *testing.T) {
	path := serveControl(t, &fakeServer{st: serverStatusSample()})
	cfgPath := filepath.Join(t.TempDir(), "server.toml")
	os.WriteFile(cfgPath, []byte("control-socket = \""+path+"\"\n"+goodServerFile), 0o600)
	code, _, errs := run("server", "--config", cfgPath)
	if code != client.ExitFatal || !strings.Contains(errs, "is in use by a running pppoed server") {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if _, err := server.GetStatus(context.Background(), path); err != nil {
		t.Errorf("the first server: %v", err)
	}
}

// SIGHUP reloads, every time, and does not stop the server; the first
// SIGINT or SIGTERM does.
func TestServerSignals(t *testing.T) {
	reloads := make(chan struct{}, 4)
	ctx, stop := serverSignals(context.Background(), func() { reloads <- struct{}{} })
	defer stop()
	wait := func(c <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-c:
		case <-time.After(10 * time.Second): // signals are delivered asynchronously
			t.Fatalf("%s did not happen", what)
		}
	}
	for range 2 {
		if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
			t.Fatal(err)
		}
		wait(reloads, "a reload at SIGHUP")
	}
	if ctx.Err() != nil {
		t.Fatal("SIGHUP stopped the server")
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wait(ctx.Done(), "the stop at SIGTERM")
	if c := context.Cause(ctx); c == nil || c.Error() != "SIGTERM received" {
		t.Errorf("cause %v", c)
	}
}
