package discovery

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"testing"

	"golang.org/x/net/bpf"
)

var (
	tapAC    = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0xac}
	tapOther = net.HardwareAddr{0x02, 0x00, 0x00, 0x00, 0x00, 0x0e}
	tapSess  = &Session{ID: 0x1234, AC: tapAC}
)

// tapConfReq is a session packet as the tap's socket receives it (no
// Ethernet header), the AC's LCP Configure-Request for session 0x1234.
func tapConfReq() []byte {
	return []byte{
		0x11,       // VER 1, TYPE 1
		0x00,       // CODE: session data
		0x12, 0x34, // SESSION_ID
		0x00, 0x10, // LENGTH: 16, the PPP protocol field and the LCP packet
		0xc0, 0x21, // PPP protocol: LCP
		0x01,       // LCP Code: Configure-Request
		0x01,       // Identifier
		0x00, 0x0e, // Length: 14
		0x01, 0x04, 0x05, 0xd4, // <mru 1492>
		0x05, 0x06, 0x6c, 0x9a, 0xa1, 0x0b, // <magic 0x6c9aa10b>
	}
}

// The request the tap keeps: from the Code to LENGTH's end.
var tapWant = tapConfReq()[8:]

func TestTappedRequest(t *testing.T) {
	with := func(f func(b []byte) []byte) []byte { return f(tapConfReq()) }
	tests := []struct {
		name string
		b    []byte
		from net.HardwareAddr
		s    *Session
		want []byte // nil: refused
	}{
		{name: "the AC's request", b: tapConfReq(), from: tapAC, s: tapSess, want: tapWant},
		{name: "Ethernet padding after LENGTH cut off", b: append(tapConfReq(), 0, 0, 0, 0), from: tapAC, s: tapSess, want: tapWant},
		{name: "another MAC", b: tapConfReq(), from: tapOther, s: tapSess},
		{name: "no source MAC", b: tapConfReq(), s: tapSess},
		{name: "no session", b: tapConfReq(), from: tapAC},
		{name: "another session", b: with(func(b []byte) []byte { b[3] = 0x35; return b }), from: tapAC, s: tapSess},
		{name: "a discovery code", b: with(func(b []byte) []byte { b[1] = byte(CodePADS); return b }), from: tapAC, s: tapSess},
		{name: "another version", b: with(func(b []byte) []byte { b[0] = 0x21; return b }), from: tapAC, s: tapSess},
		{name: "IPCP", b: with(func(b []byte) []byte { b[6], b[7] = 0x80, 0x21; return b }), from: tapAC, s: tapSess},
		{name: "a Configure-Ack", b: with(func(b []byte) []byte { b[8] = 2; return b }), from: tapAC, s: tapSess},
		{name: "LENGTH past the packet", b: with(func(b []byte) []byte { b[5] = 0x11; return b }), from: tapAC, s: tapSess},
		{name: "LENGTH too short for an LCP header", b: with(func(b []byte) []byte { b[5] = 5; return b }), from: tapAC, s: tapSess},
		{name: "LENGTH just an LCP header", b: with(func(b []byte) []byte { b[5] = 6; return b }), from: tapAC, s: tapSess, want: tapWant[:4]},
		{name: "shorter than the headers", b: tapConfReq()[:11], from: tapAC, s: tapSess},
		{name: "the headers and nothing more", b: with(func(b []byte) []byte { b[5] = 6; return b[:12] }), from: tapAC, s: tapSess, want: tapWant[:4]},
		{name: "part of the PPPoE header", b: tapConfReq()[:5], from: tapAC, s: tapSess},
		{name: "empty", b: nil, from: tapAC, s: tapSess},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tappedRequest(tt.b, tt.from, tt.s)
			if ok != (tt.want != nil) || !bytes.Equal(got, tt.want) {
				t.Fatalf("tappedRequest = % x, %v; want % x", got, ok, tt.want)
			}
			if ok && len(tt.b) > 0 && &got[0] == &tt.b[offLCPCode] {
				t.Fatal("the packet shares the read buffer")
			}
		})
	}
}

// The kernel's filter, run in x/net/bpf's VM on the same packets.
func TestTapFilter(t *testing.T) {
	prog, ok := bpf.Disassemble(tapFilter)
	if !ok {
		t.Fatal("the filter does not disassemble")
	}
	vm, err := bpf.NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	with := func(f func(b []byte) []byte) []byte { return f(tapConfReq()) }
	tests := []struct {
		name string
		b    []byte
		keep bool
	}{
		{"an LCP Configure-Request", tapConfReq(), true},
		{"a Configure-Ack", with(func(b []byte) []byte { b[8] = 2; return b }), false},
		{"an Echo-Request", with(func(b []byte) []byte { b[8] = 9; return b }), false},
		{"IPCP", with(func(b []byte) []byte { b[6], b[7] = 0x80, 0x21; return b }), false},
		{"an IPv4 packet", with(func(b []byte) []byte { b[6], b[7] = 0x00, 0x21; return b }), false},
		{"a PADT's code", with(func(b []byte) []byte { b[1] = byte(CodePADT); return b }), false},
		{"another version", with(func(b []byte) []byte { b[0] = 0x12; return b }), false},
		{"too short to hold the code", tapConfReq()[:8], false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n, err := vm.Run(tt.b)
			if err != nil {
				t.Fatal(err)
			}
			if (n > 0) != tt.keep {
				t.Fatalf("the filter returned %d, want keep %v", n, tt.keep)
			}
			if tt.keep && n < len(tt.b) {
				t.Fatalf("the filter cuts the packet to %d of %d octets", n, len(tt.b))
			}
		})
	}
}

// takeFrom keeps the session's newest request, reads until recv fails,
// and bounds its reads.
func TestTakeFrom(t *testing.T) {
	type pkt struct {
		b    []byte
		from net.HardwareAddr
	}
	other := tapConfReq()
	other[3] = 0x99
	second := tapConfReq()
	second[9] = 0x02 // Identifier 2
	many := func(n int, p pkt) []pkt {
		var out []pkt
		for range n {
			out = append(out, p)
		}
		return out
	}
	tests := []struct {
		name string
		in   []pkt
		want byte // the Identifier of the request kept; 0: none
	}{
		{name: "nothing queued"},
		{name: "the newest of ours, among others'", in: []pkt{{tapConfReq(), tapAC}, {second, tapAC}, {other, tapAC}, {tapConfReq(), tapOther}}, want: 2},
		{name: "a retransmission: kept once", in: []pkt{{tapConfReq(), tapAC}, {tapConfReq(), tapAC}}, want: 1},
		{name: "not from a MAC to take", in: []pkt{{tapConfReq(), nil}}},
		{name: "a full Ethernet payload", in: []pkt{{fullSize(1500), tapAC}}, want: 1},
		{name: "longer: cut short, refused", in: []pkt{{fullSize(1501), tapAC}}},
		{name: "the reads bounded", in: append(many(maxTapReads, pkt{other, tapAC}), pkt{tapConfReq(), tapAC})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			i := 0
			got := takeFrom(func(b []byte) (int, net.HardwareAddr, error) {
				if i >= len(tt.in) {
					return 0, nil, errors.New("EAGAIN")
				}
				p := tt.in[i]
				i++
				return copy(b, p.b), p.from, nil
			}, tapSess)
			switch {
			case tt.want == 0 && got != nil:
				t.Fatalf("kept % x, want none", got)
			case tt.want != 0 && (len(got) < 2 || got[1] != tt.want):
				t.Fatalf("kept % x, want the request with Identifier %d", got, tt.want)
			}
		})
	}
}

// fullSize is the AC's request padded with options to n octets of PPPoE
// packet (LENGTH n-6).
func fullSize(n int) []byte {
	b := make([]byte, n)
	copy(b, tapConfReq()[:12])
	binary.BigEndian.PutUint16(b[4:], uint16(n-HeaderLen))
	binary.BigEndian.PutUint16(b[10:], uint16(n-HeaderLen-2))
	return b
}

func FuzzTappedRequest(f *testing.F) {
	f.Add(tapConfReq(), uint16(0x1234))
	f.Add(tapConfReq()[:9], uint16(0x1234))
	f.Add([]byte{0x11, 0, 0x12, 0x34, 0xff, 0xff, 0xc0, 0x21, 1, 1, 0, 4}, uint16(0x1234))
	f.Fuzz(func(t *testing.T, b []byte, id uint16) {
		s := &Session{ID: id, AC: tapAC}
		p, ok := tappedRequest(b, tapAC, s)
		if !ok {
			return
		}
		if len(p) < lcpHeaderLen || p[0] != lcpConfRequest {
			t.Fatalf("kept % x: not a Configure-Request", p)
		}
		if !bytes.Contains(b, p) {
			t.Fatal("kept octets the packet does not hold")
		}
	})
}
