package secrets

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestClientSecret(t *testing.T) {
	entries, err := Parse(strings.NewReader(`
* * anyany
* isp star-isp
me * me-any
me isp me-isp
me other me-other
you * you-any
`), "f")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, ourName, remoteName, want string
	}{
		// No remotename: pppd's NULL server, which every entry's server
		// matches; a named server still ranks (NONWILD_SERVER), so the
		// first entry naming both wins.
		{"no remotename: both named", "me", "", "me-isp"},
		{"no remotename: the first of equal ranks", "me", "", "me-isp"},
		{"no remotename: a named server over *", "them", "", "star-isp"},
		{"no remotename: our name over any server", "you", "", "you-any"},
		{"remotename", "me", "isp", "me-isp"},
		{"remotename, the other entry", "me", "other", "me-other"},
		{"remotename no entry names", "me", "nosuch", "me-any"},
		{"remotename, wildcard client", "them", "isp", "star-isp"},
		{"wildcards only", "them", "nosuch", "anyany"},
		{"names compare exactly", "ME", "ISP", "anyany"},
		{"a literal * remotename matches only *", "me", "*", "me-any"},
	}
	for _, tt := range tests {
		e, ok := ClientSecret(entries, tt.ourName, tt.remoteName)
		if !ok || e.Secret != tt.want {
			t.Errorf("%s: ClientSecret(%q, %q) = %q, %v; want %q", tt.name, tt.ourName, tt.remoteName, e.Secret, ok, tt.want)
		}
	}
	// Lookup's empty server is a name, matched only by "*": the
	// difference ClientSecret makes.
	if e, _ := Lookup(entries, "me", ""); e.Secret != "me-any" {
		t.Errorf("Lookup(me, \"\") = %q, want me-any", e.Secret)
	}
	// A later entry must rank higher to win, whatever the order.
	for _, file := range []string{"me * a\nme isp b\n", "me isp b\nme * a\n", "* isp x\nme isp b\nme * a\n"} {
		es, _ := Parse(strings.NewReader(file), "f")
		if e, _ := ClientSecret(es, "me", ""); e.Secret != "b" {
			t.Errorf("%q: ClientSecret = %q, want b", file, e.Secret)
		}
	}
	if _, ok := ClientSecret(entries[5:], "me", ""); ok {
		t.Error("found an entry for a name none has")
	}
	if _, ok := ClientSecret(nil, "me", ""); ok {
		t.Error("found an entry in none")
	}
}

// clientFiles writes pap-secrets, chap-secrets and indirect secrets into a
// directory: name to content, each 0600 unless it ends with "+r" (0644).
func clientFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		mode := os.FileMode(0o600)
		if n, ok := strings.CutSuffix(name, "+r"); ok {
			name, mode = n, 0o644
		}
		writeFile(t, filepath.Join(dir, name), strings.ReplaceAll(content, "DIR", dir), mode)
	}
	return dir
}

func TestLoadClient(t *testing.T) {
	dir := clientFiles(t, map[string]string{
		"pap-secrets": "me * pw host.example.com -- option\n" + // neither addresses nor options read for the client
			"\"\" * \"\"\n" + // null_login's entry: pppd's syntax
			"me isp @login\n" + // a literal password for the client
			"me isp2 pw 10.0.0.0/24+\n",
		"chap-secrets+r": "me * @DIR/chap-pw\n",
		"chap-pw":        "indirect\n",
	})
	log, logged := logTo()
	c, err := LoadClient(filepath.Join(dir, "pap-secrets"), filepath.Join(dir, "chap-secrets"), log)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Client: "me", Server: "*", Secret: "pw", Line: 1},
		{Client: "", Server: "*", Secret: "", Line: 2},
		{Client: "me", Server: "isp", Secret: "@login", Line: 3},
		{Client: "me", Server: "isp2", Secret: "pw", Line: 4},
	}
	if len(c.PAP) != len(want) {
		t.Fatalf("PAP: %v", c.PAP)
	}
	for i := range want {
		if g := c.PAP[i]; g.Client != want[i].Client || g.Server != want[i].Server || g.Secret != want[i].Secret ||
			g.Line != want[i].Line || len(g.Addresses) != 0 || g.AnyAddress {
			t.Errorf("PAP[%d] = %#v (secret %q), want %#v", i, g, g.Secret, want[i])
		}
	}
	// The indirect secret is not read at load.
	if len(c.CHAP) != 1 || c.CHAP[0].SecretFile != filepath.Join(dir, "chap-pw") || c.CHAP[0].Secret != "" {
		t.Errorf("CHAP = %#v", c.CHAP)
	}
	// One warning: the readable chap-secrets.
	if n := strings.Count(logged.String(), "group and/or world access"); n != 1 || !strings.Contains(logged.String(), "chap-secrets") {
		t.Errorf("%d warnings, want one of chap-secrets: %s", n, logged)
	}
	if s, ok, err := c.CHAPSecret("me", "", []byte("x")); err != nil || !ok || s != "indirect" {
		t.Errorf("CHAPSecret = %q %v %v", s, ok, err)
	}

	// Missing files hold no secrets.
	c, err = LoadClient(filepath.Join(dir, "none"), filepath.Join(dir, "nothing", "x"), nil)
	if err != nil || c.PAP != nil || c.CHAP != nil {
		t.Fatalf("missing files: %#v, %v", c, err)
	}
	if _, ok, err := c.PAPSecret("me", ""); ok || err != nil {
		t.Errorf("PAPSecret with no file: %v %v", ok, err)
	}
	if _, ok, err := c.CHAPSecret("me", "", nil); ok || err != nil {
		t.Errorf("CHAPSecret with no file: %v %v", ok, err)
	}
}

func TestLoadClientErrors(t *testing.T) {
	dir := clientFiles(t, map[string]string{
		"good":     "me * pw\n",
		"open":     "me * \"" + marker + "\n",
		"short":    "me " + marker + "\n",
		"toolong":  "me * " + strings.Repeat("x", 1024) + "\n",
		"fifo-dir": "",
	})
	if err := os.Remove(filepath.Join(dir, "fifo-dir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "fifo-dir"), 0o700); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good")
	for _, tt := range []struct{ pap, chap, want string }{
		{filepath.Join(dir, "open"), good, "secrets: " + filepath.Join(dir, "open") + ":1: unterminated \" quote"},
		{good, filepath.Join(dir, "short"), "secrets: " + filepath.Join(dir, "short") + ":1: missing secret"},
		{good, filepath.Join(dir, "toolong"), "secrets: " + filepath.Join(dir, "toolong") + ":1: word longer than"},
		{filepath.Join(dir, "fifo-dir"), good, "secrets: " + filepath.Join(dir, "fifo-dir") + " is not a regular file"},
	} {
		_, err := LoadClient(tt.pap, tt.chap, nil)
		if err == nil || !strings.HasPrefix(err.Error(), tt.want) {
			t.Errorf("LoadClient(%s, %s): %v, want prefix %q", tt.pap, tt.chap, err, tt.want)
			continue
		}
		if strings.Contains(err.Error(), marker) || strings.Contains(err.Error(), "Hunter") {
			t.Errorf("the error quotes the file: %v", err)
		}
	}
}

func TestClientPAPSecret(t *testing.T) {
	dir := clientFiles(t, map[string]string{
		"pap-secrets": "me * 'pap pw'\n" +
			"me isp2 @DIR/pap2\n" +
			"long * " + strings.Repeat("p", 255) + "\n" +
			"toolong * " + strings.Repeat("p", 256) + "\n" +
			"gone isp @DIR/missing\n" +
			"bad * @DIR/bad\n",
		"pap2": "# the ISP's\n\"from file\"\n",
		"bad":  "'" + marker,
	})
	log, logged := logTo()
	c, err := LoadClient(filepath.Join(dir, "pap-secrets"), filepath.Join(dir, "chap-secrets"), log)
	if err != nil {
		t.Fatal(err)
	}
	pap := filepath.Join(dir, "pap-secrets")
	tests := []struct {
		user, remote, want string
		ok                 bool
		err                string
	}{
		{"me", "", "from file", true, ""}, // no remotename: isp2's entry outranks "*"
		{"me", "other", "pap pw", true, ""},
		{"me", "isp2", "from file", true, ""},
		{"nobody", "", "", false, ""},
		{"long", "", strings.Repeat("p", 255), true, ""},
		{"toolong", "", "", false, pap + ":4: secret longer than 255 bytes"},
		{"gone", "", "", false, pap + ":5: secret file " + filepath.Join(dir, "missing") + ": stat "},
		{"bad", "", "", false, pap + ":6: secret file " + filepath.Join(dir, "bad") + ": line 1: unterminated ' quote"},
	}
	for _, tt := range tests {
		got, ok, err := c.PAPSecret(tt.user, tt.remote)
		if tt.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), "secrets: "+tt.err) || got != "" || ok {
				t.Errorf("PAPSecret(%q, %q) = %q, %v, %v; want error %q", tt.user, tt.remote, got, ok, err, tt.err)
			}
			if err != nil && (strings.Contains(err.Error(), marker) || strings.Contains(err.Error(), strings.Repeat("p", 10))) {
				t.Errorf("the error quotes a secret: %v", err)
			}
			continue
		}
		if err != nil || ok != tt.ok || got != tt.want {
			t.Errorf("PAPSecret(%q, %q) = %q, %v, %v; want %q, %v", tt.user, tt.remote, got, ok, err, tt.want, tt.ok)
		}
	}
	if _, _, err := c.PAPSecret("gone", ""); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("a missing indirect file's error %v is not fs.ErrNotExist", err)
	}
	if strings.Contains(logged.String(), marker) || strings.Contains(logged.String(), "from file") {
		t.Errorf("the log quotes a secret: %s", logged)
	}
}

func TestClientCHAPSecret(t *testing.T) {
	dir := clientFiles(t, map[string]string{
		"chap-secrets": "me isp chap-isp\n" +
			"me * chap-any\n" +
			"* isp2 @DIR/chap2\n" +
			"me bad @DIR/missing\n" +
			"me long " + strings.Repeat("c", 256) + "\n" +
			"me toolong " + strings.Repeat("c", 257) + "\n" +
			"me M-i^Asp^?\\ttab visible\n",
		"chap2+r": "from-file\n",
	})
	log, logged := logTo()
	c, err := LoadClient(filepath.Join(dir, "pap-secrets"), filepath.Join(dir, "chap-secrets"), log)
	if err != nil {
		t.Fatal(err)
	}
	chap := filepath.Join(dir, "chap-secrets")
	tests := []struct {
		name, user, remote, challenge, want string
		ok                                  bool
		err                                 string
	}{
		{"the challenge's name", "me", "", "isp", "chap-isp", true, ""},
		{"a name no entry has", "me", "", "other", "chap-any", true, ""},
		{"remotename over the challenge's name", "me", "isp", "other", "chap-isp", true, ""},
		{"remotename when the challenge has no name", "me", "isp", "", "chap-isp", true, ""},
		// Unlike ClientSecret, an empty name is a name: only "*" matches.
		{"no name and no remotename", "me", "", "", "chap-any", true, ""},
		{"indirect, wildcard client", "you", "", "isp2", "from-file", true, ""},
		{"nothing for this user", "you", "", "isp", "", false, ""},
		{"names compare exactly", "me", "", "ISP", "chap-any", true, ""},
		{"the name as pppd prints it", "me", "", "\xe9\x01sp\x7f\ttab", "visible", true, ""},
		{"the name ends at a NUL", "me", "", "isp\x00junk", "chap-isp", true, ""},
		{"256 bytes", "me", "", "long", strings.Repeat("c", 256), true, ""},
		{"too long", "me", "", "toolong", "", false, chap + ":6: secret longer than 256 bytes"},
		{"unreadable", "me", "bad", "", "", false, chap + ":4: secret file " + filepath.Join(dir, "missing") + ": stat "},
	}
	for _, tt := range tests {
		got, ok, err := c.CHAPSecret(tt.user, tt.remote, []byte(tt.challenge))
		if tt.err != "" {
			if err == nil || !strings.HasPrefix(err.Error(), "secrets: "+tt.err) || got != "" || ok {
				t.Errorf("%s: got %q, %v, %v; want error %q", tt.name, got, ok, err, tt.err)
			}
			if err != nil && strings.Contains(err.Error(), strings.Repeat("c", 10)) {
				t.Errorf("%s: the error quotes the secret: %v", tt.name, err)
			}
			continue
		}
		if err != nil || ok != tt.ok || got != tt.want {
			t.Errorf("%s: got %q, %v, %v; want %q, %v", tt.name, got, ok, err, tt.want, tt.ok)
		}
	}
	// The readable indirect file warns when read, without its content.
	if !strings.Contains(logged.String(), filepath.Join(dir, "chap2")) || strings.Contains(logged.String(), "from-file") {
		t.Errorf("log: %s", logged)
	}
}

// visible is pppd's %v, bounded as chap_respond's rname.
func TestVisible(t *testing.T) {
	tests := []struct{ in, want string }{
		{"isp", "isp"},
		{"", ""},
		{"\x01", "^A"},
		{"\x1f", "^_"},
		{"\x7f", "^?"},
		{"\t", "\t"},
		{"\n", "^J"},
		{"\x80", "M-^@"},
		{"\xe9", "M-i"},
		{"\xff", "M-^?"},
		{"\x89", "M-\t"},
		{" ~", " ~"},
		{"a\x00b", "a"},
		{strings.Repeat("a", 300), strings.Repeat("a", 256)},
		// An escape cut at the limit keeps what fits, as OUTCHAR does.
		{"a" + strings.Repeat("\x01", 200), "a" + strings.Repeat("^A", 127) + "^"},
		{strings.Repeat("\xff", 100), strings.Repeat("M-^?", 64)},
	}
	for _, tt := range tests {
		if got := visible([]byte(tt.in)); got != tt.want {
			t.Errorf("visible(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
