package radius

import (
	"testing"

	"layeh.com/radius"
)

var fuzzAuth = [16]byte{0xa5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}

// FuzzParseReply: any datagram as a reply; nothing panics, and what is
// trusted has a valid Response Authenticator.
func FuzzParseReply(f *testing.F) {
	f.Add(rfcAccept)
	f.Add(signedReply(append([]byte{1, 0, 0, 20}, fuzzAuth[:]...), radius.CodeAccessAccept, []byte(testSecret), nil, ok()))
	f.Add([]byte{2, 0, 0, 22, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := parseReply(b, fuzzAuth, []byte(testSecret), true)
		if err != nil {
			return
		}
		// What is trusted passed the authenticator on b[:Length].
		if pkt, _, _ := frame(b); !validAuthenticator(pkt, fuzzAuth, []byte(testSecret)) {
			t.Fatal("trusted a reply with a bad authenticator")
		}
		_, _ = decodeAccept(p)
	})
}

// FuzzAcceptAttributes: any attributes in an otherwise authentic reply
// (signed here), through every decoder of a trusted Accept or Reject.
func FuzzAcceptAttributes(f *testing.F) {
	f.Add([]byte{8, 6, 10, 0, 0, 1})
	f.Add(append([]byte{26, 12, 0, 0, 1, 55, 28, 6}, 1, 2, 3, 4))
	f.Add([]byte{26, 9, 0, 0, 1, 55, 26, 3, 7})
	f.Add([]byte{27, 5, 0, 0, 1})
	f.Fuzz(func(t *testing.T, attrs []byte) {
		req := append([]byte{1, 9, 0, 20}, fuzzAuth[:]...)
		b := signedReply(req, radius.CodeAccessAccept, []byte(testSecret), nil, replyOpts{id: -1, edit: func(b []byte) []byte {
			if len(b)+len(attrs) > 0xffff {
				return b
			}
			return append(b, attrs...)
		}})
		p, err := parseReply(b, fuzzAuth, []byte(testSecret), true)
		if err != nil {
			return
		}
		_, _ = decodeAccept(p)
		_ = vendorAttr(p, msCHAPError)
	})
}
