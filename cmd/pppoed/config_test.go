package main

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pppoed/pppoed/client"
	"github.com/pppoed/pppoed/config"
	"github.com/pppoed/pppoed/netcfg"
	"github.com/urfave/cli/v3"
)

// writeConfig writes a config file named name, mode 0600.
func writeConfig(t *testing.T, name, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// parseConnect runs `pppoed connect args...` up to connectConfig: the
// command line and config file as client.Run would get them.
func parseConnect(t *testing.T, args ...string) (client.Config, error) {
	t.Helper()
	app := newApp(io.Discard, io.Discard)
	connect := app.Command("connect")
	var cfg client.Config
	connect.Action = func(_ context.Context, cmd *cli.Command) error {
		var err error
		cfg, err = connectConfig(cmd)
		return err
	}
	err := app.Run(context.Background(), append([]string{"pppoed", "connect"}, args...))
	return cfg, err
}

const wanFile = `interface = "eth0"
user = "alice"
password = "s3cret"
mtu = 1480
persist = false
add-default-route = true
keepalive-timeout = "45s"
`

func TestConfigFile(t *testing.T) {
	wan := writeConfig(t, "wan.toml", wanFile)
	named := writeConfig(t, "dsl.toml", wanFile+"name = \"isp-b\"\n")
	noSuffix := writeConfig(t, "fibre", wanFile)
	tests := []struct {
		name  string
		args  []string
		check func(client.Config) bool
	}{
		{"the file's values", []string{"--config", wan}, func(c client.Config) bool {
			return c.Interface == "eth0" && c.User == "alice" && c.Password == "s3cret" && c.MTU == 1480 &&
				!c.Persist && c.DefaultRoute == netcfg.RouteAdd && c.KeepaliveTimeout == 45*time.Second
		}},
		{"unset keys keep the flags' defaults", []string{"--config", wan}, func(c client.Config) bool {
			return c.MRU == 1492 && c.PADIAttempts == 3 && c.ResolvConf == client.DefaultResolvConf && c.AuthHoldoff == client.DefaultAuthHoldoff
		}},
		{"named after the file", []string{"--config", wan}, func(c client.Config) bool { return c.Name == "wan" }},
		{"named after the file without .toml", []string{"--config", noSuffix}, func(c client.Config) bool { return c.Name == "fibre" }},
		{"the file's name key", []string{"--config", named}, func(c client.Config) bool { return c.Name == "isp-b" }},
		{"--name wins", []string{"--config", named, "--name", "cli"}, func(c client.Config) bool { return c.Name == "cli" }},
		{"flags win", []string{"--config", wan, "--mtu", "1400", "-i", "eth1", "--keepalive-timeout", "10s"}, func(c client.Config) bool {
			return c.MTU == 1400 && c.Interface == "eth1" && c.KeepaliveTimeout == 10*time.Second && c.User == "alice"
		}},
		{"a flag given its default still wins", []string{"--config", wan, "--persist=true"}, func(c client.Config) bool { return c.Persist }},
		{"flags after --config win too", []string{"--mtu", "1300", "--config", wan}, func(c client.Config) bool { return c.MTU == 1300 }},
		{"no --config, no name", []string{"-i", "eth0", "-u", "u", "--password", "p"}, func(c client.Config) bool { return c.Name == "" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConnect(t, tt.args...)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(cfg) {
				cfg.Password = "(hidden)"
				t.Errorf("config %+v", cfg)
			}
		})
	}
}

// A bad file: exit status 2, one line naming the file, line and key,
// before anything touches the network; the password never in it.
func TestConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	public := filepath.Join(dir, "public.toml")
	if err := os.WriteFile(public, []byte("user = \"u\"\npassword = \"s3cret\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, text, want string
		path             string // instead of a file of text
	}{
		{name: "wrong type", text: "interface = \"eth0\"\nuser = \"u\"\nmtu = \"1492\"\n", want: `:3: key "mtu": want an integer, got a string`},
		{name: "unknown key", text: "intreface = \"eth0\"\n", want: `:1: key "intreface": unknown key (keys are the long names of the flags)`},
		{name: "config in a config file", text: "config = \"/etc/pppoed/other.toml\"\n", want: `:1: key "config": unknown key (keys are the long names of the flags)`},
		{name: "bad duration", text: "\nholdoff = \"5\"\n", want: `:2: key "holdoff": want a duration string such as "60s", got "5"`},
		{name: "bool as a string", text: "persist = \"no\"\n", want: `:1: key "persist": want a boolean, got a string`},
		{name: "not TOML", text: "interface eth0\n", want: `:1: not valid TOML: expected '.' or '=', but got 'e' instead`},
		{name: "a table", text: "[wan]\ninterface = \"eth0\"\n", want: `:1: key "wan": unknown key (keys are the long names of the flags)`},
		{name: "missing file", path: filepath.Join(dir, "nope.toml"), want: ": no such file or directory"},
		{name: "password readable by others", path: public, want: `:2: key "password": the file is readable by others (mode 0644): chmod 600 it, or give password-file`},
		// The file's value passes the TOML check, the flag's own later.
		{name: "a value the flag refuses", text: "mtu = 9000\n", want: "--mtu 9000 is outside 128-1500"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.path
			if path == "" {
				path = writeConfig(t, "wan.toml", tt.text)
			}
			// -i and -u on the command line, so that the required flags
			// pass whichever hook reads the file.
			code, _, stderr := run("connect", "-i", "lo", "-u", "x", "--password", "s3cret", "--config", path)
			want := "pppoed: " + path + tt.want + "\n"
			if strings.HasPrefix(tt.want, "--") {
				want = tt.want
			}
			if code != client.ExitOptionError || !strings.Contains(stderr, want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, stderr, want)
			}
			if strings.Count(stderr, "\n") != 1 {
				t.Errorf("not one line: %q", stderr)
			}
			if strings.Contains(strings.ReplaceAll(stderr, "--password", ""), "s3cret") {
				t.Errorf("the password leaked: %q", stderr)
			}
		})
	}
}

// With main.go's Before hook, a file can give the required flags.
func TestConfigFileGivesRequiredFlags(t *testing.T) {
	path := writeConfig(t, "wan.toml", "interface = \"lo\"\nuser = \"u\"\npassword = \"p\"\nmtu = 9000\n")
	code, _, stderr := run("connect", "--config", path)
	// Past the required flags, to connectConfig's check of the MTU.
	if code != client.ExitOptionError || !strings.Contains(stderr, "--mtu 9000") {
		t.Errorf("exit %d, stderr %q; want 2 and the MTU refused", code, stderr)
	}
}

// Every flag of connect is a key, of its flag's kind, but --config.
func TestConfigSchema(t *testing.T) {
	cmd := connectCommand(io.Discard)
	keys := configSchema(cmd.Flags)
	if len(keys) != len(cmd.Flags)-1 {
		t.Errorf("%d keys for %d flags (all but config)", len(keys), len(cmd.Flags))
	}
	for _, k := range keys {
		if k.Name == "config" {
			t.Error("config is a key")
		}
		if k.Secret != (k.Name == "password") {
			t.Errorf("key %q: secret %v", k.Name, k.Secret)
		}
	}
}

// The installed example loads as it is, and with every commented-out key
// uncommented; it shows every key but config and password (described in
// its text: it is refused from a file others can read).
func TestExampleConfig(t *testing.T) {
	path := filepath.Join("..", "..", "systemd", "example.toml")
	schema := configSchema(connectCommand(io.Discard).Flags)
	if _, err := config.Load(path, schema); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	commented := regexp.MustCompile(`(?m)^# ([a-z0-9-]+ = )`)
	all := commented.ReplaceAll(b, []byte("$1"))
	uncommented := writeConfig(t, "example.toml", string(all))
	settings, err := config.Load(uncommented, schema)
	if err != nil {
		t.Fatalf("uncommented: %v", err)
	}
	shown := map[string]bool{}
	for _, s := range settings {
		shown[s.Key.Name] = true
	}
	for _, k := range schema {
		if !shown[k.Name] && k.Name != "password" {
			t.Errorf("key %q not in the example", k.Name)
		}
	}
	if !bytes.Contains(b, []byte("password")) {
		t.Error("the example does not say where the password goes")
	}
}
