package config

import (
	"errors"
	"io/fs"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pppoed/pppoed/radius"
	"github.com/pppoed/pppoed/server"
)

// radiusServer1 is the least [[radius.server]] (lines +1..+3).
const radiusServer1 = "[[radius.server]]\naddress = \"192.0.2.10\"\nsecret = \"hunter2\"\n"

// [radius]'s keys, each decoded into server.RADIUS; what the file leaves
// out stays zero, for the server's and radius's defaults.
func TestLoadServerRADIUS(t *testing.T) {
	one := server.RADIUSServer{Auth: "192.0.2.10:1812", Acct: "192.0.2.10:1813", Secret: radius.Secret("hunter2")}
	tests := []struct {
		name string
		text string // after minimal
		want *server.RADIUS
	}{
		{"full file", `
[radius]
order = "radius,local"
nas-identifier = "ac1"
nas-ip-address = "192.0.2.1"
timeout = "2s"
retries = 4
dead-time = "1m"
interim-update = "5m"
accounting-spool = 100

[[radius.server]]
address = "192.0.2.10"
secret = "s1"
authentication-port = 11812
accounting-port = 11813

[[radius.server]]
address = "2001:db8::1"
secret = 'two "quoted" \ words'
accounting-port = 0

[[radius.server]]
address = "radius.example.net"
secret = "s3"
authentication-port = 0

[radius.incoming]
listen = "192.0.2.1:3799"
require-event-timestamp = true

[[radius.incoming.client]]
address = "192.0.2.10"
secret = "d1"

[[radius.incoming.client]]
address = "2001:db8::/64"
secret = "d2"

[[radius.incoming.client]]
address = "2001:db8:1::1"
secret = "d3"
`, &server.RADIUS{
			// Servers in the file's order, each address joined with its
			// ports; a port of 0 leaves that use out.
			Servers: []server.RADIUSServer{
				{Auth: "192.0.2.10:11812", Acct: "192.0.2.10:11813", Secret: radius.Secret("s1")},
				{Auth: "[2001:db8::1]:1812", Secret: radius.Secret(`two "quoted" \ words`)},
				{Acct: "radius.example.net:1813", Secret: radius.Secret("s3")},
			},
			Order:                    server.RADIUSFirst,
			NASIdentifier:            "ac1",
			NASIPAddress:             addr("192.0.2.1"),
			Timeout:                  2 * time.Second,
			Retries:                  4,
			DeadTime:                 time.Minute,
			InterimInterval:          5 * time.Minute,
			Spool:                    100,
			DAEListen:                "192.0.2.1:3799",
			DAERequireEventTimestamp: true,
			DAEClients: []radius.DAEClient{
				{Prefix: netip.MustParsePrefix("192.0.2.10/32"), Secret: radius.Secret("d1")},
				{Prefix: netip.MustParsePrefix("2001:db8::/64"), Secret: radius.Secret("d2")},
				{Prefix: netip.MustParsePrefix("2001:db8:1::1/128"), Secret: radius.Secret("d3")},
			},
		}},
		{"one server, the defaults", "[radius]\n" + radiusServer1, &server.RADIUS{Servers: []server.RADIUSServer{one}}},
		{"[[radius.server]] alone defines [radius]", radiusServer1, &server.RADIUS{Servers: []server.RADIUSServer{one}}},
		{"servers as an inline array", "[radius]\nserver = [{address = \"192.0.2.10\", secret = \"hunter2\"}, {address = \"192.0.2.11\", secret = \"x\"}]\n", &server.RADIUS{
			Servers: []server.RADIUSServer{one, {Auth: "192.0.2.11:1812", Acct: "192.0.2.11:1813", Secret: radius.Secret("x")}},
		}},
		{"order local,radius", "[radius]\norder = \"local,radius\"\n" + radiusServer1, &server.RADIUS{Servers: []server.RADIUSServer{one}, Order: server.LocalFirst}},
		{"order radius", "[radius]\norder = \"radius\"\n" + radiusServer1, &server.RADIUS{Servers: []server.RADIUSServer{one}, Order: server.RADIUSOnly}},
		// The file's 0 is no retransmission; RADIUS's zero is radius's
		// default, 2.
		{"retries 0 is none", "[radius]\nretries = 0\n" + radiusServer1, &server.RADIUS{Servers: []server.RADIUSServer{one}, Retries: -1}},
		{"durations of 0: the defaults, no interim-update", "[radius]\ntimeout = \"0s\"\ndead-time = \"0\"\ninterim-update = \"0s\"\n" + radiusServer1, &server.RADIUS{Servers: []server.RADIUSServer{one}}},
		{"ports at their bounds", "[radius]\n[[radius.server]]\naddress = \"192.0.2.10\"\nsecret = \"hunter2\"\nauthentication-port = 65535\naccounting-port = 0\n", &server.RADIUS{
			Servers: []server.RADIUSServer{{Auth: "192.0.2.10:65535", Secret: radius.Secret("hunter2")}},
		}},
		{"incoming clients and no listener", "[radius]\n" + radiusServer1 + "[[radius.incoming.client]]\naddress = \"192.0.2.0/24\"\nsecret = \"d\"\n", &server.RADIUS{
			Servers:    []server.RADIUSServer{one},
			DAEClients: []radius.DAEClient{{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Secret: radius.Secret("d")}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := loadServer(t, minimal+tt.text, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			got.Reload = nil
			want := minimalConfig()
			want.RADIUS = tt.want
			if !reflect.DeepEqual(*got, want) {
				t.Errorf("got\n %#v\nwant\n %#v", got.RADIUS, want.RADIUS)
				if got.RADIUS != nil && tt.want != nil {
					for i := range got.RADIUS.Servers {
						// %#v hides the secrets: say which differs.
						if i < len(tt.want.Servers) && string(got.RADIUS.Servers[i].Secret) != string(tt.want.Servers[i].Secret) {
							t.Errorf("server %d: not the secret of the file", i+1)
						}
					}
				}
			}
		})
	}
}

// Every bad [radius]: one line, naming the file, and the line and key when
// the fault is one key's, and never a secret.
func TestLoadServerRADIUSErrors(t *testing.T) {
	const r = minimal + "[radius]\n" // line 6
	s := radiusServer1               // lines 7..9 after r
	tests := []struct {
		name string
		text string
		perm fs.FileMode
		want string // after "FILE"
	}{
		// Keys.
		{"unknown key", r + "bogus = 1\n" + s, 0o600, `:7: key "radius.bogus": unknown key`},
		{"unknown key in a server", r + s + "port = 1812\n", 0o600, `:10: key "radius.server.port": unknown key`},
		{"unknown key in the second server", r + s + s + "ports = 1\n", 0o600, `:13: key "radius.server.ports": unknown key`},
		{"unknown key in incoming", r + s + "[radius.incoming]\nport = 3799\n", 0o600, `:11: key "radius.incoming.port": unknown key`},
		{"unknown key in an incoming client", r + s + "[[radius.incoming.client]]\naddress = \"192.0.2.10\"\nsecret = \"hunter2\"\nname = \"x\"\n", 0o600, `:13: key "radius.incoming.client.name": unknown key`},
		{"no server", r + "order = \"radius\"\n", 0o600, `:6: key "radius.server": missing`},
		{"no server, [radius] only implied", minimal + "[radius.incoming]\nlisten = \":3799\"\n[[radius.incoming.client]]\naddress = \"192.0.2.10\"\nsecret = \"hunter2\"\n", 0o600, `:6: key "radius.server": missing`},
		{"an empty array of servers", r + "server = []\n", 0o600, `:7: key "radius.server": an empty array: [radius] needs a [[radius.server]]`},
		{"server as a table", r + "[radius.server]\naddress = \"192.0.2.10\"\nsecret = \"hunter2\"\n", 0o600, `:7: key "radius.server": want an array of tables: write [[radius.server]], not [radius.server]`},
		{"radius as an array of tables", minimal + "[[radius]]\n", 0o600, `:6: key "radius": want a table ([radius]), got an array`},
		{"incoming as a number", r + "incoming = 3799\n" + s, 0o600, `:7: key "radius.incoming": want a table ([radius.incoming]), got an integer`},
		{"missing address", r + "[[radius.server]]\nsecret = \"hunter2\"\n", 0o600, `:7: key "radius.server.address": missing`},
		{"missing secret", r + "[[radius.server]]\naddress = \"192.0.2.10\"\n", 0o600, `:7: key "radius.server.secret": missing`},
		{"missing client address", r + s + "[[radius.incoming.client]]\nsecret = \"hunter2\"\n", 0o600, `:10: key "radius.incoming.client.address": missing`},
		{"missing client secret", r + s + "[[radius.incoming.client]]\naddress = \"192.0.2.10\"\n", 0o600, `:10: key "radius.incoming.client.secret": missing`},

		// Types.
		{"order given an array", r + "order = [\"radius\"]\n" + s, 0o600, `:7: key "radius.order": want a string, got an array`},
		{"nas-identifier given an integer", r + "nas-identifier = 1\n" + s, 0o600, `:7: key "radius.nas-identifier": want a string, got an integer`},
		{"timeout without a unit", r + "timeout = \"3\"\n" + s, 0o600, `:7: key "radius.timeout": want a duration string such as "60s", got "3"`},
		{"dead-time given an integer", r + "dead-time = 30\n" + s, 0o600, `:7: key "radius.dead-time": want a duration string such as "60s", got an integer`},
		{"negative interim-update", r + "interim-update = \"-5m\"\n" + s, 0o600, `:7: key "radius.interim-update": "-5m" is negative`},
		{"retries given a string", r + "retries = \"2\"\n" + s, 0o600, `:7: key "radius.retries": want an integer, got a string`},
		{"address given an integer", r + "[[radius.server]]\naddress = 1\nsecret = \"hunter2\"\n", 0o600, `:8: key "radius.server.address": want a string, got an integer`},
		{"secret given an integer", r + "[[radius.server]]\naddress = \"192.0.2.10\"\nsecret = 1234\n", 0o600, `:9: key "radius.server.secret": want a string, got an integer`},
		{"port given a string", r + s + "authentication-port = \"1812\"\n", 0o600, `:10: key "radius.server.authentication-port": want an integer, got a string`},
		{"listen given an integer", r + s + "[radius.incoming]\nlisten = 3799\n", 0o600, `:11: key "radius.incoming.listen": want a string, got an integer`},
		{"client address given an array", r + s + "[[radius.incoming.client]]\naddress = [\"192.0.2.10\"]\nsecret = \"hunter2\"\n", 0o600, `:11: key "radius.incoming.client.address": want a string, got an array`},
		{"client secret given a boolean", r + s + "[[radius.incoming.client]]\naddress = \"192.0.2.10\"\nsecret = true\n", 0o600, `:12: key "radius.incoming.client.secret": want a string, got a boolean`},

		// Values.
		{"unknown order", r + "order = \"ldap\"\n" + s, 0o600, `:7: key "radius.order": auth order "ldap" is not one of local,radius, radius, radius,local`},
		{"IPv6 nas-ip-address", r + "nas-ip-address = \"2001:db8::1\"\n" + s, 0o600, `:7: key "radius.nas-ip-address": "2001:db8::1" is not an IPv4 address`},
		{"negative retries", r + "retries = -1\n" + s, 0o600, `:7: key "radius.retries": -1 is negative`},
		{"negative accounting-spool", r + "accounting-spool = -1\n" + s, 0o600, `:7: key "radius.accounting-spool": -1 is negative`},
		{"authentication-port too large", r + s + "authentication-port = 65536\n", 0o600, `:10: key "radius.server.authentication-port": 65536 is not a port (0..65535)`},
		{"negative accounting-port", r + s + "accounting-port = -1\n", 0o600, `:10: key "radius.server.accounting-port": -1 is not a port (0..65535)`},
		{"both ports 0", r + s + "authentication-port = 0\naccounting-port = 0\n", 0o600, `:7: key "radius.server": authentication-port and accounting-port are both 0: the server would serve nothing`},
		{"both ports 0 in the second server", r + s + s + "authentication-port = 0\naccounting-port = 0\n", 0o600, `:10: key "radius.server": authentication-port and accounting-port are both 0: the server would serve nothing`},
		{"address with a port", r + "[[radius.server]]\naddress = \"192.0.2.10:1812\"\nsecret = \"hunter2\"\n", 0o600, `:8: key "radius.server.address": "192.0.2.10:1812" is not an IP address or a host name (give the ports as authentication-port and accounting-port)`},
		{"IPv6 address in brackets", r + "[[radius.server]]\naddress = \"[2001:db8::1]\"\nsecret = \"hunter2\"\n", 0o600, `:8: key "radius.server.address": "[2001:db8::1]" is not an IP address or a host name (give the ports as authentication-port and accounting-port)`},
		{"address a bad IPv4 address", r + "[[radius.server]]\naddress = \"192.0.2.256\"\nsecret = \"hunter2\"\n", 0o600, `:8: key "radius.server.address": "192.0.2.256" is not an IP address or a host name`},
		{"address with a space", r + "[[radius.server]]\naddress = \"radius example\"\nsecret = \"hunter2\"\n", 0o600, `:8: key "radius.server.address": "radius example" is not an IP address or a host name`},
		{"address with an empty label", r + "[[radius.server]]\naddress = \"radius..example\"\nsecret = \"hunter2\"\n", 0o600, `:8: key "radius.server.address": "radius..example" is not an IP address or a host name`},
		{"empty address", r + "[[radius.server]]\naddress = \"\"\nsecret = \"hunter2\"\n", 0o600, `:8: key "radius.server.address": "" is not an IP address or a host name`},
		{"empty secret", r + "[[radius.server]]\naddress = \"192.0.2.10\"\nsecret = \"\"\n", 0o600, `:9: key "radius.server.secret": empty: RADIUS needs a shared secret (RFC 2865 §3)`},
		{"empty client secret", r + s + "[[radius.incoming.client]]\naddress = \"192.0.2.10\"\nsecret = ''\n", 0o600, `:12: key "radius.incoming.client.secret": empty: RADIUS needs a shared secret (RFC 5176 §2.3)`},
		{"listen without a port", r + s + "[radius.incoming]\nlisten = \"3799\"\n", 0o600, `:11: key "radius.incoming.listen": want host:port, such as ":3799", got "3799"`},
		{"listen empty", r + s + "[radius.incoming]\nlisten = \"\"\n", 0o600, `:11: key "radius.incoming.listen": want host:port, such as ":3799", got ""`},
		{"listen on a named port", r + s + "[radius.incoming]\nlisten = \":radius-dynauth\"\n", 0o600, `:11: key "radius.incoming.listen": want host:port, such as ":3799", got ":radius-dynauth"`},
		{"listen on port 0", r + s + "[radius.incoming]\nlisten = \"127.0.0.1:0\"\n", 0o600, `:11: key "radius.incoming.listen": want host:port, such as ":3799", got "127.0.0.1:0"`},
		{"listen on a port too large", r + s + "[radius.incoming]\nlisten = \":65536\"\n", 0o600, `:11: key "radius.incoming.listen": want host:port, such as ":3799", got ":65536"`},
		{"listen without a client", r + s + "[radius.incoming]\nlisten = \":3799\"\n", 0o600, `:10: key "radius.incoming.client": missing: requests are listened for, but no client may send them`},
		{"client address not an address", r + s + "[[radius.incoming.client]]\naddress = \"radius.example.net\"\nsecret = \"hunter2\"\n", 0o600, `:11: key "radius.incoming.client.address": "radius.example.net" is not an IP address or prefix`},
		{"client prefix too long", r + s + "[[radius.incoming.client]]\naddress = \"192.0.2.0/33\"\nsecret = \"hunter2\"\n", 0o600, `:11: key "radius.incoming.client.address": "192.0.2.0/33" is not an IP address or prefix`},
		{"client prefix with host bits", r + s + "[[radius.incoming.client]]\naddress = \"192.0.2.1/24\"\nsecret = \"hunter2\"\n", 0o600, `:11: key "radius.incoming.client.address": "192.0.2.1/24" has host bits set (192.0.2.0/24?)`},
		{"client address with a zone", r + s + "[[radius.incoming.client]]\naddress = \"fe80::1%eth0\"\nsecret = \"hunter2\"\n", 0o600, `:11: key "radius.incoming.client.address": "fe80::1%eth0" has a zone: no request matches it`},
		{"client address IPv4-mapped", r + s + "[[radius.incoming.client]]\naddress = \"::ffff:192.0.2.10\"\nsecret = \"hunter2\"\n", 0o600, `:11: key "radius.incoming.client.address": "::ffff:192.0.2.10" is IPv4-mapped: no request matches it (write it as IPv4)`},
		{"client prefix IPv4-mapped", r + s + "[[radius.incoming.client]]\naddress = \"::ffff:192.0.2.0/120\"\nsecret = \"hunter2\"\n", 0o600, `:11: key "radius.incoming.client.address": "::ffff:192.0.2.0/120" is IPv4-mapped: no request matches it (write it as IPv4)`},

		// What server.RADIUS's validate finds: the file, no line.
		{"interim-update under a minute", r + "interim-update = \"30s\"\n" + s, 0o600, `: server: radius: interim-update 30s is under 1m0s`},

		// Secrets: refused in a file others may read, never quoted.
		{"secret in a group-readable file", r + s, 0o640, `:9: key "radius.server.secret": the file is readable by others (mode 0640): chmod 600 it`},
		{"secret in a world-readable file", r + s, 0o644, `:9: key "radius.server.secret": the file is readable by others (mode 0644): chmod 600 it`},
		{"inline secret in a readable file", r + "server = [{address = \"192.0.2.10\", secret = \"hunter2\"}]\n", 0o644, `:7: key "radius.server.secret": the file is readable by others (mode 0644): chmod 600 it`},
		// The client first, so that its error is the first in the file.
		{"client secret in a readable file", minimal + "[[radius.incoming.client]]\naddress = \"192.0.2.10\"\nsecret = \"hunter2\"\n" + s, 0o604, `:8: key "radius.incoming.client.secret": the file is readable by others (mode 0604): chmod 600 it`},
		{"secret unquoted", r + "[[radius.server]]\naddress = \"192.0.2.10\"\nsecret = hunter2\n", 0o600, `:9: not valid TOML (the decoder's message is withheld: the line holds a secret)`},
		{"secret with a bad escape on its second line", r + "[[radius.server]]\naddress = \"192.0.2.10\"\nsecret = \"\"\"\nhunter2\\q\"\"\"\n", 0o600, `:10: not valid TOML (the decoder's message is withheld: the line holds a secret)`},
		{"client secret with a bad escape on its second line", r + s + "[[radius.incoming.client]]\naddress = \"192.0.2.10\"\nsecret = \"\"\"\nhunter2\\q\"\"\"\n", 0o600, `:13: not valid TOML (the decoder's message is withheld: the line holds a secret)`},
		{"bad TOML after an inline secret", r + "server = [{secret = \"hunter2\", address = 192.0.2.10}]\n", 0o600, `:7: not valid TOML (the decoder's message is withheld: the line holds a secret)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := write(t, "server.toml", tt.text, tt.perm)
			got, err := LoadServer(path, nil)
			if err == nil {
				t.Fatalf("no error; radius %+v", got.RADIUS)
			}
			if want := path + tt.want; err.Error() != want {
				t.Errorf("error\n %s\nwant\n %s", err, want)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the secret leaked: %s", err)
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
