package discoverytest

import (
	"bytes"
	"errors"
	"net"
	"testing"
	"testing/synctest"

	"github.com/mdlayher/packet"
)

func to(mac net.HardwareAddr) net.Addr { return &packet.Addr{HardwareAddr: mac} }

// Unicast reaches its port only, broadcast every port but the sender's,
// and the receiver sees the sender's MAC.
func TestDelivery(t *testing.T) {
	seg := &Segment{}
	defer seg.Close()
	a, b, c := seg.Port("02:00:00:00:00:0a"), seg.Port("02:00:00:00:00:0b"), seg.Port("02:00:00:00:00:0c")
	tests := []struct {
		name string
		dst  string
		want []*Port
	}{
		{"unicast", "02:00:00:00:00:0b", []*Port{b}},
		{"broadcast", "ff:ff:ff:ff:ff:ff", []*Port{b, c}},
		{"nobody", "02:00:00:00:00:0f", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dst, _ := net.ParseMAC(tt.dst)
			if n, err := a.WriteTo([]byte(tt.name), to(dst)); n != len(tt.name) || err != nil {
				t.Fatalf("WriteTo = %d, %v", n, err)
			}
			for _, p := range []*Port{a, b, c} {
				got := len(p.in)
				want := 0
				for _, w := range tt.want {
					if w == p {
						want = 1
					}
				}
				if got != want {
					t.Fatalf("port %s has %d datagrams, want %d", p.MAC, got, want)
				}
				if got == 1 {
					m, from, err := p.Receive()
					if err != nil || string(m) != tt.name || from.String() != a.MAC.String() {
						t.Errorf("port %s: Receive = %q from %s, %v", p.MAC, m, from, err)
					}
				}
			}
		})
	}
}

// Drop loses what it chooses; a full queue loses the rest, as a NIC's
// ring would.
func TestLoss(t *testing.T) {
	seg := &Segment{}
	defer seg.Close()
	a, b := seg.Port("02:00:00:00:00:0a"), seg.Port("02:00:00:00:00:0b")
	a.Drop = func(m []byte, _ net.HardwareAddr) bool { return m[0] == 'x' }
	a.WriteTo([]byte("x"), to(b.MAC))
	if len(b.in) != 0 {
		t.Fatal("Drop did not drop")
	}
	a.Drop = nil
	for range cap(b.in) + 10 {
		a.WriteTo([]byte("y"), to(b.MAC))
	}
	if len(b.in) != cap(b.in) {
		t.Errorf("queue holds %d, want %d", len(b.in), cap(b.in))
	}
}

// Inject claims any source address and loses nothing: it waits for room.
func TestInject(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seg := &Segment{}
		defer seg.Close()
		p := seg.Port("02:00:00:00:00:0a")
		spoofed, _ := net.ParseMAC("02:00:00:00:00:99")
		n := cap(p.in) + 5
		done := make(chan error)
		go func() {
			for i := range n {
				if err := p.Inject([]byte{byte(i)}, spoofed); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		for i := range n {
			m, from, err := p.Receive()
			if err != nil || !bytes.Equal(m, []byte{byte(i)}) || from.String() != spoofed.String() {
				t.Fatalf("datagram %d: %x from %s, %v", i, m, from, err)
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		p.Close()
		if err := p.Inject([]byte{1}, spoofed); !errors.Is(err, ErrClosed) {
			t.Errorf("Inject on a closed port = %v", err)
		}
	})
}

// Close ends a ReadFrom that is waiting, as closing a packet socket does;
// without that, a reader goroutine would outlive its client.
func TestCloseUnblocksReadFrom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seg := &Segment{}
		p := seg.Port("02:00:00:00:00:0a")
		got := make(chan error, 1)
		go func() {
			_, _, err := p.ReadFrom(make([]byte, 10))
			got <- err
		}()
		synctest.Wait() // ReadFrom is blocked now
		select {
		case err := <-got:
			t.Fatalf("ReadFrom returned before Close: %v", err)
		default:
		}
		seg.Close()
		if err := <-got; !errors.Is(err, ErrClosed) {
			t.Errorf("ReadFrom after Close = %v", err)
		}
		if _, err := p.WriteTo([]byte{1}, to(p.MAC)); !errors.Is(err, ErrClosed) {
			t.Errorf("WriteTo after Close = %v", err)
		}
	})
}

// A closed port returns nothing it still had queued, every time (a select
// between a queued datagram and the close would pick either at random).
func TestClosedPortReturnsNothing(t *testing.T) {
	for range 100 {
		seg := &Segment{}
		a, b := seg.Port("02:00:00:00:00:0a"), seg.Port("02:00:00:00:00:0b")
		a.WriteTo([]byte("late"), to(b.MAC))
		b.Close()
		if _, _, err := b.ReadFrom(make([]byte, 10)); !errors.Is(err, ErrClosed) {
			t.Fatalf("ReadFrom on a closed port with a datagram queued = %v", err)
		}
		seg.Close()
	}
}
