package ppp

import (
	"bytes"
	"net/netip"
	"reflect"
	"testing"
)

// nullLink is a Link for layer tests: it records what is written.
type nullLink struct{ out [][]byte }

func (l *nullLink) ReadFrame() (Protocol, []byte, error) { select {} }
func (l *nullLink) WriteFrame(p Protocol, b []byte) error {
	l.out = append(l.out, append([]byte(nil), b...))
	return nil
}
func (l *nullLink) Close() error { return nil }

// counter is a deterministic random source: 1, 2, 3, ...
type counter struct{ n byte }

func (c *counter) Read(b []byte) (int, error) {
	for i := range b {
		c.n++
		b[i] = c.n
	}
	return len(b), nil
}

func testSession(cfg Config) *Session {
	cfg.Rand = &counter{}
	s := NewSession(&nullLink{}, cfg)
	s.lcpL.resetOptions()
	return s
}

func enc(t *testing.T, o ...Option) []byte {
	t.Helper()
	b, err := AppendOptions(nil, o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type configureCase struct {
	name   string
	in     []Option
	reject bool // rejectIfDisagree
	code   Code
	out    []Option // nil: the request echoed
}

func runConfigure(t *testing.T, l layer, proto Protocol, tests []configureCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := enc(t, tt.in...)
			code, out := l.configure(in, tt.reject)
			want := in
			if tt.out != nil {
				want = enc(t, tt.out...)
			}
			if code != tt.code {
				t.Fatalf("code %d, want %d", code, tt.code)
			}
			if tt.code == CodeConfNak && tt.out == nil {
				return // random suggestion: checked by the caller
			}
			if !bytes.Equal(out, want) {
				got, _ := ParseOptions(proto, out)
				t.Errorf("answer %v, want %v", got, tt.out)
			}
		})
	}
}

func TestLCPConfigure(t *testing.T) {
	client := testSession(Config{User: "u", Password: "p", Allow: []AuthMethod{AuthCHAPMD5, AuthPAP}})
	magic := client.lcpL.want.magic
	runConfigure(t, client.lcpL, ProtoLCP, []configureCase{
		{"plain", []Option{MRU(1492), MagicNumber(7)}, false, CodeConfAck, nil},
		{"MRU too small", []Option{MRU(100)}, false, CodeConfNak, []Option{MRU(128)}},
		{"MRU above PPPoE's 1492 (RFC 2516 §7)", []Option{MRU(1500)}, false, CodeConfNak, []Option{MRU(1492)}},
		{"auth allowed", []Option{AuthPAP.option()}, false, CodeConfAck, nil},
		{"auth not allowed: Nak with ours", []Option{AuthMSCHAPv2.option()}, false, CodeConfNak, []Option{AuthCHAPMD5.option()}},
		{"unknown auth protocol", []Option{AuthProtocol{Protocol: 0x1234}}, false, CodeConfNak, []Option{AuthCHAPMD5.option()}},
		{"PAP with data after the protocol", []Option{AuthProtocol{Protocol: ProtoPAP, Data: []byte{1}}}, false, CodeConfNak, []Option{AuthCHAPMD5.option()}},
		{"MD5 with data after the algorithm", []Option{AuthProtocol{Protocol: ProtoCHAP, Algorithm: CHAPMD5, Data: []byte{1}}}, false, CodeConfNak, []Option{AuthCHAPMD5.option()}},
		{"Max-Failure turns Naks to Rejects", []Option{MRU(100), MagicNumber(9)}, true, CodeConfRej, []Option{MRU(100)}},
		{"PPPoE forbids these", []Option{MRU(1492), ACCM(0), PFC{}, ACFC{}, MagicNumber(9)}, false, CodeConfRej, []Option{ACCM(0), PFC{}, ACFC{}}},
		{"no multilink, quality or callback", []Option{MRRU(1500), EndpointDiscriminator{Class: 1, Address: []byte{1}}, QualityProtocol{Protocol: ProtoLQR}, RawOption{Protocol: ProtoLCP, Kind: 13, Data: []byte{6}}},
			false, CodeConfRej, []Option{MRRU(1500), EndpointDiscriminator{Class: 1, Address: []byte{1}}, QualityProtocol{Protocol: ProtoLQR}, RawOption{Protocol: ProtoLCP, Kind: 13, Data: []byte{6}}}},
		{"reject beats nak", []Option{MRU(100), ACCM(0)}, false, CodeConfRej, []Option{ACCM(0)}},
	})
	// Magic zero is Nak'd with a non-zero suggestion; the number we sent
	// too (RFC 1661 §6.4). Ours changes only when the peer Naks it in
	// turn, as pppd's lcp_nakci: a Nak of theirs must not alter what a
	// pending Ack of ours refers to.
	client.lcpL.request()
	for _, m := range []uint32{0, magic} {
		code, out := client.lcpL.configure(enc(t, MagicNumber(m)), false)
		got, _ := ParseOptions(ProtoLCP, out)
		if code != CodeConfNak || len(got) != 1 || got[0] == Option(MagicNumber(0)) || got[0] == Option(MagicNumber(m)) {
			t.Errorf("magic %#x: %d %v", m, code, got)
		}
	}
	if client.lcpL.want.magic != magic {
		t.Error("our magic number changed on Nak-ing the peer's")
	}
	if client.lcpL.acked(); client.lcpL.gotMagic() != magic {
		t.Errorf("acknowledged magic %#x, want the one sent, %#x", client.lcpL.gotMagic(), magic)
	}
	if !client.lcpL.nak(enc(t, MagicNumber(magic)), false) || client.lcpL.want.magic == magic {
		t.Error("our magic number did not change when the peer Nak'd it")
	}
	// acked commits what the acknowledged request carried, not what we
	// would ask for now.
	client.lcpL.request()
	sentMagic := client.lcpL.want.magic
	client.lcpL.want.magic, client.lcpL.want.negMRU = sentMagic+1, false
	if client.lcpL.acked(); client.lcpL.gotMagic() != sentMagic || client.lcpL.mru() != 1492 {
		t.Errorf("acked committed %+v, want what was sent (magic %#x, MRU 1492)", client.lcpL.got, sentMagic)
	}
	// A client without credentials rejects authentication.
	anon := testSession(Config{})
	if code, _ := anon.lcpL.configure(enc(t, AuthPAP.option()), false); code != CodeConfRej {
		t.Errorf("anonymous client: code %d, want Reject", code)
	}
	// A server rejects being asked to authenticate itself.
	srv := testSession(Config{Role: RoleServer, Require: []AuthMethod{AuthPAP}})
	if code, _ := srv.lcpL.configure(enc(t, AuthCHAPMD5.option()), false); code != CodeConfRej {
		t.Errorf("server asked to authenticate: code %d", code)
	}
}

func TestLCPNakReject(t *testing.T) {
	s := testSession(Config{Role: RoleServer, Require: []AuthMethod{AuthMSCHAPv2, AuthCHAPMD5, AuthPAP}, MRU: 1492})
	l := s.lcpL
	if !reflect.DeepEqual(mustOpts(t, l.request()), []Option{MRU(1492), AuthMSCHAPv2.option(), MagicNumber(l.want.magic)}) {
		t.Fatalf("request %v", mustOpts(t, l.request()))
	}
	old := l.want.magic
	l.nak(enc(t, MRU(1400), MagicNumber(old), AuthPAP.option()), false)
	if l.want.mru != 1400 || l.want.magic == old || l.want.auth != AuthPAP {
		t.Errorf("after Nak: %+v", l.want)
	}
	l.nak(enc(t, MRU(9000)), false) // larger than we asked: ignored
	if l.want.mru != 1400 {
		t.Errorf("took a larger MRU: %d", l.want.mru)
	}
	l.nak(enc(t, AuthProtocol{Protocol: 0x4242}), false) // unknown: next preference
	if l.want.auth != AuthCHAPMD5 && l.want.auth != AuthPAP {
		t.Errorf("auth after an unknown suggestion: %v", l.want.auth)
	}
	if !l.reject(enc(t, MRU(1400), MagicNumber(1))) || l.want.negMRU || l.want.negMagic {
		t.Errorf("after Reject: %+v", l.want)
	}
	if l.reject(enc(t, ACCM(0))) {
		t.Error("accepted a Reject of an option we never sent")
	}
	if l.nak([]byte{1}, false) || l.reject([]byte{1}) {
		t.Error("accepted a malformed Nak or Reject")
	}
	// Rejecting auth, or Nak'ing it after Max-Failure, is the peer
	// refusing to authenticate: the session closes.
	l.reject(enc(t, AuthPAP.option()))
	s.runLater()
	if s.reason == nil || s.reason.Reason != ReasonPeerAuthFailed {
		t.Errorf("reason %v, want the peer refusing authentication", s.reason)
	}
}

func mustOpts(t *testing.T, b []byte) []Option {
	o, err := ParseOptions(ProtoLCP, b)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestIPCPConfigure(t *testing.T) {
	pool := &onePool{addr: netip.MustParseAddr("10.64.0.2")}
	srv := testSession(Config{Role: RoleServer, IPv4: &IPv4Config{Local: netip.MustParseAddr("10.64.0.1"), Pool: pool,
		DNS: []netip.Addr{netip.MustParseAddr("1.1.1.1"), netip.MustParseAddr("8.8.8.8")}}})
	a := func(s string) netip.Addr { return netip.MustParseAddr(s) }
	runConfigure(t, srv.ipcpL, ProtoIPCP, []configureCase{
		{"asks for an address", []Option{IPAddress(a("0.0.0.0"))}, false, CodeConfNak, []Option{IPAddress(a("10.64.0.2"))}},
		{"wants another", []Option{IPAddress(a("10.9.9.9"))}, false, CodeConfNak, []Option{IPAddress(a("10.64.0.2"))}},
		{"takes ours", []Option{IPAddress(a("10.64.0.2"))}, false, CodeConfAck, nil},
		{"asks for a loopback address", []Option{IPAddress(a("127.0.0.1"))}, false, CodeConfNak, []Option{IPAddress(a("10.64.0.2"))}},
		{"asks for the broadcast address", []Option{IPAddress(a("255.255.255.255"))}, false, CodeConfNak, []Option{IPAddress(a("10.64.0.2"))}},
		{"asks for ours", []Option{IPAddress(a("10.64.0.1"))}, false, CodeConfNak, []Option{IPAddress(a("10.64.0.2"))}},
		{"asks for DNS", []Option{IPAddress(a("10.64.0.2")), PrimaryDNS(a("0.0.0.0")), SecondaryDNS(a("0.0.0.0"))}, false, CodeConfNak,
			[]Option{PrimaryDNS(a("1.1.1.1")), SecondaryDNS(a("8.8.8.8"))}},
		{"DNS as given", []Option{IPAddress(a("10.64.0.2")), PrimaryDNS(a("1.1.1.1")), SecondaryDNS(a("8.8.8.8"))}, false, CodeConfAck, nil},
		{"VJ and NBNS", []Option{IPCompression{Protocol: 0x2d, Data: []byte{15, 1}}, PrimaryNBNS(a("0.0.0.0"))}, false, CodeConfRej,
			[]Option{IPCompression{Protocol: 0x2d, Data: []byte{15, 1}}, PrimaryNBNS(a("0.0.0.0"))}},
		{"no address asked: one is offered", []Option{}, false, CodeConfNak, []Option{IPAddress(a("10.64.0.2"))}},
	})
	if pool.allocs != 1 {
		t.Errorf("%d allocations, want one per session", pool.allocs)
	}
	noDNS := testSession(Config{Role: RoleServer, IPv4: &IPv4Config{Local: a("10.64.0.1"), Pool: &onePool{addr: a("10.64.0.3")}}})
	runConfigure(t, noDNS.ipcpL, ProtoIPCP, []configureCase{
		{"DNS without servers to give", []Option{IPAddress(a("10.64.0.3")), PrimaryDNS(a("0.0.0.0"))}, false, CodeConfRej, []Option{PrimaryDNS(a("0.0.0.0"))}},
	})
	empty := testSession(Config{Role: RoleServer, IPv4: &IPv4Config{Local: a("10.64.0.1"), Pool: &onePool{}}})
	runConfigure(t, empty.ipcpL, ProtoIPCP, []configureCase{
		{"pool exhausted", []Option{IPAddress(a("0.0.0.0"))}, false, CodeConfRej, []Option{IPAddress(a("0.0.0.0"))}},
	})

	cli := testSession(Config{IPv4: &IPv4Config{RequestDNS: true}})
	runConfigure(t, cli.ipcpL, ProtoIPCP, []configureCase{
		{"the server's address", []Option{IPAddress(a("10.64.0.1"))}, false, CodeConfAck, nil},
		{"a server asking us for an address", []Option{IPAddress(a("0.0.0.0"))}, false, CodeConfRej, []Option{IPAddress(a("0.0.0.0"))}},
		{"a server asking us for DNS", []Option{IPAddress(a("10.64.0.1")), PrimaryDNS(a("0.0.0.0"))}, false, CodeConfRej, []Option{PrimaryDNS(a("0.0.0.0"))}},
	})
	cli.ipcpL.resetOptions()
	if got := mustIPCP(t, cli.ipcpL.request()); !reflect.DeepEqual(got, []Option{IPAddress(a("0.0.0.0")), PrimaryDNS(a("0.0.0.0")), SecondaryDNS(a("0.0.0.0"))}) {
		t.Errorf("client request %v", got)
	}
	cli.ipcpL.nak(enc(t, IPAddress(a("10.64.0.2")), PrimaryDNS(a("1.1.1.1")), SecondaryDNS(a("8.8.8.8"))), false)
	if cli.ipcpL.addr != a("10.64.0.2") || cli.ipcpL.dns != [2]netip.Addr{a("1.1.1.1"), a("8.8.8.8")} {
		t.Errorf("after Nak: %v %v", cli.ipcpL.addr, cli.ipcpL.dns)
	}
	if !cli.ipcpL.reject(enc(t, SecondaryDNS(a("0.0.0.0")))) || cli.ipcpL.negDNS[1] {
		t.Error("Reject of the secondary DNS")
	}
	if cli.ipcpL.reject(enc(t, PrimaryNBNS(a("0.0.0.0")))) {
		t.Error("accepted a Reject of an option never sent")
	}
	// A configured address is ours: the server's Nak does not change it.
	fixed := testSession(Config{IPv4: &IPv4Config{Local: a("10.1.1.1")}})
	fixed.ipcpL.resetOptions()
	fixed.ipcpL.nak(enc(t, IPAddress(a("10.64.0.2"))), false)
	if fixed.ipcpL.addr != a("10.1.1.1") {
		t.Errorf("configured address replaced by %v", fixed.ipcpL.addr)
	}
}

func mustIPCP(t *testing.T, b []byte) []Option {
	o, err := ParseOptions(ProtoIPCP, b)
	if err != nil {
		t.Fatal(err)
	}
	return o
}

type onePool struct {
	addr   netip.Addr
	allocs int
}

func (p *onePool) Allocate(string) (netip.Addr, error) {
	if !p.addr.IsValid() {
		return netip.Addr{}, errTooLong
	}
	p.allocs++
	return p.addr, nil
}
func (p *onePool) Release(netip.Addr) {}

func TestIPv6CPConfigure(t *testing.T) {
	s := testSession(Config{IPv6: &IPv6Config{InterfaceID: InterfaceID{0, 0, 0, 0, 0, 0, 0, 1}}})
	l := s.ipv6cpL
	l.resetOptions()
	ours := l.id
	peer := InterfaceID{2, 0, 0, 0, 0, 0, 0, 2}
	runConfigure(t, l, ProtoIPv6CP, []configureCase{
		{"different, non-zero", []Option{peer}, false, CodeConfAck, nil},
		{"compression", []Option{peer, RawOption{Protocol: ProtoIPv6CP, Kind: 2, Data: []byte{0, 0x4f}}}, false, CodeConfRej,
			[]Option{RawOption{Protocol: ProtoIPv6CP, Kind: 2, Data: []byte{0, 0x4f}}}},
		{"rejectIfDisagree", []Option{ours}, true, CodeConfRej, []Option{ours}},
	})
	// Zero, or our own identifier: Nak with a non-zero other one (§4.1).
	for _, id := range []InterfaceID{{}, ours} {
		code, out := l.configure(enc(t, id), false)
		got, _ := ParseOptions(ProtoIPv6CP, out)
		if code != CodeConfNak || len(got) != 1 {
			t.Fatalf("id %x: %d %v", id, code, got)
		}
		if s := got[0].(InterfaceID); s == (InterfaceID{}) || s == ours || s[0]&2 != 0 {
			t.Errorf("suggested %x for %x", s, id)
		}
	}
	// A Nak suggesting the peer's own id is refused: we pick another.
	l.peer = peer
	l.nak(enc(t, peer), false)
	if l.id == peer || l.id == (InterfaceID{}) {
		t.Errorf("took %x", l.id)
	}
	l.nak(enc(t, InterfaceID{9}), false)
	if l.id != (InterfaceID{9}) {
		t.Errorf("did not take the suggestion: %x", l.id)
	}
	if !l.reject(enc(t, l.id)) || l.negID {
		t.Error("Reject of the identifier")
	}
	// Neither side has an identifier then: the peer's zero "MUST be
	// Configure-Rejected" (RFC 5072 §4.1); a non-zero one is taken.
	runConfigure(t, l, ProtoIPv6CP, []configureCase{
		{"both zero", []Option{InterfaceID{}}, false, CodeConfRej, []Option{InterfaceID{}}},
		{"ours rejected, the peer's non-zero", []Option{peer}, false, CodeConfAck, nil},
	})
	if ll := (InterfaceID{0x02, 0x11, 0x22, 0xff, 0xfe, 0x33, 0x44, 0x55}).LinkLocal(); ll.String() != "fe80::211:22ff:fe33:4455" {
		t.Errorf("LinkLocal = %s", ll)
	}
}

func TestAuthMethodNames(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want AuthMethod
	}{{"pap", AuthPAP}, {"CHAP", AuthCHAPMD5}, {"mschap1", AuthMSCHAPv1}, {"mschap-v2", AuthMSCHAPv2}, {"mschapv2", AuthMSCHAPv2}} {
		if m, err := ParseAuthMethod(tt.in); err != nil || m != tt.want || roundTrip(m) != m {
			t.Errorf("ParseAuthMethod(%q) = %v, %v", tt.in, m, err)
		}
	}
	if _, err := ParseAuthMethod("eap"); err == nil {
		t.Error("accepted eap")
	}
}

// roundTrip passes a method through its name.
func roundTrip(m AuthMethod) AuthMethod {
	r, _ := ParseAuthMethod(m.String())
	return r
}

// What a Configure-Nak or -Reject of ours makes each layer ask for next
// (the options of its next Configure-Request, what the peer sees), and
// which replies it refuses as invalid (dropped, as if never received).
func TestNakRejectNextRequest(t *testing.T) {
	a := netip.MustParseAddr
	type reply struct {
		reject        bool // a Configure-Reject, else a Configure-Nak
		treatAsReject bool // a Nak after Max-Failure
		opts          []Option
		raw           []byte // instead of opts: malformed
	}
	tests := []struct {
		name    string
		cfg     Config
		proto   Protocol
		replies []reply
		invalid bool     // the last reply is refused
		want    []Option // the next request; MagicNumber(0) stands for any
		closed  string   // the session closes with this detail
	}{{
		name:    "LCP: magic number Nak'd after Max-Failure",
		cfg:     Config{User: "u"},
		proto:   ProtoLCP,
		replies: []reply{{treatAsReject: true, opts: []Option{MagicNumber(7)}}},
		want:    []Option{MRU(1492)},
	}, {
		name:    "LCP: MRU Nak'd after Max-Failure",
		cfg:     Config{User: "u"},
		proto:   ProtoLCP,
		replies: []reply{{treatAsReject: true, opts: []Option{MRU(1400)}}},
		want:    []Option{MagicNumber(0)},
	}, {
		// MINMRU is the least we take; our own MRU the most.
		name:  "LCP: MRU Naks at the bounds",
		cfg:   Config{User: "u", MRU: 1400},
		proto: ProtoLCP,
		replies: []reply{
			{opts: []Option{MRU(127)}}, {opts: []Option{MRU(128)}},
			{opts: []Option{MRU(1401)}},
		},
		want: []Option{MRU(128), MagicNumber(0)},
	}, {
		name:    "LCP: MRU Nak'd back up to ours",
		cfg:     Config{User: "u", MRU: 1400},
		proto:   ProtoLCP,
		replies: []reply{{opts: []Option{MRU(1300)}}, {opts: []Option{MRU(1400)}}},
		want:    []Option{MRU(1400), MagicNumber(0)},
	}, {
		// A client never asks the AC to authenticate: a Nak that
		// suggests a protocol is no reason to start.
		name:    "LCP: client Nak'd an authentication protocol",
		cfg:     Config{User: "u"},
		proto:   ProtoLCP,
		replies: []reply{{opts: []Option{AuthPAP.option()}}},
		want:    []Option{MRU(1492), MagicNumber(0)},
	}, {
		name:    "LCP: a suggestion we do not know moves to our next preference",
		cfg:     Config{Role: RoleServer, Require: []AuthMethod{AuthMSCHAPv2, AuthCHAPMD5, AuthPAP}},
		proto:   ProtoLCP,
		replies: []reply{{opts: []Option{AuthProtocol{Protocol: 0x4242}}}},
		want:    []Option{MRU(1492), AuthCHAPMD5.option(), MagicNumber(0)},
	}, {
		name:    "LCP: a suggestion we allow is taken",
		cfg:     Config{Role: RoleServer, Require: []AuthMethod{AuthMSCHAPv2, AuthCHAPMD5, AuthPAP}},
		proto:   ProtoLCP,
		replies: []reply{{opts: []Option{AuthPAP.option()}}},
		want:    []Option{MRU(1492), AuthPAP.option(), MagicNumber(0)},
	}, {
		name:    "LCP: no preference left",
		cfg:     Config{Role: RoleServer, Require: []AuthMethod{AuthMSCHAPv2}},
		proto:   ProtoLCP,
		replies: []reply{{opts: []Option{AuthProtocol{Protocol: 0x4242}}}},
		want:    []Option{MRU(1492), AuthMSCHAPv2.option(), MagicNumber(0)},
		closed:  "peer refused to authenticate: the peer refuses [mschap2]",
	}, {
		name:    "LCP: authentication Nak'd after Max-Failure",
		cfg:     Config{Role: RoleServer, Require: []AuthMethod{AuthPAP}},
		proto:   ProtoLCP,
		replies: []reply{{treatAsReject: true, opts: []Option{AuthCHAPMD5.option()}}},
		want:    []Option{MRU(1492), AuthPAP.option(), MagicNumber(0)},
		closed:  "peer refused to authenticate: the peer keeps refusing our authentication protocols",
	}, {
		// A Reject that lists an option we never ask for is invalid as
		// a whole: the options before it stay requested.
		name:    "LCP: Reject of an option we never sent",
		cfg:     Config{User: "u"},
		proto:   ProtoLCP,
		replies: []reply{{reject: true, opts: []Option{MRU(1492), MagicNumber(7), ACCM(0)}}},
		invalid: true,
		want:    []Option{MRU(1492), MagicNumber(0)},
	}, {
		name:    "IPCP: Reject of an option we never sent",
		cfg:     Config{IPv4: &IPv4Config{RequestDNS: true}},
		proto:   ProtoIPCP,
		replies: []reply{{reject: true, opts: []Option{IPAddress(a("0.0.0.0")), PrimaryDNS(a("0.0.0.0")), PrimaryNBNS(a("0.0.0.0"))}}},
		invalid: true,
		want:    []Option{IPAddress(a("0.0.0.0")), PrimaryDNS(a("0.0.0.0")), SecondaryDNS(a("0.0.0.0"))},
	}, {
		name:    "IPCP: malformed Nak",
		cfg:     Config{IPv4: &IPv4Config{RequestDNS: true}},
		proto:   ProtoIPCP,
		replies: []reply{{raw: []byte{3, 9}}},
		invalid: true,
		want:    []Option{IPAddress(a("0.0.0.0")), PrimaryDNS(a("0.0.0.0")), SecondaryDNS(a("0.0.0.0"))},
	}, {
		name:    "IPCP: malformed Reject",
		cfg:     Config{IPv4: &IPv4Config{RequestDNS: true}},
		proto:   ProtoIPCP,
		replies: []reply{{reject: true, raw: []byte{3, 9}}},
		invalid: true,
		want:    []Option{IPAddress(a("0.0.0.0")), PrimaryDNS(a("0.0.0.0")), SecondaryDNS(a("0.0.0.0"))},
	}, {
		name:    "IPCP: name servers Nak'd after Max-Failure",
		cfg:     Config{IPv4: &IPv4Config{RequestDNS: true}},
		proto:   ProtoIPCP,
		replies: []reply{{treatAsReject: true, opts: []Option{PrimaryDNS(a("10.0.0.53")), SecondaryDNS(a("10.0.0.54"))}}},
		want:    []Option{IPAddress(a("0.0.0.0"))},
	}, {
		name:    "IPCP: address Nak'd after Max-Failure",
		cfg:     Config{IPv4: &IPv4Config{}},
		proto:   ProtoIPCP,
		replies: []reply{{treatAsReject: true, opts: []Option{IPAddress(a("10.64.0.2"))}}},
		want:    nil,
	}, {
		// RFC 1877 options we did not ask for are not added because a
		// Nak names them.
		name:    "IPCP: name servers we did not ask for",
		cfg:     Config{IPv4: &IPv4Config{}},
		proto:   ProtoIPCP,
		replies: []reply{{opts: []Option{IPAddress(a("10.64.0.2")), PrimaryDNS(a("10.0.0.53")), SecondaryDNS(a("10.0.0.54"))}}},
		want:    []Option{IPAddress(a("10.64.0.2"))},
	}, {
		name:    "IPCP: each option rejected",
		cfg:     Config{IPv4: &IPv4Config{RequestDNS: true}},
		proto:   ProtoIPCP,
		replies: []reply{{reject: true, opts: []Option{PrimaryDNS(a("0.0.0.0"))}}, {reject: true, opts: []Option{IPAddress(a("0.0.0.0"))}}},
		want:    []Option{SecondaryDNS(a("0.0.0.0"))},
	}, {
		name:    "IPv6CP: malformed Nak",
		cfg:     Config{IPv6: &IPv6Config{InterfaceID: InterfaceID{0, 0, 0, 0, 0, 0, 0, 1}}},
		proto:   ProtoIPv6CP,
		replies: []reply{{raw: []byte{1, 10, 0}}},
		invalid: true,
		want:    []Option{InterfaceID{0, 0, 0, 0, 0, 0, 0, 1}},
	}, {
		name:    "IPv6CP: identifier Nak'd after Max-Failure",
		cfg:     Config{IPv6: &IPv6Config{InterfaceID: InterfaceID{0, 0, 0, 0, 0, 0, 0, 1}}},
		proto:   ProtoIPv6CP,
		replies: []reply{{treatAsReject: true, opts: []Option{InterfaceID{9}}}},
		want:    nil,
	}, {
		name:    "IPv6CP: malformed Reject",
		cfg:     Config{IPv6: &IPv6Config{InterfaceID: InterfaceID{0, 0, 0, 0, 0, 0, 0, 1}}},
		proto:   ProtoIPv6CP,
		replies: []reply{{reject: true, raw: []byte{1, 10, 0}}},
		invalid: true,
		want:    []Option{InterfaceID{0, 0, 0, 0, 0, 0, 0, 1}},
	}, {
		name:    "IPv6CP: Reject of an option we never sent",
		cfg:     Config{IPv6: &IPv6Config{InterfaceID: InterfaceID{0, 0, 0, 0, 0, 0, 0, 1}}},
		proto:   ProtoIPv6CP,
		replies: []reply{{reject: true, opts: []Option{InterfaceID{0, 0, 0, 0, 0, 0, 0, 1}, RawOption{Protocol: ProtoIPv6CP, Kind: 2, Data: []byte{0, 0x4f}}}}},
		invalid: true,
		want:    []Option{InterfaceID{0, 0, 0, 0, 0, 0, 0, 1}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSession(tt.cfg)
			var l layer = s.lcpL
			switch tt.proto {
			case ProtoIPCP:
				l = s.ipcpL
			case ProtoIPv6CP:
				l = s.ipv6cpL
			}
			l.resetOptions()
			l.request()
			ok := true
			for _, r := range tt.replies {
				data := r.raw
				if data == nil {
					data = enc(t, r.opts...)
				}
				if r.reject {
					ok = l.reject(data)
				} else {
					ok = l.nak(data, r.treatAsReject)
				}
			}
			if ok == tt.invalid {
				t.Errorf("the last reply accepted: %v, want %v", ok, !tt.invalid)
			}
			got, err := ParseOptions(tt.proto, l.request())
			if err != nil {
				t.Fatal(err)
			}
			for i, o := range got {
				if _, ok := o.(MagicNumber); ok && i < len(tt.want) && tt.want[i] == Option(MagicNumber(0)) {
					got[i] = MagicNumber(0)
				}
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("next request %v, want %v", got, tt.want)
			}
			s.runLater()
			detail := ""
			if s.reason != nil {
				detail = s.reason.Detail
			}
			if detail != tt.closed {
				t.Errorf("session closing with %q, want %q", detail, tt.closed)
			}
		})
	}
}
