package lab

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/mdlayher/packet"
	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/integration/vm"
	"golang.org/x/sys/unix"
)

// pppd mode (issue 11): the same pppd-style scenario run once with the real
// pppd 2.4.9 and once with pppoed installed as /usr/sbin/pppd, recording
// what each exposes to the rest of the system so that tests compare them
// field by field: every script call (its arguments, its environment, the
// interface's addresses and the pid files at that moment, whether another
// script was still running), the pid files' names, contents and lifetimes,
// the daemon's exit status and the PPP interface's name.
//
// A PPPDRun runs its programs in a private mount namespace inside the
// client's network namespace, where the run's own directories are bound on
// /etc/ppp and /run (so /var/run): scenarios cannot see each other's
// scripts, secrets or pid files, nor the AC's pppd (which runs the global
// /etc/ppp scripts). For pppoed the binary is also bound on /usr/sbin/pppd,
// so that Debian's pon, which execs /usr/sbin/pppd, starts it under that
// name, as an installed drop-in would be.

// PPPDImpl is the program installed as /usr/sbin/pppd for a run.
type PPPDImpl string

const (
	RealPPPD   PPPDImpl = "pppd"   // Debian's pppd 2.4.9
	PppoedPPPD PPPDImpl = "pppoed" // PPPOED_BIN bound on /usr/sbin/pppd
)

// PPPDPath is where pon and OpenWrt's netifd find pppd.
const PPPDPath = "/usr/sbin/pppd"

// PPPDLogfile is the logfile scenarios give pppd (inside the run's
// namespace; PPPDRun.Log is the same file from outside).
const PPPDLogfile = "/run/ppp.log"

// PPPDRun is one half of a pppd-mode scenario.
type PPPDRun struct {
	Impl PPPDImpl
	Dir  string // the run's directory
	Etc  string // bound on /etc/ppp
	Run  string // bound on /run
	Rec  string // the script records, one directory per call
	Log  string // PPPDLogfile seen from outside

	bin   string // bound on /usr/sbin/pppd ("" for the real one)
	ns    *Netns
	s     Scope
	start time.Time
	watch *pidWatch
	procs []*Process // started by Start
}

// NewPPPDRun prepares a run in ns (the client's namespace). The run owns
// ns's processes: when s ends, every process left in ns is killed (a
// detached daemon is nobody's child), then the run's directories go.
func NewPPPDRun(s Scope, ns *Netns, impl PPPDImpl) (*PPPDRun, error) {
	s.Helper()
	r := &PPPDRun{Impl: impl, Dir: filepath.Join(s.TempDir(), uniqueName("pppdmode-"+string(impl))), ns: ns, s: s}
	switch impl {
	case RealPPPD:
		if _, err := os.Stat(PPPDPath); err != nil {
			return nil, fmt.Errorf("lab: the reference pppd: %w", err)
		}
	case PppoedPPPD:
		bin, err := PppoedBinary()
		if err != nil {
			return nil, err
		}
		if r.bin, err = filepath.Abs(bin); err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
	default:
		return nil, fmt.Errorf("lab: unknown pppd implementation %q", impl)
	}
	r.Etc, r.Run, r.Rec = filepath.Join(r.Dir, "etc-ppp"), filepath.Join(r.Dir, "run"), filepath.Join(r.Dir, "records")
	r.Log = filepath.Join(r.Run, filepath.Base(PPPDLogfile))
	for _, d := range []string{r.Etc, filepath.Join(r.Etc, "peers"), r.Run, r.Rec} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return nil, fmt.Errorf("lab: %w", err)
		}
	}
	s.Cleanup(func() {
		if err := ns.killAll(); err != nil {
			s.Logf("lab: processes left in %s: %v", ns.Name, err)
		}
	})
	var err error
	if r.watch, err = watchPidFiles(r.Run); err != nil {
		return nil, err
	}
	s.Cleanup(r.watch.stop)
	r.start = time.Now()
	return r, nil
}

// WriteEtc writes a file under the run's /etc/ppp (name relative to it).
func (r *PPPDRun) WriteEtc(name, content string, mode os.FileMode) error {
	p := filepath.Join(r.Etc, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	// WriteFile keeps the mode of a file that exists, and umask applies.
	if err := os.Chmod(p, mode); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

// HostEtcPPP is where the VM runner keeps the host's /etc/ppp (Debian's
// ip-up, options, ...) before hiding it under a tmpfs.
var HostEtcPPP = filepath.Join(vm.HostCopies, "etc/ppp")

// HostEtcFile reads a file of Debian's own /etc/ppp.
func HostEtcFile(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(HostEtcPPP, name))
	if err != nil {
		return "", fmt.Errorf("lab: Debian's /etc/ppp/%s (kept by the VM runner at %s): %w", name, HostEtcPPP, err)
	}
	return string(b), nil
}

// CopyHostEtc copies Debian's /etc/ppp/NAME into the run's /etc/ppp,
// keeping its mode.
func (r *PPPDRun) CopyHostEtc(name string) error {
	fi, err := os.Stat(filepath.Join(HostEtcPPP, name))
	if err != nil {
		return fmt.Errorf("lab: Debian's /etc/ppp/%s: %w", name, err)
	}
	b, err := HostEtcFile(name)
	if err != nil {
		return err
	}
	return r.WriteEtc(name, b, fi.Mode().Perm())
}

// WriteSecrets writes the run's pap-secrets and chap-secrets (mode 0600),
// in the lab's format: the client finds its password there, as pppd does.
func (r *PPPDRun) WriteSecrets(list ...Secret) error {
	m := map[int]Secret{}
	for i, e := range list {
		if err := validSecretField(e.User); err != nil {
			return fmt.Errorf("lab: user %q: %w", e.User, err)
		}
		if err := validSecretField(e.Password); err != nil {
			return fmt.Errorf("lab: password of %q: %w", e.User, err)
		}
		m[i] = e
	}
	for _, f := range []string{"pap-secrets", "chap-secrets"} {
		if err := r.WriteEtc(f, renderSecrets(m), 0o600); err != nil {
			return err
		}
	}
	return nil
}

// Record installs a recording script at name under the run's /etc/ppp
// ("ip-up", "ip-up.d/zz-record", "netifd/ppp-up"): each call leaves a
// record labelled label in Rec (see ScriptCall).
func (r *PPPDRun) Record(name, label string) error {
	return r.WriteEtc(name, recorderScript(r.Rec, label), 0o755)
}

// Delay makes the recording scripts labelled label sleep d before they
// end, to show whether the daemon waits for them.
func (r *PPPDRun) Delay(label string, d time.Duration) error {
	s := strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
	if err := os.WriteFile(filepath.Join(r.Rec, "delay-"+label), []byte(s+"\n"), 0o644); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

// mountScript runs as `sh -c mountScript pppdmode ETC RUN BIN CMD...` in a
// fresh private mount namespace: the run's directories over /etc/ppp and
// /run, BIN (when not empty) over /usr/sbin/pppd, then CMD in place.
// -n: util-linux's mount would otherwise note a bind in /run/mount/utab.
const mountScript = `set -e
if [ -n "$3" ]; then mount -n --bind "$3" ` + PPPDPath + `; fi
mount -n --bind "$1" /etc/ppp
mount -n --bind "$2" /run
shift 3
exec "$@"`

func (r *PPPDRun) wrap(args []string) []string {
	return append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-c", mountScript, "pppdmode", r.Etc, r.Run, r.bin}, args...)
}

// Start runs args (args[0] is the program: "pon", PPPDPath) in the run's
// namespaces, in the background. With exec all along, the process is the
// program itself: a nodetach pppd's exit status is the Process's.
func (r *PPPDRun) Start(name string, args ...string) (*Process, error) {
	r.s.Helper()
	if len(args) == 0 {
		return nil, errors.New("lab: PPPDRun.Start: no command")
	}
	p, err := r.ns.Start(r.s, name, r.wrap(args)...)
	if err == nil {
		r.procs = append(r.procs, p)
	}
	return p, err
}

// Outputs describes what the started processes wrote and how they ended.
func (r *PPPDRun) Outputs() string {
	var b strings.Builder
	for _, p := range r.procs {
		state := "running"
		if p.Exited() {
			state = fmt.Sprintf("exit status %d", p.ExitCode())
		}
		fmt.Fprintf(&b, "%s (pid %d, %s) wrote:\n%s\n", p.Name, p.Pid(), state, tail(p.Log(), 20))
	}
	return b.String()
}

// Exec runs args in the run's namespaces to completion and returns its
// combined output and exit status (-1 when it did not exit).
func (r *PPPDRun) Exec(ctx context.Context, args ...string) (string, int, error) {
	w := r.wrap(args)
	cmd := r.ns.Command(ctx, w[0], w[1:]...)
	out, err := cmd.CombinedOutput()
	if cmd.ProcessState != nil && cmd.ProcessState.ExitCode() >= 0 {
		return string(out), cmd.ProcessState.ExitCode(), nil
	}
	return string(out), -1, fmt.Errorf("lab: %s: %w\n%s", strings.Join(RedactPassword(args), " "), err, out)
}

// Since is how long ago the run was made: the origin of its timeline.
func (r *PPPDRun) Since(t time.Time) time.Duration { return t.Sub(r.start) }

// PPPDLog returns the daemon's logfile (PPPDLogfile), if it wrote one.
func (r *PPPDRun) PPPDLog() string {
	b, _ := os.ReadFile(r.Log)
	return string(b)
}

// Calls reads the records of every script call so far, in the order the
// calls began.
func (r *PPPDRun) Calls() ([]ScriptCall, error) { return ReadScriptCalls(r.Rec) }

// WaitCalls polls the records until ok accepts them.
func (r *PPPDRun) WaitCalls(ctx context.Context, what string, ok func([]ScriptCall) bool) ([]ScriptCall, error) {
	var calls []ScriptCall
	err := Poll(ctx, 20*time.Millisecond, func() (bool, error) {
		// Whether anything runs is read first: a script that ran since
		// is then in the records read after.
		idle := r.idle()
		var err error
		calls, err = r.Calls()
		if err == nil && ok(calls) {
			return true, nil
		}
		if idle {
			return false, errors.New("nothing runs in the namespace any more")
		}
		return false, nil
	})
	if err != nil {
		return calls, fmt.Errorf("lab: %s: waiting for the scripts (%s): %w\ncalls so far:\n%s\nprocesses: %s\n%slog:\n%s",
			r.Impl, what, err, FormatCalls(calls, 0), r.Processes(), r.Outputs(), tail(r.PPPDLog(), 40))
	}
	return calls, nil
}

// idle reports whether every process started has ended and none is left
// in the run's namespace: no daemon, no script, nothing that could still
// call one.
func (r *PPPDRun) idle() bool {
	// A process just started is in the namespace only once `ip netns
	// exec` has entered it.
	for _, p := range r.procs {
		if !p.Exited() {
			return false
		}
	}
	pids, err := r.ns.Pids()
	if err != nil {
		return false
	}
	return !slices.ContainsFunc(pids, Alive)
}

// Ended returns a WaitCalls condition: a call of each label has ended.
func Ended(labels ...string) func([]ScriptCall) bool {
	return func(calls []ScriptCall) bool {
		for _, l := range labels {
			if !slices.ContainsFunc(calls, func(c ScriptCall) bool { return c.Label == l && c.Ended() }) {
				return false
			}
		}
		return true
	}
}

// Began returns a WaitCalls condition: a call of label has begun.
func Began(label string) func([]ScriptCall) bool {
	return func(calls []ScriptCall) bool {
		return slices.ContainsFunc(calls, func(c ScriptCall) bool { return c.Label == label })
	}
}

// PidFileContent reads /run/NAME in the run (NAME: "ppp0.pid").
func (r *PPPDRun) PidFileContent(name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(r.Run, name))
	return string(b), err
}

// WaitPidFile waits until /run/NAME holds a pid and returns it.
func (r *PPPDRun) WaitPidFile(ctx context.Context, name string) (int, error) {
	var pid int
	err := Poll(ctx, 10*time.Millisecond, func() (bool, error) {
		c, err := r.PidFileContent(name)
		if err != nil {
			return false, nil
		}
		first, _, _ := strings.Cut(c, "\n")
		pid, err = strconv.Atoi(strings.TrimSpace(first))
		return err == nil && pid > 0, nil
	})
	if err != nil {
		return 0, fmt.Errorf("lab: %s: no pid in /run/%s: %w\nfiles: %v\nprocesses: %s\nlog:\n%s",
			r.Impl, name, err, r.PidFiles(), r.Processes(), tail(r.PPPDLog(), 40))
	}
	return pid, nil
}

// PidFiles is the timeline of the run's *.pid files so far.
func (r *PPPDRun) PidFiles() []PidFileLife { return r.watch.lives(r.start) }

// RunFiles names every file the daemon created in /run (pppd's tdb too).
func (r *PPPDRun) RunFiles() []string { return r.watch.names() }

// Processes describes the processes left in the run's namespace: pid,
// comm and command line (a password on it hidden).
func (r *PPPDRun) Processes() string {
	pids, err := r.ns.Pids()
	if err != nil {
		return err.Error()
	}
	var parts []string
	for _, p := range pids {
		if isZombie(p) {
			continue
		}
		comm, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", p))
		parts = append(parts, fmt.Sprintf("%d %s [%s]", p, strings.TrimSpace(string(comm)), Cmdline(p)))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, "; ")
}

// Cmdline is pid's command line, its words joined by spaces as ps shows
// it, the word after "password" hidden.
func Cmdline(pid int) string {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return ""
	}
	words := strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
	return strings.Join(RedactPassword(words), " ")
}

// RedactPassword replaces the word after each "password" with "***".
func RedactPassword(words []string) []string {
	out := slices.Clone(words)
	for i := 0; i+1 < len(out); i++ {
		if out[i] == "password" {
			out[i+1] = "***"
		}
	}
	return out
}

// ProcFacts are what a daemon shows of itself in /proc.
type ProcFacts struct {
	Comm, Cmdline, Cwd, Umask string
	PPID, PGID, SID           int
	FD012                     []string // the targets of fds 0, 1 and 2
}

// ReadProcFacts reads pid's ProcFacts.
func ReadProcFacts(pid int) (ProcFacts, error) {
	var f ProcFacts
	comm, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	if err != nil {
		return f, fmt.Errorf("lab: %w", err)
	}
	f.Comm = strings.TrimSpace(string(comm))
	f.Cmdline = Cmdline(pid)
	f.Cwd, _ = os.Readlink(fmt.Sprintf("/proc/%d/cwd", pid))
	st, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(st), "\n") {
		if v, ok := strings.CutPrefix(l, "Umask:"); ok {
			f.Umask = strings.TrimSpace(v)
		}
	}
	stat, _ := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	_, f.PPID, f.PGID, f.SID = parseStat(string(stat))
	for fd := 0; fd < 3; fd++ {
		t, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%d", pid, fd))
		if err != nil {
			t = "closed"
		}
		f.FD012 = append(f.FD012, normalizeFD(t))
	}
	return f, nil
}

// WaitGone waits until pid has ended.
func WaitGone(ctx context.Context, pid int) error {
	return Poll(ctx, 10*time.Millisecond, func() (bool, error) { return isZombie(pid), nil })
}

// Alive reports whether pid is a live process.
func Alive(pid int) bool { return !isZombie(pid) }

// ---- the recording script

// recorderScript is a script recording its call into rec/call-UP-PID/
// (UP: /proc/uptime as it began, in centiseconds since boot): fds (its
// descriptors as inherited); ip (`ip address show` of the interface named
// by $1: its flags and addresses, taken early, as the daemon goes on
// while the script runs); environ and stat (copies of its own /proc
// entries, so the environment is exactly what the daemon passed,
// untouched by the shell); label; argv0 ($0); args (NUL-terminated) and
// nargs; umask; cwd; pidfiles (/run/*.pid, name NUL content NUL);
// resolv.conf (/etc/ppp/resolv.conf, if any); running (the records of
// the calls not ended yet); end (the uptime it ended at, written last).
// It runs four programs and the rest in the shell: under an emulated CPU
// shared with other tests each program costs up to a few hundred
// milliseconds, and pppd kills a down script still running 5 s after the
// link ended (child-timeout).
func recorderScript(rec, label string) string {
	return `#!/bin/sh
# Written by pppoed's integration lab (lab.PPPDRun.Record): records this
# call of a pppd script, then exits 0.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
read -r up _ </proc/uptime
rec=` + shQuote(rec) + `
d="$rec/call-$up-$$"
mkdir "$d" || exit 0
# In a subshell: a redirection of the shell's own would show in its fds.
( exec find /proc/$$/fd -mindepth 1 -maxdepth 1 -printf '%f %l\n' ) >"$d/fds"
ip address show dev "$1" >"$d/ip" 2>&1
rc=
[ -e /etc/ppp/resolv.conf ] && rc=/etc/ppp/resolv.conf
cp /proc/$$/environ /proc/$$/stat $rc "$d/"
printf '%s' ` + shQuote(label) + ` >"$d/label"
printf '%s' "$0" >"$d/argv0"
printf '%s\0' "$@" >"$d/args"
echo $# >"$d/nargs"
umask >"$d/umask"
pwd -P >"$d/cwd"
for f in /run/*.pid; do
	[ -f "$f" ] || continue
	printf '%s\0' "${f#/run/}"
	l=
	while IFS= read -r l; do printf '%s\n' "$l"; done <"$f"
	printf '%s\0' "$l"
done >"$d/pidfiles"
for c in "$rec"/call-*; do
	[ "$c" != "$d" ] && [ ! -e "$c/end" ] && printf '%s\n' "${c##*/}"
done >"$d/running"
delay="$rec/delay-"` + shQuote(label) + `
[ -r "$delay" ] && read -r delay <"$delay" && sleep "$delay"
read -r up _ </proc/uptime
echo "$up" >"$d/end"
exit 0
`
}

// bootTime is when the clock of /proc/uptime (CLOCK_BOOTTIME) was zero.
var bootTime = sync.OnceValue(func() time.Time {
	var ts unix.Timespec
	now := time.Now()
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return time.Time{}
	}
	return now.Add(-time.Duration(ts.Nano()))
})

// uptimeCentis parses /proc/uptime's first field ("12345.67").
func uptimeCentis(s string) (int64, error) {
	sec, frac, ok := strings.Cut(strings.TrimSpace(s), ".")
	if !ok || len(frac) != 2 {
		return 0, fmt.Errorf("lab: uptime %q", s)
	}
	return strconv.ParseInt(sec+frac, 10, 64)
}

func fromUptime(centis int64) time.Time {
	return bootTime().Add(time.Duration(centis) * 10 * time.Millisecond)
}

func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// ScriptCall is one recorded call of a script.
type ScriptCall struct {
	Label string
	Dir   string // its record
	Argv0 string // $0: the path the daemon ran
	Args  []string
	// Env is the environment the daemon passed, NAME=VALUE, in its order.
	Env        []string
	Begin, End time.Time // to 10 ms; End is zero while it runs
	PID, PPID  int
	PGID, SID  int
	Umask, Cwd string
	FDs        []string // "N target", targets normalized (normalizeFD)
	// Link, Addr4 and Addr6 are what `ip address show` said of the
	// interface named by the first argument as the call began: its first
	// line (or the error), its IPv4 addresses, its link-local IPv6 ones.
	Link, Addr4, Addr6 string
	PidFiles           []PidFile // /run/*.pid as the call began
	ResolvConf         *string   // /etc/ppp/resolv.conf, nil if absent
	Running            []Running // other calls still running as it began
	running            []string  // their records' names
}

// Running is a call that was still running as another began.
type Running struct {
	Label  string
	Family int
}

func (r Running) String() string { return fmt.Sprintf("%s (IPv%d)", r.Label, r.Family) }

// PidFile is a pid file and its content.
type PidFile struct{ Name, Content string }

// Ended reports whether the call has ended.
func (c ScriptCall) Ended() bool { return !c.End.IsZero() }

// Getenv returns an environment variable of the call.
func (c ScriptCall) Getenv(name string) (string, bool) {
	for _, kv := range c.Env {
		if k, v, _ := strings.Cut(kv, "="); k == name {
			return v, true
		}
	}
	return "", false
}

// EnvNames lists the call's environment names, sorted.
func (c ScriptCall) EnvNames() []string {
	var out []string
	for _, kv := range c.Env {
		k, _, _ := strings.Cut(kv, "=")
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Family is 6 when the call's fourth argument (the local address) is an
// IPv6 address (ipv6-up, ipv6-down), else 4.
func (c ScriptCall) Family() int {
	if len(c.Args) > 3 {
		if a, err := netip.ParseAddr(c.Args[3]); err == nil && a.Is6() {
			return 6
		}
	}
	return 4
}

// LinkExists reports whether the interface existed as the call began.
func (c ScriptCall) LinkExists() bool { return linkLine.MatchString(c.Link) }

// HasIPv4 reports whether the interface had an IPv4 address.
func (c ScriptCall) HasIPv4() bool { return strings.HasPrefix(c.Addr4, "inet ") }

// HasLinkLocal reports whether the interface had a link-local IPv6 address.
func (c ScriptCall) HasLinkLocal() bool {
	for _, l := range strings.Split(c.Addr6, "\n") {
		if strings.HasPrefix(l, "inet6 fe80:") {
			return true
		}
	}
	return false
}

// LinkFlags are the interface's flags as the call began ("UP",
// "POINTOPOINT", ...), sorted; nil when it did not exist.
func (c ScriptCall) LinkFlags() []string {
	m := linkFlags.FindStringSubmatch(c.Link)
	if m == nil {
		return nil
	}
	f := strings.Split(m[1], ",")
	sort.Strings(f)
	return f
}

// IsDown reports whether the call is of a down script: pppd gives those
// CONNECT_TIME (and the byte counts).
func (c ScriptCall) IsDown() bool {
	_, ok := c.Getenv("CONNECT_TIME")
	return ok
}

var (
	linkLine  = regexp.MustCompile(`^\d+: `)
	linkFlags = regexp.MustCompile(`^\d+: [^:]+: <([^>]*)>`)
)

// ReadScriptCalls reads the records in rec, in the order the calls began.
// A record still being written reads as far as it goes.
func ReadScriptCalls(rec string) ([]ScriptCall, error) {
	ents, err := os.ReadDir(rec)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	type key struct {
		up  int64 // centiseconds of uptime
		pid int
	}
	var keys []key
	dirs := map[key]string{}
	for _, e := range ents {
		rest, ok := strings.CutPrefix(e.Name(), "call-")
		if !ok || !e.IsDir() {
			continue
		}
		upStr, pidStr, _ := strings.Cut(rest, "-")
		up, err1 := uptimeCentis(upStr)
		pid, err2 := strconv.Atoi(pidStr)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("lab: record %s: bad name", e.Name())
		}
		k := key{up, pid}
		keys = append(keys, k)
		dirs[k] = filepath.Join(rec, e.Name())
	}
	// Calls that began in the same hundredth of a second: the pid, given
	// out in increasing order, tells which was started first.
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].up != keys[j].up {
			return keys[i].up < keys[j].up
		}
		return keys[i].pid < keys[j].pid
	})
	out := make([]ScriptCall, 0, len(keys))
	byName := map[string]int{}
	for _, k := range keys {
		c, err := readScriptCall(dirs[k])
		if err != nil {
			return nil, err
		}
		c.Begin = fromUptime(k.up)
		byName[filepath.Base(dirs[k])] = len(out)
		out = append(out, c)
	}
	for i := range out {
		for _, name := range out[i].running {
			if j, ok := byName[name]; ok {
				out[i].Running = append(out[i].Running, Running{out[j].Label, out[j].Family()})
			}
		}
	}
	return out, nil
}

func readScriptCall(dir string) (ScriptCall, error) {
	c := ScriptCall{Dir: dir}
	read := func(name string) string {
		b, _ := os.ReadFile(filepath.Join(dir, name))
		return string(b)
	}
	c.Label = read("label")
	c.Argv0 = read("argv0")
	if n, err := strconv.Atoi(strings.TrimSpace(read("nargs"))); err == nil {
		args := strings.Split(read("args"), "\x00")
		// printf '%s\0' with no argument prints one empty word.
		if len(args) >= n {
			c.Args = args[:n]
		}
	}
	if env := strings.TrimRight(read("environ"), "\x00"); env != "" {
		c.Env = strings.Split(env, "\x00")
	}
	c.PID, c.PPID, c.PGID, c.SID = parseStat(read("stat"))
	c.Umask = strings.TrimSpace(read("umask"))
	c.Cwd = strings.TrimSpace(read("cwd"))
	for _, l := range strings.Split(strings.TrimSpace(read("fds")), "\n") {
		if n, t, ok := strings.Cut(l, " "); ok {
			// The shell reads its script through a descriptor of its own.
			if t == c.Argv0 {
				t = "$0"
			}
			c.FDs = append(c.FDs, n+" "+normalizeFD(t))
		}
	}
	sort.Slice(c.FDs, func(i, j int) bool {
		a, _ := strconv.Atoi(strings.Fields(c.FDs[i])[0])
		b, _ := strconv.Atoi(strings.Fields(c.FDs[j])[0])
		return a < b
	})
	// `ip address show dev IF`: "N: IF: <FLAGS> ...", then indented
	// "link/...", "inet A peer B/32 scope global IF", "inet6 ...", each
	// address followed by a "valid_lft" line; or an error.
	var a4, a6 []string
	for i, l := range strings.Split(strings.TrimSpace(read("ip")), "\n") {
		t := strings.TrimSpace(l)
		switch {
		case i == 0:
			c.Link = t
		case strings.HasPrefix(t, "inet "):
			a4 = append(a4, t)
		case strings.HasPrefix(t, "inet6 ") && strings.Contains(t, " scope link"):
			a6 = append(a6, t)
		}
	}
	c.Addr4, c.Addr6 = strings.Join(a4, "\n"), strings.Join(a6, "\n")
	pf := strings.Split(read("pidfiles"), "\x00")
	for i := 0; i+1 < len(pf); i += 2 {
		// Each line comes back with its newline; a last one without
		// comes after them.
		c.PidFiles = append(c.PidFiles, PidFile{Name: pf[i], Content: pf[i+1]})
	}
	if b, err := os.ReadFile(filepath.Join(dir, "resolv.conf")); err == nil {
		s := string(b)
		c.ResolvConf = &s
	}
	for _, l := range strings.Split(read("running"), "\n") {
		if l != "" {
			c.running = append(c.running, l)
		}
	}
	if up, err := uptimeCentis(read("end")); err == nil {
		c.End = fromUptime(up)
	}
	return c, nil
}

// parseStat reads pid, ppid, pgrp and session from /proc/PID/stat: they
// follow the parenthesised command name, which may hold spaces.
func parseStat(s string) (pid, ppid, pgid, sid int) {
	head, _, _ := strings.Cut(s, " ")
	pid, _ = strconv.Atoi(head)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 4 {
		return
	}
	ppid, _ = strconv.Atoi(f[1])
	pgid, _ = strconv.Atoi(f[2])
	sid, _ = strconv.Atoi(f[3])
	return
}

var inodeRef = regexp.MustCompile(`^([a-z_]+):\[\d+\]$`)

// normalizeFD drops what differs between runs from an fd's target:
// "socket:[1234]" is "socket", "pipe:[77]" is "pipe".
func normalizeFD(t string) string {
	if m := inodeRef.FindStringSubmatch(t); m != nil {
		return m[1]
	}
	return t
}

// ---- pid files

// PidFileLife is one file's life in the run's /run, seen through inotify.
type PidFileLife struct {
	Name    string
	Content string        // the last content written
	Created time.Duration // since the run began
	Removed time.Duration // since the run began; 0 while it exists
}

// Exists reports whether the file was still there.
func (p PidFileLife) Exists() bool { return p.Removed == 0 }

func (p PidFileLife) String() string {
	gone := "still there"
	if !p.Exists() {
		gone = fmt.Sprintf("removed at %s", p.Removed.Round(time.Millisecond))
	}
	return fmt.Sprintf("/run/%s %q: created at %s, %s", p.Name, p.Content, p.Created.Round(time.Millisecond), gone)
}

type pidEvent struct {
	at      time.Time
	name    string
	removed bool
	content string
}

// pidWatch follows a directory with inotify, so that a pid file that
// lives a few milliseconds (pppd's, when authentication fails) is seen.
type pidWatch struct {
	dir    string
	fd     int
	mu     sync.Mutex
	events []pidEvent
	seen   []string
	done   chan struct{}
	quit   chan struct{}
}

func watchPidFiles(dir string) (*pidWatch, error) {
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return nil, fmt.Errorf("lab: inotify: %w", err)
	}
	if _, err := unix.InotifyAddWatch(fd, dir, unix.IN_CREATE|unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO|unix.IN_DELETE|unix.IN_MOVED_FROM); err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("lab: inotify on %s: %w", dir, err)
	}
	w := &pidWatch{dir: dir, fd: fd, done: make(chan struct{}), quit: make(chan struct{})}
	go w.loop()
	return w, nil
}

func (w *pidWatch) stop() {
	close(w.quit)
	<-w.done
	unix.Close(w.fd)
}

func (w *pidWatch) loop() {
	defer close(w.done)
	buf := make([]byte, 64*1024)
	for {
		select {
		case <-w.quit:
			return
		default:
		}
		pfd := []unix.PollFd{{Fd: int32(w.fd), Events: unix.POLLIN}}
		if n, err := unix.Poll(pfd, 50); err != nil || n == 0 {
			continue
		}
		n, err := unix.Read(w.fd, buf)
		if err != nil || n <= 0 {
			continue
		}
		now := time.Now()
		// struct inotify_event: wd, mask, cookie, len (4 octets each),
		// then len octets of NUL-padded name.
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			mask := binary.NativeEndian.Uint32(buf[off+4:])
			nameLen := int(binary.NativeEndian.Uint32(buf[off+12:]))
			end := off + unix.SizeofInotifyEvent + nameLen
			if end > n {
				break
			}
			name := string(bytes.TrimRight(buf[off+unix.SizeofInotifyEvent:end], "\x00"))
			off = end
			w.record(now, name, mask)
		}
	}
}

func (w *pidWatch) record(now time.Time, name string, mask uint32) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0 && !slices.Contains(w.seen, name) {
		w.seen = append(w.seen, name)
	}
	if !strings.HasSuffix(name, ".pid") {
		return
	}
	switch {
	case mask&(unix.IN_DELETE|unix.IN_MOVED_FROM) != 0:
		w.events = append(w.events, pidEvent{at: now, name: name, removed: true})
	case mask&(unix.IN_CREATE|unix.IN_CLOSE_WRITE|unix.IN_MOVED_TO) != 0:
		b, err := os.ReadFile(filepath.Join(w.dir, name))
		if err != nil && mask&unix.IN_CREATE == 0 {
			return // gone already: its removal follows
		}
		w.events = append(w.events, pidEvent{at: now, name: name, content: string(b)})
	}
}

func (w *pidWatch) names() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.seen)
}

// lives folds the events into the files' lives, in the order they were
// created: a name created again after its removal (a redial) starts
// another life.
func (w *pidWatch) lives(origin time.Time) []PidFileLife {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []PidFileLife
	cur := map[string]int{} // name -> its life in out while it exists
	for _, e := range w.events {
		i, live := cur[e.name]
		switch {
		case e.removed && live:
			out[i].Removed = e.at.Sub(origin)
			delete(cur, e.name)
		case e.removed:
		case !live:
			cur[e.name] = len(out)
			out = append(out, PidFileLife{Name: e.name, Content: e.content, Created: e.at.Sub(origin)})
		case e.content != "":
			out[i].Content = e.content
		}
	}
	return out
}

// ---- observations and their comparison

// Fact is one named observation compared verbatim between the two runs.
type Fact struct{ Name, Value string }

// PPPDObservation is what one run of a scenario showed.
type PPPDObservation struct {
	Impl      PPPDImpl
	Calls     []ScriptCall
	PidFiles  []PidFileLife
	RunFiles  []string // every file created in /run (not compared)
	DaemonPID int
	// Started is the process the scenario started, where it is not the
	// daemon (0: none or the same): pppd with updetach forks its daemon
	// from it only once a network protocol is up (CompareOptions.PreDetach).
	Started int
	Ifname  string
	// Exit is the daemon's exit status, -1 when it was not the process
	// started (a detached daemon is nobody's child).
	Exit  int
	Facts []Fact
	Log   string // the daemon's logfile (not compared)

	daemons []int // the pids counted as the daemon's (ComparePPPD)
}

// AddFact appends a fact.
func (o *PPPDObservation) AddFact(name, format string, args ...any) {
	o.Facts = append(o.Facts, Fact{name, fmt.Sprintf(format, args...)})
}

// Observe gathers the run's records into an observation.
func (r *PPPDRun) Observe(daemon int, ifname string, exit int) (PPPDObservation, error) {
	calls, err := r.Calls()
	return PPPDObservation{Impl: r.Impl, Calls: calls, PidFiles: r.PidFiles(), RunFiles: r.RunFiles(),
		DaemonPID: daemon, Ifname: ifname, Exit: exit, Log: r.PPPDLog()}, err
}

// CompareOptions says where pppoed is expected to differ from pppd.
type CompareOptions struct {
	// Argv0 maps pppd's $0 of a script to the one pppoed must run, where
	// pppd 2.4.9 could not be given the same path (it lacks
	// ipv6-up-script and ipv6-down-script).
	Argv0 map[string]string
	// LinkFlags compares the interface's flags (UP, ...) as each script
	// began. Only where one family runs: with both, the other family's
	// protocol may or may not have brought the interface up already.
	LinkFlags bool
	// PreDetach: pppd with updetach negotiates in the process it was
	// started as and forks the daemon only once the first network
	// protocol is up (np_up calls detach; the parent then rewrites the
	// pid files with the child's pid and exits 0), so a script it ran
	// before (ip-pre-up) has that process as its parent and PPPD_PID, and
	// the pid files named it until then. pppoed's daemon is one process
	// from the start. Where set, pppd's Started process counts as its
	// daemon too (in either observation that is pppd's).
	PreDetach bool
	// PPPDExitRace maps an exit status the real pppd gives only when it
	// loses a race to the one it gives otherwise, which pppoed must give:
	// pppd 2.4.9 sets "Modem hangup" (16) over an earlier status when the
	// AC's PADT arrives before it exits (lcp_close's hangup path), so a
	// wrong password exits 16 in some runs, 19 in most.
	PPPDExitRace map[int]int
}

// VolatileEnv are environment variables whose values differ between any
// two runs: only their form is compared (decimal numbers).
var VolatileEnv = []string{"CONNECT_TIME", "BYTES_SENT", "BYTES_RCVD"}

// ComparePPPD lists every difference between pppd's observation (want) and
// pppoed's (got); none means they agree. Values that differ between any
// two runs are compared by form: the counters (VolatileEnv), link-local
// addresses (random interface identifiers: linkLocalForm), pids
// (PPPD_PID must be each run's own daemon, the pid files hold it; with
// CompareOptions.PreDetach pppd's Started process is its daemon too). What
// races between the daemon and its scripts is not compared (compareCall).
func ComparePPPD(want, got PPPDObservation, opt CompareOptions) []string {
	var d []string
	for _, o := range []*PPPDObservation{&want, &got} {
		o.daemons = []int{o.DaemonPID}
		// pppd's only: pppoed's started process must never pass for
		// its daemon (a self-check compares pppd with pppd).
		if opt.PreDetach && o.Impl == RealPPPD && o.Started > 0 && o.Started != o.DaemonPID {
			o.daemons = append(o.daemons, o.Started)
		}
	}
	add := func(format string, args ...any) { d = append(d, fmt.Sprintf(format, args...)) }
	wantExit := want.Exit
	if e, ok := opt.PPPDExitRace[wantExit]; ok {
		wantExit = e
	}
	if wantExit != got.Exit {
		add("exit status: pppd %d, pppoed %d", want.Exit, got.Exit)
	}
	if want.Ifname != got.Ifname {
		add("interface: pppd %q, pppoed %q", want.Ifname, got.Ifname)
	}
	// Each family's scripts in order: IPCP and IPv6CP come up in either
	// order, so the interleaving of the two is not compared.
	for _, fam := range []int{4, 6} {
		wc, gc := byFamily(want.Calls, fam), byFamily(got.Calls, fam)
		if wl, gl := labels(wc), labels(gc); !slices.Equal(wl, gl) {
			add("IPv%d scripts called: pppd %q, pppoed %q", fam, wl, gl)
		}
		// Each call against the other's call of the same script and
		// rank, so that a script missing or added hides nothing else.
		for i := range wc {
			n := countBefore(wc, i)
			if j := nthCall(gc, wc[i].Label, n); j >= 0 {
				d = append(d, compareCall(fmt.Sprintf("%s #%d", wc[i].Label, n+1), wc[i], gc[j], want, got, opt)...)
			}
		}
	}
	wp, gp := comparablePidFiles(want), comparablePidFiles(got)
	if !slices.Equal(wp, gp) {
		add("pid files: pppd %q, pppoed %q", wp, gp)
	}
	for _, f := range want.Facts {
		i := slices.IndexFunc(got.Facts, func(g Fact) bool { return g.Name == f.Name })
		switch {
		case i < 0:
			add("%s: pppd %q, pppoed not observed", f.Name, f.Value)
		case got.Facts[i].Value != f.Value:
			add("%s: pppd %q, pppoed %q", f.Name, f.Value, got.Facts[i].Value)
		}
	}
	for _, g := range got.Facts {
		if !slices.ContainsFunc(want.Facts, func(f Fact) bool { return f.Name == g.Name }) {
			add("%s: pppoed %q, pppd not observed", g.Name, g.Value)
		}
	}
	return d
}

func byFamily(calls []ScriptCall, fam int) []ScriptCall {
	var out []ScriptCall
	for _, c := range calls {
		if c.Family() == fam {
			out = append(out, c)
		}
	}
	return out
}

func labels(calls []ScriptCall) []string {
	out := make([]string, 0, len(calls))
	for _, c := range calls {
		out = append(out, c.Label)
	}
	return out
}

// nthCall is the index of the call of label that n others of it precede,
// -1 if there is none.
func nthCall(calls []ScriptCall, label string, n int) int {
	for i, c := range calls {
		if c.Label != label {
			continue
		}
		if n == 0 {
			return i
		}
		n--
	}
	return -1
}

func countBefore(calls []ScriptCall, i int) int {
	n := 0
	for _, c := range calls[:i] {
		if c.Label == calls[i].Label {
			n++
		}
	}
	return n
}

// comparablePidFiles is each pid file as "NAME CONTENT removed|kept", the
// daemon's pid in the content replaced with <pid>.
func comparablePidFiles(o PPPDObservation) []string {
	var out []string
	for _, p := range o.PidFiles {
		state := "removed"
		if p.Exists() {
			state = "kept"
		}
		out = append(out, fmt.Sprintf("%s %q %s", p.Name, maskPid(p.Content, o.daemonPIDs()...), state))
	}
	sort.Strings(out)
	return out
}

// daemonPIDs are the pids that count as o's daemon: DaemonPID, and with
// CompareOptions.PreDetach pppd's Started process.
func (o PPPDObservation) daemonPIDs() []int {
	if o.daemons == nil {
		return []int{o.DaemonPID}
	}
	return o.daemons
}

// maskPid replaces each decimal pid where it is a whole line or word.
func maskPid(s string, pids ...int) string {
	for _, pid := range pids {
		if pid <= 0 {
			continue
		}
		re := regexp.MustCompile(`\b` + strconv.Itoa(pid) + `\b`)
		s = re.ReplaceAllString(s, "<pid>")
	}
	return s
}

var hexDigit = regexp.MustCompile(`[0-9a-f]`)

// linkLocalForm is how a link-local address is written, its identifier's
// digits replaced by h: pppd writes four zero-padded groups
// (fe80::7545:2e85:0342:14bf is fe80::hhhh:hhhh:hhhh:hhhh), where RFC
// 5952 (and Go) would drop the zeros.
func linkLocalForm(s string) (string, bool) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || !a.IsLinkLocalUnicast() || !strings.HasPrefix(s, "fe80::") {
		return "", false
	}
	return "fe80::" + hexDigit.ReplaceAllString(s[len("fe80::"):], "h"), true
}

// sameValue compares one value of an argument or the environment.
func sameValue(name, w, g string, wantPIDs, gotPIDs []int) (bool, string) {
	switch {
	case name == "PPPD_PID":
		if !isPid(g, gotPIDs) {
			return false, fmt.Sprintf("pppoed %q is not its daemon's pid %v", g, gotPIDs)
		}
		if !isPid(w, wantPIDs) {
			return false, fmt.Sprintf("pppd %q is not its daemon's pid %v (harness)", w, wantPIDs)
		}
		return true, ""
	case slices.Contains(VolatileEnv, name):
		_, errW := strconv.ParseUint(w, 10, 64)
		_, errG := strconv.ParseUint(g, 10, 64)
		if errW != nil || errG != nil {
			return false, fmt.Sprintf("pppd %q, pppoed %q: want decimal numbers", w, g)
		}
		return true, ""
	}
	if fw, ok := linkLocalForm(w); ok {
		fg, _ := linkLocalForm(g)
		if fw != fg {
			return false, fmt.Sprintf("pppd %q (%s), pppoed %q (%s)", w, fw, g, orNone(fg))
		}
		return true, ""
	}
	if w != g {
		return false, fmt.Sprintf("pppd %q, pppoed %q", w, g)
	}
	return true, ""
}

// isPid reports whether s is one of pids in decimal.
func isPid(s string, pids []int) bool {
	return slices.ContainsFunc(pids, func(p int) bool { return s == strconv.Itoa(p) })
}

func orNone(s string) string {
	if s == "" {
		return "not a link-local address in that form"
	}
	return s
}

// familyEnv are the variables pppd sets when one family's protocol comes
// up (ipcp_up, ipv6cp_up). Its script environment accumulates, so a
// script of the other family has them only when that protocol was up
// first, which varies from run to run: their presence is compared only
// in the family's own scripts.
var familyEnv = map[int][]string{
	4: {"IPLOCAL", "IPREMOTE", "DNS1", "DNS2", "USEPEERDNS"},
	6: {"LLLOCAL", "LLREMOTE"},
}

// otherFamilyVar reports whether name belongs to the family other than
// fam's.
func otherFamilyVar(name string, fam int) bool {
	return slices.Contains(familyEnv[10-fam], name)
}

// compareCall compares two calls of one script. What races with the
// daemon is left out: the other family's state (addresses, variables,
// scripts running, /etc/ppp/resolv.conf), and in a down script whether the interface and the
// pid files were still there when the script got to look (the daemon
// goes on tearing down while the script starts). The own family's
// addresses are compared in every call: pppd removes them before it
// starts ip-down (ipcp_down), so a down script finds none.
func compareCall(name string, w, g ScriptCall, wo, gob PPPDObservation, opt CompareOptions) []string {
	var d []string
	add := func(format string, args ...any) { d = append(d, name+": "+fmt.Sprintf(format, args...)) }
	fam := w.Family()
	wantArgv0 := w.Argv0
	if m, ok := opt.Argv0[w.Argv0]; ok {
		wantArgv0 = m
	}
	if wantArgv0 != g.Argv0 {
		add("$0: pppd %q (so pppoed %q), pppoed %q", w.Argv0, wantArgv0, g.Argv0)
	}
	if len(w.Args) != len(g.Args) {
		add("arguments: pppd %q, pppoed %q", w.Args, g.Args)
	} else {
		for i := range w.Args {
			if ok, why := sameValue("", w.Args[i], g.Args[i], wo.daemonPIDs(), gob.daemonPIDs()); !ok {
				add("argument $%d: %s", i+1, why)
			}
		}
	}
	wn, gn := w.EnvNames(), g.EnvNames()
	for _, n := range wn {
		if !slices.Contains(gn, n) && !otherFamilyVar(n, fam) {
			v, _ := w.Getenv(n)
			add("environment: %s missing (pppd: %q)", n, v)
		}
	}
	for _, n := range gn {
		if !slices.Contains(wn, n) && !otherFamilyVar(n, fam) {
			v, _ := g.Getenv(n)
			add("environment: %s not set by pppd (pppoed: %q)", n, v)
		}
	}
	for _, n := range wn {
		if !slices.Contains(gn, n) {
			continue
		}
		wv, _ := w.Getenv(n)
		gv, _ := g.Getenv(n)
		if ok, why := sameValue(n, wv, gv, wo.daemonPIDs(), gob.daemonPIDs()); !ok {
			add("environment %s: %s", n, why)
		}
	}
	cmpBool := func(what string, a, b bool) {
		if a != b {
			add("%s: pppd %v, pppoed %v", what, a, b)
		}
	}
	if fam == 4 {
		cmpBool("IPv4 address on the interface", w.HasIPv4(), g.HasIPv4())
	} else {
		cmpBool("link-local IPv6 address on the interface", w.HasLinkLocal(), g.HasLinkLocal())
	}
	if !w.IsDown() {
		cmpBool("interface exists", w.LinkExists(), g.LinkExists())
		if wp, gp := callPidFiles(w, wo.daemonPIDs()), callPidFiles(g, gob.daemonPIDs()); !slices.Equal(wp, gp) {
			add("pid files as it began: pppd %q, pppoed %q", wp, gp)
		}
	}
	if opt.LinkFlags && !w.IsDown() {
		if wf, gf := w.LinkFlags(), g.LinkFlags(); !slices.Equal(wf, gf) {
			add("interface flags: pppd %q, pppoed %q", wf, gf)
		}
	}
	cmpBool("parent is the daemon", slices.Contains(wo.daemonPIDs(), w.PPID), slices.Contains(gob.daemonPIDs(), g.PPID))
	cmpBool("session leader", w.SID == w.PID, g.SID == g.PID)
	if w.Umask != g.Umask {
		add("umask: pppd %s, pppoed %s", w.Umask, g.Umask)
	}
	if w.Cwd != g.Cwd {
		add("working directory: pppd %q, pppoed %q", w.Cwd, g.Cwd)
	}
	if !slices.Equal(w.FDs, g.FDs) {
		add("open descriptors: pppd %q, pppoed %q", w.FDs, g.FDs)
	}
	if wr, gr := runningOf(w, fam), runningOf(g, fam); !slices.Equal(wr, gr) {
		add("scripts of IPv%d still running as it began: pppd %q, pppoed %q", fam, wr, gr)
	}
	// usepeerdns: pppd writes it as IPCP comes up, before ip-pre-up; an
	// IPv6 script may run before or after that.
	switch {
	case fam != 4:
	case (w.ResolvConf == nil) != (g.ResolvConf == nil):
		add("/etc/ppp/resolv.conf present: pppd %v, pppoed %v", w.ResolvConf != nil, g.ResolvConf != nil)
	case w.ResolvConf != nil && *w.ResolvConf != *g.ResolvConf:
		add("/etc/ppp/resolv.conf: pppd %q, pppoed %q", *w.ResolvConf, *g.ResolvConf)
	}
	return d
}

// runningOf lists the labels of the calls of family fam still running
// as c began, sorted.
func runningOf(c ScriptCall, fam int) []string {
	var out []string
	for _, r := range c.Running {
		if r.Family == fam {
			out = append(out, r.Label)
		}
	}
	sort.Strings(out)
	return out
}

func callPidFiles(c ScriptCall, pids []int) []string {
	var out []string
	for _, p := range c.PidFiles {
		out = append(out, p.Name+" "+strconv.Quote(maskPid(p.Content, pids...)))
	}
	sort.Strings(out)
	return out
}

// Format prints the observation for a test log.
func (o PPPDObservation) Format() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: daemon pid %d, interface %q, exit status %s\n", o.Impl, o.DaemonPID, o.Ifname, exitString(o.Exit))
	if o.Started > 0 && o.Started != o.DaemonPID {
		fmt.Fprintf(&b, "process started: pid %d\n", o.Started)
	}
	b.WriteString(FormatCalls(o.Calls, o.DaemonPID))
	if len(o.PidFiles) == 0 {
		b.WriteString("pid files: none\n")
	}
	for _, p := range o.PidFiles {
		fmt.Fprintf(&b, "pid file %s\n", p)
	}
	fmt.Fprintf(&b, "files created in /run: %q\n", o.RunFiles)
	for _, f := range o.Facts {
		fmt.Fprintf(&b, "%s: %s\n", f.Name, f.Value)
	}
	return b.String()
}

func exitString(code int) string {
	if code < 0 {
		return "not seen (detached)"
	}
	return strconv.Itoa(code)
}

// FormatCalls prints script calls with everything recorded.
func FormatCalls(calls []ScriptCall, daemon int) string {
	if len(calls) == 0 {
		return "scripts: none called\n"
	}
	var b strings.Builder
	t0 := calls[0].Begin
	for i, c := range calls {
		took := "still running"
		if c.Ended() {
			took = "took " + c.End.Sub(c.Begin).Round(time.Millisecond).String()
		}
		fmt.Fprintf(&b, "script %d: %s (IPv%d) at +%s, %s\n", i+1, c.Label, c.Family(), c.Begin.Sub(t0).Round(time.Millisecond), took)
		fmt.Fprintf(&b, "  $0 %q args %q\n", c.Argv0, c.Args)
		for _, kv := range c.Env {
			fmt.Fprintf(&b, "  env %s\n", kv)
		}
		fmt.Fprintf(&b, "  pid %d ppid %d (daemon: %v) sid %d pgid %d umask %s cwd %s fds %q\n",
			c.PID, c.PPID, c.PPID == daemon, c.SID, c.PGID, c.Umask, c.Cwd, c.FDs)
		fmt.Fprintf(&b, "  interface exists %v (flags %q), IPv4 %v, link-local %v; still running: %v\n",
			c.LinkExists(), c.LinkFlags(), c.HasIPv4(), c.HasLinkLocal(), c.Running)
		if c.Addr4 != "" {
			fmt.Fprintf(&b, "  ip -4: %s\n", squeeze(c.Addr4))
		}
		if c.Addr6 != "" {
			fmt.Fprintf(&b, "  ip -6: %s\n", squeeze(c.Addr6))
		}
		for _, p := range c.PidFiles {
			fmt.Fprintf(&b, "  /run/%s %q\n", p.Name, p.Content)
		}
		if c.ResolvConf != nil {
			fmt.Fprintf(&b, "  /etc/ppp/resolv.conf %q\n", *c.ResolvConf)
		}
	}
	return b.String()
}

var spaces = regexp.MustCompile(`\s+`)

func squeeze(s string) string { return spaces.ReplaceAllString(strings.ReplaceAll(s, `\`, " "), " ") }

// ---- discovery attempts on the wire

// PADIWatch hears the PADIs broadcast on an interface (the AC's side of
// the pair, where no AC runs): each is a discovery attempt of the client
// (with pppoe-padi-attempts 1), whatever its log says.
type PADIWatch struct {
	conn *packet.Conn
	done chan struct{}
	mu   sync.Mutex
	at   []time.Time
}

// WatchPADIs listens for PADIs on ifname in ns until s ends.
func WatchPADIs(s Scope, ns *Netns, ifname string) (*PADIWatch, error) {
	w := &PADIWatch{done: make(chan struct{})}
	err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		w.conn, err = packet.Listen(ifi, packet.Datagram, discovery.EtherTypeDiscovery, nil)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("lab: listening for PADIs on %s in %s: %w", ifname, ns.Name, err)
	}
	go w.loop()
	s.Cleanup(func() {
		w.conn.Close()
		<-w.done
	})
	return w, nil
}

func (w *PADIWatch) loop() {
	defer close(w.done)
	buf := make([]byte, 1600)
	for {
		n, _, err := w.conn.ReadFrom(buf)
		if err != nil {
			return // closed
		}
		// RFC 2516 §4: VER and TYPE (0x11), then CODE.
		if n >= 2 && buf[0] == 0x11 && discovery.Code(buf[1]) == discovery.CodePADI {
			w.mu.Lock()
			w.at = append(w.at, time.Now())
			w.mu.Unlock()
		}
	}
}

// Times are when each PADI was heard.
func (w *PADIWatch) Times() []time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.at)
}

// KillAll kills every process in n and waits until they are gone.
func (n *Netns) KillAll() error { return n.killAll() }
