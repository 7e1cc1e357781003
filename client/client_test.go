package client

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"testing"

	"github.com/pppoed/pppoed/netcfg"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/pppox"
)

// The exit statuses scripts written for pppd expect.
func TestExitCodes(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonLocalClose}), 0},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonNegotiationFailed}), 10},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonPeerAuthFailed}), 11},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonPeerDead}), 15},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonLinkLost}), 16},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonPeerTerminated}), 16},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonLoopback}), 17},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonAuthFailed}), 19},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonNoNetworkProtocols}), 10},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonUnknown}), 1},
		{exitFor(errors.New("something else")), 1},
		{kernelExit(fmt.Errorf("x: %w", pppox.ErrNoKernelSupport)), 4},
		{kernelExit(fmt.Errorf("x: %w", pppox.ErrPermission)), 3},
		{kernelExit(errors.New("other")), 1},
		{errors.New("plain"), 1},
		{fmt.Errorf("wrapped: %w", &ExitError{Code: 8, Err: errors.New("no AC")}), 8},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	// The session's reason survives for the user to read.
	err := exitFor(&ppp.DownError{Reason: ppp.ReasonAuthFailed, Detail: "E=691 R=0 V=3 M=Access denied"})
	if !strings.Contains(err.Error(), "authentication failed: E=691") {
		t.Errorf("error text %q", err)
	}
}

func TestConfigValidation(t *testing.T) {
	base := func() Config { return Config{Interface: "eth0", User: "u"} }
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // "" for valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"no interface", func(c *Config) { c.Interface = "" }, "no interface"},
		{"long interface", func(c *Config) { c.Interface = "interface-name-too-long" }, "longer than 15"},
		{"no user", func(c *Config) { c.User = "" }, "no user name"},
		{"MTU too big", func(c *Config) { c.MTU = 1501 }, "--mtu 1501"},
		{"MRU too small", func(c *Config) { c.MRU = 100 }, "--mru 100"},
		{"nothing to run", func(c *Config) { c.NoIPv4, c.NoIPv6 = true, true }, "nothing to connect"},
		{"route without IPv4", func(c *Config) { c.NoIPv4, c.DefaultRoute = true, netcfg.RouteAdd }, "needs IPv4"},
	}
	for _, tt := range tests {
		c := base()
		tt.modify(&c)
		err := c.fill()
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			if c.MTU != 1492 || c.MRU != 1492 || c.ResolvConf != DefaultResolvConf || c.KeepaliveInterval != DefaultKeepaliveInterval || c.KeepaliveFailures != 4 {
				t.Errorf("defaults: %+v", c)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	c := base()
	c.KeepaliveInterval = -1
	c.fill()
	if c.KeepaliveInterval != 0 {
		t.Errorf("a negative keepalive interval should disable keepalives, got %v", c.KeepaliveInterval)
	}
}

// /proc/net/pppoe as pppoe_seq_show prints it: a header, then the id in
// network byte order read as a host integer, the AC's MAC, the device
// right-aligned in 8 columns.
const procPPPoE = `Id       Address              Device
00000100 02:00:00:00:00:02     eth0
00000200 02:00:00:00:00:03     eth0
00000300 02:00:00:00:00:04 vlan1234
`

func TestCountSessions(t *testing.T) {
	for _, tt := range []struct {
		dev  string
		want int
	}{{"eth0", 2}, {"vlan1234", 1}, {"eth1", 0}, {"Device", 0}} {
		if got := countSessions([]byte(procPPPoE), tt.dev); got != tt.want {
			t.Errorf("sessions on %s: %d, want %d", tt.dev, got, tt.want)
		}
	}
}

// --raise-parent-mtu raises the Ethernet MTU for RFC 4638, and puts it
// back, unless other PPPoE sessions use the interface: the kernel drops
// them all on any MTU change (pppoe_flush_dev), so pppoed refuses to
// start (status 7) rather than cut them, and leaves a raised MTU alone.
func TestRaiseParentMTU(t *testing.T) {
	withEth1 := strings.ReplaceAll(procPPPoE, "vlan1234", "    eth1")
	tests := []struct {
		name   string
		iface  string
		mtu    int    // the Ethernet MTU
		raise  bool   // --raise-parent-mtu
		before string // /proc/net/pppoe at start
		after  string // ... at the end
		want   uint16 // PPP-Max-Payload to ask for
		status int    // of the error, 0 for none
		text   string // in the error
		set    string // the MTUs set, in order
		pppMTU int    // --mtu and --mru; 0 for 1500
	}{
		{"raised and restored", "eth1", 1500, true, "", "", 1500, 0, "", "eth1=1508 eth1=1500", 0},
		{"sessions elsewhere", "eth1", 1500, true, procPPPoE, procPPPoE, 1500, 0, "", "eth1=1508 eth1=1500", 0},
		{"refused beside sessions", "eth0", 1500, true, procPPPoE, procPPPoE, 0, ExitOpenFailed,
			"--raise-parent-mtu would change the MTU of eth0 from 1500 to 1508, and the kernel would drop the PPPoE sessions already on eth0 (2)", "", 0},
		{"already large enough", "eth0", 1508, true, procPPPoE, procPPPoE, 1500, 0, "", "", 0},
		{"left raised for sessions started since", "eth1", 1500, true, "", withEth1, 1500, 0, "", "eth1=1508", 0},
		{"not asked", "eth1", 1500, false, "", "", 0, 0, "", "", 0},
		{"not needed", "eth0", 1500, true, procPPPoE, procPPPoE, 0, 0, "", "", 1492},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			iface := tt.iface
			proc := tt.before
			var set []string
			h := host{
				pppoeSessions: func() ([]byte, error) { return []byte(proc), nil },
				setMTU: func(name string, mtu int) error {
					set = append(set, fmt.Sprintf("%s=%d", name, mtu))
					return nil
				},
			}
			mtu := cmp.Or(tt.pppMTU, 1500)
			cfg := Config{Interface: iface, User: "u", MTU: mtu, MRU: mtu, RaiseParentMTU: tt.raise}
			if err := cfg.fill(); err != nil {
				t.Fatal(err)
			}
			got, restore, err := planMaxPayload(&cfg, &net.Interface{Name: iface, MTU: tt.mtu}, slog.New(slog.DiscardHandler), h)
			if ExitCode(err) != tt.status || tt.text != "" && (err == nil || !strings.Contains(err.Error(), tt.text)) {
				t.Fatalf("error %v, want status %d and %q", err, tt.status, tt.text)
			}
			if got != tt.want {
				t.Errorf("PPP-Max-Payload %d, want %d", got, tt.want)
			}
			proc = tt.after
			restore()
			if s := strings.Join(set, " "); s != tt.set {
				t.Errorf("MTUs set: %q, want %q", s, tt.set)
			}
		})
	}
}
