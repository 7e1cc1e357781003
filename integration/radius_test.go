package integration

import (
	"context"
	"encoding/hex"
	"errors"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
	"github.com/pppoed/pppoed/ppp/mschap"
)

// The lab's RADIUS server (Debian's FreeRADIUS with a generated raddb) and
// radclient, on their own: what issue 12's tests of pppoed server against
// RADIUS stand on. FreeRADIUS runs in one namespace, the NAS (radclient
// here, pppoed server there) in another, joined by a veth.

var (
	radServer = netip.MustParsePrefix("10.71.0.1/24")
	radNAS    = netip.MustParsePrefix("10.71.0.2/24")
)

const radSecret = "lab-radius-secret"

type radiusLab struct {
	nas, rad *lab.Netns
	srv      *lab.FreeRADIUS
}

// newRadiusLab starts FreeRADIUS in a new namespace with cfg, serving the
// NAS namespace's address with radSecret unless cfg names its clients.
func newRadiusLab(t *testing.T, cfg lab.FreeRADIUSConfig) *radiusLab {
	t.Helper()
	rad, err := lab.NewNetns(t, "rad")
	if err != nil {
		t.Fatal(err)
	}
	nas, err := lab.NewNetns(t, "nas")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := lab.LinkNetns(nas, rad, radNAS, radServer); err != nil {
		t.Fatal(err)
	}
	cfg.Addr = radServer.Addr()
	if cfg.Clients == nil {
		cfg.Clients = []lab.RadiusClient{{Addr: netip.PrefixFrom(radNAS.Addr(), 32), Secret: radSecret}}
	}
	srv, err := lab.StartFreeRADIUS(t, rad, cfg)
	if err != nil {
		t.Fatal(err)
	}
	lab.Report(t, "FreeRADIUS ready in %v", srv.StartTime.Round(time.Millisecond))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("FreeRADIUS log:\n%s", srv.Log())
		}
	})
	return &radiusLab{nas: nas, rad: rad, srv: srv}
}

// send sends req from the NAS to the auth port (acct for "acct"), signed
// with radSecret unless req says otherwise.
func (l *radiusLab) send(ctx context.Context, t *testing.T, req lab.RadclientRequest) (lab.RadiusReply, error) {
	t.Helper()
	if !req.Server.IsValid() {
		req.Server = l.srv.Auth
		if req.Kind == "acct" {
			req.Server = l.srv.Acct
		}
	}
	if req.Secret == "" {
		req.Secret = radSecret
	}
	return lab.Radclient(ctx, t, l.nas, req)
}

func attrs(kv ...string) []lab.RadiusAttr {
	out := make([]lab.RadiusAttr, 0, len(kv)/2)
	for i := 0; i+1 < len(kv); i += 2 {
		out = append(out, lab.RadiusAttr{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

// replyWithout drops the attributes radclient reports but a test does not
// compare (the signature, whose value is random).
func replyWithout(r lab.RadiusReply, names ...string) []lab.RadiusAttr {
	return slices.DeleteFunc(slices.Clone(r.Attrs), func(a lab.RadiusAttr) bool { return slices.Contains(names, a.Name) })
}

var aliceReply = attrs(
	"Framed-IP-Address", "10.64.0.5",
	"Session-Timeout", "3600",
	"Acct-Interim-Interval", "60",
	"MS-Primary-DNS-Server", "10.64.0.53",
	"Reply-Message", "hello alice",
)

// TestFreeRADIUSAuth: PAP, CHAP, MS-CHAP and MS-CHAPv2 accepted with the
// user's reply attributes, every reply signed; a wrong password and an
// unknown user rejected, the reject carrying none of the user's
// attributes; requests FreeRADIUS must drop (unsigned, wrong secret, from
// no client) get no reply.
func TestFreeRADIUSAuth(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := newRadiusLab(t, lab.FreeRADIUSConfig{
		Users: []lab.RadiusUser{{Name: "alice", Password: "wonder land", Reply: aliceReply}},
	})

	// MS-CHAPv2 as pppoed server will relay it (RFC 2548 §2.3.2): the
	// authenticator's challenge and the peer's response, computed here
	// with ppp/mschap; the MS-CHAP2-Success FreeRADIUS returns must be the
	// one the client expects (RFC 2759 §8.7).
	authCh := [mschap.V2ChallengeLen]byte{0: 0x5b, 7: 0x17, 15: 0xa1}
	peerCh := [mschap.V2ChallengeLen]byte{0: 0x21, 9: 0x40, 15: 0x0f}
	nt := mschap.GenerateNTResponse(authCh, peerCh, "alice", "wonder land")
	const ident = 0x2a
	v2resp := append([]byte{ident, 0}, peerCh[:]...) // Ident, Flags, Peer-Challenge
	v2resp = append(v2resp, make([]byte, 8)...)      // Reserved
	v2resp = append(v2resp, nt[:]...)                // NT-Response
	ar := mschap.GenerateAuthenticatorResponse("wonder land", nt, peerCh, authCh, "alice")
	v2success := "0x" + hex.EncodeToString(append([]byte{ident}, "S="+strings.ToUpper(hex.EncodeToString(ar[:]))...))

	accepted := []struct {
		name  string
		attrs []lab.RadiusAttr
		more  []string // reply attributes expected besides the user's
	}{
		{"PAP", attrs("User-Name", "alice", "User-Password", "wonder land"), nil},
		// radclient computes the CHAP response from the password, with the
		// Request Authenticator as the challenge.
		{"CHAP", attrs("User-Name", "alice", "CHAP-Password", "wonder land"), nil},
		// radclient computes an MS-CHAPv1 response from MS-CHAP-Password.
		{"MS-CHAPv1", attrs("User-Name", "alice", "MS-CHAP-Password", "wonder land"), []string{"MS-CHAP-MPPE-Keys"}},
		{"MS-CHAPv2", attrs("User-Name", "alice", "MS-CHAP-Challenge", "0x"+hex.EncodeToString(authCh[:]), "MS-CHAP2-Response", "0x"+hex.EncodeToString(v2resp)),
			[]string{"MS-CHAP2-Success", "MS-MPPE-Recv-Key", "MS-MPPE-Send-Key"}},
	}
	for _, tc := range accepted {
		t.Run(tc.name, func(t *testing.T) {
			r, err := l.send(ctx, t, lab.RadclientRequest{Kind: "auth", Attrs: tc.attrs})
			if err != nil {
				t.Fatal(err)
			}
			if r.Code != "Access-Accept" {
				t.Fatalf("got %s %v, want Access-Accept", r.Code, r.Attrs)
			}
			if _, ok := r.Get("Message-Authenticator"); !ok {
				t.Errorf("Access-Accept without Message-Authenticator: %v", r.Attrs)
			}
			got := replyWithout(r, append([]string{"Message-Authenticator", "MS-MPPE-Encryption-Policy", "MS-MPPE-Encryption-Types"}, tc.more...)...)
			if !slices.Equal(got, aliceReply) {
				t.Errorf("reply attributes\n got %v\nwant %v", got, aliceReply)
			}
			for _, name := range tc.more {
				if _, ok := r.Get(name); !ok {
					t.Errorf("reply lacks %s: %v", name, r.Attrs)
				}
			}
			if tc.name == "MS-CHAPv2" {
				if got, _ := r.Get("MS-CHAP2-Success"); !strings.EqualFold(got, v2success) {
					t.Errorf("MS-CHAP2-Success = %s, want %s", got, v2success)
				}
			}
		})
	}

	for _, tc := range []struct{ name, user, password string }{
		{"wrong password", "alice", "wonder lamp"},
		{"unknown user", "mallory", "wonder land"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := l.send(ctx, t, lab.RadclientRequest{Kind: "auth", Attrs: attrs("User-Name", tc.user, "User-Password", tc.password)})
			if err != nil {
				t.Fatal(err)
			}
			if r.Code != "Access-Reject" {
				t.Fatalf("got %s, want Access-Reject", r.Code)
			}
			if got := replyWithout(r); len(got) != 1 || got[0].Name != "Message-Authenticator" {
				t.Errorf("Access-Reject carries %v, want only a Message-Authenticator", got)
			}
		})
	}

	t.Run("Status-Server", func(t *testing.T) {
		r, err := l.send(ctx, t, lab.RadclientRequest{Kind: "status"})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := r.Get("Message-Authenticator"); r.Code != "Access-Accept" || !ok {
			t.Errorf("got %s %v, want a signed Access-Accept", r.Code, r.Attrs)
		}
	})

	// Dropped: each waits out radclient's timeout, so they run together.
	// The accepted cases above show a reply comes well within it.
	pap := attrs("User-Name", "alice", "User-Password", "wonder land")
	t.Run("dropped", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			ns      *lab.Netns
			req     lab.RadclientRequest
			logLine string // FreeRADIUS's reason, where it logs one
		}{
			// require_message_authenticator = yes (the BlastRADIUS lesson).
			{"unsigned", l.nas, lab.RadclientRequest{Kind: "auth", Attrs: pap, Unsigned: true}, ""},
			{"wrong secret", l.nas, lab.RadclientRequest{Kind: "auth", Attrs: pap, Secret: "not-the-secret"}, "invalid Message-Authenticator"},
			// From the server's own namespace: an address no client has.
			{"unknown client", l.rad, lab.RadclientRequest{Kind: "auth", Attrs: pap}, "unknown client"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				req := tc.req
				req.Server = l.srv.Auth
				if req.Secret == "" {
					req.Secret = radSecret
				}
				r, err := lab.Radclient(ctx, t, tc.ns, req)
				if !errors.Is(err, lab.ErrNoReply) {
					t.Fatalf("got %s %v, %v; want no reply", r.Code, r.Attrs, err)
				}
				if tc.logLine != "" {
					if err := lab.Poll(ctx, 20*time.Millisecond, func() (bool, error) {
						return strings.Contains(l.srv.Log(), tc.logLine), nil
					}); err != nil {
						t.Errorf("FreeRADIUS did not log %q: %v", tc.logLine, err)
					}
				}
			})
		}
	})
	if log := l.srv.Log(); strings.Contains(log, "wonder") {
		t.Errorf("a password is in FreeRADIUS's log:\n%s", log)
	}
}

// TestFreeRADIUSAccounting: Accounting-Requests (Start, Interim-Update,
// Stop) answered and written to the detail file, each record with the
// request's attributes in order; the lab's reader sees them.
func TestFreeRADIUSAccounting(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := newRadiusLab(t, lab.FreeRADIUSConfig{})

	common := attrs(
		"User-Name", "alice",
		"Acct-Session-Id", "0123456789abcdef",
		"NAS-Port-Type", "Ethernet",
		"NAS-Port-Id", "vac1",
		"Calling-Station-Id", "02:00:00:00:00:01",
		"Framed-IP-Address", "10.64.0.5",
		"Class", "0x0102ff",
	)
	sent := [][]lab.RadiusAttr{
		append(attrs("Acct-Status-Type", "Start"), common...),
		append(attrs("Acct-Status-Type", "Interim-Update", "Acct-Session-Time", "60", "Acct-Input-Octets", "1000", "Acct-Output-Octets", "2000"), common...),
		append(attrs("Acct-Status-Type", "Stop", "Acct-Session-Time", "75", "Acct-Input-Octets", "4294967295", "Acct-Input-Gigawords", "1",
			"Acct-Output-Octets", "3000", "Acct-Input-Packets", "12", "Acct-Output-Packets", "34", "Acct-Terminate-Cause", "User-Request"), common...),
	}
	for _, a := range sent {
		r, err := l.send(ctx, t, lab.RadclientRequest{Kind: "acct", Attrs: a})
		if err != nil {
			t.Fatal(err)
		}
		if r.Code != "Accounting-Response" {
			t.Fatalf("got %s, want Accounting-Response", r.Code)
		}
	}
	recs, err := l.srv.WaitDetail(ctx, "three records", func(r []lab.AcctRecord) bool { return len(r) >= 3 })
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	for i, rec := range recs {
		// FreeRADIUS appends Timestamp, the time it received the request.
		got := slices.DeleteFunc(slices.Clone(rec.Attrs), func(a lab.RadiusAttr) bool { return a.Name == "Timestamp" })
		if !slices.Equal(got, sent[i]) {
			t.Errorf("record %d\n got %v\nwant %v", i, got, sent[i])
		}
		if ts, ok := rec.Get("Timestamp"); !ok || ts == "" {
			t.Errorf("record %d has no Timestamp", i)
		}
	}
}

// TestFreeRADIUSRestart: Stop leaves requests unanswered, Start brings the
// same server back (configuration, detail file) within the test, as the
// failover and retry tests of issue 12 need.
func TestFreeRADIUSRestart(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := newRadiusLab(t, lab.FreeRADIUSConfig{
		Users: []lab.RadiusUser{{Name: "bob", Password: "builder"}},
	})
	pap := lab.RadclientRequest{Kind: "auth", Attrs: attrs("User-Name", "bob", "User-Password", "builder")}
	start := func(id string) lab.RadclientRequest {
		return lab.RadclientRequest{Kind: "acct", Attrs: attrs("Acct-Status-Type", "Start", "User-Name", "bob", "Acct-Session-Id", id)}
	}
	accept := func(when string) {
		t.Helper()
		r, err := l.send(ctx, t, pap)
		if err != nil || r.Code != "Access-Accept" {
			t.Fatalf("%s: got %s, %v; want Access-Accept", when, r.Code, err)
		}
		if r, err := l.send(ctx, t, start(when)); err != nil || r.Code != "Accounting-Response" {
			t.Fatalf("%s: accounting: got %s, %v", when, r.Code, err)
		}
	}
	accept("before")
	if err := l.srv.Stop(); err != nil {
		t.Fatal(err)
	}
	if l.srv.Running() {
		t.Fatal("running after Stop")
	}
	if pids, err := l.rad.Processes("freeradius"); err != nil || len(pids) != 0 {
		t.Fatalf("freeradius processes after Stop: %v, %v", pids, err)
	}
	for _, req := range []lab.RadclientRequest{pap, start("while-down")} {
		req.Timeout = 300 * time.Millisecond // nothing listens: ICMP or silence
		if r, err := l.send(ctx, t, req); !errors.Is(err, lab.ErrNoReply) {
			t.Fatalf("%s while stopped: got %s, %v; want no reply", req.Kind, r.Code, err)
		}
	}
	if err := l.srv.Start(); err != nil {
		t.Fatal(err)
	}
	lab.Report(t, "FreeRADIUS ready again in %v", l.srv.StartTime.Round(time.Millisecond))
	accept("after")
	recs, err := l.srv.WaitDetail(ctx, "two records", func(r []lab.AcctRecord) bool { return len(r) >= 2 })
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range recs {
		id, _ := r.Get("Acct-Session-Id")
		ids = append(ids, id)
	}
	if want := []string{"before", "after"}; !slices.Equal(ids, want) {
		t.Errorf("detail's sessions %v, want %v", ids, want)
	}
	if n := strings.Count(l.srv.Log(), "Ready to process requests"); n != 2 {
		t.Errorf("log shows %d starts, want 2", n)
	}
}

// TestFreeRADIUSUnsignedReplies: the stock 3.2.1 behaviour on demand, an
// Access-Accept without Message-Authenticator, for the tests in which
// pppoed must refuse one.
func TestFreeRADIUSUnsignedReplies(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	l := newRadiusLab(t, lab.FreeRADIUSConfig{
		UnsignedReplies: true,
		Users:           []lab.RadiusUser{{Name: "bob", Password: "builder", Reply: attrs("Session-Timeout", "30")}},
	})
	r, err := l.send(ctx, t, lab.RadclientRequest{Kind: "auth", Attrs: attrs("User-Name", "bob", "User-Password", "builder")})
	if err != nil {
		t.Fatal(err)
	}
	if want := attrs("Session-Timeout", "30"); r.Code != "Access-Accept" || !slices.Equal(r.Attrs, want) {
		t.Errorf("got %s %v, want Access-Accept %v and no Message-Authenticator", r.Code, r.Attrs, want)
	}
}
