package pppdcompat

import (
	"strings"
	"testing"

	"github.com/pppoed/pppoed/client"
)

// pppd 2.4.9's exit statuses, as seen in the VM against pppoe-server, from
// what the client returns and the signals received.
func TestPPPDStatus(t *testing.T) {
	tests := []struct {
		name      string
		code      int
		term, hup bool
		want      int
	}{
		{"SIGTERM during a session", client.ExitOK, true, false, client.ExitUserRequest},
		{"SIGTERM while a failure was reported", client.ExitConnectFailed, true, false, client.ExitUserRequest},
		{"SIGHUP without persist", client.ExitHangup, false, true, client.ExitUserRequest},
		{"the AC hung up (PADT), no signal", client.ExitHangup, false, false, client.ExitHangup},
		{"SIGHUP earlier, then another failure", client.ExitAuthToPeerFailed, false, true, client.ExitAuthToPeerFailed},
		{"peer dead: the channel's EOF makes it 16", client.ExitPeerDead, false, false, client.ExitHangup},
		{"wrong password", client.ExitAuthToPeerFailed, false, false, client.ExitAuthToPeerFailed},
		{"no AC", client.ExitConnectFailed, false, false, client.ExitConnectFailed},
	}
	for _, tt := range tests {
		if got := pppdStatus(tt.code, tt.term, tt.hup); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

// What Main does before it dials: pppd's statuses and messages, each on
// the stream pppd uses, prefixed with the name it was run as.
func TestMainBeforeDialling(t *testing.T) {
	tests := []struct {
		name         string
		args         []string
		want         int
		stdout       string // contained; "" must be empty
		stderr       string
		stderrAbsent string
	}{
		{"version", []string{"/usr/sbin/pppd", "--version"}, 0, "pppd version 2.4.9 (pppoed test)", "", ""},
		{"help on stderr, status 0", []string{"pppd", "--help"}, 0, "", "Usage: pppd [ options ]", ""},
		{"unknown option, then the usage", []string{"/usr/sbin/pppd", "nodetach", "frob"}, 2, "",
			"/usr/sbin/pppd: unrecognized option 'frob'\npppd version 2.4.9", ""},
		{"unknown option in a file: no usage", []string{"pppd", "call", "isp"}, 2, "",
			"pppd: In file /etc/ppp/peers/isp (line 2): unrecognized option 'frob'", "Usage"},
		{"no interface", []string{"pppd", "nodetach", "user", "bob"}, 2, "", "pppd: ", ""},
		{"what the client refuses is refused before detaching", []string{"pppd", "plugin", "rp-pppoe.so", "nic-eth0", "idle", "60"}, 2, "",
			"pppd: idle without demand is not supported", ""},
		{"dryrun prints, hides the password and exits 0", []string{"pppd", "plugin", "rp-pppoe.so", "nic-eth0", "user", "bob", "password", "s3cret", "dryrun"}, 0,
			"Interface: eth0", "", "s3cret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sys := newSys()
			sys.files["/etc/ppp/peers/isp"] = "plugin rp-pppoe.so\nfrob\n"
			var stdout, stderr strings.Builder
			got := mainEnv(tt.args, &stdout, &stderr, "test", sys.env(true))
			if got != tt.want {
				t.Errorf("status %d, want %d\nstdout %s\nstderr %s", got, tt.want, stdout.String(), stderr.String())
			}
			if (tt.stdout == "") != (stdout.Len() == 0) || !strings.Contains(stdout.String(), tt.stdout) {
				t.Errorf("stdout %q, want %q", stdout.String(), tt.stdout)
			}
			if !strings.Contains(stderr.String(), tt.stderr) || (tt.stderr == "" && stderr.Len() > 0) {
				t.Errorf("stderr %q, want %q", stderr.String(), tt.stderr)
			}
			if tt.stderrAbsent != "" && strings.Contains(stderr.String()+stdout.String(), tt.stderrAbsent) {
				t.Errorf("%q in the output:\n%s%s", tt.stderrAbsent, stdout.String(), stderr.String())
			}
		})
	}
}
