package ppp

import (
	"encoding/binary"
	"fmt"
)

// The data of the control packets other than Configure-*: each type parses
// from and appends to a Packet's Data. Parsers copy what they keep.

// clone copies b; nothing (empty or nil) is nil.
func clone(b []byte) []byte { return append([]byte(nil), b...) }

// Echo is the data of an LCP Echo-Request, Echo-Reply or Discard-Request:
// the sender's Magic-Number (0 until one is negotiated) and any data (RFC
// 1661 §5.8, §5.9).
type Echo struct {
	Magic uint32
	Data  []byte
}

// ParseEcho decodes Echo data.
func ParseEcho(data []byte) (Echo, error) {
	if len(data) < 4 {
		return Echo{}, fmt.Errorf("ppp: echo of %d octets, needs the 4-octet magic number: %w", len(data), errTruncated)
	}
	return Echo{Magic: binary.BigEndian.Uint32(data), Data: clone(data[4:])}, nil
}

// Append encodes e after b.
func (e Echo) Append(b []byte) []byte {
	return append(binary.BigEndian.AppendUint32(b, e.Magic), e.Data...)
}

// ProtocolReject is the data of an LCP Protocol-Reject: the rejected
// protocol and the start of the rejected packet (RFC 1661 §5.7).
type ProtocolReject struct {
	Protocol Protocol
	Info     []byte
}

// ParseProtocolReject decodes Protocol-Reject data.
func ParseProtocolReject(data []byte) (ProtocolReject, error) {
	if len(data) < 2 {
		return ProtocolReject{}, fmt.Errorf("ppp: protocol-reject of %d octets: %w", len(data), errTruncated)
	}
	return ProtocolReject{Protocol: Protocol(binary.BigEndian.Uint16(data)), Info: clone(data[2:])}, nil
}

// Append encodes r after b.
func (r ProtocolReject) Append(b []byte) []byte {
	return append(binary.BigEndian.AppendUint16(b, uint16(r.Protocol)), r.Info...)
}

// Identification is the data of an LCP Identification packet (RFC 1570
// §2.1).
type Identification struct {
	Magic   uint32
	Message []byte
}

// ParseIdentification decodes Identification data.
func ParseIdentification(data []byte) (Identification, error) {
	if len(data) < 4 {
		return Identification{}, fmt.Errorf("ppp: identification of %d octets: %w", len(data), errTruncated)
	}
	return Identification{Magic: binary.BigEndian.Uint32(data), Message: clone(data[4:])}, nil
}

// Append encodes id after b.
func (id Identification) Append(b []byte) []byte {
	return append(binary.BigEndian.AppendUint32(b, id.Magic), id.Message...)
}

// TimeRemaining is the data of an LCP Time-Remaining packet (RFC 1570
// §2.2).
type TimeRemaining struct {
	Magic   uint32
	Seconds uint32
	Message []byte
}

// ParseTimeRemaining decodes Time-Remaining data.
func ParseTimeRemaining(data []byte) (TimeRemaining, error) {
	if len(data) < 8 {
		return TimeRemaining{}, fmt.Errorf("ppp: time-remaining of %d octets: %w", len(data), errTruncated)
	}
	return TimeRemaining{Magic: binary.BigEndian.Uint32(data), Seconds: binary.BigEndian.Uint32(data[4:]), Message: clone(data[8:])}, nil
}

// Append encodes t after b.
func (t TimeRemaining) Append(b []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, t.Magic)
	return append(binary.BigEndian.AppendUint32(b, t.Seconds), t.Message...)
}

// PAPRequest is the data of a PAP Authenticate-Request (RFC 1334 §2.2.1).
// Its String never shows the password.
type PAPRequest struct {
	PeerID   []byte
	Password []byte
}

// ParsePAPRequest decodes Authenticate-Request data. Octets after the
// password are ignored, as pppd does.
func ParsePAPRequest(data []byte) (PAPRequest, error) {
	if len(data) < 1 {
		return PAPRequest{}, fmt.Errorf("ppp: PAP request without a peer-id length: %w", errTruncated)
	}
	ulen := int(data[0])
	if len(data) < 1+ulen+1 {
		return PAPRequest{}, fmt.Errorf("ppp: PAP request: peer-id of %d octets runs past the packet: %w", ulen, errFormat)
	}
	plen := int(data[1+ulen])
	if len(data) < 2+ulen+plen {
		return PAPRequest{}, fmt.Errorf("ppp: PAP request: password of %d octets runs past the packet: %w", plen, errFormat)
	}
	return PAPRequest{
		PeerID:   append([]byte(nil), data[1:1+ulen]...),
		Password: append([]byte(nil), data[2+ulen:2+ulen+plen]...),
	}, nil
}

// Append encodes r after b; each field is at most 255 octets.
func (r PAPRequest) Append(b []byte) ([]byte, error) {
	if len(r.PeerID) > 0xff || len(r.Password) > 0xff {
		return b, fmt.Errorf("ppp: PAP peer-id or password over 255 octets: %w", errTooLong)
	}
	b = append(append(b, byte(len(r.PeerID))), r.PeerID...)
	return append(append(b, byte(len(r.Password))), r.Password...), nil
}

// String shows the peer-id and hides the password.
func (r PAPRequest) String() string {
	return fmt.Sprintf("PAP request user=%q password=<hidden>", r.PeerID)
}

// PAPResponse is the data of a PAP Authenticate-Ack or -Nak (RFC 1334
// §2.2.2).
type PAPResponse struct {
	Message []byte
}

// ParsePAPResponse decodes Authenticate-Ack/Nak data.
func ParsePAPResponse(data []byte) (PAPResponse, error) {
	if len(data) < 1 {
		return PAPResponse{}, fmt.Errorf("ppp: PAP response without a message length: %w", errTruncated)
	}
	n := int(data[0])
	if len(data) < 1+n {
		return PAPResponse{}, fmt.Errorf("ppp: PAP response: message of %d octets runs past the packet: %w", n, errFormat)
	}
	return PAPResponse{Message: clone(data[1 : 1+n])}, nil
}

// Append encodes r after b.
func (r PAPResponse) Append(b []byte) ([]byte, error) {
	if len(r.Message) > 0xff {
		return b, fmt.Errorf("ppp: PAP message over 255 octets: %w", errTooLong)
	}
	return append(append(b, byte(len(r.Message))), r.Message...), nil
}

// CHAPChallenge is the data of a CHAP Challenge or Response: the value
// (challenge, or the peer's response to it) and the sender's name, which
// fills the rest of the packet (RFC 1994 §4.1).
type CHAPChallenge struct {
	Value []byte
	Name  []byte
}

// ParseCHAPChallenge decodes Challenge or Response data.
func ParseCHAPChallenge(data []byte) (CHAPChallenge, error) {
	if len(data) < 1 {
		return CHAPChallenge{}, fmt.Errorf("ppp: CHAP packet without a value size: %w", errTruncated)
	}
	n := int(data[0])
	if len(data) < 1+n {
		return CHAPChallenge{}, fmt.Errorf("ppp: CHAP value of %d octets runs past the packet: %w", n, errFormat)
	}
	return CHAPChallenge{Value: clone(data[1 : 1+n]), Name: clone(data[1+n:])}, nil
}

// Append encodes c after b.
func (c CHAPChallenge) Append(b []byte) ([]byte, error) {
	if len(c.Value) > 0xff {
		return b, fmt.Errorf("ppp: CHAP value of %d octets: %w", len(c.Value), errTooLong)
	}
	return append(append(append(b, byte(len(c.Value))), c.Value...), c.Name...), nil
}
