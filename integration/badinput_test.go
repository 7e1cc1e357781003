package integration

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
	"github.com/pppoed/pppoed/status"
)

// Bad input to `pppoed connect`, through the real binary: each is refused
// with one clear line on stderr (naming what is wrong) and a non-zero
// status, before anything is configured: no PPP interface, no session at
// the AC, no state file, no control socket of its own.

// runConnect runs `pppoed connect` to its end in the client's namespace,
// with the AC up (so that a pppoed that wrongly goes ahead would get a
// session), and returns its status and output.
func runConnect(t *testing.T, p *lab.Pair, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bin := must[string](t)(lab.PppoedBinary())
	cmd := p.Client.Command(ctx, bin, args...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("pppoed %s did not exit: %v\n%s", strings.Join(args, " "), err, out)
	}
	return cmd.ProcessState.ExitCode(), string(out)
}

// oneLine checks that out is a single line saying pppoed's error, holding
// every one of want.
func oneLine(t *testing.T, code int, out string, want ...string) {
	t.Helper()
	out = strings.TrimSuffix(out, "\n")
	if code == 0 || strings.Contains(out, "\n") || !strings.HasPrefix(out, "pppoed: ") {
		t.Errorf("status %d, output (want one line \"pppoed: ...\"):\n%s", code, out)
	}
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("the error does not say %q:\n%s", w, out)
		}
	}
}

func TestAlwaysOnBadInput(t *testing.T) {
	lab.Require(t)
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	srv := refServer(t, p, lab.AuthCHAP)
	dir := t.TempDir()
	write := func(name, content string) string {
		f := filepath.Join(dir, name)
		if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return f
	}
	// nothingDone checks that a refused start left nothing.
	nothingDone := func(t *testing.T, stateDir, sock string) {
		t.Helper()
		assertNothingLeft(t, p.Client)
		if ss := must[[]lab.PPPoESession](t)(p.AC.RelaySessions()); len(ss) != 0 {
			t.Errorf("sessions at the AC: %+v", ss)
		}
		if m, _ := filepath.Glob(filepath.Join(stateDir, "*.state")); len(m) != 0 {
			t.Errorf("state files written: %v", m)
		}
		if sock != "" {
			if _, err := os.Lstat(sock); err == nil {
				t.Errorf("control socket %s created", sock)
			}
		}
	}

	t.Run("config not TOML", func(t *testing.T) {
		f := write("notoml.toml", "interface = \""+p.ClientIf+"\"\nthis is not toml\n")
		files := newLinkFiles(t)
		args := lab.ClientArgs(t, p.ClientIf, "user1", "pass1", append(files.args(), "--config", f)...)
		code, out := runConnect(t, p, args...)
		oneLine(t, code, out, f, ":2")
		nothingDone(t, files.stateDir, files.sock)
	})
	t.Run("key of the wrong type", func(t *testing.T) {
		f := write("wrongtype.toml", "# a link\nmtu = \"big\"\n")
		files := newLinkFiles(t)
		args := lab.ClientArgs(t, p.ClientIf, "user1", "pass1", append(files.args(), "--config", f)...)
		code, out := runConnect(t, p, args...)
		oneLine(t, code, out, f+":2", "mtu")
		nothingDone(t, files.stateDir, files.sock)
	})
	t.Run("unknown key", func(t *testing.T) {
		f := write("unknown.toml", "interface = \""+p.ClientIf+"\"\nkeepalive = 5\n")
		files := newLinkFiles(t)
		args := lab.ClientArgs(t, p.ClientIf, "user1", "pass1", append(files.args(), "--config", f)...)
		code, out := runConnect(t, p, args...)
		oneLine(t, code, out, f+":2", "keepalive")
		nothingDone(t, files.stateDir, files.sock)
	})
	t.Run("state directory is a file", func(t *testing.T) {
		f := write("not-a-dir", "")
		files := newLinkFiles(t)
		args := lab.ClientArgs(t, p.ClientIf, "user1", "pass1", append(files.args(), "--state-dir", f)...)
		code, out := runConnect(t, p, args...)
		oneLine(t, code, out, f)
		nothingDone(t, files.stateDir, files.sock)
	})
	t.Run("control socket in use", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		files := newLinkFiles(t)
		first := persistent(t, p, files)
		st, err := first.WaitConnected(ctx)
		if err != nil {
			t.Fatal(err)
		}
		// The same link started twice (its state file and socket).
		args := lab.ClientArgs(t, p.ClientIf, "user1", "pass1", append(slices.Clone(persistArgs), files.args()...)...)
		code, out := runConnect(t, p, args...)
		oneLine(t, code, out, files.sock, "in use")
		// The first is untouched: same session, same socket, no redial.
		again := must[status.Status](t)(first.Status(ctx))
		if first.Exited() || again.State != status.StateConnected || again.SessionID != st.SessionID || again.Redials != 0 {
			t.Errorf("the first pppoed after the second's start: %+v (was %+v)", again, st)
		}
		if ss := must[[]lab.PPPoESession](t)(p.AC.RelaySessions()); len(ss) != 1 {
			t.Errorf("sessions at the AC: %+v", ss)
		}
		if strings.Count(first.Log(), "looking for an access concentrator") != 1 {
			t.Errorf("the first pppoed dialled again:\n%s", first.Log())
		}
		stopClean(t, first)
		assertNothingLeft(t, p.Client)
		assertGone(t, p, files)
		waitSessionsGone(t, srv)
	})
	t.Run("stale control socket", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
		defer cancel()
		// A socket nobody listens on, as a crash leaves it.
		files := newLinkFiles(t)
		ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: files.sock, Net: "unix"})
		if err != nil {
			t.Fatal(err)
		}
		ln.SetUnlinkOnClose(false)
		ln.Close()
		cli := persistent(t, p, files)
		if _, err := cli.WaitConnected(ctx); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(cli.Log(), "replaced a stale control socket") {
			t.Errorf("the log does not say the stale socket was replaced:\n%s", cli.Log())
		}
		stopClean(t, cli)
		assertNothingLeft(t, p.Client)
		assertGone(t, p, files)
		waitSessionsGone(t, srv)
	})
	t.Run("control socket path is a file", func(t *testing.T) {
		// Not a socket: not ours to remove.
		files := newLinkFiles(t)
		f := files.sock
		if err := os.WriteFile(f, []byte("precious\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		args := lab.ClientArgs(t, p.ClientIf, "user1", "pass1", append(slices.Clone(persistArgs), files.args()...)...)
		code, out := runConnect(t, p, args...)
		oneLine(t, code, out, f, "not a socket")
		if b, err := os.ReadFile(f); err != nil || string(b) != "precious\n" {
			t.Errorf("the file at the socket's path was changed: %q, %v", b, err)
		}
		nothingDone(t, files.stateDir, "")
	})
}
