package pppdcompat

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"os"
	"os/exec"
	"os/signal"
	"os/user"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pppoed/pppoed/client"
	"github.com/pppoed/pppoed/internal/peerlog"
	"github.com/pppoed/pppoed/internal/procmem"
	"github.com/pppoed/pppoed/pppox"
	"github.com/pppoed/pppoed/secrets"
	"github.com/pppoed/pppoed/systemd"
)

// Version is what --version prints: pppd's version, which scripts test,
// then pppoed's.
const Version = "2.4.9"

// childEnv marks the process that detach started: it is the daemon, and
// its fd 3 (when present) is the pipe on which it tells its parent how
// the start went (updetach).
const childEnv = "PPPOED_PPPD_DAEMON"

// Main runs pppoed in pppd's place: args is the whole command line
// (args[0] is pppd's name), the result pppd's exit status. Messages go to
// stderr as pppd's do, prefixed with args[0]; --version and --help print
// on stdout.
func Main(args []string, stdout, stderr io.Writer, pppoedVersion string) int {
	return mainEnv(args, stdout, stderr, pppoedVersion, SystemEnv())
}

// mainEnv is Main on env (tests give fakes).
func mainEnv(args []string, stdout, stderr io.Writer, pppoedVersion string, env Env) int {
	// pppd's messages start with its name as it was run (progname):
	// "/usr/sbin/pppd: In file ...".
	prog := args[0]
	if os.Getuid() != os.Geteuid() {
		// pppd is often setuid root for the dip group; pppoed is not
		// meant to be (it would have to open user-named files, such
		// as a logfile, with the user's rights): root runs it.
		fmt.Fprintf(stderr, "%s: pppoed must not be setuid: run it as root\n", prog)
		return client.ExitNotRoot
	}
	o, err := Load(args[1:], env)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prog, peerlog.Escape(err.Error()))
		var pe *Error
		if errors.As(err, &pe) && pe.Usage {
			// pppd prints its usage after an unrecognized option on
			// the command line.
			usage(stderr, prog, pppoedVersion)
		}
		return client.ExitOptionError
	}
	if o.ShowVersion {
		fmt.Fprintf(stdout, "pppd version %s (pppoed %s)\n", Version, pppoedVersion)
		return client.ExitOK
	}
	if o.ShowHelp {
		usage(stderr, prog, pppoedVersion) // pppd: its usage on stderr, status 0
		return client.ExitOK
	}
	if err := o.Check(); err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prog, peerlog.Escape(err.Error()))
		return client.ExitOptionError
	}
	// What the options come to is checked before pppd would detach, so
	// that its errors reach the caller (the daemon checks again).
	if _, err := o.clientConfig(credentials{}, slog.New(slog.DiscardHandler)); err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prog, peerlog.Escape(err.Error()))
		return client.ExitOptionError
	}
	if o.Dump || o.Dryrun {
		dump(stdout, o)
		if o.Dryrun {
			return client.ExitOK
		}
	}
	daemon := os.Getenv(childEnv) != ""
	if !daemon && o.Detach != NoDetach {
		// pppd checks the kernel and its privileges before it detaches
		// (sys_check_options, ppp_available): their statuses reach the
		// caller.
		if code, err := preflight(); err != nil {
			fmt.Fprintf(stderr, "%s: %s\n", prog, peerlog.Escape(err.Error()))
			return code
		}
		return detach(os.Args, o.Detach, stderr)
	}
	os.Unsetenv(childEnv)
	var report *os.File
	if daemon {
		// fd 3 is the pipe to the parent (detach); no script may
		// inherit it, and only updetach's parent reads it.
		syscall.CloseOnExec(3)
		report = os.NewFile(3, "pppd-parent")
		if o.Detach != UpDetach {
			report.Close()
			report = nil
		}
	}
	return run(o, stdout, stderr, daemon, report)
}

// preflight is what pppd refuses before it detaches: no PPP in the
// kernel, no privileges.
func preflight() (int, error) {
	s, err := pppox.OpenSocket()
	if err != nil {
		switch {
		case errors.Is(err, pppox.ErrNoKernelSupport):
			return client.ExitNoKernelSupport, err
		case errors.Is(err, pppox.ErrPermission):
			return client.ExitNotRoot, err
		}
		return client.ExitFatal, err
	}
	s.Close()
	return 0, nil
}

// detach starts the daemon, the same program with the same arguments,
// argv the process's own (so that ps, pidof and poff see pppd as ever,
// and `pppoed pppd ...` stays that) in a session of its own
// with its standard files on /dev/null, as pppd's detach does. pppd with
// updetach detaches once the first network protocol is up: the parent
// waits until the daemon says so and exits 0, or exits with the daemon's
// status if it ends before.
func detach(args []string, mode Detach, stderr io.Writer) int {
	self, err := executable(args[0])
	if err != nil {
		fmt.Fprintf(stderr, "pppd: %v\n", err)
		return client.ExitFatal
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintf(stderr, "pppd: %v\n", err)
		return client.ExitFatal
	}
	defer null.Close()
	r, w, err := os.Pipe()
	if err != nil {
		fmt.Fprintf(stderr, "pppd: %v\n", err)
		return client.ExitFatal
	}
	// With updetach pppd is in the foreground, logging on stdout, until
	// the link is up: the daemon keeps our stdout and stderr until then.
	out, errOut := null, null
	if mode == UpDetach {
		out, errOut = os.Stdout, os.Stderr
	}
	cmd := &exec.Cmd{
		Path: self, Args: args, Env: append(os.Environ(), childEnv+"=1"),
		Stdin: null, Stdout: out, Stderr: errOut,
		ExtraFiles:  []*os.File{w},
		Dir:         "/", // as pppd's detach: chdir("/")
		SysProcAttr: &syscall.SysProcAttr{Setsid: true},
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(stderr, "pppd: starting the daemon: %v\n", err)
		return client.ExitFatal
	}
	w.Close()
	defer r.Close()
	if mode != UpDetach {
		_ = cmd.Process.Release()
		return client.ExitOK
	}
	// The daemon writes "up\n" once a network protocol is up, or
	// "exit N\n" as it ends; EOF without either is a crash.
	b, _ := io.ReadAll(io.LimitReader(r, 64))
	msg := strings.TrimSpace(string(b))
	if msg == "up" || strings.HasPrefix(msg, "up\n") {
		_ = cmd.Process.Release()
		return client.ExitOK
	}
	if n, ok := strings.CutPrefix(msg, "exit "); ok {
		if code, err := strconv.Atoi(n); err == nil {
			_ = cmd.Wait()
			return code
		}
	}
	_ = cmd.Wait()
	if cmd.ProcessState != nil && cmd.ProcessState.Exited() {
		return cmd.ProcessState.ExitCode()
	}
	return client.ExitFatal
}

// detachStdio points standard input, output and error at /dev/null.
func detachStdio() {
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return
	}
	defer null.Close()
	for fd := range 3 {
		_ = syscall.Dup2(int(null.Fd()), fd)
	}
}

// executable is the path the daemon is started from: the one this process
// was started as, so that its name (pidof's) stays pppd.
func executable(argv0 string) (string, error) {
	if strings.Contains(argv0, "/") {
		return argv0, nil
	}
	if p, err := exec.LookPath(argv0); err == nil {
		return p, nil
	}
	p, err := os.Executable()
	if err != nil {
		return "", fmt.Errorf("cannot find my own program to detach: %w", err)
	}
	return p, nil
}

// run is the daemon (or pppd in the foreground): it dials as the options
// say until stopped, and returns pppd's exit status.
func run(o *Options, stdout, stderr io.Writer, daemon bool, report *os.File) int {
	level := new(slog.LevelVar)
	if o.Debug {
		level.Set(slog.LevelDebug)
	}
	// An updetach daemon logs as pppd in the foreground until it is up.
	log, closeLog := openLog(o, level, stdout, stderr, daemon && o.Detach != UpDetach)
	defer closeLog()
	var reported bool
	tell := func(msg string) {
		if report != nil && !reported {
			reported = true
			if msg == "up" {
				// Detached now: the caller's terminal or pipe is let
				// go, as pppd's detach reopens 0, 1, 2 on /dev/null.
				detachStdio()
			}
			fmt.Fprintln(report, msg)
			report.Close()
		}
	}
	cred, err := o.credentials(secrets.DefaultPAPFile, secrets.DefaultCHAPFile, log)
	if err != nil {
		log.Error("pppd: " + err.Error())
		tell("exit " + strconv.Itoa(client.ExitOptionError))
		return client.ExitOptionError
	}
	cfg, err := o.clientConfig(cred, log)
	if err != nil {
		log.Error("pppd: " + err.Error())
		tell("exit " + strconv.Itoa(client.ExitOptionError))
		return client.ExitOptionError
	}
	sc := newScripts(o, log)
	login, uid := loginName()
	sc.initEnv(login, uid, daemon)
	defer sc.removePidFiles()
	// SIGHUP and maxconnect both hang the session up.
	hangup := make(chan struct{}, 1)
	mc := &maxConnect{limit: o.MaxConnect, hangup: hangup, log: log}
	var notify *systemd.Notifier
	if o.SdNotify {
		notify = systemd.New()
	}
	cfg.OnSettled = procmem.Settled(log)
	cfg.OnMoment = func(m client.Moment) {
		sc.onMoment(m)
		switch m.Kind {
		case client.MomentIPv4Up, client.MomentIPv6Up:
			tell("up")
			mc.start()
			if notify != nil {
				_ = notify.Notify("READY=1", "STATUS=connected: "+m.Ifname)
			}
		case client.MomentLinkDown:
			mc.stop()
		}
	}

	ctx, sig, now, stopSignals := signals(level, log, hangup)
	defer stopSignals()
	cfg.StopNow, cfg.Hangup = now, hangup
	log.Info("pppd: pppoed in pppd's place", "version", Version, "interface", o.Interface, "user", o.User)
	for _, w := range o.Warnings {
		log.Warn("pppd: " + w)
	}
	err = client.Run(ctx, cfg)
	code := client.ExitCode(err)
	if err != nil {
		log.Error("pppd: " + err.Error())
	}
	code = pppdStatus(code, sig.terminated(), sig.hungUp())
	if mc.fired() && code == client.ExitHangup {
		code = exitConnectTime
	}

	sc.waitChildren(o.ChildTimeout)
	tell("exit " + strconv.Itoa(code))
	log.Info("pppd: exit", "status", code)
	return code
}

// pppdStatus turns the client's exit status into the one pppd 2.4.9 gives
// in the same case (seen in the VM against pppoe-server):
//   - stopped by SIGTERM or SIGINT: EXIT_USER_REQUEST (5), whatever the
//     session made of it (pppd's term() sets it);
//   - hung up by SIGHUP without persist: 5 as well, not EXIT_HANGUP
//     (main.c: "if (status != EXIT_HANGUP) status = EXIT_USER_REQUEST");
//   - the peer dead (lcp-echo-failure): EXIT_HANGUP (16), not
//     EXIT_PEER_DEAD: once the link is terminated the PPPoE channel reads
//     end of file ("Modem hangup"), which sets it over 15.
func pppdStatus(code int, terminated, hungUp bool) int {
	switch {
	case terminated:
		return client.ExitUserRequest
	case hungUp && code == client.ExitHangup:
		return client.ExitUserRequest
	case code == client.ExitPeerDead:
		return client.ExitHangup
	}
	return code
}

// exitConnectTime is pppd's EXIT_CONNECT_TIME: maxconnect ended the link.
const exitConnectTime = 13

// maxConnect is pppd's maxconnect: the session is hung up that long after
// its first network protocol came up.
type maxConnect struct {
	limit  time.Duration
	hangup chan struct{}
	log    *slog.Logger

	mu    sync.Mutex
	timer *time.Timer
	done  atomic.Bool
}

func (m *maxConnect) start() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.limit <= 0 || m.timer != nil {
		return
	}
	m.timer = time.AfterFunc(m.limit, func() {
		m.log.Info("pppd: connect time expired (maxconnect)", "limit", m.limit.String())
		m.done.Store(true)
		select {
		case m.hangup <- struct{}{}:
		default:
		}
	})
}

func (m *maxConnect) stop() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.timer != nil {
		m.timer.Stop()
		m.timer = nil
	}
}

func (m *maxConnect) fired() bool { return m.done.Load() }

// received reports the signals that change pppd's exit status.
type received struct{ term, hup chan struct{} }

func (r received) terminated() bool { return closed(r.term) }
func (r received) hungUp() bool     { return closed(r.hup) }

func closed(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// signals are pppd's: SIGTERM and SIGINT stop (a second stops without
// waiting for the peer), SIGHUP hangs up (and, with persist, redials),
// SIGUSR1 toggles debug logging, SIGUSR2 (renegotiate compression) has
// nothing to do. SIGPIPE is ignored.
func signals(level *slog.LevelVar, log *slog.Logger, hup chan struct{}) (ctx context.Context, got received, now <-chan struct{}, stop func()) {
	signal.Ignore(syscall.SIGPIPE)
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	nowc := make(chan struct{})
	done, ended := make(chan struct{}), make(chan struct{})
	var terms int
	got = received{term: make(chan struct{}), hup: make(chan struct{})}
	go func() {
		defer close(ended)
		for {
			select {
			case sig := <-sigs:
				switch sig {
				case syscall.SIGTERM, syscall.SIGINT:
					terms++
					switch terms {
					case 1:
						log.Info("pppd: terminating on signal", "signal", sig.String())
						close(got.term)
						cancel()
					case 2:
						close(nowc)
					}
				case syscall.SIGHUP:
					log.Info("pppd: hangup (SIGHUP)")
					if !closed(got.hup) {
						close(got.hup)
					}
					select {
					case hup <- struct{}{}:
					default:
					}
				case syscall.SIGUSR1:
					if level.Level() == slog.LevelDebug {
						level.Set(slog.LevelInfo)
						log.Info("pppd: debug logging off (SIGUSR1)")
					} else {
						level.Set(slog.LevelDebug)
						log.Info("pppd: debug logging on (SIGUSR1)")
					}
				case syscall.SIGUSR2:
					log.Info("pppd: SIGUSR2: no compression to renegotiate on PPPoE")
				}
			case <-done:
				return
			}
		}
	}()
	return ctx, got, nowc, func() {
		signal.Stop(sigs)
		close(done)
		<-ended
		cancel()
	}
}

// openLog logs as pppd does: to the system log (as "pppd", facility
// daemon), to the log fd in the foreground (logfd: stdout by default),
// and to the logfile if one is given.
func openLog(o *Options, level *slog.LevelVar, stdout, stderr io.Writer, daemon bool) (*slog.Logger, func()) {
	opts := &slog.HandlerOptions{Level: level}
	var hs []slog.Handler
	var closers []func()
	if w, err := syslog.New(syslog.LOG_DAEMON|syslog.LOG_NOTICE, "pppd"); err == nil {
		hs = append(hs, slog.NewTextHandler(w, opts))
		closers = append(closers, func() { w.Close() })
	}
	if !daemon {
		switch o.LogFD {
		case 1:
			hs = append(hs, slog.NewTextHandler(stdout, opts))
		case 2:
			hs = append(hs, slog.NewTextHandler(stderr, opts))
		case -1:
		default:
			if f := os.NewFile(uintptr(o.LogFD), "logfd"); f != nil {
				hs = append(hs, slog.NewTextHandler(f, opts))
			}
		}
	}
	if o.Logfile != "" {
		f, err := os.OpenFile(o.Logfile, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err == nil {
			hs = append(hs, slog.NewTextHandler(f, opts))
			closers = append(closers, func() { f.Close() })
		} else if !daemon {
			fmt.Fprintf(stderr, "pppd: logfile: %v\n", err)
		}
	}
	return slog.New(slog.NewMultiHandler(hs...)), func() {
		for _, c := range closers {
			c()
		}
	}
}

// loginName is pppd's PPPLOGNAME: the login name of the user who ran it,
// and that user's id (ORIG_UID).
func loginName() (string, int) {
	uid := os.Getuid()
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		return u.Username, uid
	}
	return strconv.Itoa(uid), uid
}

// dump prints the options in effect (dump, dryrun), the password hidden.
func dump(w io.Writer, o *Options) {
	c := *o
	if c.Password != "" {
		c.Password = "??????"
	}
	v := reflect.ValueOf(c)
	for i := range v.NumField() {
		f := v.Field(i)
		if !f.IsValid() || f.IsZero() || v.Type().Field(i).Name == "Warnings" {
			continue
		}
		fmt.Fprintf(w, "%s: %v\n", v.Type().Field(i).Name, f.Interface())
	}
}

func usage(w io.Writer, prog, pppoedVersion string) {
	fmt.Fprintf(w, `pppd version %s (pppoed %s): pppoed in pppd's place, for PPPoE
Usage: %s [ options ], where options are:
	plugin rp-pppoe.so nic-IF	Use PPPoE on Ethernet interface IF
	call <name>	Read options from /etc/ppp/peers/<name>
	file <file>	Read options from <file>
	user <name>	Authenticate as <name>
	persist		Redial after the link goes down
	nodetach	Stay in the foreground
	debug		Log every control packet
See pppd(8); the options pppoed supports are listed in its README ("Replacing pppd").
`, Version, pppoedVersion, prog)
}
