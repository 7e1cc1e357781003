package lab

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The pppd-mode harness without a kernel: the recording script run for
// real, a record parsed, the pid-file watch, and the comparison that the
// VM tests rely on to fail when pppoed differs from pppd.

// TestRecorderScript runs the recording script as a daemon would, twice
// at once, and reads back what it recorded: the arguments (an empty last
// one kept), the environment exactly as passed (spaces, an empty value,
// in order), the interface's state, and the call still running.
func TestRecorderScript(t *testing.T) {
	for _, tool := range []string{"ip", "find", "date", "cp", "sleep"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s: %v", tool, err)
		}
	}
	dir := t.TempDir()
	rec := filepath.Join(dir, "rec")
	if err := os.Mkdir(rec, 0o755); err != nil {
		t.Fatal(err)
	}
	script := func(label string) string {
		p := filepath.Join(dir, label)
		if err := os.WriteFile(p, []byte(recorderScript(rec, label)), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	slow, fast := script("slow"), script("fast")
	if err := os.WriteFile(filepath.Join(rec, "delay-slow"), []byte("1.5\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	env := []string{"IFNAME=lo", "WITH SPACE=a b  c", "EMPTY=", "PPPD_PID=42"}
	args := []string{"lo", "eth0", "0", "10.64.0.2", "10.64.0.1", ""}
	first := exec.Command(slow, args...)
	first.Env, first.Dir = env, "/"
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Wait() //nolint:errcheck
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := Poll(ctx, 10*time.Millisecond, func() (bool, error) {
		calls, err := ReadScriptCalls(rec)
		return err == nil && len(calls) == 1 && calls[0].Label == "slow", nil
	}); err != nil {
		t.Fatalf("the slow call left no record: %v", err)
	}
	second := exec.Command(fast) // no argument at all
	second.Env, second.Dir = env[:1], "/"
	if out, err := second.CombinedOutput(); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if err := first.Wait(); err != nil {
		t.Fatal(err)
	}
	calls, err := ReadScriptCalls(rec)
	if err != nil {
		t.Fatal(err)
	}
	if len(calls) != 2 {
		t.Fatalf("%d calls recorded, want 2:\n%s", len(calls), FormatCalls(calls, 0))
	}
	s, f := calls[0], calls[1]
	t.Logf("recorded:\n%s", FormatCalls(calls, os.Getpid()))
	if s.Label != "slow" || s.Argv0 != slow || !slices.Equal(s.Args, args) || !slices.Equal(s.Env, env) {
		t.Errorf("slow call: label %q $0 %q args %q env %q, want %q %q %q %q", s.Label, s.Argv0, s.Args, s.Env, "slow", slow, args, env)
	}
	if s.PPID != os.Getpid() || s.PID != first.Process.Pid || s.Cwd != "/" || len(s.Umask) != 4 {
		t.Errorf("slow call: pid %d ppid %d cwd %q umask %q, want pid %d ppid %d cwd /", s.PID, s.PPID, s.Cwd, s.Umask, first.Process.Pid, os.Getpid())
	}
	if !s.LinkExists() || !slices.Contains(s.LinkFlags(), "LOOPBACK") {
		t.Errorf("slow call: interface %q flags %q, want lo", s.Link, s.LinkFlags())
	}
	// exec.Cmd gives a child /dev/null for nil stdin/stdout/stderr; the
	// shell reads its script through a descriptor of its own.
	for _, fd := range []string{"0 /dev/null", "1 /dev/null", "2 /dev/null"} {
		if !slices.Contains(s.FDs, fd) {
			t.Errorf("slow call: descriptors %q lack %q", s.FDs, fd)
		}
	}
	if !slices.ContainsFunc(s.FDs, func(fd string) bool { return strings.HasSuffix(fd, " $0") }) {
		t.Errorf("slow call: descriptors %q: the script's own is not named $0", s.FDs)
	}
	if !s.Ended() || s.End.Sub(s.Begin) < 1490*time.Millisecond || len(s.Running) != 0 {
		t.Errorf("slow call: ended %v after %s, running %v; want ended after its 1.5 s delay, nothing running", s.Ended(), s.End.Sub(s.Begin), s.Running)
	}
	if f.Label != "fast" || len(f.Args) != 0 || !slices.Equal(f.Env, env[:1]) || f.LinkExists() || !f.Ended() {
		t.Errorf("fast call: label %q args %q env %q interface %q ended %v", f.Label, f.Args, f.Env, f.Link, f.Ended())
	}
	if !slices.Equal(f.Running, []Running{{"slow", 4}}) {
		t.Errorf("fast call: running %v, want the slow call", f.Running)
	}
}

// TestReadScriptCall parses a record written by hand: `ip address show`
// of a PPP interface, pid files with and without a last newline, a
// resolv.conf, descriptors.
func TestReadScriptCall(t *testing.T) {
	rec := t.TempDir()
	d := filepath.Join(rec, "call-1234.56-77")
	files := map[string]string{
		"label": "ip-up",
		"argv0": "/etc/ppp/ip-up",
		"args":  "ppp0\x00eth0\x000\x0010.64.0.2\x0010.64.0.1\x00",
		"nargs": "5\n",
		// Two env words, one value with "=" in it.
		"environ": "IFNAME=ppp0\x00X=a=b\x00",
		"stat":    "77 (ip up) S 70 77 77 0 -1 4194304",
		"umask":   "0077\n",
		"cwd":     "/\n",
		"fds":     "10 /etc/ppp/ip-up\n0 /dev/null\n2 /dev/null\n1 /dev/null\n3 socket:[12345]\n",
		"ip": "5: ppp0: <POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP> mtu 1492 qdisc fq_codel state UNKNOWN group default qlen 3\n" +
			"    link/ppp \n" +
			"    inet 10.64.0.2 peer 10.64.0.1/32 scope global ppp0\n" +
			"       valid_lft forever preferred_lft forever\n" +
			"    inet6 fe80::1:2:3:4 peer fe80::5:6:7:8/128 scope link \n" +
			"       valid_lft forever preferred_lft forever\n",
		"pidfiles":    "ppp0.pid\x0077\n\x00ppp-dsl.pid\x0077\nppp0\n\x00odd.pid\x0077\x00",
		"resolv.conf": "nameserver 10.64.0.53\n",
		"running":     "call-1234.01-70\n",
		"end":         "1235.06\n",
	}
	if err := os.Mkdir(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(d, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	calls, err := ReadScriptCalls(rec)
	if err != nil || len(calls) != 1 {
		t.Fatalf("ReadScriptCalls = %d calls, %v", len(calls), err)
	}
	c := calls[0]
	check := func(what string, got, want any) {
		t.Helper()
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	check("label", c.Label, "ip-up")
	check("args", c.Args, []string{"ppp0", "eth0", "0", "10.64.0.2", "10.64.0.1"})
	v, ok := c.Getenv("X")
	check("X", v+" "+strconv.FormatBool(ok), "a=b true")
	check("names", c.EnvNames(), []string{"IFNAME", "X"})
	check("pid ppid pgid sid", []int{c.PID, c.PPID, c.PGID, c.SID}, []int{77, 70, 77, 77})
	check("fds", c.FDs, []string{"0 /dev/null", "1 /dev/null", "2 /dev/null", "3 socket", "10 $0"})
	check("link exists", c.LinkExists(), true)
	check("flags", c.LinkFlags(), []string{"LOWER_UP", "MULTICAST", "NOARP", "POINTOPOINT", "UP"})
	check("IPv4", c.HasIPv4(), true)
	check("link-local", c.HasLinkLocal(), true)
	check("family", c.Family(), 4)
	check("pid files", c.PidFiles, []PidFile{{"ppp0.pid", "77\n"}, {"ppp-dsl.pid", "77\nppp0\n"}, {"odd.pid", "77"}})
	check("resolv.conf", *c.ResolvConf, "nameserver 10.64.0.53\n")
	check("running (a call not recorded here)", len(c.Running), 0)
	check("took", c.End.Sub(c.Begin), 500*time.Millisecond)
	check("down", c.IsDown(), false)

	// The interface gone: the error is kept, nothing is on it.
	if err := os.WriteFile(filepath.Join(d, "ip"), []byte("Device \"ppp0\" does not exist.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	calls, _ = ReadScriptCalls(rec)
	c = calls[0]
	check("gone: exists", c.LinkExists(), false)
	check("gone: flags", c.LinkFlags(), []string(nil))
	check("gone: IPv4", c.HasIPv4(), false)
	check("gone: link-local", c.HasLinkLocal(), false)
}

// TestPidWatch follows pid files through inotify: created, rewritten,
// removed, created again; other files are only named. Each step is
// waited for: the watch reads a file's content when it hears of it.
func TestPidWatch(t *testing.T) {
	dir := t.TempDir()
	w, err := watchPidFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer w.stop()
	origin := time.Now()
	p := filepath.Join(dir, "ppp0.pid")
	last := func(lives []PidFileLife) PidFileLife {
		if len(lives) == 0 {
			return PidFileLife{}
		}
		return lives[len(lives)-1]
	}
	steps := []struct {
		do   func() error
		seen func(lives []PidFileLife, names []string) bool
	}{
		{func() error { return os.WriteFile(p, []byte("1\n"), 0o644) },
			func(l []PidFileLife, _ []string) bool { return len(l) == 1 && l[0].Content == "1\n" && l[0].Exists() }},
		{func() error { return os.WriteFile(filepath.Join(dir, "pppd2.tdb"), nil, 0o644) },
			func(_ []PidFileLife, n []string) bool { return slices.Contains(n, "pppd2.tdb") }},
		{func() error { return os.WriteFile(p, []byte("2\n"), 0o644) },
			func(l []PidFileLife, _ []string) bool { return len(l) == 1 && l[0].Content == "2\n" }},
		{func() error { return os.Remove(p) },
			func(l []PidFileLife, _ []string) bool { return len(l) == 1 && !l[0].Exists() }},
		{func() error { return os.WriteFile(p, []byte("3\n"), 0o644) },
			func(l []PidFileLife, _ []string) bool { return len(l) == 2 && last(l).Content == "3\n" }},
	}
	for i, step := range steps {
		if err := step.do(); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err := Poll(ctx, 5*time.Millisecond, func() (bool, error) { return step.seen(w.lives(origin), w.names()), nil })
		cancel()
		if err != nil {
			t.Fatalf("step %d not seen: lives %v, names %q", i+1, w.lives(origin), w.names())
		}
	}
	lives := w.lives(origin)
	if lives[0].Content != "2\n" || lives[0].Exists() || !lives[1].Exists() || lives[1].Created < lives[0].Removed {
		t.Errorf("lives = %v, want ppp0.pid \"2\\n\" removed, then \"3\\n\" still there", lives)
	}
	if names := w.names(); !slices.Equal(names, []string{"ppp0.pid", "pppd2.tdb"}) {
		t.Errorf("names = %q", names)
	}
}

func TestLinkLocalForm(t *testing.T) {
	tests := []struct{ in, want string }{
		{"fe80::7545:2e85:0342:14bf", "fe80::hhhh:hhhh:hhhh:hhhh"}, // pppd's, zero-padded
		{"fe80::7545:2e85:342:14bf", "fe80::hhhh:hhhh:hhh:hhhh"},   // RFC 5952's
		{"fe80::2", "fe80::h"},
		{"10.64.0.2", ""},
		{"2001:db8::1", ""},
		{"FE80::1", ""}, // pppd writes lower case
		{"", ""},
	}
	for _, tt := range tests {
		got, ok := linkLocalForm(tt.in)
		if got != tt.want || ok != (tt.want != "") {
			t.Errorf("linkLocalForm(%q) = %q, %v; want %q", tt.in, got, ok, tt.want)
		}
	}
}

func TestRedactPassword(t *testing.T) {
	got := RedactPassword([]string{"pppd", "user", "u", "password", "secret", "mtu", "1492", "password"})
	want := []string{"pppd", "user", "u", "password", "***", "mtu", "1492", "password"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}

// sampleObservation is a detached daemon's session as pppd shows it: IPv6
// up, IPv4 up, then both down. pid, ll (a link-local identifier's groups)
// and the counters vary between runs; everything else is fixed.
func sampleObservation(impl PPPDImpl, pid int, ll string, counter string) PPPDObservation {
	lllocal, llremote := "fe80::"+ll, "fe80::1111:2222:3333:4444"
	base := []string{"ORIG_UID=0", "PPPD_PID=" + strconv.Itoa(pid), "DEVICE=eth0", "IFNAME=ppp0", "UNIT=0"}
	v6 := []string{"LLLOCAL=" + lllocal, "LLREMOTE=" + llremote}
	v4 := []string{"IPLOCAL=10.64.0.2", "IPREMOTE=10.64.0.1", "DNS1=10.64.0.53", "USEPEERDNS=1"}
	down := []string{"CONNECT_TIME=" + counter, "BYTES_SENT=" + counter, "BYTES_RCVD=" + counter}
	pidFiles := []PidFile{{"ppp0.pid", fmt.Sprintf("%d\n", pid)}}
	call := func(label string, fam int, env []string, script int) ScriptCall {
		args := []string{"ppp0", "eth0", "0", "10.64.0.2", "10.64.0.1"}
		if fam == 6 {
			args = []string{"ppp0", "eth0", "0", lllocal, llremote}
		}
		c := ScriptCall{Label: label, Argv0: "/etc/ppp/" + label, Args: args, Env: env,
			PID: pid + script, PPID: pid, PGID: pid + script, SID: pid + script, Umask: "0077", Cwd: "/",
			FDs:  []string{"0 /dev/null", "1 /dev/null", "2 /dev/null", "10 $0"},
			Link: "5: ppp0: <POINTOPOINT,MULTICAST,NOARP,UP,LOWER_UP> mtu 1492", PidFiles: pidFiles,
			Addr4: "inet 10.64.0.2 peer 10.64.0.1/32 scope global ppp0",
			Addr6: "inet6 " + lllocal + " peer " + llremote + "/128 scope link"}
		if slices.Contains(env, "CONNECT_TIME="+counter) {
			// The addresses are gone before ip-down; the interface and
			// the pid files may or may not be.
			c.Addr4, c.Addr6, c.Link, c.PidFiles = "", "", `Device "ppp0" does not exist.`, nil
		}
		return c
	}
	cat := func(parts ...[]string) []string { return slices.Concat(parts...) }
	return PPPDObservation{
		Impl: impl,
		Calls: []ScriptCall{
			call("ipv6-up", 6, cat(base, v6), 1),
			call("ip-pre-up", 4, cat(base, v6, v4), 2),
			call("ip-up", 4, cat(base, v6, v4), 3),
			call("ip-down", 4, cat(base, v6, v4, down), 4),
			call("ipv6-down", 6, cat(base, v6, v4, down), 5),
		},
		PidFiles:  []PidFileLife{{Name: "ppp0.pid", Content: fmt.Sprintf("%d\n", pid), Created: time.Second, Removed: 5 * time.Second}},
		DaemonPID: pid,
		Ifname:    "ppp0",
		Exit:      5,
		Facts:     []Fact{{"daemon's command name", "pppd"}},
	}
}

// preDetach makes o's ip-pre-up what pppd with updetach shows: run by
// the process started (pid started), before it forked the daemon, so its
// parent, its PPPD_PID and the pid file it saw are that process's.
func preDetach(o *PPPDObservation, started int) {
	o.Started = started
	i := slices.IndexFunc(o.Calls, func(c ScriptCall) bool { return c.Label == "ip-pre-up" })
	c := &o.Calls[i]
	c.PPID = started
	c.Env = slices.Clone(c.Env)
	for j, kv := range c.Env {
		if strings.HasPrefix(kv, "PPPD_PID=") {
			c.Env[j] = "PPPD_PID=" + strconv.Itoa(started)
		}
	}
	c.PidFiles = []PidFile{{"ppp0.pid", fmt.Sprintf("%d\n", started)}}
}

// TestComparePPPD: what varies between any two runs is not a difference;
// each thing the comparison checks, changed alone, is reported.
func TestComparePPPD(t *testing.T) {
	want := sampleObservation(RealPPPD, 300, "7545:2e85:0342:14bf", "24")
	same := func() PPPDObservation { return sampleObservation(PppoedPPPD, 900, "0001:abcd:ef00:0042", "3") }
	callOf := func(o *PPPDObservation, label string) *ScriptCall {
		return &o.Calls[slices.IndexFunc(o.Calls, func(c ScriptCall) bool { return c.Label == label })]
	}
	setenv := func(c *ScriptCall, name, value string) {
		for i, kv := range c.Env {
			if strings.HasPrefix(kv, name+"=") {
				c.Env[i] = name + "=" + value
			}
		}
	}
	dropenv := func(c *ScriptCall, name string) {
		c.Env = slices.DeleteFunc(c.Env, func(kv string) bool { return strings.HasPrefix(kv, name+"=") })
	}
	tests := []struct {
		name   string
		opt    CompareOptions
		change func(o *PPPDObservation)
		want   string                   // in a difference; "" for none
		pppd   func(o *PPPDObservation) // changes pppd's observation
	}{
		{name: "another run", change: func(o *PPPDObservation) {}},
		{name: "the families interleaved the other way", change: func(o *PPPDObservation) {
			o.Calls[0], o.Calls[1], o.Calls[2] = o.Calls[1], o.Calls[2], o.Calls[0]
		}},
		{name: "IPv4 up first: ipv6-up has IPLOCAL, ip-up lacks LLLOCAL", change: func(o *PPPDObservation) {
			up6 := callOf(o, "ipv6-up")
			up6.Env = append(up6.Env, "IPLOCAL=10.64.0.2")
			dropenv(callOf(o, "ip-up"), "LLLOCAL")
			callOf(o, "ip-up").Running = []Running{{"ipv6-up", 6}}
		}},
		{name: "exit status", change: func(o *PPPDObservation) { o.Exit = 0 }, want: "exit status: pppd 5, pppoed 0"},
		{name: "pppd's exit status lost a race: stands for the usual one", opt: CompareOptions{PPPDExitRace: map[int]int{16: 5}},
			change: func(o *PPPDObservation) {}, pppd: func(o *PPPDObservation) { o.Exit = 16 }},
		{name: "pppd lost the race, pppoed gave the racy status", opt: CompareOptions{PPPDExitRace: map[int]int{16: 5}},
			pppd: func(o *PPPDObservation) { o.Exit = 16 }, change: func(o *PPPDObservation) { o.Exit = 16 }, want: "exit status: pppd 16, pppoed 16"},
		{name: "the race is pppd's only: pppoed's racy status differs", opt: CompareOptions{PPPDExitRace: map[int]int{16: 5}},
			change: func(o *PPPDObservation) { o.Exit = 16 }, want: "exit status: pppd 5, pppoed 16"},
		{name: "interface name", change: func(o *PPPDObservation) { o.Ifname = "ppp1" }, want: "interface"},
		{name: "a script missing", change: func(o *PPPDObservation) {
			o.Calls = slices.DeleteFunc(o.Calls, func(c ScriptCall) bool { return c.Label == "ip-pre-up" })
		}, want: "IPv4 scripts called"},
		{name: "a script missing hides no other difference", change: func(o *PPPDObservation) {
			o.Calls = slices.DeleteFunc(o.Calls, func(c ScriptCall) bool { return c.Label == "ip-pre-up" })
			setenv(callOf(o, "ip-down"), "IPREMOTE", "10.64.0.9")
		}, want: "ip-down #1: environment IPREMOTE"},
		{name: "a script added hides no other difference", change: func(o *PPPDObservation) {
			extra := *callOf(o, "ip-up")
			extra.Env = slices.Clone(extra.Env)
			extra.Label = "ip-up.local"
			o.Calls = append(o.Calls, extra)
			dropenv(callOf(o, "ip-up"), "DNS1")
		}, want: "ip-up #1: environment: DNS1 missing"},
		{name: "scripts out of order", change: func(o *PPPDObservation) {
			i, j := slices.IndexFunc(o.Calls, func(c ScriptCall) bool { return c.Label == "ip-up" }), slices.IndexFunc(o.Calls, func(c ScriptCall) bool { return c.Label == "ip-pre-up" })
			o.Calls[i], o.Calls[j] = o.Calls[j], o.Calls[i]
		}, want: "IPv4 scripts called"},
		{name: "$0", change: func(o *PPPDObservation) { callOf(o, "ip-up").Argv0 = "/etc/ppp/ip-up.pppoed" }, want: "$0"},
		{name: "$0 mapped where pppd could not be given the path", opt: CompareOptions{Argv0: map[string]string{"/etc/ppp/ipv6-up": "/lib/netifd/ppp6-up"}},
			change: func(o *PPPDObservation) { callOf(o, "ipv6-up").Argv0 = "/lib/netifd/ppp6-up" }},
		{name: "$0 mapped but not used", opt: CompareOptions{Argv0: map[string]string{"/etc/ppp/ipv6-up": "/lib/netifd/ppp6-up"}},
			change: func(o *PPPDObservation) {}, want: `$0: pppd "/etc/ppp/ipv6-up" (so pppoed "/lib/netifd/ppp6-up")`},
		{name: "an argument", change: func(o *PPPDObservation) { callOf(o, "ip-up").Args[3] = "10.64.0.3" }, want: "argument $4"},
		{name: "an extra empty ipparam", change: func(o *PPPDObservation) {
			c := callOf(o, "ip-up")
			c.Args = append(c.Args, "")
		}, want: "arguments"},
		{name: "a variable's value", change: func(o *PPPDObservation) { setenv(callOf(o, "ip-up"), "IPREMOTE", "10.64.0.9") }, want: "environment IPREMOTE"},
		{name: "a variable missing", change: func(o *PPPDObservation) { dropenv(callOf(o, "ip-down"), "UNIT") }, want: "UNIT missing"},
		{name: "the own family's variable missing", change: func(o *PPPDObservation) { dropenv(callOf(o, "ip-up"), "DNS1") }, want: "DNS1 missing"},
		{name: "a variable pppd does not set", change: func(o *PPPDObservation) {
			c := callOf(o, "ip-up")
			c.Env = append(c.Env, "PPPOED=1")
		}, want: "PPPOED not set by pppd"},
		{name: "PPPD_PID not the daemon", change: func(o *PPPDObservation) { setenv(callOf(o, "ip-up"), "PPPD_PID", "300") }, want: "PPPD_PID"},
		{name: "a counter not a number", change: func(o *PPPDObservation) { setenv(callOf(o, "ip-down"), "BYTES_SENT", "") }, want: "BYTES_SENT"},
		{name: "a link-local address not zero-padded", change: func(o *PPPDObservation) {
			setenv(callOf(o, "ipv6-up"), "LLLOCAL", "fe80::1:abcd:ef00:42")
		}, want: "LLLOCAL"},
		{name: "a link-local argument in another form", change: func(o *PPPDObservation) { callOf(o, "ipv6-down").Args[4] = "fe80::1111:2222:3333:4444:1" }, want: "argument $5"},
		{name: "ip-down with the address still there", change: func(o *PPPDObservation) {
			callOf(o, "ip-down").Addr4 = "inet 10.64.0.2 peer 10.64.0.1/32 scope global ppp0"
		}, want: "IPv4 address on the interface: pppd false, pppoed true"},
		{name: "ipv6-up before the link-local address", change: func(o *PPPDObservation) { callOf(o, "ipv6-up").Addr6 = "" }, want: "link-local IPv6 address"},
		{name: "ip-up without its interface", change: func(o *PPPDObservation) { callOf(o, "ip-up").Link = "Device \"ppp0\" does not exist." }, want: "interface exists"},
		{name: "a down script's interface or pid file: races, not compared", change: func(o *PPPDObservation) {
			c := callOf(o, "ip-down")
			c.Link, c.PidFiles = "5: ppp0: <POINTOPOINT> mtu 1492", []PidFile{{"ppp0.pid", "900\n"}}
		}},
		{name: "interface flags, when asked", opt: CompareOptions{LinkFlags: true},
			change: func(o *PPPDObservation) {
				callOf(o, "ip-pre-up").Link = "5: ppp0: <POINTOPOINT,MULTICAST,NOARP> mtu 1492"
			}, want: "interface flags"},
		{name: "interface flags, not asked", change: func(o *PPPDObservation) { callOf(o, "ip-pre-up").Link = "5: ppp0: <POINTOPOINT> mtu 1492" }},
		{name: "the script not the daemon's child", change: func(o *PPPDObservation) { callOf(o, "ip-up").PPID = 1 }, want: "parent is the daemon"},
		{name: "not in a session of its own", change: func(o *PPPDObservation) { callOf(o, "ip-up").SID = 900 }, want: "session leader"},
		{name: "umask", change: func(o *PPPDObservation) { callOf(o, "ip-up").Umask = "0022" }, want: "umask"},
		{name: "working directory", change: func(o *PPPDObservation) { callOf(o, "ip-up").Cwd = "/run" }, want: "working directory"},
		{name: "a descriptor leaked", change: func(o *PPPDObservation) {
			c := callOf(o, "ip-up")
			c.FDs = append(c.FDs, "3 /dev/ppp")
		}, want: "open descriptors"},
		{name: "ip-down while ip-up runs", change: func(o *PPPDObservation) { callOf(o, "ip-down").Running = []Running{{"ip-up", 4}} }, want: "still running"},
		{name: "the other family's script running: races, not compared", change: func(o *PPPDObservation) {
			callOf(o, "ip-pre-up").Running = []Running{{"ipv6-up", 6}}
		}},
		{name: "pid file content at ip-up", change: func(o *PPPDObservation) { callOf(o, "ip-up").PidFiles = []PidFile{{"ppp0.pid", "900"}} }, want: "pid files as it began"},
		{name: "pid file format", change: func(o *PPPDObservation) { o.PidFiles[0].Content = "900" }, want: "pid files"},
		{name: "pid file left behind", change: func(o *PPPDObservation) { o.PidFiles[0].Removed = 0 }, want: "pid files"},
		{name: "pid file another name", change: func(o *PPPDObservation) { o.PidFiles[0].Name = "ppp-ppp0.pid" }, want: "pid files"},
		{name: "resolv.conf", change: func(o *PPPDObservation) {
			s := "nameserver 10.64.0.53\n"
			callOf(o, "ip-up").ResolvConf = &s
		}, want: "resolv.conf present"},
		{name: "resolv.conf at an IPv6 script: races with IPCP, not compared", change: func(o *PPPDObservation) {
			s := "nameserver 10.64.0.53\n"
			callOf(o, "ipv6-up").ResolvConf = &s
		}},
		{name: "PPPD_PID the started process's, not asked", change: func(o *PPPDObservation) {}, want: "PPPD_PID",
			pppd: func(o *PPPDObservation) { preDetach(o, 250) }},
		{name: "pppd's ip-pre-up before updetach forked", opt: CompareOptions{PreDetach: true}, change: func(o *PPPDObservation) {},
			pppd: func(o *PPPDObservation) { preDetach(o, 250) }},
		{name: "the self-check: pppd's ip-pre-up before updetach forked, in both", opt: CompareOptions{PreDetach: true},
			change: func(o *PPPDObservation) { o.Impl = RealPPPD; preDetach(o, 850) },
			pppd:   func(o *PPPDObservation) { preDetach(o, 250) }},
		{name: "pppoed's ip-pre-up by the started process", opt: CompareOptions{PreDetach: true}, change: func(o *PPPDObservation) { preDetach(o, 850) },
			pppd: func(o *PPPDObservation) { preDetach(o, 250) }, want: "PPPD_PID"},
		{name: "pppoed's ip-pre-up not the daemon's child, pppd's the started process's", opt: CompareOptions{PreDetach: true},
			change: func(o *PPPDObservation) { callOf(o, "ip-pre-up").PPID = 1 },
			pppd:   func(o *PPPDObservation) { preDetach(o, 250) }, want: "parent is the daemon"},
		{name: "a fact", change: func(o *PPPDObservation) { o.Facts[0].Value = "pppoed" }, want: "daemon's command name"},
		{name: "a fact not observed", change: func(o *PPPDObservation) { o.Facts = nil }, want: "pppoed not observed"},
		{name: "a fact pppd did not show", change: func(o *PPPDObservation) { o.AddFact("extra", "1") }, want: "pppd not observed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := same()
			tt.change(&got)
			want := want
			if tt.pppd != nil {
				want = sampleObservation(RealPPPD, 300, "7545:2e85:0342:14bf", "24")
				tt.pppd(&want)
			}
			d := ComparePPPD(want, got, tt.opt)
			if tt.want == "" {
				if len(d) != 0 {
					t.Errorf("differences reported:\n%s", strings.Join(d, "\n"))
				}
				return
			}
			if !slices.ContainsFunc(d, func(s string) bool { return strings.Contains(s, tt.want) }) {
				t.Errorf("no difference mentions %q; got:\n%s", tt.want, strings.Join(d, "\n"))
			}
		})
	}
}
