package radius

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"testing"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
)

// TestFrame: the layout checks on their own, before any authenticator.
func TestFrame(t *testing.T) {
	hdr := func(n int) []byte {
		return []byte{2, 1, byte(n >> 8), byte(n), 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	}
	ma := append([]byte{80, 18}, make([]byte, 16)...)
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tests := []struct {
		name   string
		b      []byte
		want   dropReason
		wantN  int // length of the packet kept
		wantMA int
	}{
		{"header only", hdr(20), dropNone, 20, 0},
		{"padding after Length cut", cat(hdr(20), []byte{1, 2, 3}), dropNone, 20, 0},
		{"Message-Authenticator found", cat(hdr(42), []byte{1, 4, 'a', 'b'}, ma), dropNone, 42, 24},
		{"short", hdr(20)[:19], dropMalformed, 0, 0},
		{"Length 19", hdr(19), dropMalformed, 0, 0},
		{"Length past the datagram", hdr(21), dropMalformed, 0, 0},
		{"attribute length 0", cat(hdr(22), []byte{1, 0}), dropMalformed, 0, 0},
		{"attribute length 1", cat(hdr(22), []byte{1, 1}), dropMalformed, 0, 0},
		{"attribute past Length", cat(hdr(23), []byte{1, 4, 'a', 'b'}), dropMalformed, 0, 0},
		{"lone type octet", cat(hdr(21), []byte{1}), dropMalformed, 0, 0},
		{"Message-Authenticator of 17", cat(hdr(37), []byte{80, 17}, make([]byte, 15)), dropMalformed, 0, 0},
		{"two Message-Authenticators", cat(hdr(56), ma, ma), dropMalformed, 0, 0},
		{"oversized datagram", make([]byte, maxPacketLen+1), dropOversized, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			pkt, maOff, reason := frame(tc.b)
			if reason != tc.want || len(pkt) != tc.wantN || maOff != tc.wantMA {
				t.Errorf("frame = (len %d, ma %d, %v), want (len %d, ma %d, %v)", len(pkt), maOff, reason, tc.wantN, tc.wantMA, tc.want)
			}
		})
	}
}

// TestEncodeRequests: what we sign verifies with code written here from
// the RFCs, for each kind of request and reply we send.
func TestEncode(t *testing.T) {
	secret := []byte("k")
	reqAuth := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	for _, code := range []radius.Code{radius.CodeAccessRequest, radius.CodeAccountingRequest, radius.CodeDisconnectRequest, radius.CodeCoARequest, radius.CodeDisconnectACK, radius.CodeCoANAK} {
		t.Run(code.String(), func(t *testing.T) {
			p := radius.New(code, secret)
			_ = rfc2865.UserName_SetString(p, "u")
			b, err := encode(p, secret, reqAuth)
			if err != nil {
				t.Fatal(err)
			}
			if b[20] != 80 || b[21] != 18 {
				t.Fatalf("Message-Authenticator not first: % x", b[20:22])
			}
			var maAuth, authIn []byte
			switch code {
			case radius.CodeAccessRequest:
				maAuth = p.Authenticator[:]
				if !bytes.Equal(b[4:20], p.Authenticator[:]) {
					t.Error("Access-Request authenticator is not the random one")
				}
			case radius.CodeAccountingRequest, radius.CodeDisconnectRequest, radius.CodeCoARequest:
				maAuth, authIn = make([]byte, 16), make([]byte, 16)
			default:
				maAuth, authIn = reqAuth[:], reqAuth[:]
			}
			if !hmac.Equal(testHMAC(b, 20, maAuth, secret), b[22:38]) {
				t.Error("Message-Authenticator wrong")
			}
			if authIn != nil {
				h := md5.New()
				h.Write(b[:4])
				h.Write(authIn)
				h.Write(b[20:])
				h.Write(secret)
				if !bytes.Equal(h.Sum(nil), b[4:20]) {
					t.Error("authenticator wrong")
				}
			}
		})
	}
}
