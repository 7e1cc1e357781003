package lab

import (
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pppoed/pppoed/config"
	"github.com/pppoed/pppoed/radius"
	"github.com/pppoed/pppoed/server"
)

// What FreeRADIUS 3.2.1 writes: two complete records and one it is still
// writing, strings quoted with fr_snprint's escapes.
func TestParseDetail(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []AcctRecord
		wantErr bool
	}{
		{
			name: "records, escapes, partial last",
			in: "Mon Nov 30 05:08:53 2026\n" +
				"\tUser-Name = \"alice\"\n" +
				"\tAcct-Status-Type = Start\n" +
				"\tNAS-Port-Id = \"eth0 \\\"q\\\" \\\\ \\t\\001\"\n" +
				"\tClass = 0x0102ff\n" +
				"\tTimestamp = 1796015333\n" +
				"\n" +
				"Mon Nov 30 05:08:54 2026\n" +
				"\tAcct-Status-Type = Stop\n" +
				"\n" +
				"Mon Nov 30 05:08:55 2026\n" +
				"\tAcct-Status-Type = Interim-Update\n",
			want: []AcctRecord{
				{Time: "Mon Nov 30 05:08:53 2026", Attrs: []RadiusAttr{
					{"User-Name", "alice"},
					{"Acct-Status-Type", "Start"},
					{"NAS-Port-Id", "eth0 \"q\" \\ \t\x01"},
					{"Class", "0x0102ff"},
					{"Timestamp", "1796015333"},
				}},
				{Time: "Mon Nov 30 05:08:54 2026", Attrs: []RadiusAttr{{"Acct-Status-Type", "Stop"}}},
			},
		},
		{name: "empty", in: "", want: nil},
		{name: "line cut", in: "Mon\n\tUser-Name = \"al", want: nil},
		{name: "attribute outside", in: "\tUser-Name = \"a\"\n\n", wantErr: true},
		{name: "header inside", in: "Mon\nTue\n\n", wantErr: true},
		{name: "no equals", in: "Mon\n\tUser-Name\n\n", wantErr: true},
		{name: "unterminated string", in: "Mon\n\tUser-Name = \"a\n\n", wantErr: true},
		{name: "bare quote", in: "Mon\n\tUser-Name = \"a\"b\"\n\n", wantErr: true},
		{name: "trailing backslash", in: "Mon\n\tUser-Name = \"a\\\"\n\n", wantErr: true},
		{name: "bad octal", in: "Mon\n\tUser-Name = \"\\09\"\n\n", wantErr: true},
		{name: "short octal", in: "Mon\n\tUser-Name = \"\\0\"\n\n", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDetail([]byte(tt.in))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// radclient -x prints the request (password included) before the reply:
// only the reply is parsed, and a missing reply is told apart.
func TestParseRadclient(t *testing.T) {
	sent := "Sent Access-Request Id 187 from 0.0.0.0:54404 to 127.0.0.1:21812 length 63\n" +
		"\tUser-Name = \"alice\"\n\tUser-Password = \"wonder land\"\n\tMessage-Authenticator = 0x00\n"
	got, found, err := parseRadclient([]byte(sent +
		"Received Access-Accept Id 187 from 127.0.0.1:21812 to 127.0.0.1:54404 length 63\n" +
		"\tFramed-IP-Address = 10.64.0.5\n\tReply-Message = \"hello alice\"\n" +
		"(0) -: Expected Access-Accept got Access-Reject\n"))
	want := RadiusReply{Code: "Access-Accept", Attrs: []RadiusAttr{{"Framed-IP-Address", "10.64.0.5"}, {"Reply-Message", "hello alice"}}}
	if err != nil || !found || !reflect.DeepEqual(got, want) {
		t.Errorf("got %#v, %v, %v; want %#v", got, found, err, want)
	}
	if v, ok := got.Get("Reply-Message"); !ok || v != "hello alice" {
		t.Errorf("Get(Reply-Message) = %q, %v", v, ok)
	}
	if _, found, err := parseRadclient([]byte(sent + "(0) No reply from server for ID 27 socket 3\n")); found || err != nil {
		t.Errorf("no reply: found %v, err %v", found, err)
	}
	if _, _, err := parseRadclient([]byte("Received Access-Reject Id 1\n\tbroken\n")); err == nil {
		t.Error("a malformed reply attribute parsed")
	}
}

func radiusTestConfig() FreeRADIUSConfig {
	return FreeRADIUSConfig{
		Addr:    netip.MustParseAddr("192.0.2.1"),
		Clients: []RadiusClient{{Addr: netip.MustParsePrefix("192.0.2.2/32"), Secret: "s3cret"}},
		Users: []RadiusUser{{Name: "alice", Password: "wonder land", Reply: []RadiusAttr{
			{"Framed-IP-Address", "10.64.0.5"}, {"Session-Timeout", "3600"},
		}}, {Name: "mallory", Check: []RadiusAttr{{"Auth-Type", "Accept"}}, Reply: []RadiusAttr{
			{"MS-CHAP2-Success", "0x01533d30303030"},
		}}},
	}
}

// Text that could end a quoted string or a word of FreeRADIUS's files is
// refused, never written.
func TestFreeRADIUSRenderRefuses(t *testing.T) {
	tests := []struct {
		name string
		edit func(*FreeRADIUSConfig)
	}{
		{"no clients", func(c *FreeRADIUSConfig) { c.Clients = nil }},
		{"client without address", func(c *FreeRADIUSConfig) { c.Clients[0].Addr = netip.Prefix{} }},
		{"empty secret", func(c *FreeRADIUSConfig) { c.Clients[0].Secret = "" }},
		{"quote in secret", func(c *FreeRADIUSConfig) { c.Clients[0].Secret = "a'b" }},
		{"newline in secret", func(c *FreeRADIUSConfig) { c.Clients[0].Secret = "a\nb" }},
		{"empty user", func(c *FreeRADIUSConfig) { c.Users[0].Name = "" }},
		{"space in user", func(c *FreeRADIUSConfig) { c.Users[0].Name = "a b" }},
		{"backslash in password", func(c *FreeRADIUSConfig) { c.Users[0].Password = `a\` }},
		{"double quote in password", func(c *FreeRADIUSConfig) { c.Users[0].Password = `a"` }},
		{"DEL in value", func(c *FreeRADIUSConfig) { c.Users[0].Reply[0].Value = "a\x7f" }},
		{"comma in attribute name", func(c *FreeRADIUSConfig) { c.Users[0].Reply[0].Name = "A,B" }},
		{"empty check item name", func(c *FreeRADIUSConfig) { c.Users[1].Check[0].Name = "" }},
		{"space in check item name", func(c *FreeRADIUSConfig) { c.Users[1].Check[0].Name = "Auth Type" }},
		{"quote in check item", func(c *FreeRADIUSConfig) { c.Users[1].Check[0].Value = "Accept'" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := radiusTestConfig()
			tt.edit(&c)
			if _, err := c.render(t.TempDir()); err == nil {
				t.Error("rendered")
			}
		})
	}
	if _, err := radiusTestConfig().render("/tmp/a dir"); err == nil {
		t.Error("a directory with a space rendered")
	}
}

// The generated raddb is one FreeRADIUS accepts (freeradius -C checks the
// configuration and loads the modules without listening), and it holds what
// the tests rely on.
func TestFreeRADIUSRenderChecks(t *testing.T) {
	dir := t.TempDir()
	for _, unsigned := range []bool{false, true} {
		c := radiusTestConfig()
		c.UnsignedReplies = unsigned
		files, err := c.render(dir)
		if err != nil {
			t.Fatal(err)
		}
		var conf string
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.text), 0o600); err != nil {
				t.Fatal(err)
			}
			if f.name == "radiusd.conf" {
				conf = f.text
			}
		}
		for _, want := range []string{"require_message_authenticator = yes", "reject_delay = 0", "ipaddr = 192.0.2.1", "secret = 's3cret'", "&reply: !* ANY"} {
			if !strings.Contains(conf, want) {
				t.Errorf("radiusd.conf lacks %q", want)
			}
		}
		want := 3 // Status-Server, Access-Accept, Access-Reject
		if unsigned {
			want = 0
		}
		if n := strings.Count(conf, "Message-Authenticator := 0x00"); n != want {
			t.Errorf("UnsignedReplies %v: %d replies signed, want %d", unsigned, n, want)
		}
		if _, err := exec.LookPath("freeradius"); err != nil {
			t.Skip("freeradius not installed (make deps)")
		}
		out, err := exec.Command("freeradius", "-C", "-d", dir, "-n", "radiusd", "-l", filepath.Join(dir, "check.log")).CombinedOutput()
		if err != nil {
			b, _ := os.ReadFile(filepath.Join(dir, "check.log"))
			t.Fatalf("freeradius -C: %v\n%s%s", err, out, b)
		}
	}
	if got, err := os.ReadFile(filepath.Join(dir, "users")); err != nil || !strings.Contains(string(got), "alice\tCleartext-Password := 'wonder land'\n\tFramed-IP-Address = '10.64.0.5',\n\tSession-Timeout = '3600'\n") ||
		!strings.Contains(string(got), "mallory\tCleartext-Password := '', Auth-Type := 'Accept'\n\tMS-CHAP2-Success = '0x01533d30303030'\n") {
		t.Errorf("users file: %v\n%s", err, got)
	}
}

// radclient's dictionary keeps the RFCs', FreeRADIUS's and Microsoft's
// attributes (what pppoed and its tests send) and drops the other vendors'.
func TestRadclientDictionary(t *testing.T) {
	for file, want := range map[string]bool{
		"dictionary.rfc2865": true, "dictionary.rfc5176": true, "dictionary.microsoft": true,
		"dictionary.freeradius": true, "dictionary.freeradius.internal": true, "dictionary.compat": true,
		"dictionary.usr.illegal": true,
		"dictionary.cisco":       false, "dictionary.ascend": false, "dictionary": false, "rfc2865": false,
	} {
		if got := keepDictionary(file); got != want {
			t.Errorf("keepDictionary(%q) = %v, want %v", file, got, want)
		}
	}
	if _, err := os.Stat(filepath.Join(freeradiusDictDir, "dictionary")); err != nil {
		t.Skip("FreeRADIUS's dictionaries not installed (make deps)")
	}
	b, err := radclientDictionary()
	if err != nil {
		t.Fatal(err)
	}
	d := string(b)
	for _, want := range []string{"$INCLUDE /usr/share/freeradius/dictionary.rfc2866\n", "$INCLUDE /usr/share/freeradius/dictionary.microsoft\n", "$INCLUDE /usr/share/freeradius/dictionary.freeradius.internal\n"} {
		if !strings.Contains(d, want) {
			t.Errorf("dictionary lacks %q", want)
		}
	}
	for _, line := range strings.Split(d, "\n") {
		if strings.HasPrefix(line, "$INCLUDE") && (strings.Contains(line, "cisco") || !strings.HasPrefix(line, "$INCLUDE /")) {
			t.Errorf("dictionary includes a vendor or a relative path: %s", line)
		}
	}
}

// The [radius] table ACConfig writes is read back by pppoed's own loader,
// each key landing where the lab means it to: the lab's struct and the
// server's file must not drift apart.
func TestACConfigRenderRADIUS(t *testing.T) {
	cfg := ACConfig{
		Interfaces: []ACInterface{{Name: "vac1"}},
		Profiles:   []ACProfile{{Name: "default", LocalAddress: "10.0.0.1", RemoteAddress: "10.0.0.2"}},
		RADIUS: &ACRADIUS{
			Order: "radius,local", NASIdentifier: "ac1", NASIPAddress: "192.0.2.1",
			Timeout: "1s", DeadTime: "7s", Retries: Ptr(0), InterimUpdate: "2m", AccountingSpool: 9,
			Servers: []ACRADIUSServer{
				{Address: "192.0.2.2", Secret: `s'e"c\ret`},
				{Address: "192.0.2.3", Secret: "two", AuthenticationPort: Ptr(0), AccountingPort: Ptr(21813)},
				{Address: "192.0.2.4", Secret: "three", AuthenticationPort: Ptr(21812), AccountingPort: Ptr(0)},
			},
			Incoming: &ACRADIUSIncoming{Listen: "192.0.2.1:3799", Clients: []ACRADIUSClient{
				{Address: "192.0.2.2", Secret: "dae"}, {Address: "198.51.100.0/24", Secret: "dae2"},
			}},
		},
	}
	b, err := cfg.Render()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "server.toml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := config.LoadServer(path, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	r := got.RADIUS
	if r == nil {
		t.Fatalf("no RADIUS read from\n%s", b)
	}
	if r.Order != server.RADIUSFirst || r.NASIdentifier != "ac1" || r.NASIPAddress != netip.MustParseAddr("192.0.2.1") ||
		r.Timeout != time.Second || r.DeadTime != 7*time.Second || r.Retries >= 0 || r.InterimInterval != 2*time.Minute || r.Spool != 9 {
		t.Errorf("[radius] read as %+v (retries 0 must be none, a negative Retries)", r)
	}
	want := []server.RADIUSServer{
		{Auth: "192.0.2.2:1812", Acct: "192.0.2.2:1813", Secret: radius.Secret(`s'e"c\ret`)},
		{Acct: "192.0.2.3:21813", Secret: radius.Secret("two")},
		{Auth: "192.0.2.4:21812", Secret: radius.Secret("three")},
	}
	if !reflect.DeepEqual(r.Servers, want) {
		t.Errorf("servers %+v, want %+v", r.Servers, want)
	}
	wantDAE := []radius.DAEClient{
		{Prefix: netip.MustParsePrefix("192.0.2.2/32"), Secret: radius.Secret("dae")},
		{Prefix: netip.MustParsePrefix("198.51.100.0/24"), Secret: radius.Secret("dae2")},
	}
	if r.DAEListen != "192.0.2.1:3799" || !reflect.DeepEqual(r.DAEClients, wantDAE) {
		t.Errorf("incoming %q %+v, want %+v", r.DAEListen, r.DAEClients, wantDAE)
	}

	// Left out, each takes the server's default.
	cfg.RADIUS = &ACRADIUS{Servers: []ACRADIUSServer{{Address: "192.0.2.2", Secret: "x"}}}
	if b, err = cfg.Render(); err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"order", "retries", "timeout", "incoming", "port", "interim", "spool"} {
		if strings.Contains(string(b), key) {
			t.Errorf("%q written:\n%s", key, b)
		}
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if got, err = config.LoadServer(path, nil); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if r := got.RADIUS; r.Order != server.LocalFirst || r.Retries != 0 || r.Timeout != 0 || r.DAEListen != "" {
		t.Errorf("defaults not left to the server: %+v", r)
	}
}
