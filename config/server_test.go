package config

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/secrets"
	"github.com/pppoed/pppoed/server"
)

// minimal is the least a server file holds: an interface and the default
// profile.
const minimal = `[[interface]]
name = "eth1"
[[profile]]
name = "default"
local-address = "10.0.0.1"
`

// minimalConfig is minimal decoded.
func minimalConfig() server.Config {
	return server.Config{
		Interfaces: []server.Interface{{Name: "eth1"}},
		Profiles:   []server.Profile{{Name: "default", LocalAddress: netip.MustParseAddr("10.0.0.1")}},
	}
}

func addr(s string) netip.Addr { return netip.MustParseAddr(s) }

func rng(first, last string) server.Range { return server.Range{First: addr(first), Last: addr(last)} }

func loadServer(t *testing.T, text string, perm fs.FileMode) (*server.Config, error) {
	t.Helper()
	path := write(t, "server.toml", text, perm)
	return LoadServer(path, nil)
}

// Every key, each decoded into its field; what the file leaves out stays
// zero, for the server's defaults.
func TestLoadServer(t *testing.T) {
	tests := []struct {
		name string
		text string // after minimal
		want func(*server.Config)
	}{
		{"minimal", "", func(*server.Config) {}},
		{"ac-name", `ac-name = "ac1"`, func(c *server.Config) { c.ACName = "ac1" }},
		{"auth, in order", `auth = ["pap", "MSCHAP1", "chap", "mschap2"]`, func(c *server.Config) {
			c.Auth = []ppp.AuthMethod{ppp.AuthPAP, ppp.AuthMSCHAPv1, ppp.AuthCHAPMD5, ppp.AuthMSCHAPv2}
		}},
		{"default-profile", "default-profile = \"default\"", func(c *server.Config) { c.DefaultProfile = "default" }},
		{"keepalive-timeout", `keepalive-timeout = "1m30s"`, func(c *server.Config) { c.KeepaliveTimeout = 90 * time.Second }},
		{"keepalive-timeout 0s disables", `keepalive-timeout = "0s"`, func(c *server.Config) { c.KeepaliveTimeout = -1 }},
		{"keepalive-timeout 0 disables", `keepalive-timeout = "0"`, func(c *server.Config) { c.KeepaliveTimeout = -1 }},
		{"max-sessions", "max-sessions = 1000", func(c *server.Config) { c.MaxSessions = 1000 }},
		{"one-session-per-host", "one-session-per-host = true", func(c *server.Config) { c.OneSessionPerHost = true }},
		{"max-mtu and max-mru", "max-mtu = 1500\nmax-mru = 1480", func(c *server.Config) { c.MaxMTU, c.MaxMRU = 1500, 1480 }},
		{"ipv6", "ipv6 = true", func(c *server.Config) { c.IPv6 = true }},
		{"control-socket", `control-socket = "-"`, func(c *server.Config) { c.ControlSocket = "-" }},
		{"metrics-listen", `metrics-listen = "127.0.0.1:9101"`, func(c *server.Config) { c.MetricsListen = "127.0.0.1:9101" }},
		{"padi-limit", "[padi-limit]\nrate = 50\nburst = 100\nper-mac-rate = 0.5\nper-mac-burst = 3\nmax-macs = 1024", func(c *server.Config) {
			c.PADI = server.PADILimits{GlobalRate: 50, GlobalBurst: 100, MACRate: 0.5, MACBurst: 3, MaxMACs: 1024}
		}},
		{"padi-limit as dotted keys", "padi-limit.rate = 7\npadi-limit.per-mac-burst = 2", func(c *server.Config) {
			c.PADI = server.PADILimits{GlobalRate: 7, MACBurst: 2}
		}},
		{"timers", "[timers]\nrestart = \"1s\"\nmax-configure = 4\nmax-terminate = 3\nmax-failure = 2", func(c *server.Config) {
			c.Timers = ppp.Timers{Restart: time.Second, MaxConfigure: 4, MaxTerminate: 3, MaxFailure: 2}
		}},
		{"interfaces, in order", "[[interface]]\nname = \"eth2\"\nservice-names = [\"internet\", \"voip\"]\ndefault-profile = \"default\"\n[[interface]]\nname = \"eth3\"", func(c *server.Config) {
			c.Interfaces = append(c.Interfaces,
				server.Interface{Name: "eth2", ServiceNames: []string{"internet", "voip"}, DefaultProfile: "default"},
				server.Interface{Name: "eth3"})
		}},
		{"pools", "[[pool]]\nname = \"a\"\nranges = [\"10.0.0.2-10.0.0.254\", \"10.0.1.0/24\", \"10.0.2.7\"]\n[[pool]]\nname = \"b\"\nranges = [\"10.1.0.0/31\"]", func(c *server.Config) {
			c.Pools = []server.PoolConfig{
				{Name: "a", Ranges: []server.Range{rng("10.0.0.2", "10.0.0.254"), rng("10.0.1.1", "10.0.1.254"), rng("10.0.2.7", "10.0.2.7")}},
				{Name: "b", Ranges: []server.Range{rng("10.1.0.0", "10.1.0.1")}},
			}
		}},
		{"profiles", `[[pool]]
name = "p"
ranges = ["10.0.0.0/24"]
[[profile]]
name = "pooled"
local-address = "10.0.0.1"
remote-pool = "p"
dns = ["10.0.0.53", "10.0.0.54"]
mtu = 1400
mru = 1450
only-one = true
[[profile]]
name = "fixed"
local-address = "10.9.0.1"
remote-address = "10.9.0.2"`, func(c *server.Config) {
			c.Pools = []server.PoolConfig{{Name: "p", Ranges: []server.Range{rng("10.0.0.1", "10.0.0.254")}}}
			c.Profiles = append(c.Profiles,
				server.Profile{Name: "pooled", LocalAddress: addr("10.0.0.1"), RemotePool: "p", DNS: []netip.Addr{addr("10.0.0.53"), addr("10.0.0.54")}, MTU: 1400, MRU: 1450, OnlyOne: true},
				server.Profile{Name: "fixed", LocalAddress: addr("10.9.0.1"), RemoteAddress: addr("10.9.0.2")})
		}},
		{"users", `[[user]]
name = "alice"
password = "hunter2"
profile = "default"
remote-address = "10.0.0.50"
interface-name = "ppp-alice"
[[user]]
name = "bob"
password = 'b"o\b'`, func(c *server.Config) {
			c.Users = []server.User{
				{Name: "alice", Password: "hunter2", Profile: "default", RemoteAddress: addr("10.0.0.50"), Ifname: "ppp-alice"},
				{Name: "bob", Password: `b"o\b`},
			}
		}},
		{"users as an inline array of tables", `user = [{name = "alice", password = "hunter2"}, {name = "bob", password = "x"}]`, func(c *server.Config) {
			c.Users = []server.User{{Name: "alice", Password: "hunter2"}, {Name: "bob", Password: "x"}}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Top-level keys go before the first table, tables after.
			text := minimal + tt.text + "\n"
			if !strings.HasPrefix(tt.text, "[") {
				text = tt.text + "\n" + minimal
			}
			got, err := loadServer(t, text, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			if got.Reload == nil {
				t.Error("Reload is not set")
			}
			got.Reload = nil
			want := minimalConfig()
			tt.want(&want)
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got\n %#v\nwant\n %#v", *got, want)
			}
		})
	}
}

// The secrets files are read in order, a relative one from the file's
// directory.
func TestLoadServerSecretsFiles(t *testing.T) {
	dir := t.TempDir()
	chap := filepath.Join(dir, "chap-secrets")
	if err := os.WriteFile(chap, []byte("alice * \"a b\" 10.0.0.9\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pap-secrets"), []byte("bob * pw *\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "server.toml")
	if err := os.WriteFile(path, []byte(`secrets-files = ["`+chap+`", "pap-secrets"]`+"\n"+minimal), 0o644); err != nil {
		t.Fatal(err)
	}
	var logged bytes.Buffer
	got, err := LoadServer(path, slog.New(slog.NewTextHandler(&logged, nil)))
	if err != nil {
		t.Fatal(err)
	}
	want := []secrets.Entry{
		{Client: "alice", Server: "*", Secret: "a b", Addresses: []secrets.Address{{Prefix: netip.MustParsePrefix("10.0.0.9/32")}}, Line: 1},
		{Client: "bob", Server: "*", Secret: "pw", AnyAddress: true, Line: 1},
	}
	if !reflect.DeepEqual(got.Secrets, want) {
		t.Errorf("secrets\n %#v\nwant\n %#v", got.Secrets, want)
	}
	// secrets.ParseFile warns of the world-readable one, through our log.
	if !strings.Contains(logged.String(), "pap-secrets") {
		t.Errorf("no warning of the readable pap-secrets: %q", logged.String())
	}
}

// Reload reads the file again: a user added since is there.
func TestLoadServerReload(t *testing.T) {
	path := write(t, "server.toml", minimal, 0o600)
	cfg, err := LoadServer(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(minimal+"[[user]]\nname = \"carol\"\npassword = \"pw\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	again, err := cfg.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if len(again.Users) != 1 || again.Users[0].Name != "carol" || again.Reload == nil {
		t.Errorf("reloaded users %v", again.Users)
	}
	if err := os.WriteFile(path, []byte("bogus = 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cfg.Reload(); err == nil || !strings.HasPrefix(err.Error(), path+":1: ") {
		t.Errorf("reload of a bad file: %v", err)
	}
}

// Every bad file: one line, naming the file, and the line and key when the
// fault is one key's (the first in the file when there are several), and
// never a password.
func TestLoadServerErrors(t *testing.T) {
	u := "\n[[user]]\nname = \"alice\"\npassword = \"hunter2\"\n" // lines +1..+3 after minimal's 5
	tests := []struct {
		name string
		text string
		perm fs.FileMode
		want string // after "FILE"
	}{
		// Keys.
		{"unknown key", "bogus = 1\n" + minimal, 0o644, `:1: key "bogus": unknown key`},
		{"unknown table", minimal + "[ldap]\nserver = \"x\"\n", 0o644, `:6: key "ldap": unknown key`},
		{"unknown key in a table", minimal + "[timers]\nrestart = \"1s\"\nbogus = 1\n", 0o644, `:8: key "timers.bogus": unknown key`},
		{"unknown key in the second user", minimal + u + "\n[[user]]\nname = \"bob\"\npassword = \"hunter2\"\npasword = \"hunter2\"\n", 0o600, `:14: key "user.pasword": unknown key`},
		{"unknown key in an inline table: the array's line", "user = [{name = \"a\", password = \"hunter2\"},\n  {name = \"b\", pw = \"hunter2\"}]\n" + minimal, 0o600, `:1: key "user.pw": unknown key`},
		{"line ends CRLF", strings.ReplaceAll(minimal+u+"[[user]]\nname = \"b\"\npassword = \"hunter2\"\nbogus = 1\n", "\n", "\r\n"), 0o600, `:13: key "user.bogus": unknown key`},
		{"keys are case sensitive", "AC-Name = \"x\"\n" + minimal, 0o644, `:1: key "AC-Name": unknown key`},
		{"the first error in the file", minimal + "[timers]\nbogus = 1\n[padi-limit]\nrate = \"x\"\n" + u, 0o644, `:7: key "timers.bogus": unknown key`},
		{"missing name", minimal + "[[interface]]\nservice-names = []\n", 0o644, `:6: key "interface.name": missing`},
		{"missing name of the second user", minimal + u + "[[user]]\npassword = \"hunter2\"\n", 0o600, `:10: key "user.name": missing`},
		{"missing password", minimal + "[[user]]\nname = \"alice\"\n", 0o644, `:6: key "user.password": missing`},
		{"missing ranges", minimal + "[[pool]]\nname = \"p\"\n", 0o644, `:6: key "pool.ranges": missing`},

		// Types.
		{"string given an integer", "ac-name = 1\n" + minimal, 0o644, `:1: key "ac-name": want a string, got an integer`},
		{"boolean given a string", "ipv6 = \"yes\"\n" + minimal, 0o644, `:1: key "ipv6": want a boolean, got a string`},
		{"integer given a string", "max-sessions = \"10\"\n" + minimal, 0o644, `:1: key "max-sessions": want an integer, got a string`},
		{"integer given a float", "max-mtu = 1492.0\n" + minimal, 0o644, `:1: key "max-mtu": want an integer, got a float`},
		{"duration without a unit", "keepalive-timeout = \"10\"\n" + minimal, 0o644, `:1: key "keepalive-timeout": want a duration string such as "60s", got "10"`},
		{"duration given an integer", "keepalive-timeout = 10\n" + minimal, 0o644, `:1: key "keepalive-timeout": want a duration string such as "60s", got an integer`},
		{"negative duration", "keepalive-timeout = \"-1s\"\n" + minimal, 0o644, `:1: key "keepalive-timeout": "-1s" is negative`},
		{"array given a string", "auth = \"pap\"\n" + minimal, 0o644, `:1: key "auth": want an array of strings, got a string`},
		{"array of the wrong things", "secrets-files = [\"/a\", 2]\n" + minimal, 0o644, `:1: key "secrets-files": element 2: want a string, got an integer`},
		{"table given a number", "padi-limit = 5\n" + minimal, 0o644, `:1: key "padi-limit": want a table ([padi-limit]), got an integer`},
		{"a table for an array of tables", minimal + "[pool]\nname = \"p\"\n", 0o644, `:6: key "pool": want an array of tables: write [[pool]], not [pool]`},
		{"a string for an array of tables", "interface = \"eth0\"\n", 0o644, `:1: key "interface": want an array of tables ([[interface]]), got a string`},
		{"an array of strings for an array of tables", "interface = [\"eth0\"]\n", 0o644, `:1: key "interface": want an array of tables ([[interface]]), got an array holding a string`},
		{"password of the wrong type", minimal + "[[user]]\nname = \"a\"\npassword = 1234\n", 0o600, `:8: key "user.password": want a string, got an integer`},

		// Values.
		{"unknown auth method", "auth = [\"pap\", \"eap\"]\n" + minimal, 0o644, `:1: key "auth": unknown authentication method "eap" (want pap, chap, mschap1 or mschap2)`},
		{"auth method twice", "auth = [\"pap\", \"chap\", \"PAP\"]\n" + minimal, 0o644, `:1: key "auth": pap is listed twice`},
		{"no auth method", "auth = []\n" + minimal, 0o644, `:1: key "auth": an empty list (leave auth out for the default, mschap2, chap, pap)`},
		{"negative burst", minimal + "[padi-limit]\nburst = -1\n", 0o644, `:7: key "padi-limit.burst": -1 is negative`},
		{"negative rate", minimal + "[padi-limit]\nper-mac-rate = -0.5\n", 0o644, `:7: key "padi-limit.per-mac-rate": -0.5 is not a rate`},
		{"nan rate", minimal + "[padi-limit]\nrate = nan\n", 0o644, `:7: key "padi-limit.rate": NaN is not a rate`},
		{"infinite rate", minimal + "[padi-limit]\nrate = inf\n", 0o644, `:7: key "padi-limit.rate": +Inf is not a rate`},
		{"rate given a string", minimal + "[padi-limit]\nrate = \"fast\"\n", 0o644, `:7: key "padi-limit.rate": want a number, got a string`},
		{"negative timer count", minimal + "[timers]\nmax-failure = -5\n", 0o644, `:7: key "timers.max-failure": -5 is negative`},
		{"bad timer duration", minimal + "[timers]\nrestart = \"3\"\n", 0o644, `:7: key "timers.restart": want a duration string such as "60s", got "3"`},
		{"empty secrets file path", "secrets-files = [\"\"]\n" + minimal, 0o644, `:1: key "secrets-files": an empty path`},
		{"empty password", minimal + "[[user]]\nname = \"a\"\npassword = \"\"\n", 0o600, `:8: key "user.password": empty: a user needs a password`},

		// Addresses and ranges.
		{"bad local-address", "[[interface]]\nname = \"eth1\"\n[[profile]]\nname = \"default\"\nlocal-address = \"10.0.0.x\"\n", 0o644, `:5: key "profile.local-address": "10.0.0.x" is not an IPv4 address`},
		{"IPv6 local-address", "[[interface]]\nname = \"eth1\"\n[[profile]]\nname = \"default\"\nlocal-address = \"fe80::1\"\n", 0o644, `:5: key "profile.local-address": "fe80::1" is not an IPv4 address`},
		{"IPv4-mapped remote-address", minimal + "remote-address = \"::ffff:10.0.0.2\"\n", 0o644, `:6: key "profile.remote-address": "::ffff:10.0.0.2" is not an IPv4 address`},
		{"bad dns", minimal + "dns = [\"10.0.0.53\", \"ns1\"]\n", 0o644, `:6: key "profile.dns": "ns1" is not an IPv4 address`},
		{"bad user address", minimal + u + "remote-address = \"10.0.0.256\"\n", 0o600, `:10: key "user.remote-address": "10.0.0.256" is not an IPv4 address`},
		{"bad range", minimal + "[[pool]]\nname = \"p\"\nranges = [\"10.0.0.1-10.0.0.x\"]\n", 0o644, `:8: key "pool.ranges": server: pool range "10.0.0.1-10.0.0.x": `},
		{"range with host bits", minimal + "[[pool]]\nname = \"p\"\nranges = [\"10.0.0.5/24\"]\n", 0o644, `:8: key "pool.ranges": server: pool range "10.0.0.5/24": host bits set (10.0.0.0/24?)`},

		// What Validate finds: the file, no line.
		{"no interface", "[[profile]]\nname = \"default\"\nlocal-address = \"10.0.0.1\"\n", 0o644, `: server: no interface to serve`},
		{"missing default profile", "default-profile = \"gold\"\n" + minimal, 0o644, `: server: default profile "gold" is not defined`},
		{"no default profile at all", "[[interface]]\nname = \"eth1\"\n", 0o644, `: server: default profile "default" is not defined`},
		{"duplicate profile", minimal + "[[profile]]\nname = \"default\"\nlocal-address = \"10.0.0.1\"\n", 0o644, `: server: profile "default" is defined twice`},
		{"duplicate pool", minimal + "[[pool]]\nname = \"p\"\nranges = [\"10.0.0.2\"]\n[[pool]]\nname = \"p\"\nranges = [\"10.0.0.3\"]\n", 0o644, `: server: pool "p" is defined twice`},
		{"duplicate interface", minimal + "[[interface]]\nname = \"eth1\"\n", 0o644, `: server: interface eth1 is listed twice`},
		{"duplicate user", minimal + u + u, 0o600, `: server: user "alice" is defined twice`},
		{"undefined pool", minimal + "remote-pool = \"nope\"\n", 0o644, `: server: profile "default": remote-pool "nope" is not defined`},
		{"overlapping ranges", minimal + "[[pool]]\nname = \"p\"\nranges = [\"10.0.0.0/24\", \"10.0.0.9\"]\n", 0o644, `: server: pool p: ranges 10.0.0.1-10.0.0.254 and 10.0.0.9 overlap`},
		{"max-mtu too large", "max-mtu = 9000\n" + minimal, 0o644, `: server: max-mtu 9000 is not within 128..1500`},
		{"negative max-sessions", "max-sessions = -1\n" + minimal, 0o644, `: server: max-sessions -1 is negative`},

		// Passwords.
		{"password in a group-readable file", minimal + u, 0o640, `:9: key "user.password": the file is readable by others (mode 0640): chmod 600 it`},
		{"password in a world-readable file", minimal + u, 0o604, `:9: key "user.password": the file is readable by others (mode 0604): chmod 600 it`},
		{"password in the second user of a readable file", minimal + "[[user]]\nname = \"a\"\n" + u, 0o644, `:6: key "user.password": missing`},
		{"inline password in a readable file", "user = [{name = \"a\", password = \"hunter2\"}]\n" + minimal, 0o644, `:1: key "user.password": the file is readable by others (mode 0644): chmod 600 it`},
		{"password unquoted", minimal + "[[user]]\nname = \"a\"\npassword = hunter2\n", 0o600, `:8: not valid TOML (the decoder's message is withheld: the line holds a secret)`},
		{"password unterminated", minimal + "[[user]]\nname = \"a\"\npassword = \"hunter2\n", 0o600, `:8: not valid TOML (the decoder's message is withheld: the line holds a secret)`},
		{"password with a bad escape on its second line", minimal + "[[user]]\nname = \"a\"\npassword = \"\"\"\nhunter2\\q\"\"\"\n", 0o600, `:9: not valid TOML (the decoder's message is withheld: the line holds a secret)`},
		{"secrets file missing", "secrets-files = [\"/nonexistent/chap-secrets\"]\n" + minimal, 0o644, `:1: key "secrets-files": secrets: stat /nonexistent/chap-secrets: no such file or directory`},

		// Syntax.
		{"not TOML", "interface: eth0\n", 0o644, `:1: not valid TOML: expected '.' or '=', but got ':' instead`},
		{"duplicate key", minimal + "name = \"x\"\n", 0o644, `:6: not valid TOML: Key 'profile.name' has already been defined.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := write(t, "server.toml", tt.text, tt.perm)
			got, err := LoadServer(path, nil)
			if err == nil {
				t.Fatalf("no error; config %+v", got)
			}
			if want := path + tt.want; err.Error() != want && !(strings.HasSuffix(tt.want, ": ") && strings.HasPrefix(err.Error(), want)) {
				t.Errorf("error\n %s\nwant\n %s", err, want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the password leaked: %s", err)
			}
			if strings.Contains(err.Error(), "\n") {
				t.Errorf("more than one line: %q", err)
			}
			var ce *Error
			if !errors.As(err, &ce) || ce.File != path {
				t.Errorf("not a *config.Error for %s: %#v", path, err)
			}
		})
	}
}

// A bad secrets file: its own error (file and line, never a word of it),
// under the key that names it.
func TestLoadServerBadSecretsFile(t *testing.T) {
	dir := t.TempDir()
	chap := filepath.Join(dir, "chap-secrets")
	if err := os.WriteFile(chap, []byte("alice * \"hunter2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "server.toml")
	if err := os.WriteFile(path, []byte(minimal+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("secrets-files = [\"chap-secrets\"]\n"+minimal), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadServer(path, nil)
	if want := path + `:1: key "secrets-files": secrets: ` + chap + ":1: "; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("error %v, want %s...", err, want)
	}
	if err != nil && strings.Contains(err.Error(), "hunter2") {
		t.Errorf("the secret leaked: %s", err)
	}
}

func TestLoadServerFileErrors(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "nope.toml"), filepath.Join(dir, "nope.toml") + ": no such file or directory"},
		{"directory", dir, dir + ": not a regular file"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := LoadServer(tt.path, nil); err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %s", err, tt.want)
			}
		})
	}
}

// keyLines finds each key's line past what could mislead a line scan:
// headers and keys inside multi-line strings and arrays, comments,
// quoted and dotted keys, and the elements of arrays of tables.
func TestKeyLines(t *testing.T) {
	doc := `# [[user]] in a comment
a = """
[[user]]
b = 1 \
"""
c = [ # x = 1
  "]", '[',
  { d = 1 },
]
"e.f" . g = '''
''''
[ t . "u" ]
h = "\"#" # i = 2
[[user]]
name = 'x'
[user.extra]
k = 1
[[user]]
name = "y"
[[user.sub]]
m = 1
[[user.sub]]
m = 2
l = [{n = 1},
     {n = 2}]
`
	want := map[string]int{
		"a": 2, "c": 6, "e.f": 10, "e.f.g": 10, "t": 12, "t.u": 12, "t.u.h": 13,
		"user": 14, "user[0]": 14, "user[0].name": 15, "user[0].extra": 16, "user[0].extra.k": 17,
		"user[1]": 18, "user[1].name": 19, "user[1].sub": 20, "user[1].sub[0]": 20, "user[1].sub[0].m": 21,
		"user[1].sub[1]": 22, "user[1].sub[1].m": 23, "user[1].sub[1].l": 24,
	}
	if got := keyLines([]byte(doc)); !reflect.DeepEqual(got, want) {
		t.Errorf("got\n %v\nwant\n %v", got, want)
	}
}

// The example in systemd/ (installed by make install) loads, its secrets
// files moved to the test's directory, into what it says.
func TestServerExample(t *testing.T) {
	text, err := os.ReadFile("../systemd/server.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, name := range []string{"chap-secrets", "pap-secrets"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("carol * pw *\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	moved := strings.ReplaceAll(string(text), "/etc/ppp/", dir+"/")
	if moved == string(text) {
		t.Fatal("the example names no file in /etc/ppp")
	}
	got, err := loadServer(t, moved, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	got.Reload = nil
	carol := secrets.Entry{Client: "carol", Server: "*", Secret: "pw", AnyAddress: true, Line: 1}
	want := server.Config{
		Interfaces:       []server.Interface{{Name: "eth1", ServiceNames: []string{"internet"}, DefaultProfile: "default"}},
		ACName:           "ac1",
		Auth:             []ppp.AuthMethod{ppp.AuthMSCHAPv2, ppp.AuthCHAPMD5, ppp.AuthPAP},
		DefaultProfile:   "default",
		Profiles:         []server.Profile{{Name: "default", LocalAddress: addr("10.0.0.1"), RemotePool: "clients", DNS: []netip.Addr{addr("10.0.0.1")}, MTU: 1492, MRU: 1492}},
		Pools:            []server.PoolConfig{{Name: "clients", Ranges: []server.Range{rng("10.0.0.2", "10.0.0.254"), rng("10.0.1.1", "10.0.1.254")}}},
		Users:            []server.User{{Name: "alice", Password: "change-me", Profile: "default", RemoteAddress: addr("10.0.0.50"), Ifname: "ppp-alice"}, {Name: "bob", Password: "change-me-too"}},
		Secrets:          []secrets.Entry{carol, carol},
		KeepaliveTimeout: 10 * time.Second,
		MaxMTU:           1492,
		MaxMRU:           1492,
		PADI:             server.PADILimits{GlobalRate: 200, GlobalBurst: 400, MACRate: 1, MACBurst: 5, MaxMACs: 4096},
		Timers:           ppp.Timers{Restart: 3 * time.Second, MaxConfigure: 10, MaxTerminate: 2, MaxFailure: 5},
		ControlSocket:    server.DefaultControlSocket,
	}
	if !reflect.DeepEqual(*got, want) {
		t.Errorf("got\n %#v\nwant\n %#v", *got, want)
	}
}

// README.md's example is the installed one, so that what the README shows
// is what this package's tests load.
func TestServerExampleInREADME(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	example, err := os.ReadFile("../systemd/server.example.toml")
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Access concentrator\n")
	if !ok {
		t.Fatal("README.md has no section \"## Access concentrator\"")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	_, block, ok := strings.Cut(section, "```toml\n")
	if !ok {
		t.Fatal("the section has no ```toml block")
	}
	block, _, _ = strings.Cut(block, "```\n")
	if block != string(example) {
		t.Error("README.md's server.toml differs from systemd/server.example.toml: keep them the same")
	}
}

// FuzzParseServer: any file either fails with one line naming the file or
// gives a configuration Validate takes; no password or RADIUS secret of a
// file others may read is taken.
func FuzzParseServer(f *testing.F) {
	ex, err := os.ReadFile("../systemd/server.example.toml")
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range []string{
		string(ex),
		minimal,
		minimal + "[[user]]\nname = \"a\"\npassword = \"p\"\n",
		"user = [{name = \"a\", password = \"p\"}]\n" + minimal,
		"a = \"\"\"\n[[user]]\n\"\"\"\n" + minimal,
		"[[a.b]]\n[[a.b.c]]\nx = [\n1,\n]\n",
		minimal + "[radius]\norder = \"radius\"\nretries = 0\n[[radius.server]]\naddress = \"2001:db8::1\"\nsecret = \"s\"\naccounting-port = 0\n" +
			"[radius.incoming]\nlisten = \":3799\"\n[[radius.incoming.client]]\naddress = \"192.0.2.0/24\"\nsecret = \"s\"\n",
		"radius = {server = [{address = \"h\", secret = \"\"\"\ns\"\"\"}]}\n" + minimal,
	} {
		f.Add([]byte(s), true)
	}
	// A path the fuzzer writes could be a FIFO: no file is read.
	parseSecretsFile = func(string, *slog.Logger) ([]secrets.Entry, error) { return nil, nil }
	f.Cleanup(func() { parseSecretsFile = secrets.ParseFile })
	f.Fuzz(func(t *testing.T, data []byte, private bool) {
		perm := fs.FileMode(0o644)
		if private {
			perm = 0o600
		}
		lines := strings.Count(string(data), "\n") + 1
		for k, l := range keyLines(data) {
			if l < 1 || l > lines {
				t.Fatalf("key %q on line %d of %d", k, l, lines)
			}
		}
		cfg, err := parseServer("f.toml", data, perm, nil)
		if err != nil {
			if s := err.Error(); !strings.HasPrefix(s, "f.toml") || strings.Contains(s, "\n") {
				t.Fatalf("bad error %q", s)
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("accepted a configuration Validate refuses: %v", err)
		}
		if len(cfg.Users) > 0 && !private {
			t.Fatalf("users with passwords taken from a file others may read")
		}
		// Every RADIUS server has a secret (Validate): none from a file
		// others may read.
		if cfg.RADIUS != nil && !private {
			t.Fatalf("RADIUS secrets taken from a file others may read")
		}
	})
}
