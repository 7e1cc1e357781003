// Package pppox gives a PPPoE session to the kernel, as pppd's PPPoE plugin
// does: an AF_PPPOX/PX_PROTO_OE socket connected to the session, a /dev/ppp
// channel attached to it and a unit (pppN) connected to the channel, all
// through the PPPIOC* ioctls. Data packets then never enter the process;
// only control frames are read and written, on the channel (LCP and
// authentication) and unit (the NCPs) file descriptors.
//
// For dial on demand and a name that survives redials, a Unit is made on
// its own (OpenUnit) and each session's channel is attached to it in turn
// (Socket.ConnectUnit); while none is, the unit can loop what the host
// sends to it (SetLoopTraffic, ReadPacket), as pppd's demand mode does.
//
// The kernel side is Linux only (drivers/net/ppp/pppoe.c, ppp_generic.c).
package pppox
