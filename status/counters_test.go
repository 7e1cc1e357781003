package status

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"golang.org/x/sys/unix"
)

// The golden vectors are the kernel's, in its byte order: these tests
// run where it is little-endian.
func littleEndian(t testing.TB) {
	if binary.NativeEndian.Uint16([]byte{1, 0}) != 1 {
		t.Skip("the golden vectors are little-endian")
	}
}

func TestGetLinkRequest(t *testing.T) {
	littleEndian(t)
	want := []byte{
		0x2c, 0x00, 0x00, 0x00, // nlmsg_len: 44
		0x12, 0x00, // nlmsg_type: RTM_GETLINK (18)
		0x01, 0x00, // nlmsg_flags: NLM_F_REQUEST
		0x07, 0x00, 0x00, 0x00, // nlmsg_seq: 7
		0x00, 0x00, 0x00, 0x00, // nlmsg_pid: the kernel's
		0x00, 0x00, // ifi_family AF_UNSPEC, padding
		0x00, 0x00, // ifi_type
		0x00, 0x00, 0x00, 0x00, // ifi_index: 0, the name says which
		0x00, 0x00, 0x00, 0x00, // ifi_flags
		0x00, 0x00, 0x00, 0x00, // ifi_change
		0x09, 0x00, // rta_len: 4 + "ppp0" + NUL
		0x03, 0x00, // rta_type: IFLA_IFNAME
		'p', 'p', 'p', '0', 0x00, // the name, NUL-terminated
		0x00, 0x00, 0x00, // padding to 4
	}
	if got := getLinkRequest("ppp0", 7); !bytes.Equal(got, want) {
		t.Errorf("getLinkRequest:\n got % x\nwant % x", got, want)
	}
}

// newLinkReply is an RTM_NEWLINK answer to request seq carrying attrs.
func newLinkReply(seq uint32, typ uint16, attrs ...[]byte) []byte {
	b := binary.NativeEndian.AppendUint32(nil, 0) // nlmsg_len, below
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = binary.NativeEndian.AppendUint16(b, 0)   // nlmsg_flags
	b = binary.NativeEndian.AppendUint32(b, seq) // nlmsg_seq
	b = binary.NativeEndian.AppendUint32(b, 0)   // nlmsg_pid
	b = append(b, make([]byte, ifInfoMsgLen)...)
	for _, a := range attrs {
		b = append(b, a...)
	}
	binary.NativeEndian.PutUint32(b, uint32(len(b)))
	return b
}

// trim cuts a message to n octets, its nlmsg_len with it.
func trim(b []byte, n int) []byte {
	b = b[:n]
	binary.NativeEndian.PutUint32(b, uint32(n))
	return b
}

func attr(typ uint16, v []byte) []byte {
	b := binary.NativeEndian.AppendUint16(nil, uint16(rtAttrHdrLen+len(v)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	b = append(b, v...)
	return append(b, make([]byte, rtaAlign(len(b))-len(b))...)
}

// stats64 is an rtnl_link_stats64 with its first four counters set, and
// the rest of its fields (20 more __u64 in 6.1) zero.
func stats64(rxPackets, txPackets, rxBytes, txBytes uint64) []byte {
	b := make([]byte, 24*8)
	for i, v := range []uint64{rxPackets, txPackets, rxBytes, txBytes} {
		binary.NativeEndian.PutUint64(b[8*i:], v)
	}
	return b
}

func errorReply(seq uint32, errno int32) []byte {
	b := binary.NativeEndian.AppendUint32(nil, nlmsgHdrLen+4+nlmsgHdrLen)
	b = binary.NativeEndian.AppendUint16(b, unix.NLMSG_ERROR)
	b = binary.NativeEndian.AppendUint16(b, 0)
	b = binary.NativeEndian.AppendUint32(b, seq)
	b = binary.NativeEndian.AppendUint32(b, 0)
	b = binary.NativeEndian.AppendUint32(b, uint32(-errno)) // error: -errno
	return append(b, getLinkRequest("ppp9", seq)[:nlmsgHdrLen]...)
}

func TestParseLinkStats(t *testing.T) {
	littleEndian(t)
	name := attr(unix.IFLA_IFNAME, []byte("ppp0\x00")) // 9 octets, padded to 12
	stats := attr(unix.IFLA_STATS64, stats64(10, 20, 1000, 2000))
	want := &Counters{RxPackets: 10, TxPackets: 20, RxBytes: 1000, TxBytes: 2000}
	// A message that claims more than was read, or less than its header.
	long := newLinkReply(5, unix.RTM_NEWLINK, name, stats)
	binary.NativeEndian.PutUint32(long, uint32(len(long)+1))
	short := newLinkReply(5, unix.RTM_NEWLINK, name, stats)
	binary.NativeEndian.PutUint32(short, nlmsgHdrLen-1)
	tests := []struct {
		name  string
		b     []byte
		want  *Counters
		errIs error // when want is nil: the error, if one in particular
	}{
		{"stats after the name", newLinkReply(5, unix.RTM_NEWLINK, name, stats), want, nil},
		{"stats first", newLinkReply(5, unix.RTM_NEWLINK, stats, name), want, nil},
		{"nested flag set", newLinkReply(5, unix.RTM_NEWLINK, attr(unix.IFLA_STATS64|unix.NLA_F_NESTED, stats64(10, 20, 1000, 2000))), want, nil},
		{"no such interface", errorReply(5, int32(unix.ENODEV)), nil, unix.ENODEV},
		{"error 0 (an ack)", errorReply(5, 0), nil, errAck},
		{"error too short", trim(errorReply(5, int32(unix.ENODEV)), nlmsgHdrLen+3), nil, nil},
		{"another request's answer", newLinkReply(6, unix.RTM_NEWLINK, stats), nil, nil},
		{"not RTM_NEWLINK", newLinkReply(5, unix.RTM_NEWADDR, stats), nil, nil},
		{"shorter than a header", newLinkReply(5, unix.RTM_NEWLINK)[:nlmsgHdrLen-1], nil, nil},
		{"three octets", []byte{0x10, 0x00, 0x00}, nil, nil},
		{"longer than read", long, nil, nil},
		{"shorter than its header", short, nil, nil},
		{"no ifinfomsg", trim(newLinkReply(5, unix.RTM_NEWLINK), nlmsgHdrLen+ifInfoMsgLen-1), nil, nil},
		{"no stats", newLinkReply(5, unix.RTM_NEWLINK, name), nil, errNoStats},
		{"stats cut short", newLinkReply(5, unix.RTM_NEWLINK, attr(unix.IFLA_STATS64, make([]byte, stats64Len-1))), nil, nil},
		{"attribute of 0 octets", newLinkReply(5, unix.RTM_NEWLINK, []byte{0, 0, unix.IFLA_STATS64, 0}), nil, nil},
		{"attribute shorter than its header", newLinkReply(5, unix.RTM_NEWLINK, []byte{3, 0, unix.IFLA_STATS64, 0}), nil, nil},
		{"unpadded last attribute", newLinkReply(5, unix.RTM_NEWLINK, attr(unix.IFLA_IFNAME, []byte("ppp0\x00"))[:9]), nil, errNoStats},
		{"attribute past the end", newLinkReply(5, unix.RTM_NEWLINK, name, attr(unix.IFLA_STATS64, stats64(1, 2, 3, 4))[:20]), nil, nil},
	}
	// The message's own length must be used, not the buffer's: a
	// truncated length ending before the stats hides them.
	cut := newLinkReply(5, unix.RTM_NEWLINK, name, stats)
	binary.NativeEndian.PutUint32(cut, uint32(nlmsgHdrLen+ifInfoMsgLen+len(name)))
	tests = append(tests, struct {
		name  string
		b     []byte
		want  *Counters
		errIs error
	}{"stats past the message's length", cut, nil, errNoStats})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseLinkStats(tt.b, 5)
			if tt.want != nil {
				if err != nil || *got != *tt.want {
					t.Fatalf("parseLinkStats = %+v, %v; want %+v", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("parseLinkStats = %+v, want an error", got)
			}
			if tt.errIs != nil && !errors.Is(err, tt.errIs) {
				t.Errorf("error %v, want %v", err, tt.errIs)
			}
		})
	}
}

// The kernel's own answer, for the loopback interface every namespace
// has; a name it does not know is ENODEV.
func TestReadCountersKernel(t *testing.T) {
	c, err := ReadCounters("lo")
	if err != nil {
		t.Fatalf("ReadCounters(lo): %v", err)
	}
	if c.RxBytes != c.TxBytes || c.RxPackets != c.TxPackets {
		// What lo sends it receives; another test's traffic between
		// the kernel's two reads of them is rare but possible.
		t.Logf("lo: %+v (rx and tx differ)", c)
	}
	if _, err := ReadCounters("nosuchif0"); !errors.Is(err, unix.ENODEV) {
		t.Errorf("ReadCounters(nosuchif0): %v, want ENODEV", err)
	}
	for _, bad := range []string{"", "sixteen-octets-0"} {
		if _, err := ReadCounters(bad); err == nil {
			t.Errorf("ReadCounters(%q) succeeded", bad)
		}
	}
}

func FuzzParseLinkStats(f *testing.F) {
	f.Add(newLinkReply(5, unix.RTM_NEWLINK, attr(unix.IFLA_IFNAME, []byte("ppp0\x00")), attr(unix.IFLA_STATS64, stats64(1, 2, 3, 4))))
	f.Add(errorReply(5, int32(unix.ENODEV)))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseLinkStats(b, 5)
		if (c == nil) == (err == nil) {
			t.Fatalf("parseLinkStats = %v, %v: want one of them", c, err)
		}
	})
}
