package integration

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
	"github.com/pppoed/pppoed/server"
)

// pppoed server against a real RADIUS server (issue 12): Debian's
// FreeRADIUS in a namespace of its own, joined to the AC's by a veth,
// authenticating the reference client (pppd with rp-pppoe.so) and pppoed's
// client with PAP, CHAP and MS-CHAPv2, taking their accounting into its
// detail file; radclient, from FreeRADIUS's namespace, sends the AC
// Disconnect-Requests. The AC is watched through its status socket, its
// metrics endpoint and its log; the clients through their logs, exit
// statuses and pppN's kernel counters.

var (
	// The AC's end of the veth to the first FreeRADIUS, and FreeRADIUS's;
	// the second FreeRADIUS (failover) has a link and a network of its own.
	acRad1 = netip.MustParsePrefix("10.99.0.1/24")
	fr1    = netip.MustParsePrefix("10.99.0.2/24")
	acRad2 = netip.MustParsePrefix("10.98.0.1/24")
	fr2    = netip.MustParsePrefix("10.98.0.2/24")
)

const (
	acRadSecret = "ac-radius-secret"
	acDAESecret = "ac-dae-secret"
	acMetrics   = "127.0.0.1:9101"
	acNASID     = "lab-ac1"
)

// radACConfig describes an AC with RADIUS.
type radACConfig struct {
	// users are FreeRADIUS's (every instance has the same).
	users []lab.RadiusUser
	// order is [radius] order ("" leaves the server's default).
	order string
	// local are the AC's [[user]]s.
	local []lab.ACUser
	// servers is how many FreeRADIUS (default 1), asked in order, each in
	// its own namespace.
	servers int
	// dae listens for Disconnect-Requests from the first FreeRADIUS's
	// address.
	dae bool
}

// radAC is an AC whose RADIUS servers run in the lab.
type radAC struct {
	p   *lab.Pair
	rad []*lab.Netns
	fr  []*lab.FreeRADIUS
	srv *lab.PppoedServer
}

// newRadAC starts FreeRADIUS (c.servers of them) and pppoed server with
// --debug, RADIUS timeout 1 s with one retransmission, the metrics
// endpoint on acMetrics in the AC's namespace.
func newRadAC(t *testing.T, c radACConfig) *radAC {
	t.Helper()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	a := &radAC{p: p}
	r := &lab.ACRADIUS{
		Order: c.order, NASIdentifier: acNASID, NASIPAddress: acRad1.Addr().String(),
		Timeout: "1s", Retries: lab.Ptr(1),
	}
	for i := range max(c.servers, 1) {
		acSide, frSide := acRad1, fr1
		if i == 1 {
			acSide, frSide = acRad2, fr2
		}
		rad := must[*lab.Netns](t)(lab.NewNetns(t, "rad"))
		if _, _, err := lab.LinkNetns(p.AC, rad, acSide, frSide); err != nil {
			t.Fatal(err)
		}
		fr := must[*lab.FreeRADIUS](t)(lab.StartFreeRADIUS(t, rad, lab.FreeRADIUSConfig{
			Addr:    frSide.Addr(),
			Clients: []lab.RadiusClient{{Addr: netip.PrefixFrom(acSide.Addr(), 32), Secret: acRadSecret}},
			Users:   c.users,
		}))
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("FreeRADIUS %s log:\n%s", frSide.Addr(), lastLines(fr.Log(), 40))
			}
		})
		a.rad, a.fr = append(a.rad, rad), append(a.fr, fr)
		r.Servers = append(r.Servers, lab.ACRADIUSServer{Address: frSide.Addr().String(), Secret: acRadSecret})
	}
	if c.dae {
		r.Incoming = &lab.ACRADIUSIncoming{
			Listen:  netip.AddrPortFrom(acRad1.Addr(), 3799).String(),
			Clients: []lab.ACRADIUSClient{{Address: fr1.Addr().String(), Secret: acDAESecret}},
		}
	}
	cfg := acConfig(p, c.local...)
	cfg.MetricsListen = acMetrics
	cfg.RADIUS = r
	a.srv = startAC(t, p, cfg)
	return a
}

// metrics scrapes the AC's endpoint.
func (a *radAC) metrics(t *testing.T) string {
	t.Helper()
	return scrape(t, a.p.AC, acMetrics)
}

// pppClient is what the tests need of pppd and of pppoed's client.
type pppClient interface {
	WaitUp(context.Context) (lab.Addr, error)
	Log() string
	Wait(context.Context) error
	Exited() bool
	ExitCode() int
	Signal(syscall.Signal) error
}

// radClient is a running client: pppd or pppoed.
type radClient struct {
	pppClient
	kind   string // "pppd", "pppoed"
	ifname string // its pppN
	ns     *lab.Netns
}

var radIfnames atomic.Uint32

// dial starts a client of kind on iface in the client's namespace,
// allowing only method ("pap", "chap", "mschap2"; "" for any).
func (a *radAC) dial(t *testing.T, kind, iface, user, password, method string) *radClient {
	t.Helper()
	ns := a.p.Client
	switch kind {
	case "pppd":
		var refuse []string
		for _, m := range pppdAuth {
			if m.name == method {
				refuse = m.refuse
			}
		}
		if method != "" && refuse == nil {
			t.Fatalf("pppd: no method %q", method)
		}
		c := startPPPD(t, ns, iface, user, password, refuse...)
		return &radClient{pppClient: c, kind: kind, ifname: c.Ifname, ns: ns}
	case "pppoed":
		ifname := fmt.Sprintf("rppp%d", radIfnames.Add(1))
		args := []string{"--ifname", ifname, "--debug"}
		if method != "" {
			args = append(args, "--auth", method)
		}
		c := must[*lab.Pppoed](t)(lab.StartPppoed(t, ns, ifname, lab.ClientArgs(t, iface, user, password, args...)...))
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("pppoed %s log:\n%s", ifname, lastLines(c.Log(), 60))
			}
		})
		return &radClient{pppClient: c, kind: kind, ifname: ifname, ns: ns}
	}
	t.Fatalf("no client %q", kind)
	return nil
}

// hangUp ends the client with SIGTERM (an LCP Terminate-Request) and
// waits for it to exit.
func (c *radClient) hangUp(t *testing.T) {
	t.Helper()
	if err := c.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := c.Wait(ctx); err != nil && !c.Exited() {
		t.Fatalf("%s after SIGTERM: %v\n%s", c.kind, err, lastLines(c.Log(), 30))
	}
}

// waitEnd waits (at most limit) for the client to end by itself and
// returns its status.
func (c *radClient) waitEnd(t *testing.T, ctx context.Context, limit time.Duration, why string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	if err := c.Wait(ctx); err != nil && !c.Exited() {
		t.Fatalf("%s: %s did not end: %v\n%s", why, c.kind, err, lastLines(c.Log(), 40))
	}
	return c.ExitCode()
}

// authFailed checks that the client ended as one whose authentication
// failed: pppd's and pppoed's exit status 19, and the log saying so.
func (c *radClient) authFailed(t *testing.T, ctx context.Context) {
	t.Helper()
	if code := c.waitEnd(t, ctx, 30*time.Second, "authentication failure"); code != 19 {
		t.Errorf("%s exit status %d, want 19 (authentication to the peer failed)\n%s", c.kind, code, lastLines(c.Log(), 30))
	}
	if !strings.Contains(c.Log(), "authentication failed") {
		t.Errorf("%s does not log that authentication failed:\n%s", c.kind, lastLines(c.Log(), 30))
	}
}

// counters are pppN's kernel counters (IFLA_STATS64): only data, no
// PPP header and no control protocol.
type counters struct {
	rxBytes, txBytes, rxPackets, txPackets uint64
	// TCP segments retransmitted up (by the client) and down (by the AC's
	// side) over the same span: checkOctets's; linkCounters leaves them 0.
	retransUp, retransDown uint64
}

func linkCounters(t *testing.T, ns *lab.Netns, ifname string) counters {
	t.Helper()
	l, err := ns.Handle().LinkByName(ifname)
	if err != nil {
		t.Fatalf("%s: %v", ifname, err)
	}
	st := l.Attrs().Statistics
	if st == nil {
		t.Fatalf("%s: no statistics", ifname)
	}
	return counters{rxBytes: st.RxBytes, txBytes: st.TxBytes, rxPackets: st.RxPackets, txPackets: st.TxPackets}
}

// sink listens on TCP port in ns: each connection is read to its end,
// then answered with the number of octets the peer asked for (the
// connection's first 8 octets, decimal) and closed.
func sink(t *testing.T, ns *lab.Netns, port int) {
	t.Helper()
	var ln net.Listener
	if err := ns.Do(func() error {
		var err error
		ln, err = net.Listen("tcp4", ":"+strconv.Itoa(port))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(time.Minute))
				var hdr [8]byte
				if _, err := io.ReadFull(c, hdr[:]); err != nil {
					return
				}
				n, _ := strconv.Atoi(strings.TrimSpace(string(hdr[:])))
				if _, err := io.Copy(io.Discard, c); err != nil {
					return
				}
				io.CopyN(c, zeros{}, int64(n))
			})
		}
	})
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) { clear(b); return len(b), nil }

// transfer sends up octets of payload from ns to dst:port over TCP and
// receives down octets back (the 8-octet request counted in up).
func transfer(t *testing.T, ns *lab.Netns, dst netip.AddrPort, up, down int) {
	t.Helper()
	var c net.Conn
	if err := ns.Do(func() error {
		var err error
		c, err = net.DialTimeout("tcp4", dst.String(), 10*time.Second)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Minute))
	if _, err := fmt.Fprintf(c, "%8d", down); err != nil {
		t.Fatal(err)
	}
	if _, err := io.CopyN(c, zeros{}, int64(up-8)); err != nil {
		t.Fatal(err)
	}
	if err := c.(*net.TCPConn).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, c)
	if err != nil || n != int64(down) {
		t.Fatalf("received %d octets (%v), want %d", n, err, down)
	}
}

// retransFrom reads TCP's RetransSegs (RFC 4022's tcpRetransSegs) in the
// client's namespace and the AC's, and returns a function that tells how
// many segments each has retransmitted since.
func retransFrom(t *testing.T, client, ac *lab.Netns) func() (up, down uint64) {
	t.Helper()
	c0, a0 := retransSegs(t, client), retransSegs(t, ac)
	return func() (uint64, uint64) {
		return retransSegs(t, client) - c0, retransSegs(t, ac) - a0
	}
}

// retransSegs is the Tcp RetransSegs counter of ns (/proc/net/snmp, read
// from a thread in ns: /proc/thread-self/net is that thread's).
func retransSegs(t *testing.T, ns *lab.Netns) uint64 {
	t.Helper()
	var b []byte
	if err := ns.Do(func() error {
		var err error
		b, err = os.ReadFile("/proc/thread-self/net/snmp")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Two "Tcp:" lines: the names, then the values.
	var names []string
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) == 0 || f[0] != "Tcp:" {
			continue
		}
		if names == nil {
			names = f
			continue
		}
		if i := slices.Index(names, "RetransSegs"); i > 0 && i < len(f) {
			n, err := strconv.ParseUint(f[i], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatalf("no Tcp RetransSegs in /proc/net/snmp:\n%s", b)
	return 0
}

// lineWith is the first line of log holding every one of substrs ("":
// none).
func lineWith(log string, substrs ...string) string {
next:
	for _, line := range strings.Split(log, "\n") {
		for _, s := range substrs {
			if !strings.Contains(line, s) {
				continue next
			}
		}
		return line
	}
	return ""
}

// acLogTime is the time of the AC's first log line holding every one of
// substrs.
func acLogTime(t *testing.T, log string, substrs ...string) time.Time {
	t.Helper()
	line := lineWith(log, substrs...)
	if line == "" {
		t.Fatalf("no line with %q in the AC's log", substrs)
	}
	ts, _, _ := strings.Cut(strings.TrimPrefix(line, "time="), " ")
	tm, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		t.Fatalf("no time in %q: %v", line, err)
	}
	return tm
}

// settled reads pppN's counters once they stopped moving (the last ACKs
// of a transfer sent).
func settled(t *testing.T, ns *lab.Netns, ifname string) counters {
	t.Helper()
	last := linkCounters(t, ns, ifname)
	for range 50 {
		time.Sleep(100 * time.Millisecond)
		c := linkCounters(t, ns, ifname)
		if c == last {
			return c
		}
		last = c
	}
	t.Fatalf("%s's counters keep moving", ifname)
	return last
}

// recordsOf are the detail file's records of the session id, in order.
func recordsOf(recs []lab.AcctRecord, id string) []lab.AcctRecord {
	var out []lab.AcctRecord
	for _, r := range recs {
		if v, _ := r.Get("Acct-Session-Id"); v == id {
			out = append(out, r)
		}
	}
	return out
}

// hasStatus reports whether recs hold a record of session id with
// Acct-Status-Type st.
func hasStatus(id, st string) func([]lab.AcctRecord) bool {
	return func(recs []lab.AcctRecord) bool {
		for _, r := range recordsOf(recs, id) {
			if v, _ := r.Get("Acct-Status-Type"); v == st {
				return true
			}
		}
		return false
	}
}

// statusRecord is the session's record with Acct-Status-Type st.
func statusRecord(t *testing.T, recs []lab.AcctRecord, id, st string) lab.AcctRecord {
	t.Helper()
	for _, r := range recordsOf(recs, id) {
		if v, _ := r.Get("Acct-Status-Type"); v == st {
			return r
		}
	}
	t.Fatalf("no %s record of session %s", st, id)
	return lab.AcctRecord{}
}

// wantAttrs checks the record's attributes named in want.
func wantAttrs(t *testing.T, r lab.AcctRecord, want ...string) {
	t.Helper()
	for i := 0; i+1 < len(want); i += 2 {
		if got, ok := r.Get(want[i]); !ok || got != want[i+1] {
			t.Errorf("%s record: %s = %q (present %v), want %q", r.Time, want[i], got, ok, want[i+1])
		}
	}
}

func attrUint(t *testing.T, r lab.AcctRecord, name string) uint64 {
	t.Helper()
	v, ok := r.Get(name)
	n, err := strconv.ParseUint(v, 10, 64)
	if !ok || err != nil {
		t.Errorf("record without a number in %s (%q)", name, v)
	}
	return n
}

// sessionByUser waits for the AC's session of user to be up and returns
// it as `pppoed server status --json` prints it.
func (a *radAC) sessionByUser(t *testing.T, ctx context.Context, user string) server.SessionStatus {
	t.Helper()
	find := func(st server.Status) (server.SessionStatus, bool) {
		for _, s := range st.Sessions {
			if s.User == user && !s.UpSince.IsZero() {
				return s, true
			}
		}
		return server.SessionStatus{}, false
	}
	if _, err := a.srv.WaitStatus(ctx, user+" up", func(st server.Status) bool { _, ok := find(st); return ok }); err != nil {
		t.Fatal(err)
	}
	st, err := a.srv.StatusCLI(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, ok := find(st)
	if !ok || s.AcctSessionID == "" {
		t.Fatalf("status --json: session of %s %+v (found %v), want one with an acct_session_id", user, s, ok)
	}
	return s
}

// TestRADIUSServer runs the tests of pppoed server against FreeRADIUS,
// each with its own namespaces, FreeRADIUS and AC. The accounting test
// mostly waits for its Interim-Update (a minute: the least interval the AC
// takes): it runs beside all the others. The authentication test, which
// measures the latency, runs alone beside it; the rest run together after.
func TestRADIUSServer(t *testing.T) {
	lab.Require(t)
	t.Run("Accounting", func(t *testing.T) {
		t.Parallel()
		radiusAccounting(t)
	})
	t.Run("Sessions", func(t *testing.T) {
		t.Parallel()
		t.Run("Auth", radiusAuth)
		t.Run("More", func(t *testing.T) {
			for _, tc := range []struct {
				name string
				f    func(*testing.T)
			}{
				{"SessionTimeout", radiusSessionTimeout},
				{"Disconnect", radiusDisconnect},
				{"Down", radiusDown},
				{"Failover", radiusFailover},
			} {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					tc.f(t)
				})
			}
		})
	})
}

// radiusAuth: pppd and pppoed's client authenticate through
// FreeRADIUS alone (order "radius": the AC has no local user) with PAP,
// CHAP and MS-CHAPv2, FreeRADIUS's Reply-Message reaching them; a password
// FreeRADIUS does not know is refused, FreeRADIUS's MS-CHAP-Error relayed;
// and an Access-Accept whose MS-CHAP2-Success does not prove the password
// (FreeRADIUS accepts the user whatever the password, with a forged
// authenticator response) is refused by both clients: the mutual
// authentication of RFC 2759 §5 is checked on the client, against what
// RADIUS sent. Each login has a MAC of its own, so that none waits for
// the AC to finish ending the one before (once at the end). The
// latency is measured per method, on the AC: from LCP up to the
// credentials verified (its histogram), and from the client's request to
// the verifier's verdict (its log: the RADIUS exchange).
func radiusAuth(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	clients := []string{"pppd", "pppoed"}
	methods := []string{"pap", "chap", "mschap2"}
	var users []lab.RadiusUser
	for _, c := range clients {
		for _, m := range methods {
			users = append(users, lab.RadiusUser{Name: "rad-" + c + "-" + m, Password: "pw " + m,
				Reply: attrs("Reply-Message", "welcome "+c)})
		}
	}
	// An Access-Accept whose authenticator response is the wrong one (S=
	// and 40 hex digits, but not from the password): only the client can
	// tell.
	forged := "0x01" + fmt.Sprintf("%x", "S="+strings.Repeat("0123456789", 4))
	users = append(users,
		lab.RadiusUser{Name: "rad-forged", Password: "not-known", Check: attrs("Auth-Type", "Accept"),
			Reply: attrs("MS-CHAP2-Success", forged)},
		lab.RadiusUser{Name: "rad-wrong", Password: "the right one"})
	a := newRadAC(t, radACConfig{users: users, order: "radius"})

	var report strings.Builder
	accepted, forgedAccepts, stations := 0, 0, 0
	newStation := func() string {
		stations++
		return station(t, a.p, fmt.Sprintf("rau%d", stations))
	}
	for _, kind := range clients {
		for _, m := range methods {
			t.Run(kind+"/"+m, func(t *testing.T) {
				before := a.metrics(t)
				user := "rad-" + kind + "-" + m
				began := time.Now()
				c := a.dial(t, kind, newStation(), user, "pw "+m, m)
				got, err := c.WaitUp(ctx)
				if err != nil {
					t.Fatal(err)
				}
				took := time.Since(began)
				accepted++
				show := map[string]string{"pap": "<auth pap>", "chap": "<auth chap MD5>", "mschap2": "<auth chap MS-v2>"}[m]
				if acked := ackedAuth(c.Log()); acked != show {
					t.Errorf("%s acked %q, want %q", kind, acked, show)
				}
				ss := a.sessionByUser(t, ctx, user)
				if ss.Remote != got.Local.Addr() {
					t.Errorf("AC's session %+v, client has %s", ss, got.Local)
				}
				// The AC says RADIUS authenticated it, FreeRADIUS that it did.
				if l := lineWith(a.srv.Log(), `msg="server: authenticated"`, "user="+user+" "); !strings.Contains(l, "radius=true") {
					t.Errorf("AC: %q, want radius=true", l)
				}
				if !strings.Contains(a.fr[0].Log(), "Login OK: ["+user+"]") {
					t.Errorf("FreeRADIUS logged no Login OK for %s", user)
				}
				// The Reply-Message reaches the client: PAP's
				// Authenticate-Ack message, CHAP's Success message,
				// MS-CHAPv2's M= (RFC 2759 §5).
				if !strings.Contains(c.Log(), "welcome "+kind) {
					t.Errorf("%s shows no Reply-Message %q", kind, "welcome "+kind)
				}
				if m == "mschap2" {
					// Each client checked the authenticator response
					// FreeRADIUS computed (MS-CHAP2-Success, relayed by
					// the AC) before it said it authenticated.
					want := map[string]string{"pppd": "CHAP authentication succeeded", "pppoed": `msg="ppp: authenticated to the peer" method=mschap2`}[kind]
					if !strings.Contains(c.Log(), want) {
						t.Errorf("%s does not log %q", kind, want)
					}
					t.Logf("%s: %s", kind, lineWith(c.Log(), want))
				}
				after := a.metrics(t)
				n := sample(after, "pppoed_server_auth_duration_seconds_count") - sample(before, "pppoed_server_auth_duration_seconds_count")
				sum := sample(after, "pppoed_server_auth_duration_seconds_sum") - sample(before, "pppoed_server_auth_duration_seconds_sum")
				if n != 1 {
					t.Errorf("auth_duration_seconds_count grew by %v, want 1", n)
				}
				mac := must[net.HardwareAddr](t)(a.p.Client.MAC(fmt.Sprintf("rau%d", stations)))
				fmt.Fprintf(&report, "\n    %-15s LCP up to verified %6.1f ms, request to verdict %6.1f ms (client up in %.2fs)",
					kind+"/"+m, 1000*sum, 1000*verifyTime(t, a.srv.Log(), mac, user).Seconds(), took.Seconds())
				c.hangUp(t)
			})
		}
	}
	lab.Report(t, "RADIUS authentication through FreeRADIUS, on the AC:%s", report.String())

	// Refused: each client sees an authentication failure.
	for _, tc := range []struct {
		name, kind, user, method string
		clientSays               string // in the client's log
	}{
		// FreeRADIUS's MS-CHAP-Error relayed as the Failure (its R=1; the
		// AC's own would say R=0).
		{"wrong password/pppd", "pppd", "rad-wrong", "mschap2", `rcvd [CHAP Failure id=0x`},
		{"wrong password/pppoed", "pppoed", "rad-wrong", "pap", "authentication failed"},
		{"forged MS-CHAP2-Success/pppd", "pppd", "rad-forged", "mschap2", "MS-CHAPv2 mutual authentication failed"},
		{"forged MS-CHAP2-Success/pppoed", "pppoed", "rad-forged", "mschap2", "the authenticator's response is wrong"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := a.dial(t, tc.kind, newStation(), tc.user, "a password", tc.method)
			c.authFailed(t, ctx)
			l := lineWith(c.Log(), tc.clientSays)
			if l == "" {
				t.Errorf("%s does not log %q:\n%s", tc.kind, tc.clientSays, lastLines(c.Log(), 30))
			}
			if tc.method == "mschap2" && tc.user == "rad-wrong" && !strings.Contains(l, `"E=691 R=1 C=`) {
				t.Errorf("pppd got %q, want FreeRADIUS's MS-CHAP-Error (E=691 R=1 C=...)", l)
			}
			t.Logf("%s: %s", tc.kind, l)
			if tc.user == "rad-forged" {
				forgedAccepts++
			}
		})
	}

	waitACEmpty(t, ctx, a.p, a.srv)
	// Every Stop delivered, so that the counters below are final.
	if _, err := a.fr[0].WaitDetail(ctx, "a Stop per session", func(recs []lab.AcctRecord) bool {
		n := 0
		for _, r := range recs {
			if v, _ := r.Get("Acct-Status-Type"); v == "Stop" {
				n++
			}
		}
		return n == accepted
	}); err != nil {
		t.Fatal(err)
	}
	m := a.metrics(t)
	for series, want := range map[string]float64{
		`pppoed_server_radius_auth_total{result="accept"}`:                         float64(accepted + forgedAccepts),
		`pppoed_server_radius_auth_total{result="reject"}`:                         2,
		`pppoed_server_radius_auth_total{result="no_server"}`:                      0,
		`pppoed_server_radius_timeouts_total{server="10.99.0.2:1812",type="auth"}`: 0,
		"pppoed_server_radius_accounting_queue":                                    0,
		// The AC authenticated the forged ones: the client refused them.
		"pppoed_server_auth_duration_seconds_count":             float64(accepted + forgedAccepts),
		`pppoed_server_auth_duration_seconds_bucket{le="+Inf"}`: float64(accepted + forgedAccepts),
		`pppoed_server_session_failures_total{cause="auth"}`:    2,
	} {
		if got := sample(m, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	if got := sample(m, `pppoed_server_radius_requests_total{server="10.99.0.2:1812",type="auth"}`); got != float64(accepted+forgedAccepts+2) {
		t.Errorf("auth requests to FreeRADIUS: %v, want one per login (%d)", got, accepted+forgedAccepts+2)
	}
	// Accounting-On, then a Start and a Stop per session that came up.
	if got := sample(m, `pppoed_server_radius_requests_total{server="10.99.0.2:1813",type="acct"}`); got != float64(1+2*accepted) {
		t.Errorf("acct requests to FreeRADIUS: %v, want %d", got, 1+2*accepted)
	}
	t.Logf("metrics:\n%s", grepLines(m, "pppoed_server_radius_")+"\n"+grepLines(m, "pppoed_server_auth_duration"))
	for _, pw := range []string{"pw pap", "pw chap", "pw mschap2"} {
		if strings.Contains(a.srv.Log(), pw) || strings.Contains(a.fr[0].Log(), pw) {
			t.Errorf("a password (%q) is in a log", pw)
		}
	}
}

// verifyTime is, from the AC's debug log, the time from the client's
// credentials (the last PAP Authenticate-Request or CHAP Response from
// mac before the verdict) to the verifier's verdict on user: the RADIUS
// exchange and its encoding.
func verifyTime(t *testing.T, log string, mac net.HardwareAddr, user string) time.Duration {
	t.Helper()
	lines := strings.Split(log, "\n")
	verdict := -1
	for i, l := range lines {
		if strings.Contains(l, `msg="ppp: verifier's verdict"`) && strings.Contains(l, "user="+user+" ") {
			verdict = i
			break
		}
	}
	if verdict < 0 {
		t.Errorf("no verdict on %s in the AC's log", user)
		return 0
	}
	for i := verdict - 1; i >= 0; i-- {
		l := lines[i]
		if strings.Contains(l, "client="+mac.String()) && (strings.Contains(l, "rcvd [PAP AuthReq") || strings.Contains(l, "rcvd [CHAP Response")) {
			return acLogTime(t, lines[verdict]).Sub(acLogTime(t, l))
		}
	}
	t.Errorf("no credentials from %s before the verdict on %s in the AC's log", mac, user)
	return 0
}

// radiusSessionTimeout: the Access-Accept's Framed-IP-Address
// is the client's address (outside the AC's pool), its Session-Timeout
// ends the session that long after the authentication, and the Stop
// record says Session-Timeout. pppd and pppoed's client at once, each on
// its own MAC.
func radiusSessionTimeout(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	const timeout = 5
	type row struct {
		kind, user string
		framed     netip.Addr
	}
	rows := []row{
		{"pppd", "rad-st-pppd", netip.MustParseAddr("10.70.1.77")},
		{"pppoed", "rad-st-pppoed", netip.MustParseAddr("10.70.1.78")},
	}
	var users []lab.RadiusUser
	for _, r := range rows {
		users = append(users, lab.RadiusUser{Name: r.user, Password: "pw", Reply: attrs(
			"Framed-IP-Address", r.framed.String(), "Session-Timeout", strconv.Itoa(timeout))})
	}
	a := newRadAC(t, radACConfig{users: users, order: "radius"})
	cs := make([]*radClient, len(rows))
	for i, r := range rows {
		iface := a.p.ClientIf
		if i > 0 {
			iface = station(t, a.p, fmt.Sprintf("rst%d", i))
		}
		cs[i] = a.dial(t, r.kind, iface, r.user, "pw", "")
	}
	ups := make([]time.Time, len(rows))
	ids := make([]string, len(rows))
	for i, r := range rows {
		got, err := cs[i].WaitUp(ctx)
		if err != nil {
			t.Fatal(err)
		}
		ups[i] = time.Now()
		if got.Local.Addr() != r.framed {
			t.Errorf("%s has %s, want RADIUS's Framed-IP-Address %s", r.kind, got.Local, r.framed)
		}
		ss := a.sessionByUser(t, ctx, r.user)
		ids[i] = ss.AcctSessionID
		if ss.Remote != r.framed {
			t.Errorf("AC's session of %s has remote %s, want %s", r.user, ss.Remote, r.framed)
		}
		if _, err := cs[i].ns.Ping(ctx, srvLocal, 1); err != nil {
			t.Error(err)
		}
	}
	for i, r := range rows {
		cs[i].waitEnd(t, ctx, 30*time.Second, "Session-Timeout")
		seen := time.Since(ups[i])
		log := a.srv.Log()
		// Logged as the session's clock starts (authenticated, then the
		// Access-Accept's limits taken).
		auth := acLogTime(t, log, `msg="ppp: peer authenticated"`, "user="+r.user)
		end := acLogTime(t, log, `msg="server: session timeout"`, "user="+r.user)
		lab.Report(t, "Session-Timeout %ds: %s ended %.3fs after its authentication (AC log), %.2fs after the client saw it up",
			timeout, r.kind, end.Sub(auth).Seconds(), seen.Seconds())
		if d := end.Sub(auth); d < timeout*time.Second || d > timeout*time.Second+time.Second {
			t.Errorf("%s: session timeout %v after the authentication, want %ds", r.kind, d, timeout)
		}
		// The AC's Terminate-Request says why.
		if !strings.Contains(cs[i].Log(), "Session timeout") {
			t.Errorf("%s was not told why:\n%s", r.kind, lastLines(cs[i].Log(), 20))
		}
	}
	recs, err := a.fr[0].WaitDetail(ctx, "both Stops", func(recs []lab.AcctRecord) bool {
		return hasStatus(ids[0], "Stop")(recs) && hasStatus(ids[1], "Stop")(recs)
	})
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		start := statusRecord(t, recs, ids[i], "Start")
		wantAttrs(t, start, "User-Name", r.user, "Framed-IP-Address", r.framed.String())
		stop := statusRecord(t, recs, ids[i], "Stop")
		// The Stop names the address too (pppoed keeps it past IPCP's down).
		wantAttrs(t, stop, "User-Name", r.user, "Acct-Terminate-Cause", "Session-Timeout", "Framed-IP-Address", r.framed.String())
		if st := attrUint(t, stop, "Acct-Session-Time"); st < timeout-1 || st > timeout {
			t.Errorf("%s: Acct-Session-Time %d, want about %d", r.kind, st, timeout)
		}
	}
}

// radiusAccounting: a session's Start, Interim-Update (at the
// Acct-Interim-Interval of the Access-Accept, 60 s, the least the AC
// takes) and Stop reach FreeRADIUS's detail file, under the
// Acct-Session-Id `pppoed server status --json` shows, with the NAS's and
// the session's attributes and the Class echoed; the octet and packet
// counts are pppN's, equal to the client's own counters after a TCP
// transfer of known size each way (the Interim's after the first, the
// Stop's after the second).
func radiusAccounting(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	const user = "rad-acct"
	a := newRadAC(t, radACConfig{order: "radius", users: []lab.RadiusUser{{Name: user, Password: "pw",
		Reply: attrs("Acct-Interim-Interval", "60", "Class", "0x6c61622d636c617373")}}})
	sink(t, a.p.AC, 5201)
	c := a.dial(t, "pppd", a.p.ClientIf, user, "pw", "chap")
	got, err := c.WaitUp(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ss := a.sessionByUser(t, ctx, user)
	id := ss.AcctSessionID
	mac := must[net.HardwareAddr](t)(a.p.Client.MAC(a.p.ClientIf))
	recs, err := a.fr[0].WaitDetail(ctx, "the Start", hasStatus(id, "Start"))
	if err != nil {
		t.Fatal(err)
	}
	common := []string{
		"User-Name", user, "Acct-Session-Id", id,
		"NAS-Identifier", acNASID, "NAS-IP-Address", acRad1.Addr().String(),
		"NAS-Port-Type", "Ethernet", "NAS-Port-Id", a.p.ACIf,
		"Calling-Station-Id", strings.ToUpper(strings.ReplaceAll(mac.String(), ":", "-")),
		"Framed-IP-Address", got.Local.Addr().String(),
		"Acct-Authentic", "RADIUS", "Class", "0x6c61622d636c617373",
	}
	start := statusRecord(t, recs, id, "Start")
	wantAttrs(t, start, common...)
	t.Logf("Start: %v", start.Attrs)

	dst := netip.AddrPortFrom(srvLocal, 5201)
	const up1, down1, up2, down2 = 1_000_000, 250_000, 100_000, 400_000
	// TCP's retransmissions cross the session too: up is the client's,
	// down the AC's, counted from here.
	rt := retransFrom(t, a.p.Client, a.p.AC)
	transfer(t, a.p.Client, dst, up1, down1)
	c1 := settled(t, a.p.Client, c.ifname)
	c1.retransUp, c1.retransDown = rt()

	// The Interim-Update comes 60 s after the Start.
	wctx, wcancel := context.WithTimeout(ctx, 75*time.Second)
	defer wcancel()
	recs, err = a.fr[0].WaitDetail(wctx, "the Interim-Update", hasStatus(id, "Interim-Update"))
	if err != nil {
		t.Fatal(err)
	}
	interim := statusRecord(t, recs, id, "Interim-Update")
	wantAttrs(t, interim, common...)
	checkOctets(t, "Interim-Update", interim, c1, up1, down1)

	transfer(t, a.p.Client, dst, up2, down2)
	c2 := settled(t, a.p.Client, c.ifname)
	c2.retransUp, c2.retransDown = rt()
	began := ss.UpSince
	c.hangUp(t)
	recs, err = a.fr[0].WaitDetail(ctx, "the Stop", hasStatus(id, "Stop"))
	if err != nil {
		t.Fatal(err)
	}
	stop := statusRecord(t, recs, id, "Stop")
	wantAttrs(t, stop, "User-Name", user, "Acct-Session-Id", id, "Acct-Terminate-Cause", "User-Request", "Class", "0x6c61622d636c617373")
	checkOctets(t, "Stop", stop, c2, up1+up2, down1+down2)
	if st, want := attrUint(t, stop, "Acct-Session-Time"), time.Since(began).Seconds(); float64(st) > want+1 || float64(st) < want-3 {
		t.Errorf("Acct-Session-Time %d, want about %.0f", st, want)
	}
	if n := len(recordsOf(recs, id)); n != 3 {
		t.Errorf("%d records of the session, want Start, Interim-Update, Stop:\n%v", n, recordsOf(recs, id))
	}
	want, _ := start.Get("Framed-IP-Address")
	if got, ok := stop.Get("Framed-IP-Address"); !ok || got != want {
		t.Errorf("the Stop's Framed-IP-Address %q, want the Start's %q", got, want)
	}
}

// checkOctets compares a record's counts with the client's pppN counters
// (the AC's input is what the client sent) and with the payload: the
// counters hold the IP packets, payload plus headers.
func checkOctets(t *testing.T, what string, r lab.AcctRecord, c counters, up, down int) {
	t.Helper()
	in, out := attrUint(t, r, "Acct-Input-Octets"), attrUint(t, r, "Acct-Output-Octets")
	inP, outP := attrUint(t, r, "Acct-Input-Packets"), attrUint(t, r, "Acct-Output-Packets")
	lab.Report(t, "%s: Acct-Input-Octets %d (client sent %d; TCP payload %d, +%.1f%%), Acct-Output-Octets %d (client received %d; payload %d, +%.1f%%), packets in %d/%d out %d/%d, TCP segments retransmitted up %d down %d",
		what, in, c.txBytes, up, 100*(float64(in)/float64(up)-1), out, c.rxBytes, down, 100*(float64(out)/float64(down)-1), inP, c.txPackets, outP, c.rxPackets, c.retransUp, c.retransDown)
	if in != c.txBytes || out != c.rxBytes || inP != c.txPackets || outP != c.rxPackets {
		t.Errorf("%s: octets in %d out %d, packets in %d out %d; the client's pppN sent %d octets in %d packets, received %d in %d",
			what, in, out, inP, outP, c.txBytes, c.txPackets, c.rxBytes, c.rxPackets)
	}
	// Nothing but the transfers' TCP crossed the session: each packet is
	// its payload and 40 to 80 octets of IPv4 and TCP headers (52 here:
	// the timestamps option), and a retransmitted segment its payload
	// again (at most an MSS, 1452 octets under the session's 1492 MTU).
	for _, d := range []struct {
		dir             string
		octets, payload uint64
		packets         uint64
		retrans         uint64
	}{{"in", in, uint64(up), inP, c.retransUp}, {"out", out, uint64(down), outP, c.retransDown}} {
		if d.octets < d.payload+40*d.packets || d.octets > d.payload+80*d.packets+1452*d.retrans {
			t.Errorf("%s: %d octets %s in %d packets for a payload of %d, %d segments retransmitted: not the payload and 40-80 octets of headers a packet",
				what, d.octets, d.dir, d.packets, d.payload, d.retrans)
		}
	}
	for _, g := range []string{"Acct-Input-Gigawords", "Acct-Output-Gigawords"} {
		if v, ok := r.Get(g); ok && v != "0" {
			t.Errorf("%s: %s = %s", what, g, v)
		}
	}
}

// radiusDisconnect: Disconnect-Requests from FreeRADIUS's
// address (radclient, with Message-Authenticator and the right secret)
// end the session they name, by Acct-Session-Id and by User-Name, with a
// Disconnect-ACK and a Stop saying Admin-Reset; one with the wrong secret
// or without Message-Authenticator gets no answer and the session stays
// up; one naming no session, or another NAS, a Disconnect-NAK with its
// Error-Cause.
func radiusDisconnect(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a := newRadAC(t, radACConfig{order: "radius", dae: true, users: []lab.RadiusUser{
		{Name: "rad-dm-pppd", Password: "pw"}, {Name: "rad-dm-pppoed", Password: "pw"},
	}})
	cPPPD := a.dial(t, "pppd", a.p.ClientIf, "rad-dm-pppd", "pw", "")
	cGo := a.dial(t, "pppoed", station(t, a.p, "rdm1"), "rad-dm-pppoed", "pw", "")
	for _, c := range []*radClient{cPPPD, cGo} {
		if _, err := c.WaitUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	s1 := a.sessionByUser(t, ctx, "rad-dm-pppd")
	a.sessionByUser(t, ctx, "rad-dm-pppoed")
	dae := netip.AddrPortFrom(acRad1.Addr(), 3799)
	send := func(t *testing.T, req lab.RadclientRequest) (lab.RadiusReply, error) {
		t.Helper()
		req.Server, req.Kind = dae, "disconnect"
		if req.Timeout == 0 {
			req.Timeout = 5 * time.Second // a reply is due: room for a loaded VM
		}
		if req.Secret == "" {
			req.Secret = acDAESecret
		}
		return lab.Radclient(ctx, t, a.rad[0], req)
	}
	byID := attrs("Acct-Session-Id", s1.AcctSessionID)

	t.Run("dropped", func(t *testing.T) {
		for _, tc := range []struct {
			name string
			req  lab.RadclientRequest
		}{
			// One second: the requests that get answers, the two below, are
			// answered in milliseconds.
			{"wrong secret", lab.RadclientRequest{Attrs: byID, Secret: "not-the-dae-secret", Timeout: time.Second}},
			{"no Message-Authenticator", lab.RadclientRequest{Attrs: byID, Unsigned: true, Timeout: time.Second}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				r, err := send(t, tc.req)
				if !errors.Is(err, lab.ErrNoReply) {
					t.Errorf("got %s %v, %v; want no reply", r.Code, r.Attrs, err)
				}
			})
		}
	})
	for _, tc := range []struct {
		name  string
		attrs []lab.RadiusAttr
		cause string
	}{
		{"unknown session", attrs("Acct-Session-Id", "no-such-session"), "Session-Context-Not-Found"},
		{"another NAS", append(attrs("NAS-Identifier", "another-ac"), byID...), "NAS-Identification-Mismatch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := send(t, lab.RadclientRequest{Attrs: tc.attrs})
			if err != nil {
				t.Fatal(err)
			}
			if cause, _ := r.Get("Error-Cause"); r.Code != "Disconnect-NAK" || cause != tc.cause {
				t.Errorf("got %s %v, want Disconnect-NAK with Error-Cause %s", r.Code, r.Attrs, tc.cause)
			}
		})
	}
	// Still up, both.
	// Bounded: a session a request ended goes within seconds.
	sctx, scancel := context.WithTimeout(ctx, 15*time.Second)
	defer scancel()
	st := must[server.Status](t)(a.srv.WaitSessions(sctx, 2))
	for _, c := range []*radClient{cPPPD, cGo} {
		if c.Exited() {
			t.Fatalf("%s ended after requests the AC had to refuse:\n%s", c.kind, lastLines(c.Log(), 20))
		}
		if _, err := c.ns.Ping(ctx, srvLocal, 1); err != nil {
			t.Error(err)
		}
	}
	m := a.metrics(t)
	for series, want := range map[string]float64{
		`pppoed_server_radius_dae_dropped_total{reason="bad_authenticator"}`:        1,
		`pppoed_server_radius_dae_dropped_total{reason="no_message_authenticator"}`: 1,
		"pppoed_server_radius_dae_naks_total":                                       2,
		"pppoed_server_radius_dae_acks_total":                                       0,
	} {
		if got := sample(m, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}

	for _, tc := range []struct {
		name  string
		c     *radClient
		user  string
		attrs []lab.RadiusAttr
	}{
		{"by Acct-Session-Id", cPPPD, "rad-dm-pppd", byID},
		{"by User-Name", cGo, "rad-dm-pppoed", attrs("User-Name", "rad-dm-pppoed", "NAS-Identifier", acNASID)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var id string
			for _, s := range st.Sessions {
				if s.User == tc.user {
					id = s.AcctSessionID
				}
			}
			sent := time.Now()
			r, err := send(t, lab.RadclientRequest{Attrs: tc.attrs})
			if err != nil {
				t.Fatal(err)
			}
			if r.Code != "Disconnect-ACK" {
				t.Fatalf("got %s %v, want Disconnect-ACK", r.Code, r.Attrs)
			}
			tc.c.waitEnd(t, ctx, 20*time.Second, "Disconnect-Request")
			lab.Report(t, "Disconnect-Request %s: %s gone %.2fs after radclient was started", tc.name, tc.c.kind, time.Since(sent).Seconds())
			if !strings.Contains(tc.c.Log(), "Disconnected by RADIUS") {
				t.Errorf("%s was not told why:\n%s", tc.c.kind, lastLines(tc.c.Log(), 20))
			}
			recs, err := a.fr[0].WaitDetail(ctx, "the Stop", hasStatus(id, "Stop"))
			if err != nil {
				t.Fatal(err)
			}
			wantAttrs(t, statusRecord(t, recs, id, "Stop"), "User-Name", tc.user, "Acct-Terminate-Cause", "Admin-Reset")
		})
	}
	waitACEmpty(t, ctx, a.p, a.srv)
	if got := sample(a.metrics(t), "pppoed_server_radius_dae_acks_total"); got != 2 {
		t.Errorf("dae_acks_total = %v, want 2", got)
	}
}

// radiusDown: with order "radius,local", FreeRADIUS stopped: a
// local user still logs in (after RADIUS does not answer), a user RADIUS
// alone knows is refused in bounded time and the AC serves on; a session
// already up stays up; the Stop of a session ended meanwhile (and the
// local user's Start) wait in the AC's spool, shown by its metrics, and
// reach the detail file once FreeRADIUS is back.
func radiusDown(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a := newRadAC(t, radACConfig{
		order: "radius,local",
		users: []lab.RadiusUser{{Name: "rad-stays", Password: "pw"}, {Name: "rad-ends", Password: "pw"}, {Name: "rad-only", Password: "pw"}},
		local: []lab.ACUser{{Name: "local-user", Password: "local pw"}},
	})
	stays := a.dial(t, "pppd", a.p.ClientIf, "rad-stays", "pw", "")
	ends := a.dial(t, "pppoed", station(t, a.p, "rdn1"), "rad-ends", "pw", "")
	for _, c := range []*radClient{stays, ends} {
		if _, err := c.WaitUp(ctx); err != nil {
			t.Fatal(err)
		}
	}
	endsID := a.sessionByUser(t, ctx, "rad-ends").AcctSessionID
	if _, err := a.fr[0].WaitDetail(ctx, "the Starts", hasStatus(endsID, "Start")); err != nil {
		t.Fatal(err)
	}
	if err := a.fr[0].Stop(); err != nil {
		t.Fatal(err)
	}

	var localID string
	t.Run("local user", func(t *testing.T) {
		began := time.Now()
		c := a.dial(t, "pppd", station(t, a.p, "rdn2"), "local-user", "local pw", "chap")
		if _, err := c.WaitUp(ctx); err != nil {
			t.Fatal(err)
		}
		lab.Report(t, "FreeRADIUS down: local user up in %.2fs", time.Since(began).Seconds())
		localID = a.sessionByUser(t, ctx, "local-user").AcctSessionID
		if lineWith(a.srv.Log(), `msg="server: no RADIUS server answered: checking the local user"`, "user=local-user") == "" {
			t.Errorf("the AC did not say it fell back to the local user")
		}
	})
	t.Run("RADIUS-only user", func(t *testing.T) {
		began := time.Now()
		c := a.dial(t, "pppoed", station(t, a.p, "rdn3"), "rad-only", "pw", "pap")
		c.authFailed(t, ctx)
		lab.Report(t, "FreeRADIUS down: RADIUS-only user refused in %.2fs", time.Since(began).Seconds())
		if lineWith(a.srv.Log(), `msg="server: no RADIUS server answered"`, "user=rad-only") == "" {
			t.Errorf("the AC did not say why it refused rad-only")
		}
	})
	// The AC answers and the session up before stays up.
	if _, err := a.srv.StatusCLI(ctx); err != nil {
		t.Fatal(err)
	}
	if stays.Exited() {
		t.Fatalf("the session up before ended:\n%s", lastLines(stays.Log(), 20))
	}
	if _, err := stays.ns.Ping(ctx, srvLocal, 1); err != nil {
		t.Error(err)
	}
	if localID == "" {
		t.FailNow() // the spool's records below would wait for it
	}

	ends.hangUp(t)
	if _, err := a.srv.WaitStatus(ctx, "rad-ends gone", func(st server.Status) bool {
		for _, s := range st.Sessions {
			if s.User == "rad-ends" {
				return false
			}
		}
		return true
	}); err != nil {
		t.Fatal(err)
	}
	m := a.metrics(t)
	if q := sample(m, "pppoed_server_radius_accounting_queue"); q < 2 {
		t.Errorf("accounting_queue = %v while FreeRADIUS is down, want the local user's Start and rad-ends's Stop", q)
	}
	if n := sample(m, `pppoed_server_radius_auth_total{result="local_fallback"}`); n != 1 {
		t.Errorf("local_fallback = %v, want 1", n)
	}
	if n := sample(m, `pppoed_server_radius_auth_total{result="no_server"}`); n != 2 {
		t.Errorf("no_server = %v, want 2 (the local user's and rad-only's)", n)
	}
	if recs, err := a.fr[0].Detail(); err != nil || hasStatus(endsID, "Stop")(recs) {
		t.Fatalf("a Stop in the detail file while FreeRADIUS was down? %v", err)
	}

	restarted := time.Now()
	if err := a.fr[0].Start(); err != nil {
		t.Fatal(err)
	}
	recs, err := a.fr[0].WaitDetail(ctx, "the spooled records", func(recs []lab.AcctRecord) bool {
		return hasStatus(endsID, "Stop")(recs) && hasStatus(localID, "Start")(recs)
	})
	if err != nil {
		t.Fatal(err)
	}
	lab.Report(t, "spooled accounting delivered %.2fs after FreeRADIUS was restarted (started in %v)",
		time.Since(restarted).Seconds(), a.fr[0].StartTime.Round(time.Millisecond))
	wantAttrs(t, statusRecord(t, recs, endsID, "Stop"), "User-Name", "rad-ends", "Acct-Terminate-Cause", "User-Request")
	wantAttrs(t, statusRecord(t, recs, localID, "Start"), "User-Name", "local-user", "Acct-Authentic", "Local")
	if _, err := a.srv.WaitStatus(ctx, "spool empty", func(server.Status) bool {
		return sample(a.metrics(t), "pppoed_server_radius_accounting_queue") == 0
	}); err != nil {
		t.Error(err)
	}
}

// radiusFailover: two FreeRADIUS, each in its own namespace;
// with the first stopped a login goes through the second, its Start
// reaches the second's detail file, and the metrics show the first's
// timeouts and it marked dead.
func radiusFailover(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	a := newRadAC(t, radACConfig{order: "radius", servers: 2, users: []lab.RadiusUser{{Name: "rad-fo", Password: "pw"}}})
	if err := a.fr[0].Stop(); err != nil {
		t.Fatal(err)
	}
	began := time.Now()
	c := a.dial(t, "pppd", a.p.ClientIf, "rad-fo", "pw", "mschap2")
	if _, err := c.WaitUp(ctx); err != nil {
		t.Fatal(err)
	}
	lab.Report(t, "failover: up through the second FreeRADIUS in %.2fs", time.Since(began).Seconds())
	id := a.sessionByUser(t, ctx, "rad-fo").AcctSessionID
	if !strings.Contains(a.fr[1].Log(), "Login OK: [rad-fo]") {
		t.Error("the second FreeRADIUS logged no Login OK")
	}
	if _, err := a.fr[1].WaitDetail(ctx, "the Start", hasStatus(id, "Start")); err != nil {
		t.Fatal(err)
	}
	m := a.metrics(t)
	first, second := `server="10.99.0.2:1812",type="auth"`, `server="10.98.0.2:1812",type="auth"`
	if n := sample(m, "pppoed_server_radius_timeouts_total{"+first+"}"); n < 1 {
		t.Errorf("first server's timeouts %v, want at least 1\n%s", n, m)
	}
	if n := sample(m, "pppoed_server_radius_server_dead{"+first+"}"); n != 1 {
		t.Errorf("first server dead = %v, want 1", n)
	}
	if n := sample(m, "pppoed_server_radius_replies_total{"+second+"}"); n < 1 {
		t.Errorf("second server's replies %v, want at least 1", n)
	}
	if n := sample(m, "pppoed_server_radius_server_dead{"+second+"}"); n != 0 {
		t.Errorf("second server dead = %v, want 0", n)
	}
	if n := sample(m, `pppoed_server_radius_timeouts_total{server="10.99.0.2:1813",type="acct"}`); n < 1 {
		t.Errorf("first server's accounting timeouts %v, want at least 1", n)
	}
	t.Logf("metrics:\n%s", grepLines(m, "pppoed_server_radius_"))
	c.hangUp(t)
}

// grepLines are the lines of s that start with prefix.
func grepLines(s, prefix string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
