package ppp_test

import (
	"net/netip"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// Addresses no end of a link may have (pppd's bad_ip_adrs, and the
// limited broadcast address), each with the reason we give.
var badAddrs = []struct {
	addr netip.Addr
	why  string
}{
	{netip.MustParseAddr("127.0.0.1"), "a loopback address"},
	{netip.MustParseAddr("127.255.255.254"), "a loopback address"},
	{netip.MustParseAddr("224.0.0.1"), "a multicast address"},
	{netip.MustParseAddr("239.255.255.250"), "a multicast address"},
	{netip.MustParseAddr("240.0.0.1"), "a reserved (class E) address"},
	{netip.MustParseAddr("254.1.2.3"), "a reserved (class E) address"},
	{netip.MustParseAddr("255.255.255.255"), "a broadcast address"},
}

// addrOf returns the IP-Address option of IPCP options, if any.
func addrOf(t *testing.T, data []byte) (netip.Addr, bool) {
	o, err := ppp.ParseOptions(ppp.ProtoIPCP, data)
	if err != nil {
		t.Errorf("IPCP options % x: %v", data, err)
	}
	for _, x := range o {
		if a, ok := x.(ppp.IPAddress); ok {
			return netip.Addr(a), true
		}
	}
	return netip.Addr{}, false
}

// An AC that Naks us an address no host may have: we do not take it, we
// say so, and once its Naks count as Rejects (Max-Failure) and no
// address is agreed, IPCP closes with that reason, without a timer. An
// AC that insists (Naks even a request without the address) makes the
// negotiation give up, for the same reason.
func TestIPCPRefusesAssignedBadAddress(t *testing.T) {
	cases := append([]struct {
		addr netip.Addr
		why  string
	}{{netip.IPv4Unspecified(), "the unspecified address"}}, badAddrs...)
	for _, tt := range cases {
		for _, insist := range []bool{false, true} {
			name := tt.addr.String()
			if insist {
				name += "/insisting"
			}
			t.Run(name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					a, b := ppptest.Pipe(ppptest.Config{})
					var mu sync.Mutex
					var requested []netip.Addr
					runScript(b, papAC(t, func(s *script, p ppp.Packet) {
						switch {
						case p.Protocol == 0:
							s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 1, opts(t, ppp.IPAddress(acAddr)))
						case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfReq:
							addr, ok := addrOf(t, p.Data)
							mu.Lock()
							requested = append(requested, addr)
							mu.Unlock()
							if s.count("IPCP ConfReq") > 100 {
								return // silent then: a client without a bound times out
							}
							switch {
							case ok && addr.IsUnspecified(), !ok && insist:
								s.end.Send(ppp.ProtoIPCP, ppp.CodeConfNak, p.ID, opts(t, ppp.IPAddress(tt.addr)))
							default: // what it assigned, or no address: fine by this AC
								s.end.Send(ppp.ProtoIPCP, ppp.CodeConfAck, p.ID, p.Data)
							}
						case p.Code == ppp.CodeTermReq:
							s.end.Send(p.Protocol, ppp.CodeTermAck, p.ID, nil)
						}
					}))
					var logs strings.Builder
					ccfg := clientConfig(true, false)
					ccfg.IPv4.RequestDNS = false
					ccfg.Logger = textLogger(&logs)
					t0 := time.Now()
					cli := start(ccfg, a)
					d := cli.waitFor(t, time.Minute)
					what := "the peer assigned us " + tt.addr.String() + ", " + tt.why
					// Said once; an insisting peer also wore out our
					// patience (Max-Configure+Max-Failure refusals).
					want := "No network protocols running (IPCP: " + what + ")"
					if insist {
						want = "No network protocols running (IPCP: " + what + "; the peer keeps refusing our requests (16 Naks or Rejects))"
					}
					if d.Reason != ppp.ReasonNoNetworkProtocols || d.Detail != want {
						t.Errorf("down %v, want no network protocols: %s", d, want)
					}
					if !strings.Contains(logs.String(), `level=WARN msg="ppp: IPCP: `+what+`: not taken"`) {
						t.Errorf("no warning that %s in the log:\n%s", what, logs.String())
					}
					if _, ok := find[ppp.IPv4Up](cli.rec); ok {
						t.Errorf("IPv4 came up: %s", kinds(cli.rec))
					}
					mu.Lock()
					defer mu.Unlock()
					for _, r := range requested {
						if r == tt.addr && !r.IsUnspecified() {
							t.Errorf("the client asked for %s (requests %v)", r, requested)
							break
						}
					}
					if took := time.Since(t0); took != 0 {
						t.Errorf("took %v: the Max-Failure bound should end it", took)
					}
				})
			})
		}
	}
}

// An AC that claims for itself an address no host may have, or ours:
// IPCP closes as pppd's ipcp_up does ("Unauthorized remote IP address"),
// and with no NCP left the session ends saying why.
func TestIPCPRefusesPeerBadAddress(t *testing.T) {
	cases := append(badAddrs, struct {
		addr netip.Addr
		why  string
	}{clientAddr, "our own address"})
	for _, tt := range cases {
		t.Run(tt.addr.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				termText := make(chan string, 1)
				runScript(b, papAC(t, func(s *script, p ppp.Packet) {
					switch {
					case p.Protocol == 0:
						s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 1, opts(t, ppp.IPAddress(tt.addr)))
					case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfReq:
						if addr, _ := addrOf(t, p.Data); addr.IsUnspecified() {
							s.end.Send(ppp.ProtoIPCP, ppp.CodeConfNak, p.ID, opts(t, ppp.IPAddress(clientAddr)))
						} else {
							s.end.Send(ppp.ProtoIPCP, ppp.CodeConfAck, p.ID, p.Data)
						}
					case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeTermReq:
						select {
						case termText <- string(p.Data):
						default:
						}
						s.end.Send(ppp.ProtoIPCP, ppp.CodeTermAck, p.ID, nil)
					}
				}))
				var logs strings.Builder
				ccfg := clientConfig(true, false)
				ccfg.IPv4.RequestDNS = false
				ccfg.Logger = textLogger(&logs)
				cli := start(ccfg, a)
				d := cli.waitFor(t, time.Minute)
				what := "the peer's address " + tt.addr.String() + " is " + tt.why
				if d.Reason != ppp.ReasonNoNetworkProtocols || !strings.Contains(d.Detail, "IPCP: "+what) {
					t.Errorf("down %v, want no network protocols because %s", d, what)
				}
				if !strings.Contains(logs.String(), `level=WARN msg="ppp: IPCP: `+what+`; closing IPCP"`) {
					t.Errorf("no warning that %s in the log:\n%s", what, logs.String())
				}
				if k := kinds(cli.rec); strings.Contains(k, "IPv4") {
					t.Errorf("events %s", k)
				}
				select {
				case txt := <-termText:
					if txt != "Unauthorized remote IP address" {
						t.Errorf("IPCP Terminate-Request says %q", txt)
					}
				default:
					t.Error("IPCP was not terminated")
				}
			})
		})
	}
}

// Name servers at addresses no host may have are left out of IPv4Up, with
// a log line; the good one is kept.
func TestIPCPDropsBadNameServers(t *testing.T) {
	for _, tt := range badAddrs {
		t.Run(tt.addr.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				runScript(b, papAC(t, func(s *script, p ppp.Packet) {
					switch {
					case p.Protocol == 0:
						s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 1, opts(t, ppp.IPAddress(acAddr)))
					case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfReq:
						if addr, _ := addrOf(t, p.Data); addr.IsUnspecified() {
							s.end.Send(ppp.ProtoIPCP, ppp.CodeConfNak, p.ID,
								opts(t, ppp.IPAddress(clientAddr), ppp.PrimaryDNS(tt.addr), ppp.SecondaryDNS(dns2)))
						} else {
							s.end.Send(ppp.ProtoIPCP, ppp.CodeConfAck, p.ID, p.Data)
						}
					}
				}))
				var logs strings.Builder
				ccfg := clientConfig(true, false)
				ccfg.Logger = textLogger(&logs)
				cli := start(ccfg, a)
				synctest.Wait()
				up, ok := find[ppp.IPv4Up](cli.rec)
				if want := (ppp.IPv4Up{Local: clientAddr, Peer: acAddr, DNS: []netip.Addr{dns2}}); !ok || !reflect.DeepEqual(up, want) {
					t.Errorf("IPv4Up %+v (%v), want %+v", up, ok, want)
				}
				what := "the peer's name server " + tt.addr.String() + " is " + tt.why + ": not used"
				if !strings.Contains(logs.String(), `level=WARN msg="ppp: IPCP: `+what+`"`) {
					t.Errorf("no warning that %s in the log:\n%s", what, logs.String())
				}
				cli.s.Close("")
				cli.wait(t)
			})
		})
	}
}

// fixedPool hands out one address, whatever it is.
type fixedPool struct {
	mu             sync.Mutex
	addr           netip.Addr
	used, released int
}

func (p *fixedPool) Allocate(string) (netip.Addr, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.used++
	return p.addr, nil
}

func (p *fixedPool) Release(netip.Addr) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.released++
}

// An AC whose pool hands out an address no host may have, or the AC's
// own, does not pass it on (and returns it to the pool): a client asking
// for that very address is not acknowledged, IPCP closes for want of an
// address for the peer, and the session ends saying why.
func TestServerRefusesBadPoolAddress(t *testing.T) {
	cases := append(badAddrs, []struct {
		addr netip.Addr
		why  string
	}{{acAddr, "our own address"}, {netip.MustParseAddr("2001:db8::2"), "not an IPv4 address"}}...)
	for _, tt := range cases {
		t.Run(tt.addr.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				var mu sync.Mutex
				var acked []netip.Addr
				// A client asking for the bad address itself.
				runScript(a, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xc1)},
					func(s *script, _ ppp.Packet) {
						s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 1, opts(t, ppp.IPAddress(tt.addr)))
					},
					func(s *script, p ppp.Packet) {
						switch {
						case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfReq:
							s.end.Send(ppp.ProtoIPCP, ppp.CodeConfAck, p.ID, p.Data)
						case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfAck:
							addr, _ := addrOf(t, p.Data)
							mu.Lock()
							acked = append(acked, addr)
							mu.Unlock()
						case p.Protocol == ppp.ProtoIPCP && (p.Code == ppp.CodeConfNak || p.Code == ppp.CodeConfRej):
							s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, p.ID+1, nil)
						case p.Code == ppp.CodeTermReq:
							s.end.Send(p.Protocol, ppp.CodeTermAck, p.ID, nil)
						}
					}))
				pool := &fixedPool{addr: tt.addr}
				var logs strings.Builder
				scfg := serverConfig(ppp.AuthNone, false, false, nil)
				scfg.IPv4 = &ppp.IPv4Config{Local: acAddr, Pool: pool}
				scfg.Logger = textLogger(&logs)
				srv := start(scfg, b)
				d := srv.waitFor(t, time.Minute)
				what := "the address pool gave " + tt.addr.String() + ", " + tt.why + ": not handed out"
				if d.Reason != ppp.ReasonNoNetworkProtocols || !strings.Contains(d.Detail, "no IPv4 address for the peer: "+what) {
					t.Errorf("down %v, want no network protocols because %s", d, what)
				}
				if !strings.Contains(logs.String(), what) {
					t.Errorf("no warning that %s in the log:\n%s", what, logs.String())
				}
				mu.Lock()
				defer mu.Unlock()
				for _, x := range acked {
					if x == tt.addr {
						t.Errorf("the server acknowledged the client's %s", x)
					}
				}
				if k := kinds(srv.rec); strings.Contains(k, "IPv4") {
					t.Errorf("events %s", k)
				}
				if pool.released != pool.used {
					t.Errorf("%d addresses allocated, %d released", pool.used, pool.released)
				}
			})
		})
	}
}

// A peer that will not agree to our configured address, by rejecting the
// IP-Address option or by Nak'ing it until its Naks count as Rejects
// (Max-Failure), does not get a link with that address regardless: IPCP
// closes as pppd's ipcp_up does ("Peer refused to agree to our IP
// address"), in either role, and the session ends saying why. With no
// address configured, the same Reject leaves us none ("Could not
// determine local IP address").
func TestIPCPOurAddressRefused(t *testing.T) {
	tests := []struct {
		name     string
		role     ppp.Role
		local    netip.Addr // ours; zero: none configured (client)
		nak      bool       // the peer Naks our address with another, else rejects it
		detail   string
		term     string // our IPCP Terminate-Request
		warnings string
	}{
		{"client/reject", ppp.RoleClient, clientAddr, false,
			"IPCP: the peer refused to agree to our IP address 10.64.0.2", "Refused our IP address",
			`level=WARN msg="ppp: IPCP: the peer refused to agree to our IP address 10.64.0.2; closing IPCP"`},
		{"client/nak", ppp.RoleClient, clientAddr, true,
			"IPCP: the peer refused to agree to our IP address 10.64.0.2", "Refused our IP address",
			`level=WARN msg="ppp: IPCP: the peer refused to agree to our IP address 10.64.0.2; closing IPCP"`},
		{"server/reject", ppp.RoleServer, acAddr, false,
			"IPCP: the peer refused to agree to our IP address 10.64.0.1", "Refused our IP address",
			`level=WARN msg="ppp: IPCP: the peer refused to agree to our IP address 10.64.0.1; closing IPCP"`},
		{"server/nak", ppp.RoleServer, acAddr, true,
			"IPCP: the peer refused to agree to our IP address 10.64.0.1", "Refused our IP address",
			`level=WARN msg="ppp: IPCP: the peer refused to agree to our IP address 10.64.0.1; closing IPCP"`},
		{"client/none configured", ppp.RoleClient, netip.Addr{}, false,
			"IPCP: no local IPv4 address was agreed", "Could not determine local IP address",
			`level=WARN msg="ppp: IPCP: no local IPv4 address was agreed; closing IPCP"`},
	}
	other := map[ppp.Role]netip.Addr{ppp.RoleClient: acAddr, ppp.RoleServer: clientAddr}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				termText := make(chan string, 1)
				peerAddr := other[tt.role] // what the scripted peer wants for itself
				runScript(b, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xc1)},
					func(s *script, _ ppp.Packet) {
						if tt.role == ppp.RoleServer {
							peerAddr = netip.IPv4Unspecified() // a client asks for one
						}
						s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 1, opts(t, ppp.IPAddress(peerAddr)))
					},
					func(s *script, p ppp.Packet) {
						switch {
						case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfReq:
							addr, ok := addrOf(t, p.Data)
							switch {
							case ok && tt.nak:
								s.end.Send(ppp.ProtoIPCP, ppp.CodeConfNak, p.ID, opts(t, ppp.IPAddress(netip.MustParseAddr("10.99.0.9"))))
							case ok:
								s.end.Send(ppp.ProtoIPCP, ppp.CodeConfRej, p.ID, opts(t, ppp.IPAddress(addr)))
							default:
								s.end.Send(ppp.ProtoIPCP, ppp.CodeConfAck, p.ID, p.Data)
							}
						case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfNak:
							// The server assigns the scripted client an address.
							if addr, ok := addrOf(t, p.Data); ok {
								peerAddr = addr
								s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, p.ID+1, opts(t, ppp.IPAddress(addr)))
							}
						case p.Code == ppp.CodeTermReq:
							if p.Protocol == ppp.ProtoIPCP {
								select {
								case termText <- string(p.Data):
								default:
								}
							}
							s.end.Send(p.Protocol, ppp.CodeTermAck, p.ID, nil)
						}
					}))
				cfg := clientConfig(true, false)
				cfg.IPv4 = &ppp.IPv4Config{Local: tt.local}
				if tt.role == ppp.RoleServer {
					cfg = serverConfig(ppp.AuthNone, false, false, nil)
					cfg.IPv4 = &ppp.IPv4Config{Local: tt.local, Pool: ppptest.NewPool(clientAddr, 1)}
				}
				var logs strings.Builder
				cfg.Logger = textLogger(&logs)
				t0 := time.Now()
				r := start(cfg, a)
				d := r.waitFor(t, time.Minute)
				if d.Reason != ppp.ReasonNoNetworkProtocols || !strings.Contains(d.Detail, tt.detail) {
					t.Errorf("down %v, want no network protocols with %q", d, tt.detail)
				}
				if !strings.Contains(logs.String(), tt.warnings) {
					t.Errorf("no %s in the log:\n%s", tt.warnings, logs.String())
				}
				if k := kinds(r.rec); strings.Contains(k, "IPv4") {
					t.Errorf("events %s", k)
				}
				select {
				case txt := <-termText:
					if txt != tt.term {
						t.Errorf("IPCP Terminate-Request says %q, want %q", txt, tt.term)
					}
				default:
					t.Error("IPCP was not terminated")
				}
				if took := time.Since(t0); took != 0 {
					t.Errorf("took %v: no timer should be needed", took)
				}
			})
		})
	}
}

var idField = regexp.MustCompile(` id=0x[0-9a-f]+`)

// A client that does not ask for an address is offered one anyway (RFC
// 1332 §3.3 lets a Nak add options, and pppd does), Max-Failure times;
// then its request is acknowledged as it is (RFC 1661 §4.6), and the
// client is still known by the address it was offered, as pppd's
// ipcp_up does with its idea of the remote address.
func TestServerOffersAddress(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		var mu sync.Mutex
		var answers []string
		runScript(a, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xc1)},
			func(s *script, _ ppp.Packet) {
				s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 1, nil)
			},
			func(s *script, p ppp.Packet) {
				switch {
				case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfReq:
					s.end.Send(ppp.ProtoIPCP, ppp.CodeConfAck, p.ID, p.Data)
				case p.Protocol == ppp.ProtoIPCP && (p.Code == ppp.CodeConfNak || p.Code == ppp.CodeConfAck):
					mu.Lock()
					answers = append(answers, p.String())
					mu.Unlock()
					if p.Code == ppp.CodeConfNak {
						s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, p.ID+1, nil)
					}
				}
			}))
		scfg := serverConfig(ppp.AuthNone, true, false, ppptest.NewPool(clientAddr, 1))
		srv := start(scfg, b)
		synctest.Wait()
		up, ok := find[ppp.IPv4Up](srv.rec)
		if !ok || up.Peer != clientAddr {
			t.Errorf("IPv4Up %+v (%v), want the peer at %s", up, ok, clientAddr)
		}
		mu.Lock()
		want := strings.Repeat("[IPCP ConfNak <addr 10.64.0.2>],", 5) + "[IPCP ConfAck],"
		var got strings.Builder
		for _, a := range answers {
			// Identifiers left out: the script numbers its requests.
			got.WriteString(idField.ReplaceAllString(a, "") + ",")
		}
		if got.String() != want {
			t.Errorf("answers %s\nwant %s", got.String(), want)
		}
		mu.Unlock()
		srv.s.Close("")
		srv.wait(t)
	})
}

// Name servers asked for but not given (the server acknowledged our
// 0.0.0.0) are left out of IPv4Up, without a warning: there is nothing
// wrong with them.
func TestIPCPNameServersNotGiven(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		runScript(b, papAC(t, func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == 0:
				s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 1, opts(t, ppp.IPAddress(acAddr)))
			case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfReq:
				if addr, _ := addrOf(t, p.Data); addr.IsUnspecified() {
					s.end.Send(ppp.ProtoIPCP, ppp.CodeConfNak, p.ID, opts(t, ppp.IPAddress(clientAddr)))
				} else {
					s.end.Send(ppp.ProtoIPCP, ppp.CodeConfAck, p.ID, p.Data)
				}
			}
		}))
		var logs strings.Builder
		ccfg := clientConfig(true, false)
		ccfg.Logger = textLogger(&logs)
		cli := start(ccfg, a)
		synctest.Wait()
		up, ok := find[ppp.IPv4Up](cli.rec)
		if want := (ppp.IPv4Up{Local: clientAddr, Peer: acAddr}); !ok || !reflect.DeepEqual(up, want) {
			t.Errorf("IPv4Up %+v (%v), want %+v", up, ok, want)
		}
		if strings.Contains(logs.String(), "name server") {
			t.Errorf("a warning about name servers:\n%s", logs.String())
		}
		cli.s.Close("")
		cli.wait(t)
	})
}
