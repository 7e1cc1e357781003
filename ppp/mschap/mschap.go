// Package mschap implements Microsoft's CHAP variants for PPP: MS-CHAPv1
// (RFC 2433) and MS-CHAPv2 (RFC 2759). It computes the peer's response and
// the authenticator's response and check, and encodes and parses the
// 49-octet Response values and the Success ("S=... M=...") and Failure
// ("E=691 R=0 C=... V=3 M=...") messages.
//
// MD4, which both versions use to hash the password, comes from
// golang.org/x/crypto/md4 rather than from layeh.com/radius/rfc2759: MD4 is
// the one primitive the standard library lacks, x/crypto is maintained with
// Go itself and brings no other dependency, while the RADIUS package covers
// only MS-CHAPv2, fixes its own API around RADIUS attributes and would pull
// a RADIUS library into a PPP client. DES and SHA-1 come from the standard
// library. MS-CHAPv1's LAN Manager response is not implemented (it is
// insecure and pppd sends it only when built for it); responses carry the
// NT response with the "use NT" flag.
package mschap

import (
	"crypto/des"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"unicode/utf16"

	//lint:ignore SA1019 MS-CHAP is defined on MD4 (RFC 2759 §8.3): compatibility is the point.
	"golang.org/x/crypto/md4"
)

// Sizes of RFC 2433 §2 and RFC 2759 §4.
const (
	V1ChallengeLen = 8  // the authenticator's challenge, MS-CHAPv1
	V2ChallengeLen = 16 // the authenticator's and the peer's, MS-CHAPv2
	ResponseLen    = 49 // the Response packet's value, both versions
	NTResponseLen  = 24
)

// utf16le is the password as RFC 2759 §8 hashes it: UTF-16, little endian.
func utf16le(s string) []byte {
	u := utf16.Encode([]rune(s))
	b := make([]byte, 2*len(u))
	for i, c := range u {
		binary.LittleEndian.PutUint16(b[2*i:], c)
	}
	return b
}

// NTPasswordHash is MD4 of the UTF-16LE password (RFC 2759 §8.3).
func NTPasswordHash(password string) [16]byte {
	h := md4.New()
	h.Write(utf16le(password))
	return [16]byte(h.Sum(nil))
}

// HashNTPasswordHash is MD4 of the password hash (RFC 2759 §8.4).
func HashNTPasswordHash(hash [16]byte) [16]byte {
	h := md4.New()
	h.Write(hash[:])
	return [16]byte(h.Sum(nil))
}

// desKey spreads 7 key octets over the 8 of a DES key, leaving the parity
// bits (the low bit of each octet, ignored by DES) clear (RFC 2759 §8.6).
func desKey(k7 []byte) []byte {
	v := uint64(0)
	for _, c := range k7[:7] {
		v = v<<8 | uint64(c)
	}
	k := make([]byte, 8)
	for i := range k {
		k[i] = byte(v>>(49-7*i)) << 1
	}
	return k
}

// ChallengeResponse encrypts an 8-octet challenge with three DES keys taken
// from the password hash padded to 21 octets (RFC 2759 §8.5, RFC 2433 §A.5).
func ChallengeResponse(challenge [8]byte, hash [16]byte) [NTResponseLen]byte {
	var z [21]byte
	copy(z[:], hash[:])
	var out [NTResponseLen]byte
	for i := 0; i < 3; i++ {
		c, err := des.NewCipher(desKey(z[7*i : 7*i+7]))
		if err != nil {
			panic("mschap: DES key of 8 octets refused: " + err.Error()) // unreachable: the key is always 8 octets
		}
		c.Encrypt(out[8*i:], challenge[:])
	}
	return out
}

// NTChallengeResponse is MS-CHAPv1's NT response to an 8-octet challenge
// (RFC 2433 §A.5).
func NTChallengeResponse(challenge [V1ChallengeLen]byte, password string) [NTResponseLen]byte {
	return ChallengeResponse(challenge, NTPasswordHash(password))
}

// stripDomain drops a "DOMAIN\" prefix: RFC 2759 §8.2 hashes the user name
// "excluding any prepended domain name", as pppd does.
func stripDomain(user string) string {
	if i := strings.LastIndexByte(user, '\\'); i >= 0 {
		return user[i+1:]
	}
	return user
}

// ChallengeHash is the 8-octet challenge MS-CHAPv2 derives from both
// challenges and the user name (RFC 2759 §8.2).
func ChallengeHash(peerChallenge, authChallenge [V2ChallengeLen]byte, user string) [8]byte {
	h := sha1.New()
	h.Write(peerChallenge[:])
	h.Write(authChallenge[:])
	h.Write([]byte(stripDomain(user)))
	return [8]byte(h.Sum(nil))
}

// GenerateNTResponse is MS-CHAPv2's NT-Response (RFC 2759 §8.1).
func GenerateNTResponse(authChallenge, peerChallenge [V2ChallengeLen]byte, user, password string) [NTResponseLen]byte {
	return ChallengeResponse(ChallengeHash(peerChallenge, authChallenge, user), NTPasswordHash(password))
}

// The constants of RFC 2759 §8.7.
var (
	magic1 = []byte("Magic server to client signing constant")
	magic2 = []byte("Pad to make it do more than one iteration")
)

// GenerateAuthenticatorResponse is the 20-octet digest the authenticator
// sends as "S=<40 hex digits>" in its Success message (RFC 2759 §8.7).
func GenerateAuthenticatorResponse(password string, ntResponse [NTResponseLen]byte, peerChallenge, authChallenge [V2ChallengeLen]byte, user string) [20]byte {
	hh := HashNTPasswordHash(NTPasswordHash(password))
	h := sha1.New()
	h.Write(hh[:])
	h.Write(ntResponse[:])
	h.Write(magic1)
	digest := h.Sum(nil)
	ch := ChallengeHash(peerChallenge, authChallenge, user)
	h = sha1.New()
	h.Write(digest)
	h.Write(ch[:])
	h.Write(magic2)
	return [20]byte(h.Sum(nil))
}

// CheckAuthenticatorResponse reports, in constant time, whether the
// authenticator's response proves it knows the password (RFC 2759 §8.8): a
// peer MUST end the session when it does not.
func CheckAuthenticatorResponse(got [20]byte, password string, ntResponse [NTResponseLen]byte, peerChallenge, authChallenge [V2ChallengeLen]byte, user string) bool {
	want := GenerateAuthenticatorResponse(password, ntResponse, peerChallenge, authChallenge, user)
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

var (
	errLength = errors.New("bad length")
	errFormat = errors.New("malformed")
)

// V1Response is MS-CHAPv1's Response value (RFC 2433 §2.2.1): LM and NT
// responses and a flag, 1 when the NT response is to be used.
type V1Response struct {
	LMResponse [NTResponseLen]byte
	NTResponse [NTResponseLen]byte
	Flags      uint8
}

// ParseV1Response decodes a 49-octet value.
func ParseV1Response(b []byte) (V1Response, error) {
	if len(b) != ResponseLen {
		return V1Response{}, fmt.Errorf("mschap: v1 response of %d octets, want %d: %w", len(b), ResponseLen, errLength)
	}
	return V1Response{LMResponse: [24]byte(b[0:24]), NTResponse: [24]byte(b[24:48]), Flags: b[48]}, nil
}

// Marshal encodes r.
func (r V1Response) Marshal() []byte {
	b := append(r.LMResponse[:], r.NTResponse[:]...)
	return append(b, r.Flags)
}

// V2Response is MS-CHAPv2's Response value (RFC 2759 §4): the peer's
// challenge, 8 reserved octets (zero), the NT-Response and flags (zero).
type V2Response struct {
	PeerChallenge [V2ChallengeLen]byte
	Reserved      [8]byte
	NTResponse    [NTResponseLen]byte
	Flags         uint8
}

// ParseV2Response decodes a 49-octet value.
func ParseV2Response(b []byte) (V2Response, error) {
	if len(b) != ResponseLen {
		return V2Response{}, fmt.Errorf("mschap: v2 response of %d octets, want %d: %w", len(b), ResponseLen, errLength)
	}
	return V2Response{PeerChallenge: [16]byte(b[0:16]), Reserved: [8]byte(b[16:24]), NTResponse: [24]byte(b[24:48]), Flags: b[48]}, nil
}

// Marshal encodes r.
func (r V2Response) Marshal() []byte {
	b := append(r.PeerChallenge[:], r.Reserved[:]...)
	b = append(b, r.NTResponse[:]...)
	return append(b, r.Flags)
}

// Success is the message of an MS-CHAPv2 Success packet: "S=<auth string>
// M=<message>" (RFC 2759 §5).
type Success struct {
	AuthResponse [20]byte
	Message      string
}

// ParseSuccess decodes a Success message. The hex digits may be of either
// case (RFC 2759 asks for upper case, not every server complies); the
// message part is optional.
func ParseSuccess(msg []byte) (Success, error) {
	s := string(msg)
	if !strings.HasPrefix(s, "S=") || len(s) < 42 {
		return Success{}, fmt.Errorf("mschap: success message %q lacks S=<40 hex digits>: %w", truncate(s), errFormat)
	}
	d, err := hex.DecodeString(s[2:42])
	if err != nil {
		return Success{}, fmt.Errorf("mschap: success message %q: %w", truncate(s), errFormat)
	}
	out := Success{AuthResponse: [20]byte(d)}
	// An if, not a tagless switch: gremlins cannot test mutants in case
	// expressions (coverage has no block for them).
	if m, ok := strings.CutPrefix(s[42:], " M="); ok {
		out.Message = m
	} else if rest := s[42:]; rest != "" {
		return Success{}, fmt.Errorf("mschap: success message %q: unexpected %q after the digest: %w", truncate(s), truncate(rest), errFormat)
	}
	return out, nil
}

// String encodes s as it goes on the wire.
func (s Success) String() string {
	out := fmt.Sprintf("S=%X", s.AuthResponse[:])
	if s.Message != "" {
		out += " M=" + s.Message
	}
	return out
}

// Failure is the message of an MS-CHAP Failure packet (RFC 2759 §6, RFC
// 2433 §2.2.4): "E=691 R=0 C=<challenge> V=3 M=<message>".
type Failure struct {
	Code      int    // E: 691 authentication failure, 646-649 account limits, 709 password change
	Retry     bool   // R=1: the peer may try again
	Challenge []byte // C: the new challenge for a retry (16 octets in v2, 8 in v1)
	Version   int    // V: 3 for MS-CHAPv2 password change support; 0 when absent
	Message   string // M: text for the user (v2)
}

// Failure codes (RFC 2759 §6).
const (
	ErrRestrictedLogonHours = 646
	ErrAccountDisabled      = 647
	ErrPasswordExpired      = 648
	ErrNoDialinPermission   = 649
	ErrAuthenticationFailed = 691
	ErrChangingPassword     = 709
)

var failureReasons = map[int]string{
	ErrRestrictedLogonHours: "restricted logon hours",
	ErrAccountDisabled:      "account disabled",
	ErrPasswordExpired:      "password expired",
	ErrNoDialinPermission:   "no dial-in permission",
	ErrAuthenticationFailed: "authentication failure",
	ErrChangingPassword:     "password change required",
}

// Reason is the meaning of the error code, for people.
func (f Failure) Reason() string {
	if r, ok := failureReasons[f.Code]; ok {
		return r
	}
	return fmt.Sprintf("error %d", f.Code)
}

// ParseFailure decodes a Failure message. E is required; R, C, V and M are
// optional (MS-CHAPv1 servers send less); M takes the rest of the message.
func ParseFailure(msg []byte) (Failure, error) {
	s := string(msg)
	var f Failure
	seenE := false
	for s != "" {
		s = strings.TrimLeft(s, " ")
		if strings.HasPrefix(s, "M=") {
			f.Message = s[2:]
			break
		}
		tok, rest, _ := strings.Cut(s, " ")
		s = rest
		key, val, ok := strings.Cut(tok, "=")
		if !ok {
			continue // tolerate junk between fields
		}
		var err error
		switch key {
		case "E":
			f.Code, err = decimal(val)
			seenE = err == nil
		case "R":
			switch val {
			case "0":
			case "1":
				f.Retry = true
			default:
				err = errFormat
			}
		case "C":
			f.Challenge, err = hex.DecodeString(val)
			if len(f.Challenge) == 0 {
				f.Challenge = nil
			}
		case "V":
			f.Version, err = decimal(val)
		}
		if err != nil {
			return Failure{}, fmt.Errorf("mschap: failure message %q: bad %s=%q: %w", truncate(string(msg)), key, truncate(val), errFormat)
		}
	}
	if !seenE {
		return Failure{}, fmt.Errorf("mschap: failure message %q lacks E=<code>: %w", truncate(string(msg)), errFormat)
	}
	return f, nil
}

// decimal parses a small non-negative decimal number.
func decimal(s string) (int, error) {
	if s == "" || len(s) > 9 {
		return 0, errFormat
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errFormat
		}
		n = n*10 + int(c-'0')
	}
	return n, nil
}

// String encodes f as it goes on the wire.
func (f Failure) String() string {
	r := 0
	if f.Retry {
		r = 1
	}
	s := fmt.Sprintf("E=%d R=%d", f.Code, r)
	if len(f.Challenge) > 0 {
		s += fmt.Sprintf(" C=%X", f.Challenge)
	}
	if f.Version != 0 {
		s += fmt.Sprintf(" V=%d", f.Version)
	}
	if f.Message != "" {
		s += " M=" + f.Message
	}
	return s
}

// truncate keeps error messages about hostile input short.
func truncate(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}
