package discovery

import (
	"bytes"
	"errors"
	"net"
	"reflect"
	"strings"
	"testing"
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// Golden packets. The first four are the discovery of a real session between
// pppd 2.4.9 (rp-pppoe.so) and Debian's pppoe-server, from
// testdata/captures/reference-chap.pcap.
var golden = []struct {
	name string
	wire []byte
	pkt  *Packet
	str  string // String()
}{
	{
		name: "PADI",
		wire: cat(
			[]byte{0x11},                                  // VER 1, TYPE 1
			[]byte{0x09},                                  // CODE PADI
			[]byte{0x00, 0x00},                            // SESSION_ID 0
			[]byte{0x00, 0x0f},                            // LENGTH 15
			[]byte{0x01, 0x01, 0x00, 0x03}, []byte("isp"), // Service-Name "isp"
			[]byte{0x01, 0x03, 0x00, 0x04, 0x73, 0x00, 0x00, 0x00}, // Host-Uniq (pppd: its pid, host order)
		),
		pkt: &Packet{Code: CodePADI, Tags: []Tag{ServiceName("isp"), HostUniq{0x73, 0, 0, 0}}},
		str: "PADI session 0x0 length 15 [service-name isp] [host-uniq  73 00 00 00]",
	},
	{
		name: "PADO",
		wire: cat(
			[]byte{0x11, 0x07, 0x00, 0x00},                   // VER/TYPE, CODE PADO, SESSION_ID 0
			[]byte{0x00, 0x31},                               // LENGTH 49
			[]byte{0x01, 0x02, 0x00, 0x06}, []byte("lab-ac"), // AC-Name
			[]byte{0x01, 0x01, 0x00, 0x03}, []byte("isp"), // Service-Name
			[]byte{0x01, 0x04, 0x00, 0x14}, // AC-Cookie, 20 octets
			[]byte{0x19, 0x05, 0xb9, 0xc2, 0x97, 0x9a, 0x95, 0x73, 0x58, 0x20, 0xdd, 0x96, 0x5b, 0x15, 0xcc, 0x79, 0x72, 0x00, 0x00, 0x00},
			[]byte{0x01, 0x03, 0x00, 0x04, 0x73, 0x00, 0x00, 0x00}, // Host-Uniq, echoed
		),
		pkt: &Packet{Code: CodePADO, Tags: []Tag{ACName("lab-ac"), ServiceName("isp"),
			ACCookie{0x19, 0x05, 0xb9, 0xc2, 0x97, 0x9a, 0x95, 0x73, 0x58, 0x20, 0xdd, 0x96, 0x5b, 0x15, 0xcc, 0x79, 0x72, 0x00, 0x00, 0x00},
			HostUniq{0x73, 0, 0, 0}}},
		str: "PADO session 0x0 length 49 [AC-name lab-ac] [service-name isp] [AC-cookie  19 05 b9 c2 97 9a 95 73 58 20 dd 96 5b 15 cc 79 72 00 00 00] [host-uniq  73 00 00 00]",
	},
	{
		name: "PADS",
		wire: cat(
			[]byte{0x11, 0x65},                            // VER/TYPE, CODE PADS
			[]byte{0x00, 0x01},                            // SESSION_ID 1
			[]byte{0x00, 0x0f},                            // LENGTH 15
			[]byte{0x01, 0x01, 0x00, 0x03}, []byte("isp"), // Service-Name
			[]byte{0x01, 0x03, 0x00, 0x04, 0x73, 0x00, 0x00, 0x00}, // Host-Uniq
		),
		pkt: &Packet{Code: CodePADS, SessionID: 1, Tags: []Tag{ServiceName("isp"), HostUniq{0x73, 0, 0, 0}}},
		str: "PADS session 0x1 length 15 [service-name isp] [host-uniq  73 00 00 00]",
	},
	{
		name: "PADR with PPP-Max-Payload and Relay-Session-Id",
		wire: cat(
			[]byte{0x11, 0x19, 0x00, 0x00},                         // VER/TYPE, CODE PADR, SESSION_ID 0
			[]byte{0x00, 0x16},                                     // LENGTH 22
			[]byte{0x01, 0x01, 0x00, 0x00},                         // Service-Name, empty: any service
			[]byte{0x01, 0x20, 0x00, 0x02, 0x05, 0xdc},             // PPP-Max-Payload 1500 (RFC 4638)
			[]byte{0x01, 0x10, 0x00, 0x04, 0xde, 0xad, 0xbe, 0xef}, // Relay-Session-Id
			[]byte{0x00, 0x00, 0x00, 0x00},                         // End-Of-List
		),
		pkt: &Packet{Code: CodePADR, Tags: []Tag{ServiceName(""), PPPMaxPayload(1500), RelaySessionID{0xde, 0xad, 0xbe, 0xef}, EndOfList{}}},
		str: "PADR session 0x0 length 22 [service-name] [PPP-max-payload  05 dc] [relay-session-id  de ad be ef] [end-of-list]",
	},
	{
		name: "PADS refusal",
		wire: cat(
			[]byte{0x11, 0x65, 0x00, 0x00},                                        // VER/TYPE, CODE PADS, SESSION_ID 0: refused (§5.4)
			[]byte{0x00, 0x15},                                                    // LENGTH 21
			[]byte{0x02, 0x01, 0x00, 0x00},                                        // Service-Name-Error, empty
			[]byte{0x02, 0x03, 0x00, 0x0d}, []byte("no such\tuser"), []byte{0x07}, // Generic-Error, tab kept, BEL shown as ^G
		),
		pkt: &Packet{Code: CodePADS, Tags: []Tag{ServiceNameError(""), GenericError("no such\tuser\x07")}},
		str: "PADS session 0x0 length 21 [service-name-error] [generic-error no such\tuser^G]",
	},
	{
		name: "PADT with vendor and unknown tags",
		wire: cat(
			[]byte{0x11, 0xa7}, // VER/TYPE, CODE PADT
			[]byte{0x12, 0x34}, // SESSION_ID 0x1234
			[]byte{0x00, 0x13}, // LENGTH 19
			[]byte{0x01, 0x05, 0x00, 0x06, 0x00, 0x00, 0x0d, 0xe9, 0xab, 0xcd}, // Vendor-Specific, vendor 3561 (Broadband Forum)
			[]byte{0x01, 0x12, 0x00, 0x01, 0x78},                               // 0x0112 (MOTM, Carrel draft): kept raw
			[]byte{0x02, 0x02, 0x00, 0x00},                                     // AC-System-Error, empty
		),
		pkt: &Packet{Code: CodePADT, SessionID: 0x1234, Tags: []Tag{VendorSpecific{VendorID: 3561, Data: []byte{0xab, 0xcd}}, RawTag{TagType: 0x0112, Value: []byte{0x78}}, ACSystemError("")}},
		str: "PADT session 0x1234 length 19 [vendor-specific  00 00 0d e9 ab cd] [unknown tag 0x112  78] [AC-system-error]",
	},
}

func TestGolden(t *testing.T) {
	for _, tt := range golden {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Parse(tt.wire)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if !reflect.DeepEqual(got, tt.pkt) {
				t.Errorf("Parse = %#v\nwant    %#v", got, tt.pkt)
			}
			if s := got.String(); s != tt.str {
				t.Errorf("String = %q\nwant     %q", s, tt.str)
			}
			wire, err := tt.pkt.Marshal()
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			if !bytes.Equal(wire, tt.wire) {
				t.Errorf("Marshal = % x\nwant      % x", wire, tt.wire)
			}
			// Ethernet padding after LENGTH octets is ignored.
			padded, err := Parse(append(append([]byte{}, tt.wire...), make([]byte, 20)...))
			if err != nil || !reflect.DeepEqual(padded, tt.pkt) {
				t.Errorf("Parse(padded) = %v, %v", padded, err)
			}
		})
	}
}

func TestParseDoesNotAlias(t *testing.T) {
	wire := append([]byte{}, golden[1].wire...)
	p, err := Parse(wire)
	if err != nil {
		t.Fatal(err)
	}
	for i := range wire {
		wire[i] = 0xff
	}
	if !reflect.DeepEqual(p, golden[1].pkt) {
		t.Errorf("parsed packet changed with its input buffer: %v", p)
	}
}

func TestFind(t *testing.T) {
	p := &Packet{Code: CodePADO, Tags: []Tag{ACName("a"), ServiceName("x"), ServiceName("y"), EndOfList{}, HostUniq{1}, ServiceName("z")}}
	if n, ok := Find[ACName](p); !ok || n != "a" {
		t.Errorf("Find[ACName] = %q, %v", n, ok)
	}
	if got := FindAll[ServiceName](p); !reflect.DeepEqual(got, []ServiceName{"x", "y"}) {
		t.Errorf("FindAll[ServiceName] = %v (tags after End-Of-List must not count)", got)
	}
	if _, ok := Find[HostUniq](p); ok {
		t.Error("Find found a tag after End-Of-List")
	}
	if p.Error() != nil {
		t.Error("Error() on a packet without error tags")
	}
	q := &Packet{Code: CodePADS, Tags: []Tag{ServiceName("x"), ACSystemError("full")}}
	if e, ok := q.Error().(ACSystemError); !ok || e != "full" {
		t.Errorf("Error() = %v", q.Error())
	}
}

// header builds a PPPoE header for the bad-input rows.
func header(code Code, sid uint16, length int) []byte {
	return []byte{VerType, byte(code), byte(sid >> 8), byte(sid), byte(length >> 8), byte(length)}
}

func tag(typ TagType, v []byte) []byte {
	return cat([]byte{byte(typ >> 8), byte(typ), byte(len(v) >> 8), byte(len(v))}, v)
}

var svc = tag(TagServiceName, []byte("isp"))

func TestParseErrors(t *testing.T) {
	bigPADI := cat(header(CodePADI, 0, 1479), tag(TagServiceName, nil), tag(TagHostUniq, make([]byte, 1471)))
	tests := []struct {
		name string
		in   []byte
		want error
		msg  string // in the error text
	}{
		{"empty", nil, errTruncated, "header of 0 octets"},
		{"truncated header", []byte{0x11, 0x09, 0x00, 0x00, 0x00}, errTruncated, "header of 5 octets"},
		{"version 2", cat([]byte{0x21, 0x09, 0, 0, 0, 0}), errVerType, "0x21"},
		{"type 2", cat([]byte{0x12, 0x09, 0, 0, 0, 0}), errVerType, "0x12"},
		{"length past the end", cat(header(CodePADI, 0, 8), svc[:6]), errLength, "length 8, only 6"},
		{"tag header truncated", cat(header(CodePADI, 0, 9), svc, []byte{0x01, 0x03}), errTagLength, "offset 7"},
		{"tag length past the payload", cat(header(CodePADI, 0, 7), []byte{0x01, 0x01, 0x00, 0x04}, []byte("isp")), errTagLength, "service-name length 4 runs past the payload (3 octets left)"},
		{"tag length 1 past the payload", cat(header(CodePADI, 0, 4), []byte{0x01, 0x03, 0x00, 0x01}), errTagLength, "host-uniq length 1"},
		{"PPP-Max-Payload length 0", cat(header(CodePADI, 0, 11), svc, tag(TagPPPMaxPayload, nil)), errTagLength, "must be 2"},
		{"PPP-Max-Payload length 1", cat(header(CodePADI, 0, 12), svc, tag(TagPPPMaxPayload, []byte{5})), errTagLength, "must be 2"},
		{"End-Of-List length 1", cat(header(CodePADI, 0, 12), svc, tag(TagEndOfList, []byte{0})), errTagLength, "must be 0"},
		{"Vendor-Specific without vendor id", cat(header(CodePADO, 0, 7), tag(TagVendorSpecific, []byte{0, 0, 1})), errTagLength, "vendor id"},
		{"PADI over 1484 octets", bigPADI, errTooLong, "PADI of 1485 octets"},
		{"PADI with session id", cat(header(CodePADI, 1, 7), svc), errSessionID, "must be 0 (RFC 2516 §5.1)"},
		{"PADO with session id", cat(header(CodePADO, 7, 7), svc), errSessionID, "§5.2"},
		{"PADR with session id", cat(header(CodePADR, 7, 7), svc), errSessionID, "§5.3"},
		{"PADS with session id 0 and no error", cat(header(CodePADS, 0, 7), svc), errSessionID, "§5.4"},
		{"PADS with the reserved session id", cat(header(CodePADS, 0xffff, 7), svc), errSessionID, "0xffff"},
		{"PADT with session id 0", header(CodePADT, 0, 0), errSessionID, "§5.5"},
		{"PADI without service name", cat(header(CodePADI, 0, 8), tag(TagHostUniq, []byte{1, 2, 3, 4})), errMissingTag, "0 service-name"},
		{"PADI with two service names", cat(header(CodePADI, 0, 14), svc, svc), errDuplicate, "2 service-name"},
		{"PADR with two service names", cat(header(CodePADR, 0, 14), svc, svc), errDuplicate, "2 service-name"},
		{"PADS with two service names", cat(header(CodePADS, 1, 14), svc, svc), errDuplicate, "2 service-name"},
		{"duplicate Host-Uniq", cat(header(CodePADI, 0, 19), svc, tag(TagHostUniq, []byte{1, 2}), tag(TagHostUniq, []byte{3, 4})), errDuplicate, "2 host-uniq"},
		{"duplicate AC-Cookie", cat(header(CodePADR, 0, 15), svc, tag(TagACCookie, nil), tag(TagACCookie, nil)), errDuplicate, "AC-cookie"},
		{"duplicate AC-Name", cat(header(CodePADO, 0, 8), tag(TagACName, nil), tag(TagACName, nil)), errDuplicate, "AC-name"},
		{"duplicate Relay-Session-Id", cat(header(CodePADO, 0, 8), tag(TagRelaySessionID, nil), tag(TagRelaySessionID, nil)), errDuplicate, "relay-session-id"},
		{"duplicate PPP-Max-Payload", cat(header(CodePADO, 0, 12), tag(TagPPPMaxPayload, []byte{5, 0xdc}), tag(TagPPPMaxPayload, []byte{5, 0xdc})), errDuplicate, "PPP-max-payload"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Parse = %v, %v; want %v", p, err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "discovery: ") {
				t.Errorf("error %q lacks %q or the package prefix", err, tt.msg)
			}
		})
	}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
	}{
		// Exactly 1484 octets: the limit is inclusive.
		{"PADI of 1484 octets", cat(header(CodePADI, 0, 1478), tag(TagServiceName, nil), tag(TagHostUniq, make([]byte, 1470)))},
		{"PADO with several service names", cat(header(CodePADO, 0, 20), tag(TagACName, []byte("ac")), svc, svc)},
		{"PADO without AC-Name", cat(header(CodePADO, 0, 7), svc)},
		{"duplicates after End-Of-List do not count", cat(header(CodePADI, 0, 18), svc, tag(TagEndOfList, nil), svc)},
		{"PADS refusal with AC-System-Error", cat(header(CodePADS, 0, 4), tag(TagACSystemError, nil))},
		// The largest payload LENGTH can say: no PADO limit but that.
		{"PADO of 65535 octets", cat(header(CodePADO, 0, 0xffff), tag(TagACCookie, make([]byte, 0xffff-4)))},
		// A vendor id and no data.
		{"Vendor-Specific of 4 octets", cat(header(CodePADO, 0, 8), tag(TagVendorSpecific, []byte{0, 0, 0x0d, 0xe9}))},
		{"PADM is kept raw", cat(header(CodePADM, 1, 7), tag(0x0112, []byte("hi!")))},
		{"unknown code", cat(header(0x42, 9, 0))},
		{"tag of length 0xffff claimed but padding present", cat(header(CodePADT, 1, 0), []byte{0xff, 0xff, 0xff, 0xff})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Parse(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			// Every accepted packet re-encodes to its own octets.
			wire, err := p.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			n := HeaderLen + (int(tt.in[4])<<8 | int(tt.in[5]))
			if !bytes.Equal(wire, tt.in[:n]) {
				t.Errorf("Marshal differs from the input:\n% x\n% x", wire[:min(len(wire), 64)], tt.in[:min(n, 64)])
			}
		})
	}
}

func TestMarshalErrors(t *testing.T) {
	tests := []struct {
		name string
		pkt  *Packet
		want error
	}{
		{"PADI over 1484", &Packet{Code: CodePADI, Tags: []Tag{ServiceName(""), HostUniq(make([]byte, 1471))}}, errTooLong},
		{"PADT without session", &Packet{Code: CodePADT}, errSessionID},
		{"tag over 65535", &Packet{Code: CodePADO, Tags: []Tag{ACCookie(make([]byte, 0x10000))}}, errTooLong},
		{"payload over 65535", &Packet{Code: CodePADO, Tags: []Tag{ACCookie(make([]byte, 0xfffc)), ACName("x")}}, errTooLong},
		{"PADR without service name", &Packet{Code: CodePADR}, errMissingTag},
	}
	for _, tt := range tests {
		if _, err := tt.pkt.Marshal(); !errors.Is(err, tt.want) {
			t.Errorf("%s: Marshal = %v, want %v", tt.name, err, tt.want)
		}
	}
}

func TestTagFormatting(t *testing.T) {
	tests := []struct {
		tag  Tag
		want string
	}{
		{ServiceName("isp"), "[service-name isp]"},
		{ServiceName(""), "[service-name]"},
		{ACName("a\x00hidden"), "[AC-name a]"},                 // %v stops at a NUL
		{ACName("caf\xc3\xa9"), "[AC-name cafM-CM-)]"},         // octets above 0x7f as M-
		{GenericError("x\x7fy\x01"), "[generic-error x^?y^A]"}, // DEL and controls as ^X
		{HostUniq(nil), "[host-uniq]"},
		{ACCookie(bytes.Repeat([]byte{0xab}, 32)), "[AC-cookie " + strings.Repeat(" ab", 32) + "]"}, // all of it: no "..."
		{ACCookie(bytes.Repeat([]byte{0xab}, 33)), "[AC-cookie " + strings.Repeat(" ab", 32) + "... (length 33)]"},
		{PPPMaxPayload(1492), "[PPP-max-payload  05 d4]"},
		{RawTag{TagType: 0x0106, Value: []byte{0, 1, 0, 2}}, "[unknown tag 0x106  00 01 00 02]"},
		{EndOfList{}, "[end-of-list]"},
	}
	for _, tt := range tests {
		if got := tt.tag.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.tag, got, tt.want)
		}
	}
	if got := Code(0x42).String(); got != "unknown code 42" {
		t.Errorf("unknown code = %q", got)
	}
}

func TestLogLines(t *testing.T) {
	dst, _ := net.ParseMAC("ff:ff:ff:ff:ff:ff")
	src, _ := net.ParseMAC("aa:ea:55:c8:2a:56")
	got := golden[0].pkt.LogLines("Send", dst, src)
	want := []string{
		"Send PPPOE Discovery V1T1 PADI session 0x0 length 15",
		" dst ff:ff:ff:ff:ff:ff  src aa:ea:55:c8:2a:56",
		" [service-name isp] [host-uniq  73 00 00 00]",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LogLines =\n%q\nwant\n%q", got, want)
	}
}

func TestFrames(t *testing.T) {
	dst, _ := net.ParseMAC("5e:10:39:17:4a:68")
	src, _ := net.ParseMAC("aa:ea:55:c8:2a:56")
	padr, _ := golden[3].pkt.Marshal()
	frame, err := AppendFrame(nil, dst, src, EtherTypeDiscovery, padr)
	if err != nil {
		t.Fatal(err)
	}
	f, err := ParseFrame(frame)
	if err != nil {
		t.Fatal(err)
	}
	if f.Dst.String() != dst.String() || f.Src.String() != src.String() || f.EtherType != EtherTypeDiscovery || !bytes.Equal(f.Payload, padr) {
		t.Errorf("ParseFrame = %+v", f)
	}
	if _, err := AppendFrame(nil, dst[:5], src, EtherTypeDiscovery, nil); !errors.Is(err, errBadEthernet) {
		t.Errorf("AppendFrame with a 5-octet address: %v", err)
	}
	if _, err := ParseFrame(frame[:13]); !errors.Is(err, errTruncated) {
		t.Errorf("ParseFrame(13 octets) = %v", err)
	}
	ip := append(append([]byte{}, frame[:12]...), 0x08, 0x00)
	if _, err := ParseFrame(ip); !errors.Is(err, errNotPPPoE) {
		t.Errorf("ParseFrame(IPv4) = %v", err)
	}

	// Session stage: code 0, the session id, a PPP frame (LCP ConfReq).
	lcp := []byte{0xc0, 0x21, 0x01, 0x01, 0x00, 0x04}
	sess, err := AppendSession(nil, 1, lcp)
	if err != nil {
		t.Fatal(err)
	}
	want := cat([]byte{0x11, 0x00, 0x00, 0x01, 0x00, 0x06}, lcp) // VER/TYPE, CODE 0, SESSION_ID 1, LENGTH 6
	if !bytes.Equal(sess, want) {
		t.Errorf("AppendSession = % x, want % x", sess, want)
	}
	h, err := ParseSession(append(sess, 0, 0, 0)) // with Ethernet padding
	if err != nil || h.SessionID != 1 || !bytes.Equal(h.Payload, lcp) {
		t.Errorf("ParseSession = %+v, %v", h, err)
	}
	for _, bad := range []struct {
		in   []byte
		want error
	}{
		{cat([]byte{0x11, 0x09, 0, 1, 0, 0}), errNotPPPoE},  // a PADI, not session data
		{cat([]byte{0x11, 0x00, 0, 0, 0, 0}), errSessionID}, // session 0
		{cat([]byte{0x11, 0x00, 0, 1, 0, 9}), errLength},
	} {
		if _, err := ParseSession(bad.in); !errors.Is(err, bad.want) {
			t.Errorf("ParseSession(% x) = %v, want %v", bad.in, err, bad.want)
		}
	}
	// LENGTH is 16 bits: 65535 octets fit, 65536 do not.
	if b, err := AppendSession(nil, 1, make([]byte, 0xffff)); err != nil || !bytes.Equal(b[:HeaderLen], []byte{0x11, 0x00, 0x00, 0x01, 0xff, 0xff}) {
		t.Errorf("AppendSession(65535 octets) = % x..., %v", b[:min(len(b), HeaderLen)], err)
	}
	if _, err := AppendSession(nil, 1, make([]byte, 0x10000)); !errors.Is(err, errTooLong) {
		t.Errorf("AppendSession(65536 octets) = %v", err)
	}
}

// The one definition of the session's sizes, which client and netcfg use:
// an Ethernet payload of 1500 octets carries the PPPoE header (6) and the
// PPP protocol field (2) around at most 1492 (RFC 2516 §7), and a PPP MTU
// needs an Ethernet MTU 8 above it (RFC 4638 §2).
func TestSessionSizes(t *testing.T) {
	if DefaultMTU != 1492 || Overhead != 8 || DefaultMTU+Overhead != 1500 {
		t.Errorf("DefaultMTU %d, Overhead %d; want 1492 and 8", DefaultMTU, Overhead)
	}
}
