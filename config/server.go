package config

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/netip"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/radius"
	"github.com/pppoed/pppoed/secrets"
	"github.com/pppoed/pppoed/server"
)

// LoadServer reads the access concentrator's file (server.DefaultConfigFile,
// /etc/pppoed/server.toml) into a server.Config, which it has validated,
// and whose Reload reads the file again (SIGHUP). Its keys are kebab-case;
// the tables are [padi-limit], [timers] and [radius], the arrays of
// tables [[interface]], [[pool]], [[profile]], [[user]], [[radius.server]]
// and [[radius.incoming.client]] (see README.md, "Access concentrator").
// The secrets files it names are read too (secrets.ParseFile, which warns
// through log, when not nil, of one others may read).
//
// Every error is one line naming the file, and the line and the key when
// it is about one ("FILE:LINE: key "user.profile": want a string, got an
// integer"; a key in an array of tables is named without its index, the
// line telling which). A file with a password or a RADIUS secret in it is
// refused when its group or others may read it. No error quotes either.
func LoadServer(path string, log *slog.Logger) (*server.Config, error) {
	data, perm, err := readFile(path)
	if err != nil {
		return nil, err
	}
	cfg, err := parseServer(path, data, perm, log)
	if err != nil {
		return nil, err
	}
	cfg.Reload = func() (*server.Config, error) { return LoadServer(path, log) }
	return cfg, nil
}

// serverSecrets are the keys whose values a syntax error must not quote.
// The decoder names a key by its whole path, even in an inline table
// ("radius.server.secret"); a line is withheld when it holds any of the
// names, "secret" included (a line of secrets-files too: the cost of
// never quoting "secret = hunter2").
var serverSecrets = []Key{
	{Name: "user.password", Secret: true}, {Name: "password", Secret: true},
	{Name: "radius.server.secret", Secret: true}, {Name: "radius.incoming.client.secret", Secret: true},
	{Name: "secret", Secret: true},
}

// parseServer is LoadServer on data read from file, of mode perm.
func parseServer(file string, data []byte, perm fs.FileMode, log *slog.Logger) (*server.Config, error) {
	var top map[string]any
	if _, err := toml.Decode(string(data), &top); err != nil {
		return nil, syntaxError(file, data, serverSecrets, err)
	}
	d := &serverDecoder{file: file, lines: keyLines(data), perm: perm}
	cfg := &server.Config{}
	d.table(top, at{}, d.topFields(cfg))
	if err := d.first(); err != nil {
		return nil, err
	}
	// The secrets files are read once the file is known good.
	for _, sf := range d.secretsFiles {
		entries, err := parseSecretsFile(sf.path, log)
		if err != nil {
			return nil, d.errorAt(sf.at, err)
		}
		cfg.Secrets = append(cfg.Secrets, entries...)
	}
	if err := cfg.Validate(); err != nil {
		return nil, &Error{File: file, Err: err}
	}
	return cfg, nil
}

// parseSecretsFile is secrets.ParseFile; the fuzz test's reads nothing.
var parseSecretsFile = secrets.ParseFile

// at is where a value is: loc finds its line in keyLines' map
// ("user[1].password"), name is the key an error names ("user.password":
// the line tells which user).
type at struct{ loc, name string }

func (a at) key(k string) at {
	if a.name == "" {
		return at{k, k}
	}
	return at{a.loc + "." + k, a.name + "." + k}
}

func (a at) elem(i int) at { return at{a.loc + "[" + strconv.Itoa(i) + "]", a.name} }

// A field is a key a table may hold: set decodes its value into the
// configuration.
type field struct {
	name     string
	required bool
	set      func(v any, a at) error
}

// serverDecoder walks the decoded file; errors are collected, and the
// first in the file is reported, so that the walk's order (Go's maps')
// does not decide which.
type serverDecoder struct {
	file         string
	lines        map[string]int
	perm         fs.FileMode
	errs         []*Error
	secretsFiles []secretsFile
}

type secretsFile struct {
	path string
	at   at
}

// line is where a's value is: its own key's line, or failing that (a key
// in an inline table) its nearest enclosing key's.
func (d *serverDecoder) line(loc string) int {
	for loc != "" {
		if l, ok := d.lines[loc]; ok {
			return l
		}
		loc = loc[:max(strings.LastIndexByte(loc, '.'), strings.LastIndexByte(loc, '['), 0)]
	}
	return 0
}

func (d *serverDecoder) errorAt(a at, err error) *Error {
	return &Error{File: d.file, Line: d.line(a.loc), Key: a.name, Err: err}
}

func (d *serverDecoder) fail(a at, err error) { d.errs = append(d.errs, d.errorAt(a, err)) }

// first is the error of the lowest line (one without a line last).
func (d *serverDecoder) first() error {
	if len(d.errs) == 0 {
		return nil
	}
	rank := func(e *Error) int {
		if e.Line == 0 {
			return math.MaxInt
		}
		return e.Line
	}
	return slices.MinFunc(d.errs, func(a, b *Error) int { return rank(a) - rank(b) })
}

var errUnknownKey = errors.New("unknown key")

// table decodes m, the table at a, with fields; a key not among them is
// an error, as is a required one missing (at the table's line).
func (d *serverDecoder) table(m map[string]any, a at, fields []field) {
	for _, k := range slices.Sorted(mapKeys(m)) {
		i := slices.IndexFunc(fields, func(f field) bool { return f.name == k })
		if i < 0 {
			d.fail(a.key(k), errUnknownKey)
			continue
		}
		if err := fields[i].set(m[k], a.key(k)); err != nil {
			d.fail(a.key(k), err)
		}
	}
	for _, f := range fields {
		if _, ok := m[f.name]; f.required && !ok {
			d.fail(at{a.loc, a.key(f.name).name}, errors.New("missing"))
		}
	}
}

func mapKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// tables decodes an array of tables ([[name]], or name = [{...}]) into
// out, each element with the fields that fill it in.
func tables[T any](d *serverDecoder, v any, a at, out *[]T, fields func(*T) []field) error {
	var elems []map[string]any
	switch v := v.(type) {
	case []map[string]any:
		elems = v
	case []any:
		for _, e := range v {
			m, ok := e.(map[string]any)
			if !ok {
				return fmt.Errorf("want an array of tables ([[%s]]), got an array holding %s", a.name, typeName(e))
			}
			elems = append(elems, m)
		}
	case map[string]any:
		return fmt.Errorf("want an array of tables: write [[%s]], not [%s]", a.name, a.name)
	default:
		return fmt.Errorf("want an array of tables ([[%s]]), got %s", a.name, typeName(v))
	}
	for i, m := range elems {
		var e T
		d.table(m, a.elem(i), fields(&e))
		*out = append(*out, e)
	}
	return nil
}

// subtable decodes a table ([name]) with fields.
func (d *serverDecoder) subtable(v any, a at, fields []field) error {
	m, ok := v.(map[string]any)
	if !ok {
		return fmt.Errorf("want a table ([%s]), got %s", a.name, typeName(v))
	}
	d.table(m, a, fields)
	return nil
}

func (d *serverDecoder) topFields(c *server.Config) []field {
	return []field{
		{name: "ac-name", set: setString(&c.ACName)},
		{name: "auth", set: func(v any, _ at) error {
			names, err := toStrings(v)
			if err != nil {
				return err
			}
			if len(names) == 0 {
				return errors.New("an empty list (leave auth out for the default, mschap2, chap, pap)")
			}
			for _, n := range names {
				m, err := ppp.ParseAuthMethod(n)
				if err != nil {
					return errors.New(strings.TrimPrefix(err.Error(), "ppp: "))
				}
				if slices.Contains(c.Auth, m) {
					return fmt.Errorf("%v is listed twice", m)
				}
				c.Auth = append(c.Auth, m)
			}
			return nil
		}},
		{name: "default-profile", set: setString(&c.DefaultProfile)},
		{name: "keepalive-timeout", set: func(v any, _ at) error {
			t, err := toDuration(v)
			if err != nil {
				return err
			}
			if t == 0 {
				t = -1 // the file's 0 is off; Config's zero is the default
			}
			c.KeepaliveTimeout = t
			return nil
		}},
		{name: "max-sessions", set: setInt(&c.MaxSessions)},
		{name: "one-session-per-host", set: setBool(&c.OneSessionPerHost)},
		{name: "max-mtu", set: setInt(&c.MaxMTU)},
		{name: "max-mru", set: setInt(&c.MaxMRU)},
		{name: "ipv6", set: setBool(&c.IPv6)},
		{name: "secrets-files", set: func(v any, a at) error {
			paths, err := toStrings(v)
			if err != nil {
				return err
			}
			for _, p := range paths {
				if p == "" {
					return errors.New("an empty path")
				}
				if !filepath.IsAbs(p) {
					p = filepath.Join(filepath.Dir(d.file), p)
				}
				d.secretsFiles = append(d.secretsFiles, secretsFile{p, a})
			}
			return nil
		}},
		{name: "control-socket", set: setString(&c.ControlSocket)},
		{name: "metrics-listen", set: setString(&c.MetricsListen)},
		{name: "padi-limit", set: func(v any, a at) error {
			return d.subtable(v, a, []field{
				{name: "rate", set: setRate(&c.PADI.GlobalRate)},
				{name: "burst", set: setCount(&c.PADI.GlobalBurst)},
				{name: "per-mac-rate", set: setRate(&c.PADI.MACRate)},
				{name: "per-mac-burst", set: setCount(&c.PADI.MACBurst)},
				{name: "max-macs", set: setCount(&c.PADI.MaxMACs)},
			})
		}},
		{name: "timers", set: func(v any, a at) error {
			return d.subtable(v, a, []field{
				{name: "restart", set: setDuration(&c.Timers.Restart)},
				{name: "max-configure", set: setCount(&c.Timers.MaxConfigure)},
				{name: "max-terminate", set: setCount(&c.Timers.MaxTerminate)},
				{name: "max-failure", set: setCount(&c.Timers.MaxFailure)},
			})
		}},
		{name: "interface", set: func(v any, a at) error {
			return tables(d, v, a, &c.Interfaces, interfaceFields)
		}},
		{name: "pool", set: func(v any, a at) error {
			return tables(d, v, a, &c.Pools, poolFields)
		}},
		{name: "profile", set: func(v any, a at) error {
			return tables(d, v, a, &c.Profiles, profileFields)
		}},
		{name: "user", set: func(v any, a at) error {
			return tables(d, v, a, &c.Users, d.userFields)
		}},
		{name: "radius", set: func(v any, a at) error {
			r := &server.RADIUS{}
			c.RADIUS = r
			return d.subtable(v, a, d.radiusFields(r))
		}},
	}
}

func interfaceFields(ifc *server.Interface) []field {
	return []field{
		{name: "name", required: true, set: setString(&ifc.Name)},
		{name: "service-names", set: func(v any, _ at) error {
			s, err := toStrings(v)
			ifc.ServiceNames = s
			return err
		}},
		{name: "default-profile", set: setString(&ifc.DefaultProfile)},
	}
}

func poolFields(p *server.PoolConfig) []field {
	return []field{
		{name: "name", required: true, set: setString(&p.Name)},
		{name: "ranges", required: true, set: func(v any, _ at) error {
			rs, err := toStrings(v)
			if err != nil {
				return err
			}
			for _, s := range rs {
				r, err := server.ParseRange(s)
				if err != nil {
					return err
				}
				p.Ranges = append(p.Ranges, r)
			}
			return nil
		}},
	}
}

func profileFields(p *server.Profile) []field {
	return []field{
		{name: "name", required: true, set: setString(&p.Name)},
		{name: "local-address", set: setAddr(&p.LocalAddress)},
		{name: "remote-address", set: setAddr(&p.RemoteAddress)},
		{name: "remote-pool", set: setString(&p.RemotePool)},
		{name: "dns", set: func(v any, _ at) error {
			ss, err := toStrings(v)
			if err != nil {
				return err
			}
			for _, s := range ss {
				a, err := parseAddr(s)
				if err != nil {
					return err
				}
				p.DNS = append(p.DNS, a)
			}
			return nil
		}},
		{name: "mtu", set: setInt(&p.MTU)},
		{name: "mru", set: setInt(&p.MRU)},
		{name: "only-one", set: setBool(&p.OnlyOne)},
	}
}

func (d *serverDecoder) userFields(u *server.User) []field {
	return []field{
		{name: "name", required: true, set: setString(&u.Name)},
		{name: "password", required: true, set: func(v any, _ at) error {
			s, err := d.secret(v, "empty: a user needs a password")
			u.Password = s
			return err
		}},
		{name: "profile", set: setString(&u.Profile)},
		{name: "remote-address", set: setAddr(&u.RemoteAddress)},
		{name: "interface-name", set: setString(&u.Ifname)},
	}
}

// secret reads the value of a password or a shared secret: a string, in
// a file only its owner may read (as pppd wants of its secrets files),
// not empty. Only its type is ever named, never its value.
func (d *serverDecoder) secret(v any, empty string) (string, error) {
	s, ok := v.(string)
	if !ok {
		return "", fmt.Errorf("want a string, got %s", typeName(v))
	}
	if d.perm&0o077 != 0 {
		return "", fmt.Errorf("the file is readable by others (mode %04o): chmod 600 it", uint32(d.perm))
	}
	if s == "" {
		return "", errors.New(empty)
	}
	return s, nil
}

// The ports a [[radius.server]] is asked on unless it says otherwise
// (RFC 2865 §3, RFC 2866 §3).
const (
	radiusAuthPort = 1812
	radiusAcctPort = 1813
)

// radiusFields are [radius]'s keys (RouterOS's /radius, /ppp aaa and
// /radius incoming). What is left to check (interim-update's least
// period) server.RADIUS checks, through Validate.
func (d *serverDecoder) radiusFields(r *server.RADIUS) []field {
	return []field{
		{name: "order", set: func(v any, _ at) error {
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("want a string, got %s", typeName(v))
			}
			o, err := server.ParseAuthOrder(s)
			if err != nil {
				return errors.New(strings.TrimPrefix(err.Error(), "server: "))
			}
			r.Order = o
			return nil
		}},
		{name: "nas-identifier", set: setString(&r.NASIdentifier)},
		// NAS-IP-Address is IPv4 (RFC 2865 §5.4).
		{name: "nas-ip-address", set: setAddr(&r.NASIPAddress)},
		// 0 is radius's default for each of these two (3 s, 30 s).
		{name: "timeout", set: setDuration(&r.Timeout)},
		{name: "dead-time", set: setDuration(&r.DeadTime)},
		{name: "retries", set: func(v any, a at) error {
			if err := setCount(&r.Retries)(v, a); err != nil {
				return err
			}
			if r.Retries == 0 {
				r.Retries = -1 // the file's 0 is none; RADIUS's zero is the default (2)
			}
			return nil
		}},
		{name: "interim-update", set: setDuration(&r.InterimInterval)},
		{name: "accounting-spool", set: setCount(&r.Spool)},
		{name: "server", required: true, set: func(v any, a at) error {
			var servers []radiusServer
			if err := tables(d, v, a, &servers, d.radiusServerFields); err != nil {
				return err
			}
			if len(servers) == 0 {
				return errors.New("an empty array: [radius] needs a [[radius.server]]")
			}
			for i, sv := range servers {
				if sv.auth == 0 && sv.acct == 0 {
					d.fail(a.elem(i), errors.New("authentication-port and accounting-port are both 0: the server would serve nothing"))
				}
				rs := server.RADIUSServer{Secret: radius.Secret(sv.secret)}
				if sv.auth != 0 {
					rs.Auth = net.JoinHostPort(sv.address, strconv.Itoa(sv.auth))
				}
				if sv.acct != 0 {
					rs.Acct = net.JoinHostPort(sv.address, strconv.Itoa(sv.acct))
				}
				r.Servers = append(r.Servers, rs)
			}
			return nil
		}},
		{name: "incoming", set: func(v any, a at) error {
			err := d.subtable(v, a, []field{
				{name: "listen", set: func(v any, _ at) error {
					s, ok := v.(string)
					if !ok {
						return fmt.Errorf("want a string, got %s", typeName(v))
					}
					// A number, not a service name; the port is "" when s
					// is not host:port.
					_, port, _ := net.SplitHostPort(s)
					if n, err := strconv.ParseUint(port, 10, 16); err != nil || n == 0 {
						return fmt.Errorf("want host:port, such as \":3799\", got %q", s)
					}
					r.DAEListen = s
					return nil
				}},
				{name: "client", set: func(v any, a at) error {
					return tables(d, v, a, &r.DAEClients, d.daeClientFields)
				}},
				{name: "require-event-timestamp", set: setBool(&r.DAERequireEventTimestamp)},
			})
			if err == nil && r.DAEListen != "" && len(r.DAEClients) == 0 {
				d.fail(at{a.loc, a.key("client").name}, errors.New("missing: requests are listened for, but no client may send them"))
			}
			return err
		}},
	}
}

// radiusServer is a [[radius.server]] as the file gives it.
type radiusServer struct {
	address    string
	secret     string
	auth, acct int // ports, 0: not asked for it
}

func (d *serverDecoder) radiusServerFields(s *radiusServer) []field {
	s.auth, s.acct = radiusAuthPort, radiusAcctPort // the defaults, before the file's keys
	return []field{
		{name: "address", required: true, set: func(v any, _ at) error {
			h, ok := v.(string)
			if !ok {
				return fmt.Errorf("want a string, got %s", typeName(v))
			}
			if err := checkHost(h); err != nil {
				return err
			}
			s.address = h
			return nil
		}},
		{name: "secret", required: true, set: func(v any, _ at) error {
			sec, err := d.secret(v, "empty: RADIUS needs a shared secret (RFC 2865 §3)")
			s.secret = sec
			return err
		}},
		{name: "authentication-port", set: setPort(&s.auth)},
		{name: "accounting-port", set: setPort(&s.acct)},
	}
}

func (d *serverDecoder) daeClientFields(c *radius.DAEClient) []field {
	return []field{
		{name: "address", required: true, set: func(v any, _ at) error {
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("want a string, got %s", typeName(v))
			}
			p, err := parseClientPrefix(s)
			c.Prefix = p
			return err
		}},
		{name: "secret", required: true, set: func(v any, _ at) error {
			sec, err := d.secret(v, "empty: RADIUS needs a shared secret (RFC 5176 §2.3)")
			c.Secret = radius.Secret(sec)
			return err
		}},
	}
}

// checkHost takes an IP address or a host name, without a port (the
// ports are keys of their own).
func checkHost(s string) error {
	if _, err := netip.ParseAddr(s); err == nil {
		return nil
	}
	if strings.ContainsAny(s, ":[]") {
		return fmt.Errorf("%q is not an IP address or a host name (give the ports as authentication-port and accounting-port)", s)
	}
	// A host name's characters (Go's resolver takes '_' too); one whose
	// last label is a number is a mistyped IPv4 address (RFC 1123 §2.1).
	labels := strings.Split(strings.TrimSuffix(s, "."), ".")
	last := labels[len(labels)-1]
	if strings.Trim(last, "0123456789") == "" || slices.Contains(labels, "") ||
		strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != "" {
		return fmt.Errorf("%q is not an IP address or a host name", s)
	}
	return nil
}

// parseClientPrefix reads who may send Disconnect- and CoA-Requests: an
// address (its /32 or /128) or a prefix. The listener matches a sender's
// address unmapped and without a zone, so neither can be written here.
func parseClientPrefix(s string) (netip.Prefix, error) {
	var p netip.Prefix
	if strings.Contains(s, "/") {
		var err error
		if p, err = netip.ParsePrefix(s); err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or prefix", s)
		}
		if m := p.Masked(); m != p {
			return netip.Prefix{}, fmt.Errorf("%q has host bits set (%s?)", s, m)
		}
	} else {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an IP address or prefix", s)
		}
		if a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q has a zone: no request matches it", s)
		}
		p = netip.PrefixFrom(a, a.BitLen())
	}
	if p.Addr().Is4In6() {
		return netip.Prefix{}, fmt.Errorf("%q is IPv4-mapped: no request matches it (write it as IPv4)", s)
	}
	return p, nil
}

func setString(p *string) func(any, at) error {
	return func(v any, _ at) error {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("want a string, got %s", typeName(v))
		}
		*p = s
		return nil
	}
}

func setBool(p *bool) func(any, at) error {
	return func(v any, _ at) error {
		b, ok := v.(bool)
		if !ok {
			return fmt.Errorf("want a boolean, got %s", typeName(v))
		}
		*p = b
		return nil
	}
}

// setInt takes any integer: Validate knows each one's bounds.
func setInt(p *int) func(any, at) error {
	return func(v any, _ at) error {
		i, ok := v.(int64)
		if !ok {
			return fmt.Errorf("want an integer, got %s", typeName(v))
		}
		if int64(int(i)) != i {
			return fmt.Errorf("%d is out of range", i)
		}
		*p = int(i)
		return nil
	}
}

// setCount takes an integer that is not negative (0: the default).
func setCount(p *int) func(any, at) error {
	set := setInt(p)
	return func(v any, a at) error {
		if err := set(v, a); err != nil {
			return err
		}
		if *p < 0 {
			return fmt.Errorf("%d is negative", *p)
		}
		return nil
	}
}

// setPort takes a UDP port, 0 included.
func setPort(p *int) func(any, at) error {
	set := setInt(p)
	return func(v any, a at) error {
		if err := set(v, a); err != nil {
			return err
		}
		if *p < 0 || *p > math.MaxUint16 {
			return fmt.Errorf("%d is not a port (0..65535)", *p)
		}
		return nil
	}
}

func setDuration(p *time.Duration) func(any, at) error {
	return func(v any, _ at) error {
		t, err := toDuration(v)
		*p = t
		return err
	}
}

// setRate takes a number of events per second, integer or not, that is
// not negative (0: the default).
func setRate(p *float64) func(any, at) error {
	return func(v any, _ at) error {
		var f float64
		switch v := v.(type) {
		case int64:
			f = float64(v)
		case float64:
			f = v
		default:
			return fmt.Errorf("want a number, got %s", typeName(v))
		}
		if f < 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("%v is not a rate", f)
		}
		*p = f
		return nil
	}
}

func setAddr(p *netip.Addr) func(any, at) error {
	return func(v any, _ at) error {
		s, ok := v.(string)
		if !ok {
			return fmt.Errorf("want a string, got %s", typeName(v))
		}
		a, err := parseAddr(s)
		*p = a
		return err
	}
}

// parseAddr reads an IPv4 address: every address of the file is IPCP's.
func parseAddr(s string) (netip.Addr, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return netip.Addr{}, fmt.Errorf("%q is not an IPv4 address", s)
	}
	return a, nil
}

// toDuration reads a duration string ("10s") that is not negative.
func toDuration(v any) (time.Duration, error) {
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("want %v, got %s", Duration, typeName(v))
	}
	t, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("want %v, got %q", Duration, s)
	}
	if t < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return t, nil
}

func toStrings(v any) ([]string, error) {
	a, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("want an array of strings, got %s", typeName(v))
	}
	out := make([]string, len(a))
	for i, e := range a {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("element %d: want a string, got %s", i+1, typeName(e))
		}
		out[i] = s
	}
	return out, nil
}

// keyLines maps every key of a TOML document the decoder took to the line
// it is on, by its path with the index of each array-of-tables element
// ("user[1].password" for the password of the second [[user]]; "user"
// alone is the first one's line); a key in an inline table is not mapped
// (its enclosing key is), a table a header implies is (its line).
//
// The decoder's MetaData records one position per dotted key, so that all
// the [[user]] tables' "name" keys share the last one's line: hence this
// scan. It only follows what decides where a key starts: table headers,
// the start of a key/value pair, and, so as to skip them, strings,
// comments and brackets of values that span lines.
func keyLines(data []byte) map[string]int {
	s := lineScanner{data: data, line: 1, lines: map[string]int{}, arrays: map[string]int{}}
	s.run()
	return s.lines
}

type lineScanner struct {
	data   []byte
	i      int
	line   int
	ctx    string         // the current table's path
	lines  map[string]int // path → line
	arrays map[string]int // an array of tables' path → its elements so far
}

func (s *lineScanner) run() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\r':
			s.i++
		case '\n':
			s.line++
			s.i++
		case '#':
			s.skipComment()
		case '[':
			s.header()
		default:
			s.keyValue()
		}
	}
}

func (s *lineScanner) mark(path string) {
	if _, ok := s.lines[path]; !ok {
		s.lines[path] = s.line
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// resolve is the path of a table header's key: each array of tables in it
// stands for its last element.
func (s *lineScanner) resolve(keys []string) string {
	path := ""
	for _, k := range keys {
		path = join(path, k)
		if n, ok := s.arrays[path]; ok {
			path += "[" + strconv.Itoa(n-1) + "]"
		}
	}
	return path
}

func (s *lineScanner) header() {
	array := strings.HasPrefix(string(s.data[s.i:min(s.i+2, len(s.data))]), "[[")
	if array {
		s.i += 2
	} else {
		s.i++
	}
	keys := s.key(']')
	for s.i < len(s.data) && s.data[s.i] == ']' {
		s.i++
	}
	if len(keys) == 0 {
		return
	}
	// The tables a header's key passes through are defined there unless
	// they were before ([radius.incoming] alone defines [radius]: TOML
	// v1.0.0, "Table").
	for i := 1; i < len(keys); i++ {
		s.mark(s.resolve(keys[:i]))
	}
	if array {
		base := join(s.resolve(keys[:len(keys)-1]), keys[len(keys)-1])
		s.mark(base) // the array's line is its first element's
		n := s.arrays[base]
		s.arrays[base] = n + 1
		s.ctx = base + "[" + strconv.Itoa(n) + "]"
	} else {
		s.ctx = s.resolve(keys)
	}
	s.mark(s.ctx)
}

func (s *lineScanner) keyValue() {
	keys := s.key('=')
	path := s.ctx
	for _, k := range keys {
		path = join(path, k)
		s.mark(path)
	}
	if s.i < len(s.data) && s.data[s.i] == '=' {
		s.i++
	}
	s.value()
}

// key reads a dotted key up to stop (not consumed), its parts unquoted.
func (s *lineScanner) key(stop byte) []string {
	var keys []string
	var cur strings.Builder
	for s.i < len(s.data) {
		switch c := s.data[s.i]; c {
		case stop, '\n':
			return append(keys, cur.String())
		case '"', '\'':
			start := s.i
			s.str(c)
			q := string(s.data[start:s.i])
			if c == '"' {
				if u, err := strconv.Unquote(q); err == nil {
					q = u
				}
			} else {
				q = strings.Trim(q, "'")
			}
			cur.WriteString(q)
		case '.':
			keys = append(keys, cur.String())
			cur.Reset()
			s.i++
		case ' ', '\t':
			s.i++
		default:
			cur.WriteByte(c)
			s.i++
		}
	}
	return append(keys, cur.String())
}

// value skips a value, up to the newline that ends it.
func (s *lineScanner) value() {
	depth := 0
	for s.i < len(s.data) {
		switch c := s.data[s.i]; c {
		case '\n':
			if depth == 0 {
				return
			}
			s.line++
			s.i++
		case '#':
			s.skipComment()
		case '"', '\'':
			if strings.HasPrefix(string(s.data[s.i:min(s.i+3, len(s.data))]), strings.Repeat(string(c), 3)) {
				s.multiline(c)
			} else {
				s.str(c)
			}
		case '[', '{':
			depth++
			s.i++
		case ']', '}':
			depth = max(depth-1, 0)
			s.i++
		default:
			s.i++
		}
	}
}

func (s *lineScanner) skipComment() {
	for s.i < len(s.data) && s.data[s.i] != '\n' {
		s.i++
	}
}

// str skips a one-line string quoted with q (" has escapes, ' none).
func (s *lineScanner) str(q byte) {
	s.i++
	for s.i < len(s.data) {
		switch c := s.data[s.i]; {
		case c == '\\' && q == '"':
			s.i += 2
		case c == q:
			s.i++
			return
		case c == '\n':
			return
		default:
			s.i++
		}
	}
	s.i = min(s.i, len(s.data))
}

// multiline skips a multi-line string quoted with three of q, counting
// its lines; up to two more quotes at its end are its own (TOML v1.0.0).
func (s *lineScanner) multiline(q byte) {
	s.i += 3
	end := strings.Repeat(string(q), 3)
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '\\' && q == '"':
			s.i++
			if s.i < len(s.data) && s.data[s.i] == '\n' {
				s.line++
			}
			s.i++
		case strings.HasPrefix(string(s.data[s.i:min(s.i+3, len(s.data))]), end):
			s.i += 3
			for n := 0; n < 2 && s.i < len(s.data) && s.data[s.i] == q; n++ {
				s.i++
			}
			return
		default:
			if c == '\n' {
				s.line++
			}
			s.i++
		}
	}
}
