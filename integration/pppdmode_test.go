package integration

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// pppd mode (issue 11, point 7): each scenario runs twice against Debian's
// pppoe-server, first with the real pppd 2.4.9 and then with pppoed
// installed as /usr/sbin/pppd (lab.PPPDRun), and everything pppd exposes is
// compared: the scripts called, in order, with their arguments, environment
// and the interface's addresses at that moment; the pid files; the exit
// status; the interface; the daemon's own process. The "pppd" subtest only
// observes and logs what the real pppd does; "pppoed" repeats the scenario
// and fails on every difference from it.

const (
	modeUser = "dsl-user@lab"
	modePass = "dsl-throwaway-pass" // a test password, also the OpenWrt line's
)

var modeDNS = []netip.Addr{netip.MustParseAddr("10.64.0.53"), netip.MustParseAddr("10.64.0.54")}

// startModeAC starts the AC of a half: Debian's pppoe-server with CHAP,
// two DNS servers and IPv6CP. It is crashed when the half ends, so that
// no session pppd of it outlives the half.
func startModeAC(t *testing.T, p *lab.Pair) *lab.PPPoEServer {
	t.Helper()
	srv := must[*lab.PPPoEServer](t)(lab.StartPPPoEServer(t, p.AC, lab.ServerConfig{
		Interface:   p.ACIf,
		Auth:        lab.AuthCHAP,
		Local:       acAddr,
		PoolStart:   clientAddr,
		Secrets:     []lab.Secret{{User: modeUser, Password: modePass}},
		DNS:         modeDNS,
		PPPDOptions: []string{"+ipv6"},
	}))
	t.Cleanup(func() { _ = srv.Crash() })
	return srv
}

// selfCheckEnv, set to 1, runs the real pppd in both halves: the
// comparison must then find nothing, whatever the timing (the harness's
// own check that what it compares is deterministic in pppd).
const selfCheckEnv = "PPPOED_PPPDMODE_SELFCHECK"

// bothHalves runs a scenario with the real pppd, then with pppoed as
// pppd, and fails the second on every difference from the first.
func bothHalves(t *testing.T, opt lab.CompareOptions, half func(t *testing.T, impl lab.PPPDImpl) lab.PPPDObservation) {
	t.Helper()
	bothHalvesKnown(t, opt, nil, half)
}

// knownDifference is a way pppoed is known to differ from pppd, reported
// and not fixed yet: a difference that starts with Prefix is the
// defect Why.
type knownDifference struct{ Prefix, Why string }

// bothHalvesKnown is bothHalves for a scenario where pppoed is known to
// differ: when every difference found is a known one the pppoed half is
// skipped with them ("pppoed differs: ..."), so that the rest stays
// green and the defect in sight; any other difference fails it as ever,
// and a known one gone is logged (its entry is then to be removed).
func bothHalvesKnown(t *testing.T, opt lab.CompareOptions, known []knownDifference, half func(t *testing.T, impl lab.PPPDImpl) lab.PPPDObservation) {
	t.Helper()
	var ref *lab.PPPDObservation
	t.Run("pppd", func(t *testing.T) {
		o := half(t, lab.RealPPPD)
		ref = &o
	})
	t.Run("pppoed", func(t *testing.T) {
		if ref == nil {
			t.Fatal("nothing to compare with: the real pppd half failed")
		}
		impl := lab.PppoedPPPD
		if os.Getenv(selfCheckEnv) == "1" {
			impl = lab.RealPPPD
			opt.Argv0 = nil // the same pppd, the same paths
		}
		o := half(t, impl)
		var skip []string
		seen := make([]bool, len(known))
		for _, d := range lab.ComparePPPD(*ref, o, opt) {
			i := slices.IndexFunc(known, func(k knownDifference) bool { return strings.HasPrefix(d, k.Prefix) })
			if i < 0 || impl == lab.RealPPPD {
				t.Errorf("differs from pppd: %s", d)
				continue
			}
			seen[i] = true
			skip = append(skip, d)
		}
		for i, k := range known {
			if !seen[i] && impl != lab.RealPPPD {
				t.Logf("no longer differs from pppd (remove it from the known differences): %s", k.Why)
			}
		}
		if len(skip) > 0 && !t.Failed() {
			var why []string
			for i, k := range known {
				if seen[i] {
					why = append(why, k.Why)
				}
			}
			t.Skipf("pppoed differs: %s\n%s", strings.Join(why, "; "), strings.Join(skip, "\n"))
		}
		for _, d := range skip {
			t.Errorf("differs from pppd (known): %s", d)
		}
	})
}

// observe gathers the run into an observation with facts and logs it.
func observe(t *testing.T, r *lab.PPPDRun, daemon int, ifname string, exit int, facts []lab.Fact) lab.PPPDObservation {
	t.Helper()
	o, err := r.Observe(daemon, ifname, exit)
	if err != nil {
		t.Errorf("reading the records: %v", err)
	}
	o.Facts = append(o.Facts, facts...)
	rc := "absent"
	if b, err := os.ReadFile(filepath.Join(r.Etc, "resolv.conf")); err == nil {
		rc = fmt.Sprintf("%q", b)
	}
	o.AddFact("/etc/ppp/resolv.conf after the run", "%s", rc)
	t.Logf("what %s showed:\n%s", r.Impl, o.Format())
	if o.Log != "" {
		t.Logf("%s's log (%s):\n%s", r.Impl, lab.PPPDLogfile, lastLines(o.Log, 60))
	}
	return o
}

// ifnameOf is the PPP interface the scripts named, else the one in ns.
func ifnameOf(calls []lab.ScriptCall, ns *lab.Netns) string {
	for _, c := range calls {
		if len(c.Args) > 0 && c.Args[0] != "" {
			return c.Args[0]
		}
	}
	if ls, err := ns.PPPLinks(); err == nil && len(ls) == 1 {
		return ls[0].Name
	}
	return ""
}

// daemonOf finds the daemon of a detached run: the pid in /run/IFNAME.pid,
// else (an error: pppd writes it) the one process left in the namespace
// whose program is /usr/sbin/pppd.
func daemonOf(t *testing.T, ctx context.Context, r *lab.PPPDRun, ns *lab.Netns, ifname string) int {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	pid, err := r.WaitPidFile(wctx, ifname+".pid")
	if err == nil {
		return pid
	}
	t.Errorf("%v", err)
	pids, _ := ns.Pids()
	for _, p := range pids {
		if exe, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", p)); exe == lab.PPPDPath && lab.Alive(p) {
			return p
		}
	}
	t.Fatalf("no daemon found; processes: %s", r.Processes())
	return 0
}

// daemonFacts records what the daemon shows of itself in /proc; the
// output file the harness gave a started process is named as such.
func daemonFacts(t *testing.T, pid int, started *lab.Process) []lab.Fact {
	t.Helper()
	f, err := lab.ReadProcFacts(pid)
	if err != nil {
		t.Errorf("daemon %d: %v", pid, err)
		return nil
	}
	for i, fd := range f.FD012 {
		if started != nil && fd == started.LogPath {
			f.FD012[i] = "the output file it was started with"
		}
	}
	return []lab.Fact{
		{Name: "daemon's command name", Value: f.Comm},
		{Name: "daemon's command line", Value: f.Cmdline},
		{Name: "daemon's working directory", Value: f.Cwd},
		{Name: "daemon's umask", Value: f.Umask},
		{Name: "daemon is a session leader", Value: fmt.Sprint(f.SID == pid)},
		{Name: "daemon's fds 0, 1, 2", Value: strings.Join(f.FD012, ", ")},
	}
}

// netFacts records the PPP interface as the kernel has it once up: MTU,
// addresses (link-local ones by form: their identifiers are random) and
// the routes through it.
func netFacts(t *testing.T, ns *lab.Netns, ifname string) []lab.Fact {
	t.Helper()
	var facts []lab.Fact
	if l, err := ns.Link(ifname); err != nil {
		t.Errorf("%v", err)
	} else {
		facts = append(facts, lab.Fact{Name: "interface MTU", Value: fmt.Sprint(l.MTU)}, lab.Fact{Name: "interface up", Value: fmt.Sprint(l.Up)})
	}
	for _, fam := range []int{netlink.FAMILY_V4, netlink.FAMILY_V6} {
		as, err := ns.Addrs(ifname, fam)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		var s []string
		for _, a := range as {
			s = append(s, fmt.Sprintf("%s peer %s scope %d", addrForm(a.Local), addrForm(a.Peer), a.Scope))
		}
		sort.Strings(s)
		facts = append(facts, lab.Fact{Name: fmt.Sprintf("addresses (family %d)", fam), Value: strings.Join(s, "; ")})
		rs, err := ns.Routes(fam)
		if err != nil {
			t.Errorf("%v", err)
			continue
		}
		s = nil
		for _, r := range rs {
			if r.Link == ifname {
				gw := "-"
				if r.Gateway.IsValid() {
					gw = r.Gateway.String()
				}
				s = append(s, fmt.Sprintf("%s via %s metric %d proto %d", addrForm(r.Dst), gw, r.Metric, r.Protocol))
			}
		}
		sort.Strings(s)
		facts = append(facts, lab.Fact{Name: fmt.Sprintf("routes through the interface (family %d)", fam), Value: strings.Join(s, "; ")})
	}
	return facts
}

// addrForm writes a prefix with a link-local address's identifier hidden.
func addrForm(p netip.Prefix) string {
	if !p.IsValid() {
		return "none"
	}
	if p.Addr().Is6() && p.Addr().IsLinkLocalUnicast() {
		return fmt.Sprintf("fe80::(id)/%d", p.Bits())
	}
	return p.String()
}

// waitNoPPP waits for the PPP interface to go, as an error.
func waitNoPPP(t *testing.T, ctx context.Context, ns *lab.Netns) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := ns.WaitNoPPP(wctx); err != nil {
		t.Errorf("%v", err)
	}
}

// exitOf waits for a nodetach daemon to end and returns its status.
func exitOf(t *testing.T, ctx context.Context, r *lab.PPPDRun, p *lab.Process) int {
	t.Helper()
	if err := p.Wait(ctx); err != nil && !p.Exited() {
		t.Fatalf("%s did not exit: %v\nprocesses: %s\nlog:\n%s", r.Impl, err, r.Processes(), lastLines(r.PPPDLog(), 40))
	}
	return p.ExitCode()
}

// ---- Debian

// debianPeers is a pppoeconf-style /etc/ppp/peers/dsl-provider: the
// template Debian's ppp package ships (/etc/ppp/peers/dsl-provider) with
// its pty line replaced by the kernel-mode plugin and the interface, as
// pppoeconf writes them, and the user named. Its "connect /bin/true" is
// gone too: after nic-IF has made the channel PPPoE, pppd 2.4.9 no longer
// knows the tty options and refuses it ("In file
// /etc/ppp/peers/dsl-provider: unrecognized option 'connect'", exit 2).
// +ipv6 is the lab's: a user wanting IPv6 adds it, and it makes ipv6-up
// and ipv6-down run.
func debianPeers(nic string) string {
	return `# Configuration file for PPP, using PPP over Ethernet
# to connect to a DSL provider.
#
# See the manual page pppd(8) for information on all the options.

# MUST CHANGE: Uncomment the following line, replacing the user@provider.net
# by the DSL user name given to your by your DSL provider.
# (There should be a matching entry in /etc/ppp/pap-secrets with the password.)
user "` + modeUser + `"

# Use the kernel-mode PPPoE plugin on the Ethernet interface.
plugin rp-pppoe.so
nic-` + nic + `

# Assumes that your IP address is allocated dynamically
# by your DSL provider...
noipdefault
# Try to get the name server addresses from the ISP.
usepeerdns
# Use this connection as the default route.
# Comment out if you already have the correct default route installed.
defaultroute

hide-password
lcp-echo-interval 20
lcp-echo-failure 3
noauth
persist
mtu 1492

# RFC 2516, paragraph 7 mandates that the following options MUST NOT be
# requested and MUST be rejected if requested by the peer:
# Address-and-Control-Field-Compression (ACFC)
noaccomp
# Asynchronous-Control-Character-Map (ACCM)
default-asyncmap

# the lab's: IPv6CP too
+ipv6
`
}

// setupDebian writes a Debian host's /etc/ppp: Debian's own options with
// the lab's logging appended, the peers file and the secrets.
func setupDebian(t *testing.T, r *lab.PPPDRun, nic string) {
	t.Helper()
	opts, err := lab.HostEtcFile("options")
	if err != nil {
		t.Fatal(err)
	}
	opts += "\n# the lab's: a log to read\ndebug\nlogfile " + lab.PPPDLogfile + "\n"
	for _, err := range []error{
		r.WriteEtc("options", opts, 0o644),
		r.WriteEtc("peers/dsl-provider", debianPeers(nic), 0o640),
		r.WriteSecrets(lab.Secret{User: modeUser, Password: modePass}),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
}

// Scenario 1: Debian's pon starts the link from a pppoeconf-style peers
// file, the scripts run, poff -r makes it hang up and dial again (SIGHUP
// under persist), poff stops it: the daemon, its interface and its pid
// files are gone and ip-down ran.
func TestPppdModeDebianPon(t *testing.T) {
	lab.Require(t)
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	scripts := []string{"ip-pre-up", "ip-up", "ip-down", "ipv6-up", "ipv6-down"}
	bothHalves(t, lab.CompareOptions{}, func(t *testing.T, impl lab.PPPDImpl) lab.PPPDObservation {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		startModeAC(t, p)
		r := must[*lab.PPPDRun](t)(lab.NewPPPDRun(t, p.Client, impl))
		setupDebian(t, r, p.ClientIf)
		for _, s := range scripts {
			if err := r.Record(s, s); err != nil {
				t.Fatal(err)
			}
		}
		var facts []lab.Fact
		fact := func(name, format string, args ...any) {
			facts = append(facts, lab.Fact{Name: name, Value: fmt.Sprintf(format, args...)})
		}

		start := time.Now()
		// pon execs /usr/sbin/pppd call dsl-provider linkname dsl holdoff 2,
		// which detaches: pon's process ends while the daemon goes on.
		pon := must[*lab.Process](t)(r.Start("pon", "pon", "dsl-provider", "linkname", "dsl", "holdoff", "2"))
		_ = pon.Wait(ctx)
		fact("pon's exit status", "%d", pon.ExitCode())
		fact("pon's output", "%q", pon.Log())
		calls, err := r.WaitCalls(ctx, "ip-up and ipv6-up ended", lab.Ended("ip-up", "ipv6-up"))
		if err != nil {
			t.Fatal(err)
		}
		upAt := calls[slices.IndexFunc(calls, func(c lab.ScriptCall) bool { return c.Label == "ip-up" })].Begin
		lab.Report(t, "%s via pon: ip-up began %s after pon started", impl, upAt.Sub(start).Round(time.Millisecond))
		ifname := ifnameOf(calls, p.Client)
		daemon := daemonOf(t, ctx, r, p.Client, ifname)
		fact("daemon is pon's process", "%v", daemon == pon.Pid())
		facts = append(facts, daemonFacts(t, daemon, pon)...)
		facts = append(facts, netFacts(t, p.Client, ifname)...)
		out, code, err := r.Exec(ctx, "pidof", "pppd")
		if err != nil {
			t.Errorf("pidof: %v", err)
		}
		fact("pidof pppd finds the daemon", "%v", slices.Contains(strings.Fields(out), fmt.Sprint(daemon)))
		_ = code

		// poff -r sends SIGHUP: under persist the daemon hangs up and
		// dials again (after holdoff, 2 s from pon's command line instead
		// of the default 30).
		out, code, err = r.Exec(ctx, "poff", "-r", "dsl-provider")
		if err != nil {
			t.Errorf("poff -r: %v", err)
		}
		fact("poff -r's exit status", "%d", code)
		fact("poff -r's output", "%q", out)
		if _, err := r.WaitCalls(ctx, "ip-up and ipv6-up ended twice", twice("ip-up", "ipv6-up")); err != nil {
			t.Fatal(err)
		}
		again, err := r.WaitPidFile(ctx, ifname+".pid")
		if err != nil {
			t.Error(err)
		}
		fact("the same daemon after the redial", "%v", again == daemon && lab.Alive(daemon))

		// poff finds the daemon by `pidof pppd` and its command line
		// (`ps -o pid,cmd axw` matching "pppd call dsl-provider").
		out, code, err = r.Exec(ctx, "poff", "dsl-provider")
		if err != nil {
			t.Errorf("poff: %v", err)
		}
		fact("poff's exit status", "%d", code)
		fact("poff's output", "%q", out)
		if err := lab.WaitGone(ctx, daemon); err != nil {
			t.Fatalf("the daemon %d outlived poff: %v\nprocesses: %s", daemon, err, r.Processes())
		}
		waitNoPPP(t, ctx, p.Client)
		if _, err := r.WaitCalls(ctx, "ip-down and ipv6-down ended twice", twice("ip-down", "ipv6-down")); err != nil {
			t.Error(err)
		}
		o := observe(t, r, daemon, ifname, -1, facts)
		for _, pf := range o.PidFiles {
			if pf.Exists() {
				t.Errorf("%s: /run/%s left behind after poff", impl, pf.Name)
			}
		}
		if len(o.PidFiles) == 0 {
			t.Errorf("%s: no pid file written", impl)
		}
		return o
	})
}

// Scenario 2: Debian's own ip-pre-up, ip-up, ip-down, ipv6-up and
// ipv6-down run their run-parts chains (/etc/ppp/ip-up.d, ...) with
// PPP_IFACE, PPP_TTY, PPP_SPEED, PPP_LOCAL, PPP_REMOTE and PPP_IPPARAM,
// and the daemon's own environment.
func TestPppdModeDebianIPUpChain(t *testing.T) {
	lab.Require(t)
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	scripts := []string{"ip-pre-up", "ip-up", "ip-down", "ipv6-up", "ipv6-down"}
	bothHalves(t, lab.CompareOptions{}, func(t *testing.T, impl lab.PPPDImpl) lab.PPPDObservation {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		startModeAC(t, p)
		r := must[*lab.PPPDRun](t)(lab.NewPPPDRun(t, p.Client, impl))
		setupDebian(t, r, p.ClientIf)
		for _, s := range scripts {
			if err := r.CopyHostEtc(s); err != nil {
				t.Fatal(err)
			}
			// run-parts runs names of letters, digits, - and _ only.
			if err := r.Record(s+".d/zz-record", s+".d"); err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		proc := must[*lab.Process](t)(r.Start("pppd", lab.PPPDPath, "call", "dsl-provider", "nodetach", "ipparam", "debian"))
		calls, err := r.WaitCalls(ctx, "ip-up.d and ipv6-up.d ended", lab.Ended("ip-up.d", "ipv6-up.d"))
		if err != nil {
			t.Fatal(err)
		}
		lab.Report(t, "%s: ip-up.d began %s after start", impl,
			calls[slices.IndexFunc(calls, func(c lab.ScriptCall) bool { return c.Label == "ip-up.d" })].Begin.Sub(start).Round(time.Millisecond))
		ifname := ifnameOf(calls, p.Client)
		facts := append(daemonFacts(t, proc.Pid(), proc), netFacts(t, p.Client, ifname)...)
		if err := proc.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		exit := exitOf(t, ctx, r, proc)
		if _, err := r.WaitCalls(ctx, "ip-down.d and ipv6-down.d ended", lab.Ended("ip-down.d", "ipv6-down.d")); err != nil {
			t.Error(err)
		}
		waitNoPPP(t, ctx, p.Client)
		o := observe(t, r, proc.Pid(), ifname, exit, facts)
		// The chain's contract, checked on both: Debian's scripts turn
		// their arguments into PPP_* for run-parts.
		for _, c := range o.Calls {
			if len(c.Args) != 6 {
				t.Errorf("%s: %s got %d arguments %q, want 6", impl, c.Label, len(c.Args), c.Args)
				continue
			}
			for i, name := range []string{"PPP_IFACE", "PPP_TTY", "PPP_SPEED", "PPP_LOCAL", "PPP_REMOTE", "PPP_IPPARAM"} {
				if v, ok := c.Getenv(name); !ok || v != c.Args[i] {
					t.Errorf("%s: %s: %s = %q (set %v), want $%d %q", impl, c.Label, name, v, ok, i+1, c.Args[i])
				}
			}
			if v, _ := c.Getenv("PPP_IPPARAM"); v != "debian" {
				t.Errorf("%s: %s: PPP_IPPARAM = %q, want the ipparam", impl, c.Label, v)
			}
		}
		if got := labelsOf(o.Calls); !slices.Contains(got, "ip-pre-up.d") || !slices.Contains(got, "ip-down.d") {
			t.Errorf("%s: the chains that ran: %q", impl, got)
		}
		return o
	})
}

// twice is a WaitCalls condition: two calls of each label have ended.
func twice(labels ...string) func([]lab.ScriptCall) bool {
	return func(calls []lab.ScriptCall) bool {
		for _, l := range labels {
			n := 0
			for _, c := range calls {
				if c.Label == l && c.Ended() {
					n++
				}
			}
			if n < 2 {
				return false
			}
		}
		return true
	}
}

func labelsOf(calls []lab.ScriptCall) []string {
	var out []string
	for _, c := range calls {
		out = append(out, c.Label)
	}
	return out
}

// ---- OpenWrt

// openwrtOptions is OpenWrt's /etc/ppp/options (openwrt/openwrt,
// package/network/services/ppp/files/etc/ppp/options), its logfile
// (/dev/null there) pointed at the lab's.
const openwrtOptions = "debug\nlogfile " + lab.PPPDLogfile + "\nnoipdefault\nnoaccomp\nnopcomp\nnocrtscts\nlock\nmaxfail 0\n"

// openwrtArgs is the command line OpenWrt's netifd runs for a PPPoE
// interface "wan" with the defaults (ipv6 auto, keepalive "5 1", no
// persist, mtu 1492): ppp_generic_setup and proto_pppoe_setup in
// openwrt/openwrt package/network/services/ppp/files/ppp.sh (the ppp 2.5
// version: `plugin pppoe.so`, `set AUTOIPV6=1`), with the scripts in
// /etc/ppp/netifd/ instead of /lib/netifd/ (the VM's root is read-only).
// pppd 2.4.9 refuses ipv6-up-script and ipv6-down-script (OpenWrt patches
// them in: 120-debian_ipv6_updown_option.patch), so the real pppd runs
// without them and its default /etc/ppp/ipv6-up and ipv6-down stand in:
// CompareOptions.Argv0 maps them. Every other word is OpenWrt's, as is;
// Debian's 2.4.9 has pppoe.so (rp-pppoe.so is a link to it).
func openwrtArgs(impl lab.PPPDImpl, nic string) []string {
	args := []string{lab.PPPDPath,
		"nodetach", "ipparam", "wan", "ifname", "pppoe-wan",
		"lcp-echo-interval", "1", "lcp-echo-failure", "5", "lcp-echo-adaptive",
		"+ipv6", "set", "AUTOIPV6=1",
		"nodefaultroute", "usepeerdns", "maxfail", "1",
		"user", modeUser, "password", modePass,
		"ip-up-script", "/etc/ppp/netifd/ppp-up"}
	if impl != lab.RealPPPD {
		args = append(args, "ipv6-up-script", "/etc/ppp/netifd/ppp6-up")
	}
	args = append(args, "ip-down-script", "/etc/ppp/netifd/ppp-down")
	if impl != lab.RealPPPD {
		args = append(args, "ipv6-down-script", "/etc/ppp/netifd/ppp-down")
	}
	return append(args, "mtu", "1492", "mru", "1492", "plugin", "pppoe.so", "nic-"+nic)
}

// Scenario 3: OpenWrt's netifd command line, nodetach, stopped as netifd
// stops it (SIGTERM).
func TestPppdModeOpenWrt(t *testing.T) {
	lab.Require(t)
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	opt := lab.CompareOptions{Argv0: map[string]string{
		"/etc/ppp/ipv6-up":   "/etc/ppp/netifd/ppp6-up",
		"/etc/ppp/ipv6-down": "/etc/ppp/netifd/ppp-down",
	}}
	bothHalves(t, opt, func(t *testing.T, impl lab.PPPDImpl) lab.PPPDObservation {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		startModeAC(t, p)
		r := must[*lab.PPPDRun](t)(lab.NewPPPDRun(t, p.Client, impl))
		// The password is on the command line, as OpenWrt has it: no
		// secrets files.
		scripts := [][2]string{
			{"options", ""},
			{"netifd/ppp-up", "ppp-up"}, {"netifd/ppp6-up", "ppp6-up"}, {"netifd/ppp-down", "ppp-down"},
			{"ip-pre-up", "ip-pre-up"},
			// The default paths are not to be run where a path is given.
			{"ip-up", "default ip-up"}, {"ip-down", "default ip-down"},
			{"ipv6-up", "default ipv6-up"}, {"ipv6-down", "default ipv6-down"},
		}
		if impl == lab.RealPPPD {
			scripts[7][1], scripts[8][1] = "ppp6-up", "ppp-down"
		}
		for _, s := range scripts {
			var err error
			if s[0] == "options" {
				err = r.WriteEtc("options", openwrtOptions, 0o644)
			} else {
				err = r.Record(s[0], s[1])
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		start := time.Now()
		proc := must[*lab.Process](t)(r.Start("pppd", openwrtArgs(impl, p.ClientIf)...))
		calls, err := r.WaitCalls(ctx, "ppp-up and ppp6-up ended", lab.Ended("ppp-up", "ppp6-up"))
		if err != nil {
			t.Fatal(err)
		}
		lab.Report(t, "%s with OpenWrt's line: ppp-up began %s after start", impl,
			calls[slices.IndexFunc(calls, func(c lab.ScriptCall) bool { return c.Label == "ppp-up" })].Begin.Sub(start).Round(time.Millisecond))
		ifname := ifnameOf(calls, p.Client)
		facts := append(daemonFacts(t, proc.Pid(), proc), netFacts(t, p.Client, ifname)...)
		// The two command lines differ on purpose (pppd 2.4.9 is not
		// given the ipv6 script options it refuses): each must be the
		// line it was started with instead.
		facts = slices.DeleteFunc(facts, func(f lab.Fact) bool {
			if f.Name != "daemon's command line" {
				return false
			}
			if want := strings.Join(lab.RedactPassword(openwrtArgs(impl, p.ClientIf)), " "); f.Value != want {
				t.Errorf("%s: the daemon's command line is %q, want %q", impl, f.Value, want)
			}
			return true
		})
		// netifd's proto_kill_command sends SIGTERM.
		if err := proc.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		exit := exitOf(t, ctx, r, proc)
		if _, err := r.WaitCalls(ctx, "ppp-down ended twice (IPv4 and IPv6)", func(cs []lab.ScriptCall) bool {
			n := 0
			for _, c := range cs {
				if c.Label == "ppp-down" && c.Ended() {
					n++
				}
			}
			return n == 2
		}); err != nil {
			t.Error(err)
		}
		waitNoPPP(t, ctx, p.Client)
		o := observe(t, r, proc.Pid(), ifname, exit, facts)
		if ifname != "pppoe-wan" {
			t.Errorf("%s: interface %q, want ifname's pppoe-wan", impl, ifname)
		}
		for _, c := range o.Calls {
			if strings.HasPrefix(c.Label, "default ") {
				t.Errorf("%s: %s ran though a script path was given", impl, c.Argv0)
			}
		}
		return o
	})
}

// ---- exit statuses

// exitArgs is a nodetach client's command line for the exit-status
// scenarios (its password in the run's secrets files). IPv4 only
// (noipv6: pppd 2.4.9 runs IPv6CP when the AC offers it), so that the
// interface's state as each script begins is IPCP's doing alone and is
// compared (CompareOptions.LinkFlags). nic-IF comes last,
// as OpenWrt puts it: pppd 2.4.9's plugin takes pppoe-padi-timeout and
// pppoe-padi-attempts when nic-IF is parsed (PPPOEInitDevice copies them)
// and ignores them after it.
func exitArgs(nic string, more ...string) []string {
	return modeArgs(nic, "nodetach", more...)
}

// modeArgs is exitArgs with another detach mode ("updetach", or "" for
// pppd's default, detaching at once).
func modeArgs(nic, detach string, more ...string) []string {
	args := []string{lab.PPPDPath}
	if detach != "" {
		args = append(args, detach)
	}
	args = append(args, "plugin", "rp-pppoe.so",
		"user", modeUser, "noauth", "noipdefault", "usepeerdns", "maxfail", "1", "noipv6",
		"debug", "logfile", lab.PPPDLogfile)
	return append(append(args, more...), "nic-"+nic)
}

// lineNumber finds the line number pppoed adds to pppd's message about an
// options file (pppd 2.4.9 names only the file): "FILE (line 3)",
// "FILE, line 3", "FILE:3".
var lineNumber = regexp.MustCompile(`(/etc/ppp/peers/bad)(?: \(line \d+\)|, line \d+|:\d+)`)

// Scenario 4: how the daemon ends, and its exit status, each compared:
// the AC refusing the password, a dead peer, SIGTERM (with ip-up still
// running), SIGHUP without persist, no AC at all (once, and under persist
// until maxfail 2, the attempts counted on the wire), an unknown option.
func TestPppdModeExit(t *testing.T) {
	lab.Require(t)
	tests := []struct {
		name     string
		password string        // the client's, in its secrets files
		noAC     bool          // no access concentrator at all
		more     []string      // options after exitArgs'
		delay    time.Duration // ip-up takes this long
		padis    bool          // count the PADIs on the wire (no AC)
		// exitRace: pppd's exit statuses that stand for another (see
		// lab.CompareOptions.PPPDExitRace).
		exitRace map[int]int
		// act runs once the daemon is started; nil waits for it to end
		// by itself.
		act func(t *testing.T, ctx context.Context, r *lab.PPPDRun, proc *lab.Process, srv *lab.PPPoEServer)
	}{
		// pppd exits 19 (authentication failed), or 16 when the AC's PADT
		// wins the race with its exit (seen in one CI run); pppoed
		// must exit 19 always.
		{name: "wrong-password", password: "not-" + modePass, exitRace: map[int]int{16: 19}},
		{
			name: "dead-peer", password: modePass,
			more: []string{"lcp-echo-interval", "1", "lcp-echo-failure", "3"},
			act: func(t *testing.T, ctx context.Context, r *lab.PPPDRun, proc *lab.Process, srv *lab.PPPoEServer) {
				if _, err := r.WaitCalls(ctx, "ip-up ended", lab.Ended("ip-up")); err != nil {
					t.Fatal(err)
				}
				// The AC vanishes: no PADT, no LCP Terminate.
				if err := srv.Crash(); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			// ip-up is made slow and SIGTERM comes while it runs: does the
			// daemon wait for it before ip-down, and before exiting?
			name: "SIGTERM", password: modePass, delay: 1500 * time.Millisecond,
			act: func(t *testing.T, ctx context.Context, r *lab.PPPDRun, proc *lab.Process, srv *lab.PPPoEServer) {
				if _, err := r.WaitCalls(ctx, "ip-up began", lab.Began("ip-up")); err != nil {
					t.Fatal(err)
				}
				if err := proc.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name: "SIGHUP", password: modePass,
			act: func(t *testing.T, ctx context.Context, r *lab.PPPDRun, proc *lab.Process, srv *lab.PPPoEServer) {
				if _, err := r.WaitCalls(ctx, "ip-up ended", lab.Ended("ip-up")); err != nil {
					t.Fatal(err)
				}
				if err := proc.Signal(syscall.SIGHUP); err != nil {
					t.Fatal(err)
				}
			},
		},
		{name: "no-AC", password: modePass, noAC: true, more: []string{"pppoe-padi-timeout", "1", "pppoe-padi-attempts", "1"}},
		{
			// persist, but maxfail 2: two discovery attempts, holdoff
			// apart, then the status of the last failure.
			name: "persist-maxfail-2", password: modePass, noAC: true, padis: true,
			more: []string{"persist", "maxfail", "2", "holdoff", "1", "pppoe-padi-timeout", "1", "pppoe-padi-attempts", "1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
			bothHalves(t, lab.CompareOptions{LinkFlags: true, PPPDExitRace: tt.exitRace}, func(t *testing.T, impl lab.PPPDImpl) lab.PPPDObservation {
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				var srv *lab.PPPoEServer
				if !tt.noAC {
					srv = startModeAC(t, p)
				}
				r := must[*lab.PPPDRun](t)(lab.NewPPPDRun(t, p.Client, impl))
				if err := r.WriteSecrets(lab.Secret{User: modeUser, Password: tt.password}); err != nil {
					t.Fatal(err)
				}
				for _, s := range []string{"ip-pre-up", "ip-up", "ip-down"} {
					if err := r.Record(s, s); err != nil {
						t.Fatal(err)
					}
				}
				if tt.delay > 0 {
					if err := r.Delay("ip-up", tt.delay); err != nil {
						t.Fatal(err)
					}
				}
				var padis *lab.PADIWatch
				if tt.padis {
					padis = must[*lab.PADIWatch](t)(lab.WatchPADIs(t, p.AC, p.ACIf))
				}
				start := time.Now()
				proc := must[*lab.Process](t)(r.Start("pppd", exitArgs(p.ClientIf, tt.more...)...))
				if tt.act != nil {
					tt.act(t, ctx, r, proc, srv)
				}
				exit := exitOf(t, ctx, r, proc)
				lab.Report(t, "%s: exit status %d %s after start", impl, exit, time.Since(start).Round(time.Millisecond))
				waitNoPPP(t, ctx, p.Client)
				var facts []lab.Fact
				if padis != nil {
					facts = append(facts, padiFacts(t, impl, padis, p.ACIf)...)
				}
				calls, _ := r.Calls()
				return observe(t, r, proc.Pid(), ifnameOf(calls, p.Client), exit, facts)
			})
		})
	}
	// An unknown option: pppd's exit status 2 and its message naming the
	// option and the file it came from (pppd 2.4.9 does not give the
	// line; pppoed must: issue 11, point 2). No network needed.
	t.Run("unknown-option", func(t *testing.T) {
		ns := must[*lab.Netns](t)(lab.NewNetns(t, "pcl"))
		const peers = "# a peers file with a word pppd does not know on line 3\nnoauth\nfrobnicate-the-modem\n"
		bothHalves(t, lab.CompareOptions{}, func(t *testing.T, impl lab.PPPDImpl) lab.PPPDObservation {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			r := must[*lab.PPPDRun](t)(lab.NewPPPDRun(t, ns, impl))
			if err := r.WriteEtc("peers/bad", peers, 0o644); err != nil {
				t.Fatal(err)
			}
			var facts []lab.Fact
			for _, c := range []struct {
				name string
				args []string
				file bool
			}{
				{"in /etc/ppp/peers/bad", []string{lab.PPPDPath, "nodetach", "call", "bad"}, true},
				{"on the command line", []string{lab.PPPDPath, "nodetach", "frobnicate"}, false},
			} {
				out, code, err := r.Exec(ctx, c.args...)
				if err != nil {
					t.Fatal(err)
				}
				t.Logf("%s, unknown option %s: exit status %d, output:\n%s", impl, c.name, code, out)
				word := "frobnicate"
				if c.file {
					word = "frobnicate-the-modem"
				}
				facts = append(facts,
					lab.Fact{Name: "unknown option " + c.name + ": exit status", Value: fmt.Sprint(code)},
					lab.Fact{Name: "unknown option " + c.name + ": names the option", Value: fmt.Sprint(strings.Contains(out, "'"+word+"'") || strings.Contains(out, `"`+word+`"`))})
				first, _, _ := strings.Cut(out, "\n")
				facts = append(facts,
					lab.Fact{Name: "unknown option " + c.name + ": first line, a line number taken out", Value: lineNumber.ReplaceAllString(first, "$1")},
					lab.Fact{Name: "unknown option " + c.name + ": prints a usage text", Value: fmt.Sprint(strings.Contains(out, "Usage:"))})
				if c.file {
					facts = append(facts, lab.Fact{Name: "unknown option " + c.name + ": names the file", Value: fmt.Sprint(strings.Contains(out, "/etc/ppp/peers/bad"))})
					if impl != lab.RealPPPD && !strings.Contains(out, "/etc/ppp/peers/bad:3") && !strings.Contains(out, "line 3") {
						t.Errorf("%s: the message does not name line 3 of /etc/ppp/peers/bad:\n%s", impl, out)
					}
				}
			}
			return observe(t, r, 0, "", -1, facts)
		})
	})
}

// padiFacts records how many PADIs were heard (each a discovery attempt:
// pppoe-padi-attempts 1) and reports the gaps between them (holdoff plus
// pppoe-padi-timeout; not compared, times vary).
func padiFacts(t *testing.T, impl lab.PPPDImpl, w *lab.PADIWatch, ifname string) []lab.Fact {
	t.Helper()
	at := w.Times()
	if len(at) == 0 {
		t.Errorf("%s: no PADI heard on %s (the watch or the client is broken)", impl, ifname)
	}
	var gaps []string
	for i := 1; i < len(at); i++ {
		gaps = append(gaps, at[i].Sub(at[i-1]).Round(10*time.Millisecond).String())
	}
	lab.Report(t, "%s: %d PADIs, apart by %v", impl, len(at), gaps)
	return []lab.Fact{{Name: "PADIs sent (discovery attempts)", Value: fmt.Sprint(len(at))}}
}

// ---- updetach, signals

// pidFileDaemon is the pid the run's pid files named first (the daemon
// that made the unit), else fallback.
func pidFileDaemon(r *lab.PPPDRun, fallback int) int {
	for _, pf := range r.PidFiles() {
		first, _, _ := strings.Cut(pf.Content, "\n")
		if pid, err := strconv.Atoi(strings.TrimSpace(first)); err == nil && pid > 0 {
			return pid
		}
	}
	return fallback
}

// Scenario 5: updetach. The command pppd was started as returns only once
// the first network protocol is up, with status 0, and the daemon goes on
// in the background, another process (a session leader, fds 0-2 on
// /dev/null, in /); the daemon survives SIGUSR1 (debug toggled) and
// SIGUSR2 with its link. When the link cannot come up (the password
// refused; no AC, the short PADI timeout given before nic-IF, where
// pppd's plugin takes it), the command returns the status the daemon
// ends with. pppd negotiates in the command's own process and forks only
// at the first network protocol (CompareOptions.PreDetach); until then it
// logs on stdout, and so does pppoed's daemon, which keeps the command's
// stdout until then (the wrong-password case runs without logfile to
// show it).
func TestPppdModeUpdetach(t *testing.T) {
	lab.Require(t)
	tests := []struct {
		name     string
		password string
		noAC     bool
		more     []string
		up       bool // the link comes up
		// noLogfile leaves logfile out: pppd then logs on stdout
		// until it detaches. (With logfile, given after the plugin,
		// only "Plugin rp-pppoe.so loaded." reaches stdout.)
		noLogfile bool
		known     []knownDifference
	}{
		{name: "up", password: modePass, up: true},
		{name: "wrong-password", password: "not-" + modePass, noLogfile: true},
		{name: "no-AC", password: modePass, noAC: true, more: []string{"pppoe-padi-timeout", "1", "pppoe-padi-attempts", "1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
			opt := lab.CompareOptions{LinkFlags: true, PreDetach: true}
			bothHalvesKnown(t, opt, tt.known, func(t *testing.T, impl lab.PPPDImpl) lab.PPPDObservation {
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				if !tt.noAC {
					startModeAC(t, p)
				}
				r := must[*lab.PPPDRun](t)(lab.NewPPPDRun(t, p.Client, impl))
				if err := r.WriteSecrets(lab.Secret{User: modeUser, Password: tt.password}); err != nil {
					t.Fatal(err)
				}
				for _, s := range []string{"ip-pre-up", "ip-up", "ip-down"} {
					if err := r.Record(s, s); err != nil {
						t.Fatal(err)
					}
				}
				var facts []lab.Fact
				fact := func(name, format string, args ...any) {
					facts = append(facts, lab.Fact{Name: name, Value: fmt.Sprintf(format, args...)})
				}
				start := time.Now()
				args := modeArgs(p.ClientIf, "updetach", tt.more...)
				if tt.noLogfile {
					i := slices.Index(args, "logfile")
					args = slices.Delete(args, i, i+2)
				}
				proc := must[*lab.Process](t)(r.Start("pppd", args...))
				if err := proc.Wait(ctx); err != nil && !proc.Exited() {
					t.Fatalf("%s updetach did not return: %v\nprocesses: %s\nlog:\n%s", impl, err, r.Processes(), lastLines(r.PPPDLog(), 40))
				}
				// What had happened by the time it returned.
				calls, err := r.Calls()
				if err != nil {
					t.Error(err)
				}
				left := r.Processes()
				ifname := ifnameOf(calls, p.Client)
				var v4 []lab.Addr
				if ifname != "" {
					v4, _ = p.Client.Addrs(ifname, netlink.FAMILY_V4)
				}
				lab.Report(t, "%s updetach: returned %d %s after start", impl, proc.ExitCode(), time.Since(start).Round(time.Millisecond))
				t.Logf("%s updetach returned %d; scripts by then %q; processes left: %s; its output:\n%s",
					impl, proc.ExitCode(), labelsOf(calls), left, proc.Log())
				fact("the command's exit status", "%d", proc.ExitCode())
				if tt.noLogfile {
					// pppd logs on stdout until it detaches (logfd 1).
					fact("the command's output tells why it failed", "%v", strings.Contains(strings.ToLower(proc.Log()), "authentication failed"))
				}
				fact("ip-pre-up had ended when the command returned", "%v", lab.Ended("ip-pre-up")(calls))
				fact("an IPv4 address on the interface when the command returned", "%v", len(v4) > 0)
				if !tt.up {
					// Nothing goes on: the status is the daemon's.
					fact("processes left when the command returned", "%s", left)
					daemon := pidFileDaemon(r, proc.Pid())
					waitNoPPP(t, ctx, p.Client)
					o := observe(t, r, daemon, ifname, proc.ExitCode(), facts)
					o.Started = proc.Pid()
					return o
				}

				daemon := daemonOf(t, ctx, r, p.Client, ifname)
				fact("the daemon is the process started", "%v", daemon == proc.Pid())
				facts = append(facts, daemonFacts(t, daemon, proc)...)
				if _, err := r.WaitCalls(ctx, "ip-up ended", lab.Ended("ip-up")); err != nil {
					t.Fatal(err)
				}
				facts = append(facts, netFacts(t, p.Client, ifname)...)

				// SIGUSR1 toggles debug logging, SIGUSR2 asks to
				// renegotiate compression (none here): the daemon goes
				// on with its link.
				for _, sig := range []unix.Signal{unix.SIGUSR1, unix.SIGUSR2} {
					if err := unix.Kill(daemon, sig); err != nil {
						t.Fatalf("%s: %v", sig, err)
					}
				}
				_, perr := p.Client.Ping(ctx, acAddr, 1)
				if perr != nil {
					t.Logf("%s: ping after SIGUSR1 and SIGUSR2: %v", impl, perr)
				}
				fact("ping through the link after SIGUSR1 and SIGUSR2", "%v", perr == nil)
				fact("the daemon alive after SIGUSR1 and SIGUSR2", "%v", lab.Alive(daemon))
				calls, _ = r.Calls()
				fact("scripts called after SIGUSR1 and SIGUSR2", "%q", labelsOf(calls))
				pf, _ := r.PidFileContent(ifname + ".pid")
				fact("the pid file after SIGUSR1 and SIGUSR2 names the daemon", "%v", pf == fmt.Sprintf("%d\n", daemon))

				if err := unix.Kill(daemon, unix.SIGTERM); err != nil {
					t.Fatal(err)
				}
				if err := lab.WaitGone(ctx, daemon); err != nil {
					t.Fatalf("the daemon %d outlived SIGTERM: %v\nprocesses: %s", daemon, err, r.Processes())
				}
				waitNoPPP(t, ctx, p.Client)
				if _, err := r.WaitCalls(ctx, "ip-down ended", lab.Ended("ip-down")); err != nil {
					t.Error(err)
				}
				o := observe(t, r, daemon, ifname, -1, facts)
				o.Started = proc.Pid()
				return o
			})
		})
	}
}

// ---- unit

// Scenario 6: `unit 7` makes the interface ppp7, its pid file
// /run/ppp7.pid and the scripts' UNIT 7; with ppp7 taken already (here by
// another interface of that name: the kernel refuses the unit's name as it
// refuses a unit in use, EEXIST) pppd warns and takes the first free unit.
func TestPppdModeUnit(t *testing.T) {
	lab.Require(t)
	for _, taken := range []bool{false, true} {
		name := "unit-7"
		if taken {
			name = "unit-7-taken"
		}
		t.Run(name, func(t *testing.T) {
			p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
			if taken {
				if _, err := p.Client.AddMacvlan(p.ClientIf, "ppp7"); err != nil {
					t.Fatal(err)
				}
			}
			bothHalves(t, lab.CompareOptions{LinkFlags: true}, func(t *testing.T, impl lab.PPPDImpl) lab.PPPDObservation {
				ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
				defer cancel()
				startModeAC(t, p)
				r := must[*lab.PPPDRun](t)(lab.NewPPPDRun(t, p.Client, impl))
				if err := r.WriteSecrets(lab.Secret{User: modeUser, Password: modePass}); err != nil {
					t.Fatal(err)
				}
				for _, s := range []string{"ip-pre-up", "ip-up", "ip-down"} {
					if err := r.Record(s, s); err != nil {
						t.Fatal(err)
					}
				}
				proc := must[*lab.Process](t)(r.Start("pppd", exitArgs(p.ClientIf, "unit", "7")...))
				calls, err := r.WaitCalls(ctx, "ip-up ended", lab.Ended("ip-up"))
				if err != nil {
					t.Fatal(err)
				}
				ifname := ifnameOf(calls, p.Client)
				facts := netFacts(t, p.Client, ifname)
				log := strings.ToLower(r.PPPDLog())
				facts = append(facts, lab.Fact{Name: "the log warns that unit 7 is in use",
					Value: fmt.Sprint(strings.Contains(log, "unit 7") && strings.Contains(log, "in use"))})
				if err := proc.Signal(syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
				exit := exitOf(t, ctx, r, proc)
				if _, err := r.WaitCalls(ctx, "ip-down ended", lab.Ended("ip-down")); err != nil {
					t.Error(err)
				}
				waitNoPPP(t, ctx, p.Client)
				return observe(t, r, proc.Pid(), ifname, exit, facts)
			})
		})
	}
}

// ---- dial on demand

// demandKnown are the ways pppoed differs from pppd 2.4.9 in demand mode,
// as TestPppdModeDemand shows them.
var demandKnown = []knownDifference{
	{Prefix: `before traffic: interface MTU: pppd "1500", pppoed "1492"`,
		Why: "before the first dial pppd leaves pppN's MTU at 1500; pppoed sets 1492"},
}

// Scenario 7: `demand idle 3`. pppd makes pppN at once, with placeholder
// addresses and the default route, before any traffic and without a
// session; a ping through it dials; ip-up runs; after 3 s without traffic
// the link is hung up (ip-down) and pppN waits again; SIGTERM ends it.
// pppd 2.4.9 here needs noipv6 for demand (exitArgs has it).
func TestPppdModeDemand(t *testing.T) {
	lab.Require(t)
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	bothHalvesKnown(t, lab.CompareOptions{LinkFlags: true}, demandKnown, func(t *testing.T, impl lab.PPPDImpl) lab.PPPDObservation {
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		srv := startModeAC(t, p)
		r := must[*lab.PPPDRun](t)(lab.NewPPPDRun(t, p.Client, impl))
		if err := r.WriteSecrets(lab.Secret{User: modeUser, Password: modePass}); err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{"ip-pre-up", "ip-up", "ip-down"} {
			if err := r.Record(s, s); err != nil {
				t.Fatal(err)
			}
		}
		var facts []lab.Fact
		fact := func(name, format string, args ...any) {
			facts = append(facts, lab.Fact{Name: name, Value: fmt.Sprintf(format, args...)})
		}
		sessions := func() int {
			s, err := srv.Sessions()
			if err != nil {
				t.Errorf("the AC's sessions: %v", err)
			}
			return len(s)
		}
		proc := must[*lab.Process](t)(r.Start("pppd", exitArgs(p.ClientIf, "demand", "idle", "3", "defaultroute")...))

		// Before any traffic: pppN, its pid file, no session. pppd's
		// demand_conf adds the default route last: that is the settled
		// state compared.
		var ifname string
		wctx, wcancel := context.WithTimeout(ctx, 15*time.Second)
		err := lab.Poll(wctx, 20*time.Millisecond, func() (bool, error) {
			ls, err := p.Client.PPPLinks()
			if err == nil && len(ls) == 1 && ls[0].Up {
				ifname = ls[0].Name
			}
			if proc.Exited() {
				return false, fmt.Errorf("exited with status %d", proc.ExitCode())
			}
			return ifname != "" && defaultVia(p.Client, ifname), nil
		})
		wcancel()
		if ifname == "" {
			t.Fatalf("%s demand: no PPP interface up before traffic: %v\nprocesses: %s\n%slog:\n%s", impl, err, r.Processes(), r.Outputs(), lastLines(r.PPPDLog(), 40))
		}
		// pppd writes it as it makes the unit (set_ifunit), at once
		// with demand.
		pctx, pcancel := context.WithTimeout(ctx, 2*time.Second)
		if _, err := r.WaitPidFile(pctx, ifname+".pid"); err != nil {
			t.Logf("%v", err)
		}
		pcancel()
		before := must[lab.Link](t)(p.Client.Link(ifname))
		for _, f := range netFacts(t, p.Client, ifname) {
			fact("before traffic: "+f.Name, "%s", f.Value)
		}
		fact("before traffic: pid files", "%q", existingPidFiles(r, proc.Pid()))
		fact("before traffic: sessions at the AC", "%d", sessions())
		calls, _ := r.Calls()
		fact("before traffic: scripts called", "%q", labelsOf(calls))

		// A ping dials. Whether the echo held while dialling is
		// answered is pppd's demand_rexmit (not compared: it is sent
		// again with the new source address, or not, and the ping may
		// give up first).
		dialStart := time.Now()
		first := must[*lab.Process](t)(p.Client.Start(t, "first ping", "busybox", "ping", "-c", "1", "-W", "15", acAddr.String()))
		calls, err = r.WaitCalls(ctx, "ip-up ended", lab.Ended("ip-up"))
		if err != nil {
			t.Fatal(err)
		}
		upAt := calls[slices.IndexFunc(calls, func(c lab.ScriptCall) bool { return c.Label == "ip-up" })].Begin
		lab.Report(t, "%s demand: ip-up began %s after the first ping", impl, upAt.Sub(dialStart).Round(time.Millisecond))
		defer func() {
			t.Logf("%s demand: the first ping (held while dialling), exited %v (status %d):\n%s", impl, first.Exited(), first.ExitCode(), first.Log())
		}()
		for _, f := range netFacts(t, p.Client, ifname) {
			fact("up: "+f.Name, "%s", f.Value)
		}
		_, perr := p.Client.Ping(ctx, acAddr, 1)
		fact("up: a ping is answered", "%v", perr == nil)
		fact("up: sessions at the AC", "%d", sessions())

		// No traffic for idle (3 s): hung up, pppN waits again.
		lastTraffic := time.Now()
		calls, err = r.WaitCalls(ctx, "ip-down ended", lab.Ended("ip-down"))
		if err != nil {
			t.Fatal(err)
		}
		downAt := calls[slices.IndexFunc(calls, func(c lab.ScriptCall) bool { return c.Label == "ip-down" })].Begin
		lab.Report(t, "%s demand: ip-down began %s after the last ping (idle 3)", impl, downAt.Sub(lastTraffic).Round(time.Millisecond))
		wctx, wcancel = context.WithTimeout(ctx, 15*time.Second)
		gone := lab.Poll(wctx, 100*time.Millisecond, func() (bool, error) { return sessions() == 0, nil })
		wcancel()
		fact("after idle: the AC's session ended", "%v", gone == nil)
		fact("after idle: the daemon still runs", "%v", !proc.Exited())
		after, err := p.Client.Link(ifname)
		fact("after idle: the same interface", "%v", err == nil && after.Index == before.Index)
		for _, f := range netFacts(t, p.Client, ifname) {
			fact("after idle: "+f.Name, "%s", f.Value)
		}
		fact("after idle: pid files", "%q", existingPidFiles(r, proc.Pid()))
		calls, _ = r.Calls()
		fact("after idle: scripts called", "%q", labelsOf(calls))

		if err := proc.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		exit := exitOf(t, ctx, r, proc)
		waitNoPPP(t, ctx, p.Client)
		return observe(t, r, proc.Pid(), ifname, exit, facts)
	})
}

// defaultVia reports whether the default route goes through ifname.
func defaultVia(ns *lab.Netns, ifname string) bool {
	rs, err := ns.Routes(netlink.FAMILY_V4)
	return err == nil && slices.ContainsFunc(rs, func(r lab.Route) bool { return r.IsDefault() && r.Link == ifname })
}

// existingPidFiles lists the pid files there now, as "NAME CONTENT", the
// daemon's pid written <pid>.
func existingPidFiles(r *lab.PPPDRun, daemon int) []string {
	var out []string
	for _, pf := range r.PidFiles() {
		if pf.Exists() {
			out = append(out, pf.Name+" "+strings.ReplaceAll(pf.Content, strconv.Itoa(daemon), "<pid>"))
		}
	}
	sort.Strings(out)
	return out
}
