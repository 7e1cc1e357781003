package ppp_test

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// sinkLink is a FrameSink over one end of a pipe: a pump stands for the
// AC's poller and calls the session.
type sinkLink struct {
	*ppptest.End
	mu      sync.Mutex
	onFrame func(ppp.Frame)
	onDown  func()
	held    []ppp.Frame
	down    bool
	err     error
}

func newSinkLink(e *ppptest.End) *sinkLink {
	l := &sinkLink{End: e}
	go func() {
		for {
			proto, b, err := e.ReadFrame()
			if err != nil {
				l.hangUp(err)
				return
			}
			l.mu.Lock()
			if l.onFrame == nil {
				l.held = append(l.held, ppp.Frame{Proto: proto, Data: b})
			} else {
				l.onFrame(ppp.Frame{Proto: proto, Data: b})
			}
			l.mu.Unlock()
		}
	}()
	return l
}

func (l *sinkLink) HandleFrames(onFrame func(ppp.Frame), onDown func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.onFrame, l.onDown = onFrame, onDown
	for _, f := range l.held {
		onFrame(f)
	}
	l.held = nil
	if l.down {
		onDown()
	}
}

func (l *sinkLink) hangUp(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down {
		return
	}
	l.down, l.err = true, err
	if l.onDown != nil {
		l.onDown()
	}
}

func (l *sinkLink) ReadFrame() (ppp.Protocol, []byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.down {
		panic("ReadFrame on a FrameSink before it is down")
	}
	return 0, nil, l.err
}

// started is a session run by Start.
type started struct {
	s    *ppp.Session
	rec  *recorder
	done chan error
	n    int
	mu   sync.Mutex
}

func startEvents(ctx context.Context, cfg ppp.Config, link ppp.Link) *started {
	r := &started{rec: &recorder{}, done: make(chan error, 2)}
	cfg.OnEvent = r.rec.on
	r.s = ppp.NewSession(link, cfg)
	r.s.Start(ctx, func(err error) {
		r.mu.Lock()
		r.n++
		r.mu.Unlock()
		r.done <- err
	})
	return r
}

func (r *started) wait(t *testing.T) *ppp.DownError {
	t.Helper()
	select {
	case err := <-r.done:
		var de *ppp.DownError
		if !errors.As(err, &de) {
			t.Fatalf("done(%v), want a *ppp.DownError", err)
		}
		return de
	case <-time.After(24 * time.Hour):
		t.Fatalf("still up: %s", kinds(r.rec))
	}
	return nil
}

// Start runs the AC's side as Run does: every method comes up, driven by
// packets alone, over a FrameSink (not read) or a plain link (read by a
// goroutine); Close, ctx's end and the link going down end it, done is
// called once.
func TestStart(t *testing.T) {
	methods := []ppp.AuthMethod{ppp.AuthPAP, ppp.AuthCHAPMD5, ppp.AuthMSCHAPv1, ppp.AuthMSCHAPv2}
	ends := []string{"close", "ctx", "link down"}
	for _, sink := range []bool{true, false} {
		for i, m := range methods {
			end := ends[i%len(ends)]
			name := m.String() + "/" + end
			if sink {
				name += "/sink"
			}
			t.Run(name, func(t *testing.T) {
				synctest.Test(t, func(t *testing.T) {
					a, b := ppptest.Pipe(ppptest.Config{})
					var link ppp.Link = b
					var sl *sinkLink
					if sink {
						sl = newSinkLink(b)
						link = sl
					}
					ctx, cancel := context.WithCancel(context.Background())
					defer cancel()
					cfg := serverConfig(m, true, false, ppptest.NewPool(clientAddr, 2))
					cfg.Silent = true
					srv := startEvents(ctx, cfg, link)
					t0 := time.Now()
					cli := start(clientConfig(true, false), a)
					synctest.Wait()
					if d := time.Since(t0); d != 0 {
						t.Errorf("negotiation took %v of fake time: a timer fired", d)
					}
					if up, ok := find[ppp.IPv4Up](srv.rec); !ok || up.Peer != clientAddr {
						t.Fatalf("AC: %s, %+v", kinds(srv.rec), up)
					}
					want := ppp.ReasonLocalClose
					switch end {
					case "close":
						srv.s.Close("kicked")
					case "ctx":
						cancel()
					case "link down":
						if sl == nil {
							b.Close()
						} else {
							sl.hangUp(errors.New("PADT"))
						}
						want = ppp.ReasonLinkLost
					}
					d := srv.wait(t)
					if d.Reason != want {
						t.Errorf("down %v, want %v", d, want)
					}
					// A sink's onDown: the link says why (ReadFrame).
					if end == "link down" && sink && d.Detail != "PADT" {
						t.Errorf("down detail %q, want the link's error, PADT", d.Detail)
					}
					a.Close()
					cli.wait(t)
					synctest.Wait()
					srv.mu.Lock()
					if srv.n != 1 {
						t.Errorf("done called %d times", srv.n)
					}
					srv.mu.Unlock()
					if _, ok := find[ppp.Down](srv.rec); !ok {
						t.Errorf("no Down event: %s", kinds(srv.rec))
					}
				})
			})
		}
	}
}

// An idle session run by Start has no goroutine: 200 of them waiting for
// their clients (Silent) add none.
func TestStartIdleHasNoGoroutine(t *testing.T) {
	before := runtime.NumGoroutine()
	var sessions []*started
	var ends []*ppptest.End
	for range 200 {
		a, b := ppptest.Pipe(ppptest.Config{})
		ends = append(ends, a)
		cfg := serverConfig(ppp.AuthPAP, true, false, nil)
		cfg.Silent = true
		sessions = append(sessions, startEvents(context.Background(), cfg, &quietSink{End: b}))
	}
	time.Sleep(100 * time.Millisecond) // the first events' goroutines end
	if n := runtime.NumGoroutine() - before; n > 10 {
		t.Errorf("%d goroutines for 200 idle sessions, want none", n)
	}
	for i, r := range sessions {
		r.s.Close("done")
		if d := r.wait(t); d.Reason != ppp.ReasonLocalClose {
			t.Errorf("down %v", d)
		}
		ends[i].Close()
	}
}

// quietSink is a FrameSink that never hands over a frame.
type quietSink struct{ *ppptest.End }

func (quietSink) HandleFrames(func(ppp.Frame), func()) {}

// A Close before Start ends the session as soon as it starts.
func TestCloseBeforeStart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, b := ppptest.Pipe(ppptest.Config{})
		s := ppp.NewSession(&quietSink{End: b}, serverConfig(ppp.AuthPAP, true, false, nil))
		s.Close("early")
		done := make(chan error, 1)
		s.Start(context.Background(), func(err error) { done <- err })
		select {
		case err := <-done:
			var de *ppp.DownError
			if !errors.As(err, &de) || de.Reason != ppp.ReasonLocalClose {
				t.Errorf("done(%v)", err)
			}
		case <-time.After(time.Minute):
			t.Fatal("not ended a minute after Start")
		}
	})
}
