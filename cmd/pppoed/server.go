package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/netip"
	"os"
	"os/signal"
	runtimedebug "runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/pppoed/pppoed/client"
	"github.com/pppoed/pppoed/config"
	"github.com/pppoed/pppoed/internal/peerlog"
	"github.com/pppoed/pppoed/metrics"
	"github.com/pppoed/pppoed/pppox"
	"github.com/pppoed/pppoed/server"
	"github.com/pppoed/pppoed/status"
	"github.com/pppoed/pppoed/systemd"
	"github.com/urfave/cli/v3"
)

func serverCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:         "server",
		Usage:        "run the PPPoE access concentrator (SIGHUP re-reads the users and secrets; SIGINT or SIGTERM ends every session and stops)",
		OnUsageError: onUsageError,
		Flags: []cli.Flag{
			configFlag(),
			&cli.BoolFlag{Name: "debug", Usage: "log every discovery and PPP packet, as pppd's debug option does"},
		},
		Commands: []*cli.Command{
			serverStatusCommand(stdout),
			serverKickCommand(stdout),
			serverCheckCommand(stdout, stderr),
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() > 0 {
				return usageError("no server command %q (want status, kick or check; pppoed server --help)", cmd.Args().First())
			}
			return runServer(ctx, cmd.String("config"), cmd.Bool("debug"), stderr)
		},
	}
}

func configFlag() cli.Flag {
	return &cli.StringFlag{Name: "config", Usage: "the server's TOML `FILE`", Value: server.DefaultConfigFile}
}

func socketFlag() cli.Flag {
	return &cli.StringFlag{Name: "socket", Usage: "the server's control socket `PATH`", Value: server.DefaultControlSocket}
}

// serverGCPercent is pppoed server's GOGC unless the environment sets one.
const serverGCPercent = 50

// loadServerConfig reads the file; a bad one is a bad option (exit 2).
func loadServerConfig(path string, log *slog.Logger) (*server.Config, error) {
	cfg, err := config.LoadServer(path, log)
	if err != nil {
		return nil, &client.ExitError{Code: client.ExitOptionError, Err: err}
	}
	return cfg, nil
}

// runServer runs the access concentrator until SIGINT or SIGTERM, with its
// control socket (unless control-socket = "-") and, under systemd,
// READY=1, WATCHDOG=1 and STOPPING=1.
func runServer(ctx context.Context, path string, debug bool, stderr io.Writer) error {
	log := logger(stderr, debug)
	cfg, err := loadServerConfig(path, log)
	if err != nil {
		return err
	}
	cfg.Debug, cfg.Logger = debug, log
	if os.Getenv("GOGC") == "" {
		// The AC's heap is its sessions' state, long-lived, with little
		// garbage (a few echoes a session a minute): collecting at half
		// the live heap instead of all of it keeps the resident set near
		// what the sessions need, for little CPU. Measured in the VM at
		// N=1000: 19.9 KiB of RSS a session with the default (100).
		runtimedebug.SetGCPercent(serverGCPercent)
	}
	n := systemd.New()
	if n != nil {
		// Ready once every interface is served (Run calls it), after the
		// control socket below is listening.
		cfg.Ready = func() { n.Notify(systemd.Ready, systemd.Status("serving")) }
	}
	srv, err := server.New(*cfg)
	if err != nil {
		return &client.ExitError{Code: client.ExitOptionError, Err: err}
	}
	if cfg.ControlSocket != "-" {
		sock := cfg.ControlSocket
		if sock == "" {
			sock = server.DefaultControlSocket
		}
		ctl, err := server.ListenControl(sock, srv, log)
		if err != nil {
			if errors.Is(err, status.ErrInUse) {
				return &client.ExitError{Code: client.ExitFatal, Err: err}
			}
			return &client.ExitError{Code: client.ExitOpenFailed, Err: err}
		}
		defer ctl.Close()
	}
	if cfg.MetricsListen != "" {
		ml, err := metrics.Listen(cfg.MetricsListen, srv.Metrics(), log)
		if err != nil {
			return &client.ExitError{Code: client.ExitOpenFailed, Err: err}
		}
		defer ml.Close()
	}
	ctx, stop := serverSignals(ctx, func() {
		if err := srv.Reload(); err != nil {
			log.Error("server: SIGHUP: the users and secrets were not re-read", "err", err)
		}
	})
	defer stop()
	if n != nil {
		wctx, stopWatchdog := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() { defer close(done); n.Watchdog(wctx) }()
		defer func() { stopWatchdog(); <-done }()
		stopping := context.AfterFunc(ctx, func() { n.Notify(systemd.Stopping) })
		defer stopping()
	}
	if err := srv.Run(ctx); err != nil {
		return serverExit(err)
	}
	return nil
}

// serverExit gives Run's error pppd's exit status where one fits.
func serverExit(err error) error {
	switch {
	case errors.Is(err, pppox.ErrNoKernelSupport):
		return &client.ExitError{Code: client.ExitNoKernelSupport, Err: err}
	case errors.Is(err, pppox.ErrPermission):
		return &client.ExitError{Code: client.ExitNotRoot, Err: err}
	}
	return &client.ExitError{Code: client.ExitFatal, Err: err}
}

// serverSignals ends ctx at the first SIGINT or SIGTERM (every session is
// then ended properly; later ones change nothing) and calls reload at
// each SIGHUP, one at a time. SIGPIPE is ignored, so that a log reader
// that went away cannot kill the server. stop ends it all.
func serverSignals(ctx context.Context, reload func()) (_ context.Context, stop func()) {
	signal.Ignore(syscall.SIGPIPE)
	ctx, cancel := context.WithCancelCause(ctx)
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		for {
			select {
			case sig := <-sigs:
				if sig == syscall.SIGHUP {
					reload()
					continue
				}
				cancel(fmt.Errorf("%s received", signalName(sig)))
			case <-done:
				return
			}
		}
	}()
	return ctx, func() {
		signal.Stop(sigs)
		close(done)
		<-ended
		cancel(nil)
	}
}

func serverStatusCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:         "status",
		Usage:        "show a running server's sessions and counters",
		OnUsageError: onUsageError,
		Flags: []cli.Flag{
			socketFlag(),
			&cli.BoolFlag{Name: "json", Usage: "print them as a JSON object"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() > 0 {
				return usageError("server status takes no arguments: %q", cmd.Args().Slice())
			}
			st, err := server.GetStatus(ctx, cmd.String("socket"))
			if err != nil {
				return err
			}
			if cmd.Bool("json") {
				var b bytes.Buffer
				enc := json.NewEncoder(&b)
				enc.SetIndent("", "  ")
				if err := enc.Encode(st); err != nil {
					return err
				}
				_, err = stdout.Write(escapeJSON(b.Bytes()))
				return err
			}
			_, err = io.WriteString(stdout, formatServerStatus(st, timeNow()))
			return err
		},
	}
}

// formatServerStatus is a table of the sessions, then the counters. Every
// string is escaped: user names come from the wire.
func formatServerStatus(st server.Status, now time.Time) string {
	var b strings.Builder
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "USER\tMAC\tSESSION-ID\tINTERFACE\tIFNAME\tSTATE\tREMOTE\tLOCAL\tUPTIME\tIN\tOUT")
	for _, s := range st.Sessions {
		since := s.Since
		if !s.UpSince.IsZero() {
			since = s.UpSince
		}
		in, out := "-", "-"
		if c := s.Counters; c != nil {
			in = fmt.Sprintf("%s (%d)", humanBytes(c.RxBytes), c.RxPackets)
			out = fmt.Sprintf("%s (%d)", humanBytes(c.TxBytes), c.TxPackets)
		}
		fmt.Fprintf(tw, "%s\t%s\t0x%04x\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			orDash(peerlog.Text(s.User)), orDash(peerlog.Text(s.MAC)), s.SessionID, orDash(peerlog.Text(s.Interface)),
			orDash(peerlog.Text(s.Ifname)), orDash(peerlog.Text(s.State)), addrs(s.Remote, s.RemoteV6), addrs(s.Local),
			shortDuration(now.Sub(since)), in, out)
	}
	tw.Flush()
	c := st.Counters
	fields := []field{
		{label: "ac-name", value: peerlog.Text(st.ACName)},
		{label: "sessions", value: fmt.Sprintf("%d (%d started, %d reached an NCP)", len(st.Sessions), c.SessionsStarted, c.SessionsUp)},
		{label: "padi", value: fmt.Sprintf("%d (answered %d, rate-limited %d, no service %d)", c.PADIs, c.PADIsAnswered, c.PADIsLimited, c.PADIsNoService)},
		{label: "padr", value: fmt.Sprintf("%d (bad cookie %d)", c.PADRs, c.BadCookies)},
		{label: "padt", value: fmt.Sprintf("%d (ignored %d)", c.PADTs, c.PADTsIgnored)},
		{label: "refused", value: fmt.Sprintf("max-sessions %d, no service %d, only-one %d, no address %d", c.RefusedMax, c.RefusedNoService, c.RefusedOnlyOne, c.NoAddress)},
		{label: "auth-failures", value: strconv.FormatUint(c.AuthFailures, 10)},
	}
	if !st.Started.IsZero() {
		up := fmt.Sprintf("%s (since %s)", shortDuration(now.Sub(st.Started)), st.Started.In(now.Location()).Format(time.DateTime))
		fields = append(fields[:1], append([]field{{label: "uptime", value: up}}, fields[1:]...)...)
	}
	b.WriteString("\n")
	for _, f := range fields {
		fmt.Fprintf(&b, "%*s: %s\n", len("auth-failures"), f.label, f.value)
	}
	return b.String()
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// addrs joins the valid addresses, or is "-".
func addrs(as ...netip.Addr) string {
	var out []string
	for _, a := range as {
		if a.IsValid() {
			out = append(out, a.String())
		}
	}
	return orDash(strings.Join(out, ","))
}

func serverKickCommand(stdout io.Writer) *cli.Command {
	return &cli.Command{
		Name:         "kick",
		Usage:        "end a user's sessions, or one session (LCP Terminate-Request, PADT)",
		ArgsUsage:    "USER | --session-id ID",
		OnUsageError: onUsageError,
		Flags: []cli.Flag{
			socketFlag(),
			&cli.StringFlag{Name: "session-id", Usage: "the session's id (decimal, or hex with 0x; pppoed server status shows it)"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			var user string
			var id uint16
			switch s := cmd.String("session-id"); {
			case cmd.Args().Len() > 1:
				return usageError("server kick takes one user: %q", cmd.Args().Slice())
			case cmd.Args().Len() == 1 && s != "":
				return usageError("give a user or --session-id, not both")
			case cmd.Args().Len() == 1:
				user = cmd.Args().First()
				if user == "" {
					return usageError("an empty user name")
				}
			case s != "":
				n, err := strconv.ParseUint(s, 0, 16)
				if err != nil || n == 0 || n == 0xffff {
					return usageError("--session-id %q: not a number from 1 to 0xfffe", s)
				}
				id = uint16(n)
			default:
				return usageError("give a user or --session-id ID")
			}
			n, err := server.KickSession(ctx, cmd.String("socket"), user, id)
			if err != nil {
				return err
			}
			what := "sessions"
			if n == 1 {
				what = "session"
			}
			if user != "" {
				_, err = fmt.Fprintf(stdout, "kicked %d %s of user \"%s\"\n", n, what, peerlog.Text(user))
			} else {
				_, err = fmt.Fprintf(stdout, "kicked %d %s (session id 0x%04x)\n", n, what, id)
			}
			return err
		},
	}
}

func serverCheckCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:         "check",
		Usage:        "check the server's configuration file (and the secrets files it names) without starting; exit 2 if it is bad",
		OnUsageError: onUsageError,
		Flags:        []cli.Flag{configFlag()},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() > 0 {
				return usageError("server check takes no arguments: %q", cmd.Args().Slice())
			}
			path := cmd.String("config")
			cfg, err := loadServerConfig(path, logger(stderr, false))
			if err != nil {
				return err
			}
			names := make([]string, len(cfg.Interfaces))
			for i, ifc := range cfg.Interfaces {
				names[i] = ifc.Name
			}
			radius := ""
			if r := cfg.RADIUS; r != nil {
				radius = fmt.Sprintf("; radius: %s (order %s)", plural(len(r.Servers), "server"), r.Order)
				if r.DAEListen != "" {
					radius += ", incoming on " + r.DAEListen
				}
			}
			_, err = fmt.Fprintf(stdout, "%s: good: %s (%s); %s, %s, %s, %s%s\n", path,
				plural(len(cfg.Interfaces), "interface"), strings.Join(names, ","), plural(len(cfg.Profiles), "profile"),
				plural(len(cfg.Pools), "pool"), plural(len(cfg.Users), "user"), plural(len(cfg.Secrets), "secrets entry"), radius)
			return err
		},
	}
}

// plural is "1 user", "2 users", "3 secrets entries".
func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	if s, ok := strings.CutSuffix(what, "y"); ok {
		return fmt.Sprintf("%d %sies", n, s)
	}
	return fmt.Sprintf("%d %ss", n, what)
}
