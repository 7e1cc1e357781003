package server

import (
	"context"
	"errors"
	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/radius"
	"github.com/pppoed/pppoed/status"
	"layeh.com/radius/rfc2869"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	lr "layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
)

// an LCP renegotiation by the client (RFC 1661 §3.5: authentication
// again) must not restart the Session-Timeout RADIUS gave: it is the
// maximum service time of the session (RFC 2865 §5.27).
func TestRADIUSSessionTimeoutSurvivesRenegotiation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		f.accept = func(_, r *lr.Packet) { rfc2865.SessionTimeout_Set(r, 30) }
		h := startRADIUS(t, radiusConfig(LocalFirst), f)
		start := time.Now()
		c, _ := h.connect("eth0", macA, "carol", "carol-pw")
		time.Sleep(20*time.Second - time.Since(start))
		// The client renegotiates LCP: an empty Configure-Request.
		_ = clientEnd{c.link}.WriteFrame(ppp.ProtoLCP, []byte{byte(ppp.CodeConfReq), 0x55, 0, 4})
		synctest.Wait()
		if n := len(f.requests(lr.CodeAccessRequest)); n != 2 {
			t.Fatalf("%d Access-Requests, want 2 (the renegotiation authenticates again)", n)
		}
		time.Sleep(35*time.Second - time.Since(start))
		synctest.Wait()
		if !c.ended() {
			t.Errorf("session still up %v after login; Session-Timeout was 30 s", time.Since(start))
		}
		c.waitDown()
		t.Logf("ended after %v", time.Since(start))
		time.Sleep(ppp.DefaultRestart)
		synctest.Wait()
		if stops := f.acct(rfc2866.AcctStatusType_Value_Stop); len(stops) != 1 {
			t.Errorf("%d Stops", len(stops))
		}
	})
}

// a session that ends while its Access-Request is in flight is no
// RADIUS outage: not counted as no_server, no local fallback taken or
// logged.
func TestRADIUSVerifyCancelledIsNoOutage(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		f.setDown("r1:1812", true) // slow: the request is still in flight at the kick
		cfg := radiusConfig(RADIUSFirst)
		cfg.RADIUS.Timeout = 10 * time.Second
		cfg.Auth = []ppp.AuthMethod{ppp.AuthCHAPMD5}
		var buf syncBuffer
		cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
		h := startRADIUS(t, cfg, f)
		c := h.session("eth0", macA)
		c.login("alice", "alice-pw", allow(ppp.AuthCHAPMD5))
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if n := len(f.requests(lr.CodeAccessRequest)); n != 1 {
			t.Fatalf("%d Access-Requests in flight, want 1", n)
		}
		if _, err := h.s.Kick("", c.id); err != nil {
			t.Fatal(err)
		}
		c.waitDown()
		time.Sleep(time.Second)
		synctest.Wait()
		if n, fb := h.s.aaa.unavailable.Load(), h.s.aaa.fallbacks.Load(); n != 0 || fb != 0 {
			t.Errorf("no_server %d, local_fallback %d after a kick; want 0, 0", n, fb)
		}
		if strings.Contains(buf.String(), "no RADIUS server answered") {
			t.Errorf("a kicked session's request logged as an outage:\n%s", buf.String())
		}
	})
}

// radius,local with a RADIUS timeout and retries that add up to
// ppp's authentication timeout (30 s): with every server down the
// local fallback never gets to answer.
func TestRADIUSFallbackWithinAuthTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		f.setDown("r1:1812", true)
		cfg := radiusConfig(RADIUSFirst)
		// radiusclient's/pppd radius plugin's usual 10 s, 2 retries, one server.
		cfg.RADIUS.Servers = cfg.RADIUS.Servers[:1]
		cfg.RADIUS.Timeout = 10 * time.Second
		cfg.RADIUS.Retries = 2
		cfg.Auth = []ppp.AuthMethod{ppp.AuthCHAPMD5}
		if err := cfg.Validate(); err != nil {
			t.Skipf("refused by Validate (a fix): %v", err)
		}
		h := startRADIUS(t, cfg, f)
		c := h.session("eth0", macA)
		c.login("alice", "alice-pw", allow(ppp.AuthCHAPMD5))
		if _, ok := c.waitIPv4(); !ok {
			t.Errorf("the local user did not log in with RADIUS down (radius,local); fallbacks %d", h.s.aaa.fallbacks.Load())
		}
	})
}

// blockingKernel holds the next counters call until release is closed.
type blockingKernel struct {
	*fakeKernel
	mu      sync.Mutex
	block   bool
	release chan struct{}
}

func (k *blockingKernel) counters(ifname string) (*status.Counters, error) {
	k.mu.Lock()
	b := k.block
	k.block = false
	k.mu.Unlock()
	c, err := k.fakeKernel.counters(ifname)
	if b {
		<-k.release // read, then slow to come back (a busy netlink worker, a preempted goroutine)
	}
	return c, err
}

// an Interim-Update whose counters were read as the session ended
// goes after its Stop: RFC 2866 has nothing after a Stop, and a server
// that upserts on Interim re-opens the session in its database.
func TestRADIUSNoInterimAfterStop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		f.accept = func(_, r *lr.Packet) { rfc2869.AcctInterimInterval_Set(r, 60) }
		bk := &blockingKernel{release: make(chan struct{})}
		h := startHarness(t, radiusConfig(LocalFirst), harnessOpts{setup: func(s *Server) {
			s.radiusDial = f.dial
			bk.fakeKernel = s.kernel.(*fakeKernel)
			s.kernel = bk
		}})
		c, _ := h.connect("eth0", macA, "carol", "carol-pw")
		bk.mu.Lock()
		bk.block = true
		bk.mu.Unlock()
		time.Sleep(61 * time.Second) // the tick reads, and is held
		synctest.Wait()
		c.cancel()
		c.waitDown()
		time.Sleep(ppp.DefaultRestart)
		synctest.Wait()
		close(bk.release)
		time.Sleep(time.Second)
		synctest.Wait()
		var seq []string
		for _, r := range f.requests(lr.CodeAccountingRequest) {
			seq = append(seq, rfc2866.AcctStatusType_Get(r.p).String())
		}
		if seq[len(seq)-1] != rfc2866.AcctStatusType_Value_Stop.String() {
			t.Errorf("accounting %v: the Stop is not last", seq)
		}
	})
}

// vanishingKernel is the fake kernel whose pppN's counters go with its
// link, as the real pppN does.
type vanishingKernel struct{ *fakeKernel }

func (k vanishingKernel) counters(ifname string) (*status.Counters, error) {
	k.mu.Lock()
	for _, l := range k.links {
		if l.name == ifname && l.isClosed() {
			k.mu.Unlock()
			return nil, errors.New("no such device")
		}
	}
	k.mu.Unlock()
	return k.fakeKernel.counters(ifname)
}

// every way a session ends sends one Stop, with pppN's counters read
// before pppN went, and the right cause.
func TestRADIUSStopEveryEnding(t *testing.T) {
	for _, tt := range []struct {
		name  string
		end   func(h *harness, c *client)
		cause rfc2866.AcctTerminateCause
	}{
		{"client terminate", func(h *harness, c *client) { c.cancel() }, rfc2866.AcctTerminateCause_Value_UserRequest},
		{"client PADT", func(h *harness, c *client) {
			h.send("eth0", acMAC0, macA, &discovery.Packet{Code: discovery.CodePADT, SessionID: c.id})
		}, rfc2866.AcctTerminateCause_Value_UserRequest},
		{"kick", func(h *harness, c *client) { h.s.Kick("carol", 0) }, rfc2866.AcctTerminateCause_Value_AdminReset},
		{"disconnect", func(h *harness, c *client) {
			h.s.dynamicAuthorization(radius.Target{Kind: radius.Disconnect, UserName: "carol"})
		}, rfc2866.AcctTerminateCause_Value_AdminReset},
		{"echo", func(h *harness, c *client) { c.link.setMute(true) }, rfc2866.AcctTerminateCause_Value_LostCarrier},
		{"shutdown", func(h *harness, c *client) { h.cancel(); h.waitRun() }, rfc2866.AcctTerminateCause_Value_AdminReboot},
	} {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				f := newFakeRADIUS(t)
				cfg := radiusConfig(LocalFirst)
				cfg.KeepaliveTimeout = 10 * time.Second
				h := startHarness(t, cfg, harnessOpts{setup: func(s *Server) {
					s.radiusDial = f.dial
					s.kernel = vanishingKernel{s.kernel.(*fakeKernel)}
				}})
				c, _ := h.connect("eth0", macA, "carol", "carol-pw")
				h.k.setCounters("pppt0", status.Counters{RxBytes: 3000, TxBytes: 4000, RxPackets: 30, TxPackets: 40})
				tt.end(h, c)
				time.Sleep(time.Minute)
				synctest.Wait()
				stops := f.acct(rfc2866.AcctStatusType_Value_Stop)
				if len(stops) != 1 {
					t.Fatalf("%d Stops", len(stops))
				}
				s := stops[0]
				if rfc2866.AcctInputOctets_Get(s) != 3000 || rfc2866.AcctOutputOctets_Get(s) != 4000 || rfc2866.AcctTerminateCause_Get(s) != tt.cause {
					t.Errorf("Stop: in %d out %d cause %v, want 3000 4000 %v", rfc2866.AcctInputOctets_Get(s), rfc2866.AcctOutputOctets_Get(s), rfc2866.AcctTerminateCause_Get(s), tt.cause)
				}
			})
		})
	}
}

// the Stop names the address the session had (Framed-IP-Address),
// as its Start and Interim-Updates did.
func TestRADIUSStopHasFramedIP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		h := startRADIUS(t, radiusConfig(LocalFirst), f)
		c, up := h.connect("eth0", macA, "carol", "carol-pw")
		c.cancel()
		c.waitDown()
		time.Sleep(ppp.DefaultRestart)
		synctest.Wait()
		stops := f.acct(rfc2866.AcctStatusType_Value_Stop)
		if len(stops) != 1 {
			t.Fatalf("%d Stops", len(stops))
		}
		if got := rfc2865.FramedIPAddress_Get(stops[0]); got == nil || got.String() != up.Local.String() {
			t.Errorf("Stop's Framed-IP-Address %v, want %v (the Start's)", got, up.Local)
		}
	})
}

// a client that closes IPCP before LCP (an IPCP Terminate-Request,
// then LCP's) logs off as a user: its Stop says User-Request.
func TestRADIUSIPCPTerminateIsUserRequest(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		h := startRADIUS(t, radiusConfig(LocalFirst), f)
		c, _ := h.connect("eth0", macA, "carol", "carol-pw")
		_ = clientEnd{c.link}.WriteFrame(ppp.ProtoIPCP, []byte{byte(ppp.CodeTermReq), 0x77, 0, 4})
		synctest.Wait()
		c.cancel()
		c.waitDown()
		time.Sleep(time.Minute)
		synctest.Wait()
		stops := f.acct(rfc2866.AcctStatusType_Value_Stop)
		if len(stops) != 1 || rfc2866.AcctTerminateCause_Get(stops[0]) != rfc2866.AcctTerminateCause_Value_UserRequest {
			for _, s := range stops {
				t.Logf("Stop cause %v", rfc2866.AcctTerminateCause_Get(s))
			}
			t.Errorf("%d Stops, want 1 with User-Request", len(stops))
		}
	})
}

// A Framed-IP-Address is claimed from the authorization on: a second
// session given it before the first is up is refused, and the claim goes
// with the first session.
func TestRADIUSFramedIPClaimedEarly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		f.accept = func(_, r *lr.Packet) { rfc2865.FramedIPAddress_Set(r, net.IPv4(10, 9, 9, 9)) }
		h := startRADIUS(t, radiusConfig(LocalFirst), f)
		c := h.session("eth0", macA)
		c.login("carol", "carol-pw")
		h.s.mu.Lock()
		var first *session
		for _, ss := range h.s.sessions {
			first = ss
		}
		h.s.mu.Unlock()
		if _, ok := c.waitIPv4(); !ok {
			t.Fatal("first session not up")
		}
		// As if IPCP had not come up yet: only the claim holds it.
		h.s.mu.Lock()
		first.remote = netip.Addr{}
		h.s.mu.Unlock()
		c2 := h.session("eth0", macB)
		c2.login("dave", "dave-pw")
		if _, ok := c2.waitIPv4(); ok {
			t.Error("the second session got the claimed address")
		}
		c.cancel()
		c.waitDown()
		time.Sleep(ppp.DefaultRestart)
		c3, up := h.connect("eth0", macC, "dave", "dave-pw")
		if up.Local != ip("10.9.9.9") {
			t.Errorf("after the first session: %v", up.Local)
		}
		_ = c3
	})
}

// Access-Requests outstanding at once are bounded: a login waits for a
// slot (while the servers are slow) instead of adding a request.
func TestRADIUSInflightBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		f.setDown("r1:1812", true)
		f.setDown("r2:1812", true)
		h := startRADIUS(t, radiusConfig(RADIUSOnly), f)
		h.s.aaa.inflight = make(chan struct{}, 1)
		a := h.session("eth0", macA)
		a.login("carol", "carol-pw")
		time.Sleep(100 * time.Millisecond)
		b := h.session("eth0", macB)
		b.login("dave", "dave-pw")
		time.Sleep(time.Second / 2)
		synctest.Wait()
		if n := len(f.requests(lr.CodeAccessRequest)); n != 1 {
			t.Errorf("%d Access-Requests with one slot, want 1", n)
		}
		a.waitDown()
		b.waitDown()
	})
}

// A renegotiation's authentication adds no second idle timer: once the
// session has ended, no timer of it is left to fire.
func TestRADIUSRenegotiationOneIdleTimer(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		f.accept = func(_, r *lr.Packet) { rfc2865.IdleTimeout_Set(r, 40) }
		var buf syncBuffer
		cfg := radiusConfig(LocalFirst)
		cfg.Logger = slog.New(slog.NewTextHandler(&buf, nil))
		h := startRADIUS(t, cfg, f)
		c, _ := h.connect("eth0", macA, "carol", "carol-pw")
		time.Sleep(20 * time.Second)
		_ = clientEnd{c.link}.WriteFrame(ppp.ProtoLCP, []byte{byte(ppp.CodeConfReq), 0x55, 0, 4})
		synctest.Wait()
		if n := len(f.requests(lr.CodeAccessRequest)); n != 2 {
			t.Fatalf("%d Access-Requests, want 2", n)
		}
		time.Sleep(5 * time.Second)
		c.cancel()
		c.waitDown()
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if strings.Contains(buf.String(), "idle timeout") {
			t.Errorf("an idle timer fired after the session ended:\n%s", buf.String())
		}
	})
}

// poisonConn loses the Accounting-Requests about one user, as a server
// whose accounting module fails on one record does not answer it.
type poisonConn struct {
	net.Conn
	user string
}

func (c poisonConn) Write(b []byte) (int, error) {
	if p, err := lr.Parse(b, []byte(radiusSecret)); err == nil && p.Code == lr.CodeAccountingRequest && rfc2865.UserName_GetString(p) == c.user {
		return len(b), nil
	}
	return c.Conn.Write(b)
}

// one record no server acknowledges holds every other session's
// accounting behind it, for ever.
func TestRADIUSAccountingHeadOfLine(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		f := newFakeRADIUS(t)
		h := startHarness(t, radiusConfig(LocalFirst), harnessOpts{setup: func(s *Server) {
			s.radiusDial = func(ctx context.Context, n, a string) (net.Conn, error) {
				c, err := f.dial(ctx, n, a)
				return poisonConn{c, "carol"}, err
			}
		}})
		h.connect("eth0", macA, "carol", "carol-pw")
		time.Sleep(time.Second)
		h.connect("eth0", macB, "dave", "dave-pw")
		time.Sleep(10 * time.Minute)
		synctest.Wait()
		for _, r := range f.acct(rfc2866.AcctStatusType_Value_Start) {
			if rfc2865.UserName_GetString(r) == "dave" {
				return
			}
		}
		t.Errorf("dave's Start not delivered in 10 min: carol's unanswered Start holds it (queue %+v)", h.s.aaa.acct.Stats())
	})
}
