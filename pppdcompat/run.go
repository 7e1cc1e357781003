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
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/pppoed/pppoed/client"
	"github.com/pppoed/pppoed/internal/peerlog"
	"github.com/pppoed/pppoed/pppox"
	"github.com/pppoed/pppoed/secrets"
)

// Version is what --version prints: pppd's version, which scripts test,
// then pppoed's.
const Version = "2.4.9"

// childEnv marks the process that detach started: it is the daemon, and
// its fd 3 (when present) is the pipe on which it tells its parent how
// the start went (updetach).
const childEnv = "PPPOED_PPPD_DAEMON"

// Main runs pppoed in pppd's place: args is the whole command line
// (args[0] is pppd's name), the result pppd's exit status. Output goes to
// stderr as pppd's does, prefixed "pppd: ".
func Main(args []string, stderr io.Writer, pppoedVersion string) int {
	env := SystemEnv()
	// pppd's messages start with its name as it was run (progname):
	// "/usr/sbin/pppd: In file ...".
	prog := args[0]
	o, err := Load(args[1:], env)
	if err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prog, peerlog.Escape(err.Error()))
		return client.ExitOptionError
	}
	if o.ShowVersion {
		fmt.Fprintf(stderr, "pppd version %s (pppoed %s)\n", Version, pppoedVersion)
		return client.ExitOK
	}
	if o.ShowHelp {
		usage(stderr, pppoedVersion)
		return client.ExitOptionError
	}
	if err := o.Check(); err != nil {
		fmt.Fprintf(stderr, "%s: %s\n", prog, peerlog.Escape(err.Error()))
		return client.ExitOptionError
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
		report = os.NewFile(3, "pppd-parent")
	}
	return run(o, env, stderr, daemon, report)
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
	cmd := &exec.Cmd{
		Path: self, Args: args, Env: append(os.Environ(), childEnv+"=1"),
		Stdin: null, Stdout: null, Stderr: null,
		ExtraFiles:  []*os.File{w},
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
func run(o *Options, env Env, stderr io.Writer, daemon bool, report *os.File) int {
	level := new(slog.LevelVar)
	if o.Debug {
		level.Set(slog.LevelDebug)
	}
	log, closeLog := openLog(o, level, stderr, daemon)
	defer closeLog()
	var reported bool
	tell := func(msg string) {
		if report != nil && !reported {
			reported = true
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
	cfg.OnMoment = func(m client.Moment) {
		sc.onMoment(m)
		if m.Kind == client.MomentIPv4Up || m.Kind == client.MomentIPv6Up {
			tell("up")
		}
	}

	ctx, sig, now, hangup, stopSignals := signals(level, log)
	defer stopSignals()
	cfg.StopNow, cfg.Hangup = now, hangup
	log.Info("pppd: pppoed in pppd's place", "version", Version, "interface", o.Interface, "user", o.User)
	err = client.Run(ctx, cfg)
	code := client.ExitCode(err)
	if err != nil {
		log.Error("pppd: " + err.Error())
	}
	code = pppdStatus(code, sig.terminated(), sig.hungUp())

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
func signals(level *slog.LevelVar, log *slog.Logger) (ctx context.Context, got received, now <-chan struct{}, hangup <-chan struct{}, stop func()) {
	signal.Ignore(syscall.SIGPIPE)
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGUSR1, syscall.SIGUSR2)
	nowc := make(chan struct{})
	hup := make(chan struct{}, 1)
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
	return ctx, got, nowc, hup, func() {
		signal.Stop(sigs)
		close(done)
		<-ended
		cancel()
	}
}

// openLog logs as pppd does: to the system log (as "pppd", facility
// daemon) once detached, to stderr in the foreground, and to the logfile
// if one is given.
func openLog(o *Options, level *slog.LevelVar, stderr io.Writer, daemon bool) (*slog.Logger, func()) {
	opts := &slog.HandlerOptions{Level: level}
	var hs []slog.Handler
	var closers []func()
	if daemon {
		if w, err := syslog.New(syslog.LOG_DAEMON|syslog.LOG_NOTICE, "pppd"); err == nil {
			hs = append(hs, slog.NewTextHandler(w, opts))
			closers = append(closers, func() { w.Close() })
		}
	} else {
		hs = append(hs, slog.NewTextHandler(stderr, opts))
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

func usage(w io.Writer, pppoedVersion string) {
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
`, Version, pppoedVersion, filepath.Base(os.Args[0]))
}
