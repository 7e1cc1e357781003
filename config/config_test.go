package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

var schema = []Key{
	{Name: "interface", Kind: String},
	{Name: "user", Kind: String},
	{Name: "password", Kind: String, Secret: true},
	{Name: "password-file", Kind: String},
	{Name: "mtu", Kind: Int},
	{Name: "add-default-route", Kind: Bool},
	{Name: "persist", Kind: Bool},
	{Name: "keepalive-timeout", Kind: Duration},
}

func key(name string) Key {
	k, ok := lookup(schema, name)
	if !ok {
		panic(name)
	}
	return k
}

func write(t *testing.T, name, text string, perm fs.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), perm); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, perm); err != nil { // past the umask
		t.Fatal(err)
	}
	return path
}

func TestLoad(t *testing.T) {
	tests := []struct {
		name string
		text string
		perm fs.FileMode
		want []Setting
	}{
		{"empty", "", 0o644, nil},
		{"comments only", "# nothing\n\n", 0o644, nil},
		{"every kind, in the file's order", `# the WAN link
interface = "eth0"
user = 'alice@isp'

mtu = 1492
add-default-route = true
persist = false
keepalive-timeout = "1m30s"
`, 0o644, []Setting{
			{Key: key("interface"), Value: "eth0", Line: 2},
			{Key: key("user"), Value: "alice@isp", Line: 3},
			{Key: key("mtu"), Value: "1492", Line: 5},
			{Key: key("add-default-route"), Value: "true", Line: 6},
			{Key: key("persist"), Value: "false", Line: 7},
			{Key: key("keepalive-timeout"), Value: "1m30s", Line: 8},
		}},
		{"quoted key, spaces, negative and hex integers", "  \"interface\"   =   \"eth1\"   # trailing\nmtu = -1\n", 0o644, []Setting{
			{Key: key("interface"), Value: "eth1", Line: 1},
			{Key: key("mtu"), Value: "-1", Line: 2},
		}},
		{"hex integer is an integer", "mtu = 0x5d4\n", 0o644, []Setting{{Key: key("mtu"), Value: "1492", Line: 1}}},
		{"a multi-line string is on its last line", "interface = \"\"\"\neth0\"\"\"\nuser = \"u\"\n", 0o644, []Setting{
			{Key: key("interface"), Value: "eth0", Line: 2},
			{Key: key("user"), Value: "u", Line: 3},
		}},
		{"duration zero", "keepalive-timeout = \"0s\"\n", 0o644, []Setting{{Key: key("keepalive-timeout"), Value: "0s", Line: 1}}},
		{"password in a private file", "user = \"u\"\npassword = \"hunter2\"\n", 0o600, []Setting{
			{Key: key("user"), Value: "u", Line: 1},
			{Key: key("password"), Value: "hunter2", Line: 2},
		}},
		{"password in a file only its owner reads", "password = \"hunter2\"\n", 0o400, []Setting{{Key: key("password"), Value: "hunter2", Line: 1}}},
		{"password-file in a public file", "password-file = \"/etc/ppp/wan.pw\"\n", 0o644, []Setting{{Key: key("password-file"), Value: "/etc/ppp/wan.pw", Line: 1}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := write(t, "wan.toml", tt.text, tt.perm)
			got, err := Load(path, schema)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// Every bad file: one line naming the file, the line and the key, and no
// secret in it.
func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name string
		text string
		perm fs.FileMode
		want string // after "FILE"
	}{
		{"unknown key", "interface = \"eth0\"\nbogus = 1\n", 0o644, `:2: key "bogus": unknown key (keys are the long names of the flags)`},
		{"short alias is not a key", "i = \"eth0\"\n", 0o644, `:1: key "i": unknown key (keys are the long names of the flags)`},
		{"keys are case sensitive", "MTU = 1492\n", 0o644, `:1: key "MTU": unknown key (keys are the long names of the flags)`},
		{"int given a string", "interface = \"eth0\"\nuser = \"u\"\nmtu = \"1492\"\n", 0o644, `:3: key "mtu": want an integer, got a string`},
		{"int given a float", "mtu = 1492.0\n", 0o644, `:1: key "mtu": want an integer, got a float`},
		{"int out of range", "mtu = 99999999999999999999\n", 0o644, `:1: not valid TOML: 99999999999999999999 is out of range for int64`},
		{"bool given a string", "persist = \"yes\"\n", 0o644, `:1: key "persist": want a boolean, got a string`},
		{"bool given an integer", "persist = 1\n", 0o644, `:1: key "persist": want a boolean, got an integer`},
		{"string given a bool", "interface = true\n", 0o644, `:1: key "interface": want a string, got a boolean`},
		{"string given a date", "interface = 1979-05-27T07:32:00Z\n", 0o644, `:1: key "interface": want a string, got a date-time`},
		{"duration without unit", "keepalive-timeout = \"60\"\n", 0o644, `:1: key "keepalive-timeout": want a duration string such as "60s", got "60"`},
		{"duration garbage", "keepalive-timeout = \"soon\"\n", 0o644, `:1: key "keepalive-timeout": want a duration string such as "60s", got "soon"`},
		{"duration given an integer", "keepalive-timeout = 60\n", 0o644, `:1: key "keepalive-timeout": want a duration string such as "60s", got an integer`},
		{"array", "interface = [\"eth0\"]\n", 0o644, `:1: key "interface": want a string, got an array`},
		{"inline table", "interface = { name = \"eth0\" }\n", 0o644, `:1: key "interface": want a string, got a table`},
		{"table", "mtu = 1492\n\n[link]\ninterface = \"eth0\"\n", 0o644, `:3: key "link": unknown key (keys are the long names of the flags)`},
		{"table named as a key", "[interface]\nname = \"eth0\"\n", 0o644, `:1: key "interface": want a string, got a table`},
		{"dotted key", "interface.name = \"eth0\"\n", 0o644, `:1: key "interface": want a string, got a table`},
		{"dotted key, deeper, later", "mtu = 1\n\nlink.a.b = 1\nlink.c = 2\n", 0o644, `:3: key "link": unknown key (keys are the long names of the flags)`},
		{"array of tables", "[[interface]]\nname = \"eth0\"\n", 0o644, `:1: key "interface": want a string, got an array`},
		{"not TOML", "interface: eth0\n", 0o644, `:1: not valid TOML: expected '.' or '=', but got ':' instead`},
		{"shell style", "\n\nINTERFACE=eth0\n", 0o644, `:3: not valid TOML: expected value but found "eth" instead`},
		{"newline in the decoder's message", "mtu = 0b\n", 0o644, `:1: not valid TOML: not a binary number: '0b\n'`},
		{"bidi override in the decoder's message", "mtu = 0b\u202e\n", 0o644, `:1: not valid TOML: not a binary number: '0b\u202e'`},
		{"duplicate key", "mtu = 1\nmtu = 2\n", 0o644, `:2: not valid TOML: Key 'mtu' has already been defined.`},
		{"password in a group-readable file", "user = \"u\"\npassword = \"hunter2\"\n", 0o640, `:2: key "password": the file is readable by others (mode 0640): chmod 600 it, or give password-file`},
		{"password in a world-readable file", "password = \"hunter2\"\n", 0o604, `:1: key "password": the file is readable by others (mode 0604): chmod 600 it, or give password-file`},
		{"password of the wrong type", "password = 1234\n", 0o600, `:1: key "password": want a string, got an integer`},
		{"password unquoted", "password = hunter2\n", 0o600, `:1: not valid TOML (the decoder's message is withheld: the line holds a secret)`},
		{"password unterminated", "password = \"hunter2\n", 0o600, `:1: not valid TOML (the decoder's message is withheld: the line holds a secret)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := write(t, "wan.toml", tt.text, tt.perm)
			got, err := Load(path, schema)
			if err == nil {
				t.Fatalf("no error; settings %+v", got)
			}
			if want := path + tt.want; err.Error() != want {
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

func TestLoadFileErrors(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.toml")
	if err := os.WriteFile(big, []byte(strings.Repeat("# \n", MaxSize/3+1)), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"missing", filepath.Join(dir, "nope.toml"), filepath.Join(dir, "nope.toml") + ": no such file or directory"},
		{"directory", dir, dir + ": not a regular file"},
		{"too large", big, big + ": larger than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(tt.path, schema)
			if err == nil || err.Error() != tt.want {
				t.Errorf("error %v, want %s", err, tt.want)
			}
		})
	}
}

// FuzzParse: any file either fails with one line naming the file, or
// yields only schema keys, each a value its flag would take, on a line of
// the file.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"interface = \"eth0\"\nmtu = 1492\npersist = true\nkeepalive-timeout = \"60s\"\n",
		"password = \"x\"\n",
		"[t]\na = 1\n",
		"a.b.c = [1, {x = 2}]\n",
		"interface = '''\nx'''\n",
		"mtu = 0x10\n",
		"= 1\n",
	} {
		f.Add([]byte(s), true)
	}
	f.Fuzz(func(t *testing.T, data []byte, private bool) {
		perm := fs.FileMode(0o644)
		if private {
			perm = 0o600
		}
		got, err := parse("f.toml", data, perm, schema)
		if err != nil {
			if s := err.Error(); !strings.HasPrefix(s, "f.toml") || strings.Contains(s, "\n") {
				t.Fatalf("bad error %q", s)
			}
			return
		}
		lines := strings.Count(string(data), "\n") + 1
		for _, s := range got {
			if _, ok := lookup(schema, s.Key.Name); !ok {
				t.Fatalf("key %q not in the schema", s.Key.Name)
			}
			if s.Line < 1 || s.Line > lines {
				t.Fatalf("key %q on line %d of %d", s.Key.Name, s.Line, lines)
			}
			var err error
			switch s.Key.Kind {
			case Bool:
				_, err = strconv.ParseBool(s.Value)
			case Int:
				_, err = strconv.ParseInt(s.Value, 10, 64)
			case Duration:
				_, err = time.ParseDuration(s.Value)
			}
			if err != nil {
				t.Fatalf("key %q: value %q: %v", s.Key.Name, s.Value, err)
			}
			if s.Key.Secret && !private {
				t.Fatalf("secret %q accepted from a public file", s.Key.Name)
			}
		}
	})
}

// A key nested deeper than the probe descends is still refused, without
// its line.
func TestLoadDeepDottedKey(t *testing.T) {
	path := write(t, "wan.toml", "mtu = 1\n"+strings.Repeat("a.", 20)+"b = 1\n", 0o644)
	_, err := Load(path, schema)
	if want := path + `: key "a": unknown key (keys are the long names of the flags)`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
	path = write(t, "wan.toml", "mtu = 1\n"+strings.Repeat("a.", 7)+"b = 1\n", 0o644)
	_, err = Load(path, schema)
	if want := path + `:2: key "a": unknown key (keys are the long names of the flags)`; err == nil || err.Error() != want {
		t.Errorf("error %v, want %s", err, want)
	}
}
