package pppdcompat

import (
	"cmp"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/pppoed/pppoed/client"
	"github.com/pppoed/pppoed/netcfg"
	"github.com/pppoed/pppoed/ppp"
)

// pppdStateDir holds the state file and status socket of a named link.
const pppdStateDir = "/run/pppoed"

// clientConfig turns pppd's options into the client's configuration,
// with the credentials found (Options.credentials); log hears of what
// pppd would only have done differently.
func (o *Options) clientConfig(cr credentials, log *slog.Logger) (client.Config, error) {
	cfg := client.Config{
		Interface:    o.Interface,
		User:         o.User,
		Password:     cr.password,
		CHAPPassword: cr.chap,
		Auth:         cr.allow,
		ServiceName:  o.ServiceName,
		ACName:       o.ACName,
		ACMAC:        o.ACMAC,
		HostUniq:     o.HostUniq,
		Ifname:       o.Ifname,
		MTU:          o.MTU,
		MRU:          o.MRU,
		NoIPv4:       o.NoIP,
		NoIPv6:       !o.IPv6,
		UsePeerDNS:   o.UsePeerDNS,
		// pppd leaves /etc/ppp/resolv.conf behind.
		KeepResolvConf: true,
		PADITimeout:    o.PADITimeout,
		PADIAttempts:   o.PADIAttempts,
		Timers: ppp.Timers{
			Restart:      o.LCPRestart,
			MaxConfigure: o.LCPMaxConfigure,
			MaxTerminate: o.LCPMaxTerminate,
			MaxFailure:   o.LCPMaxFailure,
		},
		Persist:      o.Persist || o.Demand, // pppd(8): demand implies persist
		Holdoff:      o.Holdoff,
		MaxFail:      o.MaxFail,
		DialOnDemand: o.Demand,
		Idle:         o.Idle,
		// pppd waits holdoff after every failure, whatever the cause;
		// so do we in pppd's place (no doubling beyond it).
		BackoffMax:     max(o.Holdoff, time.Second),
		AuthHoldoff:    max(o.Holdoff, time.Second),
		AuthHoldoffMax: max(o.Holdoff, time.Second),
		Logger:         log,
	}
	if o.Unit >= 0 {
		cfg.Unit = o.Unit + 1
	}
	cfg.Silent = o.Silent
	if o.LocalIP.IsValid() && !o.LocalIP.IsUnspecified() {
		cfg.LocalIPv4 = o.LocalIP
	}
	if o.RemoteIP.IsValid() {
		log.Warn("pppd: the remote address of \"local:remote\" is not asked of the access concentrator: it assigns its own")
	}
	if o.IPv6LocalID != ([8]byte{}) {
		cfg.InterfaceID = ppp.InterfaceID(o.IPv6LocalID)
	}
	if o.DefaultRoute6 {
		log.Warn("pppd: defaultroute6 is not supported: no IPv6 default route is added (use ipv6-up to add one)")
	}
	if o.IPv6CPUseIPAddr || o.IPv6CPUsePersistent {
		log.Warn("pppd: ipv6cp-use-ipaddr and ipv6cp-use-persistent are not supported: the interface identifier is random")
	}
	if cfg.PADITimeout == 0 {
		cfg.PADITimeout = 5 * time.Second
	}
	if cfg.PADIAttempts == 0 {
		cfg.PADIAttempts = 3
	}
	// pppd's keepalive is off unless lcp-echo-interval is given; a
	// failure count without an interval does nothing (lcp.c
	// lcp_echo_lowerup starts the timer only for a nonzero interval).
	cfg.KeepaliveInterval = -1
	if o.EchoInterval > 0 {
		cfg.KeepaliveInterval = o.EchoInterval
		cfg.KeepaliveFailures = o.EchoFailure
		cfg.KeepaliveAdaptive = o.EchoAdaptive
		if o.EchoFailure == 0 {
			// lcp.c: with lcp-echo-failure 0 pppd sends echoes and
			// never declares the peer dead.
			cfg.KeepaliveFailures = 1 << 30
		}
	}
	switch {
	case o.ReplaceDefaultRoute && o.DefaultRoute:
		cfg.DefaultRoute = netcfg.RouteReplace
	case o.DefaultRoute:
		cfg.DefaultRoute = netcfg.RouteAdd
	}
	cfg.DefaultRouteMetric = max(o.DefaultRouteMetric, 0) // -1: not given
	if o.ReplaceDefaultRoute && !o.DefaultRoute {
		log.Warn("pppd: replacedefaultroute without defaultroute does nothing (as with pppd)")
	}
	if o.Idle > 0 && !o.Demand {
		return cfg, fmt.Errorf("idle without demand is not supported (pppoed hangs up for idleness only to redial on demand)")
	}
	for _, name := range o.Refuse {
		if err := refuse(&cfg, name); err != nil {
			return cfg, err
		}
	}
	if o.Refuse != nil && len(cfg.Auth) == 0 {
		return cfg, fmt.Errorf("every authentication method is refused (%v)", o.Refuse)
	}
	// pppd keeps no state file and no status socket. pppoed's are kept
	// under /run/pppoed (pppd's world is /etc/ppp and /run) when the
	// link has a name of its own, linkname or ifname: two pppds on one
	// Ethernet interface are legal, and one clearing the other's
	// session as stale, or taking its socket, would not be.
	cfg.StateDir, cfg.ControlSocket = "-", "-"
	if name := cmp.Or(o.Linkname, o.Ifname); name != "" {
		cfg.Name = name
		cfg.StateDir = pppdStateDir
		cfg.ControlSocket = filepath.Join(pppdStateDir, name+".sock")
	}
	return cfg, nil
}

// refuse removes one of pppd's refuse-* methods from cfg.Auth, which
// starts as every method in pppd's order of preference.
func refuse(cfg *client.Config, name string) error {
	if cfg.Auth == nil {
		cfg.Auth = ppp.DefaultAuth()
	}
	var m ppp.AuthMethod
	switch name {
	case "pap":
		m = ppp.AuthPAP
	case "chap":
		m = ppp.AuthCHAPMD5
	case "mschap":
		m = ppp.AuthMSCHAPv1
	case "mschap-v2":
		m = ppp.AuthMSCHAPv2
	case "eap":
		return nil // pppoed does not speak EAP: refused already
	default:
		return fmt.Errorf("refuse-%s: no such authentication method", name)
	}
	out := cfg.Auth[:0]
	for _, a := range cfg.Auth {
		if a != m {
			out = append(out, a)
		}
	}
	cfg.Auth = out
	return nil
}
