package client

import (
	"net"
	"strings"
	"testing"
)

// Kill refuses what is not a session before it opens anything.
func TestKillRefuses(t *testing.T) {
	ac := net.HardwareAddr{2, 0, 0, 0, 0, 1}
	for _, tt := range []struct {
		cfg    KillConfig
		status int
		want   string
	}{
		{KillConfig{SessionID: 1, AC: ac}, ExitOptionError, "no interface"},
		{KillConfig{Interface: "eth0", SessionID: 0, AC: ac}, ExitOptionError, "--session-id 0x0 is not a session's"},
		{KillConfig{Interface: "eth0", SessionID: 0xffff, AC: ac}, ExitOptionError, "--session-id 0xffff"},
		{KillConfig{Interface: "eth0", SessionID: 1, AC: net.HardwareAddr{1, 0, 0, 0, 0, 1}}, ExitOptionError, "not a unicast"},
		{KillConfig{Interface: "eth0", SessionID: 1, AC: net.HardwareAddr{0, 0, 0, 0, 0, 0}}, ExitOptionError, "not a unicast"},
		{KillConfig{Interface: "eth0", SessionID: 1, AC: ac[:5]}, ExitOptionError, "not a unicast"},
		{KillConfig{Interface: "no-such-if0", SessionID: 1, AC: ac}, ExitOpenFailed, "interface no-such-if0 does not exist"},
	} {
		err := Kill(tt.cfg)
		if ExitCode(err) != tt.status || err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Kill(%+v): %v (status %d), want status %d and %q", tt.cfg, err, ExitCode(err), tt.status, tt.want)
		}
	}
}
