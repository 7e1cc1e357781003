package secrets

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

func pfx(s string, deny bool) Address { return Address{Prefix: netip.MustParsePrefix(s), Deny: deny} }

func TestParse(t *testing.T) {
	tests := []struct {
		name, in string
		want     []Entry
	}{
		{"plain", "alice server pw\n", []Entry{{Client: "alice", Server: "server", Secret: "pw", Line: 1}}},
		{"comments and blank lines", "# head\n\n  alice * pw # trailing\n#bob * x\n",
			[]Entry{{Client: "alice", Server: "*", Secret: "pw", Line: 3}}},
		// The words are pppword's (its tests hold the quoting and escapes);
		// these show them reaching the fields.
		{"# ends an unquoted word", "alice * pw#c\n", []Entry{{Client: "alice", Server: "*", Secret: "pw", Line: 1}}},
		{"double and single quotes", "\"al ice\" '*' \"p w#x\" \n",
			[]Entry{{Client: "al ice", Server: "*", Secret: "p w#x", Line: 1}}},
		// pppd's getword opens a quoted section anywhere in a word (this
		// test once had a"b read as a literal quote).
		{"quotes join mid-word", "a\"b c\"d * it\\'s\n", []Entry{{Client: "ab cd", Server: "*", Secret: "it's", Line: 1}}},
		{"empty quoted secret", "alice * \"\"\n", []Entry{{Client: "alice", Server: "*", Secret: "", Line: 1}}},
		{"escapes", `alice * \x41\s\101` + "\n", []Entry{{Client: "alice", Server: "*", Secret: "A A", Line: 1}}},
		{"backslash-newline continues the entry", "alice * pw \\\n 10.0.0.1\nbob * x\n", []Entry{
			{Client: "alice", Server: "*", Secret: "pw", Addresses: []Address{pfx("10.0.0.1/32", false)}, Line: 1},
			{Client: "bob", Server: "*", Secret: "x", Line: 3}}},
		{"newline inside quotes", "a * \"l1\nl2\"\nb * y\n", []Entry{
			{Client: "a", Server: "*", Secret: "l1\nl2", Line: 1},
			{Client: "b", Server: "*", Secret: "y", Line: 3}}},
		{"CRLF", "alice * pw 10.0.0.1\r\nbob srv x\r\n", []Entry{
			{Client: "alice", Server: "*", Secret: "pw", Addresses: []Address{pfx("10.0.0.1/32", false)}, Line: 1},
			{Client: "bob", Server: "srv", Secret: "x", Line: 2}}},
		{"no final newline", "alice * pw", []Entry{{Client: "alice", Server: "*", Secret: "pw", Line: 1}}},
		{"addresses", "a * s 10.0.0.1 !10.1.0.0/16 10.1.2.3/8 *\n", []Entry{{Client: "a", Server: "*", Secret: "s",
			Addresses:  []Address{pfx("10.0.0.1/32", false), pfx("10.1.0.0/16", true), pfx("10.0.0.0/8", false)},
			AnyAddress: true, Line: 1}}},
		{"dash", "a * s -\n", []Entry{{Client: "a", Server: "*", Secret: "s", Line: 1}}},
		// An indirect secret: only "@/...", as scan_authfile's word[0] ==
		// '@' && word[1] == '/'; the word after quotes and escapes.
		{"indirect secret", "a * @/etc/ppp/a-secret 10.0.0.1\n", []Entry{{Client: "a", Server: "*", SecretFile: "/etc/ppp/a-secret",
			Addresses: []Address{pfx("10.0.0.1/32", false)}, Line: 1}}},
		{"indirect secret quoted", `a * "@/x y"` + "\n", []Entry{{Client: "a", Server: "*", SecretFile: "/x y", Line: 1}}},
		{"indirect secret escaped", `a * \@/x` + "\n", []Entry{{Client: "a", Server: "*", SecretFile: "/x", Line: 1}}},
		{"@ and a relative path is literal", "a * @etc/x\n", []Entry{{Client: "a", Server: "*", Secret: "@etc/x", Line: 1}}},
		{"@ alone is literal", "a * @\n", []Entry{{Client: "a", Server: "*", Secret: "@", Line: 1}}},
		{"@/ in the middle is literal", "a * x@/y\n", []Entry{{Client: "a", Server: "*", Secret: "x@/y", Line: 1}}},
		{"empty file", "", nil},
		{"only comments", "# x\n  # y", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.in), "f")
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	const secret = "Hunter2Secret"
	tests := []struct{ name, in, want string }{
		{"missing secret", "alice *\n", "secrets: f:1: missing secret"},
		{"missing server", "ok * x\nalice\n", "secrets: f:2: missing server"},
		{"unterminated double quote", "a * x\nb * \"" + secret + "\n", "secrets: f:2: unterminated \" quote"},
		{"unterminated single quote", "b * '" + secret, "secrets: f:1: unterminated ' quote"},
		{"empty client", "\"\" * " + secret + "\n", "secrets: f:1: empty client"},
		{"empty server", "a '' " + secret + "\n", "secrets: f:1: empty server"},
		{"@login", "a * @login\n", "secrets: f:1: the secret @login"},
		{"host name", "a * s " + secret + "\n", "secrets: f:1: address 1: not an IPv4 address"},
		{"split secret lands in addresses", "a * my " + secret + "\n", "secrets: f:1: address 1: not an IPv4"},
		{"IPv6", "a * s ::1\n", "secrets: f:1: address 1: not an IPv4"},
		{"IPv4-mapped", "a * s ::ffff:10.0.0.1\n", "secrets: f:1: address 1: not an IPv4"},
		{"octal-looking address", "a * s 010.0.0.1\n", "secrets: f:1: address 1: not an IPv4"},
		{"prefix 0", "a * s 10.0.0.0/0\n", "secrets: f:1: address 1: prefix length"},
		{"prefix 33", "a * s 1.2.3.4 10.0.0.0/33\n", "secrets: f:1: address 2: prefix length"},
		{"prefix junk", "a * s 10.0.0.0/8x\n", "secrets: f:1: address 1: prefix length"},
		{"prefix sign", "a * s 10.0.0.0/+8\n", "secrets: f:1: address 1: "},
		{"unit offset", "a * s 10.0.0.0/24+\n", "secrets: f:1: address 1: the /n+"},
		{"negated wildcard", "a * s !*\n", "secrets: f:1: address 1: not an IPv4"},
		{"options", "a * s 10.0.0.1 -- " + secret + "\n", "secrets: f:1: extra options"},
		{"after star", "a * s * 10.0.0.1\n", "secrets: f:1: address 2 follows \"*\""},
		{"after dash", "a * s - \\\n 10.0.0.1\n", "secrets: f:2: address 2 follows \"-\""},
		{"NUL", "a * x\nb * " + secret + "\\0\n", "secrets: f:2: NUL byte"},
		{"empty quoted word at the end", "a * " + secret + " \\\n \"\"", "secrets: f:2: empty quoted word"},
		{"too long", "a * " + strings.Repeat("x", 1024) + "\n", "secrets: f:1: word longer than 1023"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(strings.NewReader(tt.in), "f")
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tt.in, got)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tt.want) {
				t.Errorf("error %q, want prefix %q", msg, tt.want)
			}
			if strings.Contains(msg, secret) || strings.Contains(msg, "\n") {
				t.Errorf("error %q quotes the secret or has several lines", msg)
			}
		})
	}
}

func TestParseTooBig(t *testing.T) {
	big := bytes.Repeat([]byte("# x\n"), maxFileSize/4+1)
	if _, err := Parse(bytes.NewReader(big), "f"); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want larger than", err)
	}
}

func TestLookup(t *testing.T) {
	entries, err := Parse(strings.NewReader(`
* * anyany
* srv anysrv
alice * aliceany
* srv second-anysrv
alice srv alicesrv
alice srv second-alicesrv
bob other bobother
`), "f")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		client, server, want string
	}{
		{"alice", "srv", "alicesrv"}, // both exact; the first of two equal entries
		{"alice", "x", "aliceany"},   // an exact client beats an exact server (NONWILD_CLIENT = 2 > 1)
		{"carol", "srv", "anysrv"},   // the first of two equal entries, not the later one
		{"carol", "x", "anyany"},     // wildcards only
		{"bob", "srv", "anysrv"},     // bob's entry needs server "other"
		{"bob", "other", "bobother"}, // exact both
		{"*", "nosuch", "anyany"},    // a name is literal: "*" is not special as an argument
		{"ALICE", "srv", "anysrv"},   // names compare exactly
	}
	for _, tt := range tests {
		e, ok := Lookup(entries, tt.client, tt.server)
		if !ok || e.Secret != tt.want {
			t.Errorf("Lookup(%q, %q) = %q, %v; want %q", tt.client, tt.server, e.Secret, ok, tt.want)
		}
	}
	// The precedence must not depend on order: an exact client after a
	// wildcard-server entry still wins.
	rev, _ := Parse(strings.NewReader("* srv s1\nalice * s2\n"), "f")
	if e, _ := Lookup(rev, "alice", "srv"); e.Secret != "s2" {
		t.Errorf("exact client after wildcard: got %q, want s2", e.Secret)
	}
	if _, ok := Lookup(entries[5:], "carol", "x"); ok {
		t.Error("Lookup found an entry for a client none names")
	}
	if _, ok := Lookup(nil, "a", "b"); ok {
		t.Error("Lookup in no entries found one")
	}
}

func TestAllows(t *testing.T) {
	parse := func(line string) Entry {
		t.Helper()
		es, err := Parse(strings.NewReader(line), "f")
		if err != nil || len(es) != 1 {
			t.Fatalf("Parse(%q): %v %v", line, es, err)
		}
		return es[0]
	}
	tests := []struct {
		line, addr string
		want       bool
	}{
		{"a * s 10.0.0.1", "10.0.0.1", true},
		{"a * s 10.0.0.1", "10.0.0.2", false},
		{"a * s", "10.0.0.1", false},   // no list: nothing (auth_ip_addr with auth_required)
		{"a * s -", "10.0.0.1", false}, // "-": nothing
		{"a * s *", "10.0.0.1", true},
		{"a * s 10.0.0.0/24", "10.0.0.77", true},
		{"a * s 10.0.0.0/24", "10.0.1.1", false},
		{"a * s 10.0.0.9/24", "10.0.0.1", true}, // base is masked, as set_allowed_addrs does
		{"a * s !10.0.0.5 10.0.0.0/24", "10.0.0.5", false},
		{"a * s !10.0.0.5 10.0.0.0/24", "10.0.0.6", true},
		{"a * s 10.0.0.0/24 !10.0.0.5", "10.0.0.5", true}, // the first match decides
		{"a * s !10.0.0.5 *", "10.0.0.5", false},
		{"a * s !10.0.0.5 *", "192.0.2.1", true},
		{"a * s 10.0.0.1 *", "10.9.9.9", true},
		{"a * s *", "127.0.0.1", false}, // bad_ip_adrs: loopback
		{"a * s *", "224.0.0.1", false}, // multicast
		{"a * s *", "240.0.0.1", false}, // class E
		{"a * s 127.0.0.1", "127.0.0.1", false},
		{"a * s *", "::ffff:10.0.0.1", true}, // an IPv4-mapped address is its IPv4 address
		{"a * s *", "2001:db8::1", false},
	}
	for _, tt := range tests {
		if got := parse(tt.line).Allows(netip.MustParseAddr(tt.addr)); got != tt.want {
			t.Errorf("%q Allows(%s) = %v, want %v", tt.line, tt.addr, got, tt.want)
		}
	}
	if (Entry{AnyAddress: true}).Allows(netip.Addr{}) {
		t.Error("the zero Addr is allowed")
	}
}

func TestEntryFormatHidesSecret(t *testing.T) {
	e := Entry{Client: "a", Server: "*", Secret: "Hunter2Secret", AnyAddress: true,
		Addresses: []Address{pfx("10.0.0.0/8", true), pfx("10.0.0.1/32", false)}, Line: 3}
	for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
		s := fmt.Sprintf(f, e)
		if strings.Contains(s, "Hunter2") {
			t.Errorf("%s prints the secret: %s", f, s)
		}
	}
	if got, want := e.String(), `line 3: client="a" server="*" secret=<hidden> !10.0.0.0/8 10.0.0.1/32 *`; got != want {
		t.Errorf("String = %s, want %s", got, want)
	}
}

func TestParseFile(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		mode os.FileMode
		warn bool
	}{{0o600, false}, {0o640, true}, {0o604, true}} {
		path := filepath.Join(dir, "chap-secrets")
		if err := os.WriteFile(path, []byte("alice * pw 10.0.0.1\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, tt.mode); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		es, err := ParseFile(path, slog.New(slog.NewTextHandler(&buf, nil)))
		if err != nil || len(es) != 1 || es[0].Secret != "pw" {
			t.Fatalf("mode %v: %v, %v", tt.mode, es, err)
		}
		if got := strings.Contains(buf.String(), "group and/or world access"); got != tt.warn {
			t.Errorf("mode %v: warned %v, want %v: %s", tt.mode, got, tt.warn, buf.String())
		}
		if strings.Contains(buf.String(), "pw") {
			t.Errorf("the warning quotes the secret: %s", buf.String())
		}
		if _, err := ParseFile(path, nil); err != nil { // a nil logger is allowed
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "bad"), []byte("alice *\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := ParseFile(filepath.Join(dir, "bad"), nil)
	if want := "secrets: " + filepath.Join(dir, "bad") + ":1: missing secret"; err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Errorf("err = %v, want prefix %q", err, want)
	}
	if _, err := ParseFile(filepath.Join(dir, "missing"), nil); err == nil || !os.IsNotExist(errorsUnwrap(err)) {
		t.Errorf("missing file: %v", err)
	}
}

func errorsUnwrap(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok {
			return err
		}
		err = u.Unwrap()
	}
}

// FuzzParse: Parse never panics, every entry has a client and a server, and
// no error quotes a secret, here a marker the fuzzer cannot make part of the
// error's fixed text.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"alice * pw 10.0.0.1\n", "\"a b\" 'c' \\x41\\101 # c\n", "a * s !10.0.0.0/8 *\r\n",
		"a * \"unterminated", "a\\\n * s", "a * s -- opt", "a * @/x", "a * s 1.2.3.4/24+",
	} {
		f.Add(s)
	}
	const marker = "ZQ7xMarkerSecret"
	f.Fuzz(func(t *testing.T, s string) {
		for _, in := range []string{s, "c s " + marker + " " + s, s + "\nc s " + marker + " " + s} {
			// The client's reading of the file: no panic, nothing quoted.
			if _, err := parseFor([]byte(in), "f", true); err != nil &&
				(strings.Contains(err.Error(), marker) || strings.Contains(err.Error(), "\n")) {
				t.Fatalf("client: error quotes the secret or spans lines: %q", err)
			}
			es, err := Parse(strings.NewReader(in), "f")
			if err != nil {
				if strings.Contains(err.Error(), marker) || strings.Contains(err.Error(), "\n") {
					t.Fatalf("error quotes the secret or spans lines: %q", err)
				}
				continue
			}
			for _, e := range es {
				if e.Client == "" || e.Server == "" || e.Line < 1 {
					t.Fatalf("entry without client or server or line: %#v", e)
				}
				if e.SecretFile != "" && (e.Secret != "" || e.SecretFile[0] != '/') {
					t.Fatalf("indirect secret with a secret or a relative path: %q %q", e.Secret, e.SecretFile)
				}
				for _, a := range e.Addresses {
					if !a.Prefix.Addr().Is4() || a.Prefix != a.Prefix.Masked() || a.Prefix.Bits() < 1 {
						t.Fatalf("bad address rule %v", a)
					}
				}
			}
		}
	})
}

// A FIFO (or a directory) named as a secrets file is refused at once:
// opening a FIFO would block the server's reload until something wrote to
// it.
func TestParseFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	for _, path := range []string{fifo, dir} {
		done := make(chan error, 1)
		go func() { _, err := ParseFile(path, nil); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("%s: err = %v, want not a regular file", path, err)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: ParseFile blocked", path)
		}
	}
}
