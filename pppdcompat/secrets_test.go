package pppdcompat

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pppoed/pppoed/ppp"
)

// The secrets are found as pppd finds them for the client: the password
// option for every method; else PAP only with a pap-secrets entry, CHAP
// and MS-CHAP only with a chap-secrets one, its password picked by the
// challenger's name.
func TestCredentials(t *testing.T) {
	write := func(dir, name, text string) string {
		p := filepath.Join(dir, name)
		if text != "" {
			if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	tests := []struct {
		name      string
		password  string
		pap, chap string
		allow     []ppp.AuthMethod
		papPw     string
		chapFor   map[string]string // challenger -> password
		warn      bool
	}{
		{name: "password option", password: "opt-Secret", pap: "bob * filepw\n", allow: nil, papPw: "opt-Secret"},
		{name: "pap-secrets only", pap: "bob * pappw\n", allow: []ppp.AuthMethod{ppp.AuthPAP}, papPw: "pappw"},
		{name: "chap-secrets only", chap: "bob isp1 one\nbob * any\n",
			allow: []ppp.AuthMethod{ppp.AuthMSCHAPv2, ppp.AuthMSCHAPv1, ppp.AuthCHAPMD5}, chapFor: map[string]string{"isp1": "one", "other": "any"}},
		{name: "both", pap: "bob * pappw\n", chap: "bob * chappw\n",
			allow: []ppp.AuthMethod{ppp.AuthMSCHAPv2, ppp.AuthMSCHAPv1, ppp.AuthCHAPMD5, ppp.AuthPAP}, papPw: "pappw", chapFor: map[string]string{"x": "chappw"}},
		{name: "another user's", pap: "alice * pw\n", warn: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			o := Defaults()
			o.User, o.Password = "bob", tt.password
			var log bytes.Buffer
			cr, err := o.credentials(write(dir, "pap-secrets", tt.pap), write(dir, "chap-secrets", tt.chap), slog.New(slog.NewTextHandler(&log, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(cr.allow, tt.allow) || cr.password != tt.papPw {
				t.Errorf("allow %v password %q, want %v %q", cr.allow, cr.password, tt.allow, tt.papPw)
			}
			if (cr.chap != nil) != (tt.chapFor != nil) {
				t.Fatalf("chap lookup %v, want %v", cr.chap != nil, tt.chapFor != nil)
			}
			for name, want := range tt.chapFor {
				if got, err := cr.chap([]byte(name)); err != nil || got != want {
					t.Errorf("CHAP to %s: %q %v, want %q", name, got, err, want)
				}
			}
			if got := strings.Contains(log.String(), "no secret"); got != tt.warn {
				t.Errorf("warning %v, want %v: %s", got, tt.warn, log.String())
			}
			for _, pw := range []string{"pappw", "filepw", "chappw", "opt-Secret"} {
				if strings.Contains(log.String(), pw) {
					t.Errorf("a password in the log: %s", log.String())
				}
			}
		})
	}
}
