// Package loadgen emulates many PPPoE clients over one packet socket, as
// BNG Blaster does, so that an access concentrator, not its clients, is
// what a benchmark measures.
//
// Every client has its own locally administered unicast MAC address and
// no kernel session: discovery (PADI, PADO, PADR, PADS with doubling
// retransmission timeouts; Host-Uniq tells the clients' offers apart) and
// the PPP engine's client role (package ppp: LCP, PAP/CHAP/MS-CHAP, IPCP)
// both run in user space over the same raw socket, which one reader
// goroutine demultiplexes: discovery replies by destination MAC and
// Host-Uniq, session frames by destination MAC, AC MAC and session id.
// A session, once up, stays up (the engine answers the AC's echoes) until
// Stop ends it with an LCP Terminate-Request and a PADT, or the AC ends it.
//
// What a client costs: one goroutine, in discovery and then running its
// PPP session (the link is a ppp.FrameChannel: the session needs no
// reader goroutine); a few hundred bytes of state and two small queues.
//
// The generator records, per client, when its first PADI went out, when
// the PADS and IPv4 came, its address and why it failed; Result sums them
// up (all-up time from the first PADI to the last IPv4 up, the rate,
// failures by reason, unique addresses). It is test tooling: it lives in
// the integration tree and is imported only by benchmarks.
package loadgen
