package pppdcompat

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pppoed/pppoed/internal/pppword"
)

// FuzzLoad reads arbitrary text as a peers file that follows a
// password: Load must not panic, its error, Check's and every warning
// must be one line, and none may show the password.
func FuzzLoad(f *testing.F) {
	for _, name := range []string{"debian-options", "debian-dsl-provider", "pppoeconf-dsl-provider"} {
		b, err := os.ReadFile(filepath.Join("testdata", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		openWrtOptions,
		strings.Join(openWrtArgs, " "),
		"foo", "two words", "mtu x", "mtu", "user \"a\nb\"", "\\", "'", "#",
		"file /tmp/f\nfile /tmp/f", "call other", "call ../x", "pty 'pppoe -I eth1'",
		"set A", "unset", "+ua /tmp/f", "ipv6 ::1,::2", "10.0.0.1:", "1.2.3.4:5.6.7.8.9",
		"plugin rp-pppoe.so\nnic-eth0\nnic-eth9\neth1", "privgroup dip", "--version x",
		"password\n", "show-password", "\x00", "logfile /x\nlogfd 3", "auth noauth +pap",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		const secret = "Zq8#Sekr3t"
		// A word of the data that holds the secret may rightly be
		// quoted back: such data is not a test of the secret.
		for sc := pppword.NewScanner(data); ; {
			w, ok, err := sc.Next()
			if err != nil || !ok {
				break
			}
			if strings.Contains(w.Text, "Sekr3t") {
				return
			}
		}
		sys := newSys()
		sys.groups = map[string]bool{"dip": true}
		sys.files["/etc/ppp/peers/isp"] = "password '" + secret + "'\n" + string(data)
		sys.files["/etc/ppp/peers/other"] = string(data)
		sys.files["/tmp/f"] = string(data)
		priv := len(data) > 0 && data[0]&1 == 1
		o, err := Load([]string{"call", "isp"}, sys.env(priv))
		check := func(what, s string) {
			if strings.ContainsAny(s, "\n\r") {
				t.Errorf("%s %q is more than one line", what, s)
			}
			if strings.Contains(s, "Sekr3t") {
				t.Errorf("%s %q shows the password", what, s)
			}
		}
		if err != nil {
			check("error", err.Error())
			return
		}
		for _, w := range o.Warnings {
			check("warning", w)
		}
		if err := o.Check(); err != nil {
			check("Check error", err.Error())
		}
	})
}
