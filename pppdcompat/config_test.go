package pppdcompat

import (
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pppoed/pppoed/client"
	"github.com/pppoed/pppoed/netcfg"
	"github.com/pppoed/pppoed/ppp"
)

// pppd's options come to the client's configuration as pppd would act on
// them.
func TestClientConfig(t *testing.T) {
	tests := []struct {
		name  string
		set   func(o *Options)
		check func(t *testing.T, c client.Config)
	}{
		{"pppd's defaults", func(o *Options) {}, func(t *testing.T, c client.Config) {
			if c.Persist || c.MaxFail != 10 || c.Holdoff != 30*time.Second || c.KeepaliveInterval != -1 || c.NoIPv6 || c.NoIPv4 ||
				c.DefaultRoute != netcfg.RouteNone || c.Unit != 0 || c.DialOnDemand {
				t.Errorf("%+v", c)
			}
			// No name of its own: another pppd may share the
			// interface, so no state file and no socket.
			if c.StateDir != "-" || c.ControlSocket != "-" {
				t.Errorf("state %q socket %q", c.StateDir, c.ControlSocket)
			}
			// pppd waits holdoff after any failure, no more.
			if c.BackoffMax != 30*time.Second || c.AuthHoldoff != 30*time.Second || c.AuthHoldoffMax != 30*time.Second {
				t.Errorf("waits: %s %s %s", c.BackoffMax, c.AuthHoldoff, c.AuthHoldoffMax)
			}
		}},
		{"keepalive", func(o *Options) { o.EchoInterval, o.EchoFailure, o.EchoAdaptive = 20*time.Second, 3, true }, func(t *testing.T, c client.Config) {
			if c.KeepaliveInterval != 20*time.Second || c.KeepaliveFailures != 3 || !c.KeepaliveAdaptive {
				t.Errorf("%s %d %v", c.KeepaliveInterval, c.KeepaliveFailures, c.KeepaliveAdaptive)
			}
		}},
		{"echoes without a failure count never declare the peer dead", func(o *Options) { o.EchoInterval = time.Second }, func(t *testing.T, c client.Config) {
			if c.KeepaliveFailures < 1<<20 {
				t.Errorf("failures %d", c.KeepaliveFailures)
			}
		}},
		{"demand implies persist", func(o *Options) { o.Demand, o.Idle = true, time.Minute }, func(t *testing.T, c client.Config) {
			if !c.Persist || !c.DialOnDemand || c.Idle != time.Minute {
				t.Errorf("%+v", c)
			}
		}},
		{"defaultroute", func(o *Options) { o.DefaultRoute = true }, func(t *testing.T, c client.Config) {
			if c.DefaultRoute != netcfg.RouteAdd || c.DefaultRouteMetric != 0 {
				t.Errorf("%v %d", c.DefaultRoute, c.DefaultRouteMetric)
			}
		}},
		{"replacedefaultroute", func(o *Options) { o.DefaultRoute, o.ReplaceDefaultRoute, o.DefaultRouteMetric = true, true, 7 }, func(t *testing.T, c client.Config) {
			if c.DefaultRoute != netcfg.RouteReplace || c.DefaultRouteMetric != 7 {
				t.Errorf("%v %d", c.DefaultRoute, c.DefaultRouteMetric)
			}
		}},
		{"replacedefaultroute alone does nothing", func(o *Options) { o.ReplaceDefaultRoute = true }, func(t *testing.T, c client.Config) {
			if c.DefaultRoute != netcfg.RouteNone {
				t.Errorf("%v", c.DefaultRoute)
			}
		}},
		{"refuse-*", func(o *Options) { o.Refuse = []string{"mschap-v2", "pap"} }, func(t *testing.T, c client.Config) {
			if want := []ppp.AuthMethod{ppp.AuthMSCHAPv1, ppp.AuthCHAPMD5}; !slices.Equal(c.Auth, want) {
				t.Errorf("auth %v, want %v", c.Auth, want)
			}
		}},
		{"unit, ifname, linkname", func(o *Options) { o.Unit, o.Ifname, o.Linkname = 0, "pppoe-wan", "wan" }, func(t *testing.T, c client.Config) {
			if c.Unit != 1 || c.Ifname != "pppoe-wan" || c.Name != "wan" {
				t.Errorf("unit %d ifname %q name %q", c.Unit, c.Ifname, c.Name)
			}
			if c.StateDir != "/run/pppoed" || c.ControlSocket != "/run/pppoed/wan.sock" {
				t.Errorf("state %q socket %q", c.StateDir, c.ControlSocket)
			}
		}},
		{"local address, noip, noipv6", func(o *Options) { o.LocalIP, o.IPv6 = netip.MustParseAddr("10.0.0.9"), false }, func(t *testing.T, c client.Config) {
			if c.LocalIPv4 != netip.MustParseAddr("10.0.0.9") || !c.NoIPv6 {
				t.Errorf("local %s noipv6 %v", c.LocalIPv4, c.NoIPv6)
			}
		}},
		{"discovery", func(o *Options) {
			o.ServiceName, o.ACName, o.PADITimeout, o.PADIAttempts = "svc", "ac", 2*time.Second, 5
		}, func(t *testing.T, c client.Config) {
			if c.ServiceName != "svc" || c.ACName != "ac" || c.PADITimeout != 2*time.Second || c.PADIAttempts != 5 {
				t.Errorf("%+v", c)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := Defaults()
			o.Interface, o.User = "eth0", "bob"
			tt.set(&o)
			c, err := o.clientConfig(credentials{password: "pw"}, slog.New(slog.DiscardHandler))
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// What pppoed cannot do is refused with the option's name.
func TestClientConfigRefuses(t *testing.T) {
	for _, tt := range []struct {
		set  func(o *Options)
		want string
	}{
		{func(o *Options) { o.Idle = time.Minute }, "idle without demand"},
		{func(o *Options) { o.Refuse = []string{"pap", "chap", "mschap", "mschap-v2"} }, "every authentication method is refused"},
	} {
		o := Defaults()
		o.Interface, o.User = "eth0", "bob"
		tt.set(&o)
		_, err := o.clientConfig(credentials{}, slog.New(slog.DiscardHandler))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v, want %q", err, tt.want)
		}
	}
}
