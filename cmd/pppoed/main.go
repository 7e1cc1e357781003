// Command pppoed is a PPPoE client and access concentrator for Linux whose
// data path is the kernel's. This file only turns the command line into a
// library configuration; the work is done by package client.
package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"text/tabwriter"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/pppoed/pppoed/client"
	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/internal/peerlog"
	"github.com/pppoed/pppoed/internal/procmem"
	"github.com/pppoed/pppoed/netcfg"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/pppdcompat"
	"github.com/pppoed/pppoed/systemd"
	"github.com/urfave/cli/v3"
	"golang.org/x/sys/unix"
)

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

// usageError marks a bad command line: exit status 2, as pppd's.
func usageError(format string, a ...any) error {
	return &client.ExitError{Code: client.ExitOptionError, Err: fmt.Errorf(format, a...)}
}

func onUsageError(_ context.Context, _ *cli.Command, err error, _ bool) error {
	return &client.ExitError{Code: client.ExitOptionError, Err: err}
}

func newApp(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:         "pppoed",
		Usage:        "PPPoE client and access concentrator on the kernel's data path",
		Version:      version(),
		Writer:       stdout,
		ErrWriter:    stderr,
		OnUsageError: onUsageError,
		// Errors go back to main, which exits with pppd's statuses; left
		// to itself urfave/cli exits 3 for an unknown command.
		ExitErrHandler: func(context.Context, *cli.Command, error) {},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() > 0 {
				return usageError("no command %q (want connect, discover, status, kill or server; pppoed --help)", cmd.Args().First())
			}
			return cli.ShowAppHelp(cmd)
		},
		Commands: []*cli.Command{
			connectCommand(stderr),
			discoverCommand(stdout, stderr),
			statusCommand(stdout, stderr),
			killCommand(),
			serverCommand(stdout, stderr),
			pppdCommand(stdout, stderr),
		},
	}
}

func logger(w io.Writer, debug bool) *slog.Logger {
	level := slog.LevelInfo
	if debug {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

func connectCommand(stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:         "connect",
		Usage:        "bring up a PPPoE session and keep it until stopped (SIGINT, SIGTERM, SIGHUP; a second one stops without waiting for the peer)",
		OnUsageError: onUsageError,
		// The config file gives flags, the required ones too: it is read
		// before urfave/cli checks them, which is after Before.
		Before: func(ctx context.Context, cmd *cli.Command) (context.Context, error) {
			return ctx, applyConfigFile(cmd)
		},
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "interface", Aliases: []string{"i"}, Usage: "the Ethernet interface facing the access concentrator", Required: true},
			&cli.StringFlag{Name: "user", Aliases: []string{"u"}, Usage: "the user name to authenticate as", Required: true},
			&cli.StringFlag{Name: "password-file", Usage: "read the password from `FILE` (its first line)"},
			&cli.StringFlag{Name: "password", Usage: "the password (visible in ps; prefer --password-file)"},
			&cli.StringFlag{Name: "service-name", Usage: "ask for this service (RFC 2516 Service-Name); default: any"},
			&cli.StringFlag{Name: "ac-name", Usage: "accept only the access concentrator of this name"},
			&cli.StringFlag{Name: "ac-mac", Usage: "accept only the access concentrator with this MAC address"},
			&cli.StringFlag{Name: "ifname", Usage: "name the PPP interface (default pppN)"},
			&cli.IntFlag{Name: "mtu", Usage: fmt.Sprintf("the MTU; above %d needs RFC 4638", discovery.DefaultMTU), Value: discovery.DefaultMTU},
			&cli.IntFlag{Name: "mru", Usage: fmt.Sprintf("the MRU; above %d needs RFC 4638", discovery.DefaultMTU), Value: discovery.DefaultMTU},
			&cli.BoolFlag{Name: "raise-parent-mtu", Usage: fmt.Sprintf("raise the Ethernet MTU to MTU+%d before discovery, for RFC 4638 (restored on exit; refused while other PPPoE sessions use the interface)", discovery.Overhead)},
			&cli.StringFlag{Name: "auth", Usage: "accepted authentication methods, preferred first: pap,chap,mschap1,mschap2 (default all)"},
			&cli.BoolFlag{Name: "no-ipv4", Usage: "do not negotiate IPv4 (IPCP)"},
			&cli.BoolFlag{Name: "no-ipv6", Usage: "do not negotiate IPv6 (IPv6CP)"},
			&cli.BoolFlag{Name: "add-default-route", Usage: "route everything over the session (not beside a default route of the same metric, which stays, as with pppd)"},
			&cli.BoolFlag{Name: "replace-default-route", Usage: "replace the existing default route while the session lasts"},
			&cli.IntFlag{Name: "default-route-metric", Usage: "add the default route with this metric"},
			&cli.BoolFlag{Name: "use-peer-dns", Usage: "ask for name servers and write them to --resolv-conf"},
			&cli.StringFlag{Name: "resolv-conf", Usage: "where --use-peer-dns writes the name servers", Value: client.DefaultResolvConf},
			&cli.DurationFlag{Name: "keepalive-interval", Usage: "send an LCP echo this often; 0 disables", Value: client.DefaultKeepaliveInterval},
			&cli.IntFlag{Name: "keepalive-failures", Usage: "unanswered echoes before the peer is declared dead", Value: client.DefaultKeepaliveFailures},
			&cli.DurationFlag{Name: "padi-timeout", Usage: "wait this long for the first answer to a PADI; it doubles", Value: 5e9},
			&cli.IntFlag{Name: "padi-attempts", Usage: "PADIs (and PADRs) to send before giving up", Value: 3},
			&cli.StringFlag{Name: "host-uniq", Usage: "the Host-Uniq tag, in hex (default random)"},
			&cli.BoolFlag{Name: "debug", Usage: "log every control packet, as pppd's debug option does"},
			&cli.BoolFlag{Name: "persist", Usage: "redial when the session ends or an attempt fails (--persist=false: one attempt)", Value: true},
			&cli.DurationFlag{Name: "holdoff", Usage: "wait at least this long before any redial"},
			&cli.IntFlag{Name: "maxfail", Usage: "give up after this many consecutive failed attempts (0: never)"},
			&cli.DurationFlag{Name: "backoff-max", Usage: "the longest wait between redials after discovery timeouts or AC errors", Value: client.DefaultBackoffMax},
			&cli.DurationFlag{Name: "auth-holdoff", Usage: "wait this long after an authentication failure; it doubles", Value: client.DefaultAuthHoldoff},
			&cli.DurationFlag{Name: "auth-holdoff-max", Usage: "the longest wait after authentication failures", Value: client.DefaultAuthHoldoffMax},
			&cli.DurationFlag{Name: "keepalive-timeout", Usage: "declare the peer dead after this long without a frame from it (replaces --keepalive-interval/--keepalive-failures)"},
			&cli.BoolFlag{Name: "dial-on-demand", Usage: "keep the PPP interface while the link is down and dial on the first outbound packet"},
			&cli.DurationFlag{Name: "idle", Usage: "with --dial-on-demand, hang up after this long without traffic (0: never)"},
			&cli.StringFlag{Name: "name", Usage: "the link's name, for the state file, the control socket and logs (default: the config file's name, or the interface)"},
			&cli.StringFlag{Name: "state-dir", Usage: "where the last session is recorded, to clear it at the AC after a crash (\"-\": nowhere)", Value: client.DefaultStateDir},
			&cli.StringFlag{Name: "control-socket", Usage: "the status socket (default " + client.DefaultControlDir + "/NAME.sock; \"-\": none)"},
			&cli.StringFlag{Name: "metrics-listen", Usage: "serve the link's metrics for Prometheus (GET /metrics) on this `HOST:PORT`"},
			&cli.StringFlag{Name: "config", Usage: "read settings from this TOML `FILE` (keys are these flags' long names); flags override it"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() > 0 {
				return usageError("connect takes no arguments: %q", cmd.Args().Slice())
			}
			clientRuntime()
			cfg, err := connectConfig(cmd)
			if err != nil {
				return err
			}
			cfg.Logger = logger(stderr, cmd.Bool("debug"))
			cfg.OnSettled = procmem.Settled(cfg.Logger)
			ctx, now, stop := stopSignals(ctx)
			defer stop()
			cfg.StopNow = now
			if n := systemd.New(); n != nil {
				// Under systemd (NOTIFY_SOCKET): READY=1, STATUS=,
				// STOPPING=1 from the client, WATCHDOG=1 from here
				// while the unit asks for it.
				cfg.Notify = n
				wctx, stopWatchdog := context.WithCancel(context.WithoutCancel(ctx))
				done := make(chan struct{})
				go func() { defer close(done); n.Watchdog(wctx) }()
				defer func() { stopWatchdog(); <-done }()
			}
			return client.Run(ctx, cfg)
		},
	}
}

// connectConfig checks the command line and builds client.Config; every
// error names the flag.
func connectConfig(cmd *cli.Command) (client.Config, error) {
	cfg := client.Config{
		Interface:          cmd.String("interface"),
		User:               cmd.String("user"),
		ServiceName:        cmd.String("service-name"),
		ACName:             cmd.String("ac-name"),
		Ifname:             cmd.String("ifname"),
		MTU:                cmd.Int("mtu"),
		MRU:                cmd.Int("mru"),
		RaiseParentMTU:     cmd.Bool("raise-parent-mtu"),
		NoIPv4:             cmd.Bool("no-ipv4"),
		NoIPv6:             cmd.Bool("no-ipv6"),
		DefaultRouteMetric: cmd.Int("default-route-metric"),
		UsePeerDNS:         cmd.Bool("use-peer-dns"),
		ResolvConf:         cmd.String("resolv-conf"),
		KeepaliveInterval:  cmd.Duration("keepalive-interval"),
		KeepaliveFailures:  cmd.Int("keepalive-failures"),
		PADITimeout:        cmd.Duration("padi-timeout"),
		PADIAttempts:       cmd.Int("padi-attempts"),
		Persist:            cmd.Bool("persist"),
		Holdoff:            cmd.Duration("holdoff"),
		MaxFail:            cmd.Int("maxfail"),
		BackoffMax:         cmd.Duration("backoff-max"),
		AuthHoldoff:        cmd.Duration("auth-holdoff"),
		AuthHoldoffMax:     cmd.Duration("auth-holdoff-max"),
		KeepaliveTimeout:   cmd.Duration("keepalive-timeout"),
		DialOnDemand:       cmd.Bool("dial-on-demand"),
		Idle:               cmd.Duration("idle"),
		Name:               cmd.String("name"),
		StateDir:           cmd.String("state-dir"),
		ControlSocket:      cmd.String("control-socket"),
		MetricsListen:      cmd.String("metrics-listen"),
	}
	if cfg.KeepaliveInterval == 0 {
		cfg.KeepaliveInterval = -1 // the flag's 0 means off; the library's 0 means its default
	}
	pw, err := password(cmd.String("password-file"), cmd.String("password"), cmd.IsSet("password"))
	if err != nil {
		return cfg, err
	}
	cfg.Password = pw
	if s := cmd.String("ac-mac"); s != "" {
		mac, err := net.ParseMAC(s)
		if err != nil || len(mac) != 6 {
			return cfg, usageError("--ac-mac %q: not an Ethernet MAC address", s)
		}
		cfg.ACMAC = mac
	}
	if s := cmd.String("host-uniq"); s != "" {
		b, err := hex.DecodeString(s)
		if err != nil || len(b) == 0 {
			return cfg, usageError("--host-uniq %q: not hexadecimal octets", s)
		}
		cfg.HostUniq = b
	}
	if s := cmd.String("auth"); s != "" {
		for _, name := range strings.Split(s, ",") {
			m, err := ppp.ParseAuthMethod(name)
			if err != nil {
				return cfg, usageError("--auth: %v", strings.TrimPrefix(err.Error(), "ppp: "))
			}
			cfg.Auth = append(cfg.Auth, m)
		}
	}
	switch {
	case cmd.Bool("replace-default-route"):
		cfg.DefaultRoute = netcfg.RouteReplace
	case cmd.Bool("add-default-route"), cmd.IsSet("default-route-metric"):
		cfg.DefaultRoute = netcfg.RouteAdd
	}
	if cfg.DefaultRouteMetric < 0 {
		return cfg, usageError("--default-route-metric %d: must not be negative", cfg.DefaultRouteMetric)
	}
	if cfg.KeepaliveFailures < 1 {
		return cfg, usageError("--keepalive-failures %d: must be at least 1", cfg.KeepaliveFailures)
	}
	if cfg.PADIAttempts < 1 {
		return cfg, usageError("--padi-attempts %d: must be at least 1", cfg.PADIAttempts)
	}
	if cfg.PADITimeout <= 0 {
		return cfg, usageError("--padi-timeout %s: must be positive", cfg.PADITimeout)
	}
	return cfg, nil
}

// password reads the secret from a file (its first line) or the flag.
// Its value never appears in an error.
func password(file, flag string, flagSet bool) (string, error) {
	switch {
	case file != "" && flagSet:
		return "", usageError("give --password-file or --password, not both")
	case file == "" && !flagSet:
		return "", usageError("no password: give --password-file FILE (or --password)")
	case flagSet:
		return flag, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return "", usageError("--password-file %s: %v", file, err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return "", usageError("--password-file %s: the first line is empty", file)
	}
	return line, nil
}

func discoverCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:         "discover",
		Usage:        "list the access concentrators that answer on an interface",
		OnUsageError: onUsageError,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "interface", Aliases: []string{"i"}, Usage: "the Ethernet interface", Required: true},
			&cli.StringFlag{Name: "service-name", Usage: "ask for this service; default: any"},
			&cli.DurationFlag{Name: "timeout", Usage: "how long to collect answers", Value: 3e9},
			&cli.BoolFlag{Name: "json", Usage: "print JSON"},
			&cli.BoolFlag{Name: "debug", Usage: "log every discovery packet"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() > 0 {
				return usageError("discover takes no arguments: %q", cmd.Args().Slice())
			}
			ctx, _, stop := stopSignals(ctx)
			defer stop()
			offers, err := client.Discover(ctx, client.DiscoverConfig{
				Interface:   cmd.String("interface"),
				ServiceName: cmd.String("service-name"),
				Timeout:     cmd.Duration("timeout"),
				Logger:      logger(stderr, cmd.Bool("debug")),
			})
			if err != nil {
				return err
			}
			if cmd.Bool("json") {
				return printJSON(stdout, offers)
			}
			printTable(stdout, offers)
			return nil
		},
	}
}

// acJSON is one access concentrator in `discover --json`.
type acJSON struct {
	MAC            string   `json:"mac"`
	Name           string   `json:"ac_name"`
	Services       []string `json:"services"`
	Cookie         string   `json:"cookie,omitempty"`
	RelaySessionID string   `json:"relay_session_id,omitempty"`
	MaxPayload     int      `json:"max_payload,omitempty"`
}

func printJSON(w io.Writer, offers []discovery.Offer) error {
	out := make([]acJSON, 0, len(offers))
	for _, o := range offers {
		out = append(out, acJSON{MAC: o.AC.String(), Name: o.ACName, Services: nonNil(o.Services), Cookie: hex.EncodeToString(o.Cookie),
			RelaySessionID: hex.EncodeToString(o.RelaySessionID), MaxPayload: int(o.MaxPayload)})
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := w.Write(escapeJSON(b.Bytes()))
	return err
}

// escapeJSON writes every character encoding/json leaves raw that is not
// printable (C1 controls such as CSI, U+009B; bidi overrides such as
// U+202E; it already escapes C0 controls) as a \u escape: the same
// strings once decoded, but nothing an AC wrote can act on a terminal.
// Outside strings JSON is ASCII, so every such character is in one.
func escapeJSON(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for _, r := range string(b) {
		if r < utf8.RuneSelf || unicode.IsPrint(r) {
			out = utf8.AppendRune(out, r)
			continue
		}
		if r1, r2 := utf16.EncodeRune(r); r1 != unicode.ReplacementChar {
			out = fmt.Appendf(out, `\u%04x\u%04x`, r1, r2)
			continue
		}
		out = fmt.Appendf(out, `\u%04x`, r)
	}
	return out
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func printTable(w io.Writer, offers []discovery.Offer) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "MAC\tAC-NAME\tSERVICES\tMAX-PAYLOAD\tCOOKIE")
	for _, o := range offers {
		mp := "-"
		if o.MaxPayload > 0 {
			mp = fmt.Sprint(o.MaxPayload)
		}
		// Names and services are the AC's text: escaped (peerlog.Text),
		// so that none of it acts on the terminal or breaks the columns.
		svcs := make([]string, len(o.Services))
		for i, sv := range o.Services {
			svcs[i] = peerlog.Text(sv)
		}
		svc := strings.Join(svcs, ",")
		if svc == "" {
			svc = "-"
		}
		ck := hex.EncodeToString(o.Cookie)
		if ck == "" {
			ck = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", o.AC, peerlog.Text(o.ACName), svc, mp, ck)
	}
	tw.Flush()
}

// stopSignals ends ctx at the first SIGINT, SIGTERM or SIGHUP (a closed
// terminal), so that the session is torn down properly, and closes now at
// the second, so that the teardown stops waiting for the peer (see
// client.Config.StopNow); later ones are ignored, the teardown being
// short by then. SIGPIPE is ignored, so a log reader that went away
// (| tee) cannot kill pppoed mid-teardown. stop ends it all.
func stopSignals(ctx context.Context) (_ context.Context, now <-chan struct{}, stop func()) {
	signal.Ignore(syscall.SIGPIPE)
	ctx, cancel := context.WithCancelCause(ctx)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	nowc, done, ended := make(chan struct{}), make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		for n := 1; ; n++ {
			select {
			case sig := <-sigs:
				switch n {
				case 1:
					cancel(fmt.Errorf("%s received", signalName(sig)))
				case 2:
					close(nowc)
				}
			case <-done:
				return
			}
		}
	}()
	return ctx, nowc, func() {
		signal.Stop(sigs)
		close(done)
		<-ended
		cancel(nil)
	}
}

func signalName(sig os.Signal) string {
	if s, ok := sig.(syscall.Signal); ok {
		if name := unix.SignalName(s); name != "" {
			return name
		}
	}
	return sig.String()
}

// pppdCommand is `pppoed pppd ARGS...`: pppd's command line, as when
// pppoed is started under pppd's name.
func pppdCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:            "pppd",
		Usage:           "run as pppd would with these arguments (pppd's options, files, secrets, scripts and exit statuses)",
		SkipFlagParsing: true,
		Action: func(ctx context.Context, cmd *cli.Command) error {
			clientRuntime()
			args := append([]string{"pppd"}, cmd.Args().Slice()...)
			if code := pppdcompat.Main(args, stdout, stderr, version()); code != 0 {
				return &client.ExitError{Code: code, Err: errPPPD}
			}
			return nil
		},
	}
}

// errPPPD carries pppd mode's status out of urfave/cli; pppd mode has
// said what went wrong already.
var errPPPD = errors.New("pppd mode failed")

func main() {
	if len(os.Args) > 1 && os.Args[1] == pppdcompat.ScriptExecArg {
		scriptRuntime()
		os.Exit(pppdcompat.ExecScript(os.Args[2:], os.Stderr)) // pppd mode's scripts (pppdcompat.startScript)
	}
	// Installed as pppd (a link or a copy named pppd), pppoed is pppd:
	// its whole command line is pppd's.
	if filepath.Base(os.Args[0]) == "pppd" {
		clientRuntime()
		os.Exit(pppdcompat.Main(os.Args, os.Stdout, os.Stderr, version()))
	}
	err := newApp(os.Stdout, os.Stderr).Run(context.Background(), os.Args)
	if err != nil && !errors.Is(err, errPPPD) {
		fmt.Fprintf(os.Stderr, "pppoed: %s\n", peerlog.Escape(err.Error())) // the last line of defence: packages escape what they quote
	}
	os.Exit(client.ExitCode(err))
}
