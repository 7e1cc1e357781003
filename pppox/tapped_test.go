package pppox

import (
	"bytes"
	"testing"

	"github.com/pppoed/pppoed/ppp"
)

// Config.Tapped's frames, in its order, bounded as the socket's early
// frames are; none without the hook.
func TestTappedFrames(t *testing.T) {
	req := []byte{0x01, 0x01, 0x00, 0x04} // LCP Configure-Request id 1, no options
	if got := tappedFrames(Config{}); got != nil {
		t.Fatalf("no hook: %v", got)
	}
	calls := 0
	got := tappedFrames(Config{Tapped: func() []ppp.Frame {
		calls++
		return []ppp.Frame{{Proto: ppp.ProtoLCP, Data: req}, {Proto: ppp.ProtoIPCP, Data: []byte{0x01}}}
	}})
	if calls != 1 || len(got) != 2 || got[0].proto != ppp.ProtoLCP || !bytes.Equal(got[0].b, req) || got[1].proto != ppp.ProtoIPCP {
		t.Fatalf("called %d times: %+v", calls, got)
	}
	many := make([]ppp.Frame, maxEarly+5)
	for i := range many {
		many[i] = ppp.Frame{Proto: ppp.ProtoLCP, Data: req}
	}
	if got := tappedFrames(Config{Tapped: func() []ppp.Frame { return many }}); len(got) != maxEarly {
		t.Fatalf("%d frames kept, want at most %d", len(got), maxEarly)
	}
}

// The link gives its early frames (the tapped ones first: openChannel
// puts them there) before the channel's.
func TestLinkEarlyFirst(t *testing.T) {
	ch, unit := newFakeFile(), newFakeFile()
	l := newLink(ch, unit, nil)
	l.early = []frame{{proto: ppp.ProtoLCP, b: []byte{0x01, 0x07}}}
	if err := l.start(); err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	ch.reads <- read{b: []byte{0xc0, 0x21, 0x01, 0x08}}
	for i, want := range [][]byte{{0x01, 0x07}, {0x01, 0x08}} {
		_, b, err := l.ReadFrame()
		if err != nil || !bytes.Equal(b, want) {
			t.Fatalf("frame %d: % x (%v), want % x", i, b, err, want)
		}
	}
}
