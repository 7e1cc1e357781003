package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/discovery/discoverytest"
	"github.com/pppoed/pppoed/internal/peerlog"
)

// station is the n-th source MAC of a flood.
func station(n int) net.HardwareAddr {
	return net.HardwareAddr{0x02, 0xee, 0, 0, byte(n >> 8), byte(n)}
}

// flood injects n copies of each packet at port, each from its own MAC,
// in a goroutine that ends when all are queued (or the port closes).
func flood(t *testing.T, port *discoverytest.Port, n int, from func(int) net.HardwareAddr, packets ...[]byte) {
	t.Helper()
	go func() {
		for i := range n {
			for _, b := range packets {
				if port.Inject(b, from(i)) != nil {
					return
				}
			}
		}
	}()
}

// Whatever other stations send, the complaints about it take at most
// peerlog's burst of lines at once, then one a second, the first of which
// says how many were held back; the counts stay exact.
func TestPeerLinesLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec, log := newRecorder(slog.LevelDebug)
		seg := &discoverytest.Segment{}
		defer seg.Close()
		port := seg.Port("02:00:00:00:00:01")
		hu := discovery.HostUniq{7}
		pado := func(tags ...discovery.Tag) []byte {
			return mustMarshal(t, &discovery.Packet{Code: discovery.CodePADO, Tags: append([]discovery.Tag{discovery.ACName("ac")}, tags...)})
		}
		const n = 100
		flood(t, port, n, station,
			[]byte{0x11, 0x07, 0, 0, 0, 9}, // malformed
			mustMarshal(t, &discovery.Packet{Code: discovery.CodePADS, SessionID: 5, Tags: []discovery.Tag{hu}}), // unexpected
			pado(discovery.HostUniq{8}),                  // another host's
			pado(hu, discovery.GenericError("busy")),     // an error
			pado(hu, discovery.ServiceName("elsewhere")), // not selected
		)
		flood(t, port, n, func(i int) net.HardwareAddr { return net.HardwareAddr{0x03, 0, 0, 0, byte(i >> 8), byte(i)} }, pado(hu)) // multicast source
		c := discovery.NewClient(port, discovery.ClientConfig{HostUniq: hu, ServiceName: "isp", Logger: log, Timeout: time.Second, Attempts: 1})
		defer c.Close()
		if _, err := c.Discover(context.Background()); !errors.Is(err, discovery.ErrNoOffer) {
			t.Fatalf("Discover = %v", err)
		}
		want := discovery.Stats{Malformed: n, Unexpected: n, WrongHostUniq: n, WrongMAC: n, NotSelected: n, ACErrors: n}
		if st := c.Stats(); st != want {
			t.Errorf("stats %+v, want %+v", st, want)
		}
		if got := rec.count("discovery: ignored"); got != peerlog.DefaultBurst {
			t.Errorf("%d lines about ignored packets, want the burst of %d", got, peerlog.DefaultBurst)
		}
		// A second later, one more line, saying how many were held back.
		time.Sleep(peerlog.DefaultEvery)
		port.Inject([]byte{0x11}, station(0))
		synctest.Wait()
		if got := rec.count("discovery: ignored"); got != peerlog.DefaultBurst+1 {
			t.Errorf("%d lines about ignored packets, want %d", got, peerlog.DefaultBurst+1)
		}
		if got := rec.suppressed("discovery: ignored"); got != 6*n-peerlog.DefaultBurst {
			t.Errorf("suppressed=%d, want %d", got, 6*n-peerlog.DefaultBurst)
		}
	})
}

// Received packets are dumped at debug level within a bound of their own:
// a generous burst, so that a scan of hundreds of ACs is dumped whole, but
// a bound, since any station can send them.
func TestDumpsLimited(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		rec, log := newRecorder(slog.LevelDebug)
		seg := &discoverytest.Segment{}
		defer seg.Close()
		port := seg.Port("02:00:00:00:00:01")
		hu := discovery.HostUniq{7}
		c := discovery.NewClient(port, discovery.ClientConfig{HostUniq: hu, Logger: log})
		defer c.Close()
		offers := func(n int) {
			for i := range n {
				b := mustMarshal(t, &discovery.Packet{Code: discovery.CodePADO, Tags: []discovery.Tag{discovery.ACName(fmt.Sprint("ac", i)), hu}})
				flood(t, port, 1, func(int) net.HardwareAddr { return station(i) }, b)
			}
		}
		offers(256) // a big segment: every PADO is shown
		if got, err := c.Scan(context.Background(), time.Second); len(got) != 256 || err != nil {
			t.Fatalf("Scan = %d offers, %v", len(got), err)
		}
		if n := rec.count("rcvd PADO"); n != 256 {
			t.Errorf("%d PADOs dumped, want all 256", n)
		}
		offers(2000) // a flood: bounded
		c.Scan(context.Background(), time.Second)
		if n := rec.count("rcvd PADO"); n >= 1000 {
			t.Errorf("%d PADOs dumped: the flood reached the log", n)
		}
		if n := rec.count("sent PADI"); n != 2 {
			t.Errorf("%d PADIs dumped, want 2: our own packets are always shown", n)
		}
	})
}
