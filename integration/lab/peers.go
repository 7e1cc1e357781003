package lab

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
)

// Secret is one user of the reference peers. Secrets go into
// /etc/ppp/{chap,pap}-secrets, never onto a command line.
type Secret struct {
	User, Password string
}

// Auth is an authentication protocol the reference server requires.
type Auth string

const (
	AuthPAP      Auth = "pap"
	AuthCHAP     Auth = "chap"
	AuthMSCHAPv2 Auth = "mschap-v2"
	AuthNone     Auth = "none"
)

// pppd's option for requiring each protocol of the peer.
var requireOption = map[Auth]string{
	AuthPAP:      "require-pap",
	AuthCHAP:     "require-chap",
	AuthMSCHAPv2: "require-mschap-v2",
	AuthNone:     "noauth",
}

// The secrets files are shared by every lab in the process (pppd has no
// option to read others), so entries are registered and the files rewritten.
var secrets struct {
	sync.Mutex
	next    int
	entries map[int]Secret
}

const etcPPP = "/etc/ppp"

func validSecretField(s string) error {
	if strings.ContainsAny(s, "\"\\\n\r\t") {
		return errors.New("must not contain quotes, backslashes or control characters")
	}
	return nil
}

// addSecrets registers users for the scope's lifetime.
func addSecrets(s Scope, list []Secret) error {
	if len(list) == 0 {
		return nil
	}
	for _, e := range list {
		if e.User == "" {
			return errors.New("lab: secret with an empty user name")
		}
		if err := validSecretField(e.User); err != nil {
			return fmt.Errorf("lab: user %q: %w", e.User, err)
		}
		if err := validSecretField(e.Password); err != nil {
			return fmt.Errorf("lab: password of %q: %w", e.User, err)
		}
	}
	secrets.Lock()
	defer secrets.Unlock()
	if secrets.entries == nil {
		secrets.entries = map[int]Secret{}
	}
	var ids []int
	for _, e := range list {
		secrets.next++
		secrets.entries[secrets.next] = e
		ids = append(ids, secrets.next)
	}
	s.Cleanup(func() {
		secrets.Lock()
		defer secrets.Unlock()
		for _, id := range ids {
			delete(secrets.entries, id)
		}
		_ = writeSecrets()
	})
	return writeSecrets()
}

// renderSecrets is the secrets file for entries, in registration order:
// `client server secret addresses`, any server and any address.
func renderSecrets(entries map[int]Secret) string {
	ids := make([]int, 0, len(entries))
	for id := range entries {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	var b strings.Builder
	b.WriteString("# written by pppoed's integration lab\n")
	for _, id := range ids {
		e := entries[id]
		fmt.Fprintf(&b, "%q\t*\t%q\t*\n", e.User, e.Password)
	}
	return b.String()
}

// writeSecrets replaces the files atomically: pppd processes of parallel
// tests read them at any moment and must never see one half-written.
func writeSecrets() error {
	content := renderSecrets(secrets.entries)
	for _, f := range []string{"chap-secrets", "pap-secrets"} {
		tmp, err := os.CreateTemp(etcPPP, "."+f+"-*")
		if err != nil {
			return fmt.Errorf("lab: %w", err)
		}
		_, err = tmp.WriteString(content)
		if cerr := tmp.Close(); err == nil {
			err = cerr
		}
		if err == nil {
			err = os.Rename(tmp.Name(), filepath.Join(etcPPP, f))
		}
		if err != nil {
			os.Remove(tmp.Name())
			return fmt.Errorf("lab: %w", err)
		}
	}
	return nil
}

// ensurePluginLink makes /etc/ppp/plugins/rp-pppoe.so point at pppd's
// plugin, where Debian's pppoe-server looks for it.
func ensurePluginLink() error {
	link := filepath.Join(etcPPP, "plugins", "rp-pppoe.so")
	if _, err := os.Stat(link); err == nil {
		return nil
	}
	matches, _ := filepath.Glob("/usr/lib/pppd/*/rp-pppoe.so")
	if len(matches) == 0 {
		return errors.New("lab: pppd's rp-pppoe.so plugin is missing: apt-get install ppp")
	}
	if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	if err := os.Symlink(matches[len(matches)-1], link); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("lab: %w", err)
	}
	return nil
}

// ServerConfig configures the reference access concentrator.
type ServerConfig struct {
	Interface    string     // required
	Auth         Auth       // required of clients; default CHAP
	ServiceNames []string   // advertised (-S); none: any service
	ACName       string     // -C; default "lab-ac"
	Local        netip.Addr // the AC's address; default 10.64.0.1
	PoolStart    netip.Addr // first client address; default 10.64.0.2
	PoolSize     int        // concurrent sessions; default 8
	Secrets      []Secret   // users the AC accepts
	EchoInterval int        // LCP echo interval in seconds; 0: none
	EchoFailure  int        // unanswered echoes before the AC hangs up
	DNS          []netip.Addr
	PPPDOptions  []string // more pppd options, one per element
}

// PPPoEServer is a running pppoe-server.
type PPPoEServer struct {
	*Process
	Config ServerConfig
	// PPPDLog is the file the per-session pppd processes log to.
	PPPDLog string
	ns      *Netns
}

// optionsFile renders the pppd options pppoe-server passes to each session.
func (c ServerConfig) optionsFile(logPath string) string {
	lines := []string{
		requireOption[c.Auth],
		"name " + c.ACName,
		"debug",
		"logfile " + logPath,
	}
	if c.EchoInterval > 0 {
		lines = append(lines, fmt.Sprintf("lcp-echo-interval %d", c.EchoInterval))
		if c.EchoFailure > 0 {
			lines = append(lines, fmt.Sprintf("lcp-echo-failure %d", c.EchoFailure))
		}
	}
	for _, d := range c.DNS {
		lines = append(lines, "ms-dns "+d.String())
	}
	lines = append(lines, c.PPPDOptions...)
	return strings.Join(lines, "\n") + "\n"
}

func (c *ServerConfig) fill() error {
	if c.Interface == "" {
		return errors.New("lab: ServerConfig.Interface is required")
	}
	if c.Auth == "" {
		c.Auth = AuthCHAP
	}
	if _, ok := requireOption[c.Auth]; !ok {
		return fmt.Errorf("lab: unknown auth %q", c.Auth)
	}
	if c.ACName == "" {
		c.ACName = "lab-ac"
	}
	if !c.Local.IsValid() {
		c.Local = netip.MustParseAddr("10.64.0.1")
	}
	if !c.PoolStart.IsValid() {
		c.PoolStart = netip.MustParseAddr("10.64.0.2")
	}
	if c.PoolSize <= 0 {
		c.PoolSize = 8
	}
	return nil
}

// args is pppoe-server's command line (no secrets on it).
func (c ServerConfig) args(optionsPath string) []string {
	args := []string{"pppoe-server", "-F", "-I", c.Interface, "-C", c.ACName,
		"-L", c.Local.String(), "-R", c.PoolStart.String(), "-N", strconv.Itoa(c.PoolSize), "-O", optionsPath}
	for _, s := range c.ServiceNames {
		args = append(args, "-S", s)
	}
	return args
}

// StartPPPoEServer starts Debian's pppoe-server in ns and returns once it
// listens for discovery packets.
func StartPPPoEServer(s Scope, ns *Netns, cfg ServerConfig) (*PPPoEServer, error) {
	s.Helper()
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	if err := ensurePluginLink(); err != nil {
		return nil, err
	}
	if err := addSecrets(s, cfg.Secrets); err != nil {
		return nil, err
	}
	name := uniqueName("pppoe-server")
	dir := s.TempDir()
	logPath := filepath.Join(dir, name+"-pppd.log")
	opts := filepath.Join(dir, name+".options")
	if err := os.WriteFile(opts, []byte(cfg.optionsFile(logPath)), 0o644); err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	p, err := ns.Start(s, "pppoe-server", cfg.args(opts)...)
	if err != nil {
		return nil, err
	}
	srv := &PPPoEServer{Process: p, Config: cfg, PPPDLog: logPath, ns: ns}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := waitPacketSocket(ctx, p); err != nil {
		return nil, fmt.Errorf("lab: pppoe-server did not start listening: %w\n%s", err, p.Log())
	}
	return srv, nil
}

// Log returns pppoe-server's own output followed by its sessions' pppd log.
func (s *PPPoEServer) Log() string {
	b, _ := os.ReadFile(s.PPPDLog)
	return s.Process.Log() + "\n--- pppd sessions ---\n" + string(b)
}

// WaitPPPDLog waits until the sessions' pppd log contains substr.
func (s *PPPoEServer) WaitPPPDLog(ctx context.Context, substr string) error {
	return waitFile(ctx, s.PPPDLog, substr, nil)
}

// Sessions lists the pids of the per-session pppd processes.
func (s *PPPoEServer) Sessions() ([]int, error) { return s.ns.Processes("pppd") }

// waitPacketSocket waits until p holds an AF_PACKET socket, which
// pppoe-server opens to hear PADIs: from then on discovery cannot be lost.
func waitPacketSocket(ctx context.Context, p *Process) error {
	return Poll(ctx, 10*time.Millisecond, func() (bool, error) {
		if p.Exited() {
			return false, fmt.Errorf("%s exited: %v", p.Name, p.err)
		}
		inodes, err := packetSocketInodes(p.Pid())
		if err != nil || len(inodes) == 0 {
			return false, nil
		}
		fds, _ := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.Pid()))
		for _, fd := range fds {
			target, err := os.Readlink(fmt.Sprintf("/proc/%d/fd/%s", p.Pid(), fd.Name()))
			if err != nil {
				continue
			}
			if ino, ok := strings.CutPrefix(target, "socket:["); ok && inodes[strings.TrimSuffix(ino, "]")] {
				return true, nil
			}
		}
		return false, nil
	})
}

// packetSocketInodes reads the inodes of the packet sockets in pid's network
// namespace from /proc/PID/net/packet (the last column).
func packetSocketInodes(pid int) (map[string]bool, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/net/packet", pid))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fs := strings.Fields(sc.Text())
		if len(fs) > 0 && fs[0] != "sk" {
			out[fs[len(fs)-1]] = true
		}
	}
	return out, sc.Err()
}

// PPPDConfig configures the reference client: pppd with rp-pppoe.so.
type PPPDConfig struct {
	Interface   string // the Ethernet interface (required)
	User        string
	Password    string // goes into the secrets files, not argv
	Unit        int    // ppp unit; 0 picks a unique one
	ServiceName string
	ACName      string
	Options     []string // more pppd options
}

// PPPD is a running reference client.
type PPPD struct {
	*Process
	Config PPPDConfig
	Ifname string // ppp<unit>
	// PPPDLog is pppd's own debug log (its logfile option).
	PPPDLog string
	ns      *Netns
}

// Log returns pppd's output followed by its debug log.
func (c *PPPD) Log() string {
	b, _ := os.ReadFile(c.PPPDLog)
	return c.Process.Log() + string(b)
}

var nextUnit struct {
	sync.Mutex
	n int
}

// args is pppd's command line.
func (c PPPDConfig) args(logPath string) []string {
	args := []string{"pppd", "plugin", "rp-pppoe.so", "nic-" + c.Interface,
		"user", c.User, "noauth", "nodetach", "debug", "logfile", logPath,
		"unit", strconv.Itoa(c.Unit), "noipdefault", "mtu", "1492", "mru", "1492", "maxfail", "1"}
	if c.ServiceName != "" {
		args = append(args, "rp_pppoe_service", c.ServiceName)
	}
	if c.ACName != "" {
		args = append(args, "rp_pppoe_ac", c.ACName)
	}
	return append(args, c.Options...)
}

// StartPPPD starts the reference client in ns (in the foreground, so the
// returned process is pppd itself).
func StartPPPD(s Scope, ns *Netns, cfg PPPDConfig) (*PPPD, error) {
	s.Helper()
	return startPPPD(s, ns, cfg, func(name string, args ...string) (*Process, error) { return ns.Start(s, name, args...) })
}

// startPPPD starts pppd in ns through start.
func startPPPD(s Scope, ns *Netns, cfg PPPDConfig, start func(name string, args ...string) (*Process, error)) (*PPPD, error) {
	if cfg.Interface == "" || cfg.User == "" {
		return nil, errors.New("lab: PPPDConfig needs Interface and User")
	}
	if cfg.Unit == 0 {
		// Units are per namespace, but pppd's pid file (/run/pppN.pid) is
		// not: unique units keep concurrent labs apart.
		nextUnit.Lock()
		nextUnit.n++
		cfg.Unit = 100 + nextUnit.n
		nextUnit.Unlock()
	}
	if err := addSecrets(s, []Secret{{cfg.User, cfg.Password}}); err != nil {
		return nil, err
	}
	logPath := filepath.Join(s.TempDir(), uniqueName("pppd")+".log")
	p, err := start("pppd", cfg.args(logPath)...)
	if err != nil {
		return nil, err
	}
	return &PPPD{Process: p, Config: cfg, Ifname: "ppp" + strconv.Itoa(cfg.Unit), PPPDLog: logPath, ns: ns}, nil
}

// WaitUp waits until the client's ppp interface is up with an IPv4 address
// and returns that address; it fails early, with pppd's log, if pppd exits.
func (c *PPPD) WaitUp(ctx context.Context) (Addr, error) {
	var got Addr
	err := Poll(ctx, 20*time.Millisecond, func() (bool, error) {
		if c.Exited() {
			return false, fmt.Errorf("pppd exited with status %d", c.ExitCode())
		}
		l, err := c.ns.nl.LinkByName(c.Ifname)
		if err != nil || l.Attrs().Flags&net.FlagUp == 0 {
			return false, nil
		}
		as, err := c.ns.Addrs(c.Ifname, netlink.FAMILY_V4)
		// pppd sets the local address and the peer's in two ioctls
		// (SIOCSIFADDR, SIOCSIFDSTADDR): wait for both.
		if err != nil || len(as) == 0 || !as[0].Peer.IsValid() {
			return false, nil
		}
		got = as[0]
		return true, nil
	})
	if err != nil {
		return Addr{}, fmt.Errorf("lab: %s not up: %w\npppd log:\n%s", c.Ifname, err, tail(c.Log(), 40))
	}
	return got, nil
}

// PPPoESession is a line of /proc/net/pppoe: a kernel PPPoE session.
type PPPoESession struct {
	ID     uint16
	Peer   net.HardwareAddr
	Device string
}

// PPPoESessions lists the kernel's PPPoE sessions in the namespace of pid.
func PPPoESessions(pid int) ([]PPPoESession, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/net/pppoe", pid))
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	return parsePPPoESessions(string(b))
}

// parsePPPoESessions parses /proc/net/pppoe (drivers/net/ppp/pppoe.c,
// pppoe_seq_show): a header, then "%08X %pM %8s" per session. The kernel
// prints the id as it stores it, in network byte order, so on a
// little-endian host session 1 reads "00000100".
func parsePPPoESessions(s string) ([]PPPoESession, error) {
	var out []PPPoESession
	for i, line := range strings.Split(strings.TrimSpace(s), "\n") {
		fs := strings.Fields(line)
		if i == 0 || len(fs) == 0 {
			continue // header
		}
		if len(fs) != 3 {
			return nil, fmt.Errorf("lab: /proc/net/pppoe line %d: %q", i+1, line)
		}
		id, err := strconv.ParseUint(fs[0], 16, 16)
		if err != nil {
			return nil, fmt.Errorf("lab: /proc/net/pppoe line %d: id: %w", i+1, err)
		}
		mac, err := net.ParseMAC(fs[1])
		if err != nil {
			return nil, fmt.Errorf("lab: /proc/net/pppoe line %d: %w", i+1, err)
		}
		var raw [2]byte
		binary.NativeEndian.PutUint16(raw[:], uint16(id))
		out = append(out, PPPoESession{ID: binary.BigEndian.Uint16(raw[:]), Peer: mac, Device: fs[2]})
	}
	return out, nil
}
