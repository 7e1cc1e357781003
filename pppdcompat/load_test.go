package pppdcompat

import (
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fakeSys is the system Load sees in these tests: files, interfaces,
// devices, groups. Nothing under /etc is read.
type fakeSys struct {
	files map[string]string
	// denied are the files the real user may not read (ReadUserFile
	// fails with EACCES; ReadFile, with our rights, reads them).
	denied map[string]bool
	ifaces []string
	// devs are the paths Stat finds, with their mode.
	devs         map[string]fs.FileMode
	groups       map[string]bool // privgroup: member or not; absent: unknown
	defaultRoute bool
	hostname     string

	rootReads, userReads []string
}

// dirContent marks a file that is a directory.
const dirContent = "\x00dir"

func newSys() *fakeSys {
	return &fakeSys{
		files:    map[string]string{"/etc/ppp/options": ""},
		ifaces:   []string{"eth0", "eth1", "eth0.6"},
		hostname: "gw",
	}
}

func (f *fakeSys) read(name string, user bool) ([]byte, error) {
	if user {
		f.userReads = append(f.userReads, name)
		if f.denied[name] {
			return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.EACCES}
		}
	} else {
		f.rootReads = append(f.rootReads, name)
	}
	s, ok := f.files[name]
	if !ok {
		return nil, &fs.PathError{Op: "open", Path: name, Err: syscall.ENOENT}
	}
	if s == dirContent {
		return nil, &fs.PathError{Op: "read", Path: name, Err: syscall.EISDIR}
	}
	return []byte(s), nil
}

type fakeInfo struct{ mode fs.FileMode }

func (fakeInfo) Name() string           { return "" }
func (fakeInfo) Size() int64            { return 0 }
func (i fakeInfo) Mode() fs.FileMode    { return i.mode }
func (fakeInfo) ModTime() (t time.Time) { return t }
func (i fakeInfo) IsDir() bool          { return i.mode.IsDir() }
func (fakeInfo) Sys() any               { return nil }

// env is the Env of a real user who is root (priv) or not.
func (f *fakeSys) env(priv bool) Env {
	return Env{
		Home:            "/home/alice",
		Privileged:      priv,
		ReadFile:        func(n string) ([]byte, error) { return f.read(n, false) },
		ReadUserFile:    func(n string) ([]byte, error) { return f.read(n, true) },
		InterfaceExists: func(n string) bool { return slices.Contains(f.ifaces, n) },
		Stat: func(n string) (fs.FileInfo, error) {
			if m, ok := f.devs[n]; ok {
				return fakeInfo{m}, nil
			}
			if strings.HasPrefix(n, "/dev/null/") {
				return nil, &fs.PathError{Op: "stat", Path: n, Err: syscall.ENOTDIR}
			}
			return nil, &fs.PathError{Op: "stat", Path: n, Err: syscall.ENOENT}
		},
		InGroup: func(g string) (bool, error) {
			m, ok := f.groups[g]
			if !ok {
				return false, errors.New("unknown group")
			}
			return m, nil
		},
		Hostname:        f.hostname,
		HasDefaultRoute: func() bool { return f.defaultRoute },
	}
}

func testdata(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func mustLoad(t *testing.T, args []string, env Env) *Options {
	t.Helper()
	o, err := Load(args, env)
	if err != nil {
		t.Fatalf("Load(%q): %v", args, err)
	}
	return o
}

func TestDefaults(t *testing.T) {
	d := Defaults()
	want := Options{
		MaxFail: 10, Holdoff: 30 * time.Second, Unit: -1, DefaultRouteMetric: -1,
		ChildTimeout: 5 * time.Second, LogFD: 1, HidePassword: true, IPv6: true, Detach: DetachEarly,
		IPPreUpScript: "/etc/ppp/ip-pre-up", IPUpScript: "/etc/ppp/ip-up", IPDownScript: "/etc/ppp/ip-down",
		IPv6UpScript: "/etc/ppp/ipv6-up", IPv6DownScript: "/etc/ppp/ipv6-down",
	}
	if !reflect.DeepEqual(d, want) {
		t.Errorf("Defaults() = %+v\nwant %+v", d, want)
	}
	// pppd's defaults that are zero values: IPv4 on, no echoes.
	if d.NoIP || d.EchoInterval != 0 || d.EchoFailure != 0 || d.Persist || d.Demand {
		t.Errorf("Defaults() = %+v", d)
	}
	// Load with nothing anywhere gives them, with the host name as our
	// name and user.
	o := mustLoad(t, nil, newSys().env(true))
	want.Name, want.User, want.Privileged = "gw", "gw", true
	if !reflect.DeepEqual(*o, want) {
		t.Errorf("Load(nil) = %+v\nwant %+v", *o, want)
	}
}

// TestGoldenPppoeconf reads Debian's /etc/ppp/options and the peers file
// pppoeconf writes, as "pon dsl-provider" starts pppd (pppd call
// dsl-provider), as root.
func TestGoldenPppoeconf(t *testing.T) {
	sys := newSys()
	sys.files["/etc/ppp/options"] = testdata(t, "debian-options")
	sys.files["/etc/ppp/peers/dsl-provider"] = testdata(t, "pppoeconf-dsl-provider")
	o := mustLoad(t, []string{"call", "dsl-provider"}, sys.env(true))
	want := Defaults()
	// /etc/ppp/options: asyncmap 0, auth, crtscts, lock, hide-password,
	// modem, lcp-echo-interval 30, lcp-echo-failure 4, noipx.
	want.EchoInterval, want.EchoFailure = 30*time.Second, 4
	// The peers file; noauth takes back /etc/ppp/options' auth.
	want.NoIPDefault, want.DefaultRoute, want.ReplaceDefaultRoute = true, true, true
	want.NoAuth, want.Persist = true, true
	want.Plugins, want.Interface = []string{"rp-pppoe.so"}, "eth0"
	want.User, want.UsePeerDNS = "alice@example.net", true
	want.Name, want.Privileged, want.CallFile = "gw", true, "dsl-provider"
	want.Warnings = []string{
		"In file /etc/ppp/options (line 30): asyncmap ignored: " + noteAsync,
		"In file /etc/ppp/options (line 41): crtscts ignored: " + noteSerial,
		"In file /etc/ppp/options (line 62): lock ignored: " + noteSerial,
		"In file /etc/ppp/options (line 75): modem ignored: " + noteSerial,
		"In file /etc/ppp/options (line 299): noipx ignored: " + noteNoop,
	}
	if !reflect.DeepEqual(*o, want) {
		t.Errorf("got  %+v\nwant %+v", *o, want)
	}
	if err := o.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	// Every file was read as pppd reads it: /etc/ppp/options with our
	// rights, ~/.ppprc and the peers file as the real user,
	// /etc/ppp/options.eth0 with our rights.
	if want := []string{"/etc/ppp/options", "/etc/ppp/options.eth0"}; !slices.Equal(sys.rootReads, want) {
		t.Errorf("read with our rights: %q, want %q", sys.rootReads, want)
	}
	if want := []string{"/home/alice/.ppprc", "/etc/ppp/peers/dsl-provider"}; !slices.Equal(sys.userReads, want) {
		t.Errorf("read as the user: %q, want %q", sys.userReads, want)
	}
	// Without noauth, Debian's auth stands, and pppoed refuses it.
	sys.files["/etc/ppp/peers/dsl-provider"] = strings.Replace(testdata(t, "pppoeconf-dsl-provider"), "noauth", "", 1)
	o = mustLoad(t, []string{"call", "dsl-provider"}, sys.env(true))
	checkErr(t, o.Check(), "In file /etc/ppp/options (line 37): auth: "+noteAuth)
}

// TestGoldenDebianPty reads Debian's old dsl-provider, whose link is
// rp-pppoe's pppoe in user space: pty "/usr/sbin/pppoe -I eth0 -T 80 -m
// 1452" with "connect /bin/true". pppoed takes the interface from -I.
func TestGoldenDebianPty(t *testing.T) {
	sys := newSys()
	sys.files["/etc/ppp/options"] = testdata(t, "debian-options")
	sys.files["/etc/ppp/peers/dsl-provider"] = testdata(t, "debian-dsl-provider")
	o := mustLoad(t, []string{"call", "dsl-provider"}, sys.env(true))
	want := Defaults()
	want.Interface, want.PTY = "eth0", "/usr/sbin/pppoe -I eth0 -T 80 -m 1452"
	want.NoIPDefault, want.UsePeerDNS, want.DefaultRoute = true, true, true
	// The peers file's echoes override /etc/ppp/options' (same
	// priority, later).
	want.EchoInterval, want.EchoFailure = 20*time.Second, 3
	want.NoAuth, want.Persist, want.MTU = true, true, 1492
	// No user line: pppd uses the host name.
	want.Name, want.User, want.Privileged, want.CallFile = "gw", "gw", true, "dsl-provider"
	peers := "In file /etc/ppp/peers/dsl-provider "
	want.Warnings = []string{
		"In file /etc/ppp/options (line 30): asyncmap ignored: " + noteAsync,
		"In file /etc/ppp/options (line 41): crtscts ignored: " + noteSerial,
		"In file /etc/ppp/options (line 62): lock ignored: " + noteSerial,
		"In file /etc/ppp/options (line 75): modem ignored: " + noteSerial,
		"In file /etc/ppp/options (line 299): noipx ignored: " + noteNoop,
		peers + "(line 23): pty: pppoe -T (its own idle timeout) ignored: lcp-echo-interval watches the link",
		peers + "(line 23): pty: pppoe -m (TCP MSS clamping) is not done by pppoed: clamp with a firewall rule (TCPMSS --clamp-mss-to-pmtu)",
		peers + "(line 66): connect ignored: " + noteScript,
		peers + "(line 74): noaccomp ignored: " + noteAsync,
		peers + "(line 76): default-asyncmap ignored: " + noteAsync,
	}
	if !reflect.DeepEqual(*o, want) {
		t.Errorf("got  %+v\nwant %+v", *o, want)
	}
	if err := o.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	// No options.IF file for a pty link (tty_process_extra_options).
	if slices.Contains(sys.rootReads, "/etc/ppp/options.eth0") {
		t.Errorf("read /etc/ppp/options.eth0 for a pty link")
	}
}

// openWrtArgs is the command line netifd's ppp.sh (OpenWrt 23.05,
// package/network/services/ppp/files/ppp.sh, ppp_generic_setup and
// proto_pppoe_setup) gives pppd for a PPPoE interface "wan" on eth0.6
// with the defaults (keepalive "5 1", ipv6 auto, mtu 1492) and
// peerdns 0, as ps shows it on a router.
var openWrtArgs = []string{
	"nodetach", "ipparam", "wan", "ifname", "pppoe-wan",
	"lcp-echo-interval", "1", "lcp-echo-failure", "5", "lcp-echo-adaptive",
	"+ipv6", "set", "AUTOIPV6=1", "set", "PEERDNS=0",
	"nodefaultroute", "usepeerdns", "maxfail", "1",
	"user", "internet", "password", "s3cret pass",
	"ip-up-script", "/lib/netifd/ppp-up", "ipv6-up-script", "/lib/netifd/ppp6-up",
	"ip-down-script", "/lib/netifd/ppp-down", "ipv6-down-script", "/lib/netifd/ppp-down",
	"mtu", "1492", "mru", "1492",
	"plugin", "pppoe.so", "nic-eth0.6",
}

// openWrtOptions is OpenWrt's /etc/ppp/options
// (package/network/services/ppp/files/etc/ppp/options).
const openWrtOptions = "debug\nlogfile /dev/null\nnoipdefault\nnoaccomp\nnopcomp\nnocrtscts\nlock\nmaxfail 0\n"

func TestGoldenOpenWrt(t *testing.T) {
	sys := newSys()
	sys.files["/etc/ppp/options"] = openWrtOptions
	o := mustLoad(t, openWrtArgs, sys.env(true))
	want := Defaults()
	want.Debug, want.Logfile, want.LogFD, want.NoIPDefault = true, "/dev/null", -1, true
	want.Detach, want.IPParam, want.Ifname = NoDetach, "wan", "pppoe-wan"
	want.EchoInterval, want.EchoFailure, want.EchoAdaptive = time.Second, 5, true
	want.IPv6, want.Env = true, []string{"AUTOIPV6=1", "PEERDNS=0"}
	want.UsePeerDNS, want.MaxFail = true, 1
	want.User, want.Password = "internet", "s3cret pass"
	want.IPUpScript, want.IPv6UpScript = "/lib/netifd/ppp-up", "/lib/netifd/ppp6-up"
	want.IPDownScript, want.IPv6DownScript = "/lib/netifd/ppp-down", "/lib/netifd/ppp-down"
	want.MTU, want.MRU = 1492, 1492
	want.Plugins, want.Interface = []string{"pppoe.so"}, "eth0.6"
	want.Name, want.Privileged = "gw", true
	want.Warnings = []string{
		"In file /etc/ppp/options (line 4): noaccomp ignored: " + noteAsync,
		"In file /etc/ppp/options (line 5): nopcomp ignored: " + noteAsync,
		"In file /etc/ppp/options (line 6): nocrtscts ignored: " + noteSerial,
		"In file /etc/ppp/options (line 7): lock ignored: " + noteSerial,
	}
	if !reflect.DeepEqual(*o, want) {
		t.Errorf("got  %+v\nwant %+v", *o, want)
	}
	if err := o.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}
	if want := []string{"/etc/ppp/options", "/etc/ppp/options.eth0.6"}; !slices.Equal(sys.rootReads, want) {
		t.Errorf("read with our rights: %q, want %q", sys.rootReads, want)
	}

	// The variants ppp.sh makes: an unnumbered local address, persist,
	// demand (with its filter, which pppoed cannot honour).
	args := slices.Insert(slices.Clone(openWrtArgs), 5, "192.0.2.1:")
	args = slices.Insert(args, len(args)-3, "persist", "holdoff", "10")
	o = mustLoad(t, args, sys.env(true))
	if o.LocalIP != netip.MustParseAddr("192.0.2.1") || o.RemoteIP.IsValid() || !o.Persist || o.Holdoff != 10*time.Second {
		t.Errorf("local %v remote %v persist %v holdoff %v", o.LocalIP, o.RemoteIP, o.Persist, o.Holdoff)
	}
	args = slices.Insert(slices.Clone(openWrtArgs), 17, "precompiled-active-filter", "/etc/ppp/filter", "demand", "idle", "600")
	o = mustLoad(t, args, sys.env(true))
	if !o.Demand || !o.Persist || o.Idle != 600*time.Second {
		t.Errorf("demand %v persist %v idle %v", o.Demand, o.Persist, o.Idle)
	}
	checkErr(t, o.Check(), "precompiled-active-filter: pppoed has no packet filters: all traffic counts as activity")
}

func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Errorf("no error, want %q", want)
		return
	}
	if err.Error() != want {
		t.Errorf("error %q\nwant      %q", err, want)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Errorf("error %T is not an *Error", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q is more than one line", err)
	}
}

// TestPrecedence covers pppd's sources and their priorities (OPRIO_*),
// privileges and OPT_PRIVFIX.
func TestPrecedence(t *testing.T) {
	const peer = "/etc/ppp/peers/isp"
	const pppoeIsp = "plugin rp-pppoe.so\nnic-eth0\nnoauth\n"
	tests := []struct {
		name    string
		priv    bool
		files   map[string]string
		args    []string
		check   func(o *Options) bool
		err     string
		warning string
	}{
		{name: "command line over the system file", priv: true,
			files: map[string]string{"/etc/ppp/options": "mru 1400\nholdoff 5"},
			args:  []string{"mru", "1300"},
			check: func(o *Options) bool { return o.MRU == 1300 && o.Holdoff == 5*time.Second }},
		{name: "the system file cannot override the command line: it comes first", priv: true,
			files: map[string]string{"/etc/ppp/options": "nopersist"},
			args:  []string{"persist"},
			check: func(o *Options) bool { return o.Persist }},
		{name: "~/.ppprc over the system file (same priority, later)", priv: true,
			files: map[string]string{"/etc/ppp/options": "persist", "/home/alice/.ppprc": "nopersist"},
			check: func(o *Options) bool { return !o.Persist }},
		{name: "command line over ~/.ppprc", priv: true,
			files: map[string]string{"/home/alice/.ppprc": "holdoff 5"},
			args:  []string{"holdoff", "7"},
			check: func(o *Options) bool { return o.Holdoff == 7*time.Second }},
		{name: "call file and command line: the later wins", priv: true,
			files: map[string]string{peer: "holdoff 9"},
			args:  []string{"holdoff", "7", "call", "isp"},
			check: func(o *Options) bool { return o.Holdoff == 9*time.Second }},
		{name: "command line after the call file wins", priv: true,
			files: map[string]string{peer: "holdoff 9"},
			args:  []string{"call", "isp", "holdoff", "7"},
			check: func(o *Options) bool { return o.Holdoff == 7*time.Second }},
		{name: "a call file in the system file has the system file's priority", priv: true,
			files: map[string]string{"/etc/ppp/options": "call isp", peer: "holdoff 9"},
			args:  []string{"holdoff", "7"},
			check: func(o *Options) bool { return o.Holdoff == 7*time.Second }},
		{name: "options.IF after the command line", priv: true,
			files: map[string]string{peer: pppoeIsp, "/etc/ppp/options.eth0": "mru 1300\ndebug"},
			args:  []string{"call", "isp", "mru", "1200"},
			check: func(o *Options) bool { return o.MRU == 1300 && o.Debug }},
		{name: "options.IF cannot change the interface", priv: true,
			files: map[string]string{peer: pppoeIsp, "/etc/ppp/options.eth0": "\neth1"},
			args:  []string{"call", "isp"},
			err:   "In file /etc/ppp/options.eth0 (line 2): the device name may not be changed in /etc/ppp/options.eth0"},
		{name: "the user's connect is overridden by the privileged peers file", priv: false,
			files:   map[string]string{peer: "connect /bin/true\npty 'pppoe -I eth1'"},
			args:    []string{"connect", "/bin/false", "call", "isp"},
			check:   func(o *Options) bool { return o.Interface == "eth1" },
			warning: "In file /etc/ppp/peers/isp (line 1): connect option from /etc/ppp/peers/isp overrides command line"},
		{name: "the user cannot override the peers file's connect", priv: false,
			files: map[string]string{peer: "connect /bin/true"},
			args:  []string{"call", "isp", "connect", "/bin/false"},
			err:   "connect option set in /etc/ppp/peers/isp cannot be overridden"},
		{name: "nor its pty", priv: false,
			files: map[string]string{peer: "pty 'pppoe -I eth0'"},
			args:  []string{"call", "isp", "pty", "pppoe -I eth1"},
			err:   "pty option set in /etc/ppp/peers/isp cannot be overridden"},
		{name: "root's command line overrides the peers file's connect", priv: true,
			files: map[string]string{peer: "connect /bin/true\npty 'pppoe -I eth0'"},
			args:  []string{"call", "isp", "pty", "pppoe -I eth1", "connect", "/bin/false"},
			check: func(o *Options) bool { return o.Interface == "eth1" }},
		{name: "a user's file is not privileged", priv: false,
			files: map[string]string{"/tmp/o": "noauth"},
			args:  []string{"file", "/tmp/o"},
			err:   "In file /tmp/o (line 1): using the noauth option requires root privilege"},
		{name: "a file named by a peers file is privileged", priv: false,
			files: map[string]string{peer: "file /tmp/o", "/tmp/o": "noauth\nifname ppp9"},
			args:  []string{"call", "isp"},
			check: func(o *Options) bool { return o.NoAuth && o.Ifname == "ppp9" }},
		{name: "~/.ppprc is not privileged for a user", priv: false,
			files: map[string]string{"/home/alice/.ppprc": "\n\nifname ppp9"},
			err:   "In file /home/alice/.ppprc (line 3): using the ifname option requires root privilege"},
		{name: "~/.ppprc is privileged for root", priv: true,
			files: map[string]string{"/home/alice/.ppprc": "ifname ppp9"},
			check: func(o *Options) bool { return o.Ifname == "ppp9" }},
		{name: "the system file is privileged", priv: false,
			files: map[string]string{"/etc/ppp/options": "ifname ppp9\nnoauth"},
			check: func(o *Options) bool { return o.Ifname == "ppp9" && o.NoAuth }},
		{name: "privgroup makes the user's command line privileged", priv: false,
			files: map[string]string{"/etc/ppp/options": "privgroup dip"},
			args:  []string{"noauth"},
			check: func(o *Options) bool { return o.NoAuth && o.Privileged }},
		{name: "privgroup for a group the user is not in", priv: false,
			files: map[string]string{"/etc/ppp/options": "privgroup wheel"},
			args:  []string{"noauth"},
			err:   "using the noauth option requires root privilege"},
		{name: "privgroup for an unknown group", priv: true,
			files: map[string]string{"/etc/ppp/options": "privgroup nogroup"},
			err:   "In file /etc/ppp/options (line 1): group nogroup is unknown"},
		{name: "privgroup from the user is refused", priv: false,
			args: []string{"privgroup", "dip"},
			err:  "using the privgroup option requires root privilege"},
		{name: "auth in the system file, noauth in the peers file", priv: false,
			files: map[string]string{"/etc/ppp/options": "auth", peer: "noauth"},
			args:  []string{"call", "isp"},
			check: func(o *Options) bool { return !o.Auth && o.NoAuth && len(o.Unsupported) == 0 }},
		{name: "noauth then require-pap: auth stands", priv: true,
			args:  []string{"noauth", "require-pap"},
			check: func(o *Options) bool { return o.Auth && !o.NoAuth && len(o.Unsupported) == 1 }},
		{name: "the user's noauth below the system file's auth is refused", priv: false,
			files: map[string]string{"/etc/ppp/options": "auth"},
			args:  []string{"noauth"},
			err:   "using the noauth option requires root privilege"},
		{name: "set: a user cannot change a privileged source's variable", priv: false,
			files: map[string]string{"/etc/ppp/options": "set A=1\nset B=2\nunset C"},
			args:  []string{"set", "A=3", "set", "D=4", "unset", "B", "set", "C=5"},
			check: func(o *Options) bool {
				return slices.Equal(o.Env, []string{"A=1", "B=2", "D=4"}) && slices.Equal(o.Unset, []string{"C"})
			}},
		{name: "set: root can", priv: true,
			files: map[string]string{"/etc/ppp/options": "set A=1\nset B=2\nunset C"},
			args:  []string{"set", "A=3", "set", "D=4", "unset", "B", "set", "C=5"},
			check: func(o *Options) bool {
				return slices.Equal(o.Env, []string{"A=3", "C=5", "D=4"}) && slices.Equal(o.Unset, []string{"B"})
			}},
		{name: "maxconnect: a user may lower the limit", priv: false,
			files: map[string]string{"/etc/ppp/options": "maxconnect 100"},
			args:  []string{"maxconnect", "50"},
			check: func(o *Options) bool { return o.MaxConnect == 50*time.Second }},
		{name: "maxconnect: a user may not raise it", priv: false,
			files: map[string]string{"/etc/ppp/options": "maxconnect 100"},
			args:  []string{"maxconnect", "200"},
			err:   "maxconnect value cannot be increased"},
		{name: "maxconnect: nor lift it", priv: false,
			files: map[string]string{"/etc/ppp/options": "maxconnect 100"},
			args:  []string{"maxconnect", "0"},
			err:   "maxconnect value cannot be increased"},
		{name: "maxconnect: root may", priv: true,
			files: map[string]string{"/etc/ppp/options": "maxconnect 100"},
			args:  []string{"maxconnect", "0"},
			check: func(o *Options) bool { return o.MaxConnect == 0 }},
		{name: "defaultroute after nodefaultroute is disabled", priv: true,
			files: map[string]string{"/etc/ppp/options": "nodefaultroute"},
			args:  []string{"defaultroute"},
			err:   "defaultroute option is disabled"},
		{name: "defaultroute6 after nodefaultroute6 is disabled", priv: true,
			args: []string{"nodefaultroute6", "defaultroute6"},
			err:  "defaultroute6 option is disabled"},
		{name: "proxyarp after noproxyarp is disabled", priv: true,
			args: []string{"noproxyarp", "proxyarp"},
			err:  "proxyarp option is disabled"},
		{name: "nodetach wins over updetach given before it", priv: true,
			args:  []string{"updetach", "nodetach"},
			check: func(o *Options) bool { return o.Detach == NoDetach }},
		{name: "updetach after nodetach clears it", priv: true,
			args:  []string{"nodetach", "updetach"},
			check: func(o *Options) bool { return o.Detach == UpDetach }},
		{name: "a lower priority updetach leaves nodetach", priv: true,
			files: map[string]string{"/etc/ppp/options": "call isp", peer: "updetach"},
			args:  []string{"nodetach"},
			check: func(o *Options) bool { return o.Detach == NoDetach }},
		{name: "demand sets persist whatever persist's priority", priv: true,
			files: map[string]string{"/etc/ppp/options": "demand"},
			args:  []string{"nopersist"},
			check: func(o *Options) bool { return o.Demand && !o.Persist }},
		{name: "demand after nopersist", priv: true,
			args:  []string{"nopersist", "demand"},
			check: func(o *Options) bool { return o.Demand && o.Persist }},
		{name: "addresses: each side at the highest priority", priv: true,
			files: map[string]string{"/etc/ppp/options": "192.0.2.1:192.0.2.2", "/home/alice/.ppprc": "192.0.2.3:"},
			args:  []string{":192.0.2.9"},
			check: func(o *Options) bool {
				return o.LocalIP == netip.MustParseAddr("192.0.2.3") && o.RemoteIP == netip.MustParseAddr("192.0.2.9")
			}},
		{name: "addresses: 0.0.0.0 changes nothing", priv: true,
			args: []string{"192.0.2.1:", "0.0.0.0:"},
			check: func(o *Options) bool {
				return o.LocalIP == netip.MustParseAddr("192.0.2.1")
			}},
		{name: "noipv6 after ipv6", priv: true,
			files: map[string]string{"/etc/ppp/options": "call isp", peer: "ipv6 ::1,::2"},
			args:  []string{"noipv6"},
			check: func(o *Options) bool { return !o.IPv6 && o.IPv6LocalID == [8]byte{7: 1} }},
		{name: "the user's +ua file", priv: false,
			files:   map[string]string{"/home/alice/ua": "bob\nhunter2\n"},
			args:    []string{"+ua", "/home/alice/ua"},
			check:   func(o *Options) bool { return o.User == "bob" && o.Password == "" },
			warning: "+ua: the password in /home/alice/ua is not used (pppd 2.4.9 never takes it): give it in pap-secrets or with password"},
		{name: "+ua below a peers file's user", priv: true,
			files: map[string]string{"/home/alice/ua": "bob\nhunter2\n", "/etc/ppp/options": "call isp", peer: "user carol"},
			args:  []string{"+ua", "/home/alice/ua"},
			check: func(o *Options) bool { return o.User == "bob" }},
		{name: "a peers file's user after +ua", priv: true,
			files: map[string]string{"/home/alice/ua": "bob\nhunter2\n", peer: "user carol"},
			args:  []string{"+ua", "/home/alice/ua", "call", "isp"},
			check: func(o *Options) bool { return o.User == "carol" }},
		{name: "+ua without a second line", priv: true,
			files: map[string]string{"/home/alice/ua": "bob\n"},
			args:  []string{"+ua", "/home/alice/ua"},
			err:   "unable to read user login data file /home/alice/ua"},
		{name: "+ua missing", priv: true,
			args: []string{"+ua", "/home/alice/ua"},
			err:  "unable to open user login data file /home/alice/ua"},
		{name: "domain: our name and user", priv: true,
			args:  []string{"domain", "example.net"},
			check: func(o *Options) bool { return o.Name == "gw.example.net" && o.User == "gw.example.net" }},
		{name: "domain with its dot; name; usehostname", priv: true,
			args:  []string{"domain", ".example.net", "name", "me", "usehostname"},
			check: func(o *Options) bool { return o.Name == "gw.example.net" && o.User == "gw.example.net" }},
		{name: "an empty user is kept (explicit)", priv: true,
			args:  []string{"name", "me", "user", ""},
			check: func(o *Options) bool { return o.Name == "me" && o.User == "" }},
		{name: "file within file beyond the bound", priv: true,
			files: map[string]string{"/tmp/loop": "file /tmp/loop"},
			args:  []string{"file", "/tmp/loop"},
			err:   "In file /tmp/loop (line 1): file: options files nested more than 16 deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := newSys()
			sys.groups = map[string]bool{"dip": true, "wheel": false}
			for k, v := range tt.files {
				sys.files[k] = v
			}
			o, err := Load(tt.args, sys.env(tt.priv))
			if tt.err != "" {
				checkErr(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if !tt.check(o) {
				t.Errorf("got %+v", *o)
			}
			if tt.warning != "" && !slices.Contains(o.Warnings, tt.warning) {
				t.Errorf("warnings %q\nlack %q", o.Warnings, tt.warning)
			}
		})
	}
}

// TestDefaultAuth is auth_check_options' rule: a user who is not root,
// with a default route in place and no noauth, must have the peer
// authenticate itself, which pppoed refuses.
func TestDefaultAuth(t *testing.T) {
	for _, tt := range []struct {
		priv, route bool
		peers       string
		want        string
	}{
		{false, true, "plugin rp-pppoe.so\nnic-eth0", "auth: pppd requires the peer to authenticate itself when a user who is not root starts it while a default route exists, unless noauth is given; " + noteAuth},
		{false, true, "plugin rp-pppoe.so\nnic-eth0\nnoauth", ""},
		{false, false, "plugin rp-pppoe.so\nnic-eth0", ""},
		{true, true, "plugin rp-pppoe.so\nnic-eth0", ""},
	} {
		sys := newSys()
		sys.defaultRoute = tt.route
		sys.files["/etc/ppp/peers/isp"] = tt.peers
		o := mustLoad(t, []string{"call", "isp"}, sys.env(tt.priv))
		err := o.Check()
		if tt.want == "" {
			if err != nil {
				t.Errorf("priv %v route %v %q: %v", tt.priv, tt.route, tt.peers, err)
			}
			continue
		}
		checkErr(t, err, tt.want)
	}
}

// TestFiles is how each source is opened and what its absence means.
func TestFiles(t *testing.T) {
	tests := []struct {
		name    string
		priv    bool
		setup   func(s *fakeSys)
		args    []string
		err     string
		warning string
	}{
		{name: "no system file, root", priv: true,
			setup: func(s *fakeSys) { delete(s.files, "/etc/ppp/options") }},
		{name: "no system file, a user", priv: false,
			setup: func(s *fakeSys) { delete(s.files, "/etc/ppp/options") },
			err:   "Can't open options file /etc/ppp/options: No such file or directory"},
		{name: "~/.ppprc the user cannot read",
			setup: func(s *fakeSys) {
				s.files["/home/alice/.ppprc"] = "debug"
				s.denied = map[string]bool{"/home/alice/.ppprc": true}
			},
			warning: "Warning: can't open options file /home/alice/.ppprc: Permission denied"},
		{name: "a peers file the user cannot read",
			setup: func(s *fakeSys) {
				s.files["/etc/ppp/peers/isp"] = "debug"
				s.denied = map[string]bool{"/etc/ppp/peers/isp": true}
			},
			args: []string{"call", "isp"},
			err:  "Can't open options file /etc/ppp/peers/isp: Permission denied"},
		{name: "a missing peers file", priv: true,
			args: []string{"call", "nope"},
			err:  "Can't open options file /etc/ppp/peers/nope: No such file or directory"},
		{name: "a missing peers file named in a file", priv: true,
			setup: func(s *fakeSys) { s.files["/etc/ppp/peers/isp"] = "debug\n call nope" },
			args:  []string{"call", "isp"},
			err:   "In file /etc/ppp/peers/isp (line 2): Can't open options file /etc/ppp/peers/nope: No such file or directory"},
		{name: "a missing file", priv: true,
			args: []string{"file", "/tmp/nope"},
			err:  "Can't open options file /tmp/nope: No such file or directory"},
		{name: "a directory", priv: true,
			setup: func(s *fakeSys) { s.files["/tmp/dir"] = dirContent },
			args:  []string{"file", "/tmp/dir"},
			err:   "Error reading /tmp/dir: Is a directory"},
		{name: "a directory as ~/.ppprc", priv: true,
			setup: func(s *fakeSys) { s.files["/home/alice/.ppprc"] = dirContent },
			err:   "Error reading /home/alice/.ppprc: Is a directory"},
		{name: "a subdirectory of peers", priv: true,
			setup: func(s *fakeSys) { s.files["/etc/ppp/peers/a/b"] = "debug" },
			args:  []string{"call", "a/b"}},
		{name: "an unterminated quote", priv: true,
			setup: func(s *fakeSys) { s.files["/etc/ppp/peers/isp"] = "debug\nuser \"bob" },
			args:  []string{"call", "isp"},
			err:   "In file /etc/ppp/peers/isp (line 2): unterminated \" quote"},
		{name: "too many files", priv: true,
			setup: func(s *fakeSys) {
				s.files["/tmp/a"] = strings.Repeat("file /tmp/b\n", 130)
				s.files["/tmp/b"] = "debug"
			},
			args: []string{"file", "/tmp/a"},
			err:  "In file /tmp/a (line 126): file: more than 128 options files read"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := newSys()
			if tt.setup != nil {
				tt.setup(sys)
			}
			o, err := Load(tt.args, sys.env(tt.priv))
			if tt.err != "" {
				checkErr(t, err, tt.err)
				return
			}
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if tt.warning != "" && !slices.Contains(o.Warnings, tt.warning) {
				t.Errorf("warnings %q\nlack %q", o.Warnings, tt.warning)
			}
		})
	}
}

func TestCallName(t *testing.T) {
	const bad = "call option value may not contain .. or start with /"
	for _, tt := range []struct{ name, err string }{
		{"../passwd", bad},
		{"a/../b", bad},
		{"a/..", bad},
		{"..", bad},
		{"/etc/passwd", bad},
		{"", bad},
		{"a//..", bad},
		{"..isp", "Can't open options file /etc/ppp/peers/..isp: No such file or directory"},
		{"isp..", "Can't open options file /etc/ppp/peers/isp..: No such file or directory"},
		{"sub/isp", "Can't open options file /etc/ppp/peers/sub/isp: No such file or directory"},
	} {
		sys := newSys()
		_, err := Load([]string{"call", tt.name}, sys.env(true))
		checkErr(t, err, tt.err)
		if tt.err == bad && len(sys.userReads) > 1 {
			t.Errorf("call %q read %q", tt.name, sys.userReads)
		}
	}
}

// TestStop: --version and --help stop the reading where they are, as
// pppd exits there; what comes before them still counts.
func TestStop(t *testing.T) {
	sys := newSys()
	o := mustLoad(t, []string{"debug", "--version", "nosuchoption"}, sys.env(true))
	if !o.ShowVersion || !o.Debug {
		t.Errorf("got %+v", *o)
	}
	o = mustLoad(t, []string{"-h", "nosuchoption"}, sys.env(true))
	if !o.ShowHelp {
		t.Errorf("got %+v", *o)
	}
	sys.files["/etc/ppp/peers/isp"] = "--help\nnosuchoption"
	o = mustLoad(t, []string{"call", "isp", "nosuchoption"}, sys.env(true))
	if !o.ShowHelp {
		t.Errorf("got %+v", *o)
	}
	_, err := Load([]string{"nosuchoption", "--version"}, sys.env(true))
	checkErr(t, err, "unrecognized option 'nosuchoption'")
}

func TestCheck(t *testing.T) {
	tests := []struct {
		name string
		args []string
		devs map[string]fs.FileMode
		err  string
	}{
		{name: "fine", args: []string{"plugin", "rp-pppoe.so", "eth1"}},
		{name: "no interface", args: []string{"plugin", "rp-pppoe.so"},
			err: `no PPPoE interface: pppoed needs "plugin rp-pppoe.so" (or pppoe.so) and nic-IF, or pty "pppoe -I IF"`},
		{name: "a serial device", args: []string{"ttyS0", "38400"},
			devs: map[string]fs.FileMode{"/dev/ttyS0": fs.ModeDevice | fs.ModeCharDevice},
			err:  "/dev/ttyS0: a serial device: pppoed speaks PPPoE only (plugin rp-pppoe.so and nic-IF)"},
		{name: "a serial device, then the PPPoE interface", args: []string{"/dev/ttyS0", "plugin", "rp-pppoe.so", "nic-eth0"},
			devs: map[string]fs.FileMode{"/dev/ttyS0": fs.ModeDevice | fs.ModeCharDevice}},
		{name: "a pty that is not pppoe", args: []string{"pty", "pptp vpn.example.net --nolaunchpppd"},
			err: `pty: not rp-pppoe's pppoe; pppoed runs no pty command, it understands only pty "pppoe -I IF [-S service] [-C ac-name]"`},
		{name: "a pty with a shell", args: []string{"pty", "pppoe -I $IF"},
			err: `pty: a shell construct in the command; pppoed runs no pty command, it understands only pty "pppoe -I IF [-S service] [-C ac-name]"`},
		{name: "a pty replaced by a good one", args: []string{"pty", "pptp x", "pty", "pppoe -I eth0"}},
		{name: "a pty, then the interface", args: []string{"pty", "pptp x", "plugin", "rp-pppoe.so", "nic-eth0"}},
		{name: "ifname too long", args: []string{"plugin", "rp-pppoe.so", "eth1", "ifname", "a-very-long-name0"},
			err: "ifname a-very-long-name0: longer than 15 bytes (the kernel's interface names)"},
		{name: "noip and noipv6", args: []string{"plugin", "rp-pppoe.so", "eth1", "noip", "noipv6"},
			err: "noip without +ipv6 leaves no network protocol to run"},
		{name: "noip with IPv6 (pppd's default)", args: []string{"plugin", "rp-pppoe.so", "eth1", "noip"}},
		{name: "noip with IPv6", args: []string{"plugin", "rp-pppoe.so", "eth1", "-ipv6", "noip", "+ipv6"}},
		{name: "demand with IPv6 (pppd's default)", args: []string{"plugin", "rp-pppoe.so", "eth1", "demand"},
			err: "local/remote LL address required for demand-dialling"},
		{name: "demand without IPv6", args: []string{"plugin", "rp-pppoe.so", "eth1", "demand", "noipv6"}},
		{name: "demand with IPv6 identifiers", args: []string{"plugin", "rp-pppoe.so", "eth1", "demand", "ipv6", "::1,::2"}},
		{name: "demand with IPv6 from the IPv4 addresses", args: []string{"plugin", "rp-pppoe.so", "eth1", "demand", "+ipv6", "ipv6cp-use-ipaddr", "192.0.2.1:192.0.2.2"}},
		{name: "demand with only our identifier", args: []string{"plugin", "rp-pppoe.so", "eth1", "demand", "ipv6", "::1"},
			err: "local/remote LL address required for demand-dialling"},
		{name: "multilink", args: []string{"plugin", "rp-pppoe.so", "eth1", "mp"},
			err: "mp: pppoed does not do multilink (RFC 1990)"},
		{name: "multilink taken back", args: []string{"plugin", "rp-pppoe.so", "eth1", "mp", "nomultilink"}},
		{name: "mppe taken back", args: []string{"plugin", "rp-pppoe.so", "eth1", "require-mppe-128", "require-mppe", "nomppe"}},
		{name: "mppe-128 taken back, not mppe-40", args: []string{"plugin", "rp-pppoe.so", "eth1", "require-mppe-40", "+mppe-128", "-mppe-128"},
			err: "require-mppe-40: pppoed does not do MPPE encryption"},
		{name: "maxoctets", args: []string{"plugin", "rp-pppoe.so", "eth1", "maxoctets", "1000"},
			err: "maxoctets: pppoed has no traffic limit (0, no limit, is accepted)"},
		{name: "maxoctets 0", args: []string{"plugin", "rp-pppoe.so", "eth1", "maxoctets", "1000", "mo", "0"}},
		{name: "the first of several", args: []string{"plugin", "rp-pppoe.so", "eth1", "ipx", "callback", "x"},
			err: "ipx: pppoed does not do IPX"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := newSys()
			sys.devs = tt.devs
			o := mustLoad(t, tt.args, sys.env(true))
			err := o.Check()
			if tt.err == "" {
				if err != nil {
					t.Errorf("Check: %v", err)
				}
				return
			}
			checkErr(t, err, tt.err)
		})
	}
	// An Unsupported entry from a file names it.
	sys := newSys()
	sys.files["/etc/ppp/peers/isp"] = "plugin rp-pppoe.so\n\nnic-eth0\n  multilink"
	o := mustLoad(t, []string{"call", "isp"}, sys.env(true))
	checkErr(t, o.Check(), "In file /etc/ppp/peers/isp (line 4): multilink: pppoed does not do multilink (RFC 1990)")
	want := []Unsupported{{Option: "multilink", Source: "/etc/ppp/peers/isp", Line: 4, Reason: "pppoed does not do multilink (RFC 1990)"}}
	if !reflect.DeepEqual(o.Unsupported, want) {
		t.Errorf("Unsupported = %+v", o.Unsupported)
	}
}

// TestZeroEnv: an Env with nothing in it reads nothing and does not
// fail for it, except where pppd requires a file.
func TestZeroEnv(t *testing.T) {
	for _, tt := range []struct {
		args []string
		env  Env
		err  string
	}{
		{nil, Env{}, "Can't open options file /etc/ppp/options: No such file or directory"},
		{[]string{"plugin", "rp-pppoe.so", "+ua", "/x"}, Env{Privileged: true}, "unable to open user login data file /x"},
		{[]string{"privgroup", "dip"}, Env{Privileged: true}, "group dip is unknown"},
		{[]string{"plugin", "rp-pppoe.so", "ttyS0"}, Env{Privileged: true}, "unrecognized option 'ttyS0'"},
		{[]string{"call", "isp"}, Env{Privileged: true, PeersDir: "/p/"}, "Can't open options file /p/isp: No such file or directory"},
	} {
		o, err := Load(tt.args, tt.env)
		checkErr(t, err, tt.err)
		if o != nil {
			t.Errorf("got %+v", *o)
		}
	}
}

// TestReadAs opens files with another user's rights, as pppd's
// check_prot does; it needs root to change its effective uid.
func TestReadAs(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	dir := t.TempDir()
	for _, d := range []string{filepath.Dir(dir), dir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	secret, public := filepath.Join(dir, "secret"), filepath.Join(dir, "public")
	if err := os.WriteFile(secret, []byte("noauth"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(public, []byte("debug"), 0o644); err != nil {
		t.Fatal(err)
	}
	const nobody = 65534
	if _, err := readAs(secret, nobody); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("readAs(secret, nobody) = %v, want permission denied", err)
	}
	if b, err := readAs(public, nobody); err != nil || string(b) != "debug" {
		t.Errorf("readAs(public, nobody) = %q, %v", b, err)
	}
	if b, err := readAs(secret, 0); err != nil || string(b) != "noauth" {
		t.Errorf("readAs(secret, root) = %q, %v", b, err)
	}
	if os.Geteuid() != 0 {
		t.Fatalf("effective uid left at %d", os.Geteuid())
	}
}

// TestSystemEnv checks the real Env's pieces that need no privilege.
func TestSystemEnv(t *testing.T) {
	env := SystemEnv()
	if env.SysOptions != DefaultSysOptions || env.PeersDir != DefaultPeersDir || env.Privileged != (os.Getuid() == 0) {
		t.Errorf("SystemEnv() = %+v", env)
	}
	if env.InterfaceExists("lo") {
		t.Error("lo is not an Ethernet interface")
	}
	for _, bad := range []string{"", ".", "..", "../lo", "a/b", strings.Repeat("e", 16)} {
		if isEthernet(bad) {
			t.Errorf("isEthernet(%q)", bad)
		}
	}
	ifaces, _ := net.Interfaces()
	for _, i := range ifaces {
		if len(i.HardwareAddr) == 6 && i.Flags&net.FlagLoopback == 0 && strings.HasPrefix(i.Name, "eth") {
			if !env.InterfaceExists(i.Name) {
				t.Errorf("InterfaceExists(%q) = false", i.Name)
			}
		}
	}
}
