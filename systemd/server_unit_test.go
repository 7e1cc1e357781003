package systemd

import (
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pppoed/pppoed/client"
	"github.com/pppoed/pppoed/server"
)

const serverUnitFile = "pppoed-server.service"

func TestServerUnitVerify(t *testing.T) {
	sa := requireTool(t, "systemd-analyze")
	path := installedUnit(t, serverUnitFile)
	out, err := exec.Command(sa, "verify", path).CombinedOutput()
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// The access concentrator's sandbox is the link's: exposure at most 2.8.
func TestServerUnitSecurity(t *testing.T) {
	sa := requireTool(t, "systemd-analyze")
	path := installedUnit(t, serverUnitFile)
	out, err := exec.Command(sa, "security", "--offline=yes", "--threshold=28", "--no-pager", path).CombinedOutput()
	if err != nil {
		t.Errorf("systemd-analyze security: %v (exposure above 2.8?)\n%s", err, out)
	}
}

// What pppoed server relies on, and what it shares with the links' units.
func TestServerUnitSettings(t *testing.T) {
	m := unitSettings(t, serverUnitFile)
	for _, tt := range []struct{ key, want string }{
		{"Type", "notify"},
		{"NotifyAccess", "main"},
		{"ExecStart", "/usr/local/sbin/pppoed server --config " + server.DefaultConfigFile},
		{"ExecReload", "/bin/kill -HUP $MAINPID"},
		{"WatchdogSec", "30s"},
		{"Restart", "on-failure"},
		{"CapabilityBoundingSet", "CAP_NET_ADMIN CAP_NET_RAW"},
		{"AmbientCapabilities", "CAP_NET_ADMIN CAP_NET_RAW"},
		{"DevicePolicy", "closed"},
		{"DeviceAllow", "/dev/ppp rw"},
		{"ProtectSystem", "strict"},
		{"NoNewPrivileges", "yes"},
		{"RuntimeDirectory", "pppoed"},
		{"RuntimeDirectoryPreserve", "yes"},
	} {
		if got := m[tt.key]; !slices.Equal(got, []string{tt.want}) {
			t.Errorf("%s=%q, want %q", tt.key, got, tt.want)
		}
	}
	// /run/pppoed is shared with pppoed@.service: the same mode, or each
	// start of either would change it.
	link := unitSettings(t, unitFile)
	if got, want := m["RuntimeDirectoryMode"], link["RuntimeDirectoryMode"]; !slices.Equal(got, want) {
		t.Errorf("RuntimeDirectoryMode=%q, pppoed@.service's %q", got, want)
	}
	if dir := filepath.Dir(server.DefaultControlSocket); dir != "/run/pppoed" {
		t.Errorf("the control socket %s is not in RuntimeDirectory=pppoed", server.DefaultControlSocket)
	}
	want := []int{client.ExitOptionError, client.ExitNotRoot, client.ExitNoKernelSupport}
	var fields []string
	for _, v := range m["RestartPreventExitStatus"] {
		fields = append(fields, strings.Fields(v)...)
	}
	for _, code := range want {
		if !slices.Contains(fields, strconv.Itoa(code)) {
			t.Errorf("RestartPreventExitStatus=%q lacks %d", fields, code)
		}
	}
}
