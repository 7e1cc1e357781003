package discovery

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
)

// Spec constants: RFC 2516 §4 and appendix A, RFC 4638, RFC 5578, and the
// PADM/PADN codes of draft-carrel-info-pppoe-ext registered by RFC 4937.
const (
	EtherTypeDiscovery = 0x8863 // RFC 2516 §4
	EtherTypeSession   = 0x8864

	// VerType is the VER and TYPE nibbles, both 1 (RFC 2516 §4).
	VerType = 0x11

	// HeaderLen is the PPPoE header: VER/TYPE, CODE, SESSION_ID, LENGTH.
	HeaderLen = 6

	// MaxPADILen bounds an entire PADI, its PPPoE header included, so that
	// a relay agent has room to add a Relay-Session-Id (RFC 2516 §5.1).
	MaxPADILen = 1484

	// ReservedSessionID "MUST NOT be used" (RFC 2516 §4).
	ReservedSessionID = 0xffff

	// EthernetHeaderLen is destination, source and EtherType.
	EthernetHeaderLen = 14

	// DefaultMTU is the most a session carries in one PPP packet without
	// RFC 4638: an Ethernet payload's 1500 octets less the PPPoE header
	// and the 2-octet PPP protocol field. The PPP MRU must not be
	// negotiated above it (RFC 2516 §7).
	DefaultMTU = 1492

	// Overhead is what a session adds to a PPP packet: the Ethernet MTU
	// must be at least the PPP MTU plus this (RFC 4638 §2).
	Overhead = HeaderLen + 2
)

// Offsets in the PPPoE header (RFC 2516 §4).
const (
	offVerType   = 0
	offCode      = 1
	offSessionID = 2
	offLength    = 4
)

// Code is the PPPoE CODE field.
type Code uint8

// Codes of RFC 2516 §5 (and §6 for session data), RFC 5578 and the Carrel
// draft. Only the first six are understood; the others parse with their
// tags kept raw.
const (
	CodeSession Code = 0x00 // session stage data (RFC 2516 §6)
	CodePADO    Code = 0x07
	CodePADI    Code = 0x09
	CodePADG    Code = 0x0a // RFC 5578
	CodePADC    Code = 0x0b // RFC 5578
	CodePADQ    Code = 0x0c // RFC 5578
	CodePADR    Code = 0x19
	CodePADS    Code = 0x65
	CodePADT    Code = 0xa7
	CodePADM    Code = 0xd3 // draft-carrel-info-pppoe-ext
	CodePADN    Code = 0xd4 // draft-carrel-info-pppoe-ext
)

var codeNames = map[Code]string{
	CodePADO: "PADO", CodePADI: "PADI", CodePADG: "PADG", CodePADC: "PADC", CodePADQ: "PADQ",
	CodePADR: "PADR", CodePADS: "PADS", CodePADT: "PADT", CodePADM: "PADM", CodePADN: "PADN",
}

// String names the code as RFC 2516 does, or as pppd prints an unknown one.
func (c Code) String() string {
	if n, ok := codeNames[c]; ok {
		return n
	}
	return fmt.Sprintf("unknown code %x", uint8(c))
}

// Errors that Parse wraps, so that tests and callers can tell them apart.
var (
	errTruncated   = errors.New("truncated")
	errVerType     = errors.New("bad version/type")
	errLength      = errors.New("length past the end of the frame")
	errTagLength   = errors.New("bad tag length")
	errSessionID   = errors.New("bad session id")
	errTooLong     = errors.New("too long")
	errDuplicate   = errors.New("duplicate tag")
	errMissingTag  = errors.New("missing tag")
	errNotPPPoE    = errors.New("not a PPPoE frame")
	errBadEthernet = errors.New("bad ethernet address")
)

// Frame is an Ethernet II frame carrying PPPoE.
type Frame struct {
	Dst, Src  net.HardwareAddr
	EtherType uint16
	Payload   []byte // the PPPoE header and payload, possibly followed by padding
}

// ParseFrame splits an Ethernet II frame whose EtherType is PPPoE's. The
// payload aliases b.
func ParseFrame(b []byte) (Frame, error) {
	if len(b) < EthernetHeaderLen {
		return Frame{}, fmt.Errorf("discovery: ethernet frame of %d octets: %w", len(b), errTruncated)
	}
	f := Frame{
		Dst:       net.HardwareAddr(b[0:6]),
		Src:       net.HardwareAddr(b[6:12]),
		EtherType: binary.BigEndian.Uint16(b[12:14]),
		Payload:   b[EthernetHeaderLen:],
	}
	if f.EtherType != EtherTypeDiscovery && f.EtherType != EtherTypeSession {
		return Frame{}, fmt.Errorf("discovery: ethertype %#04x: %w", f.EtherType, errNotPPPoE)
	}
	return f, nil
}

// AppendFrame appends an Ethernet II header and payload to b.
func AppendFrame(b []byte, dst, src net.HardwareAddr, etherType uint16, payload []byte) ([]byte, error) {
	if len(dst) != 6 || len(src) != 6 {
		return b, fmt.Errorf("discovery: %w: dst %v src %v", errBadEthernet, dst, src)
	}
	b = append(b, dst...)
	b = append(b, src...)
	b = binary.BigEndian.AppendUint16(b, etherType)
	return append(b, payload...), nil
}

// SessionHeader is the PPPoE header of a session-stage frame (RFC 2516 §6):
// CODE 0 and the session's id. The payload is a PPP frame starting with the
// 2-octet protocol field.
type SessionHeader struct {
	SessionID uint16
	Payload   []byte // exactly LENGTH octets, Ethernet padding removed
}

// ParseSession parses a session-stage PPPoE packet (after the Ethernet
// header). The payload aliases b.
func ParseSession(b []byte) (SessionHeader, error) {
	code, sid, payload, err := parseHeader(b)
	if err != nil {
		return SessionHeader{}, err
	}
	if code != CodeSession {
		return SessionHeader{}, fmt.Errorf("discovery: session frame with code %#02x: %w", uint8(code), errNotPPPoE)
	}
	if sid == 0 || sid == ReservedSessionID {
		return SessionHeader{}, fmt.Errorf("discovery: session frame with session id %#x: %w", sid, errSessionID)
	}
	return SessionHeader{SessionID: sid, Payload: payload}, nil
}

// AppendSession appends a session-stage PPPoE header and payload to b.
func AppendSession(b []byte, sessionID uint16, payload []byte) ([]byte, error) {
	if len(payload) > 0xffff {
		return b, fmt.Errorf("discovery: session payload of %d octets: %w", len(payload), errTooLong)
	}
	b = append(b, VerType, byte(CodeSession))
	b = binary.BigEndian.AppendUint16(b, sessionID)
	b = binary.BigEndian.AppendUint16(b, uint16(len(payload)))
	return append(b, payload...), nil
}

// parseHeader checks the PPPoE header and returns the payload, LENGTH octets
// long: octets past it are Ethernet padding (RFC 2516 §4: LENGTH counts the
// payload only).
func parseHeader(b []byte) (Code, uint16, []byte, error) {
	if len(b) < HeaderLen {
		return 0, 0, nil, fmt.Errorf("discovery: header of %d octets: %w", len(b), errTruncated)
	}
	if b[offVerType] != VerType {
		return 0, 0, nil, fmt.Errorf("discovery: version/type %#02x, want 0x11: %w", b[offVerType], errVerType)
	}
	code := Code(b[offCode])
	sid := binary.BigEndian.Uint16(b[offSessionID:])
	n := int(binary.BigEndian.Uint16(b[offLength:]))
	if n > len(b)-HeaderLen {
		return 0, 0, nil, fmt.Errorf("discovery: %s length %d, only %d octets follow the header: %w", code, n, len(b)-HeaderLen, errLength)
	}
	return code, sid, b[HeaderLen : HeaderLen+n], nil
}
