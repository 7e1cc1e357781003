// Package ppp is pppoed's PPP control plane: control packets (RFC 1661 §5),
// the option negotiation automaton (RFC 1661 §4), LCP (RFC 1661),
// authentication with PAP (RFC 1334), CHAP-MD5 (RFC 1994), MS-CHAPv1
// (RFC 2433) and MS-CHAPv2 (RFC 2759), and the network control protocols
// IPCP (RFC 1332, with RFC 1877's DNS options) and IPv6CP (RFC 5072), in
// both the client's and the authenticator's role.
//
// pppd's fsm.c and lcp.c are the behavioural reference for negotiation.
package ppp
