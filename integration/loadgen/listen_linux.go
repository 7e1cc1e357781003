package loadgen

import (
	"errors"
	"fmt"
	"net"

	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"
)

// Linux's classic BPF ancillary load of the packet type (linux/filter.h:
// SKF_AD_OFF + SKF_AD_PKTTYPE); x/sys/unix does not name it.
// (SKF_AD_OFF is -0x1000, as the uint32 the instruction's K holds.)
const (
	skfADOff     = 0xfffff000
	skfADPktType = 4
)

// filter passes PPPoE frames (discovery and session) that came in, not
// the host's own on their way out, which an ETH_P_ALL socket also sees:
//
//	0: ldh [12]                    EtherType
//	1: jeq #0x8863, 3, 2
//	2: jeq #0x8864, 3, 6
//	3: ldb [pkttype]
//	4: jeq #PACKET_OUTGOING, 6, 5
//	5: ret #262144                 the whole frame
//	6: ret #0                      dropped
var filter = []unix.SockFilter{
	{Code: unix.BPF_LD | unix.BPF_H | unix.BPF_ABS, K: 12},
	{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 1, Jf: 0, K: 0x8863},
	{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 3, K: 0x8864},
	{Code: unix.BPF_LD | unix.BPF_B | unix.BPF_ABS, K: skfADOff + skfADPktType},
	{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 1, Jf: 0, K: unix.PACKET_OUTGOING},
	{Code: unix.BPF_RET | unix.BPF_K, K: 1 << 18},
	{Code: unix.BPF_RET | unix.BPF_K, K: 0},
}

// socketBuffer is the receive buffer asked for: N clients' replies may
// arrive together (2000 PADOs of about 1 KiB of kernel memory each).
const socketBuffer = 8 << 20

// Listen opens the generator's socket on the interface ifname: one raw
// packet socket for both PPPoE EtherTypes (ETH_P_ALL narrowed by a BPF
// filter), with a large receive buffer, in promiscuous mode. The clients'
// MACs are not the interface's: a NIC filters unicast frames to other
// MACs unless promiscuous (a veth delivers them to packet sockets anyway,
// as PACKET_OTHERHOST). The mode is a membership of the socket: the
// kernel drops it when the socket closes.
func Listen(ifname string) (*packet.Conn, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, fmt.Errorf("loadgen: %w", err)
	}
	c, err := packet.Listen(ifi, packet.Raw, unix.ETH_P_ALL, nil)
	if err != nil {
		return nil, fmt.Errorf("loadgen: packet socket on %s: %w", ifname, err)
	}
	if err := configure(c); err != nil {
		c.Close()
		return nil, fmt.Errorf("loadgen: packet socket on %s: %w", ifname, err)
	}
	return c, nil
}

func configure(c *packet.Conn) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = rc.Control(func(fd uintptr) {
		prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
		if err := unix.SetsockoptSockFprog(int(fd), unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &prog); err != nil {
			serr = fmt.Errorf("BPF filter: %w", err)
			return
		}
		// FORCE passes rmem_max (root); the plain option is capped by it.
		if err := unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, socketBuffer); err != nil {
			_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, socketBuffer)
		}
	})
	if err = errors.Join(err, serr); err != nil {
		return err
	}
	if err := c.SetPromiscuous(true); err != nil {
		return fmt.Errorf("promiscuous mode: %w", err)
	}
	return nil
}
