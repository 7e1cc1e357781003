package pppdcompat

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"path"
	"slices"
	"strings"
	"syscall"

	"github.com/pppoed/pppoed/internal/peerlog"
	"github.com/pppoed/pppoed/internal/pppword"
)

// pppd's option priorities (pppd.h OPRIO_*).
const (
	oprioDefault = 0   // a default value
	oprioCfgFile = 1   // /etc/ppp/options, ~/.ppprc
	oprioCmdline = 2   // the command line and the files it names
	oprioRoot    = 100 // added for an OPT_PRIVFIX option from a privileged source
)

// Bounds on the files one Load reads: pppd has none, and "file F" in F
// would recurse until it runs out of descriptors.
const (
	maxDepth = 16  // files within files
	maxFiles = 128 // files in all
)

const cmdline = "command line" // pppd's option_source for argv

// Error is an option error, one line in pppd's words.
type Error struct {
	// Source is the file the option came from, "" for the command line
	// (or for a check of the options as a whole).
	Source string
	Line   int    // the option's line in Source (0: none)
	Option string // the option (or word) at fault, as written; "" if none
	Msg    string // pppd's message, escaped to one line
	// Usage: pppd prints its usage message after this error (an
	// unrecognized option on the command line).
	Usage bool
	Err   error // the cause, if any (a read error)
}

func (e *Error) Error() string {
	switch {
	case e.Source == "":
		return e.Msg
	case e.Line > 0:
		return fmt.Sprintf("In file %s (line %d): %s", peerlog.Escape(e.Source), e.Line, e.Msg)
	default:
		return fmt.Sprintf("In file %s: %s", peerlog.Escape(e.Source), e.Msg)
	}
}

func (e *Error) Unwrap() error { return e.Err }

// Unsupported is a setting in effect that pppoed cannot honour.
type Unsupported struct {
	Option string // as written
	Source string // the file, "" for the command line
	Line   int
	Reason string
}

func (u Unsupported) err() *Error {
	return &Error{Source: u.Source, Line: u.Line, Option: u.Option,
		Msg: fmt.Sprintf("%s: %s", peerlog.Escape(u.Option), u.Reason)}
}

// source is where words come from: the command line or an options file.
type source struct {
	name  string // the file, or cmdline
	file  bool
	line  int  // the line of the option being processed (files)
	priv  bool // pppd's privileged_option
	prio  int  // pppd's option_priority
	depth int
}

// where is an option's place, for messages that come later.
type where struct {
	option string
	source string // "" for the command line
	line   int
}

func (s *source) at(option string) where {
	w := where{option: option, line: s.line}
	if s.file {
		w.source = s.name
	}
	return w
}

// prioState is pppd's record of a priority group's winner (the main
// option's priority and source fields).
type prioState struct {
	prio int
	where
}

type userEnv struct {
	name, value string
	set, priv   bool
}

// parser is pppd's option state while reading.
type parser struct {
	env        *Env
	o          *Options
	privileged bool // pppd's privileged: the real user is root (or privgroup)
	groups     map[string]*prioState
	warned     map[string]bool
	files      int
	stop       bool // --version, --help

	plugin      bool // a PPPoE plugin is loaded: its options exist
	pppoe       bool // the channel is the plugin's (pppd's the_channel)
	devnamFixed bool // after the command line (main.c)

	nodetach, updetach              bool
	allowAnyIP                      bool // noauth
	explicitUser                    bool
	noDefaultRoute, noDefaultRoute6 bool // defaultroute's OPT_ENABLE, cleared
	noProxyARP                      bool
	maxConnect, maxOctets           int
	domain                          string
	userEnv                         []userEnv
	unsupported                     []pending

	ttyDevice             *where // a serial device named while the channel was the tty
	pty                   *where
	ptyCmd                string
	ptyIface              string
	ptyService, ptyACName string

	// lastPasswordWord: the option just processed was password.
	lastPasswordWord bool
}

// pending is an Unsupported entry under a key, so that a later option
// can withdraw it (nomultilink after multilink).
type pending struct {
	key string
	u   Unsupported
}

func (p *parser) refuse(key string, s *source, option, reason string) {
	p.withdraw(key)
	w := s.at(option)
	p.unsupported = append(p.unsupported, pending{key, Unsupported{Option: option, Source: w.source, Line: w.line, Reason: reason}})
}

func (p *parser) withdraw(keys ...string) {
	kept := p.unsupported[:0]
	for _, e := range p.unsupported {
		drop := false
		for _, k := range keys {
			if e.key == k {
				drop = true
			}
		}
		if !drop {
			kept = append(kept, e)
		}
	}
	p.unsupported = kept
}

// errorf is an error at the option being processed from s.
func (p *parser) errorf(s *source, option, format string, args ...any) *Error {
	e := &Error{Option: option, Msg: fmt.Sprintf(format, args...)}
	if s != nil && s.file {
		e.Source, e.Line = s.name, s.line
	}
	return e
}

// warnf adds a warning about the option being processed from s.
func (p *parser) warnf(s *source, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if s != nil && s.file {
		msg = fmt.Sprintf("In file %s (line %d): %s", peerlog.Escape(s.name), s.line, msg)
	}
	p.o.Warnings = append(p.o.Warnings, msg)
}

// q escapes a word for a message: printable, one line.
func q(s string) string { return peerlog.Escape(s) }

// strerror is C's strerror(errno) for a read error: glibc's words are
// Go's with a capital.
func strerror(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		s := errno.Error()
		if s != "" {
			return strings.ToUpper(s[:1]) + s[1:]
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "No such file or directory"
	case errors.Is(err, fs.ErrPermission):
		return "Permission denied"
	}
	return q(err.Error())
}

// notFound is pppd's test for a missing optional file (ENOENT, ENOTDIR).
func notFound(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// readOptionsFile is pppd's options_from_file: it reads path (as the
// real user when asUser, pppd's check_prot) and processes its words
// with privilege priv at priority prio. A missing file is an error only
// when mustExist. from is the source naming the file (nil for the ones
// pppd reads by itself), for the error's place.
func (p *parser) readOptionsFile(path string, mustExist, asUser, priv bool, prio int, from *source, option string) error {
	depth := 0
	if from != nil {
		depth = from.depth + 1
	}
	if depth > maxDepth {
		return p.errorf(from, option, "%s: options files nested more than %d deep", q(option), maxDepth)
	}
	if p.files >= maxFiles {
		return p.errorf(from, option, "%s: more than %d options files read", q(option), maxFiles)
	}
	p.files++
	read := p.env.ReadFile
	if asUser && p.env.ReadUserFile != nil {
		read = p.env.ReadUserFile
	}
	var data []byte
	var err error
	if read == nil {
		err = fs.ErrNotExist
	} else {
		data, err = read(path)
	}
	if err != nil {
		if errors.Is(err, syscall.EISDIR) {
			// fopen succeeds on a directory; getword's getc fails.
			e := p.errorf(from, option, "Error reading %s: %s", q(path), strerror(err))
			e.Err = err
			return e
		}
		if !mustExist {
			if !notFound(err) {
				p.warnf(from, "Warning: can't open options file %s: %s", q(path), strerror(err))
			}
			return nil
		}
		e := p.errorf(from, option, "Can't open options file %s: %s", q(path), strerror(err))
		e.Err = err
		return e
	}
	s := &source{name: path, file: true, priv: priv, prio: prio, depth: depth}
	sc := pppword.NewScanner(data)
	for !p.stop {
		w, ok, err := sc.Next()
		if err != nil {
			var werr *pppword.Error
			if errors.As(err, &werr) {
				s.line = werr.Line
				return p.errorf(s, "", "%s", werr.Msg)
			}
			return p.errorf(s, "", "%s", q(err.Error()))
		}
		if !ok {
			break
		}
		s.line = w.Line
		d, wild := p.lookup(w.Text)
		if d == nil && wild == nil {
			return p.unrecognized(s, w.Text)
		}
		var arg string
		if d != nil && d.args > 0 {
			a, ok, err := sc.Next()
			var werr *pppword.Error
			if errors.As(err, &werr) {
				s.line = werr.Line
				return p.errorf(s, w.Text, "%s", werr.Msg)
			}
			if err != nil || !ok {
				return p.errorf(s, w.Text, "too few parameters for option '%s'", q(w.Text))
			}
			arg = a.Text
		}
		if err := p.process(s, d, wild, w.Text, arg); err != nil {
			return err
		}
	}
	return nil
}

// parseArgs is pppd's parse_args: the command line, privileged only if
// the real user is, at OPRIO_CMDLINE.
func (p *parser) parseArgs(args []string) error {
	s := &source{name: cmdline, priv: p.privileged, prio: oprioCmdline}
	for i := 0; i < len(args) && !p.stop; i++ {
		word := args[i]
		d, wild := p.lookup(word)
		if d == nil && wild == nil {
			e := p.unrecognized(s, word)
			e.Usage = true
			return e
		}
		var arg string
		if d != nil && d.args > 0 {
			if i+1 >= len(args) {
				return p.errorf(s, word, "too few parameters for option %s", q(word))
			}
			i++
			arg = args[i]
		}
		if err := p.process(s, d, wild, word, arg); err != nil {
			return err
		}
	}
	return nil
}

func (p *parser) unrecognized(s *source, word string) *Error {
	e := p.errorf(s, word, "unrecognized option '%s'", q(word))
	if p.plugin && strings.HasPrefix(word, "nic-") && len(word) > 4 {
		// pppd says only this; the likely cause is worth naming.
		e.Msg += fmt.Sprintf(" (no Ethernet interface %s)", q(word[4:]))
	}
	if p.lastPasswordWord {
		// The word after a password's value is most likely the rest of
		// an unquoted password with a space in it: not shown.
		e.Msg = "unrecognized option after the password's value (an unquoted password with a space?)"
		e.Option = ""
	}
	return e
}

// lookup is pppd's find_option: the named options first, then the wild
// ones in pppd's order (the plugin's interface, the tty's device and
// speed, the IP address pair). A named option of the tty channel exists
// only until the plugin's interface is chosen, one of the plugin only
// once it is loaded.
func (p *parser) lookup(word string) (*optDef, *wildDef) {
	if d := optIndex()[word]; d != nil && p.visible(d.scope) {
		return d, nil
	}
	for _, w := range wildDefs {
		if p.visible(w.scope) && w.match(p, word) {
			return nil, w
		}
	}
	return nil, nil
}

func (p *parser) visible(s scope) bool {
	switch s {
	case scopeTTY:
		return !p.pppoe
	case scopePPPoE:
		return p.plugin
	}
	return true
}

// call is one option being processed.
type call struct {
	s    *source
	name string // as written
	arg  string
}

func (c *call) at() where { return c.s.at(c.name) }

// process is pppd's process_option: priority, privilege and enable
// checks, then the option's own action.
func (p *parser) process(s *source, d *optDef, w *wildDef, word, arg string) error {
	p.lastPasswordWord = false
	flags, group, name := optFlags(0), "", word
	if d != nil {
		flags, group = d.flags, d.group
	} else {
		flags, group, name = w.flags, w.group, w.name
	}
	optopt := " option" // pppd's: none for a wild option
	if w != nil {
		optopt = ""
	}
	prio := s.prio
	if flags&fPrivFix != 0 && s.priv {
		prio += oprioRoot
	}
	var g *prioState
	if group != "" {
		g = p.groups[group]
		if g == nil {
			g = &prioState{prio: oprioDefault}
			p.groups[group] = g
		}
		if prio < g.prio {
			if prio == oprioCmdline && g.prio > oprioRoot {
				src := g.source
				if src == "" {
					src = cmdline
				}
				return p.errorf(s, word, "%s%s set in %s cannot be overridden", q(name), optopt, q(src))
			}
			return nil // a value of higher priority stands
		}
		if prio > oprioRoot && g.prio == oprioCmdline {
			p.warnf(s, "%s%s from %s overrides command line", q(name), optopt, q(s.name))
		}
	}
	if flags&fPriv != 0 && !s.priv {
		return p.errorf(s, word, "using the %s%s requires root privilege", q(name), optopt)
	}
	if d != nil && d.enabled != nil && !d.enabled(p) {
		return p.errorf(s, word, "%s%s is disabled", q(name), optopt)
	}
	if flags&fDevEquiv != 0 && p.devnamFixed {
		return p.errorf(s, word, "the %s%s may not be changed in %s", q(name), optopt, q(s.name))
	}
	c := &call{s: s, name: word, arg: arg}
	var err error
	if d != nil {
		err = d.apply(p, d, c)
	} else {
		err = w.apply(p, c)
	}
	if err != nil {
		return err
	}
	if g != nil {
		g.prio, g.where = prio, s.at(word)
	}
	return nil
}

// ignore is the action of an option pppoed accepts without effect: one
// warning per option (aliases count as their option).
func (p *parser) ignore(d *optDef, c *call) {
	key := d.name
	if d.alias != "" {
		key = d.alias
	}
	if p.warned[key] {
		return
	}
	p.warned[key] = true
	p.warnf(c.s, "%s ignored: %s", q(c.name), d.note)
}

// strtoul is C's strtoul as pppd's number_option calls it: leading
// space, a sign, base 0 (0x hex, 0 octal) or the given one, as many
// digits as there are; ok is false when there is no digit. The value
// wraps as C's does when stored in a u_int32_t (a negative number is
// its two's complement, an overflow ULONG_MAX). rest is what follows
// the number, which pppd ignores.
func strtoul(s string, base int) (v uint32, rest string, ok bool) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if (base == 0 || base == 16) && i+1 < len(s) && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X') && i+2 < len(s) && digitVal(s[i+2]) < 16 {
		i += 2
		base = 16
	} else if base == 0 {
		base = 10
		if i < len(s) && s[i] == '0' {
			base = 8
		}
	}
	var n uint64
	overflow := false
	start := i
	for ; i < len(s); i++ {
		dv := digitVal(s[i])
		if dv >= base {
			break
		}
		if n > (^uint64(0)-uint64(dv))/uint64(base) {
			overflow = true
		}
		n = n*uint64(base) + uint64(dv)
	}
	if i == start {
		return 0, s, false
	}
	if overflow {
		n = ^uint64(0)
	} else if neg {
		n = -n
	}
	return uint32(n), s[i:], true
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func digitVal(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	}
	return 99
}

// number is pppd's number_option for c's argument, in base (0 for
// int_option), with its error; trailing characters, which pppd ignores,
// get a warning.
func (p *parser) number(c *call, base int) (uint32, error) {
	v, rest, ok := strtoul(c.arg, base)
	if !ok {
		return 0, p.errorf(c.s, c.name, "invalid numeric parameter '%s' for %s option", q(c.arg), q(c.name))
	}
	if rest != "" {
		p.warnf(c.s, "%s: '%s' after the number ignored (as pppd ignores it)", q(c.name), q(rest))
	}
	return v, nil
}

// intArg is pppd's o_int argument: int_option, then the option's
// limits (OPT_LLIMIT, OPT_ULIMIT) with pppd's messages.
func (p *parser) intArg(d *optDef, c *call) (int, error) {
	u, err := p.number(c, 0)
	if err != nil {
		return 0, err
	}
	v := int(int32(u))
	lo, hi := d.flags&fLLimit != 0 && v < d.lo, d.flags&fULimit != 0 && v > d.hi
	if lo || hi {
		switch d.flags & (fLLimit | fULimit) {
		case fLLimit:
			return 0, p.errorf(c.s, c.name, "%s value must be >= %d", q(c.name), d.lo)
		case fULimit:
			return 0, p.errorf(c.s, c.name, "%s value must be <= %d", q(c.name), d.hi)
		default:
			return 0, p.errorf(c.s, c.name, "%s value must be between %d and %d", q(c.name), d.lo, d.hi)
		}
	}
	return v, nil
}

// stringArg is pppd's o_string into a buffer of size bytes (strlcpy):
// pppd would cut a longer value silently, which would change its
// meaning (a password), so it is an error here. The value is not quoted:
// it may be a secret.
func (p *parser) stringArg(c *call, size int) (string, error) {
	if size > 0 && len(c.arg) >= size {
		return "", p.errorf(c.s, c.name, "%s: value longer than %d bytes (pppd would cut it)", q(c.name), size-1)
	}
	return c.arg, nil
}

// group is a priority group's state.
func (p *parser) group(name string) *prioState {
	g := p.groups[name]
	if g == nil {
		g = &prioState{prio: oprioDefault}
		p.groups[name] = g
	}
	return g
}

// Options with their own actions.

// callFile is pppd's callfile: /etc/ppp/peers/NAME, privileged, read as
// the real user; NAME may not be empty, start with "/" or have a ".."
// component ("a/b" is fine).
func (p *parser) callFile(d *optDef, c *call) error {
	arg := c.arg
	ok := arg != "" && arg[0] != '/'
	for _, comp := range strings.Split(arg, "/") {
		if comp == ".." {
			ok = false
		}
	}
	if !ok {
		return p.errorf(c.s, c.name, "call option value may not contain .. or start with /")
	}
	p.o.CallFile = arg
	dir := strings.TrimSuffix(p.env.PeersDir, "/")
	return p.readOptionsFile(dir+"/"+arg, true, true, true, c.s.prio, c.s, c.name)
}

func (p *parser) pluginOption(d *optDef, c *call) error {
	if !isPlugin(c.arg) {
		return p.errorf(c.s, c.name, "plugin %s: pppoed loads no plugins; it understands only rp-pppoe.so and pppoe.so", q(c.arg))
	}
	p.o.Plugins = append(p.o.Plugins, c.arg)
	p.plugin = true
	return nil
}

// fgets is C's fgets(buf, n, f) over data: at most n-1 bytes, up to and
// with a newline; ok is false at the end of the data.
func fgets(data []byte, n int) (line string, rest []byte, ok bool) {
	if len(data) == 0 {
		return "", nil, false
	}
	end := min(len(data), n-1)
	if i := bytes.IndexByte(data[:end], '\n'); i >= 0 {
		end = i + 1
	}
	return string(data[:end]), data[end:], true
}

// uaFile is pppd's setupapfile (+ua): the file's first line is the user
// name, its second the password. pppd 2.4.9 asks override_value for an
// option "passwd", which does not exist, so the password is never taken:
// nor is it here, with a warning.
func (p *parser) uaFile(d *optDef, c *call) error {
	read := p.env.ReadUserFile
	if read == nil {
		read = p.env.ReadFile
	}
	var data []byte
	err := fs.ErrNotExist
	if read != nil {
		data, err = read(c.arg)
	}
	if err != nil {
		e := p.errorf(c.s, c.name, "unable to open user login data file %s", q(c.arg))
		e.Err = err
		return e
	}
	u, rest, ok := fgets(data, maxNameLen-1)
	if _, _, ok2 := fgets(rest, maxSecretLen-1); !ok || !ok2 {
		return p.errorf(c.s, c.name, "unable to read user login data file %s", q(c.arg))
	}
	u = strings.TrimSuffix(u, "\n")
	// override_value("user", ...): the user group's priority is never
	// above the current one (sources come in rising priority and user
	// is not OPT_PRIVFIX), so the file's user is taken.
	p.o.User, p.explicitUser = u, true
	g := p.group("user")
	g.prio, g.where = c.s.prio, where{option: c.name, source: c.arg}
	p.warnf(c.s, "%s: the password in %s is not used (pppd 2.4.9 never takes it): give it in pap-secrets or with password", q(c.name), q(c.arg))
	return nil
}

// privGroup is pppd's privgroup: a member of the group is privileged
// from then on (the sources that follow).
func (p *parser) privGroup(d *optDef, c *call) error {
	member, err := false, error(fs.ErrNotExist)
	if p.env.InGroup != nil {
		member, err = p.env.InGroup(c.arg)
	}
	if err != nil {
		return p.errorf(c.s, c.name, "group %s is unknown", q(c.arg))
	}
	if member {
		p.privileged = true
	}
	return nil
}

// ifaceID is an interface identifier as pppd's setifaceid takes it: an
// IPv6 address (inet_pton) with the upper 64 bits zero and the lower not.
func ifaceID(s string) ([8]byte, bool) {
	var id [8]byte
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is6() || a.Zone() != "" {
		return id, false
	}
	b := a.As16()
	copy(id[:], b[8:])
	return id, [8]byte(b[:8]) == [8]byte{} && id != [8]byte{}
}

// ipv6IDs is pppd's setifaceid ("ipv6 <local>,<remote>", either may be
// left out); it turns IPv6 on as +ipv6 would. pppd sets each part, and
// +ipv6, only at a priority at least that of its last setting: Load's
// sources come in rising priority (main.c), so the later always wins.
func (p *parser) ipv6IDs(d *optDef, c *call) error {
	arg, prio := c.arg, c.s.prio
	comma := strings.IndexByte(arg, ',')
	if comma < 0 {
		comma = len(arg)
	}
	if comma > 0 {
		id, ok := ifaceID(arg[:comma])
		if !ok {
			return p.errorf(c.s, c.name, "Illegal interface identifier (local): %s", q(arg[:comma]))
		}
		p.o.IPv6LocalID = id
	}
	if comma+1 < len(arg) {
		id, ok := ifaceID(arg[comma+1:])
		if !ok {
			return p.errorf(c.s, c.name, "Illegal interface identifier (remote): %s", q(arg[comma+1:]))
		}
		p.o.IPv6RemoteID = id
	}
	p.o.IPv6 = true
	g := p.group("+ipv6")
	g.prio, g.where = prio, c.at()
	return nil
}

// pppoe's options (rp-pppoe 3's pppoe.c getopt string) that take an
// argument.
const pppoeArgOptions = "ITDSCmpefFtHMW"

// ptyOption reads pty "pppoe -I IF ...", the link of Debian's old
// dsl-provider (rp-pppoe's pppoe in user space): pppoed does the same
// in the kernel. Any other command is refused.
func (p *parser) ptyOption(d *optDef, c *call) error {
	w := c.at()
	p.pty, p.ptyCmd = &w, c.arg
	p.ptyIface, p.ptyService, p.ptyACName = "eth0", "", "" // pppoe's default interface
	p.withdraw("pty")
	refuse := func(why string) error {
		p.refuse("pty", c.s, c.name, why+`; pppoed runs no pty command, it understands only pty "pppoe -I IF [-S service] [-C ac-name]"`)
		return nil
	}
	words, ok := shellWords(c.arg)
	if !ok {
		return refuse("a shell construct in the command")
	}
	if len(words) == 0 || path.Base(words[0]) != "pppoe" {
		return refuse("not rp-pppoe's pppoe")
	}
	args := words[1:]
	for i := 0; i < len(args); i++ {
		a := args[i]
		if len(a) < 2 || a[0] != '-' {
			return refuse(fmt.Sprintf("pppoe argument %s not understood", q(a)))
		}
		for j := 1; j < len(a); j++ {
			flag := a[j]
			var val string
			if strings.IndexByte(pppoeArgOptions, flag) >= 0 {
				switch {
				case j+1 < len(a):
					val = a[j+1:]
				case i+1 < len(args):
					i++
					val = args[i]
				default:
					return refuse(fmt.Sprintf("pppoe option -%c without its value", flag))
				}
				j = len(a)
			}
			switch flag {
			case 'I':
				p.ptyIface = val
			case 'S':
				p.ptyService = val
			case 'C':
				p.ptyACName = val
			case 'T':
				p.warnf(c.s, "pty: pppoe -T (its own idle timeout) ignored: lcp-echo-interval watches the link")
			case 'm':
				p.warnf(c.s, "pty: pppoe -m (TCP MSS clamping) is not done by pppoed: clamp with a firewall rule (TCPMSS --clamp-mss-to-pmtu)")
			case 'U', 's', 'p', 'D', 'd':
				p.warnf(c.s, "pty: pppoe -%c ignored", flag)
			default:
				return refuse(fmt.Sprintf("pppoe option -%s not understood", q(string(flag))))
			}
		}
	}
	return nil
}

// shellWords splits a command as sh would when it has no expansions:
// blanks separate words, '...' and "..." quote, a backslash escapes.
// ok is false for anything that needs a shell (variables, globs,
// redirections, pipes, several commands).
func shellWords(s string) (words []string, ok bool) {
	var b strings.Builder
	in := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t' || ch == '\n':
			if in {
				words, in = append(words, b.String()), false
				b.Reset()
			}
		case ch == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, false
			}
			b.WriteString(s[i+1 : i+1+j])
			i, in = i+1+j, true
		case ch == '"':
			j := strings.IndexByte(s[i+1:], '"')
			if j < 0 || strings.ContainsAny(s[i+1:i+1+j], "$`\\") {
				return nil, false
			}
			b.WriteString(s[i+1 : i+1+j])
			i, in = i+1+j, true
		case ch == '\\':
			if i+1 >= len(s) {
				return nil, false
			}
			i++
			if s[i] != '\n' {
				b.WriteByte(s[i])
				in = true
			}
		case strings.IndexByte("$`;|&<>()*?[]{}~#!", ch) >= 0:
			return nil, false
		default:
			b.WriteByte(ch)
			in = true
		}
	}
	if in {
		words = append(words, b.String())
	}
	return words, true
}

// pppoeMAC is pppoe-mac: the plugin's sscanf("%x:%x:%x:%x:%x:%x"),
// without its silent truncation of a field above ff.
func (p *parser) pppoeMAC(d *optDef, c *call) error {
	fields := strings.Split(c.arg, ":")
	mac := make(net.HardwareAddr, 6)
	ok := len(fields) == 6
	for i := 0; ok && i < 6; i++ {
		f := fields[i]
		ok = len(f) >= 1 && len(f) <= 2
		for j := 0; ok && j < len(f); j++ {
			ok = digitVal(f[j]) < 16
		}
		if ok {
			mac[i] = byte(digitVal(f[0]))
			if len(f) == 2 {
				mac[i] = mac[i]<<4 | byte(digitVal(f[1]))
			}
		}
	}
	if !ok {
		return p.errorf(c.s, c.name, "cannot parse pppoe-mac option value '%s'", q(c.arg))
	}
	p.o.ACMAC = mac
	return nil
}

// maxHostUniq is the most Host-Uniq a PADI can carry: a 1492-octet
// payload less the tags' headers and an empty Service-Name (RFC 2516 §4).
const maxHostUniq = 1492 - 4 - 4

// hostUniq is pppoe-host-uniq: the plugin's parseHostUniq (an even
// number of hex digits), which pppd checks only when it connects.
func (p *parser) hostUniq(d *optDef, c *call) error {
	s := c.arg
	bad := len(s) == 0 || len(s)%2 != 0 || len(s)/2 > maxHostUniq
	b := make([]byte, len(s)/2)
	for i := 0; !bad && i < len(s); i += 2 {
		hi, lo := digitVal(s[i]), digitVal(s[i+1])
		bad = hi >= 16 || lo >= 16
		b[i/2] = byte(hi<<4 | lo)
	}
	if bad {
		return p.errorf(c.s, c.name, "Illegal value for pppoe-host-uniq option (an even number of hex digits, at most %d octets)", maxHostUniq)
	}
	p.o.HostUniq = b
	return nil
}

// positive is an int option that pppd takes as it is but that only
// means something above zero (the PADI timer and count).
func (p *parser) positive(d *optDef, c *call) (int, error) {
	v, err := p.intArg(d, c)
	if err == nil && v < 1 {
		err = p.errorf(c.s, c.name, "%s value must be >= 1", q(c.name))
	}
	return v, err
}

// noIncrease is OPT_NOINCR with OPT_ZEROINF (maxconnect, maxoctets): a
// source that is not privileged may lower the limit, not raise it nor
// lift it (0).
func (p *parser) noIncrease(d *optDef, c *call, old int) (int, error) {
	v, err := p.intArg(d, c)
	if err == nil && !c.s.priv && old != 0 && (v == 0 || v > old) {
		err = p.errorf(c.s, c.name, "%s value cannot be increased", q(c.name))
	}
	return v, err
}

// userEnvOption is pppd's user_setenv and user_unsetenv: a list in the
// order of each name's first mention, where a source that is not
// privileged cannot change a privileged one's entry (silently).
func (p *parser) userEnvOption(c *call, set bool) error {
	arg, name, value := c.arg, c.arg, ""
	if set {
		eq := strings.IndexByte(arg, '=')
		if eq < 0 {
			return p.errorf(c.s, c.name, "missing = in name=value: %s", q(arg))
		}
		if eq == 0 {
			return p.errorf(c.s, c.name, "missing variable name: %s", q(arg))
		}
		name, value = arg[:eq], arg[eq+1:]
	} else {
		if strings.Contains(arg, "=") {
			return p.errorf(c.s, c.name, "unexpected = in name: %s", q(arg))
		}
		if arg == "" {
			return p.errorf(c.s, c.name, "missing variable name for unset")
		}
	}
	i := slices.IndexFunc(p.userEnv, func(e userEnv) bool { return e.name == name })
	if i >= 0 && !c.s.priv && p.userEnv[i].priv {
		return nil
	}
	if i < 0 {
		p.userEnv = append(p.userEnv, userEnv{name: name})
		i = len(p.userEnv) - 1
	}
	p.userEnv[i].value, p.userEnv[i].set, p.userEnv[i].priv = value, set, c.s.priv
	return nil
}

// ifaceName is the interface a word names for the plugin: "nic-" is
// dropped when something follows it.
func ifaceName(word string) string {
	if len(word) > 4 && strings.HasPrefix(word, "nic-") {
		return word[4:]
	}
	return word
}

func (p *parser) matchInterface(word string) bool {
	name := ifaceName(word)
	return name != "" && p.env.InterfaceExists != nil && p.env.InterfaceExists(name)
}

func (p *parser) setInterface(c *call) error {
	p.o.Interface = ifaceName(c.name)
	p.pppoe = true
	return nil
}

// ttyPath is the tty channel's setdevname path: under /dev unless
// absolute.
func ttyPath(word string) string {
	if strings.HasPrefix(word, "/") {
		return word
	}
	return "/dev/" + word
}

// matchTTY is setdevname's test: a character device, or a name stat
// fails on for a reason other than its absence.
func (p *parser) matchTTY(word string) bool {
	if word == "" || p.env.Stat == nil {
		return false
	}
	fi, err := p.env.Stat(ttyPath(word))
	if err != nil {
		return !errors.Is(err, fs.ErrNotExist)
	}
	return fi.Mode()&fs.ModeCharDevice != 0
}

func (p *parser) setTTY(c *call) error {
	dev := ttyPath(c.name)
	fi, err := p.env.Stat(dev)
	if err != nil {
		e := p.errorf(c.s, c.name, "Couldn't stat %s: %s", q(dev), strerror(err))
		e.Err = err
		return e
	}
	if fi.Mode()&fs.ModeCharDevice == 0 {
		return p.errorf(c.s, c.name, "%s is not a character device", q(dev))
	}
	w := c.s.at(dev)
	p.ttyDevice = &w
	return nil
}

// inetAddr is C's inet_addr (inet_aton): one to four parts separated by
// dots, each decimal, octal (0) or hex (0x); the last fills what is
// left. inet_addr's -1 (255.255.255.255) is an address here: it is a
// bad one either way.
func inetAddr(s string) (uint32, bool) {
	parts := strings.Split(s, ".")
	if len(parts) > 4 {
		return 0, false
	}
	var vals []uint64
	for _, part := range parts {
		base := 10
		switch {
		case len(part) > 2 && part[0] == '0' && (part[1] == 'x' || part[1] == 'X'):
			base, part = 16, part[2:]
		case len(part) > 1 && part[0] == '0':
			base, part = 8, part[1:]
		}
		if part == "" {
			return 0, false
		}
		var v uint64
		for i := 0; i < len(part); i++ {
			d := digitVal(part[i])
			if d >= base {
				return 0, false
			}
			if v = v*uint64(base) + uint64(d); v > 0xffffffff {
				return 0, false
			}
		}
		vals = append(vals, v)
	}
	last := len(vals) - 1
	var a uint64
	for i, v := range vals[:last] {
		if v > 0xff {
			return 0, false
		}
		a |= v << (24 - 8*i)
	}
	if vals[last] > uint64(0xffffffff)>>(8*last) {
		return 0, false
	}
	return uint32(a | vals[last]), true
}

// badIPAddr is pppd's bad_ip_adrs: loopback, multicast, class E.
func badIPAddr(a uint32) bool {
	return a>>24 == 127 || a&0xf0000000 == 0xe0000000 || a&0xf0000000 == 0xf0000000
}

func ipString(a uint32) string {
	return netip.AddrFrom4([4]byte{byte(a >> 24), byte(a >> 16), byte(a >> 8), byte(a)}).String()
}

// setIPAddrs is ipcp.c's setipaddr: "local:remote", either may be left
// out; 0.0.0.0 changes nothing. pppd takes each part only at a priority
// at least that of its last setting: Load's sources come in rising
// priority (main.c), so the later always wins.
func (p *parser) setIPAddrs(c *call) error {
	word := c.name
	colon := strings.IndexByte(word, ':')
	type side struct {
		text string
		addr *netip.Addr
		name string
	}
	for _, s := range []side{
		{word[:colon], &p.o.LocalIP, "local"},
		{word[colon+1:], &p.o.RemoteIP, "remote"},
	} {
		if s.text == "" {
			continue
		}
		a, ok := inetAddr(s.text)
		if !ok {
			return p.errorf(c.s, c.name, "unknown host: %s (pppoed does not look up host names in options)", q(s.text))
		}
		if badIPAddr(a) {
			return p.errorf(c.s, c.name, "bad %s IP address %s", s.name, ipString(a))
		}
		if a != 0 {
			*s.addr = netip.MustParseAddr(ipString(a))
		}
	}
	return nil
}
