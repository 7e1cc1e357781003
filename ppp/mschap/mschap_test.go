package mschap

import (
	"bytes"
	"encoding/hex"
	"errors"
	"reflect"
	"strings"
	"testing"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.ReplaceAll(s, " ", ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// RFC 2759 §9.2, "Hash Example".
func TestRFC2759Vectors(t *testing.T) {
	const (
		user     = "User"
		password = "clientPass"
	)
	authChallenge := [16]byte(unhex(t, "5B 5D 7C 7D 7B 3F 2F 3E 3C 2C 60 21 32 26 26 28"))
	peerChallenge := [16]byte(unhex(t, "21 40 23 24 25 5E 26 2A 28 29 5F 2B 3A 33 7C 7E"))

	if got, want := utf16le(password), unhex(t, "63 00 6C 00 69 00 65 00 6E 00 74 00 50 00 61 00 73 00 73 00"); !bytes.Equal(got, want) {
		t.Errorf("UnicodePassword = % X, want % X", got, want)
	}
	if got, want := ChallengeHash(peerChallenge, authChallenge, user), unhex(t, "D0 2E 43 86 BC E9 12 26"); !bytes.Equal(got[:], want) {
		t.Errorf("Challenge = % X, want % X", got, want)
	}
	hash := NTPasswordHash(password)
	if want := unhex(t, "44 EB BA 8D 53 12 B8 D6 11 47 44 11 F5 69 89 AE"); !bytes.Equal(hash[:], want) {
		t.Errorf("PasswordHash = % X, want % X", hash, want)
	}
	nt := GenerateNTResponse(authChallenge, peerChallenge, user, password)
	if want := unhex(t, "82 30 9E CD 8D 70 8B 5E A0 8F AA 39 81 CD 83 54 42 33 11 4A 3D 85 D6 DF"); !bytes.Equal(nt[:], want) {
		t.Errorf("NT-Response = % X, want % X", nt, want)
	}
	if hh, want := HashNTPasswordHash(hash), unhex(t, "41 C0 0C 58 4B D2 D9 1C 40 17 A2 A1 2F A5 9F 3F"); !bytes.Equal(hh[:], want) {
		t.Errorf("PasswordHashHash = % X, want % X", hh, want)
	}
	auth := GenerateAuthenticatorResponse(password, nt, peerChallenge, authChallenge, user)
	if got := (Success{AuthResponse: auth}).String(); got != "S=407A5589115FD0D6209F510FE9C04566932CDA56" {
		t.Errorf("AuthenticatorResponse = %s", got)
	}
	if !CheckAuthenticatorResponse(auth, password, nt, peerChallenge, authChallenge, user) {
		t.Error("CheckAuthenticatorResponse refused the RFC's response")
	}
	bad := auth
	bad[19] ^= 1
	if CheckAuthenticatorResponse(bad, password, nt, peerChallenge, authChallenge, user) {
		t.Error("CheckAuthenticatorResponse accepted a wrong response")
	}
	if CheckAuthenticatorResponse(auth, "wrongPass", nt, peerChallenge, authChallenge, user) {
		t.Error("CheckAuthenticatorResponse accepted the wrong password")
	}
	// A domain prefix is not hashed (RFC 2759 §8.2).
	if ChallengeHash(peerChallenge, authChallenge, `CORP\User`) != ChallengeHash(peerChallenge, authChallenge, user) {
		t.Error(`ChallengeHash hashed the "CORP\" domain prefix`)
	}
}

// RFC 2759 §9.3, "DES Key Example": the three keys from the "MyPw" hash,
// compared without their parity bits, which DES ignores.
func TestDESKeys(t *testing.T) {
	z := append(unhex(t, "FC 15 6A F7 ED CD 6C 0E DD E3 33 7D 42 7F 4E AC"), 0, 0, 0, 0, 0)
	for i, want := range []string{"FD 0B 5B 5E 7F 6E 34 D9", "0E 6E 79 67 37 EA 08 FE", "4F 57 01 01 01 01 01 01"} {
		got := desKey(z[7*i : 7*i+7])
		w := unhex(t, want)
		for j := range w {
			if got[j]&0xfe != w[j]&0xfe {
				t.Errorf("key %d = % X, want % X (parity bits aside)", i, got, w)
				break
			}
		}
	}
}

// RFC 2433 appendix B.2 (password "MyPw").
func TestRFC2433Vectors(t *testing.T) {
	challenge := [8]byte(unhex(t, "10 2D B5 DF 08 5D 30 41"))
	if hash, want := NTPasswordHash("MyPw"), unhex(t, "FC 15 6A F7 ED CD 6C 0E DD E3 33 7D 42 7F 4E AC"); !bytes.Equal(hash[:], want) {
		t.Errorf("PasswordHash = % X, want % X", hash, want)
	}
	if got, want := NTChallengeResponse(challenge, "MyPw"), unhex(t, "4E 9D 3C 8F 9C FD 38 5D 5B F4 D3 24 67 91 95 6C A4 C3 51 AB 40 9A 3D 61"); !bytes.Equal(got[:], want) {
		t.Errorf("NT response = % X, want % X", got, want)
	}
	// A non-ASCII password is hashed as UTF-16 (surrogate pairs included).
	if a, b := NTPasswordHash("pässwörd😀"), NTPasswordHash("passwort"); a == b {
		t.Error("distinct passwords hash alike")
	}
}

func TestResponses(t *testing.T) {
	v2 := V2Response{PeerChallenge: [16]byte{1, 2, 3}, NTResponse: [24]byte{9: 0xaa}}
	b := v2.Marshal()
	if len(b) != ResponseLen || b[0] != 1 || b[24+9] != 0xaa || b[48] != 0 {
		t.Fatalf("V2Response.Marshal = % x", b)
	}
	got, err := ParseV2Response(b)
	if err != nil || got != v2 {
		t.Errorf("ParseV2Response = %+v, %v", got, err)
	}
	v1 := V1Response{NTResponse: [24]byte{0: 7}, Flags: 1}
	got1, err := ParseV1Response(v1.Marshal())
	if err != nil || got1 != v1 {
		t.Errorf("ParseV1Response = %+v, %v", got1, err)
	}
	for _, n := range []int{0, 48, 50} {
		if _, err := ParseV2Response(make([]byte, n)); !errors.Is(err, errLength) {
			t.Errorf("ParseV2Response(%d octets) = %v", n, err)
		}
		if _, err := ParseV1Response(make([]byte, n)); !errors.Is(err, errLength) {
			t.Errorf("ParseV1Response(%d octets) = %v", n, err)
		}
	}
}

func TestSuccess(t *testing.T) {
	tests := []struct {
		in      string
		want    Success
		wantErr bool
	}{
		{"S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Access granted", Success{AuthResponse: [20]byte(unhex(t, "407A5589115FD0D6209F510FE9C04566932CDA56")), Message: "Access granted"}, false},
		{"S=407a5589115fd0d6209f510fe9c04566932cda56", Success{AuthResponse: [20]byte(unhex(t, "407A5589115FD0D6209F510FE9C04566932CDA56"))}, false},
		{"S=407A5589115FD0D6209F510FE9C04566932CDA5", Success{}, true},     // 39 digits
		{"S=407A5589115FD0D6209F510FE9C04566932CDAZZ", Success{}, true},    // not hex
		{"S=407A5589115FD0D6209F510FE9C04566932CDA56XM=", Success{}, true}, // junk after
		{"Access granted", Success{}, true},
		{"", Success{}, true},
	}
	for _, tt := range tests {
		got, err := ParseSuccess([]byte(tt.in))
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("ParseSuccess(%q) = %+v, %v", tt.in, got, err)
		}
	}
}

func TestFailure(t *testing.T) {
	tests := []struct {
		in      string
		want    Failure
		out     string // String(); "" when the same as in
		wantErr bool
	}{
		{
			in:   "E=691 R=0 C=8E5C46E0A5B9B4D5E6F7A8B9C0D1E2F3 V=3 M=Authentication failure",
			want: Failure{Code: 691, Challenge: unhex(t, "8E5C46E0A5B9B4D5E6F7A8B9C0D1E2F3"), Version: 3, Message: "Authentication failure"},
		},
		{in: "E=691 R=1 C=0011223344556677 V=0", want: Failure{Code: 691, Retry: true, Challenge: unhex(t, "0011223344556677")}, out: "E=691 R=1 C=0011223344556677"},
		{in: "E=648 R=0 V=3", want: Failure{Code: 648, Version: 3}},
		{in: "E=691", want: Failure{Code: 691}, out: "E=691 R=0"},
		{in: "E=691 R=0 M=with  two spaces and E=1", want: Failure{Code: 691, Message: "with  two spaces and E=1"}},
		{in: "R=0 C=00", wantErr: true},         // no E
		{in: "E=abc R=0", wantErr: true},        // E not decimal
		{in: "E=691 R=2", wantErr: true},        // R neither 0 nor 1
		{in: "E=691 C=XYZ", wantErr: true},      // C not hex
		{in: "E=691 V=-1", wantErr: true},       // V not decimal
		{in: "E=9999999999 R=0", wantErr: true}, // absurd code
	}
	for _, tt := range tests {
		got, err := ParseFailure([]byte(tt.in))
		if tt.wantErr {
			if err == nil {
				t.Errorf("ParseFailure(%q) = %+v, want an error", tt.in, got)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseFailure(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
			continue
		}
		out := tt.out
		if out == "" {
			out = tt.in
		}
		if s := got.String(); s != out {
			t.Errorf("String() = %q, want %q", s, out)
		}
	}
	if r := (Failure{Code: 691}).Reason(); r != "authentication failure" {
		t.Errorf("Reason(691) = %q", r)
	}
	if r := (Failure{Code: 1}).Reason(); r != "error 1" {
		t.Errorf("Reason(1) = %q", r)
	}
}

func FuzzParseFailure(f *testing.F) {
	f.Add([]byte("E=691 R=0 C=8E5C46E0A5B9B4D5E6F7A8B9C0D1E2F3 V=3 M=Authentication failure"))
	f.Add([]byte("E=691 R=1 C=0011223344556677 V=0"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseFailure(b)
		if err != nil {
			return
		}
		again, err := ParseFailure([]byte(got.String()))
		if err != nil || !reflect.DeepEqual(again, got) {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", b, again, err, got)
		}
	})
}

func FuzzParseSuccess(f *testing.F) {
	f.Add([]byte("S=407A5589115FD0D6209F510FE9C04566932CDA56 M=Access granted"))
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := ParseSuccess(b)
		if err != nil {
			return
		}
		again, err := ParseSuccess([]byte(got.String()))
		if err != nil || again != got {
			t.Fatalf("round trip of %q: %+v, %v; want %+v", b, again, err, got)
		}
	})
}

func FuzzParseResponse(f *testing.F) {
	f.Add(make([]byte, ResponseLen))
	f.Fuzz(func(t *testing.T, b []byte) {
		if r, err := ParseV2Response(b); err == nil && !bytes.Equal(r.Marshal(), b) {
			t.Fatalf("v2 round trip: % x", r.Marshal())
		}
		if r, err := ParseV1Response(b); err == nil && !bytes.Equal(r.Marshal(), b) {
			t.Fatalf("v1 round trip: % x", r.Marshal())
		}
	})
}

// RFC 2759 §8.2 hashes the user name without its domain, however short
// the domain: "\user" (an empty domain) is "user".
func TestStripDomain(t *testing.T) {
	tests := []struct{ in, want string }{
		{`DOMAIN\User`, "User"},
		{`\User`, "User"},
		{`A\B\User`, "User"},
		{"User", "User"},
		{`User\`, ""},
	}
	for _, tt := range tests {
		if got := stripDomain(tt.in); got != tt.want {
			t.Errorf("stripDomain(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	c := [16]byte{1}
	if ChallengeHash(c, c, `\User`) != ChallengeHash(c, c, "User") {
		t.Error(`ChallengeHash hashes the empty domain of "\User"`)
	}
}

// decimal takes up to nine digits, which cannot overflow an int.
func TestDecimal(t *testing.T) {
	tests := []struct {
		in      string
		want    int
		wantErr bool
	}{
		{"0", 0, false},
		{"691", 691, false},
		{"999999999", 999999999, false},
		{"1234567890", 0, true},
		{"", 0, true},
		{"12a", 0, true},
		{"/", 0, true}, // '0'-1
		{":", 0, true}, // '9'+1
	}
	for _, tt := range tests {
		got, err := decimal(tt.in)
		if (err != nil) != tt.wantErr || got != tt.want {
			t.Errorf("decimal(%q) = %d, %v; want %d (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

// Hostile text in error messages is cut at 64 octets.
func TestTruncate(t *testing.T) {
	s64 := strings.Repeat("x", 64)
	if got := truncate(s64); got != s64 {
		t.Errorf("truncate(64 octets) = %q", got)
	}
	if got := truncate(s64 + "y"); got != s64+"..." {
		t.Errorf("truncate(65 octets) = %q", got)
	}
	_, err := ParseSuccess([]byte("S=" + strings.Repeat("A", 40) + strings.Repeat("z", 200)))
	if err == nil || len(err.Error()) > 250 {
		t.Errorf("ParseSuccess of 242 octets: error %v, want a short one", err)
	}
}
