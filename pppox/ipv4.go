package pppox

import (
	"encoding/binary"
	"net/netip"
)

// RewriteIPv4Source gives an IPv4 packet held while dialling the address
// IPCP assigned: its source from (the placeholder the interface had while
// waiting) becomes to, and the IPv4 header checksum and the checksum of
// the transport protocols whose pseudo-header holds the source (TCP, UDP,
// UDP-Lite, DCCP) are updated in place, incrementally (RFC 1624 eqn. 3),
// as pppd's demand_rexmit(proto, newip) does. It reports false, leaving
// pkt as it was, for a packet to drop: one that is not IPv4 from `from`,
// is malformed, or is a first fragment too short to hold its checksum.
// A UDP checksum of zero (none, RFC 768) stays zero; one that the update
// makes zero is sent as 0xffff (RFC 768). Non-first fragments only get
// the header's update: the transport checksum is in the first one.
func RewriteIPv4Source(pkt []byte, from, to netip.Addr) bool {
	if !from.Is4() || !to.Is4() {
		return false
	}
	// RFC 791 §3.1: version, IHL in 32-bit words (at least 5), total length.
	if len(pkt) < 20 || pkt[0]>>4 != 4 {
		return false
	}
	ihl := int(pkt[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(pkt[2:4]))
	if ihl < 20 || total < ihl || total > len(pkt) {
		return false
	}
	old := [4]byte(pkt[12:16])
	if netip.AddrFrom4(old) != from {
		return false
	}
	if from == to {
		return true // an update by zero could still turn a checksum's 0xffff into 0
	}
	repl := to.As4()
	// The transport checksum first: until it is known to fit, pkt is
	// untouched.
	if off := binary.BigEndian.Uint16(pkt[6:8]) & 0x1fff; off == 0 {
		proto := pkt[9]
		at := -1
		switch proto {
		case 6: // TCP: checksum at octet 16 (RFC 9293 §3.1)
			at = 16
		case 17, 33, 136: // UDP (RFC 768), DCCP (RFC 4340 §5.1), UDP-Lite (RFC 3828 §3.1): at octet 6
			at = 6
		}
		if at >= 0 {
			p := ihl + at
			if p+2 > total {
				return false
			}
			c := binary.BigEndian.Uint16(pkt[p:])
			if proto != 17 || c != 0 {
				c = checksumUpdate(c, old, repl)
				if proto == 17 && c == 0 {
					c = 0xffff
				}
				binary.BigEndian.PutUint16(pkt[p:], c)
			}
		}
	}
	binary.BigEndian.PutUint16(pkt[10:12], checksumUpdate(binary.BigEndian.Uint16(pkt[10:12]), old, repl))
	copy(pkt[12:16], repl[:])
	return true
}

// checksumUpdate is RFC 1624 eqn. 3, HC' = ~(~HC + ~m + m'), over the two
// 16-bit words of an address, in ones' complement arithmetic (end-around
// carry).
func checksumUpdate(hc uint16, old, repl [4]byte) uint16 {
	sum := uint32(^hc)
	for i := 0; i < 4; i += 2 {
		sum += uint32(^binary.BigEndian.Uint16(old[i:]))
		sum += uint32(binary.BigEndian.Uint16(repl[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
