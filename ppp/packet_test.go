package ppp

import (
	"bytes"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

var (
	lcp    = []byte{0xc0, 0x21}
	pap    = []byte{0xc0, 0x23}
	chap   = []byte{0xc2, 0x23}
	ipcp   = []byte{0x80, 0x21}
	ipv6cp = []byte{0x80, 0x57}
	ccp    = []byte{0x80, 0xfd}
)

// Golden frames: the protocol field, then the control packet. The expected
// strings are pppd 2.4.9's; several are lines from the reference captures'
// logs (testdata/captures).
var golden = []struct {
	name  string
	frame []byte
	pkt   Packet
	opts  []Option // for Configure packets
	str   string
}{
	{
		name: "LCP ConfReq from pppd",
		frame: cat(lcp,
			[]byte{0x01},                   // Code: Configure-Request
			[]byte{0x01},                   // Identifier
			[]byte{0x00, 0x0e},             // Length 14
			[]byte{0x01, 0x04, 0x05, 0xd4}, // MRU 1492
			[]byte{0x05, 0x06, 0x65, 0x1b, 0x31, 0x53}, // Magic-Number
		),
		pkt:  Packet{Protocol: ProtoLCP, Code: CodeConfReq, ID: 1, Data: []byte{1, 4, 5, 0xd4, 5, 6, 0x65, 0x1b, 0x31, 0x53}},
		opts: []Option{MRU(1492), MagicNumber(0x651b3153)},
		str:  "[LCP ConfReq id=0x1 <mru 1492> <magic 0x651b3153>]",
	},
	{
		name: "LCP ConfReq from the AC, CHAP MD5",
		frame: cat(lcp,
			[]byte{0x01, 0x01, 0x00, 0x13},             // Configure-Request, id 1, length 19
			[]byte{0x01, 0x04, 0x05, 0xd4},             // MRU 1492
			[]byte{0x03, 0x05, 0xc2, 0x23, 0x05},       // Auth-Protocol CHAP, algorithm 5 (MD5)
			[]byte{0x05, 0x06, 0xa0, 0xb3, 0x06, 0x8f}, // Magic-Number
		),
		pkt:  Packet{Protocol: ProtoLCP, Code: CodeConfReq, ID: 1, Data: []byte{1, 4, 5, 0xd4, 3, 5, 0xc2, 0x23, 5, 5, 6, 0xa0, 0xb3, 6, 0x8f}},
		opts: []Option{MRU(1492), AuthProtocol{Protocol: ProtoCHAP, Algorithm: CHAPMD5}, MagicNumber(0xa0b3068f)},
		str:  "[LCP ConfReq id=0x1 <mru 1492> <auth chap MD5> <magic 0xa0b3068f>]",
	},
	{
		name: "LCP ConfRej of every option pppoed refuses",
		frame: cat(lcp,
			[]byte{0x04, 0x07, 0x00, 0x2a},                               // Configure-Reject, id 7, length 42
			[]byte{0x02, 0x06, 0x00, 0x00, 0x00, 0x00},                   // ACCM 0 (RFC 2516 §7: reject)
			[]byte{0x07, 0x02},                                           // PFC
			[]byte{0x08, 0x02},                                           // ACFC (RFC 2516 §7: reject)
			[]byte{0x04, 0x08, 0xc0, 0x25, 0x00, 0x00, 0x01, 0xf4},       // Quality-Protocol LQR, period 500
			[]byte{0x11, 0x04, 0x05, 0xdc},                               // MRRU 1500
			[]byte{0x13, 0x09, 0x03, 0x02, 0x00, 0x00, 0xaa, 0xbb, 0xcc}, // Endpoint Discriminator, class 3 (MAC)
			[]byte{0x03, 0x04, 0xc0, 0x23},                               // Auth-Protocol PAP
			[]byte{0x0d, 0x03, 0x06},                                     // Callback, CBCP: kept raw
		),
		pkt: Packet{Protocol: ProtoLCP, Code: CodeConfRej, ID: 7, Data: cat(
			[]byte{2, 6, 0, 0, 0, 0, 7, 2, 8, 2, 4, 8, 0xc0, 0x25, 0, 0, 1, 0xf4, 0x11, 4, 5, 0xdc},
			[]byte{0x13, 9, 3, 2, 0, 0, 0xaa, 0xbb, 0xcc, 3, 4, 0xc0, 0x23, 0xd, 3, 6})},
		opts: []Option{ACCM(0), PFC{}, ACFC{}, QualityProtocol{Protocol: ProtoLQR, Data: []byte{0, 0, 1, 0xf4}}, MRRU(1500),
			EndpointDiscriminator{Class: 3, Address: []byte{2, 0, 0, 0xaa, 0xbb, 0xcc}}, AuthProtocol{Protocol: ProtoPAP},
			RawOption{Protocol: ProtoLCP, Kind: 13, Data: []byte{6}}},
		str: "[LCP ConfRej id=0x7 <asyncmap 0x0> <pcomp> <accomp> <quality lqr 00 00 01 f4> <mrru 1500> <endpoint [MAC:02:00:00:aa:bb:cc]> <auth pap> <callback CBCP>]",
	},
	{
		name: "LCP ConfNak suggesting MS-CHAPv2",
		frame: cat(lcp,
			[]byte{0x03, 0x02, 0x00, 0x09},       // Configure-Nak, id 2, length 9
			[]byte{0x03, 0x05, 0xc2, 0x23, 0x81}, // Auth-Protocol CHAP, algorithm 0x81 (MS-CHAPv2)
		),
		pkt:  Packet{Protocol: ProtoLCP, Code: CodeConfNak, ID: 2, Data: []byte{3, 5, 0xc2, 0x23, 0x81}},
		opts: []Option{AuthProtocol{Protocol: ProtoCHAP, Algorithm: CHAPMSCHAPv2}},
		str:  "[LCP ConfNak id=0x2 <auth chap MS-v2>]",
	},
	{
		name: "LCP EchoReq",
		frame: cat(lcp,
			[]byte{0x09, 0x00, 0x00, 0x08}, // Echo-Request, id 0, length 8
			[]byte{0x65, 0x1b, 0x31, 0x53}, // Magic-Number
		),
		pkt: Packet{Protocol: ProtoLCP, Code: CodeEchoReq, ID: 0, Data: []byte{0x65, 0x1b, 0x31, 0x53}},
		str: "[LCP EchoReq id=0x0 magic=0x651b3153]",
	},
	{
		name: "LCP TermReq",
		frame: cat(lcp,
			[]byte{0x05, 0x02, 0x00, 0x10}, // Terminate-Request, id 2, length 16
			[]byte("User request"),
		),
		pkt: Packet{Protocol: ProtoLCP, Code: CodeTermReq, ID: 2, Data: []byte("User request")},
		str: `[LCP TermReq id=0x2 "User request"]`,
	},
	{
		name: "LCP ProtRej of IPv6CP",
		frame: cat(lcp,
			[]byte{0x08, 0x03, 0x00, 0x0a}, // Protocol-Reject, id 3, length 10
			[]byte{0x80, 0x57},             // Rejected-Protocol IPv6CP
			[]byte{0x01, 0x01, 0x00, 0x0e}, // the start of the rejected ConfReq
		),
		pkt: Packet{Protocol: ProtoLCP, Code: CodeProtRej, ID: 3, Data: []byte{0x80, 0x57, 1, 1, 0, 0xe}},
		str: "[LCP ProtRej id=0x3 80 57 01 01 00 0e]",
	},
	{
		name: "LCP TimeRem",
		frame: cat(lcp,
			[]byte{0x0d, 0x04, 0x00, 0x0f}, // Time-Remaining, id 4, length 15
			[]byte{0x01, 0x02, 0x03, 0x04}, // Magic-Number
			[]byte{0x00, 0x00, 0x0e, 0x10}, // 3600 seconds
			[]byte("bye"),
		),
		pkt: Packet{Protocol: ProtoLCP, Code: CodeTimeRemaining, ID: 4, Data: cat([]byte{1, 2, 3, 4, 0, 0, 0xe, 0x10}, []byte("bye"))},
		str: `[LCP TimeRem id=0x4 magic=0x1020304 seconds=3600 "bye"]`,
	},
	{
		name: "IPCP ConfNak with address and DNS",
		frame: cat(ipcp,
			[]byte{0x03, 0x01, 0x00, 0x16},             // Configure-Nak, id 1, length 22
			[]byte{0x03, 0x06, 0x0a, 0x40, 0x00, 0x02}, // IP-Address 10.64.0.2
			[]byte{0x81, 0x06, 0x0a, 0x40, 0x00, 0x35}, // Primary-DNS 10.64.0.53 (RFC 1877)
			[]byte{0x83, 0x06, 0x0a, 0x40, 0x00, 0x36}, // Secondary-DNS 10.64.0.54
		),
		pkt: Packet{Protocol: ProtoIPCP, Code: CodeConfNak, ID: 1, Data: []byte{3, 6, 10, 64, 0, 2, 0x81, 6, 10, 64, 0, 0x35, 0x83, 6, 10, 64, 0, 0x36}},
		opts: []Option{IPAddress(netip.MustParseAddr("10.64.0.2")), PrimaryDNS(netip.MustParseAddr("10.64.0.53")),
			SecondaryDNS(netip.MustParseAddr("10.64.0.54"))},
		str: "[IPCP ConfNak id=0x1 <addr 10.64.0.2> <ms-dns1 10.64.0.53> <ms-dns2 10.64.0.54>]",
	},
	{
		name: "IPCP ConfRej of VJ, NBNS and the old addresses option",
		frame: cat(ipcp,
			[]byte{0x04, 0x05, 0x00, 0x20},                                     // Configure-Reject, id 5, length 32
			[]byte{0x02, 0x06, 0x00, 0x2d, 0x0f, 0x01},                         // IP-Compression VJ, max-slot 15, comp-slot 1
			[]byte{0x82, 0x06, 0x0a, 0x00, 0x00, 0x01},                         // Primary-NBNS
			[]byte{0x84, 0x06, 0x0a, 0x00, 0x00, 0x02},                         // Secondary-NBNS
			[]byte{0x01, 0x0a, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02}, // IP-Addresses (RFC 1332 §3.1)
		),
		pkt: Packet{Protocol: ProtoIPCP, Code: CodeConfRej, ID: 5, Data: cat([]byte{2, 6, 0, 0x2d, 0xf, 1, 0x82, 6, 10, 0, 0, 1, 0x84, 6, 10, 0, 0, 2},
			[]byte{1, 10, 10, 0, 0, 1, 10, 0, 0, 2})},
		opts: []Option{IPCompression{Protocol: 0x2d, Data: []byte{0xf, 1}}, PrimaryNBNS(netip.MustParseAddr("10.0.0.1")),
			SecondaryNBNS(netip.MustParseAddr("10.0.0.2")), IPAddresses{Source: netip.MustParseAddr("10.0.0.1"), Destination: netip.MustParseAddr("10.0.0.2")}},
		str: "[IPCP ConfRej id=0x5 <compress VJ 0f 01> <ms-wins 10.0.0.1> <ms-wins 10.0.0.2> <addrs 10.0.0.1 10.0.0.2>]",
	},
	{
		name: "IPv6CP ConfReq",
		frame: cat(ipv6cp,
			[]byte{0x01, 0x01, 0x00, 0x0e},                                     // Configure-Request, id 1, length 14
			[]byte{0x01, 0x0a, 0xac, 0xf5, 0x59, 0xa6, 0x40, 0x70, 0x01, 0x12}, // Interface-Identifier
		),
		pkt:  Packet{Protocol: ProtoIPv6CP, Code: CodeConfReq, ID: 1, Data: []byte{1, 10, 0xac, 0xf5, 0x59, 0xa6, 0x40, 0x70, 1, 0x12}},
		opts: []Option{InterfaceID{0xac, 0xf5, 0x59, 0xa6, 0x40, 0x70, 0x01, 0x12}},
		str:  "[IPV6CP ConfReq id=0x1 <addr fe80::acf5:59a6:4070:0112>]",
	},
	{
		name: "CCP ConfReq from pppd",
		frame: cat(ccp,
			[]byte{0x01, 0x01, 0x00, 0x0f}, // Configure-Request, id 1, length 15
			[]byte{0x1a, 0x04, 0x78, 0x00}, // Deflate, window 15
			[]byte{0x18, 0x04, 0x78, 0x00}, // Deflate (draft number)
			[]byte{0x15, 0x03, 0x2f},       // BSD-Compress v1, 15 bits
		),
		pkt:  Packet{Protocol: ProtoCCP, Code: CodeConfReq, ID: 1, Data: []byte{0x1a, 4, 0x78, 0, 0x18, 4, 0x78, 0, 0x15, 3, 0x2f}},
		opts: []Option{RawOption{Protocol: ProtoCCP, Kind: 26, Data: []byte{0x78, 0}}, RawOption{Protocol: ProtoCCP, Kind: 24, Data: []byte{0x78, 0}}, RawOption{Protocol: ProtoCCP, Kind: 21, Data: []byte{0x2f}}},
		str:  "[CCP ConfReq id=0x1 <deflate 15> <deflate(old#) 15> <bsd v1 15>]",
	},
	{
		name: "PAP AuthReq",
		frame: cat(pap,
			[]byte{0x01, 0x01, 0x00, 0x10}, // Authenticate-Request, id 1, length 16
			[]byte{0x05}, []byte("user1"),  // Peer-ID
			[]byte{0x05}, []byte("pass1"), // Password
		),
		pkt: Packet{Protocol: ProtoPAP, Code: CodePAPAuthReq, ID: 1, Data: cat([]byte{5}, []byte("user1"), []byte{5}, []byte("pass1"))},
		str: `[PAP AuthReq id=0x1 user="user1" password=<hidden>]`,
	},
	{
		name: "PAP AuthAck",
		frame: cat(pap,
			[]byte{0x02, 0x01, 0x00, 0x0d}, // Authenticate-Ack, id 1, length 13
			[]byte{0x08}, []byte("Login ok"),
		),
		pkt: Packet{Protocol: ProtoPAP, Code: CodePAPAuthAck, ID: 1, Data: cat([]byte{8}, []byte("Login ok"))},
		str: `[PAP AuthAck id=0x1 "Login ok"]`,
	},
	{
		name: "CHAP Challenge",
		frame: cat(chap,
			[]byte{0x01, 0x97, 0x00, 0x1c}, // Challenge, id 0x97, length 28
			[]byte{0x11},                   // Value-Size 17
			[]byte{0xff, 0x28, 0x6f, 0x2f, 0x19, 0xd4, 0x12, 0xf0, 0x47, 0xc6, 0x62, 0xb4, 0x19, 0x03, 0x0d, 0xcd, 0xf4},
			[]byte("lab-ac"), // Name
		),
		pkt: Packet{Protocol: ProtoCHAP, Code: CodeCHAPChallenge, ID: 0x97, Data: cat([]byte{0x11, 0xff, 0x28, 0x6f, 0x2f, 0x19, 0xd4, 0x12, 0xf0, 0x47, 0xc6, 0x62, 0xb4, 0x19, 0x03, 0x0d, 0xcd, 0xf4}, []byte("lab-ac"))},
		str: `[CHAP Challenge id=0x97 <ff286f2f19d412f047c662b419030dcdf4>, name = "lab-ac"]`,
	},
	{
		name: "CHAP Success",
		frame: cat(chap,
			[]byte{0x03, 0x97, 0x00, 0x12}, // Success, id 0x97, length 18
			[]byte("Access granted"),       // Message
		),
		pkt: Packet{Protocol: ProtoCHAP, Code: CodeCHAPSuccess, ID: 0x97, Data: []byte("Access granted")},
		str: `[CHAP Success id=0x97 "Access granted"]`,
	},
}

func TestGolden(t *testing.T) {
	for _, tt := range golden {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFrame(tt.frame)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.pkt) {
				t.Errorf("ParseFrame = %#v\nwant         %#v", got, tt.pkt)
			}
			if s := got.String(); s != tt.str {
				t.Errorf("String = %s\nwant     %s", s, tt.str)
			}
			wire, err := tt.pkt.AppendFrame(nil)
			if err != nil || !bytes.Equal(wire, tt.frame) {
				t.Errorf("AppendFrame = % x, %v\nwant          % x", wire, err, tt.frame)
			}
			if tt.opts == nil {
				return
			}
			opts, err := ParseOptions(got.Protocol, got.Data)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(opts, tt.opts) {
				t.Errorf("ParseOptions = %#v\nwant           %#v", opts, tt.opts)
			}
			data, err := AppendOptions(nil, tt.opts)
			if err != nil || !bytes.Equal(data, tt.pkt.Data) {
				t.Errorf("AppendOptions = % x, %v; want % x", data, err, tt.pkt.Data)
			}
			// Each option prints as it does inside the packet.
			var parts []string
			for _, o := range opts {
				parts = append(parts, o.String())
			}
			if joined := strings.Join(parts, " "); !strings.Contains(tt.str, joined) {
				t.Errorf("options print as %q, not as in %q", joined, tt.str)
			}
		})
	}
}

// FormatFrame's handling of what pppd prints specially, malformed packets
// included; each expected string follows pppd 2.4.9's code for that case.
func TestFormatFrame(t *testing.T) {
	long := bytes.Repeat([]byte{0xee}, 40)
	tests := []struct {
		name  string
		frame []byte
		want  string
	}{
		{"empty", nil, ""},
		{"one octet", []byte{0xc0}, " c0"},
		{"LCP header only", cat(lcp, []byte{1, 1, 0, 4}), "[LCP ConfReq id=0x1]"},
		{"LCP shorter than a header", cat(lcp, []byte{1, 1, 0}), "[LCP] 01 01 00"},
		{"LCP length below 4", cat(lcp, []byte{1, 1, 0, 3}), "[LCP] 01 01 00 03"},
		{"LCP length past the data", cat(lcp, []byte{1, 1, 0, 9, 1}), "[LCP] 01 01 00 09 01"},
		{"padding after Length", cat(lcp, []byte{9, 1, 0, 8, 0, 0, 0, 1, 0xaa, 0xbb}), "[LCP EchoReq id=0x1 magic=0x1] aa bb"},
		{"unknown LCP code", cat(lcp, []byte{0x42, 3, 0, 5, 7}), "[LCP code=0x42 id=0x3 07]"},
		{"MRU of the wrong length", cat(lcp, []byte{1, 1, 0, 7, 1, 3, 5}), "[LCP ConfReq id=0x1 < 01 03 05>]"},
		{"option past the packet", cat(lcp, []byte{1, 1, 0, 10, 1, 4, 5, 0xd4, 5, 9}), "[LCP ConfReq id=0x1 <mru 1492> 05 09]"},
		{"option of length 0", cat(lcp, []byte{1, 1, 0, 6, 7, 0}), "[LCP ConfReq id=0x1 07 00]"},
		{"auth chap, unknown algorithm", cat(lcp, []byte{1, 1, 0, 9, 3, 5, 0xc2, 0x23, 7}), "[LCP ConfReq id=0x1 <auth chap 07>]"},
		{"auth eap", cat(lcp, []byte{1, 1, 0, 8, 3, 4, 0xc2, 0x27}), "[LCP ConfReq id=0x1 <auth eap>]"},
		{"auth unknown", cat(lcp, []byte{1, 1, 0, 8, 3, 4, 0x12, 0x34}), "[LCP ConfReq id=0x1 <auth 0x1234>]"},
		{"endpoint null", cat(lcp, []byte{1, 1, 0, 7, 0x13, 3, 0}), "[LCP ConfReq id=0x1 <endpoint [null]>]"},
		{"endpoint IP", cat(lcp, []byte{1, 1, 0, 11, 0x13, 7, 2, 10, 0, 0, 1}), "[LCP ConfReq id=0x1 <endpoint [IP:10.0.0.1]>]"},
		{"endpoint local", cat(lcp, []byte{1, 1, 0, 10, 0x13, 6, 1, 1, 2, 3}), "[LCP ConfReq id=0x1 <endpoint [local:01.02.03]>]"},
		{"endpoint magic", cat(lcp, []byte{1, 1, 0, 15, 0x13, 11, 4, 1, 2, 3, 4, 5, 6, 7, 8}), "[LCP ConfReq id=0x1 <endpoint [magic:01020304.05060708]>]"},
		{"endpoint class 9", cat(lcp, []byte{1, 1, 0, 8, 0x13, 4, 9, 0xab}), "[LCP ConfReq id=0x1 <endpoint [9:ab]>]"},
		{"endpoint over 20 octets", cat(lcp, []byte{1, 1, 0, 29, 0x13, 25, 1}, bytes.Repeat([]byte{1}, 22)),
			"[LCP ConfReq id=0x1 <endpoint [local:" + strings.Repeat("01.", 19) + "01] 01 01>]"},
		{"ssnhf and quality 0x1234", cat(lcp, []byte{1, 1, 0, 10, 0x12, 2, 4, 4, 0x12, 0x34}), "[LCP ConfReq id=0x1 <ssnhf> <quality 0x1234>]"},
		{"callback 0x1", cat(lcp, []byte{1, 1, 0, 7, 0xd, 3, 1}), "[LCP ConfReq id=0x1 <callback 0x1>]"},
		{"pcomp and accomp last", cat(lcp, []byte{1, 1, 0, 8, 7, 2, 8, 2}), "[LCP ConfReq id=0x1 <pcomp> <accomp>]"},
		{"auth chap without its algorithm", cat(lcp, []byte{1, 1, 0, 8, 3, 4, 0xc2, 0x23}), "[LCP ConfReq id=0x1 <auth chap>]"},
		{"endpoint of 20 octets", cat(lcp, []byte{1, 1, 0, 27, 0x13, 23, 1}, bytes.Repeat([]byte{1}, 20)),
			"[LCP ConfReq id=0x1 <endpoint [local:" + strings.Repeat("01.", 19) + "01]>]"},
		{"endpoint MAC", cat(lcp, []byte{1, 1, 0, 13, 0x13, 9, 3, 0, 0x11, 0x22, 0x33, 0x44, 0x55}), "[LCP ConfReq id=0x1 <endpoint [MAC:00:11:22:33:44:55]>]"},
		{"endpoint phone", cat(lcp, []byte{1, 1, 0, 9, 0x13, 5, 5, 0x12, 0x34}), "[LCP ConfReq id=0x1 <endpoint [phone:12.34]>]"},
		{"endpoint null with an address", cat(lcp, []byte{1, 1, 0, 8, 0x13, 4, 0, 1}), "[LCP ConfReq id=0x1 <endpoint [null:01]>]"},
		{"endpoint local without an address", cat(lcp, []byte{1, 1, 0, 7, 0x13, 3, 1}), "[LCP ConfReq id=0x1 <endpoint [local]>]"},
		{"endpoint class 6", cat(lcp, []byte{1, 1, 0, 8, 0x13, 4, 6, 0xab}), "[LCP ConfReq id=0x1 <endpoint [6:ab]>]"},
		{"endpoint magic, not in fours", cat(lcp, []byte{1, 1, 0, 10, 0x13, 6, 4, 1, 2, 3}), "[LCP ConfReq id=0x1 <endpoint [magic:01.02.03]>]"},
		{"LCP rest capped at 32", cat(lcp, []byte{7, 1, 0, 44}, long), "[LCP CodeRej id=0x1" + strings.Repeat(" ee", 32) + " ...]"},
		{"LCP echo without magic", cat(lcp, []byte{10, 1, 0, 6, 1, 2}), "[LCP EchoRep id=0x1 01 02]"},
		{"LCP Ident", cat(lcp, []byte{12, 1, 0, 10, 0, 0, 0, 1, 'h', 'i'}), `[LCP Ident id=0x1 magic=0x1 "hi"]`},
		{"LCP TimeRem without seconds", cat(lcp, []byte{13, 1, 0, 10, 0, 0, 0, 1, 'h', 'i'}), "[LCP TimeRem id=0x1 magic=0x1 68 69]"},
		{"LCP TimeRem without a message", cat(lcp, []byte{13, 1, 0, 12, 0, 0, 0, 1, 0, 0, 0, 9}), "[LCP TimeRem id=0x1 magic=0x1 seconds=9]"},
		{"LCP Ident without a message", cat(lcp, []byte{12, 1, 0, 8, 0, 0, 0, 1}), "[LCP Ident id=0x1 magic=0x1]"},
		{"LCP code 0", cat(lcp, []byte{0, 1, 0, 4}), "[LCP code=0x0 id=0x1]"},
		{"TermReq with binary data", cat(lcp, []byte{5, 1, 0, 6, 0, 1}), "[LCP TermReq id=0x1 00 01]"},
		{"TermReq escapes", cat(lcp, []byte{5, 1, 0, 12}, []byte("a\"\\\n\r\t\xff\x01")), `[LCP TermReq id=0x1 "a\"\\\n\r\t\377\001"]`},
		{"TermAck empty", cat(lcp, []byte{6, 2, 0, 4}), "[LCP TermAck id=0x2]"},
		// Printable ASCII is ' ' to '~'; the text is a string only if it
		// starts with one.
		{"TermReq printable bounds", cat(lcp, []byte{5, 1, 0, 9}, []byte(" ~\x1f\x7f\x80")), `[LCP TermReq id=0x1 " ~\037\177\200"]`},
		{"TermReq starting with DEL", cat(lcp, []byte{5, 1, 0, 6, 0x7f, 'a'}), "[LCP TermReq id=0x1 7f 61]"},
		{"LCP frame without a packet", lcp, "[LCP]"},
		{"IPCP code names stop at 7", cat(ipcp, []byte{9, 1, 0, 6, 1, 2}), "[IPCP code=0x9 id=0x1 01 02]"},
		{"IPCP rest uncapped", cat(ipcp, []byte{7, 1, 0, 44}, long), "[IPCP CodeRej id=0x1" + strings.Repeat(" ee", 40) + "]"},
		{"IPCP short DNS option as hex", cat(ipcp, []byte{1, 1, 0, 8, 0x81, 4, 10, 0}), "[IPCP ConfReq id=0x1 < 81 04 0a 00>]"},
		{"IPCP compress old-VJ and other", cat(ipcp, []byte{1, 1, 0, 12, 2, 4, 0, 0x37, 2, 4, 0, 0x61}), "[IPCP ConfReq id=0x1 <compress old-VJ> <compress 0x61>]"},
		{"IPv6CP compress", cat(ipv6cp, []byte{1, 1, 0, 8, 2, 4, 0, 0x4f}), "[IPV6CP ConfReq id=0x1 <compress 0x4f>]"},
		{"IPv6CP TermReq", cat(ipv6cp, []byte{5, 1, 0, 6, 'n', 'o'}), `[IPV6CP TermReq id=0x1 "no"]`},
		{"CCP TermReq without the space", cat(ccp, []byte{5, 2, 0, 6, 'n', 'o'}), `[CCP TermReq id=0x2"no"]`},
		{"CCP ResetReq", cat(ccp, []byte{14, 3, 0, 4}), "[CCP ResetReq id=0x3]"},
		{"CCP code 8 unnamed", cat(ccp, []byte{8, 3, 0, 4}), "[CCP code=0x8 id=0x3]"},
		{"CCP deflate method and check", cat(ccp, []byte{1, 1, 0, 8, 26, 4, 0x79, 1}), "[CCP ConfReq id=0x1 <deflate 15 method 9 check 1>]"},
		{"CCP predictor", cat(ccp, []byte{1, 1, 0, 8, 1, 2, 2, 2}), "[CCP ConfReq id=0x1 <predictor 1> <predictor 2>]"},
		{"CCP bsd", cat(ccp, []byte{1, 1, 0, 7, 21, 3, 0x2f}), "[CCP ConfReq id=0x1 <bsd v1 15>]"},
		{"CCP deflate draft", cat(ccp, []byte{1, 1, 0, 8, 24, 4, 0x78, 0}), "[CCP ConfReq id=0x1 <deflate(old#) 15>]"},
		{"CCP mppe", cat(ccp, []byte{1, 1, 0, 10, 18, 6, 1, 0, 0, 0x40}), "[CCP ConfReq id=0x1 <mppe +H -M +S -L -D -C>]"},
		{"CCP mppe unknown bits", cat(ccp, []byte{1, 1, 0, 10, 18, 6, 0, 0, 0, 0x02}), "[CCP ConfReq id=0x1 <mppe -H -M -S -L -D -C +U (00 00 00 02)>]"},
		{"CCP unknown option", cat(ccp, []byte{1, 1, 0, 7, 0x11, 3, 9}), "[CCP ConfReq id=0x1 < 11 03 09>]"},
		{"PAP AuthReq truncated", cat(pap, []byte{1, 1, 0, 7, 5, 'a', 'b'}), "[PAP AuthReq id=0x1 <malformed, hidden>]"},
		{"PAP AuthReq truncated: no hex of a password", cat(pap, []byte{1, 1, 0, 9, 1, 'u', 3, 'p', 'w'}), "[PAP AuthReq id=0x1 <malformed, hidden>]"},
		{"PAP AuthReq empty", cat(pap, []byte{1, 1, 0, 4}), "[PAP AuthReq id=0x1 <malformed, hidden>]"},
		{"PAP AuthNak", cat(pap, []byte{3, 1, 0, 10, 5}, []byte("nope!")), `[PAP AuthNak id=0x1 "nope!"]`},
		{"PAP AuthNak empty", cat(pap, []byte{3, 1, 0, 5, 0}), `[PAP AuthNak id=0x1 ""]`},
		// Where pppd prints a PAP, CHAP or EAP octet in hex, we print
		// none: it may be (part of) a secret.
		{"PAP trailing octets", cat(pap, []byte{2, 1, 0, 7, 1, 'k', 9}), `[PAP AuthAck id=0x1 "k" <1 octet hidden>]`},
		{"PAP AuthReq trailing octets", cat(pap, []byte{1, 1, 0, 12, 1, 'u', 2, 'p', 'w', 'x', 'y', 'z'}), `[PAP AuthReq id=0x1 user="u" password=<hidden> <3 octets hidden>]`},
		{"PAP AuthReq padding after Length", cat(pap, []byte{1, 1, 0, 6, 0, 0, 'p', 'w'}), `[PAP AuthReq id=0x1 user="" password=<hidden>] <2 octets hidden>`},
		{"PAP Length below the header", cat(pap, []byte{1, 1, 0, 3, 1, 'u', 2, 'p', 'w'}), "[PAP <malformed, hidden>]"},
		{"PAP Length past the data", cat(pap, []byte{1, 1, 0, 99, 1, 'u', 2, 'p', 'w'}), "[PAP <malformed, hidden>]"},
		{"PAP truncated header", cat(pap, []byte{1, 1, 0}), "[PAP <malformed, hidden>]"},
		{"PAP AuthNak message one octet past the end", cat(pap, []byte{3, 1, 0, 6, 2, 'n'}), "[PAP AuthNak id=0x1 <malformed, hidden>]"},
		{"PAP AuthReq of one octet", cat(pap, []byte{1, 1, 0, 5, 0}), "[PAP AuthReq id=0x1 <malformed, hidden>]"},
		{"PAP AuthNak message past the end", cat(pap, []byte{3, 1, 0, 7, 9, 'n', 'o'}), "[PAP AuthNak id=0x1 <malformed, hidden>]"},
		{"PAP AuthAck empty", cat(pap, []byte{2, 1, 0, 4}), "[PAP AuthAck id=0x1]"},
		{"PAP unknown code", cat(pap, []byte{9, 1, 0, 5, 1}), "[PAP code=0x9 id=0x1 <1 octet hidden>]"},
		{"CHAP Response", cat(chap, []byte{2, 5, 0, 11, 2, 0xab, 0xcd}, []byte("user")), `[CHAP Response id=0x5 <hidden>, name = "user"]`},
		{"CHAP Challenge", cat(chap, []byte{1, 5, 0, 11, 2, 0xab, 0xcd}, []byte("peer")), `[CHAP Challenge id=0x5 <abcd>, name = "peer"]`},
		{"CHAP value past the end", cat(chap, []byte{1, 5, 0, 6, 9, 1}), "[CHAP Challenge id=0x5]"},
		{"CHAP Challenge empty value, no name", cat(chap, []byte{1, 5, 0, 5, 0}), `[CHAP Challenge id=0x5 <>, name = ""]`},
		{"CHAP value one octet past the end", cat(chap, []byte{1, 5, 0, 6, 2, 0xab}), "[CHAP Challenge id=0x5]"},
		{"CHAP Challenge without a name", cat(chap, []byte{1, 5, 0, 7, 2, 0xab, 0xcd}), `[CHAP Challenge id=0x5 <abcd>, name = ""]`},
		{"CHAP Response value past the end", cat(chap, []byte{2, 5, 0, 7, 9, 1, 2, 3}), "[CHAP Response id=0x5] <1 octet hidden>"},
		{"CHAP Failure empty", cat(chap, []byte{4, 5, 0, 4}), `[CHAP Failure id=0x5 ""]`},
		{"CHAP unknown code", cat(chap, []byte{5, 5, 0, 6, 1, 2}), "[CHAP code=0x5 id=0x5 <2 octets hidden>]"},
		{"CHAP Length past the data", cat(chap, []byte{2, 5, 1, 0, 2, 0xab, 0xcd}), "[CHAP <malformed, hidden>]"},
		{"EAP Request", cat([]byte{0xc2, 0x27}, []byte{1, 1, 0, 5, 1}), "[EAP Request id=0x1 <1 octet hidden>]"},
		{"EAP Length below the header", cat([]byte{0xc2, 0x27}, []byte{2, 1, 0, 2, 1, 'u'}), "[EAP <malformed, hidden>]"},
		{"LCP ProtRej of a PAP request", cat(lcp, []byte{8, 1, 0, 13, 0xc0, 0x23, 1, 1, 0, 7, 1, 'u', 0}), "[LCP ProtRej id=0x1 c0 23 <7 octets hidden>]"},
		{"LCP ProtRej of CHAP with padding", cat(lcp, []byte{8, 1, 0, 8, 0xc2, 0x23, 2, 1, 8, 1}), "[LCP ProtRej id=0x1 c2 23 <4 octets hidden>]"},
		{"LCP ProtRej of PAP, Length past the data", cat(lcp, []byte{8, 1, 0, 99, 0xc0, 0x23, 1, 1}), "[LCP ProtRej id=0x1 c0 23 <2 octets hidden>]"},
		{"LCP ProtRej of EAP", cat(lcp, []byte{8, 1, 0, 7, 0xc2, 0x27, 2}), "[LCP ProtRej id=0x1 c2 27 <1 octet hidden>]"},
		{"LCP ProtRej of PAP, protocol only, Length past the data", cat(lcp, []byte{8, 1, 0, 99, 0xc0, 0x23}), "[LCP ProtRej id=0x1 c0 23]"},
		{"LCP ProtRej cut inside the protocol", cat(lcp, []byte{8, 1, 0, 5, 0xc0}), "[LCP ProtRej id=0x1 c0]"},
		{"LCP ProtRej of IPCP shown", cat(lcp, []byte{8, 1, 0, 7, 0x80, 0x21, 2}), "[LCP ProtRej id=0x1 80 21 02]"},
		{"ECP as hex", cat([]byte{0x80, 0x53}, []byte{1, 1, 0, 4}), "[ECP] 01 01 00 04"},
		{"IP data", cat([]byte{0x00, 0x21}, []byte{0x45, 0, 0, 0x54, 1, 2, 3, 4, 5, 6}), "[IP data] 45 00 00 54 01 02 03 04 ..."},
		{"IPv6 data, short", cat([]byte{0x00, 0x57}, []byte{0x60, 0}), "[IPV6 data] 60 00"},
		// A compressed protocol field (PFC, RFC 1661 §6.5) is one odd
		// octet: such frames print as uncompressed ones do.
		{"IP data, compressed protocol field", cat([]byte{0x21}, []byte{0x45, 0, 0, 0x54, 1, 2, 3, 4, 5, 6}), "[IP data] 45 00 00 54 01 02 03 04 ..."},
		{"IPv6 data, compressed protocol field", cat([]byte{0x57}, []byte{0x60, 0}), "[IPV6 data] 60 00"},
		{"compressed protocol field alone", []byte{0x21}, "[IP data]"},
		{"compressed unknown protocol", []byte{0x3d, 1, 2}, "[proto=0x3d] 01 02"},
		{"unknown protocol", cat([]byte{0x82, 0x81}, []byte{1, 1, 0, 4}), "[proto=0x8281] 01 01 00 04"},
		{"LQR is not a control protocol pppd prints", cat([]byte{0xc0, 0x25}, []byte{0, 0}), "[proto=0xc025] 00 00"},
		// format_packet shows at most 32 octets of what no printer
		// took, 8 of data; LCP's printer at most 32 of its rest.
		{"unknown protocol, 32 octets", cat([]byte{0x82, 0x81}, long[:32]), "[proto=0x8281]" + strings.Repeat(" ee", 32)},
		{"unknown protocol, 33 octets", cat([]byte{0x82, 0x81}, long[:33]), "[proto=0x8281]" + strings.Repeat(" ee", 32) + " ..."},
		{"IP data, 8 octets", cat([]byte{0x00, 0x21}, long[:8]), "[IP data]" + strings.Repeat(" ee", 8)},
		{"LCP rest of 32 octets", cat(lcp, []byte{7, 1, 0, 36}, long[:32]), "[LCP CodeRej id=0x1" + strings.Repeat(" ee", 32) + "]"},
		{"IPv6CP unknown option", cat(ipv6cp, []byte{1, 1, 0, 7, 9, 3, 1}), "[IPV6CP ConfReq id=0x1 < 09 03 01>]"},
		{"IPv6CP identifier of the wrong length", cat(ipv6cp, []byte{1, 1, 0, 8, 1, 4, 1, 2}), "[IPV6CP ConfReq id=0x1 < 01 04 01 02>]"},
		{"CCP shorter than a header", cat(ccp, []byte{1, 1, 0}), "[CCP] 01 01 00"},
		{"CHAP Challenge empty", cat(chap, []byte{1, 5, 0, 4}), "[CHAP Challenge id=0x5]"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatFrame(tt.frame); got != tt.want {
				t.Errorf("FormatFrame(% x)\n got %s\nwant %s", tt.frame, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want error
		msg  string
	}{
		{"empty frame", nil, errTruncated, "frame of 0 octets"},
		{"protocol only", lcp, errTruncated, "LCP packet of 0 octets"},
		{"truncated header", cat(lcp, []byte{1, 1, 0}), errTruncated, "3 octets"},
		{"length 3", cat(lcp, []byte{1, 1, 0, 3}), errLength, "length 3, below"},
		{"length 0", cat(ipcp, []byte{1, 1, 0, 0}), errLength, "IPCP length 0"},
		{"length past the end", cat(chap, []byte{1, 1, 0, 9, 1, 2}), errLength, "length 9, only 6"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseFrame(tt.in)
			if !errors.Is(err, tt.want) || !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "ppp: ") {
				t.Errorf("ParseFrame = %v; want %v containing %q", err, tt.want, tt.msg)
			}
		})
	}
}

func TestParseOptionsErrors(t *testing.T) {
	tests := []struct {
		name  string
		proto Protocol
		in    []byte
		msg   string
	}{
		{"option length 0", ProtoLCP, []byte{1, 0}, "option 1 with length 0"},
		{"option length 1", ProtoLCP, []byte{5, 1, 0, 0}, "option 5 with length 1"},
		{"option past the packet", ProtoIPCP, []byte{3, 6, 10, 0, 0}, "option 3 with length 6 runs past the packet (5 octets left)"},
		{"header truncated", ProtoIPv6CP, []byte{1, 10, 0, 0, 0, 0, 0, 0, 0, 1, 2}, "header truncated at offset 10"},
		{"second option past the packet", ProtoLCP, []byte{1, 4, 5, 0xd4, 5, 6, 1}, "option 5 with length 6 runs past the packet (3 octets left)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseOptions(tt.proto, tt.in)
			if !errors.Is(err, errOptionLength) || !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("ParseOptions = %v; want %q", err, tt.msg)
			}
		})
	}
}

// Known options of the wrong length stay raw, so the negotiation rejects
// them instead of dropping the whole packet.
func TestParseOptionsWrongLengthIsRaw(t *testing.T) {
	tests := []struct {
		proto Protocol
		in    []byte
	}{
		{ProtoLCP, []byte{1, 3, 5}},                // MRU
		{ProtoLCP, []byte{2, 4, 0, 0}},             // ACCM
		{ProtoLCP, []byte{3, 3, 0xc0}},             // Auth-Protocol without a protocol
		{ProtoLCP, []byte{3, 4, 0xc2, 0x23}},       // CHAP without its algorithm octet
		{ProtoLCP, []byte{4, 3, 0xc0}},             // Quality-Protocol
		{ProtoLCP, []byte{5, 5, 1, 2, 3}},          // Magic-Number
		{ProtoLCP, []byte{7, 3, 0}},                // PFC with data
		{ProtoLCP, []byte{8, 3, 0}},                // ACFC with data
		{ProtoLCP, []byte{17, 3, 0}},               // MRRU
		{ProtoLCP, []byte{19, 2}},                  // Endpoint without a class
		{ProtoIPCP, []byte{3, 5, 10, 0, 0}},        // IP-Address
		{ProtoIPCP, []byte{1, 6, 10, 0, 0, 1}},     // IP-Addresses
		{ProtoIPCP, []byte{2, 3, 0}},               // IP-Compression
		{ProtoIPCP, []byte{129, 7, 1, 2, 3, 4, 5}}, // Primary-DNS
		{ProtoIPCP, []byte{131, 2}},                // Secondary-DNS
		{ProtoIPCP, []byte{130, 3, 1}},             // Primary-NBNS
		{ProtoIPCP, []byte{132, 3, 1}},             // Secondary-NBNS
		{ProtoIPv6CP, []byte{1, 6, 1, 2, 3, 4}},    // Interface-Identifier
		{ProtoIPv6CP, []byte{2, 4, 0, 0x4f}},       // IPv6-Compression (not decoded)
		{Protocol(0x1234), []byte{1, 4, 5, 0xd4}},  // unknown protocol
	}
	for _, tt := range tests {
		opts, err := ParseOptions(tt.proto, tt.in)
		if err != nil || len(opts) != 1 {
			t.Errorf("ParseOptions(%s, % x) = %v, %v", tt.proto, tt.in, opts, err)
			continue
		}
		raw, ok := opts[0].(RawOption)
		if !ok || raw.Kind != tt.in[0] || !bytes.Equal(raw.Data, tt.in[2:]) && !(raw.Data == nil && len(tt.in) == 2) {
			t.Errorf("ParseOptions(%s, % x) = %#v, want a RawOption", tt.proto, tt.in, opts[0])
		}
		if b, _ := AppendOptions(nil, opts); !bytes.Equal(b, tt.in) {
			t.Errorf("AppendOptions = % x, want % x", b, tt.in)
		}
	}
}

func TestOptionStrings(t *testing.T) {
	tests := []struct {
		opt  Option
		want string
	}{
		{MRU(1500), "<mru 1500>"},
		{AuthProtocol{Protocol: ProtoCHAP, Algorithm: CHAPMSCHAPv1}, "<auth chap MS>"},
		{AuthProtocol{Protocol: ProtoPAP, Data: []byte{1}}, "<auth pap 01>"},
		{IPAddress(netip.Addr{}), "<addr 0.0.0.0>"},
		{IPAddress(netip.MustParseAddr("::ffff:10.1.2.3")), "<addr 10.1.2.3>"},
		{EndpointDiscriminator{Class: 0}, "<endpoint [null]>"},
		{RawOption{Kind: 9, Data: []byte{1}}, "< 09 03 01>"},
		{RawOption{Protocol: ProtoLCP, Kind: 1, Data: make([]byte, 300)}, "< 01 2e" + strings.Repeat(" 00", 300) + ">"},
		// 255 octets, the most a Length octet counts: still printed as
		// pppd does (the endpoint's first 20 address octets, then hex).
		{EndpointDiscriminator{Class: 1, Address: bytes.Repeat([]byte{1}, 252)},
			"<endpoint [local:" + strings.Repeat("01.", 19) + "01]" + strings.Repeat(" 01", 232) + ">"},
	}
	for _, tt := range tests {
		if got := tt.opt.String(); got != tt.want {
			t.Errorf("%#v.String() = %q, want %q", tt.opt, got, tt.want)
		}
	}
	if _, err := AppendOptions(nil, []Option{RawOption{Kind: 1, Data: make([]byte, 254)}}); !errors.Is(err, errTooLong) {
		t.Errorf("AppendOptions(256-octet option) = %v", err)
	}
	if b, err := AppendOptions(nil, []Option{RawOption{Kind: 1, Data: make([]byte, 253)}}); err != nil || len(b) != 255 || b[1] != 255 {
		t.Errorf("AppendOptions(255-octet option) = %d octets, %v", len(b), err)
	}
}

func TestAppendTooLong(t *testing.T) {
	p := Packet{Protocol: ProtoLCP, Code: CodeEchoReq, Data: make([]byte, 0xffff-3)}
	if _, err := p.Append(nil); !errors.Is(err, errTooLong) {
		t.Errorf("Append(65536-octet packet) = %v", err)
	}
	if s := p.String(); !strings.HasPrefix(s, "[LCP code=0x9 id=0x0, 65532 octets]") {
		t.Errorf("String of an unencodable packet = %q", s)
	}
	p.Data = p.Data[:0xffff-4]
	if b, err := p.Append(nil); err != nil || len(b) != 0xffff {
		t.Errorf("Append(65535-octet packet) = %d octets, %v", len(b), err)
	}
}

func TestProtocolString(t *testing.T) {
	for p, want := range map[Protocol]string{ProtoIPv6CP: "IPV6CP", ProtoIPv4: "IP", 0x1234: "proto=0x1234"} {
		if got := p.String(); got != want {
			t.Errorf("%#04x.String() = %q, want %q", uint16(p), got, want)
		}
	}
	if !ProtoLCP.IsControl() || ProtoIPv4.IsControl() || !Protocol(0x8000).IsControl() || Protocol(0x7fff).IsControl() {
		t.Error("IsControl")
	}
}

// Options whose data may vary in length decode, typed, at their least.
func TestParseOptionsShortest(t *testing.T) {
	tests := []struct {
		proto Protocol
		in    []byte
		want  Option
	}{
		{ProtoLCP, []byte{3, 4, 0xc0, 0x23}, AuthProtocol{Protocol: ProtoPAP}},
		{ProtoLCP, []byte{3, 5, 0xc2, 0x23, 5}, AuthProtocol{Protocol: ProtoCHAP, Algorithm: CHAPMD5}},
		{ProtoLCP, []byte{4, 4, 0xc0, 0x25}, QualityProtocol{Protocol: ProtoLQR}},
		{ProtoLCP, []byte{19, 3, 0}, EndpointDiscriminator{}},
		{ProtoIPCP, []byte{2, 4, 0, 0x2d}, IPCompression{Protocol: 0x2d}},
	}
	for _, tt := range tests {
		opts, err := ParseOptions(tt.proto, tt.in)
		if err != nil || len(opts) != 1 || !reflect.DeepEqual(opts[0], tt.want) {
			t.Errorf("ParseOptions(%s, % x) = %#v, %v; want %#v", tt.proto, tt.in, opts, err, tt.want)
		}
	}
}
