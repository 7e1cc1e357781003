package discovery

import (
	"encoding/binary"
	"fmt"
	"strings"
)

// TagType is a TAG_TYPE (RFC 2516 appendix A).
type TagType uint16

// Tag types of RFC 2516 appendix A and RFC 4638.
const (
	TagEndOfList        TagType = 0x0000
	TagServiceName      TagType = 0x0101
	TagACName           TagType = 0x0102
	TagHostUniq         TagType = 0x0103
	TagACCookie         TagType = 0x0104
	TagVendorSpecific   TagType = 0x0105
	TagRelaySessionID   TagType = 0x0110
	TagPPPMaxPayload    TagType = 0x0120 // RFC 4638
	TagServiceNameError TagType = 0x0201
	TagACSystemError    TagType = 0x0202
	TagGenericError     TagType = 0x0203
)

// tagHeaderLen is TAG_TYPE and TAG_LENGTH; TAG_LENGTH counts the value only.
const tagHeaderLen = 4

// Names as pppd's PPPoE plugin prints them.
var tagNames = map[TagType]string{
	TagEndOfList: "end-of-list", TagServiceName: "service-name", TagACName: "AC-name",
	TagHostUniq: "host-uniq", TagACCookie: "AC-cookie", TagVendorSpecific: "vendor-specific",
	TagRelaySessionID: "relay-session-id", TagPPPMaxPayload: "PPP-max-payload",
	TagServiceNameError: "service-name-error", TagACSystemError: "AC-system-error",
	TagGenericError: "generic-error",
}

// String names the tag type as pppd's plugin does.
func (t TagType) String() string {
	if n, ok := tagNames[t]; ok {
		return n
	}
	return fmt.Sprintf("unknown tag 0x%x", uint16(t))
}

// Tag is a discovery TAG. The implementations are this package's types;
// tags it does not know are RawTag.
type Tag interface {
	Type() TagType
	// String renders the tag as pppd's plugin does: "[name value]".
	String() string
	value() []byte
}

// EndOfList ends the tag list (its length MUST be 0); later tags are kept
// but not used (RFC 2516 appendix A).
type EndOfList struct{}

// ServiceName is a service the host asks for or the AC offers; empty means
// any service.
type ServiceName string

// ACName identifies the access concentrator.
type ACName string

// HostUniq is the host's value that the AC echoes unmodified, to match
// replies to requests.
type HostUniq []byte

// ACCookie is the AC's value that the host returns unmodified in its PADR.
type ACCookie []byte

// VendorSpecific carries a vendor id (its first octet is 0, the other three
// the IANA enterprise number) and opaque data.
type VendorSpecific struct {
	VendorID uint32
	Data     []byte
}

// RelaySessionID is added by relay agents; whoever receives it includes it
// unmodified in its response.
type RelaySessionID []byte

// PPPMaxPayload is RFC 4638's maximum PPP payload, above DefaultMTU for links
// whose Ethernet MTU allows it.
type PPPMaxPayload uint16

// ServiceNameError says the AC cannot serve the requested service.
type ServiceNameError string

// ACSystemError says the AC failed, for instance out of resources.
type ACSystemError string

// GenericError is any other error.
type GenericError string

// RawTag is a tag of a type this package does not know, kept as it came.
type RawTag struct {
	TagType TagType
	Value   []byte
}

func (EndOfList) Type() TagType        { return TagEndOfList }
func (ServiceName) Type() TagType      { return TagServiceName }
func (ACName) Type() TagType           { return TagACName }
func (HostUniq) Type() TagType         { return TagHostUniq }
func (ACCookie) Type() TagType         { return TagACCookie }
func (VendorSpecific) Type() TagType   { return TagVendorSpecific }
func (RelaySessionID) Type() TagType   { return TagRelaySessionID }
func (PPPMaxPayload) Type() TagType    { return TagPPPMaxPayload }
func (ServiceNameError) Type() TagType { return TagServiceNameError }
func (ACSystemError) Type() TagType    { return TagACSystemError }
func (GenericError) Type() TagType     { return TagGenericError }
func (t RawTag) Type() TagType         { return t.TagType }

func (EndOfList) value() []byte          { return nil }
func (t ServiceName) value() []byte      { return []byte(t) }
func (t ACName) value() []byte           { return []byte(t) }
func (t HostUniq) value() []byte         { return t }
func (t ACCookie) value() []byte         { return t }
func (t RelaySessionID) value() []byte   { return t }
func (t ServiceNameError) value() []byte { return []byte(t) }
func (t ACSystemError) value() []byte    { return []byte(t) }
func (t GenericError) value() []byte     { return []byte(t) }
func (t RawTag) value() []byte           { return t.Value }
func (t PPPMaxPayload) value() []byte    { return binary.BigEndian.AppendUint16(nil, uint16(t)) }
func (t VendorSpecific) value() []byte {
	return append(binary.BigEndian.AppendUint32(nil, t.VendorID), t.Data...)
}

func (t EndOfList) String() string        { return formatTag(t) }
func (t ServiceName) String() string      { return formatTag(t) }
func (t ACName) String() string           { return formatTag(t) }
func (t HostUniq) String() string         { return formatTag(t) }
func (t ACCookie) String() string         { return formatTag(t) }
func (t VendorSpecific) String() string   { return formatTag(t) }
func (t RelaySessionID) String() string   { return formatTag(t) }
func (t PPPMaxPayload) String() string    { return formatTag(t) }
func (t ServiceNameError) String() string { return formatTag(t) }
func (t ACSystemError) String() string    { return formatTag(t) }
func (t GenericError) String() string     { return formatTag(t) }
func (t RawTag) String() string           { return formatTag(t) }

// parseTag builds the typed tag for a value, which it copies.
func parseTag(typ TagType, v []byte) (Tag, error) {
	switch typ {
	case TagEndOfList:
		if len(v) != 0 {
			return nil, fmt.Errorf("%s with length %d, must be 0: %w", typ, len(v), errTagLength)
		}
		return EndOfList{}, nil
	case TagServiceName:
		return ServiceName(v), nil
	case TagACName:
		return ACName(v), nil
	case TagHostUniq:
		return HostUniq(clone(v)), nil
	case TagACCookie:
		return ACCookie(clone(v)), nil
	case TagRelaySessionID:
		return RelaySessionID(clone(v)), nil
	case TagVendorSpecific:
		if len(v) < 4 {
			return nil, fmt.Errorf("%s with length %d, needs the 4-octet vendor id: %w", typ, len(v), errTagLength)
		}
		return VendorSpecific{VendorID: binary.BigEndian.Uint32(v), Data: clone(v[4:])}, nil
	case TagPPPMaxPayload:
		if len(v) != 2 {
			return nil, fmt.Errorf("%s with length %d, must be 2 (RFC 4638): %w", typ, len(v), errTagLength)
		}
		return PPPMaxPayload(binary.BigEndian.Uint16(v)), nil
	case TagServiceNameError:
		return ServiceNameError(v), nil
	case TagACSystemError:
		return ACSystemError(v), nil
	case TagGenericError:
		return GenericError(v), nil
	}
	return RawTag{TagType: typ, Value: clone(v)}, nil
}

// clone copies b (nil stays nil), so parsed tags never alias a read buffer.
func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append(make([]byte, 0, len(b)), b...)
}

// isText reports the tags pppd's plugin prints as text rather than hex.
func isText(t TagType) bool {
	switch t {
	case TagServiceName, TagACName, TagServiceNameError, TagACSystemError, TagGenericError:
		return true
	}
	return false
}

// maxHexTag is how many value octets pppd's plugin prints before "...".
const maxHexTag = 32

// formatTag renders a tag as pppd 2.4.9's PPPoE plugin does
// (pppoe_printpkt): the name, then text values in "%.*v" form (up to a NUL,
// M- for octets above 0x7f, ^X for control characters but tab), other
// values as " %.*B" hex (so two spaces after the name), at most 32 octets.
func formatTag(t Tag) string {
	v := t.value()
	var b strings.Builder
	b.WriteString("[")
	b.WriteString(t.Type().String())
	if len(v) > 0 {
		b.WriteByte(' ')
		if isText(t.Type()) {
			writeVisible(&b, v)
		} else {
			writeHex(&b, v, maxHexTag)
			if len(v) > maxHexTag {
				fmt.Fprintf(&b, "... (length %d)", len(v))
			}
		}
	}
	b.WriteString("]")
	return b.String()
}

// writeVisible is pppd's "%v" conversion.
func writeVisible(b *strings.Builder, v []byte) {
	for _, c := range v {
		if c == 0 {
			return
		}
		if c >= 0x80 {
			b.WriteString("M-")
			c -= 0x80
		}
		if (c < 0x20 && c != '\t') || c == 0x7f {
			b.WriteByte('^')
			c ^= 0x40
		}
		b.WriteByte(c)
	}
}

// writeHex is pppd's "%.*B": each octet as a space and two hex digits.
func writeHex(b *strings.Builder, v []byte, max int) {
	const digits = "0123456789abcdef"
	for i, c := range v {
		if i == max {
			return
		}
		b.WriteByte(' ')
		b.WriteByte(digits[c>>4])
		b.WriteByte(digits[c&0xf])
	}
}
