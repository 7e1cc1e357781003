// Package client is pppoed's PPPoE client: discovery (RFC 2516) on a
// packet socket, the session handed to the kernel (package pppox), PPP
// negotiated on its control descriptors (package ppp), and pppN configured
// over netlink (package netcfg), until the session ends, then everything
// undone: a PADT to the AC, addresses, routes and files removed, pppN
// destroyed.
package client

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/internal/peerlog"
	"github.com/pppoed/pppoed/netcfg"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/pppox"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// Config is everything `pppoed connect` takes.
type Config struct {
	Interface   string // the Ethernet interface (required)
	User        string
	Password    string
	ServiceName string
	ACName      string
	ACMAC       net.HardwareAddr
	HostUniq    []byte
	Ifname      string // the unit's interface name; "" for pppN
	// Unit asks for pppN with N = Unit-1 (pppd's unit option); 0 takes
	// any free number, and so does a number in use (pppox.Config.Unit).
	Unit int
	// ifnameKept: Ifname is the first session's pppN, kept for the
	// redials (the user did not choose it).
	ifnameKept bool

	// MTU and MRU: what we send and what we accept; 0 means
	// discovery.DefaultMTU (1492). Above it needs RFC 4638 and an
	// Ethernet MTU of discovery.Overhead (8) more.
	MTU, MRU int
	// RaiseParentMTU sets the Ethernet MTU to MTU+discovery.Overhead
	// before discovery (raising it later would kill the session in the
	// kernel).
	RaiseParentMTU bool

	Auth []ppp.AuthMethod // accepted methods, preferred first; nil: all
	// LocalIPv4, when valid, is the address IPCP asks for (pppd's
	// "local:" option); the AC may still assign another.
	LocalIPv4 netip.Addr
	// InterfaceID is our IPv6 interface identifier; zero: random.
	InterfaceID ppp.InterfaceID
	// Silent waits for the AC's first LCP packet (pppd's silent).
	Silent bool
	// CHAPPassword, when set, answers CHAP and MS-CHAP challenges with the
	// password it picks by the challenger's name (ppp.Config.CHAPPassword);
	// Password then serves PAP only.
	CHAPPassword func(challengerName []byte) (string, error)
	NoIPv4       bool
	NoIPv6       bool

	DefaultRoute       netcfg.RouteMode
	DefaultRouteMetric int
	UsePeerDNS         bool
	ResolvConf         string // default /etc/ppp/resolv.conf
	// KeepResolvConf leaves ResolvConf as written when the session ends
	// (pppd does; Debian's ip-down.d scripts restore /etc/resolv.conf
	// from their own copy); otherwise what it replaced is put back.
	KeepResolvConf bool

	KeepaliveInterval time.Duration // default 30 s; negative disables
	KeepaliveFailures int           // default 4
	KeepaliveAdaptive bool

	PADITimeout  time.Duration // default 5 s, doubling
	PADIAttempts int           // default 3
	Timers       ppp.Timers

	// Persist redials when a session ends or an attempt fails, with a
	// wait that depends on why (see redialPolicy); false makes one attempt.
	Persist bool
	// Holdoff is the least wait before any redial (pppd's holdoff).
	Holdoff time.Duration
	// MaxFail gives up after this many consecutive failed attempts, with
	// the last one's exit status (pppd's maxfail); 0 never gives up.
	MaxFail int
	// BackoffMax caps the doubling wait after discovery timeouts and AC
	// errors (default 2 min).
	BackoffMax time.Duration
	// AuthHoldoff is the wait after an authentication failure (default
	// 60 s), doubling up to AuthHoldoffMax (default 10 min): ISPs
	// throttle repeated bad logins.
	AuthHoldoff, AuthHoldoffMax time.Duration
	// KeepaliveTimeout, when set, declares the peer dead after that long
	// with nothing heard from it, control frames or data (RouterOS
	// keepalive-timeout); an LCP echo is sent each quarter of it that
	// the link is quiet (ppp.Config.EchoTimeout). It replaces
	// KeepaliveInterval and KeepaliveFailures.
	KeepaliveTimeout time.Duration

	// DialOnDemand keeps pppN up while the link is down and dials on the
	// first outbound packet; Idle closes the session after that long
	// without traffic (0: never).
	DialOnDemand bool
	Idle         time.Duration

	// Name is the link's name: the state file, the control socket and
	// the log say it (default: Interface).
	Name string
	// StateDir holds NAME.state, the last session, for clearing a stale
	// one at start (default /var/lib/pppoed; "-" disables it).
	StateDir string
	// MetricsListen, when set, is the host:port where Prometheus
	// scrapes the link's metrics (GET /metrics); "" serves none.
	MetricsListen string
	// ControlSocket is where `pppoed status` asks (default
	// /run/pppoed/NAME.sock; "-" disables it).
	ControlSocket string
	// Notify, when set, receives sd_notify states: READY=1, STATUS=...,
	// STOPPING=1 (package systemd).
	Notify Notifier

	Logger *slog.Logger
	// OnEvent receives the PPP session's events after pppoed acted on them.
	OnEvent func(ppp.Event)
	// OnMoment is told of the points in a session's life at which pppd
	// runs its scripts (Moment), on the session's goroutine, which waits
	// for it: MomentIPv4PreUp may block (pppd waits for ip-pre-up),
	// the others must not for long.
	OnMoment func(Moment)
	// OnSettled, when set, is called once per session that has stayed up
	// SettleDelay after its first network protocol came up: the set-up
	// is over (cmd/pppoed then gives back the memory only the set-up used,
	// internal/procmem). It runs on a goroutine of its own.
	OnSettled func()
	// Hangup ends the session in progress when a value arrives on it
	// (pppd's SIGHUP): with Persist it is redialled after Holdoff,
	// without, Run returns an error with ExitHangup. A value during the
	// wait before a redial ends the wait; one before discovery is
	// dropped.
	Hangup <-chan struct{}
	// StopNow cuts a stop short: once ctx has ended, its closing (or a
	// value on it) ends the wait for the peer's Terminate-Ack at once by
	// hanging up the kernel link (RFC 1661 "Down"); the PADT is still sent
	// and everything undone, and Run still returns nil. Before ctx ends it
	// is not looked at. cmd/pppoed closes it on a second SIGINT or
	// SIGTERM.
	StopNow <-chan struct{}
}

// Defaults, as pppd on Debian has them.
const (
	DefaultResolvConf        = "/etc/ppp/resolv.conf"
	DefaultKeepaliveInterval = 30 * time.Second
	DefaultKeepaliveFailures = 4
)

// Defaults of the always-on link.
const (
	DefaultBackoffMax     = 2 * time.Minute
	DefaultAuthHoldoff    = time.Minute
	DefaultAuthHoldoffMax = 10 * time.Minute
	DefaultStateDir       = "/var/lib/pppoed"
	DefaultControlDir     = "/run/pppoed"
	// SettleDelay is how long a session is up before Config.OnSettled:
	// long enough for the other network protocol and the scripts that
	// follow the first.
	SettleDelay = 5 * time.Second
)

// Notifier is told the service manager's states (sd_notify(3) lines such
// as "READY=1", "STATUS=connected"); *systemd.Notifier is one.
type Notifier interface {
	Notify(states ...string) error
}

func (c *Config) fill() error {
	if c.Interface == "" {
		return errors.New("no interface given (--interface)")
	}
	if len(c.Interface) >= unix.IFNAMSIZ {
		return fmt.Errorf("interface name %q is longer than %d characters", c.Interface, unix.IFNAMSIZ-1)
	}
	if len(c.Ifname) >= unix.IFNAMSIZ {
		return fmt.Errorf("--ifname %q is longer than %d characters", c.Ifname, unix.IFNAMSIZ-1)
	}
	if c.User == "" {
		return errors.New("no user name given (--user)")
	}
	if c.MTU == 0 {
		c.MTU = discovery.DefaultMTU
	}
	if c.MRU == 0 {
		c.MRU = discovery.DefaultMTU
	}
	for _, v := range []struct {
		name string
		n    int
	}{{"--mtu", c.MTU}, {"--mru", c.MRU}} {
		if v.n < 128 || v.n > 1500 {
			return fmt.Errorf("%s %d is outside 128-1500 (PPPoE carries at most 1500, RFC 4638)", v.name, v.n)
		}
	}
	if c.NoIPv4 && c.NoIPv6 {
		return errors.New("--no-ipv4 and --no-ipv6 leave nothing to connect")
	}
	if c.DefaultRoute != netcfg.RouteNone && c.NoIPv4 {
		return errors.New("a default route needs IPv4 (drop --no-ipv4)")
	}
	if c.ResolvConf == "" {
		c.ResolvConf = DefaultResolvConf
	}
	if c.KeepaliveInterval == 0 {
		c.KeepaliveInterval = DefaultKeepaliveInterval
	}
	if c.KeepaliveInterval < 0 {
		c.KeepaliveInterval = 0
	}
	if c.KeepaliveFailures <= 0 {
		c.KeepaliveFailures = DefaultKeepaliveFailures
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c.fillAlwaysOn()
}

// fillAlwaysOn checks and completes the always-on link's settings.
func (c *Config) fillAlwaysOn() error {
	if c.Name == "" {
		c.Name = c.Interface
	}
	if strings.ContainsAny(c.Name, "/\x00") || strings.HasPrefix(c.Name, ".") || len(c.Name) > 64 {
		return fmt.Errorf("--name %q: a link's name is a file name: no '/', no leading '.', at most 64 characters", c.Name)
	}
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--holdoff", c.Holdoff}, {"--backoff-max", c.BackoffMax}, {"--auth-holdoff", c.AuthHoldoff},
		{"--auth-holdoff-max", c.AuthHoldoffMax}, {"--keepalive-timeout", c.KeepaliveTimeout}, {"--idle", c.Idle}} {
		if d.v < 0 {
			return fmt.Errorf("%s %s: must not be negative", d.flag, d.v)
		}
	}
	if c.MaxFail < 0 {
		return fmt.Errorf("--maxfail %d: must not be negative (0: never give up)", c.MaxFail)
	}
	if c.KeepaliveTimeout > 0 && c.KeepaliveTimeout < 2*time.Second {
		return fmt.Errorf("--keepalive-timeout %s: at least 2s (an echo must have time to come back)", c.KeepaliveTimeout)
	}
	if c.Idle > 0 && !c.DialOnDemand {
		return errors.New("--idle needs --dial-on-demand (it hangs up a link that redials on traffic)")
	}
	if c.DialOnDemand && !c.Persist {
		// pppd(8): "The demand option implies the persist option".
		return errors.New("--dial-on-demand redials on the next packet: it cannot go with --persist=false")
	}
	if c.DialOnDemand && c.NoIPv4 {
		return errors.New("--dial-on-demand dials for IPv4 traffic: drop --no-ipv4")
	}
	if c.BackoffMax == 0 {
		c.BackoffMax = DefaultBackoffMax
	}
	if c.AuthHoldoff == 0 {
		c.AuthHoldoff = DefaultAuthHoldoff
	}
	if c.AuthHoldoffMax == 0 {
		c.AuthHoldoffMax = DefaultAuthHoldoffMax
	}
	c.AuthHoldoffMax = max(c.AuthHoldoffMax, c.AuthHoldoff)
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	if c.ControlSocket == "" {
		c.ControlSocket = controlSocket(c.Name)
	}
	return nil
}

// dial makes one attempt: discovery, the kernel link, PPP, until the
// session ends. ctx ending is a stop (nil); lost ending means the
// Ethernet link went down, and ends the attempt at once with errLinkDown.
// r hears of every step.
func dial(ctx, lost context.Context, cfg *Config, r *reporter) error {
	return dialWith(ctx, lost, cfg, r, nil)
}

// dialWith is dial; with dm (dial on demand) the session's channel is
// attached to dm's unit instead of a unit of its own.
func dialWith(ctx, lost context.Context, cfg *Config, r *reporter, dm *onDemand) error {
	start := time.Now()
	log := cfg.Logger
	ifi, err := net.InterfaceByName(cfg.Interface)
	if err != nil {
		return &ExitError{Code: ExitOpenFailed, Err: fmt.Errorf("client: interface %s does not exist", cfg.Interface)}
	}
	if ifi.Flags&net.FlagUp == 0 {
		return &ExitError{Code: ExitOpenFailed, Err: fmt.Errorf("client: interface %s is down (ip link set %s up)", cfg.Interface, cfg.Interface)}
	}
	// The cheap checks (kernel support, privileges) come before anything
	// that changes the system.
	sock, err := pppox.OpenSocket()
	if err != nil {
		return kernelExit(err)
	}
	defer sock.Close()
	conn, err := discovery.Listen(ifi)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return &ExitError{Code: ExitNotRoot, Err: fmt.Errorf("client: %w: %w", pppox.ErrPermission, err)}
		}
		return &ExitError{Code: ExitOpenFailed, Err: fmt.Errorf("client: %w", err)}
	}
	maxPayload, restoreMTU, err := planMaxPayload(cfg, ifi, log, system)
	if err != nil {
		conn.Close()
		return err
	}
	defer func() {
		sock.Close() // our session leaves /proc/net/pppoe only now
		restoreMTU()
	}()
	dc := discovery.NewClient(conn, discovery.ClientConfig{
		ServiceName: cfg.ServiceName, ACName: cfg.ACName, ACMAC: cfg.ACMAC, HostUniq: cfg.HostUniq,
		MaxPayload: maxPayload, Timeout: cfg.PADITimeout, Attempts: cfg.PADIAttempts, Logger: log,
	})
	defer dc.Close()
	r.clearStale(dc)
	r.dialing()
	// A hang-up asked for before this attempt (during holdoff, which it
	// ended, or before the first) is spent: it must not end the session
	// about to start.
	select {
	case <-cfg.Hangup:
	default:
	}
	// The session tap, opened before the PADR can go (discovery/tap.go):
	// it keeps the AC's LCP Configure-Requests that arrive before the
	// session's socket is connected, which the kernel would drop; pppox
	// reads it just before the connect (Config.Tapped). Best effort:
	// without it a session still connects, as pppd's does.
	tap, err := discovery.ListenSessionTap(ifi)
	if err != nil {
		log.Debug("client: no session tap: an LCP request the AC sends right after its PADS may be lost", "err", err)
	}
	closeTap := func() {
		if tap != nil {
			_ = tap.Close()
			tap = nil
		}
	}
	defer closeTap()
	log.Info("client: looking for an access concentrator", "interface", cfg.Interface, "service-name", cfg.ServiceName)
	dctx, stopDiscovery := mergeCancel(ctx, lost)
	// Said at once: discovery still ends, with a PADT, any session the
	// AC opens for a PADR already sent, which may take a moment.
	stopSaid := context.AfterFunc(ctx, func() {
		log.Info("client: stopping during discovery", "cause", context.Cause(ctx).Error())
	})
	discovering := time.Now()
	pppoe, err := dc.Discover(dctx)
	stopSaid()
	stopDiscovery()
	// PPP's fast retransmit sizes its guards from a round trip: discovery
	// has no PADR->PADS time to give, but its whole time bounds it when
	// nothing was sent twice (within the first wait); otherwise none.
	rtt := time.Since(discovering)
	if rtt >= cmp.Or(cfg.PADITimeout, discovery.DefaultTimeout) {
		rtt = 0
	}
	if err != nil {
		if ctx.Err() != nil {
			log.Info("client: stopped during discovery")
			return nil
		}
		if lost.Err() != nil {
			return fmt.Errorf("client: during discovery: %w", errLinkDown)
		}
		return &ExitError{Code: ExitConnectFailed, Err: err}
	}
	// The session's socket first, the state file (two fsyncs) after: an
	// AC that sends its LCP Configure-Request right after the PADS loses
	// it to a socket not yet connected (the kernel drops it). A crash in
	// between leaves the session to the AC's keepalive, as before the
	// file existed.
	pcfg := pppox.Config{Interface: cfg.Interface, SessionID: pppoe.ID, AC: pppoe.AC, Ifname: cfg.Ifname, Unit: cfg.Unit, Logger: log}
	if tap != nil {
		// Read just before the socket's connect: what the tap holds
		// then, the socket cannot have.
		pcfg.Tapped = func() []ppp.Frame {
			req := tap.Take(pppoe)
			if req == nil {
				return nil
			}
			log.Debug("client: the AC's LCP request came before the session's socket was connected: taken from the session tap")
			return []ppp.Frame{{Proto: ppp.ProtoLCP, Data: req}}
		}
	}
	var link *pppox.Link
	if dm != nil {
		link, err = sock.ConnectUnit(pcfg, dm.kernel)
		if err == nil {
			dm.attached()
		}
	} else {
		link, err = sock.Connect(pcfg)
	}
	if err != nil && dm == nil && cfg.ifnameKept {
		// The name the last session's unit had was taken meanwhile:
		// a new one beats no session.
		log.Warn("client: could not give the unit its previous name; letting the kernel name it", "ifname", cfg.Ifname, "err", err)
		pcfg.Ifname = ""
		link, err = sock.Connect(pcfg)
	}
	if err != nil {
		_ = dc.SendPADT(pppoe, "pppoed: could not set up the session")
		r.sessionEnded(pppoe)
		if errors.Is(err, pppox.ErrNoKernelSupport) || errors.Is(err, pppox.ErrPermission) {
			return kernelExit(err)
		}
		return &ExitError{Code: ExitConnectFailed, Err: err}
	}
	closeTap()
	r.sessionFound(pppoe)
	c := &connection{cfg: cfg, log: log, start: start, pppoe: pppoe, rtt: rtt, link: link, ifname: link.Ifname, openIface: openNetcfg, report: r, lost: lost, dm: dm}
	c.known = Moment{Ifname: link.Ifname, Unit: link.Unit, Interface: cfg.Interface, AC: pppoe.AC, SessionID: pppoe.ID, Start: time.Now()}
	r.linkUp(link.Ifname)
	return c.run(ctx, dc, maxPayload)
}

// mergeCancel is ctx, also ended when other ends.
func mergeCancel(ctx, other context.Context) (context.Context, context.CancelFunc) {
	m, cancel := context.WithCancelCause(ctx)
	stop := context.AfterFunc(other, func() { cancel(context.Cause(other)) })
	return m, func() {
		stop()
		cancel(nil)
	}
}

// kernelLink is what a connection needs of the kernel's PPP link
// (*pppox.Link): a ppp.Link whose unit's MRU and network protocols it
// sets, and which it can hang up. The tests give it a fake.
type kernelLink interface {
	ppp.Link
	SetMRU(mru int) error
	SetNPMode(proto ppp.Protocol, mode pppox.NPMode) error
	HangUp(err error)
}

// ifconfig is what a connection needs of pppN's configuration
// (*netcfg.Interface), which remembers what it did in order to undo it.
// The tests give it a fake.
type ifconfig interface {
	SetMTU(mtu int) error
	Up() error
	AddIPv4(local, peer netip.Addr) error
	AddIPv6LinkLocal(local, peer netip.Addr) error
	DefaultRoute(mode netcfg.RouteMode, metric int) error
	WriteResolvConf(path string, servers []netip.Addr) error
	RemoveRoutes()
	RemoveAddresses(family int)
	RemoveFiles()
	Close()
}

func openNetcfg(name string, log *slog.Logger) (ifconfig, error) {
	return netcfg.Open(nil, name, log)
}

// connection is one connected session's state. Three things in it are
// called sessions elsewhere, one per layer: pppoe (discovery.Session: the
// PPPoE session id and the AC), link (the kernel's PPP link over that
// session: channel, unit and pppN, pppox.Link) and control (the PPP
// control session on that link: LCP, authentication, the NCPs,
// ppp.Session).
type connection struct {
	cfg   *Config
	log   *slog.Logger
	start time.Time

	pppoe   *discovery.Session
	rtt     time.Duration // bounds the PADR->PADS round trip (ppp.Config.RTT); 0: unknown
	link    kernelLink
	ifname  string   // the link's interface, pppN
	iface   ifconfig // pppN's configuration
	control *ppp.Session

	openIface func(name string, log *slog.Logger) (ifconfig, error)
	up4, up6  bool  // IPv4, IPv6 configured: their down moments are due
	fail      error // a local failure that ended the session

	report *reporter       // status, sd_notify, the state file; nil in some tests
	lost   context.Context // ends when the Ethernet link goes down; nil: never
	gone   bool            // the link was hung up because it did

	// dm is pppN between sessions, with dial on demand: it owns pppN's
	// configuration, which outlives the session; nil otherwise.
	dm       *onDemand
	stopIdle func()      // ends the idle watch (watchIdle)
	settle   *time.Timer // Config.OnSettled's, from the first network protocol up
	idled    atomic.Bool // the session was closed for lack of traffic
	hungUp   atomic.Bool // the session was closed by Config.Hangup

	// known is what the session knows for Config.OnMoment; the
	// session's goroutine owns it once the session runs.
	known Moment
}

// run runs the PPP session on the kernel link until it ends, then undoes
// everything, in this order:
//
//  1. The PPP session ends (LCP Terminate, the peer's, or the link hung
//     up). Each NCP going down first stops its protocol in the unit
//     (NPMode), then undoes what it configured: routes (restoring a
//     replaced default route), addresses, files.
//  2. ppp.Session closes the kernel link as it ends: the channel is
//     disconnected and the unit, pppN with it, destroyed.
//  3. The interface's configuration is closed: whatever an NCP that never
//     came down left (a failure, a hang-up) is undone.
//  4. The PADT, unless the AC sent one: last, because after it no PPP
//     frame of ours may follow (RFC 2516 §5.5).
//
// Run then closes the PPPoE socket and restores the Ethernet MTU. With
// dial on demand (c.dm), IPv4 going down only stops it in the unit, the
// link's Close leaves the unit, and pppN's configuration is dm's: it
// stays for the next session.
func (c *connection) run(ctx context.Context, dc *discovery.Client, maxPayload uint16) error {
	cfg, log := c.cfg, c.log
	// What the AC named, as every text from the wire, is escaped for
	// the log (peerlog.Text): a name may hold terminal escape sequences.
	log.Info("client: PPPoE session up", "session-id", fmt.Sprintf("0x%x", c.pppoe.ID), "ac", c.pppoe.AC.String(),
		"ac-name", peerlog.Text(c.pppoe.ACName), "service-name", peerlog.Text(c.pppoe.ServiceName), "interface", c.ifname)
	// Whatever ends the session, the kernel's part goes, and the AC
	// hears of it unless it told us first. The kernel sees a PADT too and
	// drops the channel, which often reaches the PPP session before our
	// own packet socket's copy does; theirPADT settles which it was.
	padt := make(chan *discovery.Packet, 1)
	watch, stopWatch := context.WithCancel(context.Background())
	watcherDone := make(chan struct{})
	go func() {
		defer close(watcherDone)
		p, err := dc.WaitPADT(watch, c.pppoe)
		if err != nil {
			return
		}
		padt <- p
		c.link.HangUp(fmt.Errorf("the access concentrator ended the session (PADT%s)", padtText(p)))
	}()
	var theirPADT *discovery.Packet
	settlePADT := func(wait time.Duration) {
		if theirPADT != nil {
			return
		}
		select {
		case theirPADT = <-padt:
		case <-time.After(wait):
		}
	}
	defer func() {
		settlePADT(0)
		stopWatch()
		<-watcherDone
		if theirPADT == nil {
			select {
			case theirPADT = <-padt:
			default:
			}
		}
		if theirPADT != nil {
			log.Info("client: the access concentrator sent PADT", "reason", peerlog.Printable(discovery.PADTReason(theirPADT)))
			c.report.sessionEnded(c.pppoe)
			return
		}
		if err := dc.SendPADT(c.pppoe, "pppoed: session closed"); err != nil {
			// The Ethernet link is down, most likely. The session
			// stays in the state file, and the next dial, or the
			// next start, clears it at the AC first.
			log.Warn("client: PADT not sent; it will be sent before the next PADI", "err", err)
			c.report.unended(c.pppoe)
			return
		}
		log.Info("client: PADT sent", "session-id", fmt.Sprintf("0x%x", c.pppoe.ID))
		if c.gone {
			// Sent into a link without carrier, it may not have
			// reached the AC: once more before the next PADI.
			c.report.unended(c.pppoe)
			return
		}
		c.report.sessionEnded(c.pppoe)
	}()
	defer c.moment(MomentLinkDown) // once the link, and pppN with it, is gone
	defer c.link.Close()

	if c.dm != nil {
		c.iface = c.dm.iface
	} else {
		iface, err := c.openIface(c.ifname, log)
		if err != nil {
			return &ExitError{Code: ExitFatal, Err: fmt.Errorf("client: %w", err)}
		}
		c.iface = iface
		defer iface.Close()
	}

	// The most the link carries: 1492, or what the AC granted by RFC 4638.
	maxMTU := uint16(discovery.DefaultMTU)
	if c.pppoe.MaxPayload > discovery.DefaultMTU {
		maxMTU = c.pppoe.MaxPayload
		log.Info("client: the access concentrator accepts RFC 4638 payloads", "max-payload", maxMTU)
	} else if maxPayload > discovery.DefaultMTU {
		log.Info(fmt.Sprintf("client: the access concentrator did not echo PPP-Max-Payload above %d (RFC 4638); MTU and MRU stay at %d",
			discovery.DefaultMTU, discovery.DefaultMTU))
	}
	pcfg := ppp.Config{
		Role:         ppp.RoleClient,
		Timers:       cfg.Timers,
		Logger:       log,
		MRU:          uint16(min(cfg.MRU, int(maxMTU))),
		MaxMTU:       uint16(min(cfg.MTU, int(maxMTU))),
		RTT:          c.rtt,
		EchoInterval: cfg.KeepaliveInterval,
		EchoFailures: cfg.KeepaliveFailures,
		EchoAdaptive: cfg.KeepaliveAdaptive,
		EchoTimeout:  cfg.KeepaliveTimeout,
		User:         cfg.User,
		Password:     cfg.Password,
		CHAPPassword: cfg.CHAPPassword,
		Allow:        cfg.Auth,
		Silent:       cfg.Silent,
		OnEvent:      c.onEvent,
	}
	if !cfg.NoIPv4 {
		pcfg.IPv4 = &ppp.IPv4Config{RequestDNS: cfg.UsePeerDNS, Local: cfg.LocalIPv4}
	}
	if !cfg.NoIPv6 {
		pcfg.IPv6 = &ppp.IPv6Config{InterfaceID: cfg.InterfaceID}
	}
	c.control = ppp.NewSession(c.link, pcfg)
	c.moment(MomentLinkUp)
	stopHurry := c.hurry(ctx)
	stopHangup := c.watchHangup()
	runErr := c.control.Run(ctx)
	if c.settle != nil {
		c.settle.Stop()
	}
	stopHangup()
	hurried := stopHurry()
	if c.stopIdle != nil {
		c.stopIdle()
	}
	if c.fail != nil {
		return c.fail
	}
	if c.idled.Load() && ctx.Err() == nil {
		return &ExitError{Code: ExitIdleTimeout, Err: errIdle}
	}
	if c.hungUp.Load() && ctx.Err() == nil {
		return &ExitError{Code: ExitHangup, Err: errHangup}
	}
	if hurried {
		// A stop asked for, whatever the session made of our hang-up
		// (it may have seen the link lost before the stop).
		return nil
	}
	if c.gone && ctx.Err() == nil {
		return fmt.Errorf("client: %w (%s)", errLinkDown, cfg.Interface)
	}
	var de *ppp.DownError
	if errors.As(runErr, &de) && de.Reason == ppp.ReasonLinkLost {
		// The channel went: was it the AC's PADT?
		settlePADT(300 * time.Millisecond)
		if theirPADT != nil {
			de.Detail = "the access concentrator ended the session (PADT" + padtText(theirPADT) + ")"
		}
	}
	return exitFor(runErr)
}

// settling starts the wait for Config.OnSettled at the session's first
// network protocol up; run stops it when the session ends. Called on the
// session's goroutine.
func (c *connection) settling() {
	if c.settle == nil && c.cfg.OnSettled != nil {
		c.settle = time.AfterFunc(SettleDelay, c.cfg.OnSettled)
	}
}

// hurry watches for Config.StopNow once ctx has ended, and hangs the link
// up then: ppp.Session sees its lower layer go down and returns without
// waiting for a Terminate-Ack that may never come. The function it
// returns, called once the session is over, stops watching and reports
// whether it hung up.
func (c *connection) hurry(ctx context.Context) (stop func() (hurried bool)) {
	done := make(chan struct{})
	result := make(chan bool, 1)
	lost := c.lost
	if lost == nil {
		lost = context.Background()
	}
	go func() {
		select {
		case <-ctx.Done():
		case <-lost.Done():
			// The Ethernet link is down: no Terminate-Request
			// could reach the peer, so none is waited for.
			c.log.Warn("client: the Ethernet link went down: ending the session", "interface", c.cfg.Interface)
			c.gone = true
			c.link.HangUp(errLinkDown)
			result <- false
			return
		case <-done:
			result <- false
			return
		}
		select {
		case <-c.cfg.StopNow:
			c.log.Info("client: stopping at once: not waiting for the peer's Terminate-Ack")
			c.link.HangUp(errors.New("stopped at once"))
			result <- true
		case <-done:
			result <- false
		}
	}()
	return func() bool {
		close(done)
		return <-result
	}
}

func padtText(p *discovery.Packet) string {
	if r := discovery.PADTReason(p); r != "" {
		return ": " + r
	}
	return ""
}

// onEvent configures the kernel and the interface as the PPP layers come
// and go. It runs on the PPP session's goroutine.
func (c *connection) onEvent(ev ppp.Event) {
	log := c.log
	fail := func(err error) {
		log.Error("client: "+err.Error(), "interface", c.ifname)
		if c.fail == nil {
			c.fail = &ExitError{Code: ExitFatal, Err: fmt.Errorf("client: %w", err)}
		}
		c.control.Close("pppoed: configuring the interface failed")
	}
	switch e := ev.(type) {
	case ppp.LinkUp:
		log.Info("client: LCP up", "mru", e.MRU, "mtu", e.MTU)
		if err := c.iface.SetMTU(int(e.MTU)); err != nil {
			fail(err)
			return
		}
		if err := c.link.SetMRU(int(e.MRU)); err != nil {
			fail(err)
		}
	case ppp.Authenticated:
		c.known.PeerName = e.Peer
		log.Info("client: authenticated", "peer", peerlog.Text(e.Peer)) // the peer's name is raw data
	case ppp.IPv4Up:
		c.known.Local, c.known.Peer, c.known.DNS = e.Local, e.Peer, e.DNS
		if c.dm != nil {
			// pppN has its default route since it began waiting.
			if err := c.dm.ipv4Up(c.link, e); err != nil {
				fail(err)
				return
			}
			c.writeDNS(e)
		} else {
			// pppd's ipcp_up writes the name servers first, before
			// the address and ip-pre-up.
			c.writeDNS(e)
			if !c.ipv4Up(e, fail) {
				return
			}
		}
		c.up4 = true
		c.settling()
		c.moment(MomentIPv4Up)
		c.watchIdle()
		log.Info("client: IPv4 up", "interface", c.ifname, "local", e.Local.String(), "peer", e.Peer.String(),
			"dns", fmt.Sprint(e.DNS), "connect-time", time.Since(c.start).Round(time.Millisecond).String())
	case ppp.IPv6Up:
		local, peer := e.Local.LinkLocal(), e.Peer.LinkLocal()
		// Up first, as pppd's ipv6cp_up (sif6up, then sif6addr): the
		// kernel adds the route to the peer's /128 only for an address
		// added to an interface that is up (seen on 6.1: added before,
		// the address has only its own route).
		if err := c.iface.Up(); err != nil {
			fail(err)
			return
		}
		if err := c.iface.AddIPv6LinkLocal(local, peer); err != nil {
			fail(err)
			return
		}
		if err := c.link.SetNPMode(ppp.ProtoIPv6, pppox.NPModePass); err != nil {
			fail(err)
			return
		}
		c.known.LLLocal, c.known.LLPeer = local, peer
		c.up6 = true
		c.settling()
		c.moment(MomentIPv6Up)
		c.watchIdle()
		log.Info("client: IPv6 up", "interface", c.ifname, "local", local.String(), "peer", peer.String())
	case ppp.IPv4Down:
		if c.dm != nil {
			c.dm.ipv4Down(c.link)
			if c.up4 {
				c.moment(MomentIPv4Down)
			}
		} else {
			// Stopped before its configuration goes, so that nothing is
			// sent from a half-removed one. pppd's ipcp_down runs
			// ip-down once the addresses are gone (ipcp_clear_addrs,
			// then the script; /etc/ppp/resolv.conf is still there):
			// so does MomentIPv4Down.
			_ = c.link.SetNPMode(ppp.ProtoIPv4, pppox.NPModeDrop)
			c.iface.RemoveRoutes()
			c.iface.RemoveAddresses(unix.AF_INET)
			if c.up4 {
				c.moment(MomentIPv4Down)
			}
			c.iface.RemoveFiles()
		}
		if c.up4 {
			log.Info("client: IPv4 down")
			c.up4 = false
		}
	case ppp.IPv6Down:
		_ = c.link.SetNPMode(ppp.ProtoIPv6, pppox.NPModeDrop)
		c.iface.RemoveAddresses(unix.AF_INET6)
		if c.up6 { // after the addresses, as pppd's ipv6cp_down
			c.moment(MomentIPv6Down)
			c.up6 = false
		}
		log.Info("client: IPv6 down")
	case ppp.Down:
		lvl := slog.LevelInfo
		if e.Reason != ppp.ReasonLocalClose {
			lvl = slog.LevelWarn
		}
		log.Log(context.Background(), lvl, "client: session ended", "reason", e.Reason.String(), "detail", peerlog.Printable(e.Detail))
	}
	c.report.event(ev)
	if c.cfg.OnEvent != nil {
		c.cfg.OnEvent(ev)
	}
}

// writeDNS writes the name servers the AC gave, with UsePeerDNS. As pppd:
// a resolv.conf we cannot write is worth a log line, not the session.
// With KeepResolvConf the file is written as is and left at the end.
func (c *connection) writeDNS(e ppp.IPv4Up) {
	if !c.cfg.UsePeerDNS {
		return
	}
	if len(e.DNS) == 0 {
		c.log.Info("client: the access concentrator gave no name servers")
		return
	}
	var err error
	if c.cfg.KeepResolvConf {
		err = netcfg.WriteResolvConfFile(c.cfg.ResolvConf, e.DNS)
	} else {
		err = c.iface.WriteResolvConf(c.cfg.ResolvConf, e.DNS)
	}
	if err != nil {
		c.log.Error("client: " + err.Error())
	}
}

// ipv4Up configures pppN for IPv4 without dial on demand; false when it
// failed (fail was called).
func (c *connection) ipv4Up(e ppp.IPv4Up, fail func(error)) bool {
	log := c.log
	if err := c.iface.AddIPv4(e.Local, e.Peer); err != nil {
		fail(err)
		return false
	}
	// pppd's ipcp_up runs ip-pre-up here, and waits for it: address
	// set, interface not yet up for IPv4.
	c.moment(MomentIPv4PreUp)
	if err := c.iface.Up(); err != nil {
		fail(err)
		return false
	}
	// The unit starts with every protocol dropped (pppox.Connect):
	// IPv4 crosses the link only now, with its address in place.
	if err := c.link.SetNPMode(ppp.ProtoIPv4, pppox.NPModePass); err != nil {
		fail(err)
		return false
	}
	if err := c.iface.DefaultRoute(c.cfg.DefaultRoute, c.cfg.DefaultRouteMetric); err != nil {
		if !errors.Is(err, netcfg.ErrDefaultRouteExists) {
			fail(err)
			return false
		}
		// As pppd: the session stays up without our default route
		// (ending it would only restart it, under systemd, forever).
		log.Warn("client: "+err.Error(), "hint", "--replace-default-route replaces it; --default-route-metric adds ours beside it")
	}
	return true
}

// host is what Run reads and changes outside the session: the kernel's
// PPPoE sessions and the Ethernet interface's MTU. The tests replace it.
type host struct {
	pppoeSessions func() ([]byte, error)             // /proc/net/pppoe
	setMTU        func(ifname string, mtu int) error // over netlink
}

var system = host{
	pppoeSessions: func() ([]byte, error) { return os.ReadFile("/proc/net/pppoe") },
	setMTU: func(ifname string, mtu int) error {
		l, err := netlink.LinkByName(ifname)
		if err == nil {
			err = netlink.LinkSetMTU(l, mtu)
		}
		return err
	},
}

// sessionsOn counts the kernel's PPPoE sessions on dev (in our network
// namespace); without /proc/net/pppoe (no pppoe module) there are none.
func (h host) sessionsOn(dev string) int {
	b, err := h.pppoeSessions()
	if err != nil {
		return 0
	}
	return countSessions(b, dev)
}

// countSessions reads /proc/net/pppoe (pppoe_seq_show: a header line, then
// "%08X %pM %8s" per session: id, the AC's MAC, the device).
func countSessions(b []byte, dev string) int {
	n := 0
	for i, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); i > 0 && len(f) == 3 && f[2] == dev {
			n++
		}
	}
	return n
}

// planMaxPayload decides whether to ask for RFC 4638 payloads above 1492,
// raising the Ethernet MTU first if asked to; restore puts it back. Any
// change of the Ethernet MTU makes the kernel drop every PPPoE session on
// the interface (pppoe_flush_dev on NETDEV_CHANGEMTU), so it is neither
// raised nor restored while other sessions use it.
func planMaxPayload(cfg *Config, ifi *net.Interface, log *slog.Logger, h host) (_ uint16, restore func(), _ error) {
	restore = func() {}
	want := max(cfg.MTU, cfg.MRU)
	if want <= discovery.DefaultMTU {
		return 0, restore, nil
	}
	need := want + discovery.Overhead
	if ifi.MTU < need && cfg.RaiseParentMTU {
		if n := h.sessionsOn(cfg.Interface); n > 0 {
			return 0, restore, &ExitError{Code: ExitOpenFailed, Err: fmt.Errorf(
				"client: --raise-parent-mtu would change the MTU of %s from %d to %d, and the kernel would drop the PPPoE sessions already on %s (%d); raise it while they are down, or drop --raise-parent-mtu",
				cfg.Interface, ifi.MTU, need, cfg.Interface, n)}
		}
		if err := h.setMTU(cfg.Interface, need); err != nil {
			code := ExitOpenFailed
			if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
				code = ExitNotRoot
			}
			return 0, restore, &ExitError{Code: code, Err: fmt.Errorf("client: raising the MTU of %s to %d: %w", cfg.Interface, need, err)}
		}
		log.Info("client: raised the Ethernet MTU for RFC 4638", "interface", cfg.Interface, "from", ifi.MTU, "to", need)
		old := ifi.MTU
		restore = func() {
			if n := h.sessionsOn(cfg.Interface); n > 0 {
				log.Info("client: Ethernet MTU left raised: other PPPoE sessions use the interface", "interface", cfg.Interface, "sessions", n)
				return
			}
			if err := h.setMTU(cfg.Interface, old); err != nil {
				log.Warn("client: restoring the Ethernet MTU", "interface", cfg.Interface, "mtu", old, "err", err)
				return
			}
			log.Info("client: Ethernet MTU restored", "interface", cfg.Interface, "mtu", old)
		}
		ifi.MTU = need
	}
	if ifi.MTU < need {
		log.Warn(fmt.Sprintf("client: %s has MTU %d, %d is needed for a PPP MTU of %d (RFC 4638): using %d; --raise-parent-mtu raises it",
			cfg.Interface, ifi.MTU, need, want, discovery.DefaultMTU))
		return 0, restore, nil
	}
	return uint16(want), restore, nil
}
