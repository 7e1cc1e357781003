package ppp_test

import (
	"net/netip"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// ipcpClient is a scripted client's IPCP: it sends req as its first
// Configure-Request, and onRefused's request after each Nak or Reject
// of ours; it acknowledges the server's requests and Terminate-Requests.
// With v6 it runs IPv6CP too, agreeably. It records the server's IPCP
// Terminate-Requests' text.
type ipcpClient struct {
	t         *testing.T
	req       []ppp.Option // nil: sends no IPCP request at all
	onRefused func(p ppp.Packet) []ppp.Option
	v6        bool
	mu        sync.Mutex
	terms     []string
}

func (c *ipcpClient) script() func(*script, ppp.Packet) {
	t := c.t
	return lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xc1)}, func(s *script, _ ppp.Packet) {
		if c.req != nil {
			s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 1, opts(t, c.req...))
		}
		if c.v6 {
			s.end.Send(ppp.ProtoIPv6CP, ppp.CodeConfReq, 1, opts(t, ppp.InterfaceID{2, 0, 0, 0, 0, 0, 0, 2}))
		}
	}, func(s *script, p ppp.Packet) {
		switch {
		case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfReq && c.req != nil,
			p.Protocol == ppp.ProtoIPv6CP && p.Code == ppp.CodeConfReq:
			s.end.Send(p.Protocol, ppp.CodeConfAck, p.ID, p.Data)
		case p.Protocol == ppp.ProtoIPCP && (p.Code == ppp.CodeConfNak || p.Code == ppp.CodeConfRej):
			s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, p.ID+1, opts(t, c.onRefused(p)...))
		case p.Code == ppp.CodeTermReq:
			if p.Protocol == ppp.ProtoIPCP {
				c.mu.Lock()
				c.terms = append(c.terms, string(p.Data))
				c.mu.Unlock()
			}
			s.end.Send(p.Protocol, ppp.CodeTermAck, p.ID, nil)
		}
	})
}

func (c *ipcpClient) termTexts() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.terms...)
}

// An AC with no address for the peer (its pool exhausted) does what
// pppd's ipcp_up does when it "Could not determine remote IP address":
// IPCP closes, its Terminate-Request saying so, and with no other
// network protocol the session ends (ReasonNoNetworkProtocols, the IPCP
// failure in the detail); with IPv6CP up the session stays, on IPv6
// alone. It does so at once, however the client answers (no Nak or
// Reject loop that only Max-Configure or Max-Failure would end): no
// IPCP can come of it. No address is taken from the pool, nor given
// back.
func TestNoAddressForThePeer(t *testing.T) {
	zero := ppp.IPAddress(netip.IPv4Unspecified())
	dropAddr := func(p ppp.Packet) []ppp.Option { return nil }
	insist := func(p ppp.Packet) []ppp.Option { return []ppp.Option{zero} }
	const detail = "No network protocols running (IPCP: no IPv4 address for the peer: counting pool: exhausted)"
	tests := []struct {
		name string
		// client: nil runs our own client (with v6: IPv6CP as well).
		client *ipcpClient
		v6     bool
		detail string // default: detail
		// noTerm: IPCP gives up without a Terminate-Request.
		noTerm bool
	}{
		{name: "our client"},
		{name: "our client, with IPv6CP", v6: true},
		// pppd's ipcp_rejci: a rejected address is not asked for again.
		{name: "client asking for 0.0.0.0", client: &ipcpClient{req: []ppp.Option{zero}, onRefused: dropAddr}},
		{name: "client asking for 0.0.0.0, with IPv6CP", v6: true, client: &ipcpClient{req: []ppp.Option{zero}, onRefused: dropAddr}},
		// Against RFC 1661 §5.4 ("MUST NOT" send a rejected option
		// again): IPCP never reaches up(), and gives up, as it does with
		// any peer that keeps asking for what we refuse (Max-Configure +
		// Max-Failure requests), saying why it had to.
		{name: "client insisting on 0.0.0.0", client: &ipcpClient{req: []ppp.Option{zero}, onRefused: insist}, noTerm: true,
			detail: "No network protocols running (IPCP: no IPv4 address for the peer: counting pool: exhausted; the peer keeps requesting what we refuse (16 requests))"},
		{name: "client insisting on 0.0.0.0, with IPv6CP", v6: true, client: &ipcpClient{req: []ppp.Option{zero}, onRefused: insist}, noTerm: true},
		{name: "client asking for no address", client: &ipcpClient{req: []ppp.Option{}, onRefused: dropAddr}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var logs strings.Builder
				var mu sync.Mutex
				naks := 0
				a, b := ppptest.Pipe(ppptest.Config{Tap: func(from string, proto ppp.Protocol, p []byte, _ bool) {
					if from != "b" || proto != ppp.ProtoIPCP || len(p) == 0 || ppp.Code(p[0]) != ppp.CodeConfNak {
						return
					}
					pk, _ := ppp.Parse(proto, p)
					o, _ := ppp.ParseOptions(proto, pk.Data)
					for _, x := range o {
						if _, ok := x.(ppp.IPAddress); ok {
							mu.Lock()
							naks++
							mu.Unlock()
						}
					}
				}})
				pool := newCountingPool(clientAddr, 0)
				scfg := serverConfig(ppp.AuthNone, true, tt.v6, nil)
				scfg.IPv4.Pool = pool
				scfg.Logger = textLogger(&logs)
				t0 := time.Now()
				srv := start(scfg, b)
				var cli *run
				if tt.client == nil {
					cli = start(clientConfig(true, tt.v6), a)
				} else {
					tt.client.t, tt.client.v6 = t, tt.v6
					runScript(a, tt.client.script())
				}
				synctest.Wait()
				if took := time.Since(t0); took != 0 {
					t.Errorf("took %v of fake time: a timer had to fire", took)
				}
				if tt.v6 {
					if d, down := find[ppp.Down](srv.rec); down {
						t.Errorf("down with IPv6CP up: %+v", d)
					}
					if _, ok := find[ppp.IPv6Up](srv.rec); !ok {
						t.Errorf("IPv6CP not up: %s", kinds(srv.rec))
					}
					srv.s.Close("")
				}
				d := srv.wait(t)
				if cli != nil {
					cli.wait(t)
				}
				want := detail
				if tt.detail != "" {
					want = tt.detail
				}
				if !tt.v6 && (d.Reason != ppp.ReasonNoNetworkProtocols || d.Detail != want) {
					t.Errorf("down %v, want no network protocols: %s", d, want)
				}
				// No address to offer: the option is rejected, as pppd's
				// ipcp_reqci does ("If neither we nor he knows his
				// address, reject the option"), never Nak'd with nothing.
				mu.Lock()
				if naks != 0 {
					t.Errorf("%d IPCP Configure-Naks of the address from the server, want none", naks)
				}
				mu.Unlock()
				if k := kinds(srv.rec); strings.Contains(k, "IPv4") {
					t.Errorf("events %s", k)
				}
				if tt.client != nil && !tt.noTerm {
					if got := tt.client.termTexts(); len(got) != 1 || got[0] != "Could not determine remote IP address" {
						t.Errorf("IPCP Terminate-Requests %q, want one: Could not determine remote IP address", got)
					}
				}
				if !strings.Contains(logs.String(), "counting pool: exhausted") {
					t.Errorf("the log does not say why:\n%s", logs.String())
				}
				if allocs, releases, out, bad := pool.counts(); allocs+releases+out != 0 || bad != nil {
					t.Errorf("pool: %d allocated, %d released, %d out, %q", allocs, releases, out, bad)
				}
			})
		})
	}
}

// The peer's address goes back to its pool once, and only once, however
// the session goes: to its end, through an LCP renegotiation (the same
// address again, not a second one), with IPCP closed early while IPv6CP
// carries on, or lost in the middle of IPCP's negotiation.
func TestAddressReleasedOnce(t *testing.T) {
	tests := []struct {
		name string
		// drive runs the client's side against the server on b and ends
		// the session; it returns the client's run (nil: scripted).
		drive func(t *testing.T, a, b *ppptest.End) *run
		v6    bool
		ups   int // IPv4Up events of the server
	}{{
		name: "session to its end",
		drive: func(t *testing.T, a, b *ppptest.End) *run {
			cli := start(clientConfig(true, false), a)
			synctest.Wait()
			cli.s.Close("")
			return cli
		},
		ups: 1,
	}, {
		// The client renegotiates LCP (RFC 1661 §3.5: authentication and
		// the NCPs follow again): IPCP comes up again, with the address
		// it had.
		name: "LCP renegotiated",
		drive: func(t *testing.T, a, b *ppptest.End) *run {
			cli := start(clientConfig(true, false), a)
			synctest.Wait()
			a.Send(ppp.ProtoLCP, ppp.CodeConfReq, 0x42, opts(t, ppp.MagicNumber(0xc3)))
			synctest.Wait()
			cli.s.Close("")
			return cli
		},
		ups: 2,
	}, {
		// The client closes IPCP; IPv6CP keeps the session up.
		name: "IPCP closed, IPv6CP up",
		v6:   true,
		drive: func(t *testing.T, a, b *ppptest.End) *run {
			cli := start(clientConfig(true, true), a)
			synctest.Wait()
			a.Send(ppp.ProtoIPCP, ppp.CodeTermReq, 0x42, nil)
			synctest.Wait()
			cli.s.Close("")
			return cli
		},
		ups: 1,
	}, {
		// The link goes once the server has Nak'd the client over to its
		// address, before IPCP is up.
		name: "link lost during IPCP",
		drive: func(t *testing.T, a, b *ppptest.End) *run {
			runScript(a, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xc1)}, func(s *script, _ ppp.Packet) {
				s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 1, opts(t, ppp.IPAddress(netip.IPv4Unspecified())))
			}, func(s *script, p ppp.Packet) {
				if p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfNak {
					s.end.Close()
				}
			}))
			return nil
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				pool := newCountingPool(clientAddr, 4)
				scfg := serverConfig(ppp.AuthNone, true, tt.v6, nil)
				scfg.IPv4.Pool = pool
				srv := start(scfg, b)
				cli := tt.drive(t, a, b)
				srv.wait(t)
				if cli != nil {
					cli.wait(t)
				}
				if allocs, releases, out, bad := pool.counts(); allocs != 1 || releases != 1 || out != 0 || bad != nil {
					t.Errorf("pool: %d allocated, %d released, %d out, %q; want 1 and 1", allocs, releases, out, bad)
				}
				n := 0
				for _, e := range srv.rec.all() {
					if up, ok := e.(ppp.IPv4Up); ok {
						n++
						if up.Peer != clientAddr {
							t.Errorf("IPv4Up %+v, want the peer at %s", up, clientAddr)
						}
					}
				}
				if n != tt.ups {
					t.Errorf("%d IPv4Up, want %d: %s", n, tt.ups, kinds(srv.rec))
				}
			})
		})
	}
}
