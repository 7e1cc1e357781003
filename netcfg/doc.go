// Package netcfg configures a pppN interface over netlink once the network
// control protocols are up (MTU, point-to-point IPv4 addresses, IPv6
// link-local addresses, routes, DNS servers in resolv.conf form) and
// removes all of it again when the session ends, so nothing half-configured
// stays behind.
package netcfg
