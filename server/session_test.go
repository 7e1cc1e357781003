package server

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/pppox"
	"github.com/pppoed/pppoed/secrets"
	"github.com/vishvananda/netlink"
)

func parseSecrets(t *testing.T, text string) []secrets.Entry {
	t.Helper()
	es, err := secrets.Parse(strings.NewReader(text), "chap-secrets")
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func allow(m ppp.AuthMethod) func(*ppp.Config) {
	return func(c *ppp.Config) { c.Allow = []ppp.AuthMethod{m} }
}

func (h *harness) poolUsed(name string) int { return h.s.pools[name].Used() }

// Logins with each method against static users and secrets entries: the
// address each gets (a secrets entry's single address is the user's, "*"
// takes one from the pool, no address rule allows none: pppd's
// auth_ip_addr), and refusals.
func TestLogin(t *testing.T) {
	const secretsFile = `
# client  server   secret     addresses
carol     *        carol-pw   10.0.0.77
dan       test-ac  dan-pw     *
erin      *        erin-pw
frank     *        frank-pw   10.0.0.11
gina      other-ac gina-pw    *
hal       *        hal-pw     10.0.0.0/24
ivy       *        ivy-pw     !10.0.0.10 10.0.0.0/24
`
	methods := []ppp.AuthMethod{ppp.AuthPAP, ppp.AuthCHAPMD5, ppp.AuthMSCHAPv2}
	tests := []struct {
		name, user, pass string
		want             netip.Addr // invalid: no session
		authFails        bool
		poolUsed         int // while up
	}{
		{"static user", "alice", "alice-pw", ip("10.0.0.10"), false, 1},
		{"wrong password", "alice", "bob-pw", netip.Addr{}, true, 0},
		{"unknown user", "mallory", "x", netip.Addr{}, true, 0},
		{"secrets: one address outside the pool", "carol", "carol-pw", ip("10.0.0.77"), false, 0},
		{"secrets: one address in the pool, reserved", "frank", "frank-pw", ip("10.0.0.11"), false, 1},
		{"secrets: *, for our name", "dan", "dan-pw", ip("10.0.0.10"), false, 1},
		{"secrets: a subnet", "hal", "hal-pw", ip("10.0.0.10"), false, 1},
		{"secrets: no address rule allows none", "erin", "erin-pw", netip.Addr{}, false, 0},
		{"secrets: the pool's address denied", "ivy", "ivy-pw", netip.Addr{}, false, 0},
		{"secrets: another server's entry", "gina", "gina-pw", netip.Addr{}, true, 0},
		{"secrets: wrong password", "carol", "alice-pw", netip.Addr{}, true, 0},
	}
	for _, m := range methods {
		for _, tt := range tests {
			t.Run(m.String()+"/"+tt.name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					cfg := testConfig()
					cfg.Auth = []ppp.AuthMethod{m}
					cfg.Secrets = parseSecrets(t, secretsFile)
					h := startHarness(t, cfg)
					c := h.session("eth0", macA)
					c.login(tt.user, tt.pass, allow(m))
					up, ok := c.waitIPv4()
					if ok != tt.want.IsValid() {
						t.Fatalf("IPv4 up %v (%+v), want %v", ok, up, tt.want.IsValid())
					}
					if ok {
						if up.Local != tt.want || up.Peer != ip("10.0.0.1") {
							t.Errorf("client got %s (AC %s), want %s (AC 10.0.0.1)", up.Local, up.Peer, tt.want)
						}
						if !slices.Contains(h.k.callLog(), "addAddr pppt0 10.0.0.1 "+tt.want.String()) {
							t.Errorf("kernel: %q", h.k.callLog())
						}
						if n := h.poolUsed("pool"); n != tt.poolUsed {
							t.Errorf("%d addresses of the pool in use, want %d", n, tt.poolUsed)
						}
						if st := h.s.Status(); st.Sessions[0].User != tt.user || st.Sessions[0].Remote != tt.want {
							t.Errorf("status %+v", st.Sessions[0])
						}
						c.cancel()
						c.waitDown()
						time.Sleep(ppp.DefaultRestart)
					} else {
						d := c.waitDown()
						if tt.authFails && (d == nil || d.Reason != ppp.ReasonAuthFailed) {
							t.Errorf("client: %v, want an authentication failure", d)
						}
					}
					if !c.ended() {
						t.Fatal("the AC's session is still there")
					}
					if n := h.poolUsed("pool"); n != 0 {
						t.Errorf("%d addresses of the pool in use after the session", n)
					}
					cs := h.counters()
					if want := map[bool]uint64{true: 1}[tt.authFails]; cs.AuthFailures != want {
						t.Errorf("AuthFailures = %d, want %d", cs.AuthFailures, want)
					}
					if want := map[bool]uint64{true: 1}[tt.want.IsValid()]; cs.SessionsUp != want {
						t.Errorf("SessionsUp = %d, want %d", cs.SessionsUp, want)
					}
				})
			})
		}
	}
}

// A user's profile gives its session our address, the name servers and
// the pool, whatever the interface's default profile.
func TestProfileByUser(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Profiles = append(cfg.Profiles, Profile{
			Name: "staff", LocalAddress: ip("10.1.0.1"), RemotePool: "staff",
			DNS: []netip.Addr{ip("10.1.0.53"), ip("10.1.0.54")}, MTU: 1400,
		})
		cfg.Pools = append(cfg.Pools, PoolConfig{Name: "staff", Ranges: []Range{{ip("10.1.0.10"), ip("10.1.0.20")}}})
		cfg.Users = append(cfg.Users, User{Name: "sam", Password: "sam-pw", Profile: "staff"})
		h := startHarness(t, cfg)
		_, up := h.connect("eth0", macA, "sam", "sam-pw")
		want := ppp.IPv4Up{Local: ip("10.1.0.10"), Peer: ip("10.1.0.1"), DNS: []netip.Addr{ip("10.1.0.53"), ip("10.1.0.54")}}
		if up.Local != want.Local || up.Peer != want.Peer || !slices.Equal(up.DNS, want.DNS) {
			t.Errorf("sam got %+v, want %+v", up, want)
		}
		if h.poolUsed("staff") != 1 || h.poolUsed("pool") != 0 {
			t.Errorf("pools in use: staff %d, default %d", h.poolUsed("staff"), h.poolUsed("pool"))
		}
		// pppN's MTU is LCP's until the user is known, then the
		// profile's, before the interface is up.
		if log := h.k.callLog(); !slices.Equal(log, []string{"open pppt0", "setMTU pppt0 1492", "setMTU pppt0 1400", "addAddr pppt0 10.1.0.1 10.1.0.10", "up pppt0"}) {
			t.Errorf("kernel: %q", log)
		}
		// The default profile still serves the others.
		_, up = h.connect("eth0", macB, "alice", "alice-pw")
		if up.Local != ip("10.0.0.10") || up.Peer != ip("10.0.0.1") || !slices.Equal(up.DNS, []netip.Addr{ip("10.0.0.53")}) {
			t.Errorf("alice got %+v", up)
		}
		if log := h.k.callLog(); slices.Contains(log, "setMTU pppt1 1400") {
			t.Errorf("the staff profile's MTU on alice's pppN: %q", log)
		}
	})
}

// The profile's own address is never handed out, even when it falls in
// its pool.
func TestLocalAddressNotHandedOut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Pools[0].Ranges = []Range{{ip("10.0.0.1"), ip("10.0.0.2")}}
		h := startHarness(t, cfg)
		_, up := h.connect("eth0", macA, "alice", "alice-pw")
		if up.Local != ip("10.0.0.2") {
			t.Errorf("alice got %s", up.Local)
		}
		c := h.session("eth0", macB)
		c.login("bob", "bob-pw")
		if up, ok := c.waitIPv4(); ok {
			t.Errorf("bob got %s from a pool whose other address is the AC's", up.Local)
		}
	})
}

// The unit's MRU follows what LCP agreed: a client that Naks our MRU down
// to 1400 gets a unit that takes 1400.
func TestUnitMRUFollowsLCP(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, testConfig())
		c, _ := h.connect("eth0", macA, "alice", "alice-pw", func(c *ppp.Config) { c.MaxMTU = 1400 })
		c.link.mu.Lock()
		mru := c.link.mru
		c.link.mu.Unlock()
		if c.link.cfg.MRU != 1492 || mru != 1400 {
			t.Errorf("the unit's MRU: %d at first, %d after LCP; want 1492, 1400", c.link.cfg.MRU, mru)
		}
	})
}

// An interface's default profile serves its clients.
func TestInterfaceProfile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Interfaces = append(cfg.Interfaces, Interface{Name: "eth1", DefaultProfile: "lab"})
		cfg.Profiles = append(cfg.Profiles, Profile{Name: "lab", LocalAddress: ip("10.2.0.1"), RemoteAddress: ip("10.2.0.2")})
		h := startHarness(t, cfg)
		_, up := h.connect("eth1", macA, "alice", "alice-pw")
		if up.Local != ip("10.2.0.2") || up.Peer != ip("10.2.0.1") || len(up.DNS) != 0 {
			t.Errorf("alice on eth1 got %+v", up)
		}
	})
}

// A static user's fixed address in a pool is reserved there while the
// session lasts (nobody else gets it), and given back once.
func TestFixedAddressReserved(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Users[0].RemoteAddress = ip("10.0.0.10")
		h := startHarness(t, cfg)
		a, up := h.connect("eth0", macA, "alice", "alice-pw")
		if up.Local != ip("10.0.0.10") {
			t.Fatalf("alice got %s", up.Local)
		}
		_, up = h.connect("eth0", macB, "bob", "bob-pw")
		if up.Local == ip("10.0.0.10") {
			t.Fatal("bob got alice's fixed address")
		}
		if n := h.poolUsed("pool"); n != 2 {
			t.Errorf("%d in use", n)
		}
		h.s.Kick("alice", 0)
		a.waitDown()
		if !a.ended() {
			t.Fatal("alice's session still there")
		}
		if n := h.poolUsed("pool"); n != 1 {
			t.Errorf("%d in use after alice left, want bob's", n)
		}
		// Alice again: her address is free for her.
		_, up = h.connect("eth0", macC, "alice", "alice-pw")
		if up.Local != ip("10.0.0.10") {
			t.Errorf("alice got %s the second time", up.Local)
		}
	})
}

// A user whose fixed address is taken (by her own other session) gets
// none, and the address stays the other session's.
func TestFixedAddressTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Users[0].RemoteAddress = ip("10.0.0.10")
		h := startHarness(t, cfg)
		first, _ := h.connect("eth0", macA, "alice", "alice-pw")
		c := h.session("eth0", macB)
		c.login("alice", "alice-pw")
		if _, ok := c.waitIPv4(); ok {
			t.Fatal("a second session got alice's fixed address")
		}
		c.waitDown()
		if !c.ended() || first.ended() {
			t.Fatalf("ended: second %v, first %v", c.ended(), first.ended())
		}
		if n := h.poolUsed("pool"); n != 1 {
			t.Errorf("%d in use, want the first session's", n)
		}
	})
}

// An exhausted pool refuses the next client (IPCP gets no address, the
// session ends, NoAddress counts it); an address back lets it in.
func TestPoolExhausted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Users = append(cfg.Users, User{Name: "carol", Password: "carol-pw"}, User{Name: "dan", Password: "dan-pw"})
		h := startHarness(t, cfg)
		var cs []*client
		for i, u := range []string{"alice", "bob", "carol"} {
			c, _ := h.connect("eth0", []byte{2, 0, 0, 0, 1, byte(i)}, u, u+"-pw")
			cs = append(cs, c)
		}
		d := h.session("eth0", macA)
		d.login("dan", "dan-pw")
		if _, ok := d.waitIPv4(); ok {
			t.Fatal("dan got an address from an exhausted pool")
		}
		d.waitDown()
		if !d.ended() {
			t.Fatal("dan's session is still there")
		}
		if n := h.counters().NoAddress; n != 1 {
			t.Errorf("NoAddress = %d", n)
		}
		h.s.Kick("bob", 0)
		cs[1].waitDown()
		if !cs[1].ended() {
			t.Fatal("bob's session is still there")
		}
		_, up := h.connect("eth0", macA, "dan", "dan-pw")
		if up.Local != ip("10.0.0.11") {
			t.Errorf("dan got %s, want bob's 10.0.0.11", up.Local)
		}
	})
}

// only-one: a user with a session cannot log in again (the login is
// refused as a wrong password is, RefusedOnlyOne counts it); once her
// session is over she can. Other users are not concerned.
func TestOnlyOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Profiles[0].OnlyOne = true
		h := startHarness(t, cfg)
		first, _ := h.connect("eth0", macA, "alice", "alice-pw")
		c := h.session("eth0", macB)
		c.login("alice", "alice-pw")
		if _, ok := c.waitIPv4(); ok {
			t.Fatal("a second session of alice came up")
		}
		if d := c.waitDown(); d == nil || d.Reason != ppp.ReasonAuthFailed {
			t.Errorf("second login: %v, want refused at authentication", d)
		}
		if !c.ended() || first.ended() {
			t.Fatalf("ended: second %v, first %v", c.ended(), first.ended())
		}
		if cs := h.counters(); cs.RefusedOnlyOne != 1 {
			t.Errorf("RefusedOnlyOne = %d", cs.RefusedOnlyOne)
		}
		if n := h.poolUsed("pool"); n != 1 {
			t.Errorf("%d in use", n)
		}
		h.connect("eth0", macC, "bob", "bob-pw")
		h.s.Kick("alice", 0)
		first.waitDown()
		if !first.ended() {
			t.Fatal("alice's first session still there")
		}
		h.connect("eth0", macB, "alice", "alice-pw")
	})
}

// Without only-one a user may have several sessions.
func TestNotOnlyOne(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, testConfig())
		h.connect("eth0", macA, "alice", "alice-pw")
		h.connect("eth0", macB, "alice", "alice-pw")
		if h.nsessions() != 2 {
			t.Errorf("%d sessions", h.nsessions())
		}
	})
}

// A static interface name: pppN is renamed once the user is known, before
// it is configured; a rename that fails keeps the kernel's name.
func TestStaticIfname(t *testing.T) {
	for _, fail := range []bool{false, true} {
		synctest.Test(t, func(t *testing.T) {
			cfg := testConfig()
			cfg.Users[0].Ifname = "ppp-alice"
			h := startHarness(t, cfg)
			if fail {
				h.k.setFail("rename", errors.New("file exists"))
			}
			h.connect("eth0", macA, "alice", "alice-pw")
			name := "ppp-alice"
			if fail {
				name = "pppt0"
			}
			log := h.k.callLog()
			if !slices.Contains(log, "rename pppt0 ppp-alice") {
				t.Errorf("no rename: %q", log)
			}
			if !slices.Contains(log, "addAddr "+name+" 10.0.0.1 10.0.0.10") || !slices.Contains(log, "up "+name) {
				t.Errorf("rename failing %v: %q, want %s configured", fail, log, name)
			}
			if i, j := slices.Index(log, "rename pppt0 ppp-alice"), slices.Index(log, "up "+name); i > j {
				t.Errorf("renamed after it was up: %q", log)
			}
			if st := h.s.Status(); st.Sessions[0].Ifname != name {
				t.Errorf("status ifname %q, want %q", st.Sessions[0].Ifname, name)
			}
			// Bob has none.
			h.connect("eth0", macB, "bob", "bob-pw")
			if n := len(slices.DeleteFunc(h.k.callLog(), func(s string) bool { return !strings.HasPrefix(s, "rename") })); n != 1 {
				t.Errorf("%d renames", n)
			}
		})
	}
}

// When pppN cannot be configured the session ends cleanly: Terminate,
// PADT, its address back, its id free, its link closed.
func TestConfigureFails(t *testing.T) {
	for _, op := range []string{"setMTU", "addAddr", "up"} {
		t.Run(op, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				h := startHarness(t, testConfig())
				h.k.setFail(op, errors.New("no such device"))
				c := h.session("eth0", macA)
				c.login("alice", "alice-pw")
				c.waitDown()
				time.Sleep(ppp.DefaultRestart)
				if !c.ended() {
					t.Fatal("the session is still there")
				}
				if !c.link.sentCode(ppp.ProtoLCP, ppp.CodeTermReq) {
					t.Error("no Terminate-Request")
				}
				if m, ok := c.link.mode(ppp.ProtoIPv4); ok && m == pppox.NPModePass {
					t.Error("IPv4 left passing")
				}
				if f := h.one("eth0", discovery.CodePADT); f.pkt.SessionID != c.id {
					t.Errorf("PADT for %#x", f.pkt.SessionID)
				}
				if n := h.poolUsed("pool"); n != 0 {
					t.Errorf("%d addresses in use", n)
				}
				if n := h.s.ports[0].ids.Len(); n != 0 {
					t.Errorf("%d session ids live", n)
				}
				if cs := h.counters(); cs.SessionsUp != 0 {
					t.Errorf("SessionsUp = %d", cs.SessionsUp)
				}
			})
		})
	}
}

// The kernel's side as the session comes up and goes: the unit's MRU,
// pppN's MTU, the addresses, and each network protocol passed only while
// its NCP is up.
func TestKernelConfiguration(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.IPv6 = true
		h := startHarness(t, cfg)
		c := h.session("eth0", macA)
		if m, ok := c.link.mode(ppp.ProtoIPv4); ok {
			t.Errorf("IPv4 %v before IPCP", m)
		}
		c.login("alice", "alice-pw")
		var v6 ppp.IPv6Up
		for v6.Local == (ppp.InterfaceID{}) {
			if e, ok := (<-c.events).(ppp.IPv6Up); ok {
				v6 = e
			}
		}
		synctest.Wait()
		for _, p := range []ppp.Protocol{ppp.ProtoIPv4, ppp.ProtoIPv6} {
			if m, ok := c.link.mode(p); !ok || m != pppox.NPModePass {
				t.Errorf("%v: %v %v, want pass", p, m, ok)
			}
		}
		log := h.k.callLog()
		wantV6 := "addAddr pppt0 " + v6.Peer.LinkLocal().String() + " " + v6.Local.LinkLocal().String()
		for _, w := range []string{"setMTU pppt0 1492", "addAddr pppt0 10.0.0.1 10.0.0.10", wantV6, "up pppt0"} {
			if !slices.Contains(log, w) {
				t.Errorf("kernel: no %q in %q", w, log)
			}
		}
		if st := h.s.Status(); st.Sessions[0].RemoteV6 != v6.Local.LinkLocal() {
			t.Errorf("status IPv6 %s, want %s", st.Sessions[0].RemoteV6, v6.Local.LinkLocal())
		}
		c.cancel()
		c.waitDown()
		time.Sleep(ppp.DefaultRestart)
		for _, p := range []ppp.Protocol{ppp.ProtoIPv4, ppp.ProtoIPv6} {
			if m, _ := c.link.mode(p); m != pppox.NPModeDrop {
				t.Errorf("%v: %v after the session, want drop", p, m)
			}
		}
		log = h.k.callLog()
		for _, w := range []string{fmt.Sprint("removeAddrs pppt0 ", netlink.FAMILY_V4), fmt.Sprint("removeAddrs pppt0 ", netlink.FAMILY_V6)} {
			if !slices.Contains(log, w) {
				t.Errorf("kernel: no %q in %q", w, log)
			}
		}
	})
}

// A session that does not come up within SetupTimeout of its PADS is
// ended, even when LCP would go on trying; one that is up is not.
func TestSetupTimeout(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Timers = ppp.Timers{MaxConfigure: 1000} // LCP alone would try for 50 minutes
		h := startHarness(t, cfg)
		up, _ := h.connect("eth0", macB, "bob", "bob-pw")
		c := h.session("eth0", macA) // and then silence
		time.Sleep(SetupTimeout - time.Millisecond)
		if c.ended() {
			t.Fatal("ended before SetupTimeout")
		}
		time.Sleep(time.Millisecond)
		if !c.ended() {
			t.Fatal("not ended at SetupTimeout")
		}
		if up.ended() {
			t.Error("a session that is up was ended")
		}
		var padts []uint16
		for _, f := range h.sent("eth0") {
			if f.pkt.Code == discovery.CodePADT {
				padts = append(padts, f.pkt.SessionID)
			}
		}
		if !slices.Equal(padts, []uint16{c.id}) {
			t.Errorf("PADTs %#x, want %#x", padts, c.id)
		}
	})
}

// keepalive-timeout K (RouterOS): a client that goes silent gets an LCP
// Echo-Request every second from K on and is declared dead at 2K after
// it was last heard; its address goes back to the pool. A live one stays.
func TestKeepalive(t *testing.T) {
	for _, k := range []time.Duration{0, 4 * time.Second} {
		synctest.Test(t, func(t *testing.T) {
			cfg := testConfig()
			cfg.KeepaliveTimeout = k
			if k == 0 {
				k = DefaultKeepaliveTimeout
			}
			h := startHarness(t, cfg)
			live, _ := h.connect("eth0", macB, "bob", "bob-pw")
			c, _ := h.connect("eth0", macA, "alice", "alice-pw")
			synctest.Wait()
			c.link.setMute(true)
			c.link.mu.Lock()
			last := c.link.lastHeard
			c.link.mu.Unlock()
			for i := 0; !c.ended(); i++ {
				if i > 1000 {
					t.Fatal("the silent client was never declared dead")
				}
				time.Sleep(100 * time.Millisecond)
			}
			if d := time.Since(last); d < 2*k || d > 2*k+100*time.Millisecond {
				t.Errorf("declared dead %v after it was last heard, want %v", d, 2*k)
			}
			n := 0
			for _, p := range c.link.sentPackets() {
				if p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeEchoReq {
					n++
				}
			}
			if want := int(k / time.Second); n != want {
				t.Errorf("%d Echo-Requests, want %d (one a second from K to 2K)", n, want)
			}
			if f := h.one("eth0", discovery.CodePADT); f.pkt.SessionID != c.id {
				t.Errorf("PADT for %#x", f.pkt.SessionID)
			}
			if n := h.poolUsed("pool"); n != 1 {
				t.Errorf("%d addresses in use, want the live client's", n)
			}
			time.Sleep(10 * k)
			if live.ended() {
				t.Error("a live client was declared dead")
			}
		})
	}
}

// A negative keepalive-timeout disables it: a silent client stays.
func TestKeepaliveDisabled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.KeepaliveTimeout = -1
		h := startHarness(t, cfg)
		c, _ := h.connect("eth0", macA, "alice", "alice-pw")
		c.link.setMute(true)
		time.Sleep(time.Hour)
		if c.ended() {
			t.Error("ended without keepalives")
		}
		if c.link.sentCode(ppp.ProtoLCP, ppp.CodeEchoReq) {
			t.Error("an Echo-Request with keepalives disabled")
		}
	})
}

// Reload swaps the users and secrets; a session that is up keeps going,
// and a bad reload keeps the users there were.
func TestReload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		cfg.Pools[0].Ranges[0].Last = ip("10.0.0.20")
		var next *Config
		var nextErr error
		cfg.Reload = func() (*Config, error) { return next, nextErr }
		h := startHarness(t, cfg)
		alice, _ := h.connect("eth0", macA, "alice", "alice-pw")

		n := testConfig()
		n.Users = []User{{Name: "dave", Password: "dave-pw"}}
		n.Secrets = parseSecrets(t, "erin * erin-pw *\n")
		next = &n
		if err := h.s.Reload(); err != nil {
			t.Fatal(err)
		}
		h.connect("eth0", macB, "dave", "dave-pw")
		h.connect("eth0", macC, "erin", "erin-pw")
		if alice.ended() {
			t.Fatal("reload ended alice's session")
		}
		c := h.session("eth0", []byte{2, 0, 0, 0, 0, 0x0d})
		c.login("alice", "alice-pw")
		if d := c.waitDown(); d == nil || d.Reason != ppp.ReasonAuthFailed {
			t.Errorf("alice after the reload: %v", d)
		}

		for _, bad := range []struct {
			cfg *Config
			err error
		}{
			{nil, errors.New("config.toml:3: bad")},
			{&Config{Users: []User{{Name: "x", Password: "1"}, {Name: "x", Password: "2"}}}, nil},
			{&Config{Users: []User{{Name: "y", Profile: "nope"}}}, nil},
		} {
			next, nextErr = bad.cfg, bad.err
			if err := h.s.Reload(); err == nil {
				t.Errorf("Reload(%v, %v) succeeded", bad.cfg, bad.err)
			}
		}
		h.connect("eth0", []byte{2, 0, 0, 0, 0, 0x0e}, "dave", "dave-pw")
		if alice.ended() {
			t.Fatal("alice's session ended")
		}
	})
}

func TestReloadWithoutFile(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		h := startHarness(t, testConfig())
		if err := h.s.Reload(); err == nil {
			t.Error("Reload without Config.Reload succeeded")
		}
	})
}

// No password reaches the log, whatever the method, even with Debug.
func TestLogsKeepSecrets(t *testing.T) {
	for _, m := range []ppp.AuthMethod{ppp.AuthPAP, ppp.AuthCHAPMD5, ppp.AuthMSCHAPv2} {
		synctest.Test(t, func(t *testing.T) {
			var buf syncBuffer
			cfg := testConfig()
			cfg.Auth = []ppp.AuthMethod{m}
			cfg.Debug = true
			cfg.Logger = slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
			cfg.Secrets = parseSecrets(t, "carol * s3cr3t-carol *\n")
			h := startHarness(t, cfg)
			h.connect("eth0", macA, "alice", "alice-pw", allow(m))
			h.connect("eth0", macB, "carol", "s3cr3t-carol", allow(m))
			c := h.session("eth0", macC)
			c.login("alice", "wrong-pw", allow(m))
			c.waitDown()
			h.stop()
			out := buf.String()
			if !strings.Contains(out, "alice") {
				t.Fatalf("the log does not even name the users:\n%s", out)
			}
			for _, secret := range []string{"alice-pw", "s3cr3t-carol", "wrong-pw"} {
				if strings.Contains(out, secret) {
					t.Errorf("%v: the log holds %q", m, secret)
				}
			}
		})
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
