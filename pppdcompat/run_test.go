package pppdcompat

import (
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
