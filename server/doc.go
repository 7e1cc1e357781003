// Package server is pppoed's access concentrator, `pppoed server` (RFC 2516
// Discovery, RFC 1661 LCP and the authenticator's side of RFC 1334 PAP, RFC
// 1994 CHAP, RFC 2433/2759 MS-CHAP, RFC 1332 IPCP, RFC 5072 IPv6CP, on the
// kernel's data path). Server is described in server.go. Its building
// blocks are Discovery's (RFC 2516 §5), each stateless or bounded so that a
// station flooding PADIs from random MACs cannot make the AC store anything
// per packet, and the address pools IPCP hands out from:
//
//   - CookieJar mints and checks the AC-Cookie (RFC 2516 §5.2 and the
//     AC-Cookie tag of appendix A): an HMAC over the client's MAC, a time
//     window and a count (each PADO's cookie is its own), so a PADO costs
//     no state and a PADR without a cookie minted for its source MAC within
//     the last two windows gets nothing (§5.3).
//   - SessionIDs allocates the SESSION_ID of a PADS (§4, §5.4): random,
//     unique among an interface's live sessions, never 0 (the Discovery
//     stage's own) nor 0xFFFF (reserved).
//   - PADILimiter is a global and a per-MAC token bucket over PADIs (§5.1),
//     its table of MACs bounded.
//   - Pool hands out a profile's IPv4 addresses (IPCP's IP-Address, RFC 1332
//     §3.3) as ppp.AddressPool: RouterOS ip pool ranges, least recently
//     released first, a peer's previous address back when it is free.
//
// All four are safe for concurrent use.
package server
