package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/secrets"
)

// Config is an access concentrator's configuration: what RouterOS's
// `/interface pppoe-server server`, `/ppp profile`, `/ip pool` and
// `/ppp secret` hold. The zero value of each field means its default.
type Config struct {
	// Interfaces are the Ethernet interfaces served, each with its
	// service names. At least one.
	Interfaces []Interface
	// ACName is the AC-Name tag of our PADOs and PADSs (default: the host
	// name).
	ACName string
	// Auth are the authentication methods offered, preferred first
	// (default mschap2, chap, pap: RouterOS's order without MS-CHAPv1).
	Auth []ppp.AuthMethod
	// DefaultProfile names the profile of users that name none (default
	// "default", which must then exist).
	DefaultProfile string
	Profiles       []Profile
	Pools          []PoolConfig
	// Users are the static users ([[user]] in the file, RouterOS's /ppp
	// secret); looked up before the secrets files.
	Users []User
	// Secrets are the entries of pppd-format secrets files
	// (chap-secrets, pap-secrets), in file order; a user found in Users
	// is not looked up here.
	Secrets []secrets.Entry
	// KeepaliveTimeout has RouterOS's meaning: after this long without
	// anything from the client, an LCP Echo-Request every second; the
	// client is declared dead once nothing was heard for twice this.
	// Zero takes the default (10 s); negative disables keepalives.
	KeepaliveTimeout time.Duration
	// MaxSessions bounds the sessions served at once (0: no bound); a
	// PADR past it gets a PADS with AC-System-Error (RFC 2516 §5.4).
	MaxSessions int
	// OneSessionPerHost: a new session from a MAC ends the ones it had on
	// that interface (RouterOS's one-session-per-host).
	OneSessionPerHost bool
	// MaxMTU and MaxMRU bound what is negotiated with each client
	// (default 1492, RFC 2516 §7; up to 1500 less than the interface's
	// MTU by 8 with RFC 4638's PPP-Max-Payload).
	MaxMTU, MaxMRU int
	// IPv6 runs IPv6CP (link-local interface identifiers, RFC 5072).
	IPv6 bool
	// PADI bounds the PADIs answered (PADILimits' defaults for zeros).
	PADI PADILimits
	// Timers are LCP's and the NCPs' (pppd's defaults for zeros).
	Timers ppp.Timers
	// ControlSocket is where `pppoed server status` and `kick` reach the
	// server (default DefaultControlSocket; "-": none).
	ControlSocket string
	// RADIUS, when set, authenticates the users the local ones do not
	// settle, accounts every session and takes Disconnect- and
	// CoA-Requests. Reload does not change it.
	RADIUS *RADIUS
	// MetricsListen, when set, is the host:port where Prometheus scrapes
	// GET /metrics (Server.Metrics); "" serves none.
	MetricsListen string
	// Debug logs every discovery and PPP packet, as pppd's debug.
	Debug bool
	// Logger receives the log (default: discarded).
	Logger *slog.Logger
	// Ready, when set, is called once every interface is served (sd_notify
	// READY=1).
	Ready func()
	// Reload, when set, is called on Server.Reload (SIGHUP): it re-reads
	// the configuration, of which the users and secrets are taken; the
	// sessions that are up keep going.
	Reload func() (*Config, error)
}

// Interface is one Ethernet interface served.
type Interface struct {
	Name string
	// ServiceNames are the services offered on it (RFC 2516 Service-Name);
	// empty: any service a client asks for.
	ServiceNames []string
	// DefaultProfile overrides Config.DefaultProfile for its clients.
	DefaultProfile string
}

// Profile is what a session is given, RouterOS's /ppp profile.
type Profile struct {
	Name string
	// LocalAddress is our address on each session of the profile
	// (required when IPCP runs).
	LocalAddress netip.Addr
	// RemoteAddress, when valid, is every client's address (use with
	// OnlyOne or a single client); otherwise RemotePool names the pool
	// the addresses come from.
	RemoteAddress netip.Addr
	RemotePool    string
	// DNS are the name servers handed out, primary first (RFC 1877; at
	// most two).
	DNS []netip.Addr
	// MTU and MRU, when not zero, lower what is negotiated for the
	// profile's sessions below Config.MaxMTU/MaxMRU: the pppN MTU is
	// clamped to MTU once the user is known.
	MTU, MRU int
	// OnlyOne allows one session per user name at a time: another login
	// with a name that has a session is refused.
	OnlyOne bool
}

// PoolConfig is an address pool: one or more ranges (RouterOS's /ip
// pool, "10.0.0.2-10.0.0.254,10.0.1.0/24").
type PoolConfig struct {
	Name   string
	Ranges []Range
}

// User is a static user, RouterOS's /ppp secret with a static interface.
type User struct {
	Name     string
	Password string
	// Profile names the user's profile ("": the default profile).
	Profile string
	// RemoteAddress, when valid, is the user's fixed address; it is
	// reserved in its profile's pool if it falls in one.
	RemoteAddress netip.Addr
	// Ifname names the user's pppN (RouterOS's static interface, such as
	// "ppp-alice"); "": the kernel's name.
	Ifname string
}

// String never shows the password.
func (u User) String() string { return fmt.Sprintf("user %q", u.Name) }

// GoString never shows the password either (%#v).
func (u User) GoString() string { return "server.User{Name: " + fmt.Sprintf("%q", u.Name) + "}" }

// Defaults.
const (
	DefaultKeepaliveTimeout = 10 * time.Second // RouterOS's pppoe-server default
	DefaultProfileName      = "default"
	DefaultControlSocket    = "/run/pppoed/server.sock"
	DefaultConfigFile       = "/etc/pppoed/server.toml"
)

// DefaultAuth is the methods offered when Config.Auth is empty.
var DefaultAuth = []ppp.AuthMethod{ppp.AuthMSCHAPv2, ppp.AuthCHAPMD5, ppp.AuthPAP}

// withDefaults fills in the defaults; hostname is the host's name.
func (c Config) withDefaults(hostname string) Config {
	if c.ACName == "" {
		c.ACName = hostname
	}
	if len(c.Auth) == 0 {
		c.Auth = DefaultAuth
	}
	if c.DefaultProfile == "" {
		c.DefaultProfile = DefaultProfileName
	}
	if c.KeepaliveTimeout == 0 {
		c.KeepaliveTimeout = DefaultKeepaliveTimeout
	}
	if c.MaxMTU == 0 {
		c.MaxMTU = discovery.DefaultMTU
	}
	if c.MaxMRU == 0 {
		c.MaxMRU = discovery.DefaultMTU
	}
	if c.ControlSocket == "" {
		c.ControlSocket = DefaultControlSocket
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// maxPPPoEMTU is the most PPPoE carries over a 1508-octet Ethernet MTU
// with RFC 4638; more would need jumbo frames nobody negotiates this way.
const maxPPPoEMTU = 1500

// minMTU is the least MTU/MRU accepted (RFC 1661 §6.1's minimum MRU
// is 64; pppd refuses below 128, and IPv4 needs 68, IPv6 1280).
const minMTU = 128

// Validate checks c as Run would, without touching the system: every
// error names the field (and the profile, pool, user or interface).
func (c *Config) Validate() error {
	d := c.withDefaults("host")
	if len(d.Interfaces) == 0 {
		return errors.New("server: no interface to serve")
	}
	seenIf := map[string]bool{}
	for i, ifc := range d.Interfaces {
		if ifc.Name == "" {
			return fmt.Errorf("server: interface %d has no name", i+1)
		}
		if seenIf[ifc.Name] {
			return fmt.Errorf("server: interface %s is listed twice", ifc.Name)
		}
		seenIf[ifc.Name] = true
		for _, s := range ifc.ServiceNames {
			if s == "" {
				return fmt.Errorf("server: interface %s: an empty service name (leave service-names out to serve any)", ifc.Name)
			}
		}
	}
	for _, m := range d.Auth {
		if !slices.Contains([]ppp.AuthMethod{ppp.AuthPAP, ppp.AuthCHAPMD5, ppp.AuthMSCHAPv1, ppp.AuthMSCHAPv2}, m) {
			return fmt.Errorf("server: authentication method %v is not one of pap, chap, mschap1, mschap2", m)
		}
	}
	if d.MaxMTU < minMTU || d.MaxMTU > maxPPPoEMTU {
		return fmt.Errorf("server: max-mtu %d is not within %d..%d", d.MaxMTU, minMTU, maxPPPoEMTU)
	}
	if d.MaxMRU < minMTU || d.MaxMRU > maxPPPoEMTU {
		return fmt.Errorf("server: max-mru %d is not within %d..%d", d.MaxMRU, minMTU, maxPPPoEMTU)
	}
	if d.MaxSessions < 0 {
		return fmt.Errorf("server: max-sessions %d is negative", d.MaxSessions)
	}
	pools := map[string]bool{}
	for _, p := range d.Pools {
		if p.Name == "" {
			return errors.New("server: a pool has no name")
		}
		if pools[p.Name] {
			return fmt.Errorf("server: pool %q is defined twice", p.Name)
		}
		pools[p.Name] = true
		if _, err := NewPool(p.Name, p.Ranges...); err != nil {
			return err
		}
	}
	profiles := map[string]bool{}
	for _, p := range d.Profiles {
		if p.Name == "" {
			return errors.New("server: a profile has no name")
		}
		if profiles[p.Name] {
			return fmt.Errorf("server: profile %q is defined twice", p.Name)
		}
		profiles[p.Name] = true
		if err := p.validate(pools); err != nil {
			return err
		}
	}
	if !profiles[d.DefaultProfile] {
		return fmt.Errorf("server: default profile %q is not defined", d.DefaultProfile)
	}
	for _, ifc := range d.Interfaces {
		if ifc.DefaultProfile != "" && !profiles[ifc.DefaultProfile] {
			return fmt.Errorf("server: interface %s: default profile %q is not defined", ifc.Name, ifc.DefaultProfile)
		}
	}
	if d.RADIUS != nil {
		if err := d.RADIUS.validate(); err != nil {
			return err
		}
	}
	return validateUsers(d.Users, profiles)
}

func (p Profile) validate(pools map[string]bool) error {
	where := fmt.Sprintf("server: profile %q", p.Name)
	if !p.LocalAddress.IsValid() {
		return fmt.Errorf("%s: no local-address", where)
	}
	if !p.LocalAddress.Is4() {
		return fmt.Errorf("%s: local-address %s is not IPv4", where, p.LocalAddress)
	}
	if p.RemoteAddress.IsValid() && p.RemotePool != "" {
		return fmt.Errorf("%s: both remote-address and remote-pool are set", where)
	}
	if p.RemoteAddress.IsValid() && !p.RemoteAddress.Is4() {
		return fmt.Errorf("%s: remote-address %s is not IPv4", where, p.RemoteAddress)
	}
	if p.RemotePool != "" && !pools[p.RemotePool] {
		return fmt.Errorf("%s: remote-pool %q is not defined", where, p.RemotePool)
	}
	if len(p.DNS) > 2 {
		return fmt.Errorf("%s: %d dns servers; IPCP hands out two at most (RFC 1877)", where, len(p.DNS))
	}
	for _, a := range p.DNS {
		if !a.Is4() {
			return fmt.Errorf("%s: dns server %s is not IPv4", where, a)
		}
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"mtu", p.MTU}, {"mru", p.MRU}} {
		if v.n != 0 && (v.n < minMTU || v.n > maxPPPoEMTU) {
			return fmt.Errorf("%s: %s %d is not within %d..%d", where, v.name, v.n, minMTU, maxPPPoEMTU)
		}
	}
	return nil
}

func validateUsers(users []User, profiles map[string]bool) error {
	names := map[string]bool{}
	ifnames := map[string]bool{}
	for i, u := range users {
		if u.Name == "" {
			return fmt.Errorf("server: user %d has no name", i+1)
		}
		if names[u.Name] {
			return fmt.Errorf("server: user %q is defined twice", u.Name)
		}
		names[u.Name] = true
		if u.Profile != "" && !profiles[u.Profile] {
			return fmt.Errorf("server: user %q: profile %q is not defined", u.Name, u.Profile)
		}
		if u.RemoteAddress.IsValid() && !u.RemoteAddress.Is4() {
			return fmt.Errorf("server: user %q: remote-address %s is not IPv4", u.Name, u.RemoteAddress)
		}
		if u.Ifname != "" {
			if len(u.Ifname) > 15 {
				return fmt.Errorf("server: user %q: interface name %q is longer than 15 characters", u.Name, u.Ifname)
			}
			if ifnames[u.Ifname] {
				return fmt.Errorf("server: user %q: interface name %q is another user's", u.Name, u.Ifname)
			}
			ifnames[u.Ifname] = true
		}
	}
	return nil
}
