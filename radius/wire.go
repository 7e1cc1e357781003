// Package radius is pppoed's RADIUS client: authentication (RFC 2865),
// accounting (RFC 2866) and the server side of dynamic authorization
// (RFC 5176) for `pppoed server`. layeh.com/radius provides the wire format
// and dictionaries; the client logic (failover, retransmission, the
// accounting spool) and every authenticity check are ours.
//
// Every packet we send carries a Message-Authenticator (RFC 3579 §3.2,
// RFC 2869 §5.14) and every Access-Accept, -Reject or -Challenge we receive
// must carry a valid one, besides a valid Response Authenticator: a reply
// that fails either check is dropped, counted and never trusted (the
// BlastRADIUS lesson, CVE-2024-3596).
package radius

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"

	"layeh.com/radius"
	"layeh.com/radius/rfc2869"
)

const (
	headerLen = 20
	// maxPacketLen is RFC 2865 §3's maximum Length.
	maxPacketLen = radius.MaxPacketLength
	// maLen is the length of a Message-Authenticator attribute, type and
	// length included (RFC 3579 §3.2).
	maLen = 18
)

// Secret is a shared secret or a password. It prints as "[hidden]" in every
// fmt verb and in slog, so that a Config or a Request logged by mistake
// does not leak it.
type Secret []byte

// String hides the secret.
func (Secret) String() string { return "[hidden]" }

// GoString hides the secret from %#v.
func (Secret) GoString() string { return "[hidden]" }

// Format hides the secret from every verb, %x and %d included.
func (Secret) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte("[hidden]")) }

// MarshalText hides the secret from encoders (JSON, slog's handlers).
func (Secret) MarshalText() ([]byte, error) { return []byte("[hidden]"), nil }

// dropReason says why a packet from the wire was not trusted.
type dropReason int

const (
	dropNone dropReason = iota
	dropMalformed
	dropOversized
	dropBadAuthenticator
	dropNoMessageAuthenticator
	dropBadMessageAuthenticator
	dropUnexpected
)

func (r dropReason) String() string {
	switch r {
	case dropMalformed:
		return "malformed"
	case dropOversized:
		return "oversized"
	case dropBadAuthenticator:
		return "bad authenticator"
	case dropNoMessageAuthenticator:
		return "no Message-Authenticator"
	case dropBadMessageAuthenticator:
		return "bad Message-Authenticator"
	case dropUnexpected:
		return "unexpected"
	}
	return "none"
}

// encode marshals p with a Message-Authenticator as its first attribute
// (where BlastRADIUS mitigations put it) and fills in the Authenticator
// field for p.Code:
//   - Access-Request: p.Authenticator, which must be random (RFC 2865 §3);
//   - Accounting-, Disconnect- and CoA-Request: MD5 over the packet with a
//     zero authenticator and the secret (RFC 2866 §3, RFC 5176 §2.3); the
//     Message-Authenticator is computed first over the zero authenticator
//     (RFC 5176; what FreeRADIUS does for accounting too);
//   - replies: MD5 with reqAuth, the request's authenticator (RFC 2865 §3),
//     the Message-Authenticator computed over reqAuth (RFC 3579 §3.2).
func encode(p *radius.Packet, secret []byte, reqAuth [16]byte) ([]byte, error) {
	p.Attributes.Del(rfc2869.MessageAuthenticator_Type)
	p.Attributes = append(radius.Attributes{{Type: rfc2869.MessageAuthenticator_Type, Attribute: make(radius.Attribute, 16)}}, p.Attributes...)
	b, err := p.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("radius: %w", err)
	}
	switch p.Code {
	case radius.CodeAccessRequest, radius.CodeStatusServer:
		// b[4:20] is p.Authenticator already.
	case radius.CodeAccountingRequest, radius.CodeDisconnectRequest, radius.CodeCoARequest:
		clear(b[4:20])
	default:
		copy(b[4:20], reqAuth[:])
	}
	mac := hmac.New(md5.New, secret)
	mac.Write(b)
	// The attribute is first: its value is at 22..38.
	mac.Sum(b[headerLen+2 : headerLen+2 : headerLen+maLen])
	switch p.Code {
	case radius.CodeAccessRequest, radius.CodeStatusServer:
	default:
		h := md5.New()
		h.Write(b)
		h.Write(secret)
		h.Sum(b[4:4:20])
	}
	return b, nil
}

// frame checks b's header (RFC 2865 §3): at least 20 octets, a Length
// between 20 and 4096 and no more than what arrived; octets after Length
// are padding and cut off. It then walks the attributes, which must fill
// the packet exactly, and returns the offset of the one
// Message-Authenticator (0 if none). Two of them, or one whose length is
// not 18, make the packet malformed (RFC 3579 §3.2: at most one).
func frame(b []byte) (pkt []byte, maOff int, reason dropReason) {
	if len(b) > maxPacketLen {
		return nil, 0, dropOversized
	}
	if len(b) < headerLen {
		return nil, 0, dropMalformed
	}
	n := int(binary.BigEndian.Uint16(b[2:4]))
	if n < headerLen || n > len(b) {
		return nil, 0, dropMalformed
	}
	b = b[:n]
	for off := headerLen; off < n; {
		if n-off < 2 {
			return nil, 0, dropMalformed
		}
		l := int(b[off+1])
		if l < 2 || off+l > n {
			return nil, 0, dropMalformed
		}
		if radius.Type(b[off]) == rfc2869.MessageAuthenticator_Type {
			if maOff != 0 || l != maLen {
				return nil, 0, dropMalformed
			}
			maOff = off
		}
		off += l
	}
	return b, maOff, dropNone
}

// validMessageAuthenticator recomputes the HMAC-MD5 of pkt with auth in
// the Authenticator field and the attribute's value zeroed (RFC 3579
// §3.2), and compares in constant time.
func validMessageAuthenticator(pkt []byte, maOff int, auth [16]byte, secret []byte) bool {
	c := make([]byte, len(pkt))
	copy(c, pkt)
	copy(c[4:20], auth[:])
	clear(c[maOff+2 : maOff+maLen])
	mac := hmac.New(md5.New, secret)
	mac.Write(c)
	return hmac.Equal(mac.Sum(nil), pkt[maOff+2:maOff+maLen])
}

// validAuthenticator checks MD5(Code+Identifier+Length+auth+Attributes+
// secret) against pkt's Authenticator field: the Response Authenticator of
// a reply with auth the request's (RFC 2865 §3), or the Request
// Authenticator of an Accounting-, Disconnect- or CoA-Request with auth
// zero (RFC 2866 §3, RFC 5176 §2.3).
func validAuthenticator(pkt []byte, auth [16]byte, secret []byte) bool {
	h := md5.New()
	h.Write(pkt[:4])
	h.Write(auth[:])
	h.Write(pkt[headerLen:])
	h.Write(secret)
	return subtle.ConstantTimeCompare(h.Sum(nil), pkt[4:20]) == 1
}

// errDropped is what the decoders return; the reason is counted, the
// packet never trusted.
type dropError struct{ reason dropReason }

func (e *dropError) Error() string { return "radius: packet dropped: " + e.reason.String() }

var errDropped = errors.New("radius: packet dropped")

func (e *dropError) Is(target error) bool { return target == errDropped }

// parseReply checks a reply b to the request whose authenticator is
// reqAuth and returns it decoded. The Response Authenticator must be
// valid; the Message-Authenticator must be valid if present and present if
// requireMA.
func parseReply(b []byte, reqAuth [16]byte, secret []byte, requireMA bool) (*radius.Packet, error) {
	pkt, maOff, reason := frame(b)
	if reason != dropNone {
		return nil, &dropError{reason}
	}
	if !validAuthenticator(pkt, reqAuth, secret) {
		return nil, &dropError{dropBadAuthenticator}
	}
	if maOff == 0 {
		if requireMA {
			return nil, &dropError{dropNoMessageAuthenticator}
		}
	} else if !validMessageAuthenticator(pkt, maOff, reqAuth, secret) {
		return nil, &dropError{dropBadMessageAuthenticator}
	}
	p, err := radius.Parse(pkt, secret)
	if err != nil {
		// frame accepted the layout, so this does not happen; keep the
		// check rather than trust that.
		return nil, &dropError{dropMalformed}
	}
	return p, nil
}
