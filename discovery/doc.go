// Package discovery implements PPPoE's Discovery stage (RFC 2516 §5): the
// codec for PADI, PADO, PADR, PADS and PADT with every tag of RFC 2516
// appendix A and RFC 4638's PPP-Max-Payload, and both ends of the exchange,
// the client's and the access concentrator's, over a packet socket.
//
// Everything here comes from a network pppoed does not control: decoders
// check every length before they index, and return errors, never panic.
package discovery
