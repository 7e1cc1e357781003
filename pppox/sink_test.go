package pppox

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/pppoed/pppoed/ppp"
)

// HandleFrames (ppp.FrameSink): the frames queued before it are handed
// over first, in order, then the poller calls onFrame itself (nothing
// queues: the full-queue drop never happens); the end of the channel
// calls onDown once, ReadFrame then says why; a link already down when
// HandleFrames is called is reported down at once.
func TestHandleFrames(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, ep := startFakePoller(t)
		l, ch, _ := polledLink(t, p, ep)
		defer l.Close()
		ep.push(ch, frameOf(ppp.ProtoLCP, 1))
		synctest.Wait()
		var mu sync.Mutex
		var got []byte
		downs := 0
		l.HandleFrames(func(f ppp.Frame) {
			mu.Lock()
			got = append(got, f.Data...)
			mu.Unlock()
		}, func() {
			mu.Lock()
			downs++
			mu.Unlock()
		})
		var many []read
		for i := range 2 * polledFrames {
			many = append(many, frameOf(ppp.ProtoLCP, byte(2+i)))
		}
		ep.push(ch, many...)
		synctest.Wait()
		mu.Lock()
		want := []byte{1}
		for i := range 2 * polledFrames {
			want = append(want, byte(2+i))
		}
		if !bytes.Equal(got, want) {
			t.Errorf("handed %v, want %v", got, want)
		}
		mu.Unlock()
		if p.Dropped() != 0 {
			t.Errorf("Dropped = %d: a sink never queues", p.Dropped())
		}
		ep.push(ch, read{}) // EOF: the channel is gone
		synctest.Wait()
		l.HangUp(errors.New("again"))
		mu.Lock()
		if downs != 1 {
			t.Errorf("onDown called %d times, want 1", downs)
		}
		mu.Unlock()
		if _, _, err := l.ReadFrame(); err == nil {
			t.Error("ReadFrame after the end: no error")
		}

		l2, _, _ := polledLink(t, p, ep)
		defer l2.Close()
		l2.HangUp(errors.New("PADT"))
		down2 := 0
		l2.HandleFrames(func(ppp.Frame) {}, func() { down2++ })
		if down2 != 1 {
			t.Errorf("a link down before HandleFrames: onDown called %d times, want 1", down2)
		}
	})
}
