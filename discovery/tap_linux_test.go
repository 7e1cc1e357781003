package discovery

import (
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/sys/unix"
)

// The tap's socket on the loopback interface: of the session packets
// sent there, Take returns the session's newest LCP Configure-Request
// (the kernel's filter, the interface, the packet type and tappedRequest
// together), without waiting.
// Needs root (a packet socket); skips without it.
func TestSessionTapLoopback(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root (packet sockets)")
	}
	lo, err := net.InterfaceByName("lo")
	if err != nil {
		t.Skipf("no loopback interface: %v", err)
	}
	tap, err := ListenSessionTap(lo)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EAFNOSUPPORT) {
			t.Skipf("no packet sockets here: %v", err)
		}
		t.Fatal(err)
	}
	defer tap.Close()
	out, err := packet.Listen(lo, packet.Datagram, EtherTypeSession, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	// The loopback interface's MAC is all zeros: it is the "AC" here.
	s := &Session{ID: 0x1234, AC: net.HardwareAddr(make([]byte, 6))}
	ack := tapConfReq()
	ack[8] = 2 // Configure-Ack: the filter drops it
	other := tapConfReq()
	other[3] = 0x99 // session 0x1299
	second := tapConfReq()
	second[9] = 2 // Identifier 2
	for _, b := range [][]byte{ack, tapConfReq(), other, second} {
		if _, err := out.WriteTo(b, &packet.Addr{HardwareAddr: s.AC}); err != nil {
			t.Fatal(err)
		}
	}
	// The four are queued before Take reads (loopback delivers each
	// frame on its own softirq: wait for the last).
	time.Sleep(200 * time.Millisecond)
	start := time.Now()
	got := tap.Take(s)
	if took := time.Since(start); took > time.Second {
		t.Fatalf("Take waited %v", took)
	}
	if len(got) < 2 || got[1] != 2 {
		t.Fatalf("took % x, want the session's newest request, Identifier 2", got)
	}
	if more := tap.Take(s); more != nil {
		t.Fatalf("took more: % x", more)
	}
	if err := tap.Close(); err != nil {
		t.Fatal(err)
	}
}
