package radius

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2869"
	"layeh.com/radius/vendors/microsoft"
)

const testSecret = "s3cr3t-never-logged"

// mustHex decodes golden bytes: on each line, the hex words up to the
// first that is not hex (the comment).
func mustHex(s string) []byte {
	var out []byte
	for _, line := range strings.Split(s, "\n") {
		for _, w := range strings.Fields(line) {
			b, err := hex.DecodeString(w)
			if err != nil {
				break
			}
			out = append(out, b...)
		}
	}
	return out
}

// RFC 2865 §7.1: nemo, password "arctangent", secret "xyzzy5461".
var (
	rfcRequest = mustHex(`
		01 00 0038                                      Access-Request, id 0, length 56
		0f403f94739780 57bd83d5cb98f4227a               Request Authenticator
		01 06 6e656d6f                                  User-Name "nemo"
		02 12 0dbe708d93d413ce3196e43f782a0aee          User-Password (hidden)
		04 06 c0a80110                                  NAS-IP-Address 192.168.1.16
		05 06 00000003                                  NAS-Port 3`)
	rfcAccept = mustHex(`
		02 00 0026                                      Access-Accept, id 0, length 38
		86fe220e7624ba2a1005f6bf9b55e0b2                Response Authenticator
		06 06 00000001                                  Service-Type Login
		0f 06 00000000                                  Login-Service Telnet
		0e 06 c0a80103                                  Login-IP-Host 192.168.1.3`)
)

func TestRFC2865Vectors(t *testing.T) {
	secret := []byte("xyzzy5461")
	var auth [16]byte
	copy(auth[:], rfcRequest[4:20])
	// The password hiding we send (layeh's, RFC 2865 §5.2) gives the RFC's
	// octets.
	v, err := radius.NewUserPassword([]byte("arctangent"), secret, auth[:])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(v, rfcRequest[28:44]) {
		t.Errorf("User-Password = %x, RFC has %x", v, rfcRequest[28:44])
	}
	// Our Response Authenticator check takes the RFC's reply...
	if !validAuthenticator(rfcAccept, auth, secret) {
		t.Error("RFC 2865 §7.1 Access-Accept: Response Authenticator refused")
	}
	// ...not with another secret or request...
	if validAuthenticator(rfcAccept, auth, []byte("xyzzy5462")) {
		t.Error("accepted with the wrong secret")
	}
	other := auth
	other[0] ^= 1
	if validAuthenticator(rfcAccept, other, secret) {
		t.Error("accepted against another request")
	}
	// ...and, since it has no Message-Authenticator (1999), refuses it now.
	if _, err := parseReply(rfcAccept, auth, secret, true); !isDrop(err, dropNoMessageAuthenticator) {
		t.Errorf("parseReply(RFC accept, requireMA) = %v, want drop: no Message-Authenticator", err)
	}
	if _, err := parseReply(rfcAccept, auth, secret, false); err != nil {
		t.Errorf("parseReply(RFC accept) = %v", err)
	}
}

func isDrop(err error, r dropReason) bool {
	var de *dropError
	return errors.As(err, &de) && de.reason == r
}

func testNAS() NAS {
	return NAS{Identifier: "ac1", IPAddress: netip.MustParseAddr("192.0.2.1")}
}

func testPort() Port {
	return Port{ID: "eth1", ClientMAC: net.HardwareAddr{0x02, 0xab, 0xcd, 0x00, 0x11, 0x22}, CalledStationID: "AC-00-00-00-00-01"}
}

func newTestClient(t *testing.T, cfg Config, servers ...string) *Client {
	t.Helper()
	for _, a := range servers {
		cfg.Servers = append(cfg.Servers, Server{Addr: a, Secret: Secret(testSecret)})
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 50 * time.Millisecond
	}
	if cfg.NAS == (NAS{}) {
		cfg.NAS = testNAS()
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func vsa(typ byte, v []byte) radius.Attribute {
	a, err := radius.NewVendorSpecific(311, append([]byte{typ, byte(2 + len(v))}, v...))
	if err != nil {
		panic(err)
	}
	return a
}

func TestAuthenticate(t *testing.T) {
	success := append([]byte{7}, "S=0123456789ABCDEF0123456789ABCDEF01234567"...)
	fullAccept := radius.Attributes{
		{Type: rfc2865.FramedIPAddress_Type, Attribute: []byte{10, 0, 0, 7}},
		{Type: rfc2869.FramedPool_Type, Attribute: []byte("pool-a")},
		{Type: rfc2865.FramedMTU_Type, Attribute: radius.NewInteger(1480)},
		{Type: rfc2865.SessionTimeout_Type, Attribute: radius.NewInteger(3600)},
		{Type: rfc2865.IdleTimeout_Type, Attribute: radius.NewInteger(600)},
		{Type: rfc2869.AcctInterimInterval_Type, Attribute: radius.NewInteger(300)},
		{Type: rfc2865.Class_Type, Attribute: []byte("class-1")},
		{Type: rfc2865.ReplyMessage_Type, Attribute: []byte("welcome")},
		{Type: rfc2865.Class_Type, Attribute: []byte("class-2")},
		{Type: rfc2865.VendorSpecific_Type, Attribute: vsa(msPrimaryDNS, []byte{192, 0, 2, 53})},
		{Type: rfc2865.VendorSpecific_Type, Attribute: vsa(msSecondaryDNS, []byte{192, 0, 2, 54})},
		{Type: rfc2865.VendorSpecific_Type, Attribute: vsa(msCHAP2Success, success)},
		{Type: rfc2865.VendorSpecific_Type, Attribute: vsa(msMPPESendKey, []byte{0x80, 1, 2, 3})},
		{Type: rfc2865.VendorSpecific_Type, Attribute: vsa(msMPPERecvKey, []byte{0x80, 4, 5, 6})},
	}
	ms := &MSCHAPv2{ID: 7, Flags: 0}
	for i := range ms.AuthenticatorChallenge {
		ms.AuthenticatorChallenge[i] = byte(i)
		ms.PeerChallenge[i] = byte(0x40 + i)
	}
	for i := range ms.NTResponse {
		ms.NTResponse[i] = byte(0x80 + i)
	}
	tests := []struct {
		name  string
		req   Request
		code  radius.Code
		attrs radius.Attributes
		// check the request the server got
		checkReq func(t *testing.T, p *radius.Packet)
		want     *Accept
		wantErr  error
		wantMsg  []string
	}{
		{
			name: "PAP accept, every attribute",
			req:  Request{UserName: "alice", PAP: &PAP{Password: Secret("pw-alice")}},
			code: radius.CodeAccessAccept, attrs: fullAccept,
			checkReq: func(t *testing.T, p *radius.Packet) {
				if got := rfc2865.UserPassword_GetString(p); got != "pw-alice" {
					t.Errorf("User-Password decrypts to %q", got)
				}
			},
			want: &Accept{
				FramedIP: netip.MustParseAddr("10.0.0.7"), FramedPool: "pool-a", FramedMTU: 1480,
				SessionTimeout: time.Hour, IdleTimeout: 10 * time.Minute, InterimInterval: 5 * time.Minute,
				Class:        [][]byte{[]byte("class-1"), []byte("class-2")},
				PrimaryDNS:   netip.MustParseAddr("192.0.2.53"),
				SecondaryDNS: netip.MustParseAddr("192.0.2.54"),
				ReplyMessage: []string{"welcome"}, MSCHAP2Success: success,
				MPPESendKey: []byte{0x80, 1, 2, 3}, MPPERecvKey: []byte{0x80, 4, 5, 6},
			},
		},
		{
			name: "CHAP accept",
			req:  Request{UserName: "bob", CHAP: &CHAP{ID: 0x42, Challenge: []byte("0123456789abcdef0"), Response: bytes.Repeat([]byte{0xaa}, 16)}},
			code: radius.CodeAccessAccept,
			checkReq: func(t *testing.T, p *radius.Packet) {
				want := append([]byte{0x42}, bytes.Repeat([]byte{0xaa}, 16)...)
				if got := rfc2865.CHAPPassword_Get(p); !bytes.Equal(got, want) {
					t.Errorf("CHAP-Password = %x, want %x", got, want)
				}
				if got := rfc2865.CHAPChallenge_Get(p); string(got) != "0123456789abcdef0" {
					t.Errorf("CHAP-Challenge = %q", got)
				}
				if _, ok := p.Lookup(rfc2865.UserPassword_Type); ok {
					t.Error("User-Password sent with CHAP")
				}
			},
			want: &Accept{},
		},
		{
			name: "MS-CHAPv2 accept",
			req:  Request{UserName: "carol", MSCHAPv2: ms},
			code: radius.CodeAccessAccept,
			attrs: radius.Attributes{
				{Type: rfc2865.VendorSpecific_Type, Attribute: vsa(msCHAP2Success, success)},
			},
			checkReq: func(t *testing.T, p *radius.Packet) {
				if got := microsoft.MSCHAPChallenge_Get(p); !bytes.Equal(got, ms.AuthenticatorChallenge[:]) {
					t.Errorf("MS-CHAP-Challenge = %x", got)
				}
				// RFC 2548 §2.3.2: Ident, Flags, Peer-Challenge, 8 reserved, Response.
				want := mustHex(`07 00
					404142434445464748494a4b4c4d4e4f
					0000000000000000
					808182838485868788898a8b8c8d8e8f9091929394959697`)
				if got := microsoft.MSCHAP2Response_Get(p); !bytes.Equal(got, want) {
					t.Errorf("MS-CHAP2-Response =\n %x, want\n %x", got, want)
				}
			},
			want: &Accept{MSCHAP2Success: success},
		},
		{
			name: "MS-CHAPv2 accept without MS-CHAP2-Success refused",
			req:  Request{UserName: "carol", MSCHAPv2: ms},
			code: radius.CodeAccessAccept,
		},
		{
			name: "reject with messages",
			req:  Request{UserName: "mallory", PAP: &PAP{Password: Secret("x")}},
			code: radius.CodeAccessReject,
			attrs: radius.Attributes{
				{Type: rfc2865.ReplyMessage_Type, Attribute: []byte("no")},
				{Type: rfc2865.ReplyMessage_Type, Attribute: []byte("way")},
			},
			wantErr: ErrRejected, wantMsg: []string{"no", "way"},
		},
		{
			// RFC 2865 §4.4: without challenge support, a reject.
			name:    "challenge is a reject",
			req:     Request{UserName: "eve", PAP: &PAP{Password: Secret("x")}},
			code:    radius.CodeAccessChallenge,
			wantErr: ErrRejected,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFake(t, testSecret, func(raw []byte, p *radius.Packet) [][]byte {
				return [][]byte{signedReply(raw, tc.code, []byte(testSecret), tc.attrs, ok())}
			})
			c := newTestClient(t, Config{}, srv.addr())
			tc.req.Port = testPort()
			acc, err := c.Authenticate(context.Background(), tc.req)
			reqs := srv.requests()
			if len(reqs) != 1 {
				t.Fatalf("server got %d requests, want 1", len(reqs))
			}
			raw := reqs[0]
			if !requestMAValid(raw, []byte(testSecret)) {
				t.Error("request has no valid Message-Authenticator")
			}
			p, perr := radius.Parse(raw, []byte(testSecret))
			if perr != nil {
				t.Fatal(perr)
			}
			checkNASAttrs(t, p)
			if tc.checkReq != nil {
				tc.checkReq(t, p)
			}
			switch {
			case tc.wantErr != nil:
				if !errors.Is(err, tc.wantErr) || errors.Is(err, ErrNoServer) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				var rej *RejectError
				if !errors.As(err, &rej) {
					t.Fatalf("err %T is not a *RejectError", err)
				}
				if fmt.Sprint(rej.ReplyMessage) != fmt.Sprint(tc.wantMsg) {
					t.Errorf("ReplyMessage = %q, want %q", rej.ReplyMessage, tc.wantMsg)
				}
			case tc.want == nil:
				if err == nil || errors.Is(err, ErrRejected) || errors.Is(err, ErrNoServer) {
					t.Fatalf("err = %v, want a refusal that is neither reject nor no server", err)
				}
			default:
				if err != nil {
					t.Fatal(err)
				}
				tc.want.Server = srv.addr()
				tc.want.MPPEAuth = [16]byte(raw[4:20])
				if got, want := fmt.Sprintf("%+v", *acc), fmt.Sprintf("%+v", *tc.want); got != want {
					t.Errorf("Accept =\n %s\nwant\n %s", got, want)
				}
			}
		})
	}
}

// checkNASAttrs checks what every Access-Request carries.
func checkNASAttrs(t *testing.T, p *radius.Packet) {
	t.Helper()
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"NAS-Identifier", rfc2865.NASIdentifier_GetString(p), "ac1"},
		{"NAS-IP-Address", rfc2865.NASIPAddress_Get(p).String(), "192.0.2.1"},
		{"NAS-Port-Id", rfc2869.NASPortID_GetString(p), "eth1"},
		{"NAS-Port-Type", rfc2865.NASPortType_Get(p), rfc2865.NASPortType(15)},
		{"Calling-Station-Id", rfc2865.CallingStationID_GetString(p), "02-AB-CD-00-11-22"},
		{"Called-Station-Id", rfc2865.CalledStationID_GetString(p), "AC-00-00-00-00-01"},
		{"Service-Type", rfc2865.ServiceType_Get(p), rfc2865.ServiceType_Value_FramedUser},
		{"Framed-Protocol", rfc2865.FramedProtocol_Get(p), rfc2865.FramedProtocol_Value_PPP},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

// TestHostileReplies: each untrusted reply (an Access-Accept granting
// 6.6.6.6) comes before the genuine one (10.0.0.1); the genuine one must
// win and the hostile one be counted under its reason. Deleting any of the
// checks makes the hostile Accept win.
func TestHostileReplies(t *testing.T) {
	evil := radius.Attributes{{Type: rfc2865.FramedIPAddress_Type, Attribute: []byte{6, 6, 6, 6}}}
	good := radius.Attributes{{Type: rfc2865.FramedIPAddress_Type, Attribute: []byte{10, 0, 0, 1}}}
	s := []byte(testSecret)
	tests := []struct {
		name   string
		reply  func(raw []byte) []byte
		reason func(DropCounts) uint64
	}{
		{"wrong Response Authenticator", func(raw []byte) []byte {
			return signedReply(raw, radius.CodeAccessAccept, s, evil, replyOpts{id: -1, badAuth: true})
		}, func(d DropCounts) uint64 { return d.BadAuthenticator }},
		{"signed with another secret", func(raw []byte) []byte {
			return signedReply(raw, radius.CodeAccessAccept, s, evil, replyOpts{id: -1, secret: []byte("guess")})
		}, func(d DropCounts) uint64 { return d.BadAuthenticator }},
		{"Access-Accept without Message-Authenticator", func(raw []byte) []byte {
			return signedReply(raw, radius.CodeAccessAccept, s, evil, replyOpts{id: -1, noMA: true})
		}, func(d DropCounts) uint64 { return d.NoMessageAuthenticator }},
		{"Access-Reject without Message-Authenticator", func(raw []byte) []byte {
			return signedReply(raw, radius.CodeAccessReject, s, nil, replyOpts{id: -1, noMA: true})
		}, func(d DropCounts) uint64 { return d.NoMessageAuthenticator }},
		{"wrong Message-Authenticator", func(raw []byte) []byte {
			return signedReply(raw, radius.CodeAccessAccept, s, evil, replyOpts{id: -1, badMA: true})
		}, func(d DropCounts) uint64 { return d.BadMessageAuthenticator }},
		{"truncated attribute", func(raw []byte) []byte {
			return signedReply(raw, radius.CodeAccessAccept, s, evil, replyOpts{id: -1, edit: func(b []byte) []byte {
				return append(b, byte(rfc2865.ReplyMessage_Type), 10, 'x') // claims 10 octets, has 3
			}})
		}, func(d DropCounts) uint64 { return d.Malformed }},
		{"attribute length 1", func(raw []byte) []byte {
			return signedReply(raw, radius.CodeAccessAccept, s, evil, replyOpts{id: -1, edit: func(b []byte) []byte {
				return append(b, byte(rfc2865.ReplyMessage_Type), 1)
			}})
		}, func(d DropCounts) uint64 { return d.Malformed }},
		{"two Message-Authenticators", func(raw []byte) []byte {
			return signedReply(raw, radius.CodeAccessAccept, s, evil, replyOpts{id: -1, edit: func(b []byte) []byte {
				return append(b, append([]byte{80, 18}, make([]byte, 16)...)...)
			}})
		}, func(d DropCounts) uint64 { return d.Malformed }},
		{"Length beyond the datagram", func(raw []byte) []byte {
			b := signedReply(raw, radius.CodeAccessAccept, s, evil, ok())
			return b[:len(b)-1]
		}, func(d DropCounts) uint64 { return d.Malformed }},
		{"oversized packet", func(raw []byte) []byte {
			return signedReply(raw, radius.CodeAccessAccept, s, evil, replyOpts{id: -1, edit: func(b []byte) []byte {
				for len(b) <= maxPacketLen {
					b = append(b, append([]byte{byte(rfc2865.ReplyMessage_Type), 250}, make([]byte, 248)...)...)
				}
				return b
			}})
		}, func(d DropCounts) uint64 { return d.Oversized }},
		{"wrong identifier", func(raw []byte) []byte {
			return signedReply(raw, radius.CodeAccessAccept, s, evil, replyOpts{id: int(raw[1] + 1)})
		}, func(d DropCounts) uint64 { return d.Unexpected }},
		{"wrong code", func(raw []byte) []byte {
			return signedReply(raw, radius.CodeAccountingResponse, s, evil, ok())
		}, func(d DropCounts) uint64 { return d.Unexpected }},
		{"short header", func(raw []byte) []byte {
			return []byte{2, raw[1], 0}
		}, func(d DropCounts) uint64 { return d.Malformed }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFake(t, testSecret, func(raw []byte, p *radius.Packet) [][]byte {
				return [][]byte{tc.reply(raw), signedReply(raw, radius.CodeAccessAccept, s, good, ok())}
			})
			c := newTestClient(t, Config{}, srv.addr())
			acc, err := c.Authenticate(context.Background(), Request{UserName: "u", PAP: &PAP{Password: Secret("p")}})
			if err != nil {
				t.Fatal(err)
			}
			if acc.FramedIP != netip.MustParseAddr("10.0.0.1") {
				t.Errorf("FramedIP = %v: the hostile reply was trusted", acc.FramedIP)
			}
			st := c.Stats()[0]
			if n := tc.reason(st.DroppedBy); n != 1 || st.Dropped != 1 {
				t.Errorf("dropped %d (this reason %d), want 1: %+v", st.Dropped, n, st.DroppedBy)
			}
		})
	}
}

// TestHostileOnly: with nothing but an untrusted reply, the login is not
// granted and not rejected: no server answered.
func TestHostileOnly(t *testing.T) {
	srv := newFake(t, testSecret, func(raw []byte, p *radius.Packet) [][]byte {
		return [][]byte{signedReply(raw, radius.CodeAccessAccept, []byte(testSecret), nil, replyOpts{id: -1, noMA: true})}
	})
	c := newTestClient(t, Config{Timeout: 20 * time.Millisecond, Retries: 1}, srv.addr())
	_, err := c.Authenticate(context.Background(), Request{UserName: "u", PAP: &PAP{Password: Secret("p")}})
	if !errors.Is(err, ErrNoServer) || errors.Is(err, ErrRejected) {
		t.Fatalf("err = %v, want ErrNoServer", err)
	}
	st := c.Stats()[0]
	if st.Requests != 1 || st.Retransmits != 1 || st.Timeouts != 2 || st.DroppedBy.NoMessageAuthenticator != 2 || !st.Dead {
		t.Errorf("stats = %+v", st)
	}
}

func silentServer(t *testing.T) *fakeServer { return newFake(t, testSecret, nil) }

// TestFailover: the first server is silent; the request goes to the second
// after Retries retransmissions, the first is then dead and skipped until
// DeadTime has passed, then tried first again.
func TestFailover(t *testing.T) {
	a := silentServer(t)
	b := newFake(t, testSecret, func(raw []byte, p *radius.Packet) [][]byte {
		return [][]byte{signedReply(raw, radius.CodeAccessAccept, []byte(testSecret), nil, ok())}
	})
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	c := newTestClient(t, Config{Timeout: 20 * time.Millisecond, Retries: 2, DeadTime: time.Minute, Now: clock.Now}, a.addr(), b.addr())
	req := Request{UserName: "u", PAP: &PAP{Password: Secret("p")}}
	steps := []struct {
		advance      time.Duration
		wantA, wantB int // cumulative datagrams received
		wantADead    bool
	}{
		{0, 3, 1, true},                // a: 1 + 2 retransmissions, then b
		{30 * time.Second, 3, 2, true}, // a dead: b only
		{31 * time.Second, 6, 3, true}, // a's dead time over: a first again, still silent
	}
	for i, st := range steps {
		clock.Add(st.advance)
		acc, err := c.Authenticate(context.Background(), req)
		if err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
		if acc.Server != b.addr() {
			t.Errorf("step %d: answered by %s", i, acc.Server)
		}
		if got := len(a.requests()); got != st.wantA {
			t.Errorf("step %d: a got %d datagrams, want %d", i, got, st.wantA)
		}
		if got := len(b.requests()); got != st.wantB {
			t.Errorf("step %d: b got %d datagrams, want %d", i, got, st.wantB)
		}
		if s := c.Stats(); s[0].Dead != st.wantADead || s[1].Dead {
			t.Errorf("step %d: dead = %v, %v", i, s[0].Dead, s[1].Dead)
		}
	}
	// Retransmissions are the same octets (RFC 5080 §2.2.1).
	r := a.requests()
	if !bytes.Equal(r[0], r[1]) || !bytes.Equal(r[0], r[2]) {
		t.Error("retransmissions differ from the first transmission")
	}
}

// TestDeadOnce: a dead server is sent a request once, without
// retransmissions, so that with every server down a request fails after
// one timeout per server, not (Retries+1) per server: soon enough for the
// caller's fallback to local users. An alive one keeps its retries, and
// a dead one is alive again when its dead time is over.
func TestDeadOnce(t *testing.T) {
	a, b := silentServer(t), silentServer(t)
	clock := &fakeClock{now: time.Unix(1e9, 0)}
	c := newTestClient(t, Config{Timeout: 20 * time.Millisecond, Retries: 2, DeadTime: time.Minute, Now: clock.Now}, a.addr(), b.addr())
	req := Request{UserName: "u", PAP: &PAP{Password: Secret("p")}}
	steps := []struct {
		advance      time.Duration
		wantA, wantB int // cumulative datagrams received
		wantRetrans  uint64
	}{
		{0, 3, 3, 2},                // both alive: 1 + 2 retransmissions each, then both dead
		{30 * time.Second, 4, 4, 2}, // both dead: once each
		{time.Second, 5, 5, 2},      // still dead (the failure renewed the dead time)
		{61 * time.Second, 8, 8, 4}, // dead time over: alive, full retries again
	}
	for i, st := range steps {
		clock.Add(st.advance)
		if _, err := c.Authenticate(context.Background(), req); !errors.Is(err, ErrNoServer) {
			t.Fatalf("step %d: err = %v, want ErrNoServer", i, err)
		}
		if got := len(a.requests()); got != st.wantA {
			t.Errorf("step %d: a got %d datagrams, want %d", i, got, st.wantA)
		}
		if got := len(b.requests()); got != st.wantB {
			t.Errorf("step %d: b got %d datagrams, want %d", i, got, st.wantB)
		}
		for j, s := range c.Stats() {
			if s.Retransmits != st.wantRetrans || !s.Dead {
				t.Errorf("step %d: server %d: %+v", i, j, s)
			}
		}
	}
}

// TestAllDead: every server dead is not an instant failure; they are
// still tried, in order, and one that answers is alive again.
func TestAllDead(t *testing.T) {
	var answer atomic.Bool
	a := newFake(t, testSecret, func(raw []byte, p *radius.Packet) [][]byte {
		if !answer.Load() {
			return nil
		}
		return [][]byte{signedReply(raw, radius.CodeAccessAccept, []byte(testSecret), nil, ok())}
	})
	c := newTestClient(t, Config{Timeout: 20 * time.Millisecond, Retries: -1}, a.addr())
	req := Request{UserName: "u", PAP: &PAP{Password: Secret("p")}}
	if _, err := c.Authenticate(context.Background(), req); !errors.Is(err, ErrNoServer) {
		t.Fatalf("err = %v", err)
	}
	if !c.Stats()[0].Dead {
		t.Fatal("not marked dead")
	}
	answer.Store(true)
	if _, err := c.Authenticate(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	if c.Stats()[0].Dead {
		t.Error("still dead after answering")
	}
}

func TestCancel(t *testing.T) {
	a := silentServer(t)
	c := newTestClient(t, Config{Timeout: time.Hour}, a.addr())
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for len(a.requests()) == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := c.Authenticate(ctx, Request{UserName: "u", PAP: &PAP{Password: Secret("p")}})
	if !errors.Is(err, ErrNoServer) || !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v", err)
	}
	if c.Stats()[0].Dead {
		t.Error("a server is not dead because our caller gave up")
	}
}

// TestSecretsHidden: neither the shared secret nor the password reaches
// a log line, an error or a formatted Config/Request.
func TestSecretsHidden(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	a := newFake(t, testSecret, func(raw []byte, p *radius.Packet) [][]byte {
		return [][]byte{signedReply(raw, radius.CodeAccessAccept, []byte(testSecret), nil, replyOpts{id: -1, badMA: true})}
	})
	cfg := Config{Timeout: 10 * time.Millisecond, Retries: -1, Logger: log}
	c := newTestClient(t, cfg, a.addr())
	req := Request{UserName: "u", PAP: &PAP{Password: Secret("pass-word-hidden")}}
	_, err := c.Authenticate(context.Background(), req)
	if err == nil {
		t.Fatal("no error")
	}
	cfg.Servers = []Server{{Addr: a.addr(), Secret: Secret(testSecret)}}
	log.Info("config", "cfg", cfg, "req", req, "pap", *req.PAP)
	var out strings.Builder
	out.WriteString(err.Error())
	out.WriteString(logs.String())
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%x", "%X", "%q", "%d"} {
		fmt.Fprintf(&out, verb+verb+verb, cfg, req.PAP, req.PAP.Password)
	}
	for _, secret := range []string{testSecret, "pass-word-hidden"} {
		for _, form := range []string{secret, hex.EncodeToString([]byte(secret)), fmt.Sprint([]byte(secret))} {
			if strings.Contains(out.String(), form) {
				t.Errorf("secret %q appears as %q in:\n%s", secret, form, out.String())
			}
		}
	}
	if !strings.Contains(logs.String(), "bad Message-Authenticator") {
		t.Errorf("the drop was not logged:\n%s", logs.String())
	}
}

func TestConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
	}{
		{"no server", Config{NAS: testNAS()}},
		{"empty secret", Config{NAS: testNAS(), Servers: []Server{{Addr: "127.0.0.1:1812"}}}},
		{"no address", Config{NAS: testNAS(), Servers: []Server{{Secret: Secret("x")}}}},
		{"no NAS identity", Config{Servers: []Server{{Addr: "127.0.0.1:1812", Secret: Secret("x")}}}},
		{"IPv6 NAS-IP-Address", Config{NAS: NAS{IPAddress: netip.MustParseAddr("::1")}, Servers: []Server{{Addr: "127.0.0.1:1812", Secret: Secret("x")}}}},
	}
	for _, tc := range tests {
		if _, err := NewClient(tc.cfg); err == nil {
			t.Errorf("%s: no error", tc.name)
		}
	}
}

func TestRequestErrors(t *testing.T) {
	c := newTestClient(t, Config{}, "127.0.0.1:9")
	tests := []struct {
		name string
		req  Request
	}{
		{"no method", Request{UserName: "u"}},
		{"two methods", Request{UserName: "u", PAP: &PAP{}, MSCHAPv2: &MSCHAPv2{}}},
		{"no user", Request{PAP: &PAP{}}},
		{"long password", Request{UserName: "u", PAP: &PAP{Password: make(Secret, 129)}}},
		{"short CHAP response", Request{UserName: "u", CHAP: &CHAP{Challenge: []byte{1}, Response: []byte{1}}}},
		{"no CHAP challenge", Request{UserName: "u", CHAP: &CHAP{Response: make([]byte, 16)}}},
	}
	for _, tc := range tests {
		_, err := c.Authenticate(context.Background(), tc.req)
		if err == nil || errors.Is(err, ErrNoServer) {
			t.Errorf("%s: err = %v", tc.name, err)
		}
	}
}
