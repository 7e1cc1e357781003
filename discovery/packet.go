package discovery

import (
	"encoding/binary"
	"fmt"
	"net"
	"strings"
)

// Packet is a discovery packet: the PPPoE header's CODE and SESSION_ID and
// the tags, in order.
type Packet struct {
	Code      Code
	SessionID uint16
	Tags      []Tag
}

// Parse decodes a discovery packet (the PPPoE header and payload, without
// the Ethernet header; Ethernet padding after LENGTH octets is ignored) and
// checks it against RFC 2516: tag lengths, session ids, the PADI size limit,
// required and duplicate tags. The packet shares no memory with b.
func Parse(b []byte) (*Packet, error) {
	code, sid, payload, err := parseHeader(b)
	if err != nil {
		return nil, err
	}
	p := &Packet{Code: code, SessionID: sid}
	for off := 0; off < len(payload); {
		if len(payload)-off < tagHeaderLen {
			return nil, fmt.Errorf("discovery: %s: tag header truncated at payload offset %d: %w", code, off, errTagLength)
		}
		typ := TagType(binary.BigEndian.Uint16(payload[off:]))
		n := int(binary.BigEndian.Uint16(payload[off+2:]))
		off += tagHeaderLen
		if n > len(payload)-off {
			return nil, fmt.Errorf("discovery: %s: %s length %d runs past the payload (%d octets left): %w", code, typ, n, len(payload)-off, errTagLength)
		}
		t, err := parseTag(typ, payload[off:off+n])
		if err != nil {
			return nil, fmt.Errorf("discovery: %s: %w", code, err)
		}
		p.Tags = append(p.Tags, t)
		off += n
	}
	if err := p.validate(HeaderLen + len(payload)); err != nil {
		return nil, err
	}
	return p, nil
}

// Append encodes p after b, checking it as Parse would: pppoed never sends
// a packet its own parser would refuse.
func (p *Packet) Append(b []byte) ([]byte, error) {
	// A tag value over 0xffff octets makes the payload longer still.
	n := p.payloadLen()
	if n > 0xffff {
		return b, fmt.Errorf("discovery: %s: payload of %d octets: %w", p.Code, n, errTooLong)
	}
	if err := p.validate(HeaderLen + n); err != nil {
		return b, err
	}
	b = append(b, VerType, byte(p.Code))
	b = binary.BigEndian.AppendUint16(b, p.SessionID)
	b = binary.BigEndian.AppendUint16(b, uint16(n))
	for _, t := range p.Tags {
		v := t.value()
		b = binary.BigEndian.AppendUint16(b, uint16(t.Type()))
		b = binary.BigEndian.AppendUint16(b, uint16(len(v)))
		b = append(b, v...)
	}
	return b, nil
}

// Marshal encodes p.
func (p *Packet) Marshal() ([]byte, error) { return p.Append(nil) }

// live is the tags before End-Of-List: the ones that count (RFC 2516
// appendix A).
func (p *Packet) live() []Tag {
	for i, t := range p.Tags {
		if t.Type() == TagEndOfList {
			return p.Tags[:i]
		}
	}
	return p.Tags
}

// Find returns p's first tag of type T before any End-Of-List.
func Find[T Tag](p *Packet) (T, bool) {
	for _, t := range p.live() {
		if v, ok := t.(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// FindAll returns all of p's tags of type T before any End-Of-List.
func FindAll[T Tag](p *Packet) []T {
	var out []T
	for _, t := range p.live() {
		if v, ok := t.(T); ok {
			out = append(out, v)
		}
	}
	return out
}

// Error returns the first error tag (Service-Name-Error, AC-System-Error or
// Generic-Error) of p, or nil.
func (p *Packet) Error() Tag {
	for _, t := range p.live() {
		switch t.Type() {
		case TagServiceNameError, TagACSystemError, TagGenericError:
			return t
		}
	}
	return nil
}

// Tags that may appear once at most: each is echoed or acted on, and two
// would make the packet ambiguous.
var singleTags = []TagType{TagACName, TagHostUniq, TagACCookie, TagRelaySessionID, TagPPPMaxPayload}

// validate applies RFC 2516's rules for p's code; size is the whole PPPoE
// packet, header included.
func (p *Packet) validate(size int) error {
	count := map[TagType]int{}
	for _, t := range p.live() {
		count[t.Type()]++
	}
	for _, t := range singleTags {
		if count[t] > 1 {
			return fmt.Errorf("discovery: %s with %d %s tags: %w", p.Code, count[t], t, errDuplicate)
		}
	}
	needSID := func(zero bool, section string) error {
		if zero && p.SessionID != 0 {
			return fmt.Errorf("discovery: %s with session id %#x, must be 0 (RFC 2516 %s): %w", p.Code, p.SessionID, section, errSessionID)
		}
		if !zero && (p.SessionID == 0 || p.SessionID == ReservedSessionID) {
			return fmt.Errorf("discovery: %s with session id %#x (RFC 2516 %s): %w", p.Code, p.SessionID, section, errSessionID)
		}
		return nil
	}
	// "exactly one TAG of TAG_TYPE Service-Name" in a PADI (§5.1), PADR
	// (§5.3). A PADO may offer several (§5.2); in PADOs and PADSs a missing
	// one is left for the client to judge, as pppd does, since refusing an
	// AC's sloppy reply gains nothing.
	exactlyOneService := func() error {
		if n := count[TagServiceName]; n != 1 {
			err := errDuplicate
			if n == 0 {
				err = errMissingTag
			}
			return fmt.Errorf("discovery: %s with %d service-name tags, must have exactly one: %w", p.Code, n, err)
		}
		return nil
	}
	switch p.Code {
	case CodePADI:
		if size > MaxPADILen {
			return fmt.Errorf("discovery: PADI of %d octets, at most %d (RFC 2516 §5.1): %w", size, MaxPADILen, errTooLong)
		}
		if err := needSID(true, "§5.1"); err != nil {
			return err
		}
		return exactlyOneService()
	case CodePADO:
		return needSID(true, "§5.2")
	case CodePADR:
		if err := needSID(true, "§5.3"); err != nil {
			return err
		}
		return exactlyOneService()
	case CodePADS:
		if count[TagServiceName] > 1 {
			return fmt.Errorf("discovery: PADS with %d service-name tags: %w", count[TagServiceName], errDuplicate)
		}
		// A refusal carries an error tag and session id 0 (§5.4).
		if p.SessionID == 0 && p.Error() != nil {
			return nil
		}
		return needSID(false, "§5.4")
	case CodePADT:
		return needSID(false, "§5.5")
	}
	return nil
}

// payloadLen is the LENGTH p encodes to.
func (p *Packet) payloadLen() int {
	n := 0
	for _, t := range p.Tags {
		n += tagHeaderLen + len(t.value())
	}
	return n
}

// String renders p on one line, in the words pppd's PPPoE plugin uses:
//
//	PADS session 0x1 length 15 [service-name isp] [host-uniq  73 00 00 00]
func (p *Packet) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s session 0x%x length %d", p.Code, p.SessionID, p.payloadLen())
	for _, t := range p.Tags {
		b.WriteString(" ")
		b.WriteString(t.String())
	}
	return b.String()
}

// LogLines renders p exactly as pppd's PPPoE plugin logs a discovery
// packet with its debug option: direction is "Send" or "Recv".
//
//	Send PPPOE Discovery V1T1 PADI session 0x0 length 15
//	 dst ff:ff:ff:ff:ff:ff  src aa:ea:55:c8:2a:56
//	 [service-name isp] [host-uniq  73 00 00 00]
func (p *Packet) LogLines(direction string, dst, src net.HardwareAddr) []string {
	var tags strings.Builder
	for _, t := range p.Tags {
		tags.WriteString(" ")
		tags.WriteString(t.String())
	}
	return []string{
		fmt.Sprintf("%s PPPOE Discovery V1T1 %s session 0x%x length %d", direction, p.Code, p.SessionID, p.payloadLen()),
		fmt.Sprintf(" dst %s  src %s", dst, src),
		tags.String(),
	}
}
