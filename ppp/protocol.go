package ppp

import "fmt"

// Protocol is a PPP protocol number (the IANA "PPP DLL Protocol Numbers").
type Protocol uint16

// Protocols pppoed meets. Network-layer protocols are 0x0xxx-0x3xxx,
// their control protocols the same number plus 0x8000 (RFC 1661 §2).
const (
	ProtoIPv4   Protocol = 0x0021
	ProtoIPv6   Protocol = 0x0057
	ProtoCCPDat Protocol = 0x00fd // compressed datagram
	ProtoECPDat Protocol = 0x0053 // encrypted datagram
	ProtoIPCP   Protocol = 0x8021 // RFC 1332
	ProtoECP    Protocol = 0x8053 // RFC 1968
	ProtoIPv6CP Protocol = 0x8057 // RFC 5072
	ProtoCCP    Protocol = 0x80fd // RFC 1962
	ProtoLCP    Protocol = 0xc021 // RFC 1661
	ProtoPAP    Protocol = 0xc023 // RFC 1334
	ProtoLQR    Protocol = 0xc025 // RFC 1989
	ProtoCBCP   Protocol = 0xc029
	ProtoCHAP   Protocol = 0xc223 // RFC 1994
	ProtoEAP    Protocol = 0xc227 // RFC 3748
)

// Names as pppd prints them in its packet dumps (each protocol's protent).
var protoNames = map[Protocol]string{
	ProtoLCP: "LCP", ProtoPAP: "PAP", ProtoCHAP: "CHAP", ProtoIPCP: "IPCP",
	ProtoIPv6CP: "IPV6CP", ProtoCCP: "CCP", ProtoECP: "ECP", ProtoEAP: "EAP",
}

// Data names of the network protocols whose control protocol pppd knows,
// for "[IP data]"-style dumps.
var dataNames = map[Protocol]string{
	ProtoIPv4: "IP", ProtoIPv6: "IPV6", ProtoCCPDat: "Compressed", ProtoECPDat: "Encrypted",
}

// String names p as pppd does, or gives its number.
func (p Protocol) String() string {
	if n, ok := protoNames[p]; ok {
		return n
	}
	if n, ok := dataNames[p]; ok {
		return n
	}
	return fmt.Sprintf("proto=0x%x", uint16(p))
}

// IsControl reports whether p is a link or network control protocol or an
// authentication protocol: those pppoed handles; the kernel carries the rest.
func (p Protocol) IsControl() bool { return p >= 0x8000 }
