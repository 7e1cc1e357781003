package server

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/md5"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/mschap"
	"github.com/pppoed/pppoed/radius"
	"github.com/pppoed/pppoed/status"
	lr "layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/vendors/microsoft"
)

const radiusSecret = "s3cret-radius"

// fakeRADIUS is RADIUS servers in memory (the Server's radiusDial): each
// request goes to answer, which returns the reply (nil: none, as from a
// server that is down). Its checks of what it receives are written here,
// apart from package radius's.
type fakeRADIUS struct {
	t      *testing.T
	mu     sync.Mutex
	down   map[string]bool // addresses that do not answer
	users  map[string]string
	accept func(p *lr.Packet, r *lr.Packet) // adds attributes to an Access-Accept
	reject func(p *lr.Packet, r *lr.Packet) // replaces the Access-Reject's attributes
	got    []fakeReq
}

type fakeReq struct {
	addr string
	p    *lr.Packet
}

func newFakeRADIUS(t *testing.T) *fakeRADIUS {
	return &fakeRADIUS{t: t, down: map[string]bool{}, users: map[string]string{"carol": "carol-pw", "dave": "dave-pw"}}
}

func (f *fakeRADIUS) setDown(addr string, down bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.down[addr] = down
}

func (f *fakeRADIUS) requests(code lr.Code) []fakeReq {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeReq
	for _, r := range f.got {
		if r.p.Code == code {
			out = append(out, r)
		}
	}
	return out
}

// acct returns the accounting records received, by Acct-Status-Type.
func (f *fakeRADIUS) acct(st rfc2866.AcctStatusType) []*lr.Packet {
	var out []*lr.Packet
	for _, r := range f.requests(lr.CodeAccountingRequest) {
		if rfc2866.AcctStatusType_Get(r.p) == st {
			out = append(out, r.p)
		}
	}
	return out
}

func (f *fakeRADIUS) dial(_ context.Context, _, addr string) (net.Conn, error) {
	return &fakeUDP{f: f, addr: addr, in: make(chan []byte, 8), closed: make(chan struct{}), dl: make(chan struct{})}, nil
}

// serve answers one request.
func (f *fakeRADIUS) serve(addr string, b []byte) []byte {
	p, err := lr.Parse(b, []byte(radiusSecret))
	if err != nil {
		f.t.Errorf("fake RADIUS: %v", err)
		return nil
	}
	f.mu.Lock()
	f.got = append(f.got, fakeReq{addr, p})
	down := f.down[addr]
	f.mu.Unlock()
	if down {
		return nil
	}
	switch p.Code {
	case lr.CodeAccountingRequest:
		return sign(p.Response(lr.CodeAccountingResponse), false)
	case lr.CodeAccessRequest:
		if !hasValidMA(b) {
			f.t.Errorf("Access-Request without a valid Message-Authenticator")
			return nil
		}
		name := rfc2865.UserName_GetString(p)
		f.mu.Lock()
		pw, known := f.users[name]
		f.mu.Unlock()
		ok, success := f.check(p, name, pw)
		if !known || !ok {
			r := p.Response(lr.CodeAccessReject)
			rfc2865.ReplyMessage_SetString(r, "Go away "+name)
			if f.reject != nil {
				f.reject(p, r)
			}
			return sign(r, true)
		}
		r := p.Response(lr.CodeAccessAccept)
		if success != nil {
			microsoft.MSCHAP2Success_Add(r, success)
		}
		if f.accept != nil {
			f.accept(p, r)
		}
		return sign(r, true)
	}
	return nil
}

// check verifies the credentials of p; for MS-CHAPv2 it also returns
// MS-CHAP2-Success.
func (f *fakeRADIUS) check(p *lr.Packet, name, pw string) (bool, []byte) {
	if v, err := rfc2865.UserPassword_LookupString(p); err == nil {
		return v == pw, nil
	}
	if cp := rfc2865.CHAPPassword_Get(p); len(cp) == 17 {
		h := md5.New()
		h.Write(cp[:1])
		h.Write([]byte(pw))
		h.Write(rfc2865.CHAPChallenge_Get(p))
		return bytes.Equal(h.Sum(nil), cp[1:]), nil
	}
	if r := microsoft.MSCHAP2Response_Get(p); len(r) == 50 {
		ac := microsoft.MSCHAPChallenge_Get(p)
		if len(ac) != 16 {
			return false, nil
		}
		peer := [16]byte(r[2:18])
		nt := [24]byte(r[26:50])
		if mschap.GenerateNTResponse([16]byte(ac), peer, name, pw) != nt {
			return false, nil
		}
		auth := mschap.GenerateAuthenticatorResponse(pw, nt, peer, [16]byte(ac), name)
		return true, append([]byte{r[0]}, fmt.Sprintf("S=%X", auth)...)
	}
	return false, nil
}

// sign encodes a reply, with a Message-Authenticator when ma (RFC 3579
// §3.2: over the packet with the request's authenticator in place).
func sign(r *lr.Packet, ma bool) []byte {
	if ma {
		rfc2869.MessageAuthenticator_Set(r, make([]byte, 16))
		raw, _ := r.MarshalBinary()
		m := hmac.New(md5.New, []byte(radiusSecret))
		m.Write(raw)
		rfc2869.MessageAuthenticator_Set(r, m.Sum(nil))
	}
	b, err := r.Encode()
	if err != nil {
		panic(err)
	}
	return b
}

func hasValidMA(b []byte) bool {
	for i := 20; i+2 <= len(b); i += int(b[i+1]) {
		if b[i+1] < 2 {
			return false
		}
		if b[i] == 80 && b[i+1] == 18 {
			c := slices.Clone(b)
			clear(c[i+2 : i+18])
			m := hmac.New(md5.New, []byte(radiusSecret))
			m.Write(c)
			return hmac.Equal(m.Sum(nil), b[i+2:i+18])
		}
	}
	return false
}

// fakeUDP is a connected UDP socket to a fakeRADIUS server.
type fakeUDP struct {
	f      *fakeRADIUS
	addr   string
	in     chan []byte
	closed chan struct{}
	once   sync.Once
	mu     sync.Mutex
	dlAt   time.Time
	dl     chan struct{} // closed when the deadline changes
}

func (c *fakeUDP) Write(b []byte) (int, error) {
	if reply := c.f.serve(c.addr, slices.Clone(b)); reply != nil {
		select {
		case c.in <- reply:
		default:
		}
	}
	return len(b), nil
}

func (c *fakeUDP) Read(b []byte) (int, error) {
	for {
		c.mu.Lock()
		at, changed := c.dlAt, c.dl
		c.mu.Unlock()
		var expire <-chan time.Time
		if !at.IsZero() {
			d := time.Until(at)
			if d <= 0 {
				return 0, os.ErrDeadlineExceeded
			}
			t := time.NewTimer(d)
			defer t.Stop()
			expire = t.C
		}
		select {
		case p := <-c.in:
			return copy(b, p), nil
		case <-c.closed:
			return 0, net.ErrClosed
		case <-expire:
			return 0, os.ErrDeadlineExceeded
		case <-changed:
		}
	}
}

func (c *fakeUDP) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.dlAt = t
	close(c.dl)
	c.dl = make(chan struct{})
	return nil
}

func (c *fakeUDP) Close() error                     { c.once.Do(func() { close(c.closed) }); return nil }
func (c *fakeUDP) LocalAddr() net.Addr              { return &net.UDPAddr{} }
func (c *fakeUDP) RemoteAddr() net.Addr             { return &net.UDPAddr{} }
func (c *fakeUDP) SetDeadline(t time.Time) error    { return c.SetReadDeadline(t) }
func (c *fakeUDP) SetWriteDeadline(time.Time) error { return nil }

// radiusConfig is testConfig with RADIUS servers r1 and r2 (both
// authentication and accounting).
func radiusConfig(order AuthOrder) Config {
	cfg := testConfig()
	cfg.RADIUS = &RADIUS{
		Order: order,
		Servers: []RADIUSServer{
			{Auth: "r1:1812", Acct: "r1:1813", Secret: radius.Secret(radiusSecret)},
			{Auth: "r2:1812", Acct: "r2:1813", Secret: radius.Secret(radiusSecret)},
		},
		Timeout: time.Second, Retries: 1,
	}
	return cfg
}

func startRADIUS(t *testing.T, cfg Config, f *fakeRADIUS) *harness {
	return startHarness(t, cfg, harnessOpts{setup: func(s *Server) { s.radiusDial = f.dial }})
}

// Each method through RADIUS: the Access-Request says who and where, the
// Accept's Framed-IP-Address, name servers and reply message reach the
// client; MS-CHAPv2's authenticator response is RADIUS's, checked by
// the client (a wrong one fails it); a wrong password is refused with
// the server's Reply-Message.
func TestRADIUSLogin(t *testing.T) {
	for _, m := range []ppp.AuthMethod{ppp.AuthPAP, ppp.AuthCHAPMD5, ppp.AuthMSCHAPv2} {
		for _, tt := range []struct {
			name      string
			pass      string
			forgeS    bool // RADIUS's MS-CHAP2-Success is for another password
			up        bool
			clientMsg string // in the client's Down detail
		}{
			{"accept", "carol-pw", false, true, ""},
			{"wrong password", "nope", false, false, "Go away carol"},
			{"forged authenticator response", "carol-pw", true, false, "authenticator"},
		} {
			if tt.forgeS && m != ppp.AuthMSCHAPv2 {
				continue
			}
			t.Run(m.String()+"/"+tt.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					f := newFakeRADIUS(t)
					f.accept = func(req, r *lr.Packet) {
						rfc2865.FramedIPAddress_Set(r, net.IPv4(10, 9, 9, 9))
						microsoft.MSPrimaryDNSServer_Set(r, net.IPv4(10, 9, 0, 53))
						if tt.forgeS {
							// Well-formed, but not from the password.
							s := microsoft.MSCHAP2Success_Get(r)[:1]
							s = append(slices.Clone(s), "S="+strings.Repeat("0", 40)...)
							microsoft.MSCHAP2Success_Del(r)
							microsoft.MSCHAP2Success_Add(r, s)
						}
					}
					cfg := radiusConfig(RADIUSOnly)
					cfg.Auth = []ppp.AuthMethod{m}
					h := startRADIUS(t, cfg, f)
					c := h.session("eth0", macA)
					c.login("carol", tt.pass, allow(m))
					up, ok := c.waitIPv4()
					if ok != tt.up {
						t.Fatalf("IPv4 up %v, want %v", ok, tt.up)
					}
					reqs := f.requests(lr.CodeAccessRequest)
					if len(reqs) != 1 || reqs[0].addr != "r1:1812" {
						t.Fatalf("Access-Requests %v, want one to r1", reqs)
					}
					p := reqs[0].p
					for _, a := range []struct{ name, got, want string }{
						{"User-Name", rfc2865.UserName_GetString(p), "carol"},
						{"NAS-Identifier", rfc2865.NASIdentifier_GetString(p), "test-ac"},
						{"NAS-Port-Id", rfc2869.NASPortID_GetString(p), "eth0"},
						{"NAS-Port-Type", fmt.Sprint(rfc2865.NASPortType_Get(p)), fmt.Sprint(rfc2865.NASPortType_Value_Ethernet)},
						{"Calling-Station-Id", rfc2865.CallingStationID_GetString(p), "02-00-00-00-00-0A"},
						{"Called-Station-Id", rfc2865.CalledStationID_GetString(p), "02-AC-00-00-00-01"},
						{"Service-Type", fmt.Sprint(rfc2865.ServiceType_Get(p)), fmt.Sprint(rfc2865.ServiceType_Value_FramedUser)},
						{"Framed-Protocol", fmt.Sprint(rfc2865.FramedProtocol_Get(p)), fmt.Sprint(rfc2865.FramedProtocol_Value_PPP)},
					} {
						if a.got != a.want {
							t.Errorf("%s = %q, want %q", a.name, a.got, a.want)
						}
					}
					if ok {
						if up.Local != ip("10.9.9.9") || up.Peer != ip("10.0.0.1") {
							t.Errorf("client got %s (AC %s), want RADIUS's 10.9.9.9", up.Local, up.Peer)
						}
						if len(up.DNS) == 0 || up.DNS[0] != ip("10.9.0.53") {
							t.Errorf("client's DNS %v, want RADIUS's 10.9.0.53", up.DNS)
						}
						if st := h.s.Status(); st.Sessions[0].User != "carol" {
							t.Errorf("status %+v", st.Sessions[0])
						}
						c.cancel()
						c.waitDown()
					} else {
						d := c.waitDown()
						if d == nil || d.Reason != ppp.ReasonAuthFailed || !strings.Contains(d.Detail, tt.clientMsg) {
							t.Errorf("client: %v, want an authentication failure with %q", d, tt.clientMsg)
						}
					}
					time.Sleep(ppp.DefaultRestart)
					if !c.ended() {
						t.Fatal("the AC's session is still there")
					}
				})
			})
		}
	}
}

// Which names go to RADIUS, and what happens when no server answers,
// under each order.
func TestRADIUSOrder(t *testing.T) {
	tests := []struct {
		order     AuthOrder
		user      string // alice is local; carol is RADIUS's
		pass      string
		down      bool // no RADIUS server answers
		up        bool
		askRADIUS bool
	}{
		{LocalFirst, "alice", "alice-pw", false, true, false},
		{LocalFirst, "alice", "wrong", false, false, false}, // a local user's wrong password is final
		{LocalFirst, "carol", "carol-pw", false, true, true},
		{LocalFirst, "carol", "carol-pw", true, false, true},
		{LocalFirst, "alice", "alice-pw", true, true, false},
		{RADIUSOnly, "alice", "alice-pw", false, false, true}, // RADIUS does not know alice
		{RADIUSOnly, "alice", "alice-pw", true, false, true},
		{RADIUSOnly, "carol", "carol-pw", false, true, true},
		{RADIUSFirst, "carol", "carol-pw", false, true, true},
		{RADIUSFirst, "alice", "alice-pw", false, false, true}, // a reject stands
		{RADIUSFirst, "alice", "alice-pw", true, true, true},   // the fallback
		{RADIUSFirst, "alice", "wrong", true, false, true},
		{RADIUSFirst, "carol", "carol-pw", true, false, true},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%v/%s/%s/down=%v", tt.order, tt.user, tt.pass, tt.down)
		t.Run(name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeRADIUS(t)
				f.setDown("r1:1812", tt.down)
				f.setDown("r2:1812", tt.down)
				cfg := radiusConfig(tt.order)
				cfg.Auth = []ppp.AuthMethod{ppp.AuthCHAPMD5}
				h := startRADIUS(t, cfg, f)
				c := h.session("eth0", macA)
				c.login(tt.user, tt.pass, allow(ppp.AuthCHAPMD5))
				_, ok := c.waitIPv4()
				if ok != tt.up {
					t.Errorf("IPv4 up %v, want %v", ok, tt.up)
				}
				if asked := len(f.requests(lr.CodeAccessRequest)) > 0; asked != tt.askRADIUS {
					t.Errorf("RADIUS asked %v, want %v", asked, tt.askRADIUS)
				}
				if tt.down && tt.askRADIUS {
					// Both servers tried, each Retries+1 times.
					if n := len(f.requests(lr.CodeAccessRequest)); n != 4 {
						t.Errorf("%d Access-Requests, want 4 (2 servers × 2)", n)
					}
				}
				c.cancel()
				c.waitDown()
			})
		})
	}
}

// The second server takes over when the first does not answer, and the
// first, marked dead, is not asked again at the next login.
func TestRADIUSFailover(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		f.setDown("r1:1812", true)
		cfg := radiusConfig(RADIUSOnly)
		cfg.Auth = []ppp.AuthMethod{ppp.AuthPAP}
		h := startRADIUS(t, cfg, f)
		for i, mac := range []net.HardwareAddr{macA, macB} {
			c := h.session("eth0", mac)
			c.login("carol", "carol-pw", allow(ppp.AuthPAP))
			if _, ok := c.waitIPv4(); !ok {
				t.Fatalf("login %d failed", i+1)
			}
		}
		var to []string
		for _, r := range f.requests(lr.CodeAccessRequest) {
			to = append(to, r.addr)
		}
		if want := []string{"r1:1812", "r1:1812", "r2:1812", "r2:1812"}; !slices.Equal(to, want) {
			t.Errorf("Access-Requests went to %v, want %v", to, want)
		}
	})
}

// Accounting: On when the AC starts, Start when the session's first NCP
// is up, Interim-Updates at the interval with pppN's counters, Stop with
// the counters read as the session went down and why it ended, Off when
// the AC stops; one Acct-Session-Id throughout, and Class echoed.
func TestRADIUSAccounting(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		f.accept = func(_, r *lr.Packet) {
			rfc2865.Class_Add(r, []byte("plan-42"))
			rfc2869.AcctInterimInterval_Set(r, 120)
		}
		cfg := radiusConfig(LocalFirst)
		cfg.RADIUS.InterimInterval = time.Hour // the Accept's 120 s wins
		h := startRADIUS(t, cfg, f)
		synctest.Wait()
		if n := len(f.acct(rfc2866.AcctStatusType_Value_AccountingOn)); n != 1 {
			t.Fatalf("%d Accounting-On, want 1", n)
		}
		c, up := h.connect("eth0", macA, "carol", "carol-pw")
		synctest.Wait()
		starts := f.acct(rfc2866.AcctStatusType_Value_Start)
		if len(starts) != 1 {
			t.Fatalf("%d Starts, want 1", len(starts))
		}
		id := rfc2866.AcctSessionID_GetString(starts[0])
		if id == "" || rfc2865.FramedIPAddress_Get(starts[0]).String() != up.Local.String() ||
			string(rfc2865.Class_Get(starts[0])) != "plan-42" || rfc2866.AcctAuthentic_Get(starts[0]) != rfc2866.AcctAuthentic_Value_RADIUS {
			t.Errorf("Start: id %q, Framed-IP %v, Class %q, Authentic %v", id, rfc2865.FramedIPAddress_Get(starts[0]), rfc2865.Class_Get(starts[0]), rfc2866.AcctAuthentic_Get(starts[0]))
		}
		h.k.setCounters("pppt0", status.Counters{RxBytes: 5<<32 | 1000, TxBytes: 2000, RxPackets: 10, TxPackets: 20})
		time.Sleep(121 * time.Second)
		synctest.Wait()
		interims := f.acct(rfc2866.AcctStatusType_Value_InterimUpdate)
		if len(interims) != 1 {
			t.Fatalf("%d Interim-Updates after 121 s, want 1", len(interims))
		}
		in := interims[0]
		if rfc2866.AcctSessionID_GetString(in) != id || rfc2866.AcctInputOctets_Get(in) != 1000 || rfc2869.AcctInputGigawords_Get(in) != 5 ||
			rfc2866.AcctOutputOctets_Get(in) != 2000 || rfc2866.AcctInputPackets_Get(in) != 10 || rfc2866.AcctSessionTime_Get(in) != 120 {
			t.Errorf("Interim-Update: id %q in %d+%dG out %d packets %d time %d", rfc2866.AcctSessionID_GetString(in),
				rfc2866.AcctInputOctets_Get(in), rfc2869.AcctInputGigawords_Get(in), rfc2866.AcctOutputOctets_Get(in),
				rfc2866.AcctInputPackets_Get(in), rfc2866.AcctSessionTime_Get(in))
		}
		h.k.setCounters("pppt0", status.Counters{RxBytes: 3000, TxBytes: 4000, RxPackets: 30, TxPackets: 40})
		c.cancel() // the client's Terminate-Request
		c.waitDown()
		time.Sleep(ppp.DefaultRestart)
		synctest.Wait()
		stops := f.acct(rfc2866.AcctStatusType_Value_Stop)
		if len(stops) != 1 {
			t.Fatalf("%d Stops, want 1", len(stops))
		}
		s := stops[0]
		if rfc2866.AcctSessionID_GetString(s) != id || rfc2866.AcctInputOctets_Get(s) != 3000 || rfc2866.AcctOutputOctets_Get(s) != 4000 ||
			rfc2866.AcctOutputPackets_Get(s) != 40 || rfc2866.AcctTerminateCause_Get(s) != rfc2866.AcctTerminateCause_Value_UserRequest ||
			string(rfc2865.Class_Get(s)) != "plan-42" {
			t.Errorf("Stop: id %q in %d out %d packets %d cause %v class %q", rfc2866.AcctSessionID_GetString(s), rfc2866.AcctInputOctets_Get(s),
				rfc2866.AcctOutputOctets_Get(s), rfc2866.AcctOutputPackets_Get(s), rfc2866.AcctTerminateCause_Get(s), rfc2865.Class_Get(s))
		}
		// A local user's session is accounted too, as Local.
		c2, _ := h.connect("eth0", macB, "alice", "alice-pw")
		synctest.Wait()
		starts = f.acct(rfc2866.AcctStatusType_Value_Start)
		if len(starts) != 2 || rfc2866.AcctAuthentic_Get(starts[1]) != rfc2866.AcctAuthentic_Value_Local || rfc2866.AcctSessionID_GetString(starts[1]) == id {
			t.Errorf("local user's Start: %d Starts", len(starts))
		}
		_ = c2
		h.stop()
		stops = f.acct(rfc2866.AcctStatusType_Value_Stop)
		if len(stops) != 2 || rfc2866.AcctTerminateCause_Get(stops[1]) != rfc2866.AcctTerminateCause_Value_AdminReboot {
			t.Errorf("at shutdown: %d Stops (cause of the last %v), want 2, Admin-Reboot", len(stops), rfc2866.AcctTerminateCause_Get(stops[len(stops)-1]))
		}
		if n := len(f.acct(rfc2866.AcctStatusType_Value_AccountingOff)); n != 1 {
			t.Errorf("%d Accounting-Off, want 1", n)
		}
	})
}

// Accounting records wait while no server answers and are delivered once
// one does; the session is not touched meanwhile.
func TestRADIUSAccountingDelivered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		f.setDown("r1:1813", true)
		f.setDown("r2:1813", true)
		h := startRADIUS(t, radiusConfig(LocalFirst), f)
		c, _ := h.connect("eth0", macA, "alice", "alice-pw")
		time.Sleep(time.Minute)
		synctest.Wait()
		if st := h.s.aaa.acct.Stats(); st.Queued != 2 || st.Sent != 0 {
			t.Fatalf("accounting while the servers are down: %+v, want On and Start queued", st)
		}
		f.setDown("r2:1813", false)
		time.Sleep(time.Minute)
		synctest.Wait()
		if n := len(f.acct(rfc2866.AcctStatusType_Value_Start)); n < 1 {
			t.Fatal("the Start was not delivered once r2 answered")
		}
		if st := h.s.aaa.acct.Stats(); st.Queued != 0 || st.Sent != 2 {
			t.Errorf("accounting: %+v, want On and Start sent", st)
		}
		if c.ended() {
			t.Error("the session ended while accounting waited")
		}
	})
}

// Session-Timeout and Idle-Timeout from the Accept end the session, with
// their Acct-Terminate-Cause.
func TestRADIUSTimeouts(t *testing.T) {
	for _, tt := range []struct {
		name  string
		set   func(r *lr.Packet)
		after time.Duration
		cause rfc2866.AcctTerminateCause
	}{
		{"session", func(r *lr.Packet) { rfc2865.SessionTimeout_Set(r, 30) }, 30 * time.Second, rfc2866.AcctTerminateCause_Value_SessionTimeout},
		// The fake unit never received data: idle from the start.
		{"idle", func(r *lr.Packet) { rfc2865.IdleTimeout_Set(r, 40) }, 40 * time.Second, rfc2866.AcctTerminateCause_Value_IdleTimeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeRADIUS(t)
				f.accept = func(_, r *lr.Packet) { tt.set(r) }
				h := startRADIUS(t, radiusConfig(LocalFirst), f)
				start := time.Now()
				c, _ := h.connect("eth0", macA, "carol", "carol-pw")
				time.Sleep(tt.after - time.Since(start) - time.Second)
				synctest.Wait()
				if c.ended() {
					t.Fatal("the session ended early")
				}
				d := c.waitDown()
				if took := time.Since(start); took < tt.after || took > tt.after+5*time.Second {
					t.Errorf("the session ended after %v, want %v", took, tt.after)
				}
				if d == nil || d.Reason != ppp.ReasonPeerTerminated {
					t.Errorf("client: %v", d)
				}
				time.Sleep(ppp.DefaultRestart)
				synctest.Wait()
				stops := f.acct(rfc2866.AcctStatusType_Value_Stop)
				if len(stops) != 1 || rfc2866.AcctTerminateCause_Get(stops[0]) != tt.cause {
					t.Fatalf("Stops %d, want 1 with cause %v", len(stops), tt.cause)
				}
			})
		})
	}
}

// Disconnect- and CoA-Requests find sessions by every identifier they
// carry; one that names no session is a Session-Context-Not-Found.
func TestRADIUSDynamicAuthorization(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		h := startRADIUS(t, radiusConfig(LocalFirst), f)
		ca, upA := h.connect("eth0", macA, "carol", "carol-pw")
		cb, _ := h.connect("eth0", macB, "dave", "dave-pw")
		synctest.Wait()
		var idA string
		h.s.mu.Lock()
		for _, ss := range h.s.sessions {
			if ss.user == "carol" {
				idA = ss.acctID
			}
		}
		h.s.mu.Unlock()
		for _, tgt := range []radius.Target{
			{Kind: radius.Disconnect, UserName: "nobody"},
			{Kind: radius.Disconnect, AcctSessionID: idA, UserName: "dave"}, // both must match
			{Kind: radius.Disconnect, FramedIP: ip("10.0.0.99")},
			{Kind: radius.Disconnect, UserName: "carol", CallingStationID: "02-00-00-00-00-0B"},
			{Kind: radius.Disconnect, UserName: "carol", NASPortID: "eth1"},
			{Kind: radius.Disconnect, UserName: "carol", CalledStationID: "02-AC-00-00-00-09"},
		} {
			if err := h.s.dynamicAuthorization(tgt); !errors.Is(err, radius.ErrSessionNotFound) {
				t.Errorf("%+v: %v, want not found", tgt, err)
			}
		}
		synctest.Wait()
		if ca.ended() || cb.ended() {
			t.Fatal("a session ended on a request that did not name it")
		}
		// CoA: dave gets a Session-Timeout of 10 s from his login.
		if err := h.s.dynamicAuthorization(radius.Target{Kind: radius.CoA, UserName: "dave", SessionTimeout: 10 * time.Second}); err != nil {
			t.Fatal(err)
		}
		if err := h.s.dynamicAuthorization(radius.Target{Kind: radius.Disconnect, AcctSessionID: idA, FramedIP: upA.Local, CallingStationID: "02-00-00-00-00-0a",
			NASPortID: "eth0", CalledStationID: "02-ac-00-00-00-01"}); err != nil {
			t.Fatal(err)
		}
		if d := ca.waitDown(); d == nil || d.Reason != ppp.ReasonPeerTerminated {
			t.Errorf("carol: %v", d)
		}
		cb.waitDown()
		time.Sleep(ppp.DefaultRestart)
		synctest.Wait()
		causes := map[string]rfc2866.AcctTerminateCause{}
		for _, s := range f.acct(rfc2866.AcctStatusType_Value_Stop) {
			causes[rfc2865.UserName_GetString(s)] = rfc2866.AcctTerminateCause_Get(s)
		}
		if causes["carol"] != rfc2866.AcctTerminateCause_Value_AdminReset || causes["dave"] != rfc2866.AcctTerminateCause_Value_SessionTimeout {
			t.Errorf("causes %v", causes)
		}
	})
}

// A Framed-Pool names the pool the address comes from; one that is not
// defined, or a Framed-IP-Address another session has, refuses the
// session.
func TestRADIUSAddresses(t *testing.T) {
	for _, tt := range []struct {
		name string
		set  func(r *lr.Packet)
		want netip.Addr // invalid: refused
	}{
		{"pool", func(r *lr.Packet) { rfc2869.FramedPool_SetString(r, "other") }, ip("10.1.0.5")},
		{"unknown pool", func(r *lr.Packet) { rfc2869.FramedPool_SetString(r, "nope") }, netip.Addr{}},
		{"NAS chooses", func(r *lr.Packet) { rfc2865.FramedIPAddress_Set(r, net.IPv4(255, 255, 255, 254)) }, ip("10.0.0.10")},
		{"our own address", func(r *lr.Packet) { rfc2865.FramedIPAddress_Set(r, net.IPv4(10, 0, 0, 1)) }, netip.Addr{}},
		{"another session's", func(r *lr.Packet) { rfc2865.FramedIPAddress_Set(r, net.IPv4(10, 0, 0, 10)) }, netip.Addr{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeRADIUS(t)
				f.accept = func(_, r *lr.Packet) { tt.set(r) }
				cfg := radiusConfig(LocalFirst)
				cfg.Pools = append(cfg.Pools, PoolConfig{Name: "other", Ranges: []Range{{ip("10.1.0.5"), ip("10.1.0.6")}}})
				h := startRADIUS(t, cfg, f)
				if tt.name == "another session's" {
					h.connect("eth0", macB, "alice", "alice-pw") // takes 10.0.0.10
				}
				c := h.session("eth0", macA)
				c.login("carol", "carol-pw")
				up, ok := c.waitIPv4()
				if ok != tt.want.IsValid() || (ok && up.Local != tt.want) {
					t.Errorf("up %v with %v, want %v", ok, up.Local, tt.want)
				}
			})
		})
	}
}

// The metrics name each server and the accounting queue.
func TestRADIUSMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		h := startRADIUS(t, radiusConfig(LocalFirst), f)
		h.connect("eth0", macA, "carol", "carol-pw")
		synctest.Wait()
		var b bytes.Buffer
		h.s.Metrics().WritePrometheus(&b)
		for _, want := range []string{
			`pppoed_server_radius_auth_total{result="accept"} 1`,
			`pppoed_server_radius_requests_total{server="r1:1812",type="auth"} 1`,
			`pppoed_server_radius_replies_total{server="r1:1813",type="acct"} 2`,
			`pppoed_server_radius_server_dead{server="r2:1812",type="auth"} 0`,
			`pppoed_server_radius_accounting_queue 0`,
			`pppoed_server_radius_accounting_sent_total 2`,
		} {
			if !strings.Contains(b.String(), want+"\n") {
				t.Errorf("no %q in\n%s", want, b.String())
			}
		}
	})
}

// Bad RADIUS settings are refused with a line naming them.
func TestRADIUSValidate(t *testing.T) {
	for _, tt := range []struct {
		mod  func(r *RADIUS)
		want string
	}{
		{func(r *RADIUS) { r.Servers = nil }, "radius: no server"},
		{func(r *RADIUS) { r.Servers[0].Secret = nil }, "server 1 has no secret"},
		{func(r *RADIUS) { r.Servers[1].Auth, r.Servers[1].Acct = "", "" }, "server 2 serves neither"},
		{func(r *RADIUS) { r.Servers[0].Auth = "r1" }, `server 1: address "r1": want host:port`},
		{func(r *RADIUS) { r.Servers[0].Secret = radius.Secret{} }, "server 1 has no secret"},
		{func(r *RADIUS) { r.Timeout = -1 }, "negative"},
		{func(r *RADIUS) { r.InterimInterval = 59 * time.Second }, "interim-update 59s is under 1m0s"},
		{func(r *RADIUS) {
			r.DAEListen = ":3799"
			r.DAEClients = []radius.DAEClient{{Secret: radius.Secret("x")}}
		}, "incoming client 1 has no address"},
		{func(r *RADIUS) {
			r.DAEListen = ":3799"
			r.DAEClients = []radius.DAEClient{{Prefix: netip.MustParsePrefix("10.0.0.0/8")}}
		}, "incoming client 10.0.0.0/8 has no secret"},
		{func(r *RADIUS) { r.DAEListen = "3799" }, `incoming listen "3799": want host:port`},
		{func(r *RADIUS) { r.InterimInterval = 10 * time.Second }, "interim-update 10s is under 1m0s"},
		{func(r *RADIUS) { r.DAEListen = ":3799" }, "no client may send them"},
		{func(r *RADIUS) { r.Order = 7 }, "AuthOrder(7)"},
	} {
		cfg := radiusConfig(LocalFirst)
		cfg.RADIUS.InterimInterval = minInterim // the least allowed
		tt.mod(cfg.RADIUS)
		err := cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v, want %q", err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), radiusSecret) {
			t.Errorf("%v quotes the secret", err)
		}
	}
}

// Neither the users' passwords nor the RADIUS secret reach the log, even
// with Debug, whether RADIUS accepts, rejects or does not answer.
func TestRADIUSLogsKeepSecrets(t *testing.T) {
	for _, m := range []ppp.AuthMethod{ppp.AuthPAP, ppp.AuthCHAPMD5, ppp.AuthMSCHAPv2} {
		synctest.Test(t, func(t *testing.T) {
			var buf syncBuffer
			f := newFakeRADIUS(t)
			cfg := radiusConfig(RADIUSFirst)
			cfg.Auth = []ppp.AuthMethod{m}
			cfg.Debug = true
			cfg.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			h := startRADIUS(t, cfg, f)
			h.connect("eth0", macA, "carol", "carol-pw", allow(m))
			c := h.session("eth0", macB)
			c.login("dave", "wrong-pw", allow(m))
			c.waitDown()
			f.setDown("r1:1812", true)
			f.setDown("r2:1812", true)
			h.connect("eth0", macC, "alice", "alice-pw", allow(m)) // the local fallback
			h.stop()
			out := buf.String()
			if !strings.Contains(out, "carol") || !strings.Contains(out, "checking the local user") {
				t.Fatalf("the log does not even name the users or the fallback:\n%s", out)
			}
			for _, secret := range []string{"carol-pw", "wrong-pw", "alice-pw", "dave-pw", radiusSecret} {
				if strings.Contains(out, secret) {
					t.Errorf("%v: the log holds %q", m, secret)
				}
			}
		})
	}
}

// An MS-CHAPv2 Accept without MS-CHAP2-Success is no login (the client
// could not check us), and not an outage: no fallback to the local user.
func TestRADIUSAcceptWithoutSuccess(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		f.users["alice"] = "alice-pw"
		f.accept = func(_, r *lr.Packet) { microsoft.MSCHAP2Success_Del(r) }
		cfg := radiusConfig(RADIUSFirst)
		cfg.Auth = []ppp.AuthMethod{ppp.AuthMSCHAPv2}
		h := startRADIUS(t, cfg, f)
		c := h.session("eth0", macA)
		c.login("alice", "alice-pw", allow(ppp.AuthMSCHAPv2))
		if _, ok := c.waitIPv4(); ok {
			t.Fatal("up without MS-CHAP2-Success")
		}
		if n := h.s.aaa.fallbacks.Load(); n != 0 {
			t.Errorf("%d local fallbacks, want 0", n)
		}
	})
}

// What RADIUS says reaches the client in the AC's answer: the
// Reply-Message in the PAP Ack/Nak or CHAP Success/Failure (MS-CHAPv2's
// M=, after RADIUS's S=), RADIUS's own MS-CHAP-Error as the Failure, and
// ppp's texts when RADIUS says nothing.
func TestRADIUSReplyToClient(t *testing.T) {
	const mserr = "E=691 R=0 C=000102030405060708090A0B0C0D0E0F V=3 M=bad"
	for _, tt := range []struct {
		name    string
		m       ppp.AuthMethod
		pass    string
		accept  func(_, r *lr.Packet)
		reject  func(_, r *lr.Packet)
		code    ppp.Code
		message string // the answer's text; with "*", its start
	}{
		{"pap accept", ppp.AuthPAP, "carol-pw", welcome, nil, ppp.CodePAPAuthAck, "Welcome carol"},
		{"pap accept plain", ppp.AuthPAP, "carol-pw", nil, nil, ppp.CodePAPAuthAck, "Login ok"},
		{"pap reject", ppp.AuthPAP, "x", nil, nil, ppp.CodePAPAuthNak, "Go away carol"},
		{"pap reject plain", ppp.AuthPAP, "x", nil, noReplyMessage, ppp.CodePAPAuthNak, "Login incorrect"},
		{"chap accept", ppp.AuthCHAPMD5, "carol-pw", welcome, nil, ppp.CodeCHAPSuccess, "Welcome carol"},
		{"chap accept plain", ppp.AuthCHAPMD5, "carol-pw", nil, nil, ppp.CodeCHAPSuccess, "Access granted"},
		{"chap reject", ppp.AuthCHAPMD5, "x", nil, nil, ppp.CodeCHAPFailure, "Go away carol"},
		{"mschap2 accept", ppp.AuthMSCHAPv2, "carol-pw", welcome, nil, ppp.CodeCHAPSuccess, "S=* M=Welcome carol"},
		{"mschap2 accept plain", ppp.AuthMSCHAPv2, "carol-pw", nil, nil, ppp.CodeCHAPSuccess, "S=* M=Access granted"},
		{"mschap2 reject with MS-CHAP-Error", ppp.AuthMSCHAPv2, "x", nil, func(_, r *lr.Packet) {
			microsoft.MSCHAPError_Add(r, append([]byte{1}, mserr...))
		}, ppp.CodeCHAPFailure, mserr},
		{"mschap2 reject with a bad MS-CHAP-Error", ppp.AuthMSCHAPv2, "x", nil, func(_, r *lr.Packet) {
			microsoft.MSCHAPError_Add(r, []byte("\x01nonsense"))
		}, ppp.CodeCHAPFailure, "E=691 R=0 C=* V=3 M=Go away carol"},
		{"mschap2 reject plain", ppp.AuthMSCHAPv2, "x", nil, noReplyMessage, ppp.CodeCHAPFailure, "E=691 R=0 C=* V=3 M=Access denied"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeRADIUS(t)
				f.accept, f.reject = tt.accept, tt.reject
				cfg := radiusConfig(RADIUSOnly)
				cfg.Auth = []ppp.AuthMethod{tt.m}
				h := startRADIUS(t, cfg, f)
				c := h.session("eth0", macA)
				c.login("carol", tt.pass, allow(tt.m))
				c.waitIPv4()
				var got []string
				for _, p := range c.link.sentPackets() {
					if p.Code != tt.code || (p.Protocol != ppp.ProtoPAP && p.Protocol != ppp.ProtoCHAP) {
						continue
					}
					msg := p.Data
					if p.Protocol == ppp.ProtoPAP {
						r, _ := ppp.ParsePAPResponse(p.Data)
						msg = r.Message
					}
					got = append(got, string(msg))
				}
				if len(got) != 1 || !matches(got[0], tt.message) {
					t.Errorf("answers %q, want one %q", got, tt.message)
				}
			})
		})
	}
}

func welcome(_, r *lr.Packet) { rfc2865.ReplyMessage_SetString(r, "Welcome carol") }

func noReplyMessage(_, r *lr.Packet) { rfc2865.ReplyMessage_Del(r) }

// matches compares s with a pattern whose "*" stands for one word.
func matches(s, pattern string) bool {
	pw, sw := strings.Split(pattern, " "), strings.Split(s, " ")
	if len(pw) != len(sw) {
		return false
	}
	for i := range pw {
		if p, ok := strings.CutSuffix(pw[i], "*"); ok {
			if !strings.HasPrefix(sw[i], p) || len(sw[i]) <= len(p) {
				return false
			}
		} else if pw[i] != sw[i] {
			return false
		}
	}
	return true
}

// MS-CHAPv1 is not sent to RADIUS: the unknown name is refused at once.
func TestRADIUSNoMSCHAPv1(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		cfg := radiusConfig(LocalFirst)
		cfg.Auth = []ppp.AuthMethod{ppp.AuthMSCHAPv1}
		var buf syncBuffer
		cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
		h := startRADIUS(t, cfg, f)
		c := h.session("eth0", macA)
		c.login("carol", "carol-pw", allow(ppp.AuthMSCHAPv1))
		if _, ok := c.waitIPv4(); ok {
			t.Fatal("MS-CHAPv1 through RADIUS came up")
		}
		if n := len(f.requests(lr.CodeAccessRequest)); n != 0 {
			t.Errorf("%d Access-Requests", n)
		}
		if !strings.Contains(buf.String(), "mschap1 is not passed to RADIUS") {
			t.Errorf("the log does not say why:\n%s", buf.String())
		}
		// A local user still logs in with it.
		h.connect("eth0", macB, "alice", "alice-pw", allow(ppp.AuthMSCHAPv1))
	})
}

// Two sessions cannot be given one address by RADIUS, outside the pools
// too.
func TestRADIUSFramedIPTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		f.accept = func(_, r *lr.Packet) { rfc2865.FramedIPAddress_Set(r, net.IPv4(10, 9, 9, 9)) }
		h := startRADIUS(t, radiusConfig(LocalFirst), f)
		_, up := h.connect("eth0", macA, "carol", "carol-pw")
		if up.Local != ip("10.9.9.9") {
			t.Fatalf("first session got %v", up.Local)
		}
		c := h.session("eth0", macB)
		c.login("dave", "dave-pw")
		if up, ok := c.waitIPv4(); ok {
			t.Errorf("second session up with %v", up.Local)
		}
	})
}

// A CoA's Session-Timeout counts from the login, and Idle-Timeout from
// the last data received.
func TestRADIUSTimeoutsCounted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		f.accept = func(req, r *lr.Packet) {
			if rfc2865.UserName_GetString(req) == "dave" {
				rfc2865.IdleTimeout_Set(r, 40)
			}
		}
		h := startRADIUS(t, radiusConfig(LocalFirst), f)
		start := time.Now()
		carol, _ := h.connect("eth0", macA, "carol", "carol-pw")
		dave, _ := h.connect("eth0", macB, "dave", "dave-pw")
		time.Sleep(5 * time.Second)
		if err := h.s.dynamicAuthorization(radius.Target{Kind: radius.CoA, UserName: "carol", SessionTimeout: 10 * time.Second}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(4 * time.Second)
		if carol.ended() {
			t.Fatalf("carol's session ended after %v, want 10 s from her login", time.Since(start))
		}
		time.Sleep(2 * time.Second)
		if !carol.ended() {
			t.Fatalf("carol's session still up after %v, want 10 s from her login", time.Since(start))
		}
		time.Sleep(9 * time.Second)
		dave.link.received() // at 20 s: idle from then
		time.Sleep(30 * time.Second)
		synctest.Wait()
		if dave.ended() {
			t.Fatalf("dave's session ended %v after its last data", time.Since(start)-20*time.Second)
		}
		dave.waitDown()
		if took := time.Since(start); took < 60*time.Second || took > 62*time.Second {
			t.Errorf("dave's session ended after %v, want 40 s after the data at 20 s", took)
		}
	})
}

// A stop while no accounting server answers waits a bounded time for the
// spool, says what was lost, and returns.
func TestRADIUSShutdownUndelivered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		f.setDown("r1:1813", true)
		f.setDown("r2:1813", true)
		cfg := radiusConfig(LocalFirst)
		var buf syncBuffer
		cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
		h := startRADIUS(t, cfg, f)
		h.connect("eth0", macA, "alice", "alice-pw")
		start := time.Now()
		h.stop()
		if took := time.Since(start); took > acctFlushTimeout+5*time.Second {
			t.Errorf("stop took %v", took)
		}
		if !strings.Contains(buf.String(), "accounting records not delivered at shutdown") {
			t.Errorf("the log does not say records were lost:\n%s", buf.String())
		}
	})
}

func TestAuthOrderNames(t *testing.T) {
	for _, o := range []AuthOrder{LocalFirst, RADIUSOnly, RADIUSFirst} {
		got, err := ParseAuthOrder(o.String())
		if err != nil || got != o {
			t.Errorf("%v: parsed as %v, %v", o, got, err)
		}
	}
	if s := AuthOrder(3).String(); s != "AuthOrder(3)" {
		t.Errorf("AuthOrder(3) is %q", s)
	}
	if _, err := ParseAuthOrder("ldap"); err == nil || !strings.Contains(err.Error(), `"ldap" is not one of local,radius, radius, radius,local`) {
		t.Errorf("ParseAuthOrder(ldap): %v", err)
	}
}

// A server for accounting only: local users log in and are accounted,
// other names are refused without asking anyone, and the file's
// interim-update applies when there is no Accept to give one.
func TestRADIUSAccountingOnly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		cfg := radiusConfig(LocalFirst)
		cfg.RADIUS.Servers = []RADIUSServer{{Acct: "r1:1813", Secret: radius.Secret(radiusSecret)}}
		cfg.RADIUS.InterimInterval = 2 * time.Minute
		h := startRADIUS(t, cfg, f)
		if h.s.aaa.auth != nil {
			t.Fatal("an authentication client without an authentication server")
		}
		c := h.session("eth0", macA)
		c.login("carol", "carol-pw")
		if _, ok := c.waitIPv4(); ok {
			t.Fatal("carol logged in without an authentication server")
		}
		h.connect("eth0", macB, "alice", "alice-pw")
		time.Sleep(119 * time.Second)
		synctest.Wait()
		if n := len(f.acct(rfc2866.AcctStatusType_Value_InterimUpdate)); n != 0 {
			t.Errorf("%d Interim-Updates before 2 min", n)
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if n := len(f.acct(rfc2866.AcctStatusType_Value_InterimUpdate)); n != 1 {
			t.Errorf("%d Interim-Updates at 2 min, want 1", n)
		}
		if n := len(f.requests(lr.CodeAccessRequest)); n != 0 {
			t.Errorf("%d Access-Requests", n)
		}
	})
}

// Records the spool has no room for are logged, not lost silently.
func TestRADIUSSpoolFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		f.setDown("r1:1813", true)
		f.setDown("r2:1813", true)
		cfg := radiusConfig(LocalFirst)
		cfg.RADIUS.Spool = 1
		var buf syncBuffer
		cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
		h := startRADIUS(t, cfg, f)
		h.connect("eth0", macA, "alice", "alice-pw") // its Start finds the On in the spool
		h.stop()
		for _, want := range []string{"Start for session", "Stop for session", "Accounting-Off for session"} {
			if !slices.ContainsFunc(strings.Split(buf.String(), "\n"), func(l string) bool {
				return strings.Contains(l, `msg="server: accounting"`) && strings.Contains(l, `err="radius: accounting spool full: `+want)
			}) {
				t.Errorf("no line for %q in\n%s", want, buf.String())
			}
		}
		var b bytes.Buffer
		h.s.Metrics().WritePrometheus(&b)
		if !strings.Contains(b.String(), "pppoed_server_radius_accounting_overflow_total 3\n") {
			t.Errorf("overflow not counted:\n%s", b.String())
		}
	})
}

// A CoA with a Session-Timeout of 0 takes the Accept's away.
func TestRADIUSCoARemovesTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		f.accept = func(_, r *lr.Packet) { rfc2865.SessionTimeout_Set(r, 30) }
		h := startRADIUS(t, radiusConfig(LocalFirst), f)
		c, _ := h.connect("eth0", macA, "carol", "carol-pw")
		if err := h.s.dynamicAuthorization(radius.Target{Kind: radius.CoA, UserName: "carol"}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Minute)
		if c.ended() {
			t.Error("the session ended at the Accept's Session-Timeout after a CoA removed it")
		}
	})
}

// A session's Access-Requests are bounded: a peer renegotiating LCP in a
// loop (each renegotiation authenticates again) cannot make one per
// renegotiation to the shared servers.
func TestRADIUSVerifyBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		h := startRADIUS(t, radiusConfig(LocalFirst), f)
		c := h.session("eth0", macA)
		h.s.mu.Lock()
		var ss *session
		for _, x := range h.s.sessions {
			ss = x
		}
		h.s.mu.Unlock()
		cred := ppp.Credentials{Method: ppp.AuthPAP, User: "carol", Password: []byte("carol-pw")}
		for i := range maxVerifies + 2 {
			v := ss.verify(context.Background(), cred)
			if want := i < maxVerifies; v.Accept != want {
				t.Errorf("verify %d: %+v, want accept %v", i+1, v, want)
			}
			time.Sleep(time.Second)
		}
		if n := len(f.requests(lr.CodeAccessRequest)); n != maxVerifies {
			t.Errorf("%d Access-Requests, want %d", n, maxVerifies)
		}
		time.Sleep(verifyWindow)
		if v := ss.verify(context.Background(), cred); !v.Accept {
			t.Errorf("after the window: %+v", v)
		}
		_ = c
	})
}
