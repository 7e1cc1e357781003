package lab

// A RADIUS server for the lab: Debian's FreeRADIUS 3 (`make deps` installs
// it, its packaged service neither started nor enabled), run in a test's
// namespace with a configuration generated under the test's directory, and
// radclient to speak to it or to pppoed's dynamic authorization listener.
//
// Pitfalls of FreeRADIUS 3.2.1 (Debian 12) that the generated configuration
// works around, each seen in a run:
//   - it signs no reply: an Access-Accept, Access-Reject or Status-Server
//     answer carries no Message-Authenticator even when the request had one
//     (the BlastRADIUS fix, 3.2.5, added it). pppoed must drop such replies
//     (RFC 3579 §3.2 and issue 12), so the configuration adds one to every
//     reply unless FreeRADIUSConfig.UnsignedReplies asks for the stock
//     behaviour;
//   - the `files` module puts a user's reply items in the reply before the
//     password is checked, so an Access-Reject carried Framed-IP-Address and
//     the rest: the reject section empties the reply but for mschap's
//     MS-CHAP-Error, as Debian's default attr_filter.access_reject does;
//   - a reject is delayed one second (security.reject_delay) by default:
//     0 here, so that a wrong password costs a test nothing;
//   - an Access-Request without Message-Authenticator, or signed with the
//     wrong secret, is dropped without a reply (logged only for the wrong
//     secret), as is one from an address that is no client;
//   - radclient with -r 0 refuses to run: -r 1 is one try;
//   - radclient -x prints the request it sent with the cleartext password
//     (and Cleartext-Password for CHAP): Radclient never returns or logs
//     that half of its output.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// RadiusAttr is one RADIUS attribute by its FreeRADIUS dictionary name, with
// its value as FreeRADIUS writes it: strings and octets ("0x0102") without
// quotes, enumerations by name ("Start"), integers and addresses in decimal.
type RadiusAttr struct {
	Name  string
	Value string
}

// RadiusUser is an entry of the users file: a user with a cleartext
// password (good for PAP, CHAP and MS-CHAP) and the attributes of its
// Access-Accept, in order.
type RadiusUser struct {
	Name     string
	Password string
	// Check are more check items, each set with := after the password
	// (Auth-Type = Accept takes any password: an Access-Accept for a
	// client that must still refuse it).
	Check []RadiusAttr
	Reply []RadiusAttr
}

// RadiusClient is a NAS allowed to send requests.
type RadiusClient struct {
	Addr   netip.Prefix // the NAS's address (a /32) or a network
	Secret string
	// AllowUnsigned accepts Access-Requests without Message-Authenticator,
	// FreeRADIUS's own default; the lab requires it otherwise.
	AllowUnsigned bool
}

// FreeRADIUSConfig describes a FreeRADIUS instance.
type FreeRADIUSConfig struct {
	Addr     netip.Addr // listening address; default 127.0.0.1
	AuthPort uint16     // default 1812
	AcctPort uint16     // default 1813
	Clients  []RadiusClient
	Users    []RadiusUser
	// UnsignedReplies leaves replies as FreeRADIUS 3.2.1 sends them, without
	// Message-Authenticator: what pppoed must refuse.
	UnsignedReplies bool
	// ReadyTimeout bounds each start; default 30 s (a cold start under TCG
	// loads a hundred dictionaries).
	ReadyTimeout time.Duration
}

// FreeRADIUS is a running (or stopped) FreeRADIUS in a namespace.
type FreeRADIUS struct {
	Auth, Acct netip.AddrPort
	// Dir holds the generated raddb, the log and the detail file.
	Dir        string
	LogPath    string // FreeRADIUS's own log (-l), every run appended
	DetailPath string // accounting records, every run appended
	// StartTime is how long the last Start took until FreeRADIUS said it
	// was ready to process requests.
	StartTime time.Duration

	s       Scope
	ns      *Netns
	timeout time.Duration

	mu   sync.Mutex
	proc *Process
}

const (
	radiusReady = "Ready to process requests"
	// How a detail record's and radclient's attribute lines start.
	attrIndent = "\t"
)

// StartFreeRADIUS writes a raddb for cfg under the scope's directory and
// starts FreeRADIUS in ns, returning once it is ready to process requests.
// It is stopped when the scope ends.
func StartFreeRADIUS(s Scope, ns *Netns, cfg FreeRADIUSConfig) (*FreeRADIUS, error) {
	s.Helper()
	if !cfg.Addr.IsValid() {
		cfg.Addr = netip.MustParseAddr("127.0.0.1")
	}
	if cfg.AuthPort == 0 {
		cfg.AuthPort = 1812
	}
	if cfg.AcctPort == 0 {
		cfg.AcctPort = 1813
	}
	if cfg.ReadyTimeout == 0 {
		cfg.ReadyTimeout = 30 * time.Second
	}
	dir := filepath.Join(s.TempDir(), uniqueName("raddb"))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, fmt.Errorf("lab: freeradius: %w", err)
	}
	r := &FreeRADIUS{
		Auth:       netip.AddrPortFrom(cfg.Addr, cfg.AuthPort),
		Acct:       netip.AddrPortFrom(cfg.Addr, cfg.AcctPort),
		Dir:        dir,
		LogPath:    filepath.Join(dir, "radius.log"),
		DetailPath: filepath.Join(dir, "detail"),
		s:          s,
		ns:         ns,
		timeout:    cfg.ReadyTimeout,
	}
	files, err := cfg.render(dir)
	if err != nil {
		return nil, err
	}
	// The main dictionary without the vendors' (-D): a cold start in the
	// VM reads a third of the files.
	dict, err := radclientDictionary()
	if err != nil {
		return nil, fmt.Errorf("lab: freeradius: %w", err)
	}
	if err := os.Mkdir(filepath.Join(dir, "main"), 0o700); err != nil {
		return nil, fmt.Errorf("lab: freeradius: %w", err)
	}
	files = append(files, raddbFile{filepath.Join("main", "dictionary"), string(dict)})
	for _, f := range files {
		// FreeRADIUS refuses a configuration others can write; the secrets
		// and passwords are nobody else's business either.
		if err := os.WriteFile(filepath.Join(dir, f.name), []byte(f.text), 0o600); err != nil {
			return nil, fmt.Errorf("lab: freeradius: %w", err)
		}
	}
	if err := r.Start(); err != nil {
		return nil, err
	}
	return r, nil
}

// Start starts FreeRADIUS (again, after Stop) with the same configuration,
// log and detail file, and waits until it is ready.
func (r *FreeRADIUS) Start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc != nil && !r.proc.Exited() {
		return errors.New("lab: freeradius: already running")
	}
	var off int64
	if st, err := os.Stat(r.LogPath); err == nil {
		off = st.Size()
	}
	start := time.Now()
	// -f: stay in the foreground (the Process owns it); -l: log to a file,
	// not syslog; -D: the trimmed main dictionary; -n radiusd: read
	// radiusd.conf (the default, said). No -x: debug output would print
	// every request's User-Password.
	p, err := r.ns.Start(r.s, "freeradius", "freeradius", "-f", "-l", r.LogPath, "-d", r.Dir, "-D", filepath.Join(r.Dir, "main"), "-n", "radiusd")
	if err != nil {
		return err
	}
	r.proc = p
	ctx, cancel := context.WithTimeout(context.Background(), r.timeout)
	defer cancel()
	err = Poll(ctx, 10*time.Millisecond, func() (bool, error) {
		if b, _ := readFrom(r.LogPath, off); strings.Contains(string(b), radiusReady) {
			return true, nil
		}
		if p.Exited() {
			return false, fmt.Errorf("exited (%v)", p.err)
		}
		return false, nil
	})
	if err != nil {
		_ = p.Kill()
		b, _ := readFrom(r.LogPath, off)
		return fmt.Errorf("lab: freeradius in %s not ready: %w\n%s\n%s", r.ns.Name, err, tail(string(b), 30), tail(p.Log(), 10))
	}
	r.StartTime = time.Since(start)
	return nil
}

// Stop ends FreeRADIUS (SIGTERM, then SIGKILL after a second). Start brings
// it back.
func (r *FreeRADIUS) Stop() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.proc == nil {
		return nil
	}
	return r.proc.Stop(time.Second)
}

// Running reports whether FreeRADIUS is running.
func (r *FreeRADIUS) Running() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.proc != nil && !r.proc.Exited()
}

// Log returns FreeRADIUS's log of every run so far (what it wrote before
// its log was set up is in the Process's own log, shown by a failed Start).
func (r *FreeRADIUS) Log() string {
	b, _ := os.ReadFile(r.LogPath)
	return string(b)
}

// Detail returns the accounting records written so far, in order. A record
// still being written (no blank line after it yet) is left out.
func (r *FreeRADIUS) Detail() ([]AcctRecord, error) {
	b, err := os.ReadFile(r.DetailPath)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("lab: freeradius detail: %w", err)
	}
	return ParseDetail(b)
}

// WaitDetail polls the detail file until ok accepts its records; what names
// the wait in the error, which lists the records seen.
func (r *FreeRADIUS) WaitDetail(ctx context.Context, what string, ok func([]AcctRecord) bool) ([]AcctRecord, error) {
	var recs []AcctRecord
	err := Poll(ctx, 20*time.Millisecond, func() (bool, error) {
		var err error
		recs, err = r.Detail()
		return err == nil && ok(recs), err
	})
	if err != nil {
		return recs, fmt.Errorf("lab: freeradius detail: waiting for %s: %w; records:\n%s", what, err, formatRecords(recs))
	}
	return recs, nil
}

// AcctRecord is one record of FreeRADIUS's detail file: the time it was
// written (the header line, as FreeRADIUS prints it) and the attributes of
// the Accounting-Request in order, followed by those FreeRADIUS adds
// (Timestamp).
type AcctRecord struct {
	Time  string
	Attrs []RadiusAttr
}

// Get returns the first value of the attribute name.
func (a AcctRecord) Get(name string) (string, bool) { return getAttr(a.Attrs, name) }

func getAttr(attrs []RadiusAttr, name string) (string, bool) {
	for _, at := range attrs {
		if at.Name == name {
			return at.Value, true
		}
	}
	return "", false
}

func formatRecords(recs []AcctRecord) string {
	var b strings.Builder
	for i, r := range recs {
		fmt.Fprintf(&b, "  #%d %s:", i, r.Time)
		for _, a := range r.Attrs {
			fmt.Fprintf(&b, " %s=%q", a.Name, a.Value)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

// ParseDetail parses FreeRADIUS's detail file format: records separated by
// an empty line, each a header line (the time) and one "\tName = Value"
// line per attribute, strings in double quotes with C-like escapes. A
// trailing record with no empty line after it is still being written and is
// left out.
func ParseDetail(b []byte) ([]AcctRecord, error) {
	var recs []AcctRecord
	var cur *AcctRecord
	for n, line := range strings.SplitAfter(string(b), "\n") {
		if !strings.HasSuffix(line, "\n") {
			break // a line still being written
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case line == "":
			if cur != nil {
				recs = append(recs, *cur)
				cur = nil
			}
		case !strings.HasPrefix(line, attrIndent):
			if cur != nil {
				return nil, fmt.Errorf("lab: detail line %d: a header inside a record", n+1)
			}
			cur = &AcctRecord{Time: line}
		default:
			if cur == nil {
				return nil, fmt.Errorf("lab: detail line %d: an attribute outside a record", n+1)
			}
			a, err := parseAttrLine(line)
			if err != nil {
				return nil, fmt.Errorf("lab: detail line %d: %w", n+1, err)
			}
			cur.Attrs = append(cur.Attrs, a)
		}
	}
	return recs, nil
}

// parseAttrLine parses "\tName = Value", the form of both detail records and
// radclient -x's output.
func parseAttrLine(line string) (RadiusAttr, error) {
	name, value, ok := strings.Cut(strings.TrimPrefix(line, attrIndent), " = ")
	if !ok || name == "" || strings.ContainsAny(name, " \t\"") {
		return RadiusAttr{}, fmt.Errorf("not an attribute: %q", line)
	}
	if strings.HasPrefix(value, `"`) {
		v, err := unquoteFR(value)
		if err != nil {
			return RadiusAttr{}, fmt.Errorf("%s: %w", name, err)
		}
		value = v
	}
	return RadiusAttr{Name: name, Value: value}, nil
}

// unquoteFR undoes FreeRADIUS's quoting of a string value (fr_snprint):
// \\, \", \n, \r, \t and three octal digits for other bytes.
func unquoteFR(q string) (string, error) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", fmt.Errorf("unterminated string %q", q)
	}
	q = q[1 : len(q)-1]
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c == '"' {
			return "", errors.New("unescaped quote in a string")
		}
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		if i+1 >= len(q) {
			return "", errors.New("a string ends in a backslash")
		}
		i++
		switch q[i] {
		case '\\', '"':
			b.WriteByte(q[i])
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		default:
			if i+3 > len(q) {
				return "", fmt.Errorf("bad escape \\%s", q[i:])
			}
			v, err := strconv.ParseUint(q[i:i+3], 8, 8)
			if err != nil {
				return "", fmt.Errorf("bad escape \\%s", q[i:i+3])
			}
			b.WriteByte(byte(v))
			i += 2
		}
	}
	return b.String(), nil
}

type raddbFile struct{ name, text string }

// render returns the raddb's files. Everything is generated: nothing of
// /etc/freeradius is read (the dictionaries come from /usr/share/freeradius,
// the daemon's compiled-in default), so the VM's read-only /etc is no
// concern and the host's configuration cannot change a test.
func (c FreeRADIUSConfig) render(dir string) ([]raddbFile, error) {
	if len(c.Clients) == 0 {
		return nil, errors.New("lab: freeradius: no clients")
	}
	if err := confWord(dir); err != nil {
		return nil, fmt.Errorf("lab: freeradius: directory %q: %w", dir, err)
	}
	var clients strings.Builder
	for i, cl := range c.Clients {
		if !cl.Addr.IsValid() {
			return nil, fmt.Errorf("lab: freeradius: client %d: no address", i)
		}
		if err := confString(cl.Secret); err != nil || cl.Secret == "" {
			return nil, fmt.Errorf("lab: freeradius: client %d's secret: empty or %v", i, err)
		}
		key := "ipaddr"
		if cl.Addr.Addr().Is6() {
			key = "ipv6addr"
		}
		fmt.Fprintf(&clients, "client nas%d {\n\t%s = %s\n\tsecret = '%s'\n\trequire_message_authenticator = %s\n\tnas_type = other\n}\n",
			i, key, cl.Addr.Masked(), cl.Secret, yesNo(!cl.AllowUnsigned))
	}
	var users strings.Builder
	for i, u := range c.Users {
		if err := confWord(u.Name); err != nil || u.Name == "" {
			return nil, fmt.Errorf("lab: freeradius: user %d's name: empty or %v", i, err)
		}
		if err := confString(u.Password); err != nil {
			return nil, fmt.Errorf("lab: freeradius: user %s's password: %v", u.Name, err)
		}
		// Single quotes: the value is literal, no %{...} expansion.
		fmt.Fprintf(&users, "%s\tCleartext-Password := '%s'", u.Name, u.Password)
		for j, a := range u.Check {
			if err := confWord(a.Name); err != nil || a.Name == "" {
				return nil, fmt.Errorf("lab: freeradius: user %s's check item %d: empty or %v", u.Name, j, err)
			}
			if err := confString(a.Value); err != nil {
				return nil, fmt.Errorf("lab: freeradius: user %s's %s: %v", u.Name, a.Name, err)
			}
			fmt.Fprintf(&users, ", %s := '%s'", a.Name, a.Value)
		}
		users.WriteByte('\n')
		for j, a := range u.Reply {
			if err := confWord(a.Name); err != nil || a.Name == "" {
				return nil, fmt.Errorf("lab: freeradius: user %s's reply attribute %d: empty or %v", u.Name, j, err)
			}
			if err := confString(a.Value); err != nil {
				return nil, fmt.Errorf("lab: freeradius: user %s's %s: %v", u.Name, a.Name, err)
			}
			sep := ","
			if j == len(u.Reply)-1 {
				sep = ""
			}
			fmt.Fprintf(&users, "\t%s = '%s'%s\n", a.Name, a.Value, sep)
		}
		users.WriteByte('\n')
	}
	addrKey := "ipaddr"
	if c.Addr.Is6() {
		addrKey = "ipv6addr"
	}
	sign := `
		update reply {
			Message-Authenticator := 0x00
		}`
	if c.UnsignedReplies {
		sign = ""
	}
	conf := fmt.Sprintf(radiusdConf, dir, clients.String(), addrKey, c.Addr, c.AuthPort, c.AcctPort, sign)
	return []raddbFile{
		{"radiusd.conf", conf},
		{"users", users.String()},
		// radiusd reads a local dictionary from its directory: none here.
		{"dictionary", ""},
	}, nil
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// confString refuses what could end or escape a single-quoted string of
// FreeRADIUS's configuration and users files (or radclient's input).
func confString(s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '\'' || c == '"' || c == '\\' || c < 0x20 || c == 0x7f {
			return fmt.Errorf("byte %d (%#x) is not allowed", i, c)
		}
	}
	return nil
}

// confWord is confString without spaces, for bare words (names, paths).
func confWord(s string) error {
	if strings.ContainsAny(s, " #{}$,=") {
		return errors.New("holds a space or one of #{}$,=")
	}
	return confString(s)
}

// radiusdConf is the whole configuration: one virtual server with PAP, CHAP
// and MS-CHAP (v1 and v2, with MPPE keys) against the users file, and
// accounting into the detail file. Arguments: the directory, the clients,
// the listening address's key and value, the ports, the reply's signing.
const radiusdConf = `# Generated by pppoed's integration lab (integration/lab/radius.go).
prefix = /usr
exec_prefix = /usr
sysconfdir = %[1]s
localstatedir = %[1]s
sbindir = /usr/sbin
logdir = %[1]s
raddbdir = %[1]s
radacctdir = %[1]s
name = radiusd
confdir = %[1]s
modconfdir = %[1]s
certdir = %[1]s
cadir = %[1]s
run_dir = %[1]s
db_dir = %[1]s
libdir = /usr/lib/freeradius
pidfile = %[1]s/radiusd.pid
max_request_time = 30
cleanup_delay = 5
max_requests = 1024
hostname_lookups = no
log {
	destination = files
	file = %[1]s/radius.log
	colourise = no
	# Login OK / incorrect lines, never the password.
	auth = yes
	auth_badpass = no
	auth_goodpass = no
}
security {
	# No user/group: it stays root, as the lab does; the files are 0600.
	allow_core_dumps = no
	max_attributes = 200
	reject_delay = 0
	status_server = yes
}
proxy_requests = no
thread pool {
	start_servers = 2
	max_servers = 4
	min_spare_servers = 1
	max_spare_servers = 2
	max_requests_per_server = 0
}
%[2]s
modules {
	always ok {
		rcode = ok
	}
	pap {
	}
	chap {
	}
	mschap {
		use_mppe = yes
		require_encryption = no
		require_strong = no
	}
	files {
		filename = %[1]s/users
	}
	detail {
		filename = %[1]s/detail
		header = "%%t"
		permissions = 0600
		locking = no
	}
}
server default {
	listen {
		type = auth
		%[3]s = %[4]s
		port = %[5]d
	}
	listen {
		type = acct
		%[3]s = %[4]s
		port = %[6]d
	}
	authorize {
		Autz-Type Status-Server {%[7]s
			ok
		}
		chap
		mschap
		files
		pap
	}
	authenticate {
		Auth-Type PAP {
			pap
		}
		Auth-Type CHAP {
			chap
		}
		Auth-Type MS-CHAP {
			mschap
		}
	}
	preacct {
	}
	accounting {
		detail
	}
	post-auth {%[7]s
		Post-Auth-Type REJECT {
			# files put the user's reply items in before the password
			# was checked: a reject carries none of them, only what
			# mschap put there, MS-CHAP-Error (RFC 2548 §2.1.5), as
			# Debian's attr_filter.access_reject keeps it. (An absent
			# attribute on the right makes its update a no-op.)
			update control {
				&Tmp-String-0 := &reply:MS-CHAP-Error
			}
			update {
				&reply: !* ANY
			}
			update reply {
				&MS-CHAP-Error := &control:Tmp-String-0
			}%[7]s
		}
	}
}
`

// readFrom returns path's content from offset off.
func readFrom(path string, off int64) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if off > int64(len(b)) {
		off = 0 // truncated: read it all
	}
	return b[off:], nil
}

// ErrNoReply is Radclient's error when no reply came: the server dropped the
// request (a bad signature, an unknown client) or is down.
var ErrNoReply = errors.New("lab: radclient: no reply")

// RadclientRequest is one request sent by radclient.
type RadclientRequest struct {
	Server netip.AddrPort
	Secret string
	// Kind is radclient's command: auth, acct, status, coa or disconnect.
	Kind  string
	Attrs []RadiusAttr
	// Unsigned sends no Message-Authenticator. By default radclient adds one
	// (an attribute Message-Authenticator = 0x00, which it computes) to
	// every kind but acct: an Accounting-Request is signed by its Request
	// Authenticator (RFC 2866 §3) and NASes send none.
	Unsigned bool
	// Timeout is the wait for the reply (one try); default 1 s.
	Timeout time.Duration
}

// RadiusReply is the reply radclient received: its code as FreeRADIUS
// names it ("Access-Accept", "Disconnect-NAK") and its attributes in order.
type RadiusReply struct {
	Code  string
	Attrs []RadiusAttr
}

// Get returns the first value of the attribute name.
func (r RadiusReply) Get(name string) (string, bool) { return getAttr(r.Attrs, name) }

var radclientSeq struct {
	sync.Mutex
	n int
}

// Radclient sends one request with radclient from ns and returns the reply,
// or ErrNoReply. The secret goes through a 0600 file in the scope's
// directory (radclient -S), the attributes through stdin: neither is ever
// on a command line.
func Radclient(ctx context.Context, s Scope, ns *Netns, req RadclientRequest) (RadiusReply, error) {
	s.Helper()
	switch req.Kind {
	case "auth", "acct", "status", "coa", "disconnect":
	default:
		return RadiusReply{}, fmt.Errorf("lab: radclient: unknown kind %q", req.Kind)
	}
	if req.Secret == "" {
		return RadiusReply{}, errors.New("lab: radclient: no secret")
	}
	if req.Timeout == 0 {
		req.Timeout = time.Second
	}
	var in bytes.Buffer
	for _, a := range req.Attrs {
		if err := confWord(a.Name); err != nil || a.Name == "" {
			return RadiusReply{}, fmt.Errorf("lab: radclient: attribute %q: empty or %v", a.Name, err)
		}
		if err := confString(a.Value); err != nil {
			// radclient's input takes no escapes: refuse what it would misread.
			return RadiusReply{}, fmt.Errorf("lab: radclient: %s: %v", a.Name, err)
		}
		fmt.Fprintf(&in, "%s = \"%s\"\n", a.Name, a.Value)
	}
	if !req.Unsigned && req.Kind != "acct" {
		in.WriteString("Message-Authenticator = 0x00\n")
	}
	radclientSeq.Lock()
	radclientSeq.n++
	n := radclientSeq.n
	radclientSeq.Unlock()
	dir := filepath.Join(s.TempDir(), fmt.Sprintf("radclient-%d", n))
	if err := os.Mkdir(dir, 0o700); err != nil {
		return RadiusReply{}, fmt.Errorf("lab: radclient: %w", err)
	}
	defer os.RemoveAll(dir)
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte(req.Secret), 0o600); err != nil {
		return RadiusReply{}, fmt.Errorf("lab: radclient: %w", err)
	}
	// An empty local dictionary (radclient reads one from -d, by default
	// /etc/freeradius/3.0, the host's) and a main one without the vendors
	// (-D), which halves radclient's run under TCG.
	main := filepath.Join(dir, "main")
	dict, err := radclientDictionary()
	if err == nil {
		err = os.WriteFile(filepath.Join(dir, "dictionary"), nil, 0o600)
	}
	if err == nil {
		err = os.Mkdir(main, 0o700)
	}
	if err == nil {
		err = os.WriteFile(filepath.Join(main, "dictionary"), dict, 0o600)
	}
	if err != nil {
		return RadiusReply{}, fmt.Errorf("lab: radclient: %w", err)
	}
	timeout := strconv.FormatFloat(req.Timeout.Seconds(), 'f', 3, 64)
	// -x prints the reply's attributes (without it, only its code); -r 1 is
	// one try (0 is refused).
	cmd := ns.Command(ctx, "radclient", "-x", "-r", "1", "-t", timeout, "-d", dir, "-D", main, "-S", secret, req.Server.String(), req.Kind)
	cmd.Stdin = &in
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	reply, found, err := parseRadclient(stdout.Bytes())
	if err != nil {
		return RadiusReply{}, fmt.Errorf("lab: radclient %s to %s: %w", req.Kind, req.Server, err)
	}
	if !found {
		// stderr holds radclient's complaints; stdout the request sent,
		// password included, so it is not quoted.
		if strings.Contains(stdout.String(), "No reply from server") {
			return RadiusReply{}, fmt.Errorf("lab: radclient %s to %s: %w", req.Kind, req.Server, ErrNoReply)
		}
		return RadiusReply{}, fmt.Errorf("lab: radclient %s to %s: %v: %s", req.Kind, req.Server, runErr, strings.TrimSpace(stderr.String()))
	}
	return reply, nil
}

// freeradiusDictDir is where Debian's FreeRADIUS keeps its dictionaries.
const freeradiusDictDir = "/usr/share/freeradius"

// radclientDictionary (radclient's and the server's) is FreeRADIUS's main dictionary with the RFCs',
// FreeRADIUS's own and Microsoft's (RFC 2548) attributes but none of the two
// hundred other vendors'. An attribute it lacks fails radclient loudly
// (unknown attribute), never silently.
func radclientDictionary() ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(freeradiusDictDir, "dictionary"))
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	for _, line := range strings.SplitAfter(string(b), "\n") {
		file, ok := strings.CutPrefix(strings.TrimSpace(line), "$INCLUDE ")
		if !ok {
			out.WriteString(line)
			continue
		}
		if !keepDictionary(file) {
			continue
		}
		fmt.Fprintf(&out, "$INCLUDE %s\n", filepath.Join(freeradiusDictDir, file))
	}
	return out.Bytes(), nil
}

func keepDictionary(file string) bool {
	name, ok := strings.CutPrefix(file, "dictionary.")
	return ok && (name == "compat" || name == "microsoft" || strings.HasSuffix(name, ".illegal") ||
		strings.HasPrefix(name, "rfc") || name == "freeradius" || strings.HasPrefix(name, "freeradius."))
}

// parseRadclient finds the reply in radclient -x's output: a line
// "Received CODE Id N from ... length N" followed by indented attributes.
// The request's lines before it are skipped unread.
func parseRadclient(out []byte) (RadiusReply, bool, error) {
	var r RadiusReply
	found := false
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		line := sc.Text()
		if !found {
			if rest, ok := strings.CutPrefix(line, "Received "); ok {
				code, _, _ := strings.Cut(rest, " ")
				r.Code, found = code, true
			}
			continue
		}
		if !strings.HasPrefix(line, attrIndent) {
			break
		}
		a, err := parseAttrLine(line)
		if err != nil {
			return RadiusReply{}, false, err
		}
		r.Attrs = append(r.Attrs, a)
	}
	return r, found, sc.Err()
}

// LinkNetns joins two namespaces by a veth pair with the addresses aAddr
// (in a) and bAddr (in b), both up: a path between an AC and its RADIUS
// servers. It goes with the namespaces.
func LinkNetns(a, b *Netns, aAddr, bAddr netip.Prefix) (aIf, bIf string, err error) {
	n := seq.Add(1)
	aIf, bIf = fmt.Sprintf("vra%d", n), fmt.Sprintf("vrb%d", n)
	veth := &netlink.Veth{LinkAttrs: netlink.LinkAttrs{Name: aIf}, PeerName: bIf, PeerNamespace: netlink.NsFd(int(b.handle))}
	if err := a.nl.LinkAdd(veth); err != nil {
		return "", "", fmt.Errorf("lab: veth %s/%s: %w", aIf, bIf, err)
	}
	for _, side := range []struct {
		ns   *Netns
		name string
		addr netip.Prefix
	}{{a, aIf, aAddr}, {b, bIf, bAddr}} {
		l, err := side.ns.nl.LinkByName(side.name)
		if err == nil {
			ip := side.addr.Addr().AsSlice()
			addr := &netlink.Addr{IPNet: &net.IPNet{IP: ip, Mask: net.CIDRMask(side.addr.Bits(), 8*len(ip))}}
			if side.addr.Addr().Is6() {
				addr.Flags = unix.IFA_F_NODAD // usable at once
			}
			err = side.ns.nl.AddrAdd(l, addr)
		}
		if err == nil {
			err = side.ns.nl.LinkSetUp(l)
		}
		if err != nil {
			return "", "", fmt.Errorf("lab: %s %s in %s: %w", side.name, side.addr, side.ns.Name, err)
		}
	}
	return aIf, bIf, nil
}
