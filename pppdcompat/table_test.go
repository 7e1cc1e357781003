package pppdcompat

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// optionCase exercises a Supported option: its words (the option and
// its argument, or more), and what it must set.
type optionCase struct {
	args  []string
	check func(o *Options) bool
}

// supportedCases has a case for every Supported option of the table
// (aliases are checked against them by TestAliases).
var supportedCases = map[string]optionCase{
	"debug":               {nil, func(o *Options) bool { return o.Debug }},
	"nodetach":            {nil, func(o *Options) bool { return o.Detach == NoDetach }},
	"up_sdnotify":         {nil, func(o *Options) bool { return o.SdNotify && o.Detach == NoDetach }},
	"updetach":            {nil, func(o *Options) bool { return o.Detach == UpDetach }},
	"holdoff":             {[]string{"holdoff", "3"}, func(o *Options) bool { return o.Holdoff == 3*time.Second }},
	"idle":                {[]string{"idle", "3"}, func(o *Options) bool { return o.Idle == 3*time.Second }},
	"maxconnect":          {[]string{"maxconnect", "3"}, func(o *Options) bool { return o.MaxConnect == 3*time.Second }},
	"domain":              {[]string{"domain", "example.net"}, func(o *Options) bool { return o.Name == "gw.example.net" }},
	"file":                {[]string{"file", "/tmp/opts"}, func(o *Options) bool { return o.Debug }},
	"call":                {[]string{"call", "peer"}, func(o *Options) bool { return o.Debug && o.CallFile == "peer" }},
	"persist":             {nil, func(o *Options) bool { return o.Persist }},
	"nopersist":           {[]string{"persist", "nopersist"}, func(o *Options) bool { return !o.Persist }},
	"demand":              {nil, func(o *Options) bool { return o.Demand && o.Persist }},
	"--version":           {nil, func(o *Options) bool { return o.ShowVersion }},
	"--help":              {nil, func(o *Options) bool { return o.ShowHelp }},
	"logfile":             {[]string{"logfile", "/var/log/ppp"}, func(o *Options) bool { return o.Logfile == "/var/log/ppp" && o.LogFD == -1 && !o.LogfileAsUser }},
	"logfd":               {[]string{"logfile", "/x", "logfd", "3"}, func(o *Options) bool { return o.LogFD == 3 && o.Logfile == "" }},
	"nolog":               {[]string{"logfile", "/x", "nolog"}, func(o *Options) bool { return o.LogFD == -1 && o.Logfile == "" }},
	"linkname":            {[]string{"linkname", "isp"}, func(o *Options) bool { return o.Linkname == "isp" }},
	"maxfail":             {[]string{"maxfail", "3"}, func(o *Options) bool { return o.MaxFail == 3 }},
	"unit":                {[]string{"unit", "3"}, func(o *Options) bool { return o.Unit == 3 }},
	"ifname":              {[]string{"ifname", "ppp-isp"}, func(o *Options) bool { return o.Ifname == "ppp-isp" }},
	"dump":                {nil, func(o *Options) bool { return o.Dump }},
	"dryrun":              {nil, func(o *Options) bool { return o.Dryrun }},
	"child-timeout":       {[]string{"child-timeout", "3"}, func(o *Options) bool { return o.ChildTimeout == 3*time.Second }},
	"set":                 {[]string{"set", "A=b=c"}, func(o *Options) bool { return slices.Equal(o.Env, []string{"A=b=c"}) }},
	"unset":               {[]string{"unset", "A"}, func(o *Options) bool { return slices.Equal(o.Unset, []string{"A"}) }},
	"defaultroute-metric": {[]string{"defaultroute-metric", "3"}, func(o *Options) bool { return o.DefaultRouteMetric == 3 }},
	"ip-up-script":        {[]string{"ip-up-script", "/s"}, func(o *Options) bool { return o.IPUpScript == "/s" }},
	"ip-down-script":      {[]string{"ip-down-script", "/s"}, func(o *Options) bool { return o.IPDownScript == "/s" }},
	"ip-pre-up-script":    {[]string{"ip-pre-up-script", "/s"}, func(o *Options) bool { return o.IPPreUpScript == "/s" }},
	"ipv6-up-script":      {[]string{"ipv6-up-script", "/s"}, func(o *Options) bool { return o.IPv6UpScript == "/s" }},
	"ipv6-down-script":    {[]string{"ipv6-down-script", "/s"}, func(o *Options) bool { return o.IPv6DownScript == "/s" }},
	"plugin": {[]string{"plugin", "/usr/lib/pppd/2.4.9/pppoe.so"}, func(o *Options) bool {
		return slices.Equal(o.Plugins, []string{"rp-pppoe.so", "/usr/lib/pppd/2.4.9/pppoe.so"})
	}},
	"noauth":      {[]string{"auth", "noauth"}, func(o *Options) bool { return o.NoAuth && !o.Auth && len(o.Unsupported) == 0 }},
	"refuse-pap":  {[]string{"refuse-pap", "refuse-pap"}, func(o *Options) bool { return slices.Equal(o.Refuse, []string{"pap"}) }},
	"refuse-chap": {[]string{"refuse-chap", "refuse-pap"}, func(o *Options) bool { return slices.Equal(o.Refuse, []string{"chap", "pap"}) }},
	"refuse-mschap": {nil, func(o *Options) bool {
		return slices.Equal(o.Refuse, []string{"mschap"})
	}},
	"refuse-mschap-v2": {nil, func(o *Options) bool { return slices.Equal(o.Refuse, []string{"mschap-v2"}) }},
	"refuse-eap":       {nil, func(o *Options) bool { return slices.Equal(o.Refuse, []string{"eap"}) }},
	"name":             {[]string{"name", "me"}, func(o *Options) bool { return o.Name == "me" && o.User == "me" }},
	"+ua":              {[]string{"+ua", "/tmp/ua"}, func(o *Options) bool { return o.User == "bob" && o.Password == "" }},
	"user":             {[]string{"user", "bob"}, func(o *Options) bool { return o.User == "bob" && o.Name == "gw" }},
	"password":         {[]string{"password", "pw"}, func(o *Options) bool { return o.Password == "pw" }},
	"usehostname":      {[]string{"name", "me", "usehostname"}, func(o *Options) bool { return o.UseHostname && o.Name == "gw" }},
	"remotename":       {[]string{"remotename", "isp"}, func(o *Options) bool { return o.RemoteName == "isp" }},
	"privgroup":        {[]string{"privgroup", "dip"}, func(o *Options) bool { return o.Privileged }},
	"hide-password":    {[]string{"show-password", "hide-password"}, func(o *Options) bool { return o.HidePassword }},
	"mru":              {[]string{"mru", "1400"}, func(o *Options) bool { return o.MRU == 1400 }},
	"mtu":              {[]string{"mtu", "0x578"}, func(o *Options) bool { return o.MTU == 1400 }},
	"silent":           {nil, func(o *Options) bool { return o.Silent }},
	"lcp-echo-failure": {[]string{"lcp-echo-failure", "3"}, func(o *Options) bool { return o.EchoFailure == 3 }},
	"lcp-echo-interval": {[]string{"lcp-echo-interval", "3"}, func(o *Options) bool {
		return o.EchoInterval == 3*time.Second
	}},
	"lcp-echo-adaptive":  {nil, func(o *Options) bool { return o.EchoAdaptive }},
	"lcp-restart":        {[]string{"lcp-restart", "3"}, func(o *Options) bool { return o.LCPRestart == 3*time.Second }},
	"lcp-max-terminate":  {[]string{"lcp-max-terminate", "3"}, func(o *Options) bool { return o.LCPMaxTerminate == 3 }},
	"lcp-max-configure":  {[]string{"lcp-max-configure", "3"}, func(o *Options) bool { return o.LCPMaxConfigure == 3 }},
	"lcp-max-failure":    {[]string{"lcp-max-failure", "3"}, func(o *Options) bool { return o.LCPMaxFailure == 3 }},
	"noip":               {nil, func(o *Options) bool { return o.NoIP }},
	"ipcp-accept-local":  {nil, func(o *Options) bool { return o.IPCPAcceptLocal }},
	"ipcp-accept-remote": {nil, func(o *Options) bool { return o.IPCPAcceptRemote }},
	"ipparam":            {[]string{"ipparam", "wan"}, func(o *Options) bool { return o.IPParam == "wan" }},
	"noipdefault":        {nil, func(o *Options) bool { return o.NoIPDefault }},
	"defaultroute":       {nil, func(o *Options) bool { return o.DefaultRoute }},
	"nodefaultroute":     {[]string{"defaultroute", "nodefaultroute"}, func(o *Options) bool { return !o.DefaultRoute }},
	"replacedefaultroute": {nil, func(o *Options) bool {
		return o.ReplaceDefaultRoute
	}},
	"noreplacedefaultroute": {[]string{"replacedefaultroute", "noreplacedefaultroute"}, func(o *Options) bool {
		return !o.ReplaceDefaultRoute
	}},
	"usepeerdns": {nil, func(o *Options) bool { return o.UsePeerDNS }},
	"ipv6": {[]string{"noipv6", "ipv6", "::1:2:3:4,::ffff:192.0.2.1"}, func(o *Options) bool {
		return o.IPv6 && o.IPv6LocalID == [8]byte{0, 1, 0, 2, 0, 3, 0, 4} && o.IPv6RemoteID == [8]byte{0, 0, 0xff, 0xff, 192, 0, 2, 1}
	}},
	"+ipv6":                 {[]string{"noipv6", "+ipv6"}, func(o *Options) bool { return o.IPv6 }},
	"noipv6":                {[]string{"+ipv6", "noipv6"}, func(o *Options) bool { return !o.IPv6 }},
	"ipv6cp-accept-local":   {nil, func(o *Options) bool { return o.IPv6CPAcceptLocal }},
	"ipv6cp-accept-remote":  {nil, func(o *Options) bool { return o.IPv6CPAcceptRemote }},
	"defaultroute6":         {nil, func(o *Options) bool { return o.DefaultRoute6 }},
	"nodefaultroute6":       {[]string{"defaultroute6", "nodefaultroute6"}, func(o *Options) bool { return !o.DefaultRoute6 }},
	"ipv6cp-use-ipaddr":     {nil, func(o *Options) bool { return o.IPv6CPUseIPAddr }},
	"ipv6cp-use-persistent": {nil, func(o *Options) bool { return o.IPv6CPUsePersistent }},
	"pty": {[]string{"pty", `/usr/sbin/pppoe -I eth1 -S 'my isp' -Cac1 -U`}, func(o *Options) bool {
		return o.Interface == "eth1" && o.ServiceName == "my isp" && o.ACName == "ac1" && o.PTY != ""
	}},
	"pppoe-service": {[]string{"pppoe-service", "isp"}, func(o *Options) bool { return o.ServiceName == "isp" }},
	"pppoe-ac":      {[]string{"pppoe-ac", "ac1"}, func(o *Options) bool { return o.ACName == "ac1" }},
	"pppoe-mac": {[]string{"pppoe-mac", "0:1b:21:Ab:cd:EF"}, func(o *Options) bool {
		return o.ACMAC.String() == "00:1b:21:ab:cd:ef"
	}},
	"pppoe-host-uniq":     {[]string{"pppoe-host-uniq", "00aBff"}, func(o *Options) bool { return string(o.HostUniq) == "\x00\xab\xff" }},
	"pppoe-padi-timeout":  {[]string{"pppoe-padi-timeout", "3"}, func(o *Options) bool { return o.PADITimeout == 3*time.Second }},
	"pppoe-padi-attempts": {[]string{"pppoe-padi-attempts", "3"}, func(o *Options) bool { return o.PADIAttempts == 3 }},
}

// argFor is an argument an option takes, for the generic cases.
func argFor(d *optDef) string {
	switch {
	case d.kind == argInt && d.flags&fLLimit != 0 && d.lo > 0:
		return fmt.Sprint(d.lo)
	case d.kind == argInt || d.kind == argHex:
		return "3"
	}
	switch d.name {
	case "call":
		return "peer"
	case "file":
		return "/tmp/opts"
	case "plugin":
		return "pppoe.so"
	}
	return "x"
}

// optionArgs are the words exercising option d: the plugin is loaded
// (its options exist) and the interface named after it (so that the tty
// channel's options still exist).
func optionArgs(d *optDef) []string {
	name := d.name
	if d.alias != "" {
		name = d.alias
	}
	args := []string{d.name}
	if c, ok := supportedCases[name]; ok && c.args != nil {
		args = slices.Clone(c.args)
		for i, a := range args {
			if a == name {
				args[i] = d.name
			}
		}
	} else if d.args > 0 {
		args = append(args, argFor(d))
	}
	if name == "pty" {
		return args // the link is the pty's
	}
	return append(append([]string{"plugin", "rp-pppoe.so"}, args...), "nic-eth0")
}

func optionSys() *fakeSys {
	sys := newSys()
	sys.files["/etc/ppp/peers/peer"] = "debug"
	sys.files["/tmp/opts"] = "debug"
	sys.files["/tmp/ua"] = "bob\npw\n"
	sys.groups = map[string]bool{"dip": true}
	return sys
}

// TestEveryOption loads every option of the table once and checks what
// its class says: a Supported option sets its field, an Ignored one
// gives one warning naming it, a Refused one an Unsupported entry that
// Check refuses.
func TestEveryOption(t *testing.T) {
	for _, d := range optDefs {
		t.Run(d.name, func(t *testing.T) {
			args := optionArgs(d)
			o, err := Load(args, optionSys().env(true))
			if err != nil {
				t.Fatalf("Load(%q): %v", args, err)
			}
			ignoredPrefix := fmt.Sprintf("%s ignored: ", d.name)
			warned := 0
			for _, w := range o.Warnings {
				if strings.HasPrefix(w, ignoredPrefix) {
					warned++
				}
			}
			switch d.class {
			case Supported:
				name := d.name
				if d.alias != "" {
					name = d.alias
				}
				c, ok := supportedCases[name]
				if !ok {
					t.Fatalf("no case for supported option %s", d.name)
				}
				if !c.check(o) {
					t.Errorf("Load(%q) = %+v", args, *o)
				}
				if warned != 0 || len(o.Unsupported) != 0 {
					t.Errorf("Load(%q): warnings %q, unsupported %+v", args, o.Warnings, o.Unsupported)
				}
			case Ignored:
				if warned != 1 || len(o.Unsupported) != 0 {
					t.Errorf("Load(%q): warnings %q, unsupported %+v", args, o.Warnings, o.Unsupported)
				}
				if err := o.Check(); err != nil {
					t.Errorf("Check: %v", err)
				}
				// Once per option, however often it is given.
				twice := append(slices.Clone(args[:len(args)-1]), args[2:len(args)-1]...)
				twice = append(twice, "nic-eth0")
				o2, err := Load(twice, optionSys().env(true))
				if err != nil || len(o2.Warnings) != len(o.Warnings) {
					t.Errorf("Load(%q): %v, warnings %q", twice, err, o2.Warnings)
				}
			case Refused:
				want := []Unsupported{{Option: d.name, Reason: d.note}}
				if !reflect.DeepEqual(o.Unsupported, want) || warned != 0 {
					t.Errorf("Load(%q): unsupported %+v, warnings %q", args, o.Unsupported, o.Warnings)
				}
				checkErr(t, o.Check(), d.name+": "+d.note)
			default:
				t.Errorf("class %v", d.class)
			}
		})
	}
	for name := range supportedCases {
		if d := optIndex()[name]; d == nil || d.class != Supported || d.alias != "" {
			t.Errorf("case for %s, which is not a supported option", name)
		}
	}
}

// TestAliases: every alias does what its option does.
func TestAliases(t *testing.T) {
	for _, d := range optDefs {
		if d.alias == "" {
			continue
		}
		main := optIndex()[d.alias]
		if d.args != main.args || d.class != main.class || d.flags != main.flags || d.group != main.group || d.scope != main.scope {
			t.Errorf("%s differs from %s", d.name, main.name)
		}
		got, err1 := Load(optionArgs(d), optionSys().env(true))
		want, err2 := Load(optionArgs(main), optionSys().env(true))
		if err1 != nil || err2 != nil {
			t.Fatalf("%s: %v; %s: %v", d.name, err1, main.name, err2)
		}
		if len(got.Warnings) != len(want.Warnings) {
			t.Errorf("%s: warnings %q; %s: %q", d.name, got.Warnings, main.name, want.Warnings)
		}
		got.Warnings, want.Warnings = nil, nil
		for i := range got.Unsupported {
			got.Unsupported[i].Option = main.name
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: %+v\n%s: %+v", d.name, *got, main.name, *want)
		}
	}
}

// TestPrivileged: every OPT_PRIV option is refused from a source that
// is not privileged, with pppd's message, and accepted from one that is.
func TestPrivileged(t *testing.T) {
	n := 0
	for _, d := range optDefs {
		if d.flags&fPriv == 0 {
			continue
		}
		n++
		args := optionArgs(d)
		if d.name != "plugin" {
			args = args[2 : len(args)-1] // a user may not name the plugin
		}
		_, err := Load(args, optionSys().env(false))
		checkErr(t, err, fmt.Sprintf("using the %s option requires root privilege", d.name))
		sys := optionSys()
		sys.files["/etc/ppp/options"] = strings.Join(quoteWords(optionArgs(d)), " ")
		if _, err := Load(nil, sys.env(false)); err != nil {
			t.Errorf("%s in /etc/ppp/options: %v", d.name, err)
		}
	}
	if n != 18 {
		t.Errorf("%d privileged options, want pppd's 15 and 3 scripts of pppd 2.5", n)
	}
}

func quoteWords(ws []string) []string {
	var out []string
	for _, w := range ws {
		out = append(out, "'"+w+"'")
	}
	return out
}

// TestTableMatchesPppd compares the table with the option tables of
// pppd 2.4.9 and its plugin, read from the binaries: every option is
// there, with its number of arguments and its privilege, and every
// option of the table is pppd's unless its origin says otherwise.
func TestTableMatchesPppd(t *testing.T) {
	f, err := os.Open("testdata/pppd-2.4.9-options.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	seen := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		fl := strings.Split(line, "\t")
		if len(fl) != 4 {
			t.Fatalf("bad line %q", line)
		}
		src, name, args, priv := fl[0], fl[1], fl[2], fl[3] == "priv"
		seen[name] = true
		d := optIndex()[name]
		if d == nil {
			t.Errorf("%s option %s is not in the table", src, name)
			continue
		}
		if fmt.Sprint(d.args) != args || (d.flags&fPriv != 0) != priv || (d.scope == scopePPPoE) != (src == "rp-pppoe.so") {
			t.Errorf("%s: args %d priv %v scope %v; pppd: %s %s %s", name, d.args, d.flags&fPriv != 0, d.scope, src, args, fl[3])
		}
	}
	if len(seen) < 250 {
		t.Fatalf("only %d options read", len(seen))
	}
	for _, d := range optDefs {
		if !seen[d.name] && d.origin == "" {
			t.Errorf("%s is not a pppd 2.4.9 option and has no origin", d.name)
		}
		if seen[d.name] && d.origin != "" && d.alias == "" {
			t.Errorf("%s is a pppd 2.4.9 option but has origin %q", d.name, d.origin)
		}
	}
}

// TestTable checks the exported table's consistency.
func TestTable(t *testing.T) {
	names := map[string]bool{}
	for _, e := range Table() {
		if names[e.Name] {
			t.Errorf("%s twice", e.Name)
		}
		names[e.Name] = true
		if e.Class < Supported || e.Class > Refused || e.Note == "" || e.Origin == "" {
			t.Errorf("%+v", e)
		}
		if e.AliasOf != "" && !names[e.AliasOf] {
			t.Errorf("%s: alias of %s, which is not before it", e.Name, e.AliasOf)
		}
	}
	for _, want := range []string{"nic-<interface>, <interface>", "<local>:<remote>", "<speed>", "<serial device>"} {
		if !names[want] {
			t.Errorf("no %s", want)
		}
	}
}

// ExampleTable prints the options pppoed refuses, with the reason: the
// list for the closing note of issue 11.
func ExampleTable() {
	for _, e := range Table() {
		if e.Class == Refused && e.AliasOf == "" {
			fmt.Printf("%s: %s\n", e.Name, e.Note)
		}
	}
	// Output:
	// multilink: pppoed does not do multilink (RFC 1990)
	// pass-filter: pppoed has no packet filters (pppd's libpcap filters)
	// active-filter: pppoed has no packet filters: all traffic counts as activity
	// precompiled-active-filter: pppoed has no packet filters: all traffic counts as activity
	// precompiled-pass-filter: pppoed has no packet filters (pppd's libpcap filters)
	// maxoctets: pppoed has no traffic limit (0, no limit, is accepted)
	// auth: pppoed does not authenticate the access concentrator (add noauth)
	// require-pap: pppoed does not authenticate the access concentrator (add noauth)
	// require-chap: pppoed does not authenticate the access concentrator (add noauth)
	// require-mschap: pppoed does not authenticate the access concentrator (add noauth)
	// require-mschap-v2: pppoed does not authenticate the access concentrator (add noauth)
	// require-eap: pppoed does not authenticate the access concentrator (add noauth)
	// ca: pppoed does not do EAP-TLS
	// capath: pppoed does not do EAP-TLS
	// cert: pppoed does not do EAP-TLS
	// key: pppoed does not do EAP-TLS
	// crl-dir: pppoed does not do EAP-TLS
	// crl: pppoed does not do EAP-TLS
	// max-tls-version: pppoed does not do EAP-TLS
	// need-peer-eap: pppoed does not authenticate the access concentrator with EAP
	// -all: pppoed always negotiates the MRU and a magic number
	// proxyarp: pppoed does not add proxy ARP entries
	// ipcp-no-addresses: pppoed always negotiates the IP-Address option
	// ipcp-no-address: pppoed always negotiates the IP-Address option
	// noremoteip: pppoed does not make up an address for a peer that gives none
	// nosendip: pppoed always sends its IP address
	// require-mppe: pppoed does not do MPPE encryption
	// require-mppe-40: pppoed does not do MPPE encryption
	// require-mppe-128: pppoed does not do MPPE encryption
	// callback: pppoed does not do callback (CBCP)
	// ipx: pppoed does not do IPX
	// notty: pppoed does not run PPP over its standard input and output
	// socket: pppoed does not run PPP over a TCP socket
	// pppoe-sess: pppoed does not attach to an existing session
	// <serial device>: pppoed speaks PPPoE only (a character device under /dev)
}

// TestWildWords are the words pppd recognizes by their form.
func TestWildWords(t *testing.T) {
	tests := []struct {
		name   string
		args   []string
		ifaces []string // more interfaces
		check  func(o *Options) bool
		err    string
	}{
		{name: "an interface named nic- (nic- is dropped only when something follows)",
			args: []string{"plugin", "rp-pppoe.so", "nic-"}, ifaces: []string{"nic-"},
			check: func(o *Options) bool { return o.Interface == "nic-" }},
		{name: "nic-IF", args: []string{"plugin", "rp-pppoe.so", "nic-eth1"},
			check: func(o *Options) bool { return o.Interface == "eth1" }},
		{name: "a bare interface", args: []string{"plugin", "rp-pppoe.so", "eth0.6"},
			check: func(o *Options) bool { return o.Interface == "eth0.6" }},
		{name: "the last interface wins", args: []string{"plugin", "rp-pppoe.so", "eth1", "nic-eth0"},
			check: func(o *Options) bool { return o.Interface == "eth0" }},
		{name: "an interface before the plugin", args: []string{"eth0", "plugin", "rp-pppoe.so"},
			err: "unrecognized option 'eth0'"},
		{name: "nic- with no interface", args: []string{"plugin", "rp-pppoe.so", "nic-eth9"},
			err: "unrecognized option 'nic-eth9' (no Ethernet interface eth9)"},
		{name: "nic- alone", args: []string{"plugin", "rp-pppoe.so", "nic-"},
			err: "unrecognized option 'nic-'"},
		{name: "a plugin option before the plugin", args: []string{"pppoe-service", "isp", "plugin", "rp-pppoe.so"},
			err: "unrecognized option 'pppoe-service'"},
		{name: "a tty option after the interface", args: []string{"plugin", "rp-pppoe.so", "nic-eth0", "crtscts"},
			err: "unrecognized option 'crtscts'"},
		{name: "connect after the interface", args: []string{"plugin", "rp-pppoe.so", "nic-eth0", "connect", "/bin/true"},
			err: "unrecognized option 'connect'"},
		{name: "a speed before the interface", args: []string{"38400", "plugin", "rp-pppoe.so", "nic-eth0"},
			check: func(o *Options) bool {
				return slices.Equal(o.Warnings, []string{"38400 ignored: " + noteSerial})
			}},
		{name: "a speed after it", args: []string{"plugin", "rp-pppoe.so", "nic-eth0", "38400"},
			err: "unrecognized option '38400'"},
		{name: "not a speed", args: []string{"38400bps"},
			err: "unrecognized option '38400bps'"},
		{name: "a speed of 0", args: []string{"0"},
			err: "unrecognized option '0'"},
		{name: "a device stat cannot look at", args: []string{"null/x"},
			err: "Couldn't stat /dev/null/x: Not a directory"},
		{name: "addresses", args: []string{"10.1:0x0a000002"},
			check: func(o *Options) bool {
				return o.LocalIP == netip.MustParseAddr("10.0.0.1") && o.RemoteIP == netip.MustParseAddr("10.0.0.2")
			}},
		{name: "a local address", args: []string{"192.0.2.1:"},
			check: func(o *Options) bool { return o.LocalIP == netip.MustParseAddr("192.0.2.1") && !o.RemoteIP.IsValid() }},
		{name: "a remote address", args: []string{":192.0.2.1"},
			check: func(o *Options) bool { return !o.LocalIP.IsValid() && o.RemoteIP == netip.MustParseAddr("192.0.2.1") }},
		{name: "a colon", args: []string{":"},
			check: func(o *Options) bool { return !o.LocalIP.IsValid() && !o.RemoteIP.IsValid() }},
		{name: "loopback", args: []string{"127.0.0.1:"}, err: "bad local IP address 127.0.0.1"},
		{name: "multicast", args: []string{":224.0.0.1"}, err: "bad remote IP address 224.0.0.1"},
		{name: "class E", args: []string{"240.0.0.1:"}, err: "bad local IP address 240.0.0.1"},
		{name: "broadcast", args: []string{"255.255.255.255:"}, err: "bad local IP address 255.255.255.255"},
		{name: "a host name", args: []string{"gw.example.net:"},
			err: "unknown host: gw.example.net (pppoed does not look up host names in options)"},
		{name: "an IPv6 address", args: []string{"::1"},
			err: "unknown host: :1 (pppoed does not look up host names in options)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := newSys()
			sys.ifaces = append(sys.ifaces, tt.ifaces...)
			o, err := Load(tt.args, sys.env(true))
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
		})
	}
}

// TestOptionErrors are pppd's messages for options it cannot take.
func TestOptionErrors(t *testing.T) {
	tests := []struct {
		args  []string
		file  string // the peers file isp, called when set
		err   string
		usage bool
	}{
		{args: []string{"foo"}, err: "unrecognized option 'foo'", usage: true},
		{file: "debug\n\n  foo # bar", err: "In file /etc/ppp/peers/isp (line 3): unrecognized option 'foo'"},
		{args: []string{"mtu"}, err: "too few parameters for option mtu"},
		{file: "mtu", err: "In file /etc/ppp/peers/isp (line 1): too few parameters for option 'mtu'"},
		{args: []string{"mtu", "x"}, err: "invalid numeric parameter 'x' for mtu option"},
		{file: "\nmru\nx", err: "In file /etc/ppp/peers/isp (line 2): invalid numeric parameter 'x' for mru option"},
		{args: []string{"mtu", "100"}, err: "mtu value must be between 128 and 16384"},
		{args: []string{"mtu", "16385"}, err: "mtu value must be between 128 and 16384"},
		{args: []string{"unit", "-1"}, err: "unit value must be >= 0"},
		{args: []string{"defaultroute-metric", "-2"}, err: "defaultroute-metric value must be >= -1"},
		{args: []string{"maxconnect", "-1"}, err: "maxconnect value must be >= 0"},
		{args: []string{"stop-bits", "3"}, err: "stop-bits value must be between 1 and 2"},
		{args: []string{"kdebug", "z"}, err: "invalid numeric parameter 'z' for kdebug option"},
		{args: []string{"asyncmap", "g"}, err: "invalid numeric parameter 'g' for asyncmap option"},
		{args: []string{"set", "A"}, err: "missing = in name=value: A"},
		{args: []string{"set", "=1"}, err: "missing variable name: =1"},
		{args: []string{"unset", "A=1"}, err: "unexpected = in name: A=1"},
		{args: []string{"unset", ""}, err: "missing variable name for unset"},
		{args: []string{"plugin", "radius.so"}, err: "plugin radius.so: pppoed loads no plugins; it understands only rp-pppoe.so and pppoe.so"},
		{args: []string{"plugin", "/opt/rp-pppoe.so.1"}, err: "plugin /opt/rp-pppoe.so.1: pppoed loads no plugins; it understands only rp-pppoe.so and pppoe.so"},
		{args: []string{"plugin", "rp-pppoe.so", "pppoe-mac", "00:11:22:33:44"}, err: "cannot parse pppoe-mac option value '00:11:22:33:44'"},
		{args: []string{"plugin", "rp-pppoe.so", "pppoe-mac", "00:11:22:33:44:155"}, err: "cannot parse pppoe-mac option value '00:11:22:33:44:155'"},
		{args: []string{"plugin", "rp-pppoe.so", "pppoe-mac", "00:11:22:33:44:g5"}, err: "cannot parse pppoe-mac option value '00:11:22:33:44:g5'"},
		{args: []string{"plugin", "rp-pppoe.so", "host-uniq", "abc"}, err: "Illegal value for pppoe-host-uniq option (an even number of hex digits, at most 1484 octets)"},
		{args: []string{"plugin", "rp-pppoe.so", "host-uniq", ""}, err: "Illegal value for pppoe-host-uniq option (an even number of hex digits, at most 1484 octets)"},
		{args: []string{"plugin", "rp-pppoe.so", "host-uniq", "zz"}, err: "Illegal value for pppoe-host-uniq option (an even number of hex digits, at most 1484 octets)"},
		{args: []string{"plugin", "rp-pppoe.so", "host-uniq", strings.Repeat("ab", 1485)}, err: "Illegal value for pppoe-host-uniq option (an even number of hex digits, at most 1484 octets)"},
		{args: []string{"plugin", "rp-pppoe.so", "pppoe-padi-timeout", "0"}, err: "pppoe-padi-timeout value must be >= 1"},
		{args: []string{"plugin", "rp-pppoe.so", "pppoe-padi-attempts", "-1"}, err: "pppoe-padi-attempts value must be >= 1"},
		{args: []string{"ipv6", "::1:2:3:4:5,"}, err: "Illegal interface identifier (local): ::1:2:3:4:5"},
		{args: []string{"ipv6", ",fe80::1"}, err: "Illegal interface identifier (remote): fe80::1"},
		{args: []string{"ipv6", "::,::1"}, err: "Illegal interface identifier (local): ::"},
		{args: []string{"ipv6", "192.0.2.1"}, err: "Illegal interface identifier (local): 192.0.2.1"},
		{args: []string{"ipv6", "::1%eth0"}, err: "Illegal interface identifier (local): ::1%eth0"},
		{args: []string{"user", strings.Repeat("u", 256)}, err: "user: value longer than 255 bytes (pppd would cut it)"},
		{args: []string{"ifname", strings.Repeat("i", 32)}, err: "ifname: value longer than 31 bytes (pppd would cut it)"},
		{args: []string{"\x1b[31mred\nline"}, err: `unrecognized option '\x1b[31mred\nline'`, usage: true},
	}
	for _, tt := range tests {
		sys := newSys()
		args := tt.args
		if tt.file != "" {
			sys.files["/etc/ppp/peers/isp"] = tt.file
			args = []string{"call", "isp"}
		}
		_, err := Load(args, sys.env(true))
		checkErr(t, err, tt.err)
		if e, ok := err.(*Error); ok && e.Usage != tt.usage {
			t.Errorf("%q: Usage %v", tt.err, e.Usage)
		}
	}
}

// TestPasswordNeverShown: a password's value appears in no error and no
// warning, however it goes wrong.
func TestPasswordNeverShown(t *testing.T) {
	const secret = "Zq8-pw"
	for _, tt := range []struct {
		args []string
		file string
		err  string
	}{
		{args: []string{"password", secret + strings.Repeat("x", 300)}, err: "password: value longer than 255 bytes (pppd would cut it)"},
		{args: []string{"password", secret, "part2"}, err: "unrecognized option after the password's value (an unquoted password with a space?)"},
		{file: "password " + secret + " two", err: "In file /etc/ppp/peers/isp (line 1): unrecognized option after the password's value (an unquoted password with a space?)"},
		{file: "password " + secret + " debug mtu x", err: "In file /etc/ppp/peers/isp (line 1): invalid numeric parameter 'x' for mtu option"},
		{args: []string{"user", "bob", "password"}, err: "too few parameters for option password"},
		{args: []string{"password", secret, "show-password", "password", "b"}},
	} {
		sys := newSys()
		args := tt.args
		if tt.file != "" {
			sys.files["/etc/ppp/peers/isp"] = tt.file
			args = []string{"call", "isp"}
		}
		o, err := Load(args, sys.env(true))
		if tt.err != "" {
			checkErr(t, err, tt.err)
		} else if err != nil {
			t.Fatal(err)
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("error %q shows the password", err)
		}
		if o != nil && strings.Contains(strings.Join(o.Warnings, "\n"), secret) {
			t.Errorf("warnings %q show the password", o.Warnings)
		}
	}
}

// TestQuoting reads words as pppd's getword does: quotes, escapes,
// comments, lines joined by a backslash; an option's argument may be on
// the next line.
func TestQuoting(t *testing.T) {
	sys := newSys()
	sys.files["/etc/ppp/peers/isp"] = `# a comment
user "alice smith" # another
password 'p#w"d'
remotename a\ b\tc\x41\101
ipparam
   wan
set "A=one two"
linkname long\
name
plugin rp-pppoe.so nic-eth0#the interface
pppoe-service a"b c"d
`
	o := mustLoad(t, []string{"call", "isp"}, sys.env(true))
	if o.User != "alice smith" || o.Password != `p#w"d` || o.RemoteName != "a b\tcAA" || o.IPParam != "wan" ||
		!slices.Equal(o.Env, []string{"A=one two"}) || o.Linkname != "longname" || o.Interface != "eth0" ||
		o.ServiceName != "ab cd" {
		t.Errorf("got %+v", *o)
	}
	// The command line's words are taken as they are.
	o = mustLoad(t, []string{"user", `"bob"`, "ipparam", `a\ b`}, sys.env(true))
	if o.User != `"bob"` || o.IPParam != `a\ b` {
		t.Errorf("got user %q ipparam %q", o.User, o.IPParam)
	}
}

func TestStrtoul(t *testing.T) {
	for _, tt := range []struct {
		in   string
		base int
		v    uint32
		rest string
		ok   bool
	}{
		{"0", 0, 0, "", true},
		{"1492", 0, 1492, "", true},
		{"0x5d4", 0, 1492, "", true},
		{"0X5D4", 0, 1492, "", true},
		{"02724", 0, 1492, "", true},
		{"08", 0, 0, "8", true},
		{"0x", 0, 0, "x", true},
		{" \t+30", 0, 30, "", true},
		{"-1", 0, 0xffffffff, "", true},
		{"30s", 0, 30, "s", true},
		{"4294967297", 0, 1, "", true},
		{"99999999999999999999999", 0, 0xffffffff, "", true},
		{"ffffffff", 16, 0xffffffff, "", true},
		{"0xa", 16, 10, "", true},
		{"", 0, 0, "", false},
		{"x", 0, 0, "x", false},
		{"-", 0, 0, "-", false},
		{" ", 0, 0, " ", false},
	} {
		v, rest, ok := strtoul(tt.in, tt.base)
		if v != tt.v || rest != tt.rest || ok != tt.ok {
			t.Errorf("strtoul(%q, %d) = %#x, %q, %v; want %#x, %q, %v", tt.in, tt.base, v, rest, ok, tt.v, tt.rest, tt.ok)
		}
	}
	// pppd ignores what follows the number: a warning says so.
	o := mustLoad(t, []string{"holdoff", "30s"}, newSys().env(true))
	if o.Holdoff != 30*time.Second || !slices.Contains(o.Warnings, "holdoff: 's' after the number ignored (as pppd ignores it)") {
		t.Errorf("holdoff %v warnings %q", o.Holdoff, o.Warnings)
	}
}

func TestInetAddr(t *testing.T) {
	for _, tt := range []struct {
		in string
		v  uint32
		ok bool
	}{
		{"192.0.2.1", 0xc0000201, true},
		{"10.1", 0x0a000001, true},
		{"10.1.2", 0x0a010002, true},
		{"167772161", 0x0a000001, true},
		{"0x0a.0.0.010", 0x0a000008, true},
		{"255.255.255.255", 0xffffffff, true},
		{"1.2.3.256", 0, false},
		{"1.256.3", 0, false},
		{"1.2.65536", 0, false},
		{"1.2.3.4.5", 0, false},
		{"1..2", 0, false},
		{"", 0, false},
		{"a.b", 0, false},
		{"-1", 0, false},
		{"4294967296", 0, false},
		{"1.16777216", 0, false},
	} {
		v, ok := inetAddr(tt.in)
		if v != tt.v || ok != tt.ok {
			t.Errorf("inetAddr(%q) = %#x, %v; want %#x, %v", tt.in, v, ok, tt.v, tt.ok)
		}
	}
}

// TestPTY reads pty commands: rp-pppoe's pppoe with -I, -S, -C; its
// other flags warned about or refused; anything else refused.
func TestPTY(t *testing.T) {
	for _, tt := range []struct {
		cmd                string
		iface, service, ac string
		refused            bool
		warnings           int
	}{
		{cmd: "pppoe -I eth1", iface: "eth1"},
		{cmd: "/usr/sbin/pppoe -Ieth1 -S isp -C 'AC 1'", iface: "eth1", service: "isp", ac: "AC 1"},
		{cmd: `pppoe -I "eth1" -U -s`, iface: "eth1", warnings: 2},
		{cmd: "pppoe", iface: "eth0"},
		{cmd: "pppoe -T 80 -m 1412 -I eth1", iface: "eth1", warnings: 2},
		{cmd: "pppoe -UsI eth1", iface: "eth1", warnings: 2},
		{cmd: "pppoe -I eth1 -e 1:00:11:22:33:44:55", refused: true},
		{cmd: "pppoe -I", refused: true},
		{cmd: "pppoe eth1", refused: true},
		{cmd: "pppoe -I eth1; rm -rf /", refused: true},
		{cmd: "pppoe -I $IF", refused: true},
		{cmd: `pppoe -I "$IF"`, refused: true},
		{cmd: "pppoe -I 'eth1", refused: true},
		{cmd: "pptp server", refused: true},
		{cmd: "", refused: true},
	} {
		o := mustLoad(t, []string{"pty", tt.cmd}, newSys().env(true))
		if tt.refused {
			if len(o.Unsupported) != 1 || o.Unsupported[0].Option != "pty" {
				t.Errorf("pty %q: unsupported %+v", tt.cmd, o.Unsupported)
			}
			continue
		}
		if o.Interface != tt.iface || o.ServiceName != tt.service || o.ACName != tt.ac || o.PTY != tt.cmd || len(o.Warnings) != tt.warnings || len(o.Unsupported) != 0 {
			t.Errorf("pty %q: iface %q service %q ac %q pty %q warnings %q unsupported %+v", tt.cmd, o.Interface, o.ServiceName, o.ACName, o.PTY, o.Warnings, o.Unsupported)
		}
	}
}

func TestHardwareAddrKept(t *testing.T) {
	o := mustLoad(t, []string{"plugin", "rp-pppoe.so", "pppoe-mac", "00:11:22:33:44:55", "nic-eth0"}, newSys().env(true))
	if !slices.Equal(o.ACMAC, net.HardwareAddr{0, 0x11, 0x22, 0x33, 0x44, 0x55}) {
		t.Errorf("ACMAC %v", o.ACMAC)
	}
}

// TestTableFirst: Table called before any option was looked up (the
// index is built lazily, and building it fills each alias in from its
// option) lists every alias with its option's class and arguments. It
// runs in a fresh process, as other tests have built the index here.
func TestTableFirst(t *testing.T) {
	if os.Getenv("PPPDCOMPAT_TABLE_FIRST") != "1" {
		cmd := exec.Command(os.Args[0], "-test.run=^TestTableFirst$", "-test.count=1")
		cmd.Env = append(os.Environ(), "PPPDCOMPAT_TABLE_FIRST=1")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		return
	}
	rows := map[string]OptionInfo{}
	aliases := 0
	for _, e := range Table() {
		rows[e.Name] = e
		if e.AliasOf == "" {
			continue
		}
		aliases++
		main := rows[e.AliasOf]
		if e.Class != main.Class || e.Args != main.Args || e.Privileged != main.Privileged {
			t.Errorf("%s: %+v; its option %s: %+v", e.Name, e, main.Name, main)
		}
	}
	if aliases == 0 {
		t.Error("no alias in the table")
	}
}
