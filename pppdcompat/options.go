package pppdcompat

import (
	"net"
	"net/netip"
	"time"
)

// Detach is when pppd leaves its terminal.
type Detach int

const (
	// DetachEarly is pppd's default: fork into the background once the
	// options are read and checked, before the link is dialled.
	DetachEarly Detach = iota
	// NoDetach (nodetach, -detach) stays in the foreground.
	NoDetach
	// UpDetach stays until the first network protocol is up, then forks
	// into the background (updetach).
	UpDetach
)

// Options are pppd's options once every source has been read: the system
// options file, ~/.ppprc, the command line and the files it names (file,
// call). The zero value is not pppd's defaults: Defaults returns them.
type Options struct {
	// Plugins named by "plugin"; only pppoe.so and rp-pppoe.so are
	// accepted, and nothing is loaded.
	Plugins []string
	// Interface is the Ethernet interface, given as "nic-IF" or as a
	// bare interface name once a PPPoE plugin is named (pppd takes
	// either only if the interface exists), or as pppoe's -I in
	// pty "pppoe -I IF".
	Interface string

	// Discovery (the PPPoE plugin's options).
	ServiceName  string           // pppoe-service, rp_pppoe_service
	ACName       string           // pppoe-ac, rp_pppoe_ac
	ACMAC        net.HardwareAddr // pppoe-mac, rp_pppoe_mac
	HostUniq     []byte           // host-uniq, pppoe-host-uniq (hex)
	PADITimeout  time.Duration    // pppoe-padi-timeout (seconds); 0: default
	PADIAttempts int              // pppoe-padi-attempts; 0: default

	// Authentication.
	//
	// User is the name we authenticate with (user, +ua); when none is
	// given it is Name, as pppd's auth_check_options sets it.
	User     string
	Password string // password; never logged
	// Name is pppd's our_name (name, usehostname): the host name (with
	// domain's suffix) unless given.
	Name        string
	UseHostname bool   // usehostname
	RemoteName  string // remotename: the server's name in the secrets files
	// Refuse lists the methods refused, each once, in the order first
	// refused: "pap", "chap", "mschap", "mschap-v2", "eap" (from
	// refuse-pap or -pap, and so on).
	Refuse []string
	// NoAuth (noauth) is accepted; Auth (auth, require-*) is refused
	// by Check: pppoed does not authenticate the access concentrator.
	NoAuth bool
	Auth   bool
	// HidePassword is pppd's hide-password (its default; show-password
	// clears it). pppoed never logs a password either way.
	HidePassword bool

	// IPv4 and IPv6.
	NoIP bool // noip: no IPCP
	// IPv6 is +ipv6 (noipv6, -ipv6 clear it). It is on by default: the
	// reference pppd 2.4.9 (Debian's build) starts with IPv6CP enabled
	// (its ipv6cp_protent.enabled_flag is 1, and "pppd demand" fails
	// with "local/remote LL address required for demand-dialling"
	// unless noipv6 is given).
	IPv6                bool
	LocalIP, RemoteIP   netip.Addr // "local:remote" word; invalid when not given
	NoIPDefault         bool       // noipdefault
	DefaultRoute        bool       // defaultroute
	ReplaceDefaultRoute bool       // replacedefaultroute
	// DefaultRouteMetric is defaultroute-metric. pppd's default, -1,
	// adds the route with metric 0 and only when there is no default
	// route at all; N >= 0 adds it with metric N unless a default route
	// with metric N exists (pppd(8)).
	DefaultRouteMetric int
	UsePeerDNS         bool // usepeerdns
	IPv6CPUseIPAddr    bool // ipv6cp-use-ipaddr
	// IPCPAcceptLocal and IPCPAcceptRemote let the peer change the
	// addresses given as "local:remote" (ipcp-accept-local,
	// ipcp-accept-remote).
	IPCPAcceptLocal, IPCPAcceptRemote bool
	// DefaultRoute6 is defaultroute6 (nodefaultroute6 clears it).
	DefaultRoute6 bool
	// IPv6LocalID and IPv6RemoteID are the interface identifiers given
	// by "ipv6 <local>,<remote>" (the low 64 bits of each address);
	// zero when not given.
	IPv6LocalID, IPv6RemoteID [8]byte
	// IPv6CPAcceptLocal lets the peer choose our interface identifier;
	// IPv6CPAcceptRemote lets it change its own from IPv6RemoteID;
	// IPv6CPUsePersistent derives ours from the Ethernet address
	// (ipv6cp-accept-local, ipv6cp-accept-remote,
	// ipv6cp-use-persistent).
	IPv6CPAcceptLocal, IPv6CPAcceptRemote, IPv6CPUsePersistent bool

	// LCP.
	//
	// MTU and MRU are as given (0: default). pppd 2.4.9's plugin caps
	// both at 1492 and at the Ethernet MTU less 8; pppoed may go above
	// 1492 with RFC 4638.
	MTU, MRU        int
	Silent          bool          // silent: wait for the peer's Configure-Request
	EchoInterval    time.Duration // lcp-echo-interval; 0: off (pppd's default)
	EchoFailure     int           // lcp-echo-failure; 0: off
	EchoAdaptive    bool          // lcp-echo-adaptive
	LCPRestart      time.Duration // lcp-restart
	LCPMaxConfigure int           // lcp-max-configure
	LCPMaxTerminate int           // lcp-max-terminate
	LCPMaxFailure   int           // lcp-max-failure

	// The link's life.
	Persist bool          // persist / nopersist
	MaxFail int           // maxfail; pppd's default 10, 0: never give up
	Holdoff time.Duration // holdoff; pppd's default 30 s
	Demand  bool          // demand (sets Persist too, as in pppd)
	Idle    time.Duration // idle
	// MaxConnect ends the session after that long (maxconnect; 0: no
	// limit).
	MaxConnect time.Duration

	// Naming.
	Ifname   string // ifname
	Unit     int    // unit; -1: any
	Linkname string // linkname
	IPParam  string // ipparam

	// Process.
	Detach Detach
	// SdNotify is up_sdnotify: tell systemd READY=1 once the link is up
	// (it implies nodetach).
	SdNotify bool
	Debug    bool   // debug, -d
	Logfile  string // logfile
	// LogfileAsUser: Logfile came from a source that is not privileged,
	// so it must be opened with the real user's rights, as pppd's
	// setlogfile does.
	LogfileAsUser bool
	// LogFD is pppd's log_to_fd: 1 (stdout) by default, logfd N, -1 for
	// nolog/nologfd and after logfile, whose lines go to Logfile (the
	// last of logfile, logfd, nolog wins).
	LogFD        int
	ChildTimeout time.Duration // child-timeout: the wait for scripts at exit (pppd's default 5 s)
	// Env are the "set NAME=VALUE" settings, in pppd's order (a name's
	// first mention), for the scripts; Unset the names removed from the
	// scripts' environment by "unset NAME".
	Env   []string
	Unset []string

	// Dryrun (dryrun) and Dump (dump) ask for the options in effect to
	// be printed, and with Dryrun nothing more done.
	Dryrun, Dump bool

	// Privileged is pppd's privileged: the real user is root, or in a
	// group named by privgroup.
	Privileged bool
	// PTY is the pty command when the link is pty "pppoe -I IF ..."
	// (Debian's old dsl-provider): Interface, ServiceName and ACName
	// come from its -I, -S and -C.
	PTY string

	// Scripts; defaults /etc/ppp/ip-up and so on.
	IPPreUpScript  string
	IPUpScript     string
	IPDownScript   string
	IPv6UpScript   string
	IPv6DownScript string

	// CallFile is the argument of the last "call" (the CALL_FILE the
	// scripts see).
	CallFile string

	// ShowVersion (--version) and ShowHelp (-h, --help) print and exit.
	// Load stops reading where they appear, as pppd exits there (with
	// status 0 for both; pppd prints the version on stdout, its Usage on
	// stderr).
	ShowVersion, ShowHelp bool

	// Warnings are options accepted without effect (compression, serial
	// line options, ...), one line each with where they came from, for
	// the log; and pppd's own warnings (a priority override, a ~/.ppprc
	// that cannot be read).
	Warnings []string

	// Unsupported are the settings in effect that pppoed cannot honour
	// (multilink, auth, ...), in the order set; Check refuses the first.
	Unsupported []Unsupported
}
