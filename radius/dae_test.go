package radius

import (
	"bytes"
	"crypto/md5"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/rfc3576"
)

type daeOpts struct {
	noMA, badMA, badAuth bool
	secret               []byte
	edit                 func([]byte) []byte
}

// signedDAE builds a Disconnect- or CoA-Request as radclient does, written
// here from RFC 5176 §2.3 and §3.5 independently of wire.go: the
// Message-Authenticator (last) over a zero authenticator, then the Request
// Authenticator over the packet with the zero authenticator.
func signedDAE(code radius.Code, attrs radius.Attributes, o daeOpts) []byte {
	secret := []byte(testSecret)
	if o.secret != nil {
		secret = o.secret
	}
	p := &radius.Packet{Code: code, Identifier: 0x33, Attributes: append(radius.Attributes(nil), attrs...)}
	if !o.noMA {
		p.Add(rfc2869.MessageAuthenticator_Type, make(radius.Attribute, 16))
	}
	b, err := p.MarshalBinary()
	if err != nil {
		panic(err)
	}
	maOff := len(b) - 18
	if o.edit != nil {
		b = setLen(o.edit(b))
	}
	zero := make([]byte, 16)
	if !o.noMA {
		copy(b[maOff+2:], testHMAC(b, maOff, zero, secret))
		if o.badMA {
			b[maOff+2] ^= 1
		}
	}
	h := md5.New()
	h.Write(b)
	h.Write(secret)
	copy(b[4:20], h.Sum(nil))
	if o.badAuth {
		b[5] ^= 1
	}
	return b
}

func a(t radius.Type, v []byte) *radius.AVP { return &radius.AVP{Type: t, Attribute: v} }

var (
	sessAttr = a(rfc2866.AcctSessionID_Type, []byte("S1"))
	from     = netip.MustParseAddrPort("127.0.0.1:40000")
)

func testDAE(handle func(Target) error) *DAEListener {
	return newDAE(nil, DAEConfig{
		Clients: []DAEClient{
			{Prefix: netip.MustParsePrefix("192.0.2.0/24"), Secret: Secret("other")},
			{Prefix: netip.MustParsePrefix("127.0.0.1/32"), Secret: Secret(testSecret)},
		},
		NAS:    testNAS(),
		Handle: handle,
		Now:    func() time.Time { return time.Unix(1_700_000_000, 0) },
	})
}

func TestDAEAnswers(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	ts := func(d time.Duration) *radius.AVP {
		v, _ := radius.NewDate(now.Add(d))
		return a(rfc2869.EventTimestamp_Type, v)
	}
	tests := []struct {
		name      string
		code      radius.Code
		attrs     radius.Attributes
		handleErr error
		wantCode  radius.Code
		wantCause uint32
		want      *Target // what Handle saw
	}{
		{"disconnect by session", radius.CodeDisconnectRequest, radius.Attributes{sessAttr}, nil,
			radius.CodeDisconnectACK, 0, &Target{Kind: Disconnect, AcctSessionID: "S1"}},
		{"disconnect by user and address", radius.CodeDisconnectRequest, radius.Attributes{
			a(rfc2865.UserName_Type, []byte("alice")), a(rfc2865.FramedIPAddress_Type, []byte{10, 0, 0, 9}),
			a(rfc2865.CallingStationID_Type, []byte("02-AB-CD-00-11-22")), a(rfc2865.NASIdentifier_Type, []byte("ac1")),
			a(rfc2865.NASIPAddress_Type, []byte{192, 0, 2, 1}), ts(-time.Minute)}, nil,
			radius.CodeDisconnectACK, 0, &Target{Kind: Disconnect, UserName: "alice", FramedIP: netip.MustParseAddr("10.0.0.9"), CallingStationID: "02-AB-CD-00-11-22"}},
		{"disconnect by user on a port", radius.CodeDisconnectRequest, radius.Attributes{
			a(rfc2865.UserName_Type, []byte("alice")), a(rfc2869.NASPortID_Type, []byte("eth1")),
			a(rfc2865.CalledStationID_Type, []byte("02-AC-00-00-00-02"))}, nil,
			radius.CodeDisconnectACK, 0, &Target{Kind: Disconnect, UserName: "alice", NASPortID: "eth1", CalledStationID: "02-AC-00-00-00-02"}},
		{"CoA by session on a port", radius.CodeCoARequest, radius.Attributes{
			sessAttr, a(rfc2869.NASPortID_Type, []byte("eth0")), a(rfc2865.SessionTimeout_Type, radius.NewInteger(60))}, nil,
			radius.CodeCoAACK, 0, &Target{Kind: CoA, AcctSessionID: "S1", NASPortID: "eth0", SessionTimeout: time.Minute}},
		{"port alone names no session", radius.CodeDisconnectRequest, radius.Attributes{
			a(rfc2869.NASPortID_Type, []byte("eth1")), a(rfc2865.CalledStationID_Type, []byte("02-AC-00-00-00-02")),
			a(rfc2865.CallingStationID_Type, []byte("02-AB-CD-00-11-22"))}, nil,
			radius.CodeDisconnectNAK, 402, nil},
		// RFC 5176 §3's other session identification attributes: not
		// matched, so refused rather than ignored (which would widen the
		// request to sessions they exclude).
		{"NAS-Port", radius.CodeDisconnectRequest, radius.Attributes{sessAttr, a(rfc2865.NASPort_Type, radius.NewInteger(3))}, nil,
			radius.CodeDisconnectNAK, 401, nil},
		{"Vendor-Specific", radius.CodeDisconnectRequest, radius.Attributes{sessAttr, a(rfc2865.VendorSpecific_Type, []byte{0, 0, 0x37, 0x2e, 1, 3, 'x'})}, nil,
			radius.CodeDisconnectNAK, 401, nil},
		{"Acct-Multi-Session-Id", radius.CodeDisconnectRequest, radius.Attributes{sessAttr, a(rfc2866.AcctMultiSessionID_Type, []byte("M1"))}, nil,
			radius.CodeDisconnectNAK, 401, nil},
		{"NAS-Port-Type", radius.CodeDisconnectRequest, radius.Attributes{sessAttr, a(rfc2865.NASPortType_Type, radius.NewInteger(5))}, nil,
			radius.CodeDisconnectNAK, 401, nil},
		{"Chargeable-User-Identity", radius.CodeDisconnectRequest, radius.Attributes{sessAttr, a(89, []byte("cui"))}, nil,
			radius.CodeDisconnectNAK, 401, nil},
		{"Originating-Line-Info", radius.CodeDisconnectRequest, radius.Attributes{sessAttr, a(94, []byte{0, 0})}, nil,
			radius.CodeDisconnectNAK, 401, nil},
		{"Framed-Interface-Id", radius.CodeCoARequest, radius.Attributes{sessAttr, a(rfc2865.SessionTimeout_Type, radius.NewInteger(60)), a(96, make([]byte, 8))}, nil,
			radius.CodeCoANAK, 401, nil},
		{"Framed-IPv6-Prefix", radius.CodeDisconnectRequest, radius.Attributes{sessAttr, a(97, []byte{0, 64, 0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0})}, nil,
			radius.CodeDisconnectNAK, 401, nil},
		{"NAS-IPv6-Address", radius.CodeDisconnectRequest, radius.Attributes{sessAttr, a(95, netip.MustParseAddr("2001:db8::1").AsSlice())}, nil,
			radius.CodeDisconnectNAK, 401, nil},
		{"two User-Names", radius.CodeDisconnectRequest, radius.Attributes{a(rfc2865.UserName_Type, []byte("alice")), a(rfc2865.UserName_Type, []byte("bob"))}, nil,
			radius.CodeDisconnectNAK, 404, nil},
		{"two NAS-Port-Ids", radius.CodeDisconnectRequest, radius.Attributes{sessAttr, a(rfc2869.NASPortID_Type, []byte("eth1")), a(rfc2869.NASPortID_Type, []byte("eth0"))}, nil,
			radius.CodeDisconnectNAK, 404, nil},
		{"no such session", radius.CodeDisconnectRequest, radius.Attributes{sessAttr}, fmt.Errorf("x: %w", ErrSessionNotFound),
			radius.CodeDisconnectNAK, 503, &Target{Kind: Disconnect, AcctSessionID: "S1"}},
		{"handler's cause", radius.CodeDisconnectRequest, radius.Attributes{sessAttr}, &DAEError{Cause: 504},
			radius.CodeDisconnectNAK, 504, &Target{Kind: Disconnect, AcctSessionID: "S1"}},
		{"handler failed", radius.CodeDisconnectRequest, radius.Attributes{sessAttr}, errors.New("busy"),
			radius.CodeDisconnectNAK, 506, &Target{Kind: Disconnect, AcctSessionID: "S1"}},
		{"unsupported attribute", radius.CodeDisconnectRequest, radius.Attributes{sessAttr, a(rfc2865.FramedMTU_Type, radius.NewInteger(1400))}, nil,
			radius.CodeDisconnectNAK, 401, nil},
		{"Session-Timeout in a Disconnect", radius.CodeDisconnectRequest, radius.Attributes{sessAttr, a(rfc2865.SessionTimeout_Type, radius.NewInteger(1))}, nil,
			radius.CodeDisconnectNAK, 401, nil},
		{"no session identification", radius.CodeDisconnectRequest, radius.Attributes{a(rfc2865.NASIdentifier_Type, []byte("ac1"))}, nil,
			radius.CodeDisconnectNAK, 402, nil},
		{"another NAS-Identifier", radius.CodeDisconnectRequest, radius.Attributes{sessAttr, a(rfc2865.NASIdentifier_Type, []byte("ac2"))}, nil,
			radius.CodeDisconnectNAK, 403, nil},
		{"another NAS-IP-Address", radius.CodeDisconnectRequest, radius.Attributes{sessAttr, a(rfc2865.NASIPAddress_Type, []byte{192, 0, 2, 2})}, nil,
			radius.CodeDisconnectNAK, 403, nil},
		{"Framed-IP-Address of 3 octets", radius.CodeDisconnectRequest, radius.Attributes{a(rfc2865.FramedIPAddress_Type, []byte{10, 0, 0})}, nil,
			radius.CodeDisconnectNAK, 407, nil},
		{"CoA Session-Timeout", radius.CodeCoARequest, radius.Attributes{sessAttr, a(rfc2865.SessionTimeout_Type, radius.NewInteger(600))}, nil,
			radius.CodeCoAACK, 0, &Target{Kind: CoA, AcctSessionID: "S1", SessionTimeout: 10 * time.Minute}},
		{"CoA without Session-Timeout", radius.CodeCoARequest, radius.Attributes{sessAttr}, nil,
			radius.CodeCoANAK, 402, nil},
		{"CoA with something else", radius.CodeCoARequest, radius.Attributes{sessAttr, a(rfc2865.SessionTimeout_Type, radius.NewInteger(600)), a(rfc2865.IdleTimeout_Type, radius.NewInteger(6))}, nil,
			radius.CodeCoANAK, 401, nil},
		{"Proxy-State echoed in order", radius.CodeDisconnectRequest, radius.Attributes{a(rfc2865.ProxyState_Type, []byte("p1")), sessAttr, a(rfc2865.ProxyState_Type, []byte("p2"))}, nil,
			radius.CodeDisconnectACK, 0, &Target{Kind: Disconnect, AcctSessionID: "S1"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got *Target
			l := testDAE(func(tg Target) error { got = &tg; return tc.handleErr })
			req := signedDAE(tc.code, tc.attrs, daeOpts{})
			out := l.respond(req, from)
			if out == nil {
				t.Fatal("dropped")
			}
			checkDAEResponse(t, out, req)
			p, err := radius.Parse(out, []byte(testSecret))
			if err != nil {
				t.Fatal(err)
			}
			if p.Code != tc.wantCode || p.Identifier != 0x33 {
				t.Errorf("answer %v id %#x, want %v", p.Code, p.Identifier, tc.wantCode)
			}
			cause, _ := rfc3576.ErrorCause_Lookup(p)
			if uint32(cause) != tc.wantCause {
				t.Errorf("Error-Cause = %d, want %d", cause, tc.wantCause)
			}
			var wantPS, gotPS [][]byte
			for _, avp := range tc.attrs {
				if avp.Type == rfc2865.ProxyState_Type {
					wantPS = append(wantPS, avp.Attribute)
				}
			}
			gotPS, _ = rfc2865.ProxyState_Gets(p)
			if fmt.Sprint(gotPS) != fmt.Sprint(wantPS) {
				t.Errorf("Proxy-State = %q, want %q", gotPS, wantPS)
			}
			if tc.want != nil {
				tc.want.From = from
			}
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("Handle saw %+v, want %+v", got, tc.want)
			}
			st := l.Stats()
			if st.Requests != 1 || st.ACKs+st.NAKs != 1 {
				t.Errorf("stats = %+v", st)
			}
		})
	}
}

// checkDAEResponse: the answer's Response Authenticator (RFC 5176 §2.3)
// and Message-Authenticator (over the request's authenticator) are right.
func checkDAEResponse(t *testing.T, out, req []byte) {
	t.Helper()
	if !radius.IsAuthenticResponse(out, req, []byte(testSecret)) {
		t.Error("Response Authenticator wrong")
	}
	off := findMA(out)
	if off < 0 || !bytes.Equal(testHMAC(out, off, req[4:20], []byte(testSecret)), out[off+2:off+18]) {
		t.Error("Message-Authenticator missing or wrong")
	}
}

// TestDAEDrops: requests that must go unanswered, never reaching Handle.
func TestDAEDrops(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	ts := func(d time.Duration) *radius.AVP {
		v, _ := radius.NewDate(now.Add(d))
		return a(rfc2869.EventTimestamp_Type, v)
	}
	disc := radius.CodeDisconnectRequest
	tests := []struct {
		name  string
		req   []byte
		from  netip.AddrPort
		count func(DAEStats) uint64
	}{
		{"unknown source", signedDAE(disc, radius.Attributes{sessAttr}, daeOpts{}), netip.MustParseAddrPort("127.0.0.2:1"),
			func(s DAEStats) uint64 { return s.UnknownClient }},
		{"secret of another client", signedDAE(disc, radius.Attributes{sessAttr}, daeOpts{}), netip.MustParseAddrPort("192.0.2.7:1"),
			func(s DAEStats) uint64 { return s.Dropped.BadAuthenticator }},
		{"wrong secret", signedDAE(disc, radius.Attributes{sessAttr}, daeOpts{secret: []byte("guess")}), from,
			func(s DAEStats) uint64 { return s.Dropped.BadAuthenticator }},
		{"bad Request Authenticator", signedDAE(disc, radius.Attributes{sessAttr}, daeOpts{badAuth: true}), from,
			func(s DAEStats) uint64 { return s.Dropped.BadAuthenticator }},
		{"no Message-Authenticator", signedDAE(disc, radius.Attributes{sessAttr}, daeOpts{noMA: true}), from,
			func(s DAEStats) uint64 { return s.Dropped.NoMessageAuthenticator }},
		{"bad Message-Authenticator", signedDAE(disc, radius.Attributes{sessAttr}, daeOpts{badMA: true}), from,
			func(s DAEStats) uint64 { return s.Dropped.BadMessageAuthenticator }},
		{"truncated attribute", signedDAE(disc, radius.Attributes{sessAttr}, daeOpts{edit: func(b []byte) []byte { return append(b, 1, 9, 'x') }}), from,
			func(s DAEStats) uint64 { return s.Dropped.Malformed }},
		{"not a DAE code", signedDAE(radius.CodeAccountingRequest, radius.Attributes{sessAttr}, daeOpts{}), from,
			func(s DAEStats) uint64 { return s.Dropped.Unexpected }},
		{"oversized", make([]byte, maxPacketLen+1), from,
			func(s DAEStats) uint64 { return s.Dropped.Oversized }},
		{"old Event-Timestamp", signedDAE(disc, radius.Attributes{sessAttr, ts(-301 * time.Second)}, daeOpts{}), from,
			func(s DAEStats) uint64 { return s.Replays }},
		{"future Event-Timestamp", signedDAE(disc, radius.Attributes{sessAttr, ts(301 * time.Second)}, daeOpts{}), from,
			func(s DAEStats) uint64 { return s.Replays }},
		{"Event-Timestamp of 3 octets", signedDAE(disc, radius.Attributes{sessAttr, a(rfc2869.EventTimestamp_Type, []byte{1, 2, 3})}, daeOpts{}), from,
			func(s DAEStats) uint64 { return s.Replays }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := testDAE(func(Target) error { t.Error("Handle called"); return nil })
			if out := l.respond(tc.req, tc.from); out != nil {
				t.Errorf("answered % x", out)
			}
			if n := tc.count(l.Stats()); n != 1 {
				t.Errorf("counted %d, want 1: %+v", n, l.Stats())
			}
		})
	}
}

// TestDAEListener: the UDP path end to end on loopback.
func TestDAEListener(t *testing.T) {
	done := make(chan Target, 1)
	l, err := ListenDAE("127.0.0.1:0", DAEConfig{
		Clients: []DAEClient{{Prefix: netip.MustParsePrefix("127.0.0.0/8"), Secret: Secret(testSecret)}},
		NAS:     testNAS(),
		Handle:  func(tg Target) error { done <- tg; return nil },
	})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	conn, err := net.Dial("udp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	req := signedDAE(radius.CodeDisconnectRequest, radius.Attributes{sessAttr}, daeOpts{})
	if _, err := conn.Write(req); err != nil {
		t.Fatal(err)
	}
	_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4096)
	n, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	checkDAEResponse(t, buf[:n], req)
	if buf[0] != byte(radius.CodeDisconnectACK) {
		t.Errorf("answer code %d", buf[0])
	}
	if tg := <-done; tg.AcctSessionID != "S1" {
		t.Errorf("target %+v", tg)
	}
}

func TestDAEConfigErrors(t *testing.T) {
	h := func(Target) error { return nil }
	for _, cfg := range []DAEConfig{
		{Handle: h},
		{Clients: []DAEClient{{Prefix: netip.MustParsePrefix("127.0.0.1/32"), Secret: Secret("x")}}},
		{Clients: []DAEClient{{Prefix: netip.MustParsePrefix("127.0.0.1/32")}}, Handle: h},
		{Clients: []DAEClient{{Secret: Secret("x")}}, Handle: h},
	} {
		if l, err := ListenDAE("127.0.0.1:0", cfg); err == nil {
			l.Close()
			t.Errorf("%+v: no error", cfg)
		}
	}
}

// FuzzDAERequest: any datagram from an allowed client, twice; nothing
// panics, nothing unauthentic reaches Handle, and the second time it is
// answered as the first without reaching Handle.
func FuzzDAERequest(f *testing.F) {
	f.Add(signedDAE(radius.CodeDisconnectRequest, radius.Attributes{sessAttr}, daeOpts{}))
	f.Add(signedDAE(radius.CodeCoARequest, radius.Attributes{sessAttr, a(rfc2865.SessionTimeout_Type, radius.NewInteger(5))}, daeOpts{}))
	f.Fuzz(func(t *testing.T, b []byte) {
		calls := 0
		l := testDAE(func(Target) error {
			calls++
			pkt, _, _ := frame(b)
			var zero [16]byte
			if !validAuthenticator(pkt, zero, []byte(testSecret)) {
				t.Fatal("unauthentic request handled")
			}
			return nil
		})
		first := l.respond(b, from)
		n := calls
		if again := l.respond(b, from); !bytes.Equal(again, first) || calls != n {
			t.Fatalf("sent again: answer % x, then % x; Handle ran %d times, then %d", first, again, n, calls)
		}
	})
}

// FuzzDAEAttributes: any attributes in an authentic request (signed
// here), through every attribute decoder.
func FuzzDAEAttributes(f *testing.F) {
	f.Add(true, []byte{44, 4, 'S', '1'})
	f.Add(false, []byte{27, 6, 0, 0, 0, 5, 44, 3, 'x'})
	f.Add(true, []byte{8, 5, 1, 2, 3})
	f.Add(true, []byte{55, 6, 0x65, 0x53, 0xf1, 0})
	f.Fuzz(func(t *testing.T, disconnect bool, attrs []byte) {
		code := radius.CodeCoARequest
		if disconnect {
			code = radius.CodeDisconnectRequest
		}
		b := signedDAE(code, nil, daeOpts{edit: func(b []byte) []byte {
			if len(b)+len(attrs) > 0xffff {
				return b
			}
			return append(b, attrs...)
		}})
		l := testDAE(func(Target) error { return nil })
		_ = l.respond(b, from)
	})
}

// TestDAEDuplicates: a request answered before is answered again with the
// same octets and not handled again, for as long as it could pass the
// Event-Timestamp check (RFC 5080 §2.2.2, RFC 5176 §6.3): a server's
// retransmission gets the ACK it missed (not a NAK 503, the session being
// gone), a replay does nothing. Handle ACKs its first call and NAKs 503
// every later one, so that a request handled twice shows.
func TestDAEDuplicates(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	ts := func(d time.Duration) *radius.AVP {
		v, _ := radius.NewDate(now.Add(d))
		return a(rfc2869.EventTimestamp_Type, v)
	}
	disc := func(attrs ...*radius.AVP) []byte { return signedDAE(radius.CodeDisconnectRequest, attrs, daeOpts{}) }
	plain := disc(sessAttr)
	const (
		ack  = "ACK"  // handled, ACKed
		nak  = "NAK"  // handled, NAKed 503
		dup  = "dup"  // not handled, the answer of step `of` again
		drop = "drop" // not handled, not answered (Replays)
	)
	type step struct {
		at   time.Duration // after now
		req  []byte
		from string
		want string
		of   int
	}
	h1, h2 := "127.0.0.1:40000", "127.0.0.2:40000"
	tests := []struct {
		name    string
		require bool // RequireEventTimestamp
		steps   []step
	}{
		{"retransmission", false, []step{{0, plain, h1, ack, 0}, {3 * time.Second, plain, h1, dup, 0}, {6 * time.Second, plain, h1, dup, 0}}},
		{"replay with Event-Timestamp, within the window", false, []step{
			{0, disc(sessAttr, ts(-10*time.Second)), h1, ack, 0}, {4 * time.Minute, disc(sessAttr, ts(-10*time.Second)), h1, dup, 0}}},
		{"from another port: the same request", false, []step{{0, plain, h1, ack, 0}, {time.Second, plain, "127.0.0.1:40001", dup, 0}}},
		{"from another address: another request", false, []step{
			{0, plain, h1, ack, 0}, {time.Second, plain, h2, nak, 0}, {2 * time.Second, plain, h2, dup, 1}, {3 * time.Second, plain, h1, dup, 0}}},
		{"another request", false, []step{{0, plain, h1, ack, 0}, {time.Second, disc(a(rfc2865.UserName_Type, []byte("alice"))), h1, nak, 0}}},
		{"no Event-Timestamp: remembered for the window", false, []step{
			{0, plain, h1, ack, 0}, {300 * time.Second, plain, h1, dup, 0}, {301 * time.Second, plain, h1, nak, 0}}},
		// Stamped 200 s ahead, it passes the check until 500 s from now.
		{"stamped in the future: remembered while in the window", false, []step{
			{0, disc(sessAttr, ts(200*time.Second)), h1, ack, 0}, {301 * time.Second, disc(sessAttr, ts(200*time.Second)), h1, dup, 0},
			{500 * time.Second, disc(sessAttr, ts(200*time.Second)), h1, dup, 0}, {501 * time.Second, disc(sessAttr, ts(200*time.Second)), h1, drop, 0}}},
		// X's first answer, expired, stays behind A's in the cache's
		// order while X's second is remembered; forgetting the first
		// later (at Y) must not forget the second.
		{"answered again after expiry, then the old answer forgotten", false, []step{
			{0, disc(sessAttr, ts(200*time.Second)), h1, ack, 0}, {time.Second, plain, h1, nak, 0},
			{302 * time.Second, plain, h1, nak, 0}, {502 * time.Second, disc(a(rfc2865.UserName_Type, []byte("alice"))), h1, nak, 0},
			{503 * time.Second, plain, h1, dup, 2}}},
		{"required Event-Timestamp absent", true, []step{{0, plain, h1, drop, 0}, {time.Second, plain, h1, drop, 0}}},
		{"required Event-Timestamp present", true, []step{{0, disc(sessAttr, ts(0)), h1, ack, 0}, {time.Second, disc(sessAttr, ts(0)), h1, dup, 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var at time.Duration
			calls := 0
			l := newDAE(nil, DAEConfig{
				Clients: []DAEClient{{Prefix: netip.MustParsePrefix("127.0.0.0/8"), Secret: Secret(testSecret)}},
				NAS:     testNAS(),
				Handle: func(Target) error {
					calls++
					if calls > 1 {
						return ErrSessionNotFound
					}
					return nil
				},
				RequireEventTimestamp: tc.require,
				Now:                   func() time.Time { return now.Add(at) },
			})
			var outs [][]byte
			var want DAEStats
			for i, st := range tc.steps {
				at = st.at
				before := calls
				out := l.respond(st.req, netip.MustParseAddrPort(st.from))
				outs = append(outs, out)
				handled := calls != before
				switch st.want {
				case ack, nak:
					want.Requests++
					code := radius.CodeDisconnectACK
					if st.want == nak {
						code = radius.CodeDisconnectNAK
						want.NAKs++
					} else {
						want.ACKs++
					}
					if !handled || out == nil || radius.Code(out[0]) != code {
						t.Errorf("step %d: handled %v, answer % x, want %s", i, handled, out, st.want)
					}
				case dup:
					want.Duplicates++
					if handled || !bytes.Equal(out, outs[st.of]) {
						t.Errorf("step %d: handled %v, answer % x, want step %d's % x", i, handled, out, st.of, outs[st.of])
					}
				case drop:
					want.Replays++
					if handled || out != nil {
						t.Errorf("step %d: handled %v, answer % x, want dropped", i, handled, out)
					}
				}
			}
			if st := l.Stats(); st != want {
				t.Errorf("stats = %+v, want %+v", st, want)
			}
		})
	}
}

// TestDAECacheBound: the duplicate cache holds daeCacheSize answers, the
// oldest forgotten first, and lets go of what has expired.
func TestDAECacheBound(t *testing.T) {
	now := time.Unix(1_700_000_000, 0)
	at := time.Duration(0)
	calls := 0
	l := testDAE(func(Target) error { calls++; return nil })
	l.cfg.Now = func() time.Time { return now.Add(at) }
	req := func(i int) []byte {
		return signedDAE(radius.CodeDisconnectRequest, radius.Attributes{a(rfc2866.AcctSessionID_Type, []byte(fmt.Sprint("S", i)))}, daeOpts{})
	}
	for i := range daeCacheSize + 1 {
		if l.respond(req(i), from) == nil {
			t.Fatalf("request %d dropped", i)
		}
	}
	if len(l.answers) != daeCacheSize || len(l.order) != daeCacheSize {
		t.Errorf("%d answers remembered (%d in order), want %d", len(l.answers), len(l.order), daeCacheSize)
	}
	calls = 0
	l.respond(req(1), from) // the oldest left: remembered
	if calls != 0 {
		t.Error("the oldest answer remembered was handled again")
	}
	l.respond(req(0), from) // forgotten to make room for the last
	if calls != 1 {
		t.Error("the answer forgotten to make room is still remembered")
	}
	at = 301 * time.Second
	l.respond(req(-1), from)
	if len(l.answers) != 1 || len(l.order) != 1 {
		t.Errorf("after the window: %d answers remembered (%d in order), want 1", len(l.answers), len(l.order))
	}
}
