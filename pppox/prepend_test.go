package pppox

import (
	"bytes"
	"log/slog"
	"testing"
	"testing/synctest"

	"github.com/pppoed/pppoed/ppp"
)

// Prepend: the session tap's frames first, then the socket's, less the
// copies of the tapped ones the socket received as well.
func TestPrepend(t *testing.T) {
	// LCP packets, from the Code on: two requests of the AC's (its first
	// and its retransmission, the same octets) and one with another
	// Identifier; an Echo-Request; the wire form adds the protocol field.
	req1 := []byte{0x01, 0x01, 0x00, 0x0a, 0x05, 0x06, 0x11, 0x22, 0x33, 0x44} // ConfReq id 1, <magic 0x11223344>
	req2 := []byte{0x01, 0x02, 0x00, 0x0a, 0x05, 0x06, 0x11, 0x22, 0x33, 0x44} // ConfReq id 2
	echo := []byte{0x09, 0x07, 0x00, 0x08, 0x11, 0x22, 0x33, 0x44}             // Echo-Request id 7
	ipcp := []byte{0x01, 0x01, 0x00, 0x04}                                     // IPCP ConfReq id 1
	wire := func(proto ppp.Protocol, b []byte) []byte { return append([]byte{byte(proto >> 8), byte(proto)}, b...) }
	lcp := func(b []byte) got { return got{ppp.ProtoLCP, b, nil} }
	tests := []struct {
		name    string
		tapped  [][]byte
		early   [][]byte // LCP frames queued on the socket before the channel
		channel [][]byte // frames on the channel, with their protocol field
		want    []got
	}{
		{name: "nothing tapped: the socket's frames as ever",
			channel: [][]byte{wire(ppp.ProtoLCP, req1), wire(ppp.ProtoLCP, req1)},
			want:    []got{lcp(req1), lcp(req1)}},
		{name: "tapped before the connect only: given first, the socket's own after",
			tapped:  [][]byte{req1},
			channel: [][]byte{wire(ppp.ProtoLCP, req2)},
			want:    []got{lcp(req1), lcp(req2)}},
		{name: "tapped after the connect too: the channel's copy dropped",
			tapped:  [][]byte{req1},
			channel: [][]byte{wire(ppp.ProtoLCP, req1), wire(ppp.ProtoLCP, req2)},
			want:    []got{lcp(req1), lcp(req2)}},
		{name: "the socket's queued copy dropped",
			tapped:  [][]byte{req1},
			early:   [][]byte{req1},
			channel: [][]byte{wire(ppp.ProtoLCP, req2)},
			want:    []got{lcp(req1), lcp(req2)}},
		{name: "a retransmission before the connect, its copy after: one dropped",
			tapped:  [][]byte{req1, req1},
			channel: [][]byte{wire(ppp.ProtoLCP, req1), wire(ppp.ProtoLCP, req2)},
			want:    []got{lcp(req1), lcp(req1), lcp(req2)}},
		{name: "copies of the later ones only: the first came before the connect",
			tapped:  [][]byte{req1, req2},
			channel: [][]byte{wire(ppp.ProtoLCP, req2), wire(ppp.ProtoLCP, req2)},
			want:    []got{lcp(req1), lcp(req2), lcp(req2)}},
		{name: "the first request that equals none ends the dropping",
			tapped:  [][]byte{req1},
			channel: [][]byte{wire(ppp.ProtoLCP, req2), wire(ppp.ProtoLCP, req1)},
			want:    []got{lcp(req1), lcp(req2), lcp(req1)}},
		{name: "another code or protocol passes and ends nothing",
			tapped:  [][]byte{req1},
			channel: [][]byte{wire(ppp.ProtoLCP, echo), wire(ppp.ProtoIPCP, ipcp), wire(ppp.ProtoLCP, req1), wire(ppp.ProtoLCP, req1)},
			want:    []got{lcp(req1), lcp(echo), {ppp.ProtoIPCP, ipcp, nil}, lcp(req1)}},
		{name: "an empty packet is not prepended",
			tapped:  [][]byte{{}},
			channel: [][]byte{wire(ppp.ProtoLCP, req1)},
			want:    []got{lcp(req1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ch, unit := newFakeFile(), newFakeFile()
				l := newLink(ch, unit, slog.New(slog.DiscardHandler))
				for _, b := range tt.early {
					l.early = append(l.early, frame{proto: ppp.ProtoLCP, b: b})
				}
				if err := l.start(); err != nil {
					t.Fatal(err)
				}
				defer l.Close()
				if tt.tapped != nil {
					l.Prepend(ppp.ProtoLCP, tt.tapped)
				}
				for _, b := range tt.channel {
					ch.reads <- read{b: b}
				}
				synctest.Wait()
				for i, w := range tt.want {
					g := readFrame(l)
					if g.proto != w.proto || !bytes.Equal(g.b, w.b) || g.err != nil {
						t.Fatalf("frame %d: %s % x (%v), want %s % x", i, g.proto, g.b, g.err, w.proto, w.b)
					}
				}
				// Nothing more: the next ReadFrame waits.
				done := make(chan got, 1)
				go func() { done <- readFrame(l) }()
				synctest.Wait()
				select {
				case g := <-done:
					t.Fatalf("a frame more: %s % x (%v)", g.proto, g.b, g.err)
				default:
				}
				l.Close()
				<-done
			})
		})
	}
}
