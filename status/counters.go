package status

import (
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// ReadCounters reads the kernel's traffic counters of the interface
// ifname (rtnl_link_stats64 from an RTM_GETLINK), for Server.SetCounters.
//
// It asks rtnetlink itself, for one message into a buffer of its size:
// a status request, a metrics scrape and the AC's status (once per
// session) call it, and vishvananda/netlink's LinkByName, which it
// replaces, put a 64 KiB receive buffer on the caller's stack (a status
// request's goroutine grew to 128 KiB for it) and decoded every attribute
// of the link: about 5 KiB of garbage a call, most of a client's garbage
// while up.
func ReadCounters(ifname string) (*Counters, error) {
	if ifname == "" || len(ifname) >= unix.IFNAMSIZ {
		return nil, fmt.Errorf("status: %q is not an interface name", ifname)
	}
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("status: netlink: %w", err)
	}
	defer unix.Close(fd)
	// The kernel answers within sendto; the timeout only bounds a
	// receive that should never wait.
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &unix.Timeval{Sec: 1}); err != nil {
		return nil, fmt.Errorf("status: netlink: %w", err)
	}
	seq := linkSeq.Add(1)
	if err := unix.Sendto(fd, getLinkRequest(ifname, seq), 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("status: %s: netlink: %w", ifname, err)
	}
	// MSG_PEEK|MSG_TRUNC: the reply's length, for a buffer that fits it.
	n, _, err := unix.Recvfrom(fd, nil, unix.MSG_PEEK|unix.MSG_TRUNC)
	if err != nil {
		return nil, fmt.Errorf("status: %s: netlink: %w", ifname, err)
	}
	b := make([]byte, n)
	if n, _, err = unix.Recvfrom(fd, b, 0); err != nil {
		return nil, fmt.Errorf("status: %s: netlink: %w", ifname, err)
	}
	c, err := parseLinkStats(b[:n], seq)
	if err != nil {
		return nil, fmt.Errorf("status: %s: %w", ifname, err)
	}
	return c, nil
}

// linkSeq numbers ReadCounters' requests.
var linkSeq atomic.Uint32

// Sizes and offsets of <linux/netlink.h> and <linux/rtnetlink.h>.
const (
	nlmsgHdrLen  = unix.SizeofNlMsghdr  // 16
	ifInfoMsgLen = unix.SizeofIfInfomsg // 16
	rtAttrHdrLen = unix.SizeofRtAttr    // 4
	// rtnl_link_stats64 begins rx_packets, tx_packets, rx_bytes,
	// tx_bytes, each a __u64.
	stats64Len = 4 * 8
	// nlaTypeMask leaves NLA_F_NESTED and NLA_F_NET_BYTEORDER out of an
	// attribute's type (NLA_TYPE_MASK).
	nlaTypeMask = 0x3fff
)

// getLinkRequest is an RTM_GETLINK for the link named ifname: an
// nlmsghdr, an ifinfomsg with no index, and IFLA_IFNAME.
func getLinkRequest(ifname string, seq uint32) []byte {
	attrLen := rtAttrHdrLen + len(ifname) + 1 // the name NUL-terminated
	total := nlmsgHdrLen + ifInfoMsgLen + rtaAlign(attrLen)
	b := make([]byte, total)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(total))      // nlmsg_len
	ne.PutUint16(b[4:], unix.RTM_GETLINK)   // nlmsg_type
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST) // nlmsg_flags
	ne.PutUint32(b[8:], seq)                // nlmsg_seq
	b[nlmsgHdrLen] = unix.AF_UNSPEC         // ifi_family; the rest 0
	a := b[nlmsgHdrLen+ifInfoMsgLen:]       // the attribute
	ne.PutUint16(a[0:], uint16(attrLen))    // rta_len
	ne.PutUint16(a[2:], unix.IFLA_IFNAME)   // rta_type
	copy(a[rtAttrHdrLen:], ifname)          // then NUL and padding
	return b
}

func rtaAlign(n int) int { return (n + unix.RTA_ALIGNTO - 1) &^ (unix.RTA_ALIGNTO - 1) }

var (
	errNoStats = errors.New("the kernel gave no counters")
	errAck     = errors.New("netlink: an acknowledgement, not the link")
)

// parseLinkStats takes the counters from the kernel's answer to
// getLinkRequest: one RTM_NEWLINK whose IFLA_STATS64 it reads, or an
// NLMSG_ERROR whose errno it returns (ENODEV: no such interface). Every
// length is checked before it is used.
func parseLinkStats(b []byte, seq uint32) (*Counters, error) {
	ne := binary.NativeEndian
	if len(b) < nlmsgHdrLen {
		return nil, fmt.Errorf("netlink: a reply of %d octets", len(b))
	}
	l := int(ne.Uint32(b[0:]))
	if l < nlmsgHdrLen || l > len(b) {
		return nil, fmt.Errorf("netlink: a message of %d octets in %d", l, len(b))
	}
	if got := ne.Uint32(b[8:]); got != seq {
		return nil, fmt.Errorf("netlink: the answer to request %d, not %d", got, seq)
	}
	body := b[nlmsgHdrLen:l]
	switch typ := ne.Uint16(b[4:]); typ {
	case unix.NLMSG_ERROR:
		if len(body) < 4 {
			return nil, errors.New("netlink: a short error message")
		}
		if errno := -int32(ne.Uint32(body)); errno > 0 {
			return nil, unix.Errno(errno)
		}
		return nil, errAck
	case unix.RTM_NEWLINK:
	default:
		return nil, fmt.Errorf("netlink: a message of type %d, not RTM_NEWLINK", typ)
	}
	if len(body) < ifInfoMsgLen {
		return nil, errors.New("netlink: RTM_NEWLINK without its ifinfomsg")
	}
	for attrs := body[ifInfoMsgLen:]; len(attrs) >= rtAttrHdrLen; {
		al := int(ne.Uint16(attrs[0:]))
		if al < rtAttrHdrLen || al > len(attrs) {
			return nil, fmt.Errorf("netlink: an attribute of %d octets in %d", al, len(attrs))
		}
		if ne.Uint16(attrs[2:])&nlaTypeMask == unix.IFLA_STATS64 {
			v := attrs[rtAttrHdrLen:al]
			if len(v) < stats64Len {
				return nil, fmt.Errorf("netlink: IFLA_STATS64 of %d octets", len(v))
			}
			return &Counters{RxPackets: ne.Uint64(v[0:]), TxPackets: ne.Uint64(v[8:]), RxBytes: ne.Uint64(v[16:]), TxBytes: ne.Uint64(v[24:])}, nil
		}
		attrs = attrs[min(rtaAlign(al), len(attrs)):]
	}
	return nil, errNoStats
}
