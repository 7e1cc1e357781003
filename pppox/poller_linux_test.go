package pppox

import (
	"bytes"
	"io"
	"log/slog"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"golang.org/x/sys/unix"
)

// A frame larger than the buffer fails its read with EOVERFLOW: the kernel
// dropped it, the descriptor is fine and the next frame is read.
func TestPollerSkipsOverflow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, ep := startFakePoller(t)
		l, ch, _ := polledLink(t, p, ep)
		defer l.Close()
		ep.push(ch, read{err: unix.EOVERFLOW}, frameOf(ppp.ProtoLCP, 9))
		synctest.Wait()
		if f, err := recv(l); err != nil || f == nil || !bytes.Equal(f.Data, []byte{9}) {
			t.Fatalf("got %v %v", f, err)
		}
		if !ep.registered(ch) {
			t.Error("the channel left the set")
		}
	})
}

// waitFrame waits (in real time, bounded) for l's next frame or its end.
func waitFrame(t *testing.T, l *Link) (*ppp.Frame, error) {
	t.Helper()
	frames, down := l.Frames()
	select {
	case f := <-frames:
		return &f, nil
	case <-down:
		_, _, err := l.ReadFrame()
		return nil, err
	case <-time.After(10 * time.Second):
		t.Fatal("nothing from the poller in 10 s")
		return nil, nil
	}
}

// The real epoll set over descriptors that keep message boundaries as
// /dev/ppp does (SOCK_SEQPACKET pairs): frames reach their own link, the
// channel's end hangs its link up, the unit's end only leaves the set,
// and Close ends the goroutine.
func TestPollerOverDescriptors(t *testing.T) {
	p, err := NewPoller(slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := p.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}()
	type pair struct {
		l                *Link
		chPeer, unitPeer io.WriteCloser
	}
	var links []pair
	for range 20 {
		ch, chPeer := socketpair(t)
		unit, unitPeer := socketpair(t)
		l := newPolledLink(ch, unit, slog.New(slog.DiscardHandler), p)
		if err := l.start(); err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		links = append(links, pair{l, chPeer, unitPeer})
	}
	for i, lp := range links {
		lp.chPeer.Write([]byte{0xc0, 0x21, byte(i), 1})
		lp.unitPeer.Write([]byte{0x80, 0x21, byte(i), 2})
	}
	for i, lp := range links {
		var got [][]byte
		for range 2 {
			f, err := waitFrame(t, lp.l)
			if err != nil {
				t.Fatalf("link %d: %v", i, err)
			}
			got = append(got, append([]byte{byte(f.Proto >> 8), byte(f.Proto)}, f.Data...))
		}
		lcp, ipcp := []byte{0xc0, 0x21, byte(i), 1}, []byte{0x80, 0x21, byte(i), 2}
		if !(bytes.Equal(got[0], lcp) && bytes.Equal(got[1], ipcp)) && !(bytes.Equal(got[0], ipcp) && bytes.Equal(got[1], lcp)) {
			t.Errorf("link %d got % x", i, got)
		}
	}
	// Link 0's channel ends: it hangs up. Link 1's unit ends: nothing.
	links[0].chPeer.Close()
	if _, err := waitFrame(t, links[0].l); err != io.EOF {
		t.Errorf("link 0 after its channel's end: %v, want EOF", err)
	}
	links[1].unitPeer.Close()
	links[1].chPeer.Write([]byte{0xc0, 0x21, 0xee})
	if f, err := waitFrame(t, links[1].l); err != nil || !bytes.Equal(f.Data, []byte{0xee}) {
		t.Errorf("link 1 after its unit's end: %v %v", f, err)
	}
	// Closed links are read no more; the others still are.
	for _, lp := range links[:10] {
		lp.l.Close()
	}
	links[15].chPeer.Write([]byte{0xc0, 0x21, 0x15})
	if f, err := waitFrame(t, links[15].l); err != nil || !bytes.Equal(f.Data, []byte{0x15}) {
		t.Errorf("link 15: %v %v", f, err)
	}
	entries := func() int {
		p.mu.Lock()
		defer p.mu.Unlock()
		return len(p.entries)
	}
	if n := entries(); n != 20 {
		t.Errorf("%d descriptors in the set, want the 10 open links' 20", n)
	}
	// A unit's end takes it out of the set, as soon as the poller reads it.
	links[12].unitPeer.Close()
	for i := 0; i < 10000 && entries() != 19; i++ {
		time.Sleep(time.Millisecond)
	}
	if n := entries(); n != 19 {
		t.Errorf("%d descriptors in the set, want 19", n)
	}
}

// Close with nothing registered wakes the goroutine out of epoll_wait.
func TestPollerCloseIdle(t *testing.T) {
	p, err := NewPoller(nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- p.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Close: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Close did not return")
	}
	if err := p.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}
