package discovery

import (
	"errors"
	"fmt"
	"net"

	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"
)

// SessionTap holds, from its opening, the LCP Configure-Requests that
// reach the interface in session packets (see tap.go for why). Open it
// before the PADR; Take once the session's PPPoE socket is connected;
// then Close it.
type SessionTap struct {
	conn    *packet.Conn
	ifindex int
}

// ListenSessionTap opens the tap on ifi. The filter is attached before
// the socket is bound, so nothing else is ever queued on it.
func ListenSessionTap(ifi *net.Interface) (*SessionTap, error) {
	c, err := packet.Listen(ifi, packet.Datagram, EtherTypeSession, &packet.Config{Filter: tapFilter})
	if err != nil {
		return nil, fmt.Errorf("discovery: session tap on %s: %w", ifi.Name, err)
	}
	return &SessionTap{conn: c, ifindex: ifi.Index}, nil
}

// Take returns the newest LCP Configure-Request for s that the tap holds
// (from its Code on), nil if none, without waiting for more. Call it just
// before the session's socket is connected (see tap.go).
func (t *SessionTap) Take(s *Session) []byte {
	rc, err := t.conn.SyscallConn()
	if err != nil {
		return nil
	}
	var out []byte
	_ = rc.Read(func(fd uintptr) bool {
		out = takeFrom(func(b []byte) (int, net.HardwareAddr, error) {
			n, sa, err := unix.Recvfrom(int(fd), b, unix.MSG_DONTWAIT)
			if err != nil {
				return 0, nil, err
			}
			ll, ok := sa.(*unix.SockaddrLinklayer)
			// As the kernel's pppoe_rcv: a frame of this interface
			// (not one handed to a macvlan on it), and for this host
			// (not one a promiscuous interface overheard).
			if !ok || ll.Halen != 6 || ll.Ifindex != t.ifindex || ll.Pkttype != unix.PACKET_HOST {
				return n, nil, nil // tappedRequest refuses it
			}
			return n, net.HardwareAddr(ll.Addr[:6]), nil
		}, s)
		return true // done, whatever was there: never wait
	})
	return out
}

// Close closes the tap's socket.
func (t *SessionTap) Close() error {
	if err := t.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("discovery: closing the session tap: %w", err)
	}
	return nil
}
