package pppdcompat

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pppoed/pppoed/client"
	"github.com/pppoed/pppoed/status"
)

// scriptEnv is pppd's script_env: the whole environment of every script
// (pppd does not pass its own), built up as the session goes: names set
// once keep their place, as in pppd's array.
type scriptEnv struct {
	mu    sync.Mutex
	names []string
	vals  map[string]string
}

func (e *scriptEnv) set(name, val string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.vals == nil {
		e.vals = map[string]string{}
	}
	if _, ok := e.vals[name]; !ok {
		e.names = append(e.names, name)
	}
	e.vals[name] = val
}

func (e *scriptEnv) unset(name string) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if _, ok := e.vals[name]; !ok {
		return
	}
	delete(e.vals, name)
	for i, n := range e.names {
		if n == name {
			e.names = append(e.names[:i], e.names[i+1:]...)
			break
		}
	}
}

func (e *scriptEnv) list() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]string, 0, len(e.names))
	for _, n := range e.names {
		out = append(out, n+"="+e.vals[n])
	}
	return out
}

// scriptState is pppd's ipcp_script_state (and ipv6cp's): which of the
// up and down scripts ran last, so that down never overtakes up.
type scriptState uint8

const (
	scriptDown scriptState = iota // nothing ran, or the down script
	scriptUp                      // the up script ran (or runs)
)

// family is the scripts of one network protocol: IPv4's ip-up/ip-down or
// IPv6's ipv6-up/ipv6-down, run as pppd's ipcp_script and
// ipcp_script_done do: the up script is not waited for; the down script
// runs once the up script has finished (never both at once), and only if
// the up script ran.
type family struct {
	up, down string
	state    scriptState
	running  bool // a script of this family runs
	// isUp is whether the protocol is up now: when the up script ends
	// after the protocol went down, the down script follows.
	isUp bool
	args []string
}

// scripts runs pppd's scripts at the client's moments, with pppd's
// arguments and environment, and writes pppd's pid files.
type scripts struct {
	o   *Options
	log *slog.Logger
	env scriptEnv
	pid int

	pidDir string // /run, where pppd's _PATH_VARRUN points on Debian

	mu       sync.Mutex
	children sync.WaitGroup
	n        int // scripts running
	ip, ip6  family
	pidfile  string // /run/pppN.pid while the unit exists
	// demandLocal and demandPeer are pppN's IPv4 addresses with dial on
	// demand: the placeholders, then the last session's.
	demandLocal, demandPeer netip.Addr
	// readCounters reads pppN's counters (status.ReadCounters); tests
	// replace it.
	readCounters func(ifname string) (*status.Counters, error)
	// start starts a script (startScript); tests replace it.
	start func(path string, args, env []string) (proc, error)
	procs map[proc]string // the scripts running, and their paths
}

func newScripts(o *Options, log *slog.Logger) *scripts {
	s := &scripts{
		o: o, log: log, pid: os.Getpid(), pidDir: "/run",
		ip:           family{up: o.IPUpScript, down: o.IPDownScript},
		ip6:          family{up: o.IPv6UpScript, down: o.IPv6DownScript},
		readCounters: status.ReadCounters,
		start:        startScript,
	}
	return s
}

// initEnv sets what pppd puts in script_env before dialling, in its
// order (seen with pppd 2.4.9): ORIG_UID as it starts, CALL_FILE as it
// reads the options, PPPD_PID as it detaches, then PPPLOGNAME, DEVICE
// and PPPD_PID again (in place), LINKNAME.
func (s *scripts) initEnv(login string, uid int, detached bool) {
	s.env.set("ORIG_UID", strconv.Itoa(uid))
	if s.o.CallFile != "" {
		s.env.set("CALL_FILE", s.o.CallFile)
	}
	if detached {
		s.env.set("PPPD_PID", strconv.Itoa(s.pid))
	}
	s.env.set("PPPLOGNAME", login)
	s.env.set("DEVICE", s.o.Interface)
	s.env.set("PPPD_PID", strconv.Itoa(s.pid))
	if s.o.Linkname != "" {
		s.env.set("LINKNAME", s.o.Linkname)
	}
}

// environ is a script's whole environment: script_env, then the
// variables of the set and unset options, which pppd keeps apart and
// puts last (update_script_environment).
func (s *scripts) environ() []string {
	env := s.env.list()
	var user scriptEnv
	for _, kv := range s.o.Env {
		name, val, ok := strings.Cut(kv, "=")
		if !ok {
			user.unset(name)
			continue
		}
		user.set(name, val)
	}
	for _, kv := range user.list() {
		name, _, _ := strings.Cut(kv, "=")
		env = slices.DeleteFunc(env, func(e string) bool { return strings.HasPrefix(e, name+"=") })
		env = append(env, kv)
	}
	for _, name := range s.o.Unset {
		env = slices.DeleteFunc(env, func(e string) bool { return strings.HasPrefix(e, name+"=") })
	}
	return env
}

// onMoment is client.Config.OnMoment.
func (s *scripts) onMoment(m client.Moment) {
	switch m.Kind {
	case client.MomentLinkUp:
		// A new link's scripts do not see the last one's totals (seen
		// with pppd 2.4.9 redialling after SIGHUP).
		for _, n := range []string{"CONNECT_TIME", "BYTES_SENT", "BYTES_RCVD"} {
			s.env.unset(n)
		}
		s.env.set("MACREMOTE", macString(m.AC)) // the plugin's, at the PADS
		s.env.set("IFNAME", m.Ifname)
		s.env.set("UNIT", strconv.Itoa(m.Unit))
		s.writePidFiles(m)
	case client.MomentDemandReady:
		// pppd's demand_conf: the unit and its pid file before any
		// traffic, and ip-pre-up once, with no addresses yet (seen:
		// "ppp0 IF 0 0.0.0.0 0.0.0.0", no IPLOCAL, pppN not up).
		s.env.set("IFNAME", m.Ifname)
		s.env.set("UNIT", strconv.Itoa(m.Unit))
		s.writePidFiles(m)
		s.demandLocal, s.demandPeer = m.Local, m.Peer
		s.runWait(s.o.IPPreUpScript, s.withParam(m.Ifname, s.o.Interface, "0", "0.0.0.0", "0.0.0.0"))
	case client.MomentIPv4PreUp:
		s.setIPv4(m)
		s.runWait(s.o.IPPreUpScript, s.ipArgs(m))
	case client.MomentIPv4Up:
		if s.o.Demand {
			s.oldAddresses(m)
		}
		s.setIPv4(m)
		s.up(&s.ip, s.ipArgs(m))
	case client.MomentIPv4Down:
		s.linkStats(m)
		s.down(&s.ip)
	case client.MomentIPv6Up:
		s.env.set("LLLOCAL", llv6(m.LLLocal))
		s.env.set("LLREMOTE", llv6(m.LLPeer))
		s.up(&s.ip6, s.ip6Args(m))
	case client.MomentIPv6Down:
		s.linkStats(m)
		s.down(&s.ip6)
	case client.MomentLinkDown:
		// link_terminated: "Delete pid files before disestablishing
		// ppp", unless the unit stays (demand).
		if !s.o.Demand {
			s.removePidFiles()
			// The unit is gone: a down script that starts only now
			// (it waited for its up script) has no IFNAME, as from
			// pppd.
			s.env.unset("IFNAME")
		}
	}
}

func (s *scripts) setIPv4(m client.Moment) {
	s.env.set("IPLOCAL", m.Local.String())
	s.env.set("IPREMOTE", m.Peer.String())
	if s.o.UsePeerDNS && len(m.DNS) > 0 {
		for i, d := range m.DNS[:min(len(m.DNS), 2)] {
			s.env.set("DNS"+strconv.Itoa(i+1), d.String())
		}
		s.env.set("USEPEERDNS", "1")
	}
}

// oldAddresses is pppd's ipcp_up in demand mode: when IPCP gave other
// addresses than pppN had (the placeholders, or the last session's),
// OLDIPLOCAL and OLDIPREMOTE name the replaced ones, each set only if it
// changed and unset otherwise; with neither changed, both stay as they
// were.
func (s *scripts) oldAddresses(m client.Moment) {
	if m.Local == s.demandLocal && m.Peer == s.demandPeer {
		return
	}
	if m.Local != s.demandLocal {
		s.env.set("OLDIPLOCAL", s.demandLocal.String())
		s.demandLocal = m.Local
	} else {
		s.env.unset("OLDIPLOCAL")
	}
	if m.Peer != s.demandPeer && s.demandPeer.IsValid() {
		s.env.set("OLDIPREMOTE", s.demandPeer.String())
		s.demandPeer = m.Peer
	} else {
		s.env.unset("OLDIPREMOTE")
	}
}

// linkStats sets what pppd's update_link_stats does as a protocol goes
// down: the time connected and pppN's byte counts.
func (s *scripts) linkStats(m client.Moment) {
	if !m.Start.IsZero() {
		s.env.set("CONNECT_TIME", strconv.Itoa(int(time.Since(m.Start).Seconds())))
	}
	if c, err := s.readCounters(m.Ifname); err == nil {
		s.env.set("BYTES_SENT", strconv.FormatUint(c.TxBytes, 10))
		s.env.set("BYTES_RCVD", strconv.FormatUint(c.RxBytes, 10))
	}
}

// ipArgs are ipcp_script's arguments: interface, device, speed (0 on
// PPPoE), local and remote address, and ipparam only when it is set.
func (s *scripts) ipArgs(m client.Moment) []string {
	return s.withParam(m.Ifname, s.o.Interface, "0", m.Local.String(), m.Peer.String())
}

// ip6Args are ipv6cp_script's: the link-local addresses instead.
func (s *scripts) ip6Args(m client.Moment) []string {
	return s.withParam(m.Ifname, s.o.Interface, "0", llv6(m.LLLocal), llv6(m.LLPeer))
}

func (s *scripts) withParam(args ...string) []string {
	if s.o.IPParam != "" {
		args = append(args, s.o.IPParam)
	}
	return args
}

// llv6 writes a link-local address as pppd's llv6_ntoa does: fe80:: and
// the interface identifier in four zero-padded groups
// (fe80::7545:2e85:0342:14bf), which netip would shorten.
func llv6(a netip.Addr) string {
	b := a.As16()
	return fmt.Sprintf("fe80::%02x%02x:%02x%02x:%02x%02x:%02x%02x", b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15])
}

func (s *scripts) up(f *family, args []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.isUp, f.args = true, args
	if f.state == scriptDown && !f.running {
		f.state = scriptUp
		s.runFamily(f, f.up)
	}
}

func (s *scripts) down(f *family) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f.isUp = false
	if f.state == scriptUp && !f.running {
		f.state = scriptDown
		s.runFamily(f, f.down)
	}
}

// runFamily starts one of f's scripts without waiting; when it ends, the
// other follows if the protocol changed state meanwhile (pppd's
// ipcp_script_done). s.mu is held.
func (s *scripts) runFamily(f *family, path string) {
	wait, ok := s.spawn(path, f.args, s.environ())
	if !ok {
		return
	}
	f.running = true
	go func() {
		_ = wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		f.running = false
		switch {
		case f.state == scriptUp && !f.isUp:
			f.state = scriptDown
			s.runFamily(f, f.down)
		case f.state == scriptDown && f.isUp:
			f.state = scriptUp
			s.runFamily(f, f.up)
		}
		s.finished()
	}()
}

// runWait runs a script and waits for it (pppd's ip-pre-up).
func (s *scripts) runWait(path string, args []string) {
	s.mu.Lock()
	wait, ok := s.spawn(path, args, s.environ())
	s.mu.Unlock()
	if !ok {
		return
	}
	_ = wait()
	s.mu.Lock()
	s.finished()
	s.mu.Unlock()
}

// proc is a script started (*exec.Cmd's Wait, and a signal at exit).
type proc interface {
	Wait() error
	Terminate()
}

// spawn starts path if it is an executable regular file (pppd's
// run_program skips anything else without a word); s.mu is held.
func (s *scripts) spawn(path string, args, env []string) (wait func() error, ok bool) {
	if path == "" {
		return nil, false
	}
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return nil, false
	}
	p, err := s.start(path, args, env)
	if err != nil {
		s.log.Warn("pppd: could not run script", "script", path, "err", err)
		return nil, false
	}
	s.log.Info("pppd: script started", "script", path)
	if s.procs == nil {
		s.procs = map[proc]string{}
	}
	s.procs[p] = path
	s.n++
	s.children.Add(1)
	return func() error {
		err := p.Wait()
		if err != nil {
			s.log.Warn("pppd: script finished", "script", path, "err", err)
		} else {
			s.log.Info("pppd: script finished", "script", path)
		}
		s.mu.Lock()
		delete(s.procs, p)
		s.mu.Unlock()
		return err
	}, true
}

func (s *scripts) finished() {
	s.n--
	s.children.Done()
}

// waitChildren waits up to timeout for the scripts still running, as pppd
// does at exit (child-timeout); it reports whether they all ended.
func (s *scripts) waitChildren(timeout time.Duration) bool {
	s.mu.Lock()
	n := s.n
	s.mu.Unlock()
	if n == 0 {
		return true
	}
	s.log.Info(fmt.Sprintf("pppd: waiting for %d child processes...", n))
	done := make(chan struct{})
	go func() { s.children.Wait(); close(done) }()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	select {
	case <-done:
		return true
	case <-ctx.Done():
		// As pppd once child-timeout has passed: SIGTERM to each.
		s.mu.Lock()
		for p, path := range s.procs {
			s.log.Warn("pppd: script still running at exit: sending SIGTERM", "script", path, "timeout", timeout.String())
			p.Terminate()
		}
		s.mu.Unlock()
		return false
	}
}

// startScript runs a script as pppd's run_program does: its own session
// (setsid), in /, stdin, stdout and stderr on /dev/null, umask 077, the
// environment only script_env, argv[0] the script's path. Go cannot set
// a child's umask between fork and exec, so the child is this program
// again (ScriptExecArg), which sets it and execs the script.
func startScript(path string, args, env []string) (proc, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(self, append([]string{ScriptExecArg, path}, args...)...)
	cmd.Env, cmd.Dir = env, "/"
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	return cmdProc{cmd}, nil
}

type cmdProc struct{ *exec.Cmd }

func (c cmdProc) Terminate() { _ = c.Process.Signal(syscall.SIGTERM) }

// ScriptExecArg, as the first argument, makes the program set umask 077
// and exec the script named by the second (ExecScript): the main
// function of every program that runs Main must call ExecScript first.
const ScriptExecArg = "--pppoed-exec-script"

// ExecScript is the child startScript starts: args are its arguments
// after ScriptExecArg, the script's path first. It returns only if the
// exec failed, with the exit status to use (127, as a shell).
func ExecScript(args []string, stderr io.Writer) int {
	if len(args) == 0 {
		return 127
	}
	syscall.Umask(0o077)
	err := syscall.Exec(args[0], args, os.Environ())
	fmt.Fprintf(stderr, "pppd: %s: %v\n", args[0], err)
	return 127
}

// writePidFiles writes /run/IFNAME.pid ("PID\n") and, with linkname,
// /run/ppp-LINKNAME.pid ("PID\nIFNAME\n"), as pppd's create_pidfile and
// create_linkpidfile do once the unit exists.
func (s *scripts) writePidFiles(m client.Moment) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pidfile = fmt.Sprintf("%s/%s.pid", s.pidDir, m.Ifname)
	if err := writePidFile(s.pidfile, fmt.Sprintf("%d\n", s.pid)); err != nil {
		s.log.Warn("pppd: " + err.Error())
		s.pidfile = ""
	}
	if s.o.Linkname != "" {
		if err := writePidFile(s.linkPidfile(), fmt.Sprintf("%d\n%s\n", s.pid, m.Ifname)); err != nil {
			s.log.Warn("pppd: " + err.Error())
		}
	}
}

func (s *scripts) linkPidfile() string {
	return fmt.Sprintf("%s/ppp-%s.pid", s.pidDir, s.o.Linkname)
}

// removePidFiles removes both: when the link ends, and at exit.
func (s *scripts) removePidFiles() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pidfile == "" {
		return
	}
	_ = os.Remove(s.pidfile)
	s.pidfile = ""
	if s.o.Linkname != "" {
		_ = os.Remove(s.linkPidfile())
	}
}

// writePidFile writes path as pppd's create_pidfile does: in place (no
// temporary file beside it in /run), readable by all.
func writePidFile(path, content string) error {
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// macString is the AC's MAC as pppd's rp-pppoe plugin writes MACREMOTE:
// upper case.
func macString(mac net.HardwareAddr) string { return strings.ToUpper(mac.String()) }
