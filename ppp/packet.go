package ppp

import (
	"encoding/binary"
	"errors"
	"fmt"
)

// Code is the Code field of a control packet (RFC 1661 §5). Its meaning
// depends on the protocol: for PAP 1 is Authenticate-Request.
type Code uint8

// Codes of the LCP-like protocols (RFC 1661 §5, RFC 1570 for 12 and 13).
const (
	CodeConfReq       Code = 1
	CodeConfAck       Code = 2
	CodeConfNak       Code = 3
	CodeConfRej       Code = 4
	CodeTermReq       Code = 5
	CodeTermAck       Code = 6
	CodeCodeRej       Code = 7
	CodeProtRej       Code = 8 // LCP only
	CodeEchoReq       Code = 9
	CodeEchoRep       Code = 10
	CodeDiscardReq    Code = 11
	CodeIdentif       Code = 12 // RFC 1570
	CodeTimeRemaining Code = 13 // RFC 1570
	CodeResetReq      Code = 14 // CCP (RFC 1962)
	CodeResetAck      Code = 15
)

// PAP codes (RFC 1334 §2.2) and CHAP codes (RFC 1994 §4).
const (
	CodePAPAuthReq Code = 1
	CodePAPAuthAck Code = 2
	CodePAPAuthNak Code = 3

	CodeCHAPChallenge Code = 1
	CodeCHAPResponse  Code = 2
	CodeCHAPSuccess   Code = 3
	CodeCHAPFailure   Code = 4
)

// HeaderLen is Code, Identifier and Length (RFC 1661 §5).
const HeaderLen = 4

// Offsets in the control packet header (RFC 1661 §5).
const (
	offCode   = 0
	offID     = 1
	offLength = 2
)

// Packet is a control packet of one protocol: LCP, an NCP, PAP, CHAP...
// (RFC 1661 §5; PAP and CHAP share the layout).
type Packet struct {
	Protocol Protocol
	Code     Code
	ID       uint8
	Data     []byte // what follows the header, Length-4 octets
}

// Errors that decoders wrap.
var (
	errTruncated    = errors.New("truncated")
	errLength       = errors.New("bad length")
	errOptionLength = errors.New("bad option length")
	errTooLong      = errors.New("too long")
	errFormat       = errors.New("malformed")
)

// Parse decodes a control packet of protocol proto from b, which starts at
// the Code field. Octets past Length are padding and ignored (RFC 1661 §5).
// The packet shares no memory with b.
func Parse(proto Protocol, b []byte) (Packet, error) {
	if len(b) < HeaderLen {
		return Packet{}, fmt.Errorf("ppp: %s packet of %d octets: %w", proto, len(b), errTruncated)
	}
	n := int(binary.BigEndian.Uint16(b[offLength:]))
	if n < HeaderLen {
		return Packet{}, fmt.Errorf("ppp: %s length %d, below the %d-octet header: %w", proto, n, HeaderLen, errLength)
	}
	if n > len(b) {
		return Packet{}, fmt.Errorf("ppp: %s length %d, only %d octets received: %w", proto, n, len(b), errLength)
	}
	return Packet{
		Protocol: proto,
		Code:     Code(b[offCode]),
		ID:       b[offID],
		Data:     append([]byte(nil), b[HeaderLen:n]...),
	}, nil
}

// ParseFrame decodes a PPP frame that starts with the 2-octet protocol
// field, as read from a PPP channel or unit, or carried in a PPPoE session.
func ParseFrame(b []byte) (Packet, error) {
	if len(b) < 2 {
		return Packet{}, fmt.Errorf("ppp: frame of %d octets: %w", len(b), errTruncated)
	}
	return Parse(Protocol(binary.BigEndian.Uint16(b)), b[2:])
}

// Append encodes the packet (without the protocol field) after b.
func (p Packet) Append(b []byte) ([]byte, error) {
	if len(p.Data) > 0xffff-HeaderLen {
		return b, fmt.Errorf("ppp: %s data of %d octets: %w", p.Protocol, len(p.Data), errTooLong)
	}
	b = append(b, byte(p.Code), p.ID)
	b = binary.BigEndian.AppendUint16(b, uint16(HeaderLen+len(p.Data)))
	return append(b, p.Data...), nil
}

// AppendFrame encodes the protocol field and the packet after b.
func (p Packet) AppendFrame(b []byte) ([]byte, error) {
	return p.Append(binary.BigEndian.AppendUint16(b, uint16(p.Protocol)))
}

// String renders the packet as pppd's debug log does:
//
//	[LCP ConfReq id=0x1 <mru 1492> <magic 0x6c9aa1b>]
func (p Packet) String() string {
	b, err := p.AppendFrame(nil)
	if err != nil {
		return fmt.Sprintf("[%s code=0x%x id=0x%x, %d octets]", p.Protocol, uint8(p.Code), p.ID, len(p.Data))
	}
	return FormatFrame(b)
}
