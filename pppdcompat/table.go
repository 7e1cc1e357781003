package pppdcompat

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"time"
)

// Class says what pppoed does with a pppd option.
type Class int

const (
	// Supported options set a field of Options.
	Supported Class = iota + 1
	// Ignored options are accepted with one warning: they mean nothing
	// on PPPoE (serial lines, async maps, compression pppd's plugin
	// turns off anyway) or concern what pppoed never does and their
	// absence changes nothing for the link (timers of the server side).
	Ignored
	// Refused options ask for what pppoed cannot do, and ignoring them
	// would change the link's behaviour (multilink, authenticating the
	// peer, encryption, packet filters): Check refuses them, unless a
	// later option takes them back (nomultilink after multilink).
	Refused
)

func (c Class) String() string {
	switch c {
	case Supported:
		return "supported"
	case Ignored:
		return "ignored with a warning"
	case Refused:
		return "refused"
	}
	return fmt.Sprintf("Class(%d)", int(c))
}

// OptionInfo describes one pppd option, or one alias, as pppoed reads it.
type OptionInfo struct {
	// Name is the option's name; for the words pppd recognizes by their
	// form it is a description in angle brackets ("<interface>").
	Name       string
	AliasOf    string // the option this one is an alias of ("" if none)
	Args       int    // the words it takes
	Class      Class
	Privileged bool // pppd's OPT_PRIV: refused from a source that is not privileged
	// Origin is where the option comes from: "pppd" (2.4.9),
	// "rp-pppoe.so" (2.4.9's plugin), or, for the few pppd 2.4.9 does
	// not know but pppoed accepts, the version or system that has them.
	Origin string
	Note   string // what pppoed does with it, or why not
}

// Table lists every option pppoed knows, in pppd's order (options.c,
// auth.c, upap.c, chap-new.c, chap_ms.c, eap.c, lcp.c, ipcp.c, ipv6cp.c,
// ccp.c, ecp.c, cbcp.c, ipxcp.c, tty.c, then the plugin), with its class:
// the list of what is unsupported and why comes from it.
func Table() []OptionInfo {
	optIndex() // it fills the aliases' definitions in
	var t []OptionInfo
	for _, d := range optDefs {
		origin := d.origin
		if origin == "" {
			origin = "pppd"
			if d.scope == scopePPPoE {
				origin = "rp-pppoe.so"
			}
		}
		t = append(t, OptionInfo{Name: d.name, AliasOf: d.alias, Args: d.args, Class: d.class,
			Privileged: d.flags&fPriv != 0, Origin: origin, Note: d.note})
	}
	for _, w := range wildDefs {
		origin := "pppd"
		if w.scope == scopePPPoE {
			origin = "rp-pppoe.so"
		}
		t = append(t, OptionInfo{Name: w.shown, Class: w.class, Origin: origin, Note: w.note})
	}
	return t
}

type optFlags uint32

const (
	fPriv     optFlags = 1 << iota // OPT_PRIV
	fPrivFix                       // OPT_PRIVFIX
	fDevEquiv                      // OPT_DEVEQUIV
	fLLimit                        // OPT_LLIMIT
	fULimit                        // OPT_ULIMIT
)

// scope is the option list an option is in: pppd looks an option up in
// the general and protocol lists, the plugin's once it is loaded, and
// the current channel's (the tty's until the plugin's interface is
// named: after it, connect or crtscts are unrecognized).
type scope int

const (
	scopeGeneral scope = iota
	scopeTTY
	scopePPPoE
)

type argKind int

const (
	argNone argKind = iota
	argInt          // o_int: int_option, limits
	argHex          // o_uint32 in base 16 (asyncmap)
	argString
)

type optDef struct {
	name   string
	alias  string // the option this one is an alias of: the rest is copied from it
	args   int
	kind   argKind
	class  Class
	flags  optFlags
	group  string // the main option of its pppd priority group ("" none)
	scope  scope
	lo, hi int    // OPT_LLIMIT, OPT_ULIMIT
	origin string // "" for pppd 2.4.9 (or its plugin)
	note   string
	// enabled is OPT_ENABLE: "defaultroute option is disabled" after
	// nodefaultroute.
	enabled func(p *parser) bool
	apply   func(p *parser, d *optDef, c *call) error
}

// wildDef is an o_wild option: a word recognized by its form.
type wildDef struct {
	name  string // pppd's option name, for its messages
	shown string // for Table
	class Class
	flags optFlags
	group string
	scope scope
	note  string
	match func(p *parser, word string) bool
	apply func(p *parser, c *call) error
}

// Notes shared by several options.
const (
	noteSerial    = "a serial line option, meaningless on PPPoE"
	noteAsync     = "an asynchronous HDLC option; PPPoE frames are not escaped (RFC 2516 §7)"
	noteCompress  = "pppoed negotiates no compression (CCP, VJ), and pppd's PPPoE plugin turns most of it off too; the link works without it"
	noteServer    = "only used when authenticating the peer or serving it, which a PPPoE client does not do"
	noteTimers    = "pppoed applies the LCP timers (lcp-restart, lcp-max-*) to every protocol"
	noteAuthTimer = "pppoed's own authentication timers are used"
	noteMultilink = "only used with multilink, which pppoed does not do"
	noteIPX       = "only used with IPX, which pppoed does not do"
	noteMPPE      = "pppoed does not do MPPE: the option only matters when MPPE is negotiated"
	noteScript    = "a serial line script; pppd does not run it over PPPoE either"
	noteAuth      = "pppoed does not authenticate the access concentrator (add noauth)"
	noteNoop      = "pppoed never does what it turns off"
)

// Actions shared by many options.

func ignored(p *parser, d *optDef, c *call) error {
	switch d.kind {
	case argInt:
		if _, err := p.intArg(d, c); err != nil {
			return err
		}
	case argHex:
		if _, err := p.number(c, 16); err != nil {
			return err
		}
	}
	p.ignore(d, c)
	return nil
}

// refused records what pppoed cannot do, under key, for Check.
func refused(key string) func(p *parser, d *optDef, c *call) error {
	return func(p *parser, d *optDef, c *call) error {
		if d.kind == argInt {
			if _, err := p.intArg(d, c); err != nil {
				return err
			}
		}
		p.refuse(key, c.s, c.name, d.note)
		return nil
	}
}

// withdrawn takes back what keys refused, with a warning (the option
// only turns off what pppoed never does).
func withdrawn(keys ...string) func(p *parser, d *optDef, c *call) error {
	return func(p *parser, d *optDef, c *call) error {
		p.withdraw(keys...)
		p.ignore(d, c)
		return nil
	}
}

func setBool(f func(o *Options) *bool, v bool) func(p *parser, d *optDef, c *call) error {
	return func(p *parser, d *optDef, c *call) error { *f(p.o) = v; return nil }
}

func setInt(f func(o *Options) *int) func(p *parser, d *optDef, c *call) error {
	return func(p *parser, d *optDef, c *call) error {
		v, err := p.intArg(d, c)
		if err == nil {
			*f(p.o) = v
		}
		return err
	}
}

func setSeconds(f func(o *Options) *time.Duration) func(p *parser, d *optDef, c *call) error {
	return func(p *parser, d *optDef, c *call) error {
		v, err := p.intArg(d, c)
		if err == nil {
			*f(p.o) = time.Duration(v) * time.Second
		}
		return err
	}
}

// setString stores the argument; size is pppd's buffer (0: strdup, no
// limit).
func setString(f func(o *Options) *string, size int) func(p *parser, d *optDef, c *call) error {
	return func(p *parser, d *optDef, c *call) error {
		v, err := p.stringArg(c, size)
		if err == nil {
			*f(p.o) = v
		}
		return err
	}
}

func (p *parser) refuseAuth(d *optDef, c *call) error {
	p.o.Auth = true
	p.refuse("auth", c.s, c.name, noteAuth)
	return nil
}

func (p *parser) addRefuse(name string) {
	if !slices.Contains(p.o.Refuse, name) {
		p.o.Refuse = append(p.o.Refuse, name)
	}
}

func refuseMethod(name string) func(p *parser, d *optDef, c *call) error {
	return func(p *parser, d *optDef, c *call) error { p.addRefuse(name); return nil }
}

// pppd's buffer sizes (pppd.h).
const (
	maxNameLen   = 256  // MAXNAMELEN
	maxSecretLen = 256  // MAXSECRETLEN
	maxPathLen   = 4096 // MAXPATHLEN
	maxIfNameLen = 32   // MAXIFNAMELEN
)

// optDefs is every named option of pppd 2.4.9 as Debian builds it
// (multilink, filters, MAXOCTETS, IPX, EAP-TLS, systemd), and of its
// rp-pppoe.so, with their flags as the binary has them, plus the few
// later ones (pppd 2.5, OpenWrt) that pppoed accepts.
var optDefs = []*optDef{
	// options.c
	{name: "debug", class: Supported, note: "Debug",
		apply: setBool(func(o *Options) *bool { return &o.Debug }, true)},
	{name: "-d", alias: "debug"},
	{name: "kdebug", args: 1, kind: argInt, class: Ignored, group: "kdebug", note: "pppoed's kernel link has no debug level", apply: ignored},
	{name: "nodetach", class: Supported, group: "nodetach", note: "Detach = NoDetach",
		apply: func(p *parser, d *optDef, c *call) error { p.nodetach = true; return nil }},
	{name: "-detach", alias: "nodetach"},
	{name: "up_sdnotify", class: Supported, group: "nodetach", note: "SdNotify; implies nodetach",
		apply: func(p *parser, d *optDef, c *call) error { p.o.SdNotify, p.nodetach = true, true; return nil }},
	{name: "updetach", class: Supported, group: "nodetach", note: "Detach = UpDetach (nodetach, wherever it is, wins)",
		apply: func(p *parser, d *optDef, c *call) error { p.updetach, p.nodetach = true, false; return nil }},
	{name: "master_detach", class: Ignored, note: noteMultilink, apply: ignored},
	{name: "holdoff", args: 1, kind: argInt, class: Supported, group: "holdoff", note: "Holdoff",
		apply: setSeconds(func(o *Options) *time.Duration { return &o.Holdoff })},
	{name: "idle", args: 1, kind: argInt, class: Supported, group: "idle", note: "Idle",
		apply: setSeconds(func(o *Options) *time.Duration { return &o.Idle })},
	{name: "maxconnect", args: 1, kind: argInt, class: Supported, group: "maxconnect", flags: fLLimit, note: "MaxConnect",
		apply: func(p *parser, d *optDef, c *call) error {
			v, err := p.noIncrease(d, c, p.maxConnect)
			if err == nil {
				p.maxConnect = v
				p.o.MaxConnect = time.Duration(v) * time.Second
			}
			return err
		}},
	{name: "domain", args: 1, class: Supported, group: "domain", flags: fPriv, note: "appended to the host name that Name defaults to",
		apply: func(p *parser, d *optDef, c *call) error { p.domain = c.arg; return nil }},
	{name: "file", args: 1, class: Supported, note: "its options are read where it appears, as the real user, with the privilege of the source naming it",
		apply: func(p *parser, d *optDef, c *call) error {
			return p.readOptionsFile(c.arg, true, true, c.s.priv, c.s.prio, c.s, c.name)
		}},
	{name: "call", args: 1, class: Supported, note: "/etc/ppp/peers/NAME is read where it appears, as the real user, privileged; CallFile",
		apply: (*parser).callFile},
	{name: "persist", class: Supported, group: "persist", note: "Persist",
		apply: setBool(func(o *Options) *bool { return &o.Persist }, true)},
	{name: "nopersist", class: Supported, group: "persist", note: "Persist = false",
		apply: setBool(func(o *Options) *bool { return &o.Persist }, false)},
	{name: "demand", class: Supported, note: "Demand, and Persist (pppd sets both, whatever persist's priority)",
		apply: func(p *parser, d *optDef, c *call) error { p.o.Demand, p.o.Persist = true, true; return nil }},
	{name: "--version", class: Supported, note: "ShowVersion: reading stops there",
		apply: func(p *parser, d *optDef, c *call) error { p.o.ShowVersion, p.stop = true, true; return nil }},
	{name: "--help", class: Supported, note: "ShowHelp: reading stops there",
		apply: func(p *parser, d *optDef, c *call) error { p.o.ShowHelp, p.stop = true, true; return nil }},
	{name: "-h", alias: "--help"},
	{name: "logfile", args: 1, class: Supported, group: "logfile", note: "Logfile (LogfileAsUser when not privileged)",
		apply: func(p *parser, d *optDef, c *call) error {
			v, err := p.stringArg(c, maxPathLen)
			if err == nil {
				p.o.Logfile, p.o.LogfileAsUser, p.o.LogFD = v, !c.s.priv, -1
			}
			return err
		}},
	{name: "logfd", args: 1, kind: argInt, class: Supported, group: "logfile", note: "LogFD",
		apply: func(p *parser, d *optDef, c *call) error {
			v, err := p.intArg(d, c)
			if err == nil {
				p.o.LogFD, p.o.Logfile, p.o.LogfileAsUser = v, "", false
			}
			return err
		}},
	{name: "nolog", class: Supported, group: "logfile", note: "LogFD = -1",
		apply: func(p *parser, d *optDef, c *call) error {
			p.o.LogFD, p.o.Logfile, p.o.LogfileAsUser = -1, "", false
			return nil
		}},
	{name: "nologfd", alias: "nolog"},
	{name: "linkname", args: 1, class: Supported, group: "linkname", flags: fPriv, note: "Linkname",
		apply: setString(func(o *Options) *string { return &o.Linkname }, maxPathLen)},
	{name: "maxfail", args: 1, kind: argInt, class: Supported, group: "maxfail", note: "MaxFail",
		apply: setInt(func(o *Options) *int { return &o.MaxFail })},
	{name: "ktune", class: Ignored, group: "ktune", note: "pppoed does not change kernel settings (pppd's ktune sets ip_dynaddr)", apply: ignored},
	{name: "noktune", class: Ignored, group: "ktune", note: noteNoop, apply: ignored},
	{name: "connect-delay", args: 1, kind: argInt, class: Ignored, group: "connect-delay", note: "it times a connect script, which PPPoE has not", apply: ignored},
	{name: "unit", args: 1, kind: argInt, class: Supported, group: "unit", flags: fLLimit, note: "Unit",
		apply: setInt(func(o *Options) *int { return &o.Unit })},
	{name: "ifname", args: 1, class: Supported, group: "ifname", flags: fPriv, note: "Ifname",
		apply: setString(func(o *Options) *string { return &o.Ifname }, maxIfNameLen)},
	{name: "dump", class: Supported, note: "Dump",
		apply: setBool(func(o *Options) *bool { return &o.Dump }, true)},
	{name: "dryrun", class: Supported, note: "Dryrun",
		apply: setBool(func(o *Options) *bool { return &o.Dryrun }, true)},
	{name: "child-timeout", args: 1, kind: argInt, class: Supported, group: "child-timeout", note: "ChildTimeout",
		apply: setSeconds(func(o *Options) *time.Duration { return &o.ChildTimeout })},
	{name: "set", args: 1, class: Supported, note: "Env",
		apply: func(p *parser, d *optDef, c *call) error { return p.userEnvOption(c, true) }},
	{name: "unset", args: 1, class: Supported, note: "Unset",
		apply: func(p *parser, d *optDef, c *call) error { return p.userEnvOption(c, false) }},
	{name: "defaultroute-metric", args: 1, kind: argInt, class: Supported, flags: fPriv | fLLimit, lo: -1, note: "DefaultRouteMetric",
		apply: setInt(func(o *Options) *int { return &o.DefaultRouteMetric })},
	{name: "ip-up-script", args: 1, class: Supported, flags: fPriv, note: "IPUpScript",
		apply: setString(func(o *Options) *string { return &o.IPUpScript }, maxPathLen)},
	{name: "ip-down-script", args: 1, class: Supported, flags: fPriv, note: "IPDownScript",
		apply: setString(func(o *Options) *string { return &o.IPDownScript }, maxPathLen)},
	{name: "ip-pre-up-script", args: 1, class: Supported, flags: fPriv, origin: "pppd 2.5", note: "IPPreUpScript",
		apply: setString(func(o *Options) *string { return &o.IPPreUpScript }, maxPathLen)},
	{name: "ipv6-up-script", args: 1, class: Supported, flags: fPriv, origin: "pppd 2.5, OpenWrt", note: "IPv6UpScript",
		apply: setString(func(o *Options) *string { return &o.IPv6UpScript }, maxPathLen)},
	{name: "ipv6-down-script", args: 1, class: Supported, flags: fPriv, origin: "pppd 2.5, OpenWrt", note: "IPv6DownScript",
		apply: setString(func(o *Options) *string { return &o.IPv6DownScript }, maxPathLen)},
	{name: "multilink", class: Refused, group: "multilink", note: "pppoed does not do multilink (RFC 1990)", apply: refused("multilink")},
	{name: "mp", alias: "multilink"},
	{name: "nomultilink", class: Ignored, group: "multilink", note: noteNoop, apply: withdrawn("multilink")},
	{name: "nomp", alias: "nomultilink"},
	{name: "bundle", args: 1, class: Ignored, group: "bundle", note: noteMultilink, apply: ignored},
	{name: "plugin", args: 1, class: Supported, flags: fPriv, note: "Plugins; only rp-pppoe.so and pppoe.so, which load nothing",
		apply: (*parser).pluginOption},
	{name: "pass-filter", args: 1, class: Refused, group: "pass-filter", note: "pppoed has no packet filters (pppd's libpcap filters)", apply: refused("pass-filter")},
	{name: "active-filter", args: 1, class: Refused, group: "active-filter", note: "pppoed has no packet filters: all traffic counts as activity", apply: refused("active-filter")},
	{name: "precompiled-active-filter", args: 1, class: Refused, origin: "OpenWrt", note: "pppoed has no packet filters: all traffic counts as activity", apply: refused("active-filter")},
	{name: "precompiled-pass-filter", args: 1, class: Refused, origin: "OpenWrt", note: "pppoed has no packet filters (pppd's libpcap filters)", apply: refused("pass-filter")},
	{name: "maxoctets", args: 1, kind: argInt, class: Refused, group: "maxoctets", flags: fLLimit, note: "pppoed has no traffic limit (0, no limit, is accepted)",
		apply: func(p *parser, d *optDef, c *call) error {
			v, err := p.noIncrease(d, c, p.maxOctets)
			if err != nil {
				return err
			}
			p.maxOctets = v
			if v == 0 {
				p.withdraw("maxoctets")
				return nil
			}
			p.refuse("maxoctets", c.s, c.name, d.note)
			return nil
		}},
	{name: "mo", alias: "maxoctets"},
	{name: "mo-direction", args: 1, class: Ignored, note: "only used with maxoctets", apply: ignored},
	{name: "mo-timeout", args: 1, kind: argInt, class: Ignored, group: "mo-timeout", flags: fLLimit, note: "only used with maxoctets", apply: ignored},

	// auth.c
	{name: "auth", class: Refused, group: "auth", note: noteAuth, apply: (*parser).refuseAuth},
	{name: "noauth", class: Supported, group: "auth", flags: fPriv, note: "NoAuth",
		apply: func(p *parser, d *optDef, c *call) error {
			p.o.Auth, p.allowAnyIP = false, true
			p.withdraw("auth")
			return nil
		}},
	{name: "require-pap", class: Refused, group: "auth", note: noteAuth, apply: (*parser).refuseAuth},
	{name: "+pap", alias: "require-pap"},
	{name: "require-chap", class: Refused, group: "auth", note: noteAuth, apply: (*parser).refuseAuth},
	{name: "+chap", alias: "require-chap"},
	{name: "require-mschap", class: Refused, group: "auth", note: noteAuth, apply: (*parser).refuseAuth},
	{name: "+mschap", alias: "require-mschap"},
	{name: "require-mschap-v2", class: Refused, group: "auth", note: noteAuth, apply: (*parser).refuseAuth},
	{name: "+mschap-v2", alias: "require-mschap-v2"},
	{name: "refuse-pap", class: Supported, note: `Refuse gets "pap"`, apply: refuseMethod("pap")},
	{name: "-pap", alias: "refuse-pap"},
	{name: "refuse-chap", class: Supported, note: `Refuse gets "chap"`, apply: refuseMethod("chap")},
	{name: "-chap", alias: "refuse-chap"},
	{name: "refuse-mschap", class: Supported, note: `Refuse gets "mschap"`, apply: refuseMethod("mschap")},
	{name: "-mschap", alias: "refuse-mschap"},
	{name: "refuse-mschap-v2", class: Supported, note: `Refuse gets "mschap-v2"`, apply: refuseMethod("mschap-v2")},
	{name: "-mschap-v2", alias: "refuse-mschap-v2"},
	{name: "require-eap", class: Refused, group: "auth", note: noteAuth, apply: (*parser).refuseAuth},
	{name: "refuse-eap", class: Supported, note: `Refuse gets "eap"`, apply: refuseMethod("eap")},
	{name: "name", args: 1, class: Supported, group: "name", flags: fPriv, note: "Name",
		apply: setString(func(o *Options) *string { return &o.Name }, maxNameLen)},
	{name: "+ua", args: 1, class: Supported, group: "+ua", note: "User from the file's first line, read as the real user (pppd 2.4.9 never takes the password from its second line)",
		apply: (*parser).uaFile},
	{name: "user", args: 1, class: Supported, group: "user", note: "User",
		apply: func(p *parser, d *optDef, c *call) error {
			v, err := p.stringArg(c, maxNameLen)
			if err == nil {
				p.o.User, p.explicitUser = v, true
			}
			return err
		}},
	{name: "password", args: 1, class: Supported, group: "password", note: "Password (never printed)",
		apply: func(p *parser, d *optDef, c *call) error {
			v, err := p.stringArg(c, maxSecretLen)
			if err == nil {
				p.o.Password = v
				p.lastPasswordWord = true
			}
			return err
		}},
	{name: "usehostname", class: Supported, note: "UseHostname",
		apply: setBool(func(o *Options) *bool { return &o.UseHostname }, true)},
	{name: "remotename", args: 1, class: Supported, group: "remotename", note: "RemoteName",
		apply: setString(func(o *Options) *string { return &o.RemoteName }, maxNameLen)},
	{name: "login", class: Ignored, note: noteServer, apply: ignored},
	{name: "enable-session", class: Ignored, flags: fPriv, note: noteServer, apply: ignored},
	{name: "papcrypt", class: Ignored, note: noteServer, apply: ignored},
	{name: "privgroup", args: 1, class: Supported, flags: fPriv, note: "members of the group are privileged from the next source on (Privileged)",
		apply: (*parser).privGroup},
	{name: "allow-ip", args: 1, class: Ignored, flags: fPriv, note: noteServer, apply: ignored},
	{name: "remotenumber", args: 1, class: Ignored, group: "remotenumber", note: noteServer, apply: ignored},
	{name: "allow-number", args: 1, class: Ignored, flags: fPriv, note: noteServer, apply: ignored},
	{name: "ca", args: 1, class: Refused, note: "pppoed does not do EAP-TLS", apply: refused("eap-tls")},
	{name: "capath", args: 1, class: Refused, note: "pppoed does not do EAP-TLS", apply: refused("eap-tls")},
	{name: "cert", args: 1, class: Refused, note: "pppoed does not do EAP-TLS", apply: refused("eap-tls")},
	{name: "key", args: 1, class: Refused, note: "pppoed does not do EAP-TLS", apply: refused("eap-tls")},
	{name: "crl-dir", args: 1, class: Refused, note: "pppoed does not do EAP-TLS", apply: refused("eap-tls")},
	{name: "crl", args: 1, class: Refused, note: "pppoed does not do EAP-TLS", apply: refused("eap-tls")},
	{name: "max-tls-version", args: 1, class: Refused, note: "pppoed does not do EAP-TLS", apply: refused("eap-tls")},
	{name: "need-peer-eap", class: Refused, note: "pppoed does not authenticate the access concentrator with EAP", apply: refused("need-peer-eap")},

	// upap.c, chap-new.c, chap_ms.c, eap.c
	{name: "hide-password", class: Supported, group: "hide-password", note: "HidePassword (pppoed never logs a password)",
		apply: setBool(func(o *Options) *bool { return &o.HidePassword }, true)},
	{name: "show-password", class: Ignored, group: "hide-password", note: "pppoed never shows a password in its logs",
		apply: func(p *parser, d *optDef, c *call) error { p.o.HidePassword = false; p.ignore(d, c); return nil }},
	{name: "pap-restart", args: 1, kind: argInt, class: Ignored, group: "pap-restart", note: noteAuthTimer, apply: ignored},
	{name: "pap-max-authreq", args: 1, kind: argInt, class: Ignored, group: "pap-max-authreq", note: noteAuthTimer, apply: ignored},
	{name: "pap-timeout", args: 1, kind: argInt, class: Ignored, group: "pap-timeout", note: noteServer, apply: ignored},
	{name: "chap-restart", args: 1, kind: argInt, class: Ignored, group: "chap-restart", note: noteServer, apply: ignored},
	{name: "chap-max-challenge", args: 1, kind: argInt, class: Ignored, group: "chap-max-challenge", note: noteServer, apply: ignored},
	{name: "chap-interval", args: 1, kind: argInt, class: Ignored, group: "chap-interval", note: noteServer, apply: ignored},
	{name: "chap-timeout", args: 1, kind: argInt, class: Ignored, group: "chap-timeout", note: noteAuthTimer, apply: ignored},
	{name: "chapms-strip-domain", class: Ignored, note: noteServer, apply: ignored},
	{name: "eap-restart", args: 1, kind: argInt, class: Ignored, note: noteServer, apply: ignored},
	{name: "eap-max-sreq", args: 1, kind: argInt, class: Ignored, note: noteServer, apply: ignored},
	{name: "eap-timeout", args: 1, kind: argInt, class: Ignored, note: noteServer, apply: ignored},
	{name: "eap-max-rreq", args: 1, kind: argInt, class: Ignored, note: noteAuthTimer, apply: ignored},
	{name: "eap-interval", args: 1, kind: argInt, class: Ignored, note: noteServer, apply: ignored},

	// lcp.c
	{name: "-all", class: Refused, note: "pppoed always negotiates the MRU and a magic number", apply: refused("-all")},
	{name: "noaccomp", class: Ignored, note: noteAsync, apply: ignored},
	{name: "-ac", alias: "noaccomp"},
	{name: "asyncmap", args: 1, kind: argHex, class: Ignored, note: noteAsync, apply: ignored},
	{name: "-as", alias: "asyncmap"},
	{name: "default-asyncmap", class: Ignored, note: noteAsync, apply: ignored},
	{name: "-am", alias: "default-asyncmap"},
	{name: "nomagic", class: Ignored, note: "pppoed always negotiates a magic number", apply: ignored},
	{name: "-mn", alias: "nomagic"},
	{name: "mru", args: 1, kind: argInt, class: Supported, group: "mru", note: "MRU",
		apply: setInt(func(o *Options) *int { return &o.MRU })},
	{name: "default-mru", class: Ignored, group: "mru", note: "pppoed always asks for an MRU (1492 unless mru is given); MRU is reset to that",
		apply: func(p *parser, d *optDef, c *call) error { p.o.MRU = 0; p.ignore(d, c); return nil }},
	{name: "-mru", alias: "default-mru"},
	{name: "mtu", args: 1, kind: argInt, class: Supported, flags: fLLimit | fULimit, lo: 128, hi: 16384, note: "MTU",
		apply: setInt(func(o *Options) *int { return &o.MTU })},
	{name: "nopcomp", class: Ignored, note: noteAsync, apply: ignored},
	{name: "-pc", alias: "nopcomp"},
	{name: "passive", class: Ignored, note: "pppoed does not wait for the peer after its Configure-Requests go unanswered: the attempt fails and persist redials", apply: ignored},
	{name: "-p", alias: "passive"},
	{name: "silent", class: Supported, note: "Silent",
		apply: setBool(func(o *Options) *bool { return &o.Silent }, true)},
	{name: "lcp-echo-failure", args: 1, kind: argInt, class: Supported, group: "lcp-echo-failure", note: "EchoFailure",
		apply: setInt(func(o *Options) *int { return &o.EchoFailure })},
	{name: "lcp-echo-interval", args: 1, kind: argInt, class: Supported, group: "lcp-echo-interval", note: "EchoInterval",
		apply: setSeconds(func(o *Options) *time.Duration { return &o.EchoInterval })},
	{name: "lcp-echo-adaptive", class: Supported, note: "EchoAdaptive",
		apply: setBool(func(o *Options) *bool { return &o.EchoAdaptive }, true)},
	{name: "lcp-restart", args: 1, kind: argInt, class: Supported, group: "lcp-restart", note: "LCPRestart",
		apply: setSeconds(func(o *Options) *time.Duration { return &o.LCPRestart })},
	{name: "lcp-max-terminate", args: 1, kind: argInt, class: Supported, group: "lcp-max-terminate", note: "LCPMaxTerminate",
		apply: setInt(func(o *Options) *int { return &o.LCPMaxTerminate })},
	{name: "lcp-max-configure", args: 1, kind: argInt, class: Supported, group: "lcp-max-configure", note: "LCPMaxConfigure",
		apply: setInt(func(o *Options) *int { return &o.LCPMaxConfigure })},
	{name: "lcp-max-failure", args: 1, kind: argInt, class: Supported, group: "lcp-max-failure", note: "LCPMaxFailure",
		apply: setInt(func(o *Options) *int { return &o.LCPMaxFailure })},
	{name: "receive-all", class: Ignored, note: noteAsync, apply: ignored},
	{name: "mrru", args: 1, kind: argInt, class: Ignored, group: "mrru", note: noteMultilink, apply: ignored},
	{name: "mpshortseq", class: Ignored, group: "mpshortseq", note: noteMultilink, apply: ignored},
	{name: "nompshortseq", class: Ignored, group: "mpshortseq", note: noteMultilink, apply: ignored},
	{name: "endpoint", args: 1, class: Ignored, group: "endpoint", note: noteMultilink, apply: ignored},
	{name: "noendpoint", class: Ignored, note: noteMultilink, apply: ignored},

	// ipcp.c
	{name: "noip", class: Supported, note: "NoIP",
		apply: setBool(func(o *Options) *bool { return &o.NoIP }, true)},
	{name: "-ip", alias: "noip"},
	{name: "novj", class: Ignored, note: noteCompress, apply: ignored},
	{name: "-vj", alias: "novj"},
	{name: "novjccomp", class: Ignored, note: noteCompress, apply: ignored},
	{name: "-vjccomp", alias: "novjccomp"},
	{name: "vj-max-slots", args: 1, class: Ignored, group: "vj-max-slots", note: noteCompress, apply: ignored},
	{name: "ipcp-accept-local", class: Supported, note: "IPCPAcceptLocal",
		apply: setBool(func(o *Options) *bool { return &o.IPCPAcceptLocal }, true)},
	{name: "ipcp-accept-remote", class: Supported, note: "IPCPAcceptRemote",
		apply: setBool(func(o *Options) *bool { return &o.IPCPAcceptRemote }, true)},
	{name: "ipparam", args: 1, class: Supported, group: "ipparam", note: "IPParam",
		apply: setString(func(o *Options) *string { return &o.IPParam }, 0)},
	{name: "noipdefault", class: Supported, note: "NoIPDefault",
		apply: setBool(func(o *Options) *bool { return &o.NoIPDefault }, true)},
	{name: "ms-dns", args: 1, class: Ignored, note: noteServer, apply: ignored},
	{name: "ms-wins", args: 1, class: Ignored, note: noteServer, apply: ignored},
	{name: "ipcp-restart", args: 1, kind: argInt, class: Ignored, group: "ipcp-restart", note: noteTimers, apply: ignored},
	{name: "ipcp-max-terminate", args: 1, kind: argInt, class: Ignored, group: "ipcp-max-terminate", note: noteTimers, apply: ignored},
	{name: "ipcp-max-configure", args: 1, kind: argInt, class: Ignored, group: "ipcp-max-configure", note: noteTimers, apply: ignored},
	{name: "ipcp-max-failure", args: 1, kind: argInt, class: Ignored, group: "ipcp-max-failure", note: noteTimers, apply: ignored},
	{name: "defaultroute", class: Supported, note: "DefaultRoute (refused after nodefaultroute, as pppd does)",
		enabled: func(p *parser) bool { return !p.noDefaultRoute },
		apply:   setBool(func(o *Options) *bool { return &o.DefaultRoute }, true)},
	{name: "nodefaultroute", class: Supported, note: "DefaultRoute = false, and defaultroute is refused from then on",
		apply: func(p *parser, d *optDef, c *call) error {
			p.o.DefaultRoute, p.noDefaultRoute = false, true
			return nil
		}},
	{name: "-defaultroute", alias: "nodefaultroute"},
	{name: "replacedefaultroute", class: Supported, flags: fPriv, note: "ReplaceDefaultRoute",
		apply: setBool(func(o *Options) *bool { return &o.ReplaceDefaultRoute }, true)},
	{name: "noreplacedefaultroute", class: Supported, note: "ReplaceDefaultRoute = false",
		apply: setBool(func(o *Options) *bool { return &o.ReplaceDefaultRoute }, false)},
	{name: "proxyarp", class: Refused, note: "pppoed does not add proxy ARP entries",
		enabled: func(p *parser) bool { return !p.noProxyARP }, apply: refused("proxyarp")},
	{name: "noproxyarp", class: Ignored, note: noteNoop,
		apply: func(p *parser, d *optDef, c *call) error {
			p.noProxyARP = true
			return withdrawn("proxyarp")(p, d, c)
		}},
	{name: "-proxyarp", alias: "noproxyarp"},
	{name: "usepeerdns", class: Supported, note: "UsePeerDNS",
		apply: setBool(func(o *Options) *bool { return &o.UsePeerDNS }, true)},
	{name: "netmask", args: 1, class: Ignored, group: "netmask", note: "pppoed sets no netmask on the point-to-point link", apply: ignored},
	{name: "ipcp-no-addresses", class: Refused, note: "pppoed always negotiates the IP-Address option", apply: refused("ipcp-no-addresses")},
	{name: "ipcp-no-address", class: Refused, note: "pppoed always negotiates the IP-Address option", apply: refused("ipcp-no-address")},
	{name: "noremoteip", class: Refused, note: "pppoed does not make up an address for a peer that gives none", apply: refused("noremoteip")},
	{name: "nosendip", class: Refused, note: "pppoed always sends its IP address", apply: refused("nosendip")},

	// ipv6cp.c
	{name: "ipv6", args: 1, class: Supported, note: "IPv6LocalID, IPv6RemoteID from <local>,<remote>; IPv6 as +ipv6",
		apply: (*parser).ipv6IDs},
	{name: "+ipv6", class: Supported, group: "+ipv6", note: "IPv6",
		apply: setBool(func(o *Options) *bool { return &o.IPv6 }, true)},
	{name: "noipv6", class: Supported, group: "+ipv6", note: "IPv6 = false",
		apply: setBool(func(o *Options) *bool { return &o.IPv6 }, false)},
	{name: "-ipv6", alias: "noipv6"},
	{name: "ipv6cp-accept-local", class: Supported, note: "IPv6CPAcceptLocal",
		apply: setBool(func(o *Options) *bool { return &o.IPv6CPAcceptLocal }, true)},
	{name: "ipv6cp-accept-remote", class: Supported, note: "IPv6CPAcceptRemote",
		apply: setBool(func(o *Options) *bool { return &o.IPv6CPAcceptRemote }, true)},
	{name: "defaultroute6", class: Supported, note: "DefaultRoute6 (refused after nodefaultroute6, as pppd does)",
		enabled: func(p *parser) bool { return !p.noDefaultRoute6 },
		apply:   setBool(func(o *Options) *bool { return &o.DefaultRoute6 }, true)},
	{name: "nodefaultroute6", class: Supported, note: "DefaultRoute6 = false, and defaultroute6 is refused from then on",
		apply: func(p *parser, d *optDef, c *call) error {
			p.o.DefaultRoute6, p.noDefaultRoute6 = false, true
			return nil
		}},
	{name: "-defaultroute6", alias: "nodefaultroute6"},
	{name: "ipv6cp-use-ipaddr", class: Supported, note: "IPv6CPUseIPAddr",
		apply: setBool(func(o *Options) *bool { return &o.IPv6CPUseIPAddr }, true)},
	{name: "ipv6cp-use-persistent", class: Supported, note: "IPv6CPUsePersistent",
		apply: setBool(func(o *Options) *bool { return &o.IPv6CPUsePersistent }, true)},
	{name: "ipv6cp-restart", args: 1, kind: argInt, class: Ignored, group: "ipv6cp-restart", note: noteTimers, apply: ignored},
	{name: "ipv6cp-max-terminate", args: 1, kind: argInt, class: Ignored, group: "ipv6cp-max-terminate", note: noteTimers, apply: ignored},
	{name: "ipv6cp-max-configure", args: 1, kind: argInt, class: Ignored, group: "ipv6cp-max-configure", note: noteTimers, apply: ignored},
	{name: "ipv6cp-max-failure", args: 1, kind: argInt, class: Ignored, group: "ipv6cp-max-failure", note: noteTimers, apply: ignored},

	// ccp.c (with MPPE), ecp.c, cbcp.c
	{name: "noccp", class: Ignored, note: noteCompress, apply: ignored},
	{name: "-ccp", alias: "noccp"},
	{name: "bsdcomp", args: 1, class: Ignored, group: "bsdcomp", note: noteCompress, apply: ignored},
	{name: "nobsdcomp", class: Ignored, group: "bsdcomp", note: noteCompress, apply: ignored},
	{name: "-bsdcomp", alias: "nobsdcomp"},
	{name: "deflate", args: 1, class: Ignored, group: "deflate", note: noteCompress, apply: ignored},
	{name: "nodeflate", class: Ignored, group: "deflate", note: noteCompress, apply: ignored},
	{name: "-deflate", alias: "nodeflate"},
	{name: "nodeflatedraft", class: Ignored, note: noteCompress, apply: ignored},
	{name: "predictor1", class: Ignored, group: "predictor1", note: noteCompress, apply: ignored},
	{name: "nopredictor1", class: Ignored, group: "predictor1", note: noteCompress, apply: ignored},
	{name: "-predictor1", alias: "nopredictor1"},
	{name: "require-mppe", class: Refused, group: "require-mppe", note: "pppoed does not do MPPE encryption", apply: refused("mppe")},
	{name: "+mppe", alias: "require-mppe"},
	{name: "nomppe", class: Ignored, group: "nomppe", note: noteNoop, apply: withdrawn("mppe", "mppe-40", "mppe-128")},
	{name: "-mppe", alias: "nomppe"},
	{name: "require-mppe-40", class: Refused, group: "require-mppe-40", note: "pppoed does not do MPPE encryption", apply: refused("mppe-40")},
	{name: "+mppe-40", alias: "require-mppe-40"},
	{name: "nomppe-40", class: Ignored, group: "require-mppe-40", note: noteNoop, apply: withdrawn("mppe-40")},
	{name: "-mppe-40", alias: "nomppe-40"},
	{name: "require-mppe-128", class: Refused, group: "require-mppe-128", note: "pppoed does not do MPPE encryption", apply: refused("mppe-128")},
	{name: "+mppe-128", alias: "require-mppe-128"},
	{name: "nomppe-128", class: Ignored, group: "require-mppe-128", note: noteNoop, apply: withdrawn("mppe-128")},
	{name: "-mppe-128", alias: "nomppe-128"},
	{name: "mppe-stateful", class: Ignored, group: "mppe-stateful", note: noteMPPE, apply: ignored},
	{name: "nomppe-stateful", class: Ignored, group: "nomppe-stateful", note: noteMPPE, apply: ignored},
	{name: "noecp", class: Ignored, note: "pppoed does not do ECP encryption", apply: ignored},
	{name: "-ecp", alias: "noecp"},
	{name: "callback", args: 1, class: Refused, group: "callback", note: "pppoed does not do callback (CBCP)", apply: refused("callback")},

	// ipxcp.c
	{name: "ipx", class: Refused, group: "ipx", note: "pppoed does not do IPX", apply: refused("ipx")},
	{name: "+ipx", alias: "ipx"},
	{name: "noipx", class: Ignored, group: "ipx", note: noteNoop, apply: withdrawn("ipx")},
	{name: "-ipx", alias: "noipx"},
	{name: "ipx-network", args: 1, kind: argHex, class: Ignored, group: "ipx-network", note: noteIPX, apply: ignored},
	{name: "ipxcp-accept-network", class: Ignored, note: noteIPX, apply: ignored},
	{name: "ipx-node", args: 1, class: Ignored, note: noteIPX, apply: ignored},
	{name: "ipxcp-accept-local", class: Ignored, note: noteIPX, apply: ignored},
	{name: "ipxcp-accept-remote", class: Ignored, note: noteIPX, apply: ignored},
	{name: "ipx-routing", args: 1, kind: argInt, class: Ignored, group: "ipx-routing", note: noteIPX, apply: ignored},
	{name: "ipx-router-name", args: 1, class: Ignored, group: "ipx-router-name", note: noteIPX, apply: ignored},
	{name: "ipxcp-restart", args: 1, kind: argInt, class: Ignored, group: "ipxcp-restart", note: noteIPX, apply: ignored},
	{name: "ipxcp-max-terminate", args: 1, kind: argInt, class: Ignored, group: "ipxcp-max-terminate", note: noteIPX, apply: ignored},
	{name: "ipxcp-max-configure", args: 1, kind: argInt, class: Ignored, group: "ipxcp-max-configure", note: noteIPX, apply: ignored},
	{name: "ipxcp-max-failure", args: 1, kind: argInt, class: Ignored, group: "ipxcp-max-failure", note: noteIPX, apply: ignored},

	// tty.c: the default channel's options, gone once the plugin's
	// interface is named.
	{name: "lock", class: Ignored, group: "lock", scope: scopeTTY, note: noteSerial, apply: ignored},
	{name: "nolock", class: Ignored, group: "lock", flags: fPriv, scope: scopeTTY, note: noteSerial, apply: ignored},
	{name: "init", args: 1, class: Ignored, group: "init", flags: fPrivFix, scope: scopeTTY, note: noteScript, apply: ignored},
	{name: "connect", args: 1, class: Ignored, group: "connect", flags: fPrivFix, scope: scopeTTY, note: noteScript, apply: ignored},
	{name: "disconnect", args: 1, class: Ignored, group: "disconnect", flags: fPrivFix, scope: scopeTTY, note: noteScript, apply: ignored},
	{name: "welcome", args: 1, class: Ignored, group: "welcome", flags: fPrivFix, scope: scopeTTY, note: noteScript, apply: ignored},
	{name: "pty", args: 1, class: Supported, group: "pty", flags: fPrivFix | fDevEquiv, scope: scopeTTY,
		note:  `only pty "pppoe -I IF [-S service] [-C ac]" (rp-pppoe's pppoe): Interface, ServiceName, ACName, PTY; any other command is refused`,
		apply: (*parser).ptyOption},
	{name: "notty", class: Refused, flags: fDevEquiv, scope: scopeTTY, note: "pppoed does not run PPP over its standard input and output", apply: refused("notty")},
	{name: "socket", args: 1, class: Refused, group: "socket", flags: fDevEquiv, scope: scopeTTY, note: "pppoed does not run PPP over a TCP socket", apply: refused("socket")},
	{name: "record", args: 1, class: Ignored, group: "record", scope: scopeTTY, note: "pppoed records no serial traffic (use --debug)", apply: ignored},
	{name: "crtscts", class: Ignored, group: "crtscts", scope: scopeTTY, note: noteSerial, apply: ignored},
	{name: "cdtrcts", class: Ignored, group: "crtscts", scope: scopeTTY, note: noteSerial, apply: ignored},
	{name: "nocrtscts", class: Ignored, group: "crtscts", scope: scopeTTY, note: noteSerial, apply: ignored},
	{name: "-crtscts", alias: "nocrtscts"},
	{name: "nocdtrcts", alias: "nocrtscts"},
	{name: "xonxoff", class: Ignored, group: "crtscts", scope: scopeTTY, note: noteSerial, apply: ignored},
	{name: "stop-bits", args: 1, kind: argInt, class: Ignored, group: "stop-bits", flags: fPrivFix | fLLimit | fULimit, lo: 1, hi: 2, scope: scopeTTY, note: noteSerial, apply: ignored},
	{name: "modem", class: Ignored, group: "modem", scope: scopeTTY, note: noteSerial, apply: ignored},
	{name: "local", class: Ignored, group: "modem", scope: scopeTTY, note: noteSerial, apply: ignored},
	{name: "sync", class: Ignored, scope: scopeTTY, note: noteAsync, apply: ignored},
	{name: "datarate", args: 1, kind: argInt, class: Ignored, group: "datarate", scope: scopeTTY, note: noteSerial, apply: ignored},
	{name: "escape", args: 1, class: Ignored, scope: scopeTTY, note: noteAsync, apply: ignored},

	// rp-pppoe.so (plugin.c), once loaded.
	{name: "pppoe-service", args: 1, class: Supported, scope: scopePPPoE, note: "ServiceName",
		apply: setString(func(o *Options) *string { return &o.ServiceName }, 0)},
	{name: "rp_pppoe_service", alias: "pppoe-service"},
	{name: "pppoe-ac", args: 1, class: Supported, scope: scopePPPoE, note: "ACName",
		apply: setString(func(o *Options) *string { return &o.ACName }, 0)},
	{name: "rp_pppoe_ac", alias: "pppoe-ac"},
	{name: "pppoe-sess", args: 1, class: Refused, scope: scopePPPoE, note: "pppoed does not attach to an existing session", apply: refused("pppoe-sess")},
	{name: "rp_pppoe_sess", alias: "pppoe-sess"},
	{name: "pppoe-verbose", args: 1, kind: argInt, class: Ignored, scope: scopePPPoE, note: "pppoed does not list the access concentrators while connecting (pppoed discover does)", apply: ignored},
	{name: "rp_pppoe_verbose", alias: "pppoe-verbose"},
	{name: "pppoe-mac", args: 1, class: Supported, scope: scopePPPoE, note: "ACMAC", apply: (*parser).pppoeMAC},
	{name: "rp_pppoe_mac", alias: "pppoe-mac", origin: "rp-pppoe 3's plugin"},
	{name: "pppoe-host-uniq", args: 1, class: Supported, scope: scopePPPoE, note: "HostUniq (hex)", apply: (*parser).hostUniq},
	{name: "host-uniq", alias: "pppoe-host-uniq"},
	{name: "pppoe-padi-timeout", args: 1, kind: argInt, class: Supported, scope: scopePPPoE, note: "PADITimeout",
		apply: func(p *parser, d *optDef, c *call) error {
			v, err := p.positive(d, c)
			if err == nil {
				p.o.PADITimeout = time.Duration(v) * time.Second
			}
			return err
		}},
	{name: "pppoe-padi-attempts", args: 1, kind: argInt, class: Supported, scope: scopePPPoE, note: "PADIAttempts",
		apply: func(p *parser, d *optDef, c *call) error {
			v, err := p.positive(d, c)
			if err == nil {
				p.o.PADIAttempts = v
			}
			return err
		}},
}

// wildDefs are pppd's o_wild options in the order find_option tries
// them: the plugin's (an extra option list), the tty channel's, IPCP's.
var wildDefs = []*wildDef{
	{name: "device name", shown: "nic-<interface>, <interface>", class: Supported, flags: fPrivFix | fDevEquiv, scope: scopePPPoE,
		note:  "Interface: an existing Ethernet interface, with or without nic- (the plugin's PPPoEDevnameHook)",
		match: (*parser).matchInterface, apply: (*parser).setInterface},
	{name: "device name", shown: "<serial device>", class: Refused, flags: fPrivFix | fDevEquiv, scope: scopeTTY,
		note:  "pppoed speaks PPPoE only (a character device under /dev)",
		match: (*parser).matchTTY, apply: (*parser).setTTY},
	{name: "tty speed", shown: "<speed>", class: Ignored, group: "tty speed", scope: scopeTTY,
		note:  noteSerial,
		match: func(p *parser, word string) bool { return isSpeed(word) },
		apply: func(p *parser, c *call) error {
			p.ignore(&optDef{name: "<speed>", note: noteSerial}, c)
			return nil
		}},
	{name: "IP addresses", shown: "<local>:<remote>", class: Supported,
		note:  "LocalIP, RemoteIP (IPv4 literals; pppoed does not look up host names)",
		match: func(p *parser, word string) bool { return strings.Contains(word, ":") },
		apply: (*parser).setIPAddrs},
}

// optIndex finds a named option. It is built at the first lookup, not
// at start-up: only pppd mode reads options, and `pppoed connect` need
// not pay for it (under TCG the index cost 0.8 ms of the start-up, 96
// allocations). indexOptions reaches it through buildIndex, set by init,
// because optDefs' actions look options up (call, file): a direct
// reference would make optDefs' initializer depend on itself.
func optIndex() map[string]*optDef {
	optIndexOnce.Do(func() { optIndexMap = buildIndex() })
	return optIndexMap
}

var (
	optIndexOnce sync.Once
	optIndexMap  map[string]*optDef
	buildIndex   func() map[string]*optDef
)

func init() { buildIndex = indexOptions }

// indexOptions indexes optDefs, filling aliases from their option.
func indexOptions() map[string]*optDef {
	m := make(map[string]*optDef, len(optDefs))
	for _, d := range optDefs {
		m[d.name] = d
	}
	for _, d := range optDefs {
		if d.alias == "" {
			continue
		}
		main := m[d.alias]
		if main == nil || main.alias != "" {
			panic("pppdcompat: bad alias " + d.name)
		}
		name, alias, origin := d.name, d.alias, d.origin
		*d = *main
		d.name, d.alias = name, alias
		if origin != "" {
			d.origin = origin
		}
	}
	return m
}

// isSpeed is the tty channel's setspeed test: strtol in base 0 takes
// the whole word and gives a number other than 0.
func isSpeed(word string) bool {
	v, rest, ok := strtoul(word, 0)
	return ok && rest == "" && v != 0
}

// isPlugin says whether a plugin option names the PPPoE plugin: pppd
// loads a bare name from its plugin directory, a path as it is.
func isPlugin(name string) bool {
	base := name
	if strings.Contains(name, "/") {
		base = path.Base(name)
	}
	return base == "rp-pppoe.so" || base == "pppoe.so"
}
