package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/netip"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pppoed/pppoed/client"
	"github.com/pppoed/pppoed/internal/peerlog"
	"github.com/pppoed/pppoed/status"
	"github.com/urfave/cli/v3"
)

// controlDir is where running links' sockets are; timeNow is the clock
// uptimes and ages are measured with. Variables for the tests.
var (
	controlDir = client.DefaultControlDir
	timeNow    = time.Now
)

func statusCommand(stdout, stderr io.Writer) *cli.Command {
	return &cli.Command{
		Name:         "status",
		Usage:        "show a running link's state, as RouterOS's pppoe-client monitor does",
		OnUsageError: onUsageError,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "name", Usage: "the link's name (default: the only one running)"},
			&cli.StringFlag{Name: "control-socket", Usage: "ask the pppoed at this socket (default " + client.DefaultControlDir + "/NAME.sock)"},
			&cli.BoolFlag{Name: "json", Usage: "print the status as a JSON object (with --watch, one per line)"},
			&cli.BoolFlag{Name: "watch", Usage: "print the status, then each change as it happens, until interrupted"},
		},
		Action: func(ctx context.Context, cmd *cli.Command) error {
			if cmd.Args().Len() > 0 {
				return usageError("status takes no arguments: %q", cmd.Args().Slice())
			}
			path, err := controlPath(cmd.String("name"), cmd.String("control-socket"))
			if err != nil {
				return err
			}
			asJSON := cmd.Bool("json")
			if !cmd.Bool("watch") {
				st, err := status.Get(ctx, path)
				if err != nil {
					return err
				}
				if asJSON {
					return printStatusJSON(stdout, st, "  ")
				}
				_, err = io.WriteString(stdout, formatStatus(st, timeNow()))
				return err
			}
			ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
			defer stop()
			err = status.Watch(ctx, path, watchPrinter(stdout, asJSON))
			if ctx.Err() != nil {
				return nil // interrupted: the way a watch ends
			}
			return err
		},
	}
}

// controlPath is the socket to ask: --control-socket, --name's, or the
// only one running.
func controlPath(name, socket string) (string, error) {
	switch {
	case socket != "" && name != "":
		return "", usageError("give --name or --control-socket, not both")
	case socket != "":
		return socket, nil
	case name != "":
		if strings.ContainsRune(name, '/') || name == "." || name == ".." {
			return "", usageError("--name %q: not a link's name", peerlog.Text(name))
		}
		return filepath.Join(controlDir, name+".sock"), nil
	}
	names, err := runningLinks(controlDir)
	if err != nil {
		return "", err
	}
	switch len(names) {
	case 0:
		return "", fmt.Errorf("status: no pppoed is running (no control socket in %s)", controlDir)
	case 1:
		return filepath.Join(controlDir, names[0]+".sock"), nil
	}
	for i, n := range names {
		names[i] = peerlog.Text(n)
	}
	return "", usageError("status: %d links are running (%s): choose one with --name", len(names), strings.Join(names, ", "))
}

// runningLinks lists the names of the sockets in dir, sorted.
func runningLinks(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if errors.Is(err, fs.ErrPermission) {
		return nil, fmt.Errorf("status: %s: permission denied (the control sockets are root's: run pppoed status as root)", dir)
	}
	if err != nil {
		return nil, fmt.Errorf("status: %w", err)
	}
	var names []string
	for _, e := range entries {
		// server.sock is pppoed server's (server.DefaultControlSocket), not a link's.
		if n, ok := strings.CutSuffix(e.Name(), ".sock"); ok && n != "" && n != "server" && e.Type() == fs.ModeSocket {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	return names, nil
}

func printStatusJSON(w io.Writer, st status.Status, indent string) error {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetIndent("", indent)
	if err := enc.Encode(st); err != nil {
		return err
	}
	_, err := w.Write(escapeJSON(b.Bytes()))
	return err
}

// watchPrinter prints the first status whole, then one line per change
// naming only the fields that changed, stamped with the time it came.
// A line per change rather than a block: a watch is mostly read as a log
// of transitions (dialing, connected, down and why), which scroll back
// and grep well this way; the full picture is one `pppoed status` away.
// The traffic counters change all the time and are left out of the diff.
func watchPrinter(w io.Writer, asJSON bool) func(status.Status) error {
	var last []field
	return func(st status.Status) error {
		if asJSON {
			return printStatusJSON(w, st, "")
		}
		now := timeNow()
		fields := statusFields(st, now)
		if last == nil {
			last = fields
			_, err := io.WriteString(w, formatFields(fields))
			return err
		}
		line := diffFields(last, fields)
		last = fields
		if line == "" {
			return nil
		}
		_, err := fmt.Fprintf(w, "%s %s\n", now.Format(time.DateTime), line)
		return err
	}
}

// A field is one line of the human form. key is what the diff of --watch
// compares: the value without what depends on the time it is printed at;
// "" leaves the field out of the diff.
type field struct {
	label, value, key string
}

// labelWidth right-aligns the labels, as RouterOS does, the same for
// every status so that successive ones line up.
const labelWidth = len("remote-ipv4")

// statusFields renders st in the order RouterOS's monitor uses, leaving
// out what is empty. Every string is escaped: some come from the wire,
// and the rest cost nothing to escape.
func statusFields(st status.Status, now time.Time) []field {
	var out []field
	add := func(label, value, key string) {
		if value != "" {
			out = append(out, field{label, value, key})
		}
	}
	text := func(label, s string) { add(label, peerlog.Text(s), s) }
	addr := func(label string, a netip.Addr) {
		if a.IsValid() {
			s := a.String()
			add(label, s, s)
		}
	}
	num := func(label string, n int) {
		if n != 0 {
			s := fmt.Sprint(n)
			add(label, s, s)
		}
	}
	text("name", st.Name)
	text("status", string(st.State))
	iface := peerlog.Text(st.Interface)
	if st.Ifname != "" {
		iface += " -> " + peerlog.Text(st.Ifname)
	}
	if st.Interface != "" || st.Ifname != "" {
		add("interface", iface, iface)
	}
	text("ac-name", st.ACName)
	text("ac-mac", st.ACMAC)
	text("service", st.ServiceName)
	if st.SessionID != 0 {
		s := fmt.Sprintf("0x%04x", st.SessionID)
		add("session-id", s, s)
	}
	addr("local-ipv4", st.LocalIPv4)
	addr("remote-ipv4", st.RemoteIPv4)
	addr("local-ipv6", st.LocalIPv6)
	addr("remote-ipv6", st.RemoteIPv6)
	if len(st.DNS) > 0 {
		dns := make([]string, len(st.DNS))
		for i, a := range st.DNS {
			dns[i] = a.String()
		}
		s := strings.Join(dns, ", ")
		add("dns", s, s)
	}
	num("mtu", st.MTU)
	num("mru", st.MRU)
	if !st.ConnectedSince.IsZero() {
		add("uptime", shortDuration(now.Sub(st.ConnectedSince)), st.ConnectedSince.String())
	}
	if st.EchoRTT > 0 {
		s := st.EchoRTT.Round(100 * time.Microsecond).String()
		add("echo-rtt", s, s)
	}
	if c := st.Counters; c != nil {
		add("rx/tx", fmt.Sprintf("%s / %s (%d / %d packets)", humanBytes(c.RxBytes), humanBytes(c.TxBytes), c.RxPackets, c.TxPackets), "")
	}
	if st.LastError != "" {
		v := peerlog.Text(st.LastError)
		if t := st.LastErrorTime; !t.IsZero() {
			v += fmt.Sprintf(" (%s, %s ago)", t.In(now.Location()).Format(time.DateTime), shortDuration(now.Sub(t)))
		}
		add("last-error", v, st.LastError+"\x00"+st.LastErrorTime.String())
	}
	if st.Redials > 0 || !st.NextRedial.IsZero() {
		v := fmt.Sprint(st.Redials)
		if t := st.NextRedial; !t.IsZero() {
			if d := t.Sub(now); d > 0 {
				v += ", next in " + shortDuration(d)
			} else {
				v += ", next now"
			}
		}
		add("redials", v, fmt.Sprint(st.Redials, st.NextRedial))
	}
	if st.Failures > 0 {
		s := fmt.Sprintf("%d in a row", st.Failures)
		add("failures", s, s)
	}
	return out
}

func formatFields(fs []field) string {
	var b strings.Builder
	for _, f := range fs {
		fmt.Fprintf(&b, "%*s: %s\n", labelWidth, f.label, f.value)
	}
	return b.String()
}

// formatStatus is the human form of st at the time now.
func formatStatus(st status.Status, now time.Time) string {
	return formatFields(statusFields(st, now))
}

// diffFields names the fields of next that differ from prev, and those
// gone ("-"), in next's order then prev's.
func diffFields(prev, next []field) string {
	old := make(map[string]string, len(prev))
	for _, f := range prev {
		old[f.label] = f.key
	}
	var parts []string
	seen := make(map[string]bool, len(next))
	for _, f := range next {
		seen[f.label] = true
		if k, ok := old[f.label]; f.key != "" && (!ok || k != f.key) {
			parts = append(parts, f.label+": "+f.value)
		}
	}
	for _, f := range prev {
		if !seen[f.label] && f.key != "" {
			parts = append(parts, f.label+": -")
		}
	}
	return strings.Join(parts, "; ")
}

// shortDuration is d to the second, without zero tails: 5m, 1h2m3s, 4s.
func shortDuration(d time.Duration) string {
	d = d.Round(time.Second)
	if d < time.Second && d > -time.Second {
		return "0s"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

// humanBytes is n in SI units, two or three significant digits: 999 B,
// 1.2 kB, 345 kB, 12 MB.
func humanBytes(n uint64) string {
	if n < 1000 {
		return fmt.Sprintf("%d B", n)
	}
	v, unit := float64(n)/1000, 0
	units := []string{"kB", "MB", "GB", "TB", "PB", "EB"}
	for v >= 999.5 && unit < len(units)-1 {
		v, unit = v/1000, unit+1
	}
	if v < 9.95 {
		return fmt.Sprintf("%.1f %s", v, units[unit])
	}
	return fmt.Sprintf("%.0f %s", v, units[unit])
}
