package lab

import (
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pppoed/pppoed/config"
	"github.com/pppoed/pppoed/ppp"
)

// What ACConfig renders is read back by pppoed's own loader: the lab's
// struct and the server's file must not drift apart.
func TestACConfigRender(t *testing.T) {
	cfg := ACConfig{
		ACName: "lab-ac", Auth: []string{"pap", "mschap2"}, KeepaliveTimeout: "2s",
		MaxSessions: 3, OneSessionPerHost: true, MaxMTU: 1500, MaxMRU: 1500,
		ControlSocket: "/run/x.sock",
		PADILimit:     &ACPADILimit{Rate: 2.5, Burst: 4},
		Interfaces:    []ACInterface{{Name: "vac1", ServiceNames: []string{"isp"}}, {Name: "vac2"}},
		Pools:         []ACPool{{Name: "p", Ranges: []string{"10.0.0.2-10.0.0.3", "10.0.1.0/30"}}},
		Profiles: []ACProfile{
			{Name: "default", LocalAddress: "10.0.0.1", RemotePool: "p", DNS: []string{"10.0.0.53"}, OnlyOne: true},
			{Name: "fixed", LocalAddress: "10.0.0.1", RemoteAddress: "10.0.9.9", MTU: 1400},
		},
		Users: []ACUser{
			{Name: `al"ice`, Password: `pa"ss\word`, InterfaceName: "ppp-alice"},
			{Name: "bob", Password: "x", Profile: "fixed", RemoteAddress: "10.0.0.3"},
		},
	}
	b, err := cfg.Render()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "server.toml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := config.LoadServer(path, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if got.ACName != "lab-ac" || !slices.Equal(got.Auth, []ppp.AuthMethod{ppp.AuthPAP, ppp.AuthMSCHAPv2}) ||
		got.KeepaliveTimeout != 2*time.Second || got.MaxSessions != 3 || !got.OneSessionPerHost ||
		got.MaxMTU != 1500 || got.MaxMRU != 1500 || got.ControlSocket != "/run/x.sock" ||
		got.PADI.GlobalRate != 2.5 || got.PADI.GlobalBurst != 4 || got.PADI.MACRate != 0 {
		t.Errorf("top level: %+v", got)
	}
	if len(got.Interfaces) != 2 || got.Interfaces[0].Name != "vac1" || !slices.Equal(got.Interfaces[0].ServiceNames, []string{"isp"}) ||
		got.Interfaces[1].ServiceNames != nil {
		t.Errorf("interfaces %+v", got.Interfaces)
	}
	if len(got.Pools) != 1 || len(got.Pools[0].Ranges) != 2 {
		t.Errorf("pools %+v", got.Pools)
	}
	if len(got.Profiles) != 2 || !got.Profiles[0].OnlyOne || got.Profiles[0].RemotePool != "p" ||
		got.Profiles[1].RemoteAddress != netip.MustParseAddr("10.0.9.9") || got.Profiles[1].MTU != 1400 {
		t.Errorf("profiles %+v", got.Profiles)
	}
	if len(got.Users) != 2 || got.Users[0].Name != `al"ice` || got.Users[0].Password != `pa"ss\word` ||
		got.Users[0].Ifname != "ppp-alice" || got.Users[1].Profile != "fixed" || got.Users[1].RemoteAddress != netip.MustParseAddr("10.0.0.3") {
		t.Errorf("users %#v", got.Users)
	}
}

// Zero values stay out of the file, so that the server's defaults hold
// ("max-mtu = 0" would be refused, "keepalive-timeout" absent is 10 s).
func TestACConfigRenderDefaults(t *testing.T) {
	b, err := ACConfig{
		Interfaces: []ACInterface{{Name: "vac1"}},
		Profiles:   []ACProfile{{Name: "default", LocalAddress: "10.0.0.1", RemoteAddress: "10.0.0.2"}},
	}.Render()
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"max-mtu", "max-mru", "max-sessions", "keepalive-timeout", "padi-limit", "auth", "user", "pool", "mtu", "only-one"} {
		if strings.Contains(string(b), key) {
			t.Errorf("%q written:\n%s", key, b)
		}
	}
	path := filepath.Join(t.TempDir(), "server.toml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := config.LoadServer(path, nil)
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if got.KeepaliveTimeout != 0 || got.MaxMTU != 0 || len(got.Auth) != 0 {
		t.Errorf("defaults not left to the server: %+v", got)
	}
}
