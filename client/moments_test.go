package client

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"net/netip"
	"os"
	"path/filepath"

	"github.com/pppoed/pppoed/netcfg"
	"github.com/pppoed/pppoed/ppp"
)

// The moments come where pppd runs its scripts: ip-pre-up with the
// name servers written and the address set, the interface not yet up, ip-up once everything is
// configured, ip-down once the protocol is stopped and the routes and
// the address are gone but the name servers file is still there (as
// pppd 2.4.9 was seen to do), link-down once the link is closed
// and pppN's configuration undone.
func TestConnectionMoments(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		j := &journal{}
		var mu sync.Mutex
		var got []Moment
		cfg := Config{DefaultRoute: netcfg.RouteAdd, UsePeerDNS: true, ResolvConf: "/run/test/resolv.conf"}
		cfg.OnMoment = func(m Moment) {
			j.add("moment %s", m.Kind)
			mu.Lock()
			got = append(got, m)
			mu.Unlock()
		}
		h := start(t, setup{ctx: ctx, peer: ppp.Config{IPv6: &ppp.IPv6Config{}}, cfg: cfg, journal: j})
		waitEvent[ppp.IPv4Up](h)
		waitEvent[ppp.IPv6Up](h)
		synctest.Wait()
		up := []string{
			"moment link-up",
			"link mru 1492",
			"iface resolv.conf [10.64.0.53]",
			"iface address 10.64.0.2 peer 10.64.0.1",
			"moment ipv4-pre-up",
			"iface up",
			"link IP pass",
			"iface default route metric 0",
			"moment ipv4-up",
		}
		if all := h.j.all(); !isSubsequence(all, up) {
			t.Errorf("coming up:\n%s\nwant in this order:\n%s", strings.Join(all, "\n"), strings.Join(up, "\n"))
		}
		h.j.add("stop")
		cancel()
		if err := h.wait(); err != nil {
			t.Fatalf("a stop asked for: %v\n%s", err, h.log)
		}
		down := []string{
			"link IP drop",
			"iface routes removed",
			"iface IPv4 addresses removed",
			"moment ipv4-down",
			"iface files removed",
			"link IPV6 drop",
			"iface IPv6 addresses removed",
			"moment ipv6-down",
			"link closed",
			"iface closed",
			"moment link-down",
		}
		if got := h.j.after("stop"); !isSubsequence(got, down) {
			t.Errorf("going down:\n%s\nwant in this order:\n%s", strings.Join(got, "\n"), strings.Join(down, "\n"))
		}
		mu.Lock()
		defer mu.Unlock()
		byKind := map[MomentKind]Moment{}
		for _, m := range got {
			byKind[m.Kind] = m
		}
		if m := byKind[MomentIPv4Up]; m.Local != clientAddr || m.Peer != acAddr || !slices.Equal(m.DNS, []netip.Addr{dnsAddr}) {
			t.Errorf("ipv4-up moment: local %s peer %s dns %v", m.Local, m.Peer, m.DNS)
		}
		if m := byKind[MomentIPv6Up]; !m.LLLocal.IsLinkLocalUnicast() || !m.LLPeer.IsLinkLocalUnicast() || m.LLLocal == m.LLPeer {
			t.Errorf("ipv6-up moment: local %s peer %s", m.LLLocal, m.LLPeer)
		}
	})
}

// A down moment comes only for a protocol whose up moment came: pppd runs
// ip-down only after ip-up.
func TestConnectionNoDownMomentWithoutUp(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		j := &journal{}
		cfg := Config{}
		cfg.OnMoment = func(m Moment) { j.add("moment %s", m.Kind) }
		// The AC's pppN fails to come up: IPCP opens, our Up fails.
		h := start(t, setup{cfg: cfg, failing: "Up", journal: j})
		err := h.wait()
		if ExitCode(err) != ExitFatal {
			t.Fatalf("exit %d (%v), want %d", ExitCode(err), err, ExitFatal)
		}
		for _, l := range h.j.all() {
			if l == "moment ipv4-down" || l == "moment ipv4-up" {
				t.Errorf("%q without IPv4 having been up:\n%s", l, strings.Join(h.j.all(), "\n"))
			}
		}
	})
}

// Config.Hangup ends the session with pppd's EXIT_HANGUP, the peer told
// with a Terminate-Request, and a hang-up that came while no session was
// up waits for the next.
func TestConnectionHangup(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hup := make(chan struct{}, 1)
		h := start(t, setup{cfg: Config{Hangup: hup}})
		waitEvent[ppp.IPv4Up](h)
		hup <- struct{}{}
		err := h.wait()
		var ee *ExitError
		if !errors.As(err, &ee) || ee.Code != ExitHangup || !errors.Is(err, errHangup) {
			t.Fatalf("after a hang-up: %v, want exit %d", err, ExitHangup)
		}
		if h.termReqs.Load() == 0 {
			t.Error("no Terminate-Request: the peer was not told")
		}
		if causeOf(err) != causeSessionLost {
			t.Errorf("cause %s: a hang-up is redialled as a session lost", causeOf(err))
		}
		if fmt.Sprint(h.j.count(fmt.Sprintf("PADT 0x%x", sessionID))) != "1" {
			t.Errorf("PADTs: %d", h.j.count(fmt.Sprintf("PADT 0x%x", sessionID)))
		}
	})
}

// isSubsequence reports whether want appears in all in order (other lines
// between).
func isSubsequence(all, want []string) bool {
	i := 0
	for _, l := range all {
		if i < len(want) && l == want[i] {
			i++
		}
	}
	return i == len(want)
}

// KeepResolvConf writes the name servers for good, as pppd leaves
// /etc/ppp/resolv.conf: still there once the session is over.
func TestConnectionKeepResolvConf(t *testing.T) {
	path := filepath.Join(t.TempDir(), "resolv.conf")
	synctest.Test(t, func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		h := start(t, setup{ctx: ctx, cfg: Config{UsePeerDNS: true, ResolvConf: path, KeepResolvConf: true}})
		waitEvent[ppp.IPv4Up](h)
		cancel()
		if err := h.wait(); err != nil {
			t.Fatal(err)
		}
		for _, l := range h.j.all() {
			if strings.Contains(l, "resolv.conf") {
				t.Errorf("written through pppN's configuration, which undoes it: %q", l)
			}
		}
	})
	b, err := os.ReadFile(path)
	if err != nil || string(b) != "nameserver 10.64.0.53\n" {
		t.Errorf("after the session: %q %v", b, err)
	}
}
