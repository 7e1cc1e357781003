package ppptest_test

import (
	"bytes"
	"errors"
	"io"
	"net/netip"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// What one end writes, the other reads, in order, as a copy.
func TestPipeCarriesFrames(t *testing.T) {
	a, b := ppptest.Pipe(ppptest.Config{})
	defer a.Close()
	frames := []struct {
		proto ppp.Protocol
		b     []byte
	}{{ppp.ProtoLCP, []byte{9, 1, 0, 8, 0, 0, 0, 0}}, {ppp.ProtoIPCP, []byte{1, 2, 0, 4}}}
	for _, f := range frames {
		buf := append([]byte(nil), f.b...)
		if err := a.WriteFrame(f.proto, buf); err != nil {
			t.Fatal(err)
		}
		buf[0] = 0xff // the pipe keeps its own copy
	}
	for _, f := range frames {
		proto, got, err := b.ReadFrame()
		if err != nil || proto != f.proto || !bytes.Equal(got, f.b) {
			t.Errorf("ReadFrame = %v % x %v, want %v % x", proto, got, err, f.proto, f.b)
		}
	}
	if err := b.Send(ppp.ProtoLCP, ppp.CodeTermReq, 3, []byte("bye")); err != nil {
		t.Fatal(err)
	}
	if p, err := a.Receive(); err != nil || p.Code != ppp.CodeTermReq || p.ID != 3 || string(p.Data) != "bye" {
		t.Errorf("Receive = %+v, %v", p, err)
	}
}

// Closing either end hangs up both: blocked and later reads see EOF,
// writes fail.
func TestPipeClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		read := make(chan error, 1)
		go func() {
			_, _, err := a.ReadFrame()
			read <- err
		}()
		synctest.Wait()
		b.Close()
		if err := <-read; err != io.EOF {
			t.Errorf("blocked ReadFrame = %v, want EOF", err)
		}
		if _, _, err := b.ReadFrame(); err != io.EOF {
			t.Errorf("ReadFrame after Close = %v, want EOF", err)
		}
		if err := a.WriteFrame(ppp.ProtoLCP, nil); !errors.Is(err, ppptest.ErrClosed) {
			t.Errorf("WriteFrame after Close = %v", err)
		}
		a.Close() // twice is fine
	})
}

// Loss, duplication, delay and the tap, as configured.
func TestPipeShaping(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var tapped, lost int
		a, b := ppptest.Pipe(ppptest.Config{
			Duplicate: 1, Delay: time.Second,
			Tap: func(from string, _ ppp.Protocol, _ []byte, l bool) {
				if from == "a" {
					tapped++
				}
				if l {
					lost++
				}
			},
			Drop: func(_ string, _ ppp.Protocol, p []byte) bool { return p[0] == 0 },
		})
		defer a.Close()
		a.WriteFrame(ppp.ProtoLCP, []byte{0}) // dropped
		a.WriteFrame(ppp.ProtoLCP, []byte{1}) // delivered twice, a second later
		t0 := time.Now()
		for range 2 {
			if _, p, err := b.ReadFrame(); err != nil || p[0] != 1 {
				t.Fatalf("ReadFrame = % x, %v", p, err)
			}
		}
		if time.Since(t0) != time.Second || tapped != 2 || lost != 1 {
			t.Errorf("after %v: %d tapped, %d lost", time.Since(t0), tapped, lost)
		}
		lossy, other := ppptest.Pipe(ppptest.Config{Loss: 1})
		defer lossy.Close()
		lossy.WriteFrame(ppp.ProtoLCP, []byte{1})
		other.Close()
	})
}

// A full queue loses frames rather than blocking the writer, as a real
// link would: the reader gets the first 1024.
func TestPipeFullQueueDrops(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		for i := range 2000 {
			if err := a.WriteFrame(ppp.ProtoLCP, []byte{byte(i)}); err != nil {
				t.Fatal(err)
			}
		}
		n := 0
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				if _, _, err := b.ReadFrame(); err != nil {
					return
				}
				n++
			}
		}()
		synctest.Wait()
		if n != 1024 {
			t.Errorf("%d frames read, want the queue's 1024", n)
		}
		a.Close()
		<-done
	})
}

func TestPool(t *testing.T) {
	first := netip.MustParseAddr("10.0.0.1")
	p := ppptest.NewPool(first, 2)
	a1, err1 := p.Allocate("x")
	a2, err2 := p.Allocate("y")
	_, err3 := p.Allocate("z")
	if err1 != nil || err2 != nil || a1 != first || a2 != first.Next() || !errors.Is(err3, ppptest.ErrExhausted) || p.InUse() != 2 {
		t.Fatalf("Allocate: %v %v, %v %v, %v; %d in use", a1, err1, a2, err2, err3, p.InUse())
	}
	p.Release(a1)
	p.Release(netip.MustParseAddr("192.0.2.1")) // not ours: ignored
	if a, err := p.Allocate("w"); err != nil || a != a1 || p.InUse() != 2 {
		t.Errorf("Allocate after Release = %v, %v; %d in use", a, err, p.InUse())
	}
}
