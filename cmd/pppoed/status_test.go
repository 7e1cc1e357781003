package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pppoed/pppoed/client"
	"github.com/pppoed/pppoed/status"
	"github.com/urfave/cli/v3"
	"go.uber.org/goleak"
)

// statusApp is the app with the status command, whether or not main.go
// registers it yet.
func statusApp(stdout, stderr io.Writer) *cli.Command {
	app := newApp(stdout, stderr)
	if app.Command("status") == nil {
		app.Commands = append(app.Commands, statusCommand(stdout, stderr))
	}
	return app
}

func runStatus(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	err := statusApp(&out, &errb).Run(ctx, append([]string{"pppoed", "status"}, args...))
	if err != nil {
		errb.WriteString("pppoed: " + err.Error() + "\n")
	}
	return client.ExitCode(err), out.String(), errb.String()
}

var statusNow = time.Date(2026, 11, 29, 23, 2, 3, 0, time.UTC)

// fixedClock sets the clock and the socket directory of the status
// command for one test.
func fixedClock(t *testing.T) (dir string) {
	t.Helper()
	dir, err := os.MkdirTemp("", "pd") // short: sun_path holds 108 bytes
	if err != nil {
		t.Fatal(err)
	}
	oldDir, oldNow := controlDir, timeNow
	controlDir, timeNow = dir, func() time.Time { return statusNow }
	t.Cleanup(func() {
		controlDir, timeNow = oldDir, oldNow
		os.RemoveAll(dir)
	})
	return dir
}

func serveStatus(t *testing.T, path string, st status.Status) *status.Server {
	t.Helper()
	s, err := status.Listen(path, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	s.Set(st)
	return s
}

func connectedStatus() status.Status {
	return status.Status{
		Name: "wan", State: status.StateConnected, Interface: "eth0", Ifname: "ppp0",
		ACName: "demo-ac", ACMAC: "52:54:00:12:34:56", ServiceName: "internet", SessionID: 0x1a2b,
		LocalIPv4: netip.MustParseAddr("10.64.0.2"), RemoteIPv4: netip.MustParseAddr("10.64.0.1"),
		LocalIPv6: netip.MustParseAddr("fe80::1"), RemoteIPv6: netip.MustParseAddr("fe80::2"),
		DNS: []netip.Addr{netip.MustParseAddr("10.64.0.53"), netip.MustParseAddr("10.64.0.54")},
		MTU: 1492, MRU: 1480, EchoRTT: 12345 * time.Microsecond,
		ConnectedSince: statusNow.Add(-(time.Hour + 2*time.Minute + 3*time.Second)),
		Counters:       &status.Counters{RxBytes: 1_234_567, TxBytes: 345_000, RxPackets: 1234, TxPackets: 567},
		LastError:      "peer not responding", LastErrorTime: statusNow.Add(-5*time.Minute - 10*time.Second),
		Redials: 3,
	}
}

func TestFormatStatus(t *testing.T) {
	down := status.Status{
		Name: "wan", State: status.StateDisconnected, Interface: "eth0",
		LastError: "PADS: Service-Name-Error \"\x1b[2J\"", LastErrorTime: statusNow.Add(-4 * time.Second),
		Redials: 4, Failures: 2, NextRedial: statusNow.Add(4 * time.Second),
	}
	hostile := connectedStatus()
	hostile.ACName = "evil\x1b[2J\u202e\r\nac"
	hostile.ServiceName = "\u009b31m\x9b"
	hostile.Counters, hostile.LastError, hostile.Redials = nil, "", 0
	tests := []struct {
		name string
		st   status.Status
		want string
	}{
		{"connected", connectedStatus(), `       name: wan
     status: connected
  interface: eth0 -> ppp0
    ac-name: demo-ac
     ac-mac: 52:54:00:12:34:56
    service: internet
 session-id: 0x1a2b
 local-ipv4: 10.64.0.2
remote-ipv4: 10.64.0.1
 local-ipv6: fe80::1
remote-ipv6: fe80::2
        dns: 10.64.0.53, 10.64.0.54
        mtu: 1492
        mru: 1480
     uptime: 1h2m3s
   echo-rtt: 12.3ms
      rx/tx: 1.2 MB / 345 kB (1234 / 567 packets)
 last-error: peer not responding (2026-11-29 22:56:53, 5m10s ago)
    redials: 3
`},
		{"waiting to redial", down, `       name: wan
     status: disconnected
  interface: eth0
 last-error: PADS: Service-Name-Error \"\x1b[2J\" (2026-11-29 23:01:59, 4s ago)
    redials: 4, next in 4s
   failures: 2 in a row
`},
		// No byte of the AC's reaches the terminal raw: not ESC, not a
		// C1 CSI (U+009B), not a bidi override, not a line break that
		// would forge a field.
		{"hostile AC", hostile, `       name: wan
     status: connected
  interface: eth0 -> ppp0
    ac-name: evil\x1b[2J\u202e\r\nac
     ac-mac: 52:54:00:12:34:56
    service: \u009b31m\x9b
 session-id: 0x1a2b
 local-ipv4: 10.64.0.2
remote-ipv4: 10.64.0.1
 local-ipv6: fe80::1
remote-ipv6: fe80::2
        dns: 10.64.0.53, 10.64.0.54
        mtu: 1492
        mru: 1480
     uptime: 1h2m3s
   echo-rtt: 12.3ms
`},
		{"nothing yet", status.Status{}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatStatus(tt.st, statusNow); got != tt.want {
				t.Errorf("got\n%s\nwant\n%s", got, tt.want)
			}
		})
	}
}

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		n    uint64
		want string
	}{
		{0, "0 B"},
		{999, "999 B"},
		{1000, "1.0 kB"},
		{1234, "1.2 kB"},
		{9949, "9.9 kB"},
		{9950, "10 kB"},
		{345_000, "345 kB"},
		{999_499, "999 kB"},
		{999_500, "1.0 MB"},
		{1_234_567, "1.2 MB"},
		{12_345_678_901, "12 GB"},
		{1<<64 - 1, "18 EB"},
	}
	for _, tt := range tests {
		if got := humanBytes(tt.n); got != tt.want {
			t.Errorf("humanBytes(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
}

func TestShortDuration(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{400 * time.Millisecond, "0s"},
		{4 * time.Second, "4s"},
		{5 * time.Minute, "5m"},
		{5*time.Minute + 10*time.Second, "5m10s"},
		{time.Hour, "1h"},
		{time.Hour + 2*time.Minute, "1h2m"},
		{time.Hour + 3*time.Second, "1h0m3s"},
		{26 * time.Hour, "26h"},
	}
	for _, tt := range tests {
		if got := shortDuration(tt.d); got != tt.want {
			t.Errorf("shortDuration(%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
}

func TestStatusCommand(t *testing.T) {
	dir := fixedClock(t)
	serveStatus(t, filepath.Join(dir, "wan.sock"), connectedStatus())
	want := formatStatus(connectedStatus(), statusNow)
	for _, args := range [][]string{nil, {"--name", "wan"}, {"--control-socket", filepath.Join(dir, "wan.sock")}} {
		code, out, errs := runStatus(context.Background(), args...)
		if code != 0 || out != want || errs != "" {
			t.Errorf("%q: %d %q\n%s", args, code, errs, out)
		}
	}
	code, out, _ := runStatus(context.Background(), "--json")
	var got status.Status
	if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil || got.ACName != "demo-ac" || got.Counters.RxBytes != 1_234_567 {
		t.Errorf("--json: %d %v %q", code, err, out)
	}
}

// The JSON form escapes what encoding/json leaves raw.
func TestStatusJSONEscapes(t *testing.T) {
	dir := fixedClock(t)
	st := connectedStatus()
	st.ACName = "\x1b[2J\u009b\u202e"
	serveStatus(t, filepath.Join(dir, "wan.sock"), st)
	_, out, _ := runStatus(context.Background(), "--json")
	if !strings.Contains(out, `"ac_name": "\u001b[2J\u009b\u202e"`) {
		t.Errorf("ac_name not escaped:\n%s", out)
	}
}

func TestStatusCommandErrors(t *testing.T) {
	dir := fixedClock(t)
	other := filepath.Join(dir, "other")
	os.Mkdir(other, 0o700)
	serveStatus(t, filepath.Join(other, "a.sock"), status.Status{})
	serveStatus(t, filepath.Join(other, "b.sock"), status.Status{})
	os.WriteFile(filepath.Join(other, "notes.sock"), nil, 0o600) // not a socket: not a link
	tests := []struct {
		name   string
		dir    string
		args   []string
		code   int
		stderr string
	}{
		{"none running", dir, nil, client.ExitFatal, "pppoed: status: no pppoed is running (no control socket in " + dir + ")\n"},
		{"no directory", filepath.Join(dir, "nope"), nil, client.ExitFatal, "pppoed: status: no pppoed is running (no control socket in " + filepath.Join(dir, "nope") + ")\n"},
		{"named, not running", dir, []string{"--name", "wan"}, client.ExitFatal, "pppoed: status: no pppoed is running for this link (" + filepath.Join(dir, "wan.sock") + " not found)\n"},
		{"several", other, nil, client.ExitOptionError, "pppoed: status: 2 links are running (a, b): choose one with --name\n"},
		{"bad name", dir, []string{"--name", "../etc/x"}, client.ExitOptionError, "pppoed: --name \"../etc/x\": not a link's name\n"},
		{"both", dir, []string{"--name", "a", "--control-socket", "/x"}, client.ExitOptionError, "pppoed: give --name or --control-socket, not both\n"},
		{"arguments", dir, []string{"wan"}, client.ExitOptionError, "pppoed: status takes no arguments: [\"wan\"]\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			controlDir = tt.dir
			code, out, errs := runStatus(context.Background(), tt.args...)
			if code != tt.code || errs != tt.stderr || out != "" {
				t.Errorf("exit %d, stderr %q, stdout %q\nwant %d, %q", code, errs, out, tt.code, tt.stderr)
			}
		})
	}
	controlDir = other
	if code, _, errs := runStatus(context.Background(), "--name", "b"); code != 0 {
		t.Errorf("--name b among two: %d %s", code, errs)
	}
}

// lineWriter hands each line written to it to a channel.
type lineWriter struct {
	buf   []byte
	lines chan string
}

func (w *lineWriter) Write(b []byte) (int, error) {
	w.buf = append(w.buf, b...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			return len(b), nil
		}
		w.lines <- string(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
}

func TestStatusWatch(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	dir := fixedClock(t)
	path := filepath.Join(dir, "wan.sock")
	down := status.Status{Name: "wan", State: status.StateDialing, Interface: "eth0", Redials: 1}
	s := serveStatus(t, path, down)
	type step struct {
		set  func(*status.Status)
		want string
	}
	for _, tt := range []struct {
		name  string
		json  bool
		first int // lines of the first status
		steps []step
	}{
		{"human", false, 4, []step{
			{func(st *status.Status) { *st = connectedStatus() }, "2026-11-29 23:02:03 status: connected; interface: eth0 -> ppp0; ac-name: demo-ac; ac-mac: 52:54:00:12:34:56; service: internet; session-id: 0x1a2b; local-ipv4: 10.64.0.2; remote-ipv4: 10.64.0.1; local-ipv6: fe80::1; remote-ipv6: fe80::2; dns: 10.64.0.53, 10.64.0.54; mtu: 1492; mru: 1480; uptime: 1h2m3s; echo-rtt: 12.3ms; last-error: peer not responding (2026-11-29 22:56:53, 5m10s ago); redials: 3"},
			// Only the counters change: nothing to say; the next line is
			// the next real change.
			{func(st *status.Status) { st.Counters = &status.Counters{RxBytes: 1} }, ""},
			{func(st *status.Status) {
				st.State, st.Ifname, st.LocalIPv4, st.RemoteIPv4, st.ConnectedSince = status.StateDisconnected, "", netip.Addr{}, netip.Addr{}, time.Time{}
				st.LastError, st.LastErrorTime = "peer dead \x1b[2J", statusNow
				st.NextRedial = statusNow.Add(time.Second)
			}, "2026-11-29 23:02:03 status: disconnected; interface: eth0; last-error: peer dead \\x1b[2J (2026-11-29 23:02:03, 0s ago); redials: 3, next in 1s; local-ipv4: -; remote-ipv4: -; uptime: -"},
		}},
		{"json", true, 1, []step{
			{func(st *status.Status) { st.State = status.StateConnected }, `"state":"connected"`},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s.Set(down)
			ctx, cancel := context.WithCancel(context.Background())
			out := &lineWriter{lines: make(chan string)}
			done := make(chan error, 1)
			args := []string{"pppoed", "status", "--watch"}
			if tt.json {
				args = append(args, "--json")
			}
			go func() {
				var errb bytes.Buffer
				done <- statusApp(out, &errb).Run(ctx, args)
			}()
			var first []string
			for range tt.first {
				first = append(first, <-out.lines)
			}
			if tt.json {
				var st status.Status
				if err := json.Unmarshal([]byte(first[0]), &st); err != nil || st.State != status.StateDialing {
					t.Errorf("first line %q: %v", first[0], err)
				}
			} else if got, want := strings.Join(first, "\n")+"\n", formatStatus(down, statusNow); got != want {
				t.Errorf("first status\n%s\nwant\n%s", got, want)
			}
			for _, st := range tt.steps {
				s.Update(st.set)
				if st.want == "" {
					continue
				}
				if got := <-out.lines; !strings.Contains(got, st.want) || (!tt.json && got != st.want) {
					t.Errorf("got  %q\nwant %q", got, st.want)
				}
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("interrupted watch: %v", err)
			}
		})
	}
	// The daemon going away ends the watch with an error.
	ctx := context.Background()
	out := &lineWriter{lines: make(chan string, 100)}
	done := make(chan error, 1)
	go func() {
		var errb bytes.Buffer
		done <- statusApp(out, &errb).Run(ctx, []string{"pppoed", "status", "--watch", "--json"})
	}()
	<-out.lines
	s.Close()
	if err := <-done; err == nil || client.ExitCode(err) == 0 {
		t.Errorf("watch across the daemon's end: %v", err)
	}
}

func TestDiffFields(t *testing.T) {
	a := []field{{"status", "dialing", "dialing"}, {"rx/tx", "1 B", ""}, {"local-ipv4", "10.0.0.1", "10.0.0.1"}}
	b := []field{{"status", "connected", "connected"}, {"rx/tx", "2 B", ""}, {"mtu", "1492", "1492"}}
	if got, want := diffFields(a, b), "status: connected; mtu: 1492; local-ipv4: -"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := diffFields(b, b); got != "" {
		t.Errorf("no change: %q", got)
	}
}

// pppoed server's socket shares the directory; it is not a link.
func TestRunningLinksSkipsTheServer(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"wan.sock", "server.sock", "dsl.sock"} {
		l, err := net.Listen("unix", filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
	}
	got, err := runningLinks(dir)
	if err != nil || !slices.Equal(got, []string{"dsl", "wan"}) {
		t.Errorf("runningLinks = %v, %v; want [dsl wan]", got, err)
	}
}
