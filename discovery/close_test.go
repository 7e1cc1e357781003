package discovery_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/discovery/discoverytest"
)

// slowConn is a socket whose ReadFrom, once the socket is closed, still
// takes until release to return, as a reader may be descheduled.
type slowConn struct {
	closed, release chan struct{}
	once            sync.Once
}

func (c *slowConn) ReadFrom([]byte) (int, net.Addr, error) {
	<-c.closed
	<-c.release
	return 0, nil, net.ErrClosed
}
func (c *slowConn) WriteTo(b []byte, _ net.Addr) (int, error) { return len(b), nil }
func (c *slowConn) Close() error                              { c.once.Do(func() { close(c.closed) }); return nil }

// Close returns only once the reader goroutine has ended, not merely
// after asking it to.
func TestCloseWaitsForReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		conn := &slowConn{closed: make(chan struct{}), release: make(chan struct{})}
		c := discovery.NewClient(conn, discovery.ClientConfig{})
		synctest.Wait() // the reader is in ReadFrom
		returned := make(chan struct{})
		go func() {
			c.Close()
			close(returned)
		}()
		synctest.Wait()
		select {
		case <-returned:
			t.Fatal("Close returned while its reader was still in ReadFrom")
		default:
		}
		close(conn.release)
		<-returned
		c.Close() // a second Close waits as well and does not block
	})
}

// The reader blocked handing a packet to a queue nobody reads (no
// Discover running) is ended by Close too.
func TestCloseEndsBlockedReader(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seg := &discoverytest.Segment{}
		defer seg.Close()
		port := seg.Port("02:00:00:00:00:01")
		c := discovery.NewClient(port, discovery.ClientConfig{HostUniq: []byte{1}})
		pado := mustMarshal(t, &discovery.Packet{Code: discovery.CodePADO, Tags: []discovery.Tag{discovery.HostUniq{1}}})
		for range 100 { // more than the client's queue holds
			if err := port.Inject(pado, c2mac("02:00:00:00:00:0a")); err != nil {
				t.Fatal(err)
			}
		}
		synctest.Wait()
		c.Close()
	})
}

// Whatever waits on a client when it is closed returns at once with an
// error saying so; so does what starts after.
func TestCloseEndsWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		seg := &discoverytest.Segment{}
		defer seg.Close()
		c := discovery.NewClient(seg.Port("02:00:00:00:00:01"), discovery.ClientConfig{})
		s := &discovery.Session{ID: 1, AC: c2mac("02:00:00:00:00:0a")}
		errs := make(chan error, 3)
		go func() { _, err := c.WaitPADT(context.Background(), s); errs <- err }()
		go func() { _, err := c.Discover(context.Background()); errs <- err }()
		go func() { _, err := c.Scan(context.Background(), time.Hour); errs <- err }()
		synctest.Wait()
		t0 := time.Now()
		c.Close()
		for range 3 {
			if err := <-errs; !errors.Is(err, net.ErrClosed) {
				t.Errorf("waiter returned %v, want net.ErrClosed", err)
			}
		}
		if time.Since(t0) != 0 {
			t.Errorf("waiters took %v to notice Close", time.Since(t0))
		}
		if _, err := c.Discover(context.Background()); err == nil {
			t.Error("Discover on a closed client succeeded")
		}
	})
}

func mustMarshal(t *testing.T, p *discovery.Packet) []byte {
	t.Helper()
	b, err := p.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return b
}
