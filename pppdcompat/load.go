package pppdcompat

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"os/user"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Paths pppd 2.4.9 uses (pathnames.h).
const (
	DefaultSysOptions = "/etc/ppp/options"
	DefaultPeersDir   = "/etc/ppp/peers"
)

// Defaults returns pppd's defaults: IPv4 and IPv6 on (see
// Options.IPv6), maxfail 10,
// holdoff 30 s, no LCP echoes, detach once the options are read,
// child-timeout 5 s, any unit, the default route's metric left to the
// kernel (-1), log lines to stdout while in the foreground, the scripts
// under /etc/ppp.
func Defaults() Options {
	return Options{
		MaxFail:            10,
		Holdoff:            30 * time.Second,
		Unit:               -1,
		DefaultRouteMetric: -1,
		ChildTimeout:       5 * time.Second,
		LogFD:              1,
		HidePassword:       true,
		IPv6:               true,
		Detach:             DetachEarly,
		IPPreUpScript:      "/etc/ppp/ip-pre-up",
		IPUpScript:         "/etc/ppp/ip-up",
		IPDownScript:       "/etc/ppp/ip-down",
		IPv6UpScript:       "/etc/ppp/ipv6-up",
		IPv6DownScript:     "/etc/ppp/ipv6-down",
	}
}

// Env is what Load needs of the system. Tests give fakes; SystemEnv
// gives the real one.
type Env struct {
	SysOptions string // the system options file (default /etc/ppp/options)
	PeersDir   string // where call looks (default /etc/ppp/peers)
	// Home is the real user's home directory, for ~/.ppprc ("" none).
	Home string
	// Privileged: the real user is root (pppd's privileged).
	Privileged bool
	// ReadFile reads a file with the process's rights (the files pppd
	// opens as root: /etc/ppp/options, /etc/ppp/options.IF).
	ReadFile func(name string) ([]byte, error)
	// ReadUserFile reads a file with the real user's rights, as pppd
	// does for ~/.ppprc, file, call and +ua (seteuid(getuid()) around
	// the open); nil: ReadFile.
	ReadUserFile func(name string) ([]byte, error)
	// InterfaceExists reports whether name is an existing Ethernet
	// interface, the plugin's test for a bare word or nic-NAME.
	InterfaceExists func(name string) bool
	// Stat is os.Stat, for the tty channel's device names (a word that
	// names a character device under /dev); nil: none exist.
	Stat func(name string) (fs.FileInfo, error)
	// InGroup reports whether the real user is in the named group
	// (privgroup); an error for an unknown group.
	InGroup func(group string) (bool, error)
	// Hostname is the host's name, the default of Name and so of User.
	Hostname string
	// HasDefaultRoute reports whether the host has a default route:
	// pppd then requires the peer to authenticate itself unless noauth
	// is given or the real user is privileged (auth_check_options).
	HasDefaultRoute func() bool
}

// SystemEnv is the real system's Env for the real user of this process.
func SystemEnv() Env {
	uid := os.Getuid()
	env := Env{
		SysOptions:      DefaultSysOptions,
		PeersDir:        DefaultPeersDir,
		Privileged:      uid == 0,
		ReadFile:        os.ReadFile,
		ReadUserFile:    func(name string) ([]byte, error) { return readAs(name, uid) },
		InterfaceExists: isEthernet,
		Stat:            os.Stat,
		InGroup:         inGroup,
		HasDefaultRoute: hasDefaultRoute,
	}
	// pppd takes the home of the real uid from the password database
	// (getpwuid), not $HOME.
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil {
		env.Home = u.HomeDir
	}
	env.Hostname, _ = os.Hostname()
	return env
}

// euidMu serializes the effective uid's changes of readAs.
var euidMu sync.Mutex

// readAs reads name with the rights of ruid, as pppd does with
// seteuid(getuid()) around its fopen: the whole process's effective uid
// changes for the open (Go applies it to every thread), which is safe
// while options are read, before anything else runs.
func readAs(name string, ruid int) ([]byte, error) {
	euid := os.Geteuid()
	if euid == ruid {
		return os.ReadFile(name)
	}
	euidMu.Lock()
	defer euidMu.Unlock()
	if err := syscall.Seteuid(ruid); err != nil {
		return nil, fmt.Errorf("unable to drop privileges to open %s: %w", name, err)
	}
	f, err := os.Open(name)
	if rerr := syscall.Seteuid(euid); rerr != nil {
		if f != nil {
			f.Close()
		}
		// pppd calls fatal() here: going on with the wrong rights
		// would be worse.
		panic(fmt.Sprintf("pppdcompat: unable to regain privileges: %v", rerr))
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var b bytes.Buffer
	_, err = b.ReadFrom(f)
	return b.Bytes(), err
}

// isEthernet is the plugin's test: an interface whose hardware type is
// ARPHRD_ETHER (1).
func isEthernet(name string) bool {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\x00") || len(name) >= syscall.IFNAMSIZ {
		return false
	}
	b, err := os.ReadFile("/sys/class/net/" + name + "/type")
	return err == nil && strings.TrimSpace(string(b)) == "1"
}

// inGroup is privgroup's test: the group's id among the process's
// supplementary groups (getgroups).
func inGroup(name string) (bool, error) {
	g, err := user.LookupGroup(name)
	if err != nil {
		return false, err
	}
	gid, err := strconv.Atoi(g.Gid)
	if err != nil {
		return false, err
	}
	groups, err := os.Getgroups()
	if err != nil {
		return false, err
	}
	return slices.Contains(groups, gid), nil
}

// hasDefaultRoute looks for an IPv4 default route in /proc/net/route
// (pppd's have_route_to(0)).
func hasDefaultRoute() bool {
	b, err := os.ReadFile("/proc/net/route")
	if err != nil {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Scan() // the header
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// Iface Destination Gateway Flags RefCnt Use Metric Mask
		if len(f) >= 8 && f[1] == "00000000" && f[7] == "00000000" {
			return true
		}
	}
	return false
}

// Load reads pppd's options as pppd 2.4.9 does: env.SysOptions, then
// ~/.ppprc, then args (the command line without argv[0]), with file and
// call read where they appear, then, once a PPPoE interface is named,
// env.SysOptions.IF. The Options it returns are pppd's after its parsing;
// Check says whether pppoed can run them. An error (*Error) is one
// line in pppd's words. With --version, --help or -h, reading stops
// there, as pppd exits there.
func Load(args []string, env Env) (*Options, error) {
	if env.SysOptions == "" {
		env.SysOptions = DefaultSysOptions
	}
	if env.PeersDir == "" {
		env.PeersDir = DefaultPeersDir
	}
	o := Defaults()
	p := &parser{env: &env, o: &o, privileged: env.Privileged,
		groups: map[string]*prioState{}, warned: map[string]bool{}}
	steps := []func() error{
		// main.c: the system file must exist unless the user is root;
		// it is privileged and opened with our rights.
		func() error {
			return p.readOptionsFile(env.SysOptions, !p.privileged, false, true, oprioCfgFile, nil, "")
		},
		// options_from_user: privileged only if the user is, opened as
		// the user, may be missing.
		func() error {
			if env.Home == "" {
				return nil
			}
			return p.readOptionsFile(strings.TrimSuffix(env.Home, "/")+"/.ppprc", false, true, p.privileged, oprioCfgFile, nil, "")
		},
		func() error { return p.parseArgs(args) },
		// The plugin's PPPOEDeviceOptions, at the priority the command
		// line left: privileged, opened with our rights, may be missing;
		// the interface can no longer change.
		func() error {
			p.devnamFixed = true
			if !p.pppoe {
				return nil
			}
			return p.readOptionsFile(env.SysOptions+"."+o.Interface, false, false, true, oprioCmdline, nil, "")
		},
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
		if p.stop {
			return &o, nil
		}
	}
	p.finish()
	return &o, nil
}

// finish does what pppd does once every source is read and before its
// checks: the detach mode, the scripts' environment, our name and the
// user name (auth_check_options), the link from a pty, the default
// authentication rule.
func (p *parser) finish() {
	o := p.o
	switch {
	case p.nodetach:
		o.Detach = NoDetach
	case p.updetach:
		o.Detach = UpDetach
	default:
		o.Detach = DetachEarly
	}
	for _, e := range p.userEnv {
		if e.set {
			o.Env = append(o.Env, e.name+"="+e.value)
		} else {
			o.Unset = append(o.Unset, e.name)
		}
	}
	// setdomain appends the domain to the host name, with a dot unless
	// it starts with one.
	hostname := p.env.Hostname
	if p.domain != "" {
		if p.domain[0] != '.' {
			hostname += "."
		}
		hostname += p.domain
	}
	if o.Name == "" || o.UseHostname {
		o.Name = hostname
	}
	if o.User == "" && !p.explicitUser {
		o.User = o.Name
	}
	// The channel: the plugin's interface, else the tty channel's pty
	// or serial device.
	switch {
	case p.pppoe:
		if p.pty != nil {
			p.withdraw("pty")
			p.warnAt(*p.pty, "pty ignored: the link is the PPPoE interface "+q(o.Interface))
		}
	case p.pty != nil:
		o.PTY = p.ptyCmd
		o.Interface, o.ServiceName, o.ACName = p.ptyIface, p.ptyService, p.ptyACName
	case p.ttyDevice != nil:
		p.unsupported = append(p.unsupported, pending{"device", Unsupported{
			Option: p.ttyDevice.option, Source: p.ttyDevice.source, Line: p.ttyDevice.line,
			Reason: "a serial device: pppoed speaks PPPoE only (plugin rp-pppoe.so and nic-IF)"}})
	}
	// auth_check_options: with a default route, a user who is not
	// privileged must have the peer authenticate unless noauth.
	if !o.Auth && !p.allowAnyIP && !p.privileged && p.env.HasDefaultRoute != nil && p.env.HasDefaultRoute() {
		o.Auth = true
		p.unsupported = append(p.unsupported, pending{"auth", Unsupported{Option: "auth",
			Reason: "pppd requires the peer to authenticate itself when a user who is not root starts it while a default route exists, unless noauth is given; " + noteAuth}})
	}
	o.NoAuth = p.allowAnyIP && !o.Auth
	o.Privileged = p.privileged
	for _, e := range p.unsupported {
		o.Unsupported = append(o.Unsupported, e.u)
	}
}

func (p *parser) warnAt(w where, msg string) {
	if w.source != "" {
		msg = fmt.Sprintf("In file %s (line %d): %s", q(w.source), w.line, msg)
	}
	p.o.Warnings = append(p.o.Warnings, msg)
}

// Check refuses options pppoed cannot run: the first of o.Unsupported,
// no PPPoE interface, and what pppd itself refuses once the options are
// read. The error is one line (*Error).
func (o *Options) Check() error {
	if len(o.Unsupported) > 0 {
		return o.Unsupported[0].err()
	}
	if o.Interface == "" {
		return &Error{Msg: `no PPPoE interface: pppoed needs "plugin rp-pppoe.so" (or pppoe.so) and nic-IF, or pty "pppoe -I IF"`}
	}
	if len(o.Interface) >= syscall.IFNAMSIZ {
		return &Error{Msg: fmt.Sprintf("interface %s: longer than %d bytes", q(o.Interface), syscall.IFNAMSIZ-1)}
	}
	if len(o.Ifname) >= syscall.IFNAMSIZ {
		return &Error{Option: "ifname", Msg: fmt.Sprintf("ifname %s: longer than %d bytes (the kernel's interface names)", q(o.Ifname), syscall.IFNAMSIZ-1)}
	}
	if o.NoIP && !o.IPv6 {
		return &Error{Option: "noip", Msg: "noip without +ipv6 leaves no network protocol to run"}
	}
	// ipv6_check_options: on demand, the peer's identifier must be
	// known before the link is up; ours is made up when not given.
	if o.Demand && o.IPv6 && o.IPv6RemoteID == [8]byte{} && !(o.IPv6CPUseIPAddr && o.RemoteIP.IsValid()) {
		return &Error{Option: "demand", Msg: "local/remote LL address required for demand-dialling"}
	}
	return nil
}
