package secrets

import (
	"bytes"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// marker stands for a secret: no error or log line may hold it.
const marker = "Hunter2Secret"

func writeFile(t *testing.T, path, content string, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
}

// logTo returns a logger writing into a buffer.
func logTo() (*slog.Logger, *bytes.Buffer) {
	var buf bytes.Buffer
	return slog.New(slog.NewTextHandler(&buf, nil)), &buf
}

func TestResolveSecret(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, content string
		mode          os.FileMode
		want          string // the secret, when err is ""
		err           string // the error's text after "secrets: chap-secrets:7: secret file PATH: "
		warn          bool
	}{
		{"a word", "pw\n", 0o600, "pw", "", false},
		{"the first word only", "pw second words\nand lines\n", 0o600, "pw", "", false},
		{"after comments, quoted", "# the ISP's\n\n  \"p w\" # why\n", 0o600, "p w", "", false},
		{"escapes", `\x41\s\102` + "\n", 0o600, "A B", "", false},
		{"no final newline", "pw", 0o600, "pw", "", false},
		{"an empty quoted word", "\"\"\n", 0o600, "", "", false}, // getword returns it: an empty secret
		{"group-readable", "pw\n", 0o640, "pw", "", true},
		{"world-readable", "pw\n", 0o604, "pw", "", true},
		{"group-executable", "pw\n", 0o610, "pw", "", true}, // check_access: any of S_IRWXG | S_IRWXO
		{"empty", "", 0o600, "", "no secret in it", false},
		{"comments only", "# " + marker + "\n", 0o600, "", "no secret in it", false},
		{"open quote", "\n'" + marker, 0o600, "", "line 2: unterminated ' quote", false},
		{"NUL", marker + "\x00\n", 0o600, "", "line 1: NUL byte", false},
		{"too long", strings.Repeat(marker, 100), 0o600, "", "line 1: word longer than 1023", false},
		{"empty word at the end", `""`, 0o600, "", "line 1: empty quoted word", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "-"))
			writeFile(t, path, tt.content, tt.mode)
			log, logged := logTo()
			got, err := Entry{Client: "a", Server: "*", SecretFile: path, Line: 7}.ResolveSecret("chap-secrets", log)
			if tt.err == "" {
				if err != nil || got != tt.want {
					t.Fatalf("got %q, %v; want %q", got, err, tt.want)
				}
			} else {
				want := "secrets: chap-secrets:7: secret file " + path + ": " + tt.err
				if err == nil || !strings.HasPrefix(err.Error(), want) {
					t.Fatalf("got %q, %v; want error %q", got, err, want)
				}
				if strings.Contains(err.Error(), marker) || strings.Contains(err.Error(), "Hunter") {
					t.Errorf("the error quotes the file: %v", err)
				}
			}
			if warned := strings.Contains(logged.String(), "group and/or world access"); warned != tt.warn {
				t.Errorf("warned %v, want %v: %s", warned, tt.warn, logged)
			}
			if tt.warn && !strings.Contains(logged.String(), path) {
				t.Errorf("the warning does not name the file: %s", logged)
			}
			if strings.Contains(logged.String(), "pw") || strings.Contains(logged.String(), "Hunter") {
				t.Errorf("the log quotes the secret: %s", logged)
			}
			if _, err := (Entry{SecretFile: path}).ResolveSecret("f", nil); (err == nil) != (tt.err == "") {
				t.Errorf("with a nil logger: %v", err)
			}
		})
	}
}

// A direct secret is returned as it is, with nothing read.
func TestResolveSecretDirect(t *testing.T) {
	log, logged := logTo()
	if got, err := (Entry{Secret: "@/not/a/file"}).ResolveSecret("f", log); err != nil || got != "@/not/a/file" || logged.Len() != 0 {
		t.Fatalf("got %q, %v, logged %q", got, err, logged)
	}
}

// What cannot be read is an error naming the secrets file, the line and
// the secret file; a FIFO or a directory is refused without blocking.
func TestResolveSecretUnreadable(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatalf("mkfifo: %v", err)
	}
	noRead := filepath.Join(dir, "unreadable")
	writeFile(t, noRead, marker, 0o000)
	tests := []struct {
		path, err string
		is        error
	}{
		{filepath.Join(dir, "missing"), "stat " + filepath.Join(dir, "missing") + ": no such file", fs.ErrNotExist},
		{filepath.Join(dir, "missing", "x"), "stat ", fs.ErrNotExist},
		{fifo, fifo + " is not a regular file (p", nil},
		{dir, dir + " is not a regular file (d", nil},
		{"/dev/null", "/dev/null is not a regular file", nil},
		{"/", "/ is not a regular file", nil},
	}
	if os.Geteuid() != 0 { // root reads a 0000 file
		tests = append(tests, struct {
			path, err string
			is        error
		}{noRead, "open " + noRead + ": permission denied", fs.ErrPermission})
	}
	for _, tt := range tests {
		done := make(chan error, 1)
		go func() {
			_, err := Entry{SecretFile: tt.path, Line: 3}.ResolveSecret("pap-secrets", nil)
			done <- err
		}()
		select {
		case err := <-done:
			want := "secrets: pap-secrets:3: secret file " + tt.path + ": " + tt.err
			if err == nil || !strings.HasPrefix(err.Error(), want) {
				t.Errorf("%s: error %v, want prefix %q", tt.path, err, want)
			}
			if tt.is != nil && !errors.Is(err, tt.is) {
				t.Errorf("%s: error %v is not %v", tt.path, err, tt.is)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: ResolveSecret blocked", tt.path)
		}
	}
}

// A file over the size limit is refused, not read into memory whole.
func TestResolveSecretTooBig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "big")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(maxFileSize + 1); err != nil { // sparse: "pw" then NULs
		t.Fatal(err)
	}
	f.WriteString("pw ")
	f.Close()
	if _, err := (Entry{SecretFile: path, Line: 1}).ResolveSecret("f", nil); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Fatalf("err = %v, want larger than", err)
	}
}

// ParseFile reads every indirect secret, each file once (one warning),
// and leaves no SecretFile set.
func TestParseFileIndirect(t *testing.T) {
	dir := t.TempDir()
	shared, own := filepath.Join(dir, "shared"), filepath.Join(dir, "own")
	writeFile(t, shared, "shared-pw\n", 0o644)
	writeFile(t, own, "'own pw'\n", 0o600)
	chap := filepath.Join(dir, "chap-secrets")
	writeFile(t, chap, "alice * @"+shared+" *\nbob * direct\ncarol srv @"+own+"\ndave * @"+shared+"\n", 0o600)
	log, logged := logTo()
	got, err := ParseFile(chap, log)
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{
		{Client: "alice", Server: "*", Secret: "shared-pw", AnyAddress: true, Line: 1},
		{Client: "bob", Server: "*", Secret: "direct", Line: 2},
		{Client: "carol", Server: "srv", Secret: "own pw", Line: 3},
		{Client: "dave", Server: "*", Secret: "shared-pw", Line: 4},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i := range want {
		if g, w := got[i], want[i]; g.Client != w.Client || g.Server != w.Server || g.Secret != w.Secret ||
			g.SecretFile != "" || g.AnyAddress != w.AnyAddress || g.Line != w.Line {
			t.Errorf("entry %d = %#v (secret %q), want secret %q", i, g, g.Secret, w.Secret)
		}
	}
	if n := strings.Count(logged.String(), "group and/or world access"); n != 1 || !strings.Contains(logged.String(), shared) {
		t.Errorf("%d warnings, want one, of %s: %s", n, shared, logged)
	}
	if strings.Contains(logged.String(), "-pw") {
		t.Errorf("the log quotes a secret: %s", logged)
	}
}

// ParseFile fails when an indirect secret cannot be read: its error names
// the secrets file, the line and the secret file, and quotes neither.
func TestParseFileIndirectErrors(t *testing.T) {
	dir := t.TempDir()
	chap := filepath.Join(dir, "chap-secrets")
	bad := filepath.Join(dir, "bad")
	writeFile(t, bad, "\""+marker+"\n", 0o600)
	empty := filepath.Join(dir, "empty")
	writeFile(t, empty, "# "+marker+"\n", 0o600)
	for _, tt := range []struct{ file, want string }{
		{"x * " + marker + "\ny * @" + filepath.Join(dir, "missing") + "\n",
			chap + ":2: secret file " + filepath.Join(dir, "missing") + ": stat "},
		{"x * @" + bad + " *\n", chap + ":1: secret file " + bad + ": line 1: unterminated \" quote"},
		{"x * \\\n @" + empty + "\n", chap + ":1: secret file " + empty + ": no secret in it"},
	} {
		writeFile(t, chap, tt.file, 0o600)
		_, err := ParseFile(chap, nil)
		if err == nil || !strings.HasPrefix(err.Error(), "secrets: "+tt.want) {
			t.Errorf("error %v, want prefix %q", err, "secrets: "+tt.want)
			continue
		}
		if strings.Contains(err.Error(), marker) || strings.Contains(err.Error(), "Hunter") {
			t.Errorf("error quotes a secret: %v", err)
		}
	}
}

func TestEntryFormatIndirect(t *testing.T) {
	e := Entry{Client: "a", Server: "*", SecretFile: "/etc/ppp/a", Line: 2}
	if got, want := e.String(), `line 2: client="a" server="*" secret=@/etc/ppp/a`; got != want {
		t.Errorf("String = %s, want %s", got, want)
	}
}
