package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/pppoed/pppoed/client"
	"github.com/pppoed/pppoed/discovery"
)

func run(args ...string) (code int, stdout, stderr string) {
	if len(args) > 0 && args[0] == "connect" {
		// Nothing of the host's: no state file, no control socket
		// (a test's own flags come later and win).
		args = append([]string{"connect", "--state-dir", "-", "--control-socket", "-"}, args[1:]...)
	}
	var out, errb bytes.Buffer
	err := newApp(&out, &errb).Run(context.Background(), append([]string{"pppoed"}, args...))
	if err != nil {
		errb.WriteString("pppoed: " + err.Error() + "\n")
	}
	return client.ExitCode(err), out.String(), errb.String()
}

func TestVersionFlag(t *testing.T) {
	code, out, _ := run("--version")
	if code != 0 || !strings.HasPrefix(out, "pppoed version ") {
		t.Errorf("--version: %d %q", code, out)
	}
}

// Bad command lines: exit status 2 and one line naming the culprit, before
// anything touches the network.
func TestConnectUsageErrors(t *testing.T) {
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	good := filepath.Join(dir, "pw")
	os.WriteFile(good, []byte("s3cret\nignored\n"), 0o600)
	base := []string{"connect", "-i", "lo", "-u", "user"}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no password", base, "no password: give --password-file"},
		{"both passwords", append(base, "--password", "x", "--password-file", good), "not both"},
		{"missing password file", append(base, "--password-file", filepath.Join(dir, "nope")), "--password-file " + filepath.Join(dir, "nope") + ": no such file or directory"},
		{"empty password file", append(base, "--password-file", empty), "the first line is empty"},
		{"bad MAC", append(base, "--password-file", good, "--ac-mac", "zz:zz"), `--ac-mac "zz:zz": not an Ethernet MAC address`},
		{"bad host-uniq", append(base, "--password-file", good, "--host-uniq", "xyz"), `--host-uniq "xyz"`},
		{"bad auth", append(base, "--password-file", good, "--auth", "pap,eap"), `--auth: unknown authentication method "eap"`},
		{"bad MTU", append(base, "--password-file", good, "--mtu", "9000"), "--mtu 9000 is outside 128-1500"},
		{"no NCP", append(base, "--password-file", good, "--no-ipv4", "--no-ipv6"), "leave nothing to connect"},
		{"route without IPv4", append(base, "--password-file", good, "--no-ipv4", "--add-default-route"), "a default route needs IPv4"},
		{"negative metric", append(base, "--password-file", good, "--default-route-metric", "-1"), "--default-route-metric -1"},
		{"zero attempts", append(base, "--password-file", good, "--padi-attempts", "0"), "--padi-attempts 0"},
		{"unknown flag", append(base, "--bogus"), "bogus"},
		{"missing interface flag", []string{"connect", "-u", "x", "--password", "p"}, "interface"},
		{"long ifname", append(base, "--password-file", good, "--ifname", "a-very-long-interface-name"), "--ifname"},
		{"stray argument", append(base, "--password-file", good, "eth0"), "connect takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := run(tt.args...)
			if code != client.ExitOptionError || !strings.Contains(stderr, tt.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, tt.want)
			}
			if strings.Contains(stderr, "s3cret") {
				t.Errorf("the password leaked: %q", stderr)
			}
		})
	}
}

func TestUnknownCommand(t *testing.T) {
	code, _, stderr := run("conect")
	if code != client.ExitOptionError || !strings.Contains(stderr, `no command "conect"`) {
		t.Errorf("exit %d: %q", code, stderr)
	}
}

// A missing interface is found before any socket is opened (exit 7, as
// pppd's "open failed").
func TestConnectMissingInterface(t *testing.T) {
	code, _, stderr := run("connect", "-i", "nosuch0", "-u", "u", "--password", "p", "--persist=false")
	if code != client.ExitOpenFailed || !strings.Contains(stderr, "interface nosuch0 does not exist") {
		t.Errorf("exit %d: %q", code, stderr)
	}
	code, _, stderr = run("discover", "-i", "nosuch0")
	if code != client.ExitOpenFailed || !strings.Contains(stderr, "interface nosuch0 does not exist") {
		t.Errorf("discover: exit %d: %q", code, stderr)
	}
}

// On a kernel without PPPoE (this project's CI host is one) connect says
// so and exits 4, as pppd does. Skipped where the kernel has it.
func TestConnectNoKernelSupport(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	if _, err := os.Stat("/dev/ppp"); err == nil {
		t.Skip("this kernel has PPP")
	}
	code, _, stderr := run("connect", "-i", "lo", "-u", "u", "--password", "p")
	if code != client.ExitNoKernelSupport || !strings.Contains(stderr, "modprobe pppoe") {
		t.Errorf("exit %d: %q", code, stderr)
	}
}

// The first SIGINT or SIGTERM ends the context (a clean stop), the second
// closes now (stop without waiting for the peer); neither kills us.
func TestStopSignals(t *testing.T) {
	ctx, now, stop := stopSignals(context.Background())
	defer stop()
	wait := func(c <-chan struct{}, what string) {
		t.Helper()
		select {
		case <-c:
		case <-time.After(10 * time.Second): // signals are delivered asynchronously
			t.Fatalf("%s did not happen", what)
		}
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wait(ctx.Done(), "the stop at SIGTERM")
	if c := context.Cause(ctx); c == nil || c.Error() != "SIGTERM received" {
		t.Errorf("cause %v", c)
	}
	select {
	case <-now:
		t.Fatal("the first signal asked to stop at once")
	default:
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	wait(now, "the stop at once at the second signal")
}

// hostile is an AC's text made to take over a terminal: an escape
// sequence (ESC), a C1 control (CSI, U+009B), a bidi override (U+202E), a
// tab and a line break that would shift the table.
const hostile = "evil\x1b[2J\u009b31m\u202eop\tcol\nrow"

// terminalSafe reports the first character of s that acts on a terminal.
func terminalSafe(s string) error {
	for _, r := range s {
		if r == '\n' {
			continue // ours: one per line
		}
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%U in %q", r, s)
		}
	}
	return nil
}

var hostileOffers = []discovery.Offer{
	{AC: net.HardwareAddr{2, 0, 0, 0, 0, 1}, ACName: hostile, Services: []string{"isp", hostile}, Cookie: []byte{1, 2}},
	{AC: net.HardwareAddr{2, 0, 0, 0, 0, 2}, ACName: "plain", MaxPayload: 1500},
}

// The table escapes what the AC wrote: nothing reaches the terminal raw,
// and the columns and lines stay ours.
func TestDiscoverTableEscapes(t *testing.T) {
	var b bytes.Buffer
	printTable(&b, hostileOffers)
	out := b.String()
	if err := terminalSafe(out); err != nil {
		t.Errorf("raw: %v", err)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), out)
	}
	esc := `evil\x1b[2J\u009b31m\u202eop\tcol\nrow`
	if f := strings.Fields(lines[1]); len(f) != 5 || f[1] != esc || f[2] != "isp,"+esc || f[4] != "0102" {
		t.Errorf("row %q", lines[1])
	}
	if f := strings.Fields(lines[2]); len(f) != 5 || f[1] != "plain" || f[2] != "-" || f[3] != "1500" {
		t.Errorf("row %q", lines[2])
	}
}

// --json keeps the AC's text exactly (it decodes to the same strings) but
// writes every character that could act on a terminal as an escape:
// encoding/json escapes C0 controls itself, not C1 or bidi controls.
func TestDiscoverJSONEscapes(t *testing.T) {
	var b bytes.Buffer
	if err := printJSON(&b, hostileOffers); err != nil {
		t.Fatal(err)
	}
	if err := terminalSafe(b.String()); err != nil {
		t.Errorf("raw: %v\n%s", err, b.String())
	}
	var got []acJSON
	if err := json.Unmarshal(b.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Name != hostile || got[0].Services[1] != hostile || got[1].Name != "plain" || got[1].MaxPayload != 1500 {
		t.Errorf("decoded %+v", got)
	}
	for _, want := range []string{`\u001b[2J`, `\u009b31m`, `\u202eop`, `\tcol\nrow`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("no %s in\n%s", want, b.String())
		}
	}
	// Beyond the BMP: a surrogate pair. U+E0001 (LANGUAGE TAG) is a
	// format character.
	if got := string(escapeJSON([]byte("\"a\U000E0001b\""))); got != `"a\udb40\udc01b"` {
		t.Errorf("escapeJSON = %s", got)
	}
}
