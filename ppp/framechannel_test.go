package ppp_test

import (
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// chanLink is a FrameChannel over one end of a pipe: a pump stands for
// the AC's poller. It counts ReadFrame calls: a session over a
// FrameChannel reads none until the link is down.
type chanLink struct {
	*ppptest.End
	frames chan ppp.Frame
	down   chan struct{}
	reads  atomic.Int32
	once   sync.Once
	err    error
}

func newChanLink(e *ppptest.End) *chanLink {
	l := &chanLink{End: e, frames: make(chan ppp.Frame, 8), down: make(chan struct{})}
	go func() {
		for {
			proto, b, err := e.ReadFrame()
			if err != nil {
				return
			}
			select {
			case l.frames <- ppp.Frame{Proto: proto, Data: b}:
			case <-l.down:
				return
			}
		}
	}()
	return l
}

func (l *chanLink) Frames() (<-chan ppp.Frame, <-chan struct{}) { return l.frames, l.down }

func (l *chanLink) ReadFrame() (ppp.Protocol, []byte, error) {
	l.reads.Add(1)
	<-l.down
	return 0, nil, l.err
}

func (l *chanLink) hangUp(err error) { l.once.Do(func() { l.err = err; close(l.down) }) }

func (l *chanLink) Close() error { l.hangUp(errors.New("closed")); return l.End.Close() }

func TestFrameChannel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		link := newChanLink(b)
		srv := start(serverConfig(ppp.AuthCHAPMD5, true, false, ppptest.NewPool(clientAddr, 2)), link)
		cli := start(clientConfig(true, false), a)
		synctest.Wait()
		if _, ok := find[ppp.IPv4Up](srv.rec); !ok {
			t.Fatalf("not up over the frame channel: %s", kinds(srv.rec))
		}
		if n := link.reads.Load(); n != 0 {
			t.Errorf("ReadFrame called %d times while the link was up; the session must select on Frames", n)
		}
		link.hangUp(errors.New("PADT from the peer"))
		d := srv.wait(t)
		if d.Reason != ppp.ReasonLinkLost || d.Detail != "PADT from the peer" {
			t.Errorf("down %v, want link lost: PADT from the peer", d)
		}
		a.Close()
		cli.wait(t)
	})
}
