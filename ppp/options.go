package ppp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
)

// Option is a configuration option of LCP, IPCP, IPv6CP or CCP (RFC 1661
// §6): Type, Length, data. The implementations are this package's types;
// options of unknown types, and known types of the wrong length (which the
// negotiation then rejects, as pppd does), are RawOption.
type Option interface {
	// Type is the option's Type octet; its meaning depends on the protocol.
	Type() uint8
	// String renders the option as pppd does: "<mru 1492>".
	String() string
	protocol() Protocol
	value() []byte
}

// CHAPAlgorithm is the algorithm octet of a CHAP Authentication-Protocol
// option (RFC 1994 §3; RFC 2433 §2 and RFC 2759 §2 for Microsoft's).
type CHAPAlgorithm uint8

const (
	CHAPMD5      CHAPAlgorithm = chapAlgorithmMD5
	CHAPMSCHAPv1 CHAPAlgorithm = chapAlgorithmMSv1
	CHAPMSCHAPv2 CHAPAlgorithm = chapAlgorithmMSv2
)

// LCP options.
type (
	// MRU is the Maximum-Receive-Unit (RFC 1661 §6.1).
	MRU uint16
	// ACCM is the Async-Control-Character-Map (RFC 1662 §7.1), which
	// PPPoE must reject (RFC 2516 §7).
	ACCM uint32
	// AuthProtocol asks the peer to authenticate with Protocol (RFC 1661
	// §6.2); for CHAP, Algorithm says which (length 5).
	AuthProtocol struct {
		Protocol  Protocol
		Algorithm CHAPAlgorithm // CHAP only
		Data      []byte        // anything after, rare
	}
	// QualityProtocol asks for link quality monitoring (RFC 1661 §6.3).
	QualityProtocol struct {
		Protocol Protocol
		Data     []byte
	}
	// MagicNumber detects looped-back links (RFC 1661 §6.4).
	MagicNumber uint32
	// PFC is Protocol-Field-Compression (RFC 1661 §6.5).
	PFC struct{}
	// ACFC is Address-and-Control-Field-Compression (RFC 1661 §6.6),
	// which PPPoE must reject (RFC 2516 §7).
	ACFC struct{}
	// MRRU is the multilink Maximum-Received-Reconstructed-Unit (RFC 1990
	// §5.1.1).
	MRRU uint16
	// EndpointDiscriminator identifies the system for multilink (RFC
	// 1990 §5.1.3).
	EndpointDiscriminator struct {
		Class   uint8
		Address []byte
	}
)

// IPCP options.
type (
	// IPAddresses is the deprecated IP-Addresses option (RFC 1332 §3.1).
	IPAddresses struct{ Source, Destination netip.Addr }
	// IPCompression asks for a compression protocol, e.g. Van Jacobson
	// (0x002d with max-slot-id and comp-slot-id) (RFC 1332 §3.2).
	IPCompression struct {
		Protocol uint16
		Data     []byte
	}
	// IPAddress is the sender's address, 0.0.0.0 to ask for one (RFC 1332
	// §3.3).
	IPAddress netip.Addr
	// PrimaryDNS and the others are RFC 1877's name server options.
	PrimaryDNS    netip.Addr
	SecondaryDNS  netip.Addr
	PrimaryNBNS   netip.Addr
	SecondaryNBNS netip.Addr
)

// InterfaceID is IPv6CP's Interface-Identifier (RFC 5072 §4.1).
type InterfaceID [8]byte

// RawOption is an option kept as it came: of a type this package does not
// decode, or of a known type with the wrong length.
type RawOption struct {
	Protocol Protocol // whose option it is, for printing
	Kind     uint8
	Data     []byte
}

func (MRU) Type() uint8                   { return LCPOptMRU }
func (ACCM) Type() uint8                  { return LCPOptACCM }
func (AuthProtocol) Type() uint8          { return LCPOptAuthProtocol }
func (QualityProtocol) Type() uint8       { return LCPOptQuality }
func (MagicNumber) Type() uint8           { return LCPOptMagicNumber }
func (PFC) Type() uint8                   { return LCPOptPFC }
func (ACFC) Type() uint8                  { return LCPOptACFC }
func (MRRU) Type() uint8                  { return LCPOptMRRU }
func (EndpointDiscriminator) Type() uint8 { return LCPOptEndpointDiscr }
func (IPAddresses) Type() uint8           { return IPCPOptAddresses }
func (IPCompression) Type() uint8         { return IPCPOptCompression }
func (IPAddress) Type() uint8             { return IPCPOptAddress }
func (PrimaryDNS) Type() uint8            { return IPCPOptPrimaryDNS }
func (SecondaryDNS) Type() uint8          { return IPCPOptSecondaryDNS }
func (PrimaryNBNS) Type() uint8           { return IPCPOptPrimaryNBNS }
func (SecondaryNBNS) Type() uint8         { return IPCPOptSecondaryNBNS }
func (InterfaceID) Type() uint8           { return IPv6CPOptInterfaceID }
func (o RawOption) Type() uint8           { return o.Kind }

func (MRU) protocol() Protocol                   { return ProtoLCP }
func (ACCM) protocol() Protocol                  { return ProtoLCP }
func (AuthProtocol) protocol() Protocol          { return ProtoLCP }
func (QualityProtocol) protocol() Protocol       { return ProtoLCP }
func (MagicNumber) protocol() Protocol           { return ProtoLCP }
func (PFC) protocol() Protocol                   { return ProtoLCP }
func (ACFC) protocol() Protocol                  { return ProtoLCP }
func (MRRU) protocol() Protocol                  { return ProtoLCP }
func (EndpointDiscriminator) protocol() Protocol { return ProtoLCP }
func (IPAddresses) protocol() Protocol           { return ProtoIPCP }
func (IPCompression) protocol() Protocol         { return ProtoIPCP }
func (IPAddress) protocol() Protocol             { return ProtoIPCP }
func (PrimaryDNS) protocol() Protocol            { return ProtoIPCP }
func (SecondaryDNS) protocol() Protocol          { return ProtoIPCP }
func (PrimaryNBNS) protocol() Protocol           { return ProtoIPCP }
func (SecondaryNBNS) protocol() Protocol         { return ProtoIPCP }
func (InterfaceID) protocol() Protocol           { return ProtoIPv6CP }
func (o RawOption) protocol() Protocol           { return o.Protocol }

func u16(v uint16) []byte { return binary.BigEndian.AppendUint16(nil, v) }
func u32(v uint32) []byte { return binary.BigEndian.AppendUint32(nil, v) }

// addr4 is the 4 octets of an IPv4 address; anything else (the zero Addr
// included) encodes as 0.0.0.0.
func addr4(a netip.Addr) []byte {
	if a.Is4() || a.Is4In6() {
		b := a.Unmap().As4()
		return b[:]
	}
	return make([]byte, 4)
}

func (o MRU) value() []byte  { return u16(uint16(o)) }
func (o ACCM) value() []byte { return u32(uint32(o)) }
func (o AuthProtocol) value() []byte {
	b := u16(uint16(o.Protocol))
	if o.Protocol == ProtoCHAP {
		b = append(b, byte(o.Algorithm))
	}
	return append(b, o.Data...)
}
func (o QualityProtocol) value() []byte { return append(u16(uint16(o.Protocol)), o.Data...) }
func (o MagicNumber) value() []byte     { return u32(uint32(o)) }
func (PFC) value() []byte               { return nil }
func (ACFC) value() []byte              { return nil }
func (o MRRU) value() []byte            { return u16(uint16(o)) }
func (o EndpointDiscriminator) value() []byte {
	return append([]byte{o.Class}, o.Address...)
}
func (o IPAddresses) value() []byte {
	return append(addr4(o.Source), addr4(o.Destination)...)
}
func (o IPCompression) value() []byte { return append(u16(o.Protocol), o.Data...) }
func (o IPAddress) value() []byte     { return addr4(netip.Addr(o)) }
func (o PrimaryDNS) value() []byte    { return addr4(netip.Addr(o)) }
func (o SecondaryDNS) value() []byte  { return addr4(netip.Addr(o)) }
func (o PrimaryNBNS) value() []byte   { return addr4(netip.Addr(o)) }
func (o SecondaryNBNS) value() []byte { return addr4(netip.Addr(o)) }
func (o InterfaceID) value() []byte   { return o[:] }
func (o RawOption) value() []byte     { return o.Data }

func (o MRU) String() string                   { return formatOption(o) }
func (o ACCM) String() string                  { return formatOption(o) }
func (o AuthProtocol) String() string          { return formatOption(o) }
func (o QualityProtocol) String() string       { return formatOption(o) }
func (o MagicNumber) String() string           { return formatOption(o) }
func (o PFC) String() string                   { return formatOption(o) }
func (o ACFC) String() string                  { return formatOption(o) }
func (o MRRU) String() string                  { return formatOption(o) }
func (o EndpointDiscriminator) String() string { return formatOption(o) }
func (o IPAddresses) String() string           { return formatOption(o) }
func (o IPCompression) String() string         { return formatOption(o) }
func (o IPAddress) String() string             { return formatOption(o) }
func (o PrimaryDNS) String() string            { return formatOption(o) }
func (o SecondaryDNS) String() string          { return formatOption(o) }
func (o PrimaryNBNS) String() string           { return formatOption(o) }
func (o SecondaryNBNS) String() string         { return formatOption(o) }
func (o InterfaceID) String() string           { return formatOption(o) }
func (o RawOption) String() string             { return formatOption(o) }

// optionPrinters print one option of each protocol, as pppd does.
var optionPrinters = map[Protocol]optionPrinter{
	ProtoLCP:    printLCPOption,
	ProtoIPCP:   printIPCPOption,
	ProtoIPv6CP: printIPv6CPOption,
	ProtoCCP:    printCCPOption,
}

func formatOption(o Option) string {
	b := appendOption(nil, o)
	var w strings.Builder
	w.WriteString("<")
	n := 0
	if len(b) <= 0xff {
		if print, ok := optionPrinters[o.protocol()]; ok {
			n = print(&w, b)
		}
	}
	writeHexBytes(&w, b[n:])
	w.WriteString(">")
	return w.String()
}

// appendOption encodes o (Type, Length, data).
func appendOption(b []byte, o Option) []byte {
	v := o.value()
	return append(append(b, o.Type(), byte(2+len(v))), v...)
}

// AppendOptions encodes opts in order, as the data of a Configure packet.
func AppendOptions(b []byte, opts []Option) ([]byte, error) {
	for _, o := range opts {
		if n := 2 + len(o.value()); n > 0xff {
			return b, fmt.Errorf("ppp: %s option %d of %d octets: %w", o.protocol(), o.Type(), n, errTooLong)
		}
		b = appendOption(b, o)
	}
	return b, nil
}

// ParseOptions decodes the options of a Configure-Request, -Ack, -Nak or
// -Reject of proto, in order. An option whose Length is below 2 or runs past
// the data makes the whole packet invalid: RFC 1661 §6 has such packets
// silently discarded.
func ParseOptions(proto Protocol, data []byte) ([]Option, error) {
	var opts []Option
	for off := 0; off < len(data); {
		if len(data)-off < 2 {
			return nil, fmt.Errorf("ppp: %s option header truncated at offset %d: %w", proto, off, errOptionLength)
		}
		typ, n := data[off], int(data[off+1])
		if n < 2 {
			return nil, fmt.Errorf("ppp: %s option %d with length %d: %w", proto, typ, n, errOptionLength)
		}
		if n > len(data)-off {
			return nil, fmt.Errorf("ppp: %s option %d with length %d runs past the packet (%d octets left): %w", proto, typ, n, len(data)-off, errOptionLength)
		}
		opts = append(opts, parseOption(proto, typ, data[off+2:off+n]))
		off += n
	}
	return opts, nil
}

// parseOption builds the typed option, copying v; a known type with the
// wrong length stays raw.
func parseOption(proto Protocol, typ uint8, v []byte) Option {
	raw := RawOption{Protocol: proto, Kind: typ, Data: clone(v)}
	l := len(v)
	a4 := func() netip.Addr { return netip.AddrFrom4([4]byte(v[:4])) }
	switch proto {
	case ProtoLCP:
		switch typ {
		case LCPOptMRU:
			if l == 2 {
				return MRU(binary.BigEndian.Uint16(v))
			}
		case LCPOptACCM:
			if l == 4 {
				return ACCM(binary.BigEndian.Uint32(v))
			}
		case LCPOptAuthProtocol:
			if l < 2 {
				break
			}
			o := AuthProtocol{Protocol: Protocol(binary.BigEndian.Uint16(v))}
			rest := v[2:]
			if o.Protocol == ProtoCHAP {
				if len(rest) < 1 {
					break // CHAP needs its algorithm octet (RFC 1994 §3)
				}
				o.Algorithm, rest = CHAPAlgorithm(rest[0]), rest[1:]
			}
			o.Data = clone(rest)
			return o
		case LCPOptQuality:
			if l >= 2 {
				return QualityProtocol{Protocol: Protocol(binary.BigEndian.Uint16(v)), Data: clone(v[2:])}
			}
		case LCPOptMagicNumber:
			if l == 4 {
				return MagicNumber(binary.BigEndian.Uint32(v))
			}
		case LCPOptPFC:
			if l == 0 {
				return PFC{}
			}
		case LCPOptACFC:
			if l == 0 {
				return ACFC{}
			}
		case LCPOptMRRU:
			if l == 2 {
				return MRRU(binary.BigEndian.Uint16(v))
			}
		case LCPOptEndpointDiscr:
			if l >= 1 {
				return EndpointDiscriminator{Class: v[0], Address: clone(v[1:])}
			}
		}
	case ProtoIPCP:
		switch typ {
		case IPCPOptAddresses:
			if l == 8 {
				return IPAddresses{Source: a4(), Destination: netip.AddrFrom4([4]byte(v[4:8]))}
			}
		case IPCPOptCompression:
			if l >= 2 {
				return IPCompression{Protocol: binary.BigEndian.Uint16(v), Data: clone(v[2:])}
			}
		case IPCPOptAddress:
			if l == 4 {
				return IPAddress(a4())
			}
		case IPCPOptPrimaryDNS:
			if l == 4 {
				return PrimaryDNS(a4())
			}
		case IPCPOptSecondaryDNS:
			if l == 4 {
				return SecondaryDNS(a4())
			}
		case IPCPOptPrimaryNBNS:
			if l == 4 {
				return PrimaryNBNS(a4())
			}
		case IPCPOptSecondaryNBNS:
			if l == 4 {
				return SecondaryNBNS(a4())
			}
		}
	case ProtoIPv6CP:
		if typ == IPv6CPOptInterfaceID && l == 8 {
			return InterfaceID(v)
		}
	}
	return raw
}
