package ppp

import (
	"bytes"
	"fmt"
	"reflect"
	"strings"
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

// secretMarker stands for a secret (a PAP password, a CHAP Response
// value, EAP data): upper-case letters, so that neither the public text
// around it (mapped to g-z) nor anything else a dump prints can spell it
// or its hex by chance.
const secretMarker = "QZXJQZXK"

// leaks reports which piece of secretMarker s shows, raw (any 4 octets)
// or in hex (any 3 octets, as %x or as pppd's " %.2x" dump).
func leaks(s string) string {
	m := []byte(secretMarker)
	for i := 0; i+3 <= len(m); i++ {
		w := m[i : i+3]
		for _, form := range []string{fmt.Sprintf("%x", w), fmt.Sprintf(" %02x %02x %02x", w[0], w[1], w[2])} {
			if strings.Contains(s, form) {
				return form
			}
		}
		if i+4 <= len(m) && strings.Contains(s, string(m[i:i+4])) {
			return string(m[i : i+4])
		}
	}
	return ""
}

// publicText maps fuzz octets to g-z, text a dump may show as it is.
func publicText(b []byte) []byte {
	b = b[:min(len(b), 200)]
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = 'g' + c%20
	}
	return out
}

// No PAP, CHAP or EAP packet, whatever its shape (Length too short or
// too long, trailing octets, truncated), prints any piece of a secret it
// carries, in clear or in hex; nor does a Protocol-Reject carrying one.
func FuzzFormatFrameHidesSecrets(f *testing.F) {
	f.Add(uint8(0), uint8(1), int8(0), []byte("user"), []byte{}, uint8(0))
	f.Add(uint8(0), uint8(1), int8(-3), []byte("user"), []byte{}, uint8(0))
	f.Add(uint8(0), uint8(1), int8(5), []byte("u"), []byte{1, 2}, uint8(0))
	f.Add(uint8(0), uint8(1), int8(0), []byte(""), []byte{9, 9, 9}, uint8(4))
	f.Add(uint8(1), uint8(2), int8(0), []byte("ok"), []byte{}, uint8(0))
	f.Add(uint8(2), uint8(2), int8(0), []byte("name"), []byte{}, uint8(0))
	f.Add(uint8(2), uint8(2), int8(-9), []byte("name"), []byte{}, uint8(0))
	f.Add(uint8(3), uint8(7), int8(0), []byte("x"), []byte{}, uint8(0))
	f.Add(uint8(4), uint8(2), int8(0), []byte{1}, []byte{}, uint8(0))
	f.Add(uint8(5), uint8(1), int8(0), []byte("user"), []byte{}, uint8(0))
	f.Add(uint8(5), uint8(1), int8(30), []byte("user"), []byte{}, uint8(0))
	f.Fuzz(func(t *testing.T, kind, code uint8, lenDelta int8, public, trailing []byte, cut uint8) {
		secret := []byte(secretMarker)
		public = publicText(public)
		var proto Protocol
		var body []byte
		switch kind % 6 {
		case 0, 1: // PAP: a request (or another code with its layout)
			proto = ProtoPAP
			if kind%6 == 0 {
				code = byte(CodePAPAuthReq)
			}
			body = cat([]byte{byte(len(public))}, public, []byte{byte(len(secret))}, secret)
		case 2, 3: // CHAP: a Response (or any code but the public ones)
			proto = ProtoCHAP
			switch {
			case kind%6 == 2:
				code = byte(CodeCHAPResponse)
			case code == byte(CodeCHAPChallenge), code == byte(CodeCHAPSuccess), code == byte(CodeCHAPFailure):
				return // their values and texts are public by design
			}
			body = cat([]byte{byte(len(secret))}, secret, public)
		case 4: // EAP, any code
			proto = ProtoEAP
			body = cat(public, secret)
		case 5: // a Protocol-Reject of our PAP request
			proto = ProtoLCP
			req, _ := Packet{Protocol: ProtoPAP, Code: CodePAPAuthReq, ID: 1,
				Data: cat([]byte{byte(len(public))}, public, []byte{byte(len(secret))}, secret)}.Append(nil)
			code = byte(CodeProtRej)
			body = cat([]byte{0xc0, 0x23}, req)
		}
		n := max(0, min(0xffff, HeaderLen+len(body)+int(lenDelta)))
		frame := cat([]byte{byte(proto >> 8), byte(proto), code, 1, byte(n >> 8), byte(n)}, body, trailing)
		frame = frame[:len(frame)-min(int(cut), len(frame))]
		if s := FormatFrame(frame); leaks(s) != "" {
			t.Fatalf("FormatFrame(% x)\n= %s\nshows %q of the secret", frame, s, leaks(s))
		}
	})
}
