package ppp

import (
	"bytes"
	"reflect"
	"testing"
)

// Every decoder: never panic; what it accepts re-encodes, and decoding that
// gives the same value.

func FuzzParseFrame(f *testing.F) {
	for _, g := range golden {
		f.Add(g.frame)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		_ = FormatFrame(b) // the printer takes anything
		p, err := ParseFrame(b)
		if err != nil {
			return
		}
		_ = p.String()
		wire, err := p.AppendFrame(nil)
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParseFrame(wire)
		if err != nil || !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip: %#v, %v; want %#v", q, err, p)
		}
		if n := 2 + (int(b[4])<<8 | int(b[5])); !bytes.Equal(wire, b[:n]) {
			t.Fatalf("re-encoding differs:\n% x\n% x", wire, b[:n])
		}
	})
}

func FuzzParseOptions(f *testing.F) {
	for _, g := range golden {
		if g.opts != nil {
			f.Add(uint16(g.pkt.Protocol), g.pkt.Data)
		}
	}
	f.Fuzz(func(t *testing.T, proto uint16, data []byte) {
		opts, err := ParseOptions(Protocol(proto), data)
		if err != nil {
			return
		}
		for _, o := range opts {
			_ = o.String()
		}
		wire, err := AppendOptions(nil, opts)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(wire, data) {
			t.Fatalf("re-encoding differs:\n% x\n% x", wire, data)
		}
		again, err := ParseOptions(Protocol(proto), wire)
		if err != nil || !reflect.DeepEqual(again, opts) {
			t.Fatalf("round trip: %#v, %v; want %#v", again, err, opts)
		}
	})
}

func FuzzMessages(f *testing.F) {
	f.Add(cat([]byte{5}, []byte("user1"), []byte{5}, []byte("pass1")))
	f.Add([]byte{4, 1, 2, 3, 4, 'a', 'c'})
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0x0e, 0x10, 'b', 'y', 'e'})
	f.Fuzz(func(t *testing.T, b []byte) {
		if e, err := ParseEcho(b); err == nil && !bytes.Equal(e.Append(nil), b) {
			t.Fatalf("echo round trip: % x", e.Append(nil))
		}
		if r, err := ParseProtocolReject(b); err == nil && !bytes.Equal(r.Append(nil), b) {
			t.Fatalf("protocol-reject round trip")
		}
		if r, err := ParseIdentification(b); err == nil && !bytes.Equal(r.Append(nil), b) {
			t.Fatalf("identification round trip")
		}
		if r, err := ParseTimeRemaining(b); err == nil && !bytes.Equal(r.Append(nil), b) {
			t.Fatalf("time-remaining round trip")
		}
		if r, err := ParsePAPRequest(b); err == nil {
			w, err := r.Append(nil)
			if r2, err2 := ParsePAPRequest(w); err != nil || err2 != nil || !reflect.DeepEqual(r, r2) || !bytes.HasPrefix(b, w) {
				t.Fatalf("PAP request round trip: %+v %+v %v %v", r, r2, err, err2)
			}
		}
		if r, err := ParsePAPResponse(b); err == nil {
			w, err := r.Append(nil)
			if r2, err2 := ParsePAPResponse(w); err != nil || err2 != nil || !reflect.DeepEqual(r, r2) || !bytes.HasPrefix(b, w) {
				t.Fatalf("PAP response round trip")
			}
		}
		if c, err := ParseCHAPChallenge(b); err == nil {
			w, err := c.Append(nil)
			if err != nil || !bytes.Equal(w, b) {
				t.Fatalf("CHAP round trip: % x, %v", w, err)
			}
		}
	})
}
