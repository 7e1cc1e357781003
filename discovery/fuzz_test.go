package discovery

import (
	"bytes"
	"reflect"
	"testing"
)

// Each decoder: never panic; whatever it accepts re-encodes, and decoding
// that gives the same packet.

func FuzzParse(f *testing.F) {
	for _, g := range golden {
		f.Add(g.wire)
	}
	f.Add(cat(header(CodePADI, 0, 19), svc, tag(TagEndOfList, nil), svc))
	f.Fuzz(func(t *testing.T, b []byte) {
		p, err := Parse(b)
		if err != nil {
			return
		}
		_ = p.String()
		wire, err := p.Marshal()
		if err != nil {
			t.Fatalf("Marshal of a parsed packet: %v\n%#v", err, p)
		}
		q, err := Parse(wire)
		if err != nil {
			t.Fatalf("Parse of a marshaled packet: %v", err)
		}
		if !reflect.DeepEqual(p, q) {
			t.Fatalf("round trip changed the packet:\n%#v\n%#v", p, q)
		}
		// The octets themselves survive too (up to LENGTH).
		if n := HeaderLen + (int(b[4])<<8 | int(b[5])); !bytes.Equal(wire, b[:n]) {
			t.Fatalf("re-encoding differs:\n% x\n% x", wire, b[:n])
		}
	})
}

func FuzzParseFrame(f *testing.F) {
	f.Add([]byte("\xff\xff\xff\xff\xff\xff\xaa\xea\x55\xc8\x2a\x56\x88\x63\x11\x09\x00\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, b []byte) {
		fr, err := ParseFrame(b)
		if err != nil {
			return
		}
		out, err := AppendFrame(nil, fr.Dst, fr.Src, fr.EtherType, fr.Payload)
		if err != nil || !bytes.Equal(out, b) {
			t.Fatalf("AppendFrame(ParseFrame(b)) = % x, %v; want % x", out, err, b)
		}
	})
}

func FuzzParseSession(f *testing.F) {
	f.Add([]byte{0x11, 0x00, 0x00, 0x01, 0x00, 0x06, 0xc0, 0x21, 0x01, 0x01, 0x00, 0x04})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseSession(b)
		if err != nil {
			return
		}
		out, err := AppendSession(nil, h.SessionID, h.Payload)
		if err != nil {
			t.Fatal(err)
		}
		h2, err := ParseSession(out)
		if err != nil || h2.SessionID != h.SessionID || !bytes.Equal(h2.Payload, h.Payload) {
			t.Fatalf("session round trip: %+v, %v; want %+v", h2, err, h)
		}
	})
}
