// Package discovery implements PPPoE's Discovery stage (RFC 2516 §5): the
// codec for PADI, PADO, PADR, PADS and PADT with every tag of RFC 2516
// appendix A and RFC 4638's PPP-Max-Payload, and both ends of the exchange,
// the client's and the access concentrator's, over a packet socket.
//
// Everything here comes from a network pppoed does not control: Parse
// checks every length before it indexes and returns an error, never panics,
// for any input (see the fuzz targets). Tags it does not know are kept, in
// order, as RawTag values, so a packet re-encodes to the same octets.
//
// Packets print the way pppd's PPPoE plugin logs them with its debug option
// (pppd 2.4.9, plugins/rp-pppoe/common.c), so pppoed's logs read like pppd's:
//
//	PADO session 0x0 length 49 [AC-name lab-ac] [service-name isp] [AC-cookie  19 05 b9 c2] [host-uniq  73 00 00 00]
package discovery
