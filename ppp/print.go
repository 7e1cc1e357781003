package ppp

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strings"
)

// The printers below reproduce pppd 2.4.9's packet dumps ("sent [%P]") octet
// by octet, malformed packets included: format_packet (utils.c) around each
// protocol's printpkt function (lcp.c, ipcp.c, ipv6cp.c, ccp.c, upap.c,
// chap-new.c). They work on the encoded octets, as pppd's do, and never
// index past what they checked. Deliberate differences: no octet of a PAP,
// CHAP or EAP packet is ever printed in hex, nor a PAP password or a CHAP
// Response value at all, whatever the packet's shape (pppd hex-dumps
// malformed packets and trailing octets, and prints Response values,
// which give a captured MS-CHAP exchange's NT hash, or a CHAP-MD5
// password, to an offline dictionary attack): such octets show as
// "<hidden>", "<malformed, hidden>" or "<N octets hidden>". And a DNS or
// WINS option shorter than 6 octets is printed as hex where pppd reads
// past it.

// holdsSecrets lists the protocols whose packets may carry secrets.
func holdsSecrets(p Protocol) bool { return p == ProtoPAP || p == ProtoCHAP || p == ProtoEAP }

// FormatFrame renders a PPP frame that starts with the protocol field,
// compressed to one octet or not.
func FormatFrame(b []byte) string {
	var w strings.Builder
	var proto Protocol
	var p []byte
	if len(b) >= 1 && b[0]&1 == 1 {
		// Protocol-Field-Compression (RFC 1661 §6.5): every protocol
		// number has an even first octet and an odd last one (§2), so
		// an odd first octet is a whole, compressed, protocol field.
		// tcpdump reads it so; only data protocols can be compressed.
		proto, p = Protocol(b[0]), b[1:]
	} else if len(b) < 2 {
		writeHexBytes(&w, b)
		return w.String()
	} else {
		proto, p = Protocol(binary.BigEndian.Uint16(b)), b[2:]
	}
	if proto == ProtoLCP && len(p) >= HeaderLen+2 && Code(p[0]) == CodeProtRej && holdsSecrets(Protocol(binary.BigEndian.Uint16(p[HeaderLen:]))) {
		// A Protocol-Reject of a PAP, CHAP or EAP packet carries that
		// packet back (one of our PAP requests, say): whatever its
		// Length, only the rejected protocol is shown.
		fmt.Fprintf(&w, "[LCP ProtRej id=0x%x", p[1])
		writeHexBytes(&w, p[HeaderLen:HeaderLen+2])
		writeHidden(&w, len(p)-HeaderLen-2)
		w.WriteString("]")
		return w.String()
	}
	if printer, ok := printers[proto]; ok {
		w.WriteString("[" + protoNames[proto])
		n := printer(&w, p)
		if n == 0 && holdsSecrets(proto) {
			// No usable header: pppd would dump it all in hex.
			w.WriteString(" <malformed, hidden>")
			n = len(p)
		}
		w.WriteString("]")
		p = p[n:]
		if holdsSecrets(proto) {
			// Octets past Length are padding to pppd, dumped in hex.
			writeHidden(&w, len(p))
			p = nil
		}
	} else if name, ok := dataNames[proto]; ok {
		fmt.Fprintf(&w, "[%s data]", name)
		if len(p) > 8 {
			writeHexBytes(&w, p[:8])
			w.WriteString(" ...")
		} else {
			writeHexBytes(&w, p)
		}
		p = nil
	} else {
		fmt.Fprintf(&w, "[proto=0x%x]", uint16(proto))
	}
	if len(p) > 32 {
		writeHexBytes(&w, p[:32])
		w.WriteString(" ...")
	} else {
		writeHexBytes(&w, p)
	}
	return w.String()
}

// printers print a packet after "[NAME" and return how many octets they
// consumed; 0 means the header was unusable.
var printers = map[Protocol]func(*strings.Builder, []byte) int{
	ProtoLCP:    printLCP,
	ProtoIPCP:   printIPCP,
	ProtoIPv6CP: printIPv6CP,
	ProtoCCP:    printCCP,
	ProtoPAP:    printPAP,
	ProtoCHAP:   printCHAP,
	ProtoECP:    func(*strings.Builder, []byte) int { return 0 }, // pppd prints ECP as hex
	ProtoEAP:    printEAP,
}

var (
	lcpCodeNames  = []string{"ConfReq", "ConfAck", "ConfNak", "ConfRej", "TermReq", "TermAck", "CodeRej", "ProtRej", "EchoReq", "EchoRep", "DiscReq", "Ident", "TimeRem"}
	ncpCodeNames  = lcpCodeNames[:7]
	ccpCodeNames  = append(append(append([]string{}, lcpCodeNames[:7]...), "", "", "", "", "", ""), "ResetReq", "ResetAck")
	papCodeNames  = []string{"AuthReq", "AuthAck", "AuthNak"}
	chapCodeNames = []string{"Challenge", "Response", "Success", "Failure"}
	eapCodeNames  = []string{"Request", "Response", "Success", "Failure"}
)

// header checks a control header the way every pppd printer does and prints
// the code name and id; ok is false when pppd would print nothing.
func header(w *strings.Builder, p []byte, names []string) (code byte, body []byte, ok bool) {
	if len(p) < HeaderLen {
		return 0, nil, false
	}
	n := int(binary.BigEndian.Uint16(p[2:]))
	if n < HeaderLen || n > len(p) {
		return 0, nil, false
	}
	code = p[0]
	if int(code) >= 1 && int(code) <= len(names) && names[code-1] != "" {
		w.WriteString(" " + names[code-1])
	} else {
		fmt.Fprintf(w, " code=0x%x", code)
	}
	fmt.Fprintf(w, " id=0x%x", p[1])
	return code, p[HeaderLen:n], true
}

// optionPrinter prints what it understands of one option (whole, type and
// length included) and returns how many octets that was; the rest is hex.
type optionPrinter func(w *strings.Builder, opt []byte) int

// printOptions is the option loop the LCP, IPCP, IPv6CP and CCP printers
// share: it stops at the first malformed option and returns what is left.
func printOptions(w *strings.Builder, p []byte, print optionPrinter) []byte {
	for len(p) >= 2 {
		olen := int(p[1])
		if olen < 2 || olen > len(p) {
			break
		}
		w.WriteString(" <")
		opt := p[:olen]
		n := print(w, opt)
		writeHexBytes(w, opt[n:])
		w.WriteString(">")
		p = p[olen:]
	}
	return p
}

// printFSM prints the codes the LCP-like printers have in common; the
// remainder (after what it decoded) is returned.
func printFSM(w *strings.Builder, code byte, body []byte, opt optionPrinter, termSpace bool) []byte {
	switch Code(code) {
	case CodeConfReq, CodeConfAck, CodeConfNak, CodeConfRej:
		return printOptions(w, body, opt)
	case CodeTermReq, CodeTermAck:
		if len(body) > 0 && body[0] >= ' ' && body[0] < 0x7f {
			if termSpace {
				w.WriteString(" ")
			}
			writeString(w, body)
			return nil
		}
	}
	return body
}

func printLCP(w *strings.Builder, p []byte) int {
	code, body, ok := header(w, p, lcpCodeNames)
	if !ok {
		return 0
	}
	end := HeaderLen + len(body)
	switch Code(code) {
	case CodeEchoReq, CodeEchoRep, CodeDiscardReq:
		if len(body) >= 4 {
			fmt.Fprintf(w, " magic=0x%x", binary.BigEndian.Uint32(body))
			body = body[4:]
		}
	case CodeIdentif, CodeTimeRemaining:
		if len(body) >= 4 {
			fmt.Fprintf(w, " magic=0x%x", binary.BigEndian.Uint32(body))
			body = body[4:]
		}
		if Code(code) == CodeTimeRemaining {
			if len(body) < 4 {
				break
			}
			fmt.Fprintf(w, " seconds=%d", binary.BigEndian.Uint32(body))
			body = body[4:]
		}
		if len(body) > 0 {
			w.WriteString(" ")
			writeString(w, body)
			body = nil
		}
	default:
		body = printFSM(w, code, body, printLCPOption, true)
	}
	// LCP shows at most 32 more octets (lcp_printpkt), but consumes them all.
	if len(body) > 32 {
		writeHexBytes(w, body[:32])
		w.WriteString(" ...")
	} else {
		writeHexBytes(w, body)
	}
	return end
}

// LCP option types (RFC 1661 §6, RFC 1570, RFC 1990).
const (
	LCPOptMRU            = 1
	LCPOptACCM           = 2
	LCPOptAuthProtocol   = 3
	LCPOptQuality        = 4
	LCPOptMagicNumber    = 5
	LCPOptPFC            = 7
	LCPOptACFC           = 8
	LCPOptCallback       = 13 // RFC 1570
	LCPOptMRRU           = 17 // RFC 1990
	LCPOptSSNHF          = 18
	LCPOptEndpointDiscr  = 19
	cbcpOpt              = 6 // callback operation "CBCP"
	maxEndpointAddrLen   = 20
	chapAlgorithmMD5     = 5
	chapAlgorithmMSv1    = 0x80
	chapAlgorithmMSv2    = 0x81
	endpointClassIP      = 2
	endpointClassMAC     = 3
	endpointClassMagic   = 4
	endpointClassPhone   = 5
	endpointClassNull    = 0
	ipcpVJ               = 0x002d
	ipcpOldVJ            = 0x0037
	ccpOptPredictor1     = 1
	ccpOptPredictor2     = 2
	ccpOptMPPE           = 18
	ccpOptBSD            = 21
	ccpOptDeflateDraft   = 24
	ccpOptDeflate        = 26
	deflateMethodZlib    = 8
	deflateCheckSequence = 0
)

var endpointClassNames = []string{"null", "local", "IP", "MAC", "magic", "phone"}

func printLCPOption(w *strings.Builder, o []byte) int {
	l := len(o)
	switch o[0] {
	case LCPOptMRU:
		if l == 4 {
			fmt.Fprintf(w, "mru %d", binary.BigEndian.Uint16(o[2:]))
			return 4
		}
	case LCPOptACCM:
		if l == 6 {
			fmt.Fprintf(w, "asyncmap 0x%x", binary.BigEndian.Uint32(o[2:]))
			return 6
		}
	case LCPOptAuthProtocol:
		if l >= 4 {
			w.WriteString("auth ")
			n := 4
			switch proto := Protocol(binary.BigEndian.Uint16(o[2:])); proto {
			case ProtoPAP:
				w.WriteString("pap")
			case ProtoCHAP:
				w.WriteString("chap")
				if l > 4 {
					switch o[4] {
					case chapAlgorithmMD5:
						w.WriteString(" MD5")
						n++
					case chapAlgorithmMSv1:
						w.WriteString(" MS")
						n++
					case chapAlgorithmMSv2:
						w.WriteString(" MS-v2")
						n++
					}
				}
			case ProtoEAP:
				w.WriteString("eap")
			default:
				fmt.Fprintf(w, "0x%x", uint16(proto))
			}
			return n
		}
	case LCPOptQuality:
		if l >= 4 {
			w.WriteString("quality ")
			if proto := Protocol(binary.BigEndian.Uint16(o[2:])); proto == ProtoLQR {
				w.WriteString("lqr")
			} else {
				fmt.Fprintf(w, "0x%x", uint16(proto))
			}
			return 4
		}
	case LCPOptCallback:
		if l >= 3 {
			w.WriteString("callback ")
			if o[2] == cbcpOpt {
				w.WriteString("CBCP")
			} else {
				fmt.Fprintf(w, "0x%x", o[2])
			}
			return 3
		}
	case LCPOptMagicNumber:
		if l == 6 {
			fmt.Fprintf(w, "magic 0x%x", binary.BigEndian.Uint32(o[2:]))
			return 6
		}
	case LCPOptPFC:
		if l == 2 {
			w.WriteString("pcomp")
			return 2
		}
	case LCPOptACFC:
		if l == 2 {
			w.WriteString("accomp")
			return 2
		}
	case LCPOptMRRU:
		if l == 4 {
			fmt.Fprintf(w, "mrru %d", binary.BigEndian.Uint16(o[2:]))
			return 4
		}
	case LCPOptSSNHF:
		if l == 2 {
			w.WriteString("ssnhf")
			return 2
		}
	case LCPOptEndpointDiscr:
		if l >= 3 {
			addr := o[3:min(l, 3+maxEndpointAddrLen)]
			fmt.Fprintf(w, "endpoint [%s]", endpointString(o[2], addr))
			return 3 + len(addr)
		}
	}
	return 0
}

// endpointString is pppd's epdisc_to_str (multilink.c).
func endpointString(class byte, v []byte) string {
	if class == endpointClassNull && len(v) == 0 {
		return "null"
	}
	if class == endpointClassIP && len(v) == 4 {
		return "IP:" + netip.AddrFrom4([4]byte(v)).String()
	}
	var b strings.Builder
	sep, sep2, mask := byte(':'), byte('.'), 0
	if class == endpointClassMAC && len(v) == 6 {
		sep2 = ':'
	} else if class == endpointClassMagic && len(v)%4 == 0 {
		mask = 3
	}
	if int(class) < len(endpointClassNames) {
		b.WriteString(endpointClassNames[class])
	} else {
		fmt.Fprintf(&b, "%d", class)
	}
	for i, c := range v {
		if i&mask == 0 {
			b.WriteByte(sep)
			sep = sep2
		}
		fmt.Fprintf(&b, "%02x", c)
	}
	return b.String()
}

// printNCP is ipcp_printpkt and ipv6cp_printpkt: seven code names, every
// remaining octet in hex.
func printNCP(w *strings.Builder, p []byte, opt optionPrinter) int {
	code, body, ok := header(w, p, ncpCodeNames)
	if !ok {
		return 0
	}
	writeHexBytes(w, printFSM(w, code, body, opt, true))
	return HeaderLen + len(body)
}

func printIPCP(w *strings.Builder, p []byte) int   { return printNCP(w, p, printIPCPOption) }
func printIPv6CP(w *strings.Builder, p []byte) int { return printNCP(w, p, printIPv6CPOption) }

// IPCP option types (RFC 1332 §3, RFC 1877).
const (
	IPCPOptAddresses     = 1
	IPCPOptCompression   = 2
	IPCPOptAddress       = 3
	IPCPOptPrimaryDNS    = 129
	IPCPOptPrimaryNBNS   = 130
	IPCPOptSecondaryDNS  = 131
	IPCPOptSecondaryNBNS = 132
)

func ip4(b []byte) string { return netip.AddrFrom4([4]byte(b)).String() }

func printIPCPOption(w *strings.Builder, o []byte) int {
	l := len(o)
	switch o[0] {
	case IPCPOptAddresses:
		if l == 10 {
			fmt.Fprintf(w, "addrs %s %s", ip4(o[2:6]), ip4(o[6:10]))
			return 10
		}
	case IPCPOptCompression:
		if l >= 4 {
			w.WriteString("compress ")
			switch v := binary.BigEndian.Uint16(o[2:]); v {
			case ipcpVJ:
				w.WriteString("VJ")
			case ipcpOldVJ:
				w.WriteString("old-VJ")
			default:
				fmt.Fprintf(w, "0x%x", v)
			}
			return 4
		}
	case IPCPOptAddress:
		if l == 6 {
			fmt.Fprintf(w, "addr %s", ip4(o[2:6]))
			return 6
		}
	case IPCPOptPrimaryDNS, IPCPOptSecondaryDNS:
		if l == 6 {
			n := 1
			if o[0] == IPCPOptSecondaryDNS {
				n = 2
			}
			fmt.Fprintf(w, "ms-dns%d %s", n, ip4(o[2:6]))
			return 6
		}
	case IPCPOptPrimaryNBNS, IPCPOptSecondaryNBNS:
		if l == 6 {
			fmt.Fprintf(w, "ms-wins %s", ip4(o[2:6]))
			return 6
		}
	}
	return 0
}

// IPv6CP option types (RFC 5072 §4).
const (
	IPv6CPOptInterfaceID = 1
	IPv6CPOptCompression = 2
)

func printIPv6CPOption(w *strings.Builder, o []byte) int {
	l := len(o)
	switch o[0] {
	case IPv6CPOptInterfaceID:
		if l == 10 {
			w.WriteString("addr " + interfaceIDString([8]byte(o[2:10])))
			return 10
		}
	case IPv6CPOptCompression:
		if l >= 4 {
			fmt.Fprintf(w, "compress 0x%x", binary.BigEndian.Uint16(o[2:]))
			return 4
		}
	}
	return 0
}

// interfaceIDString is pppd's llv6_ntoa: the link-local address, every group
// printed with four digits ("fe80::0211:22ff:fe33:4455").
func interfaceIDString(id [8]byte) string {
	return fmt.Sprintf("fe80::%02x%02x:%02x%02x:%02x%02x:%02x%02x", id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7])
}

func printCCP(w *strings.Builder, p []byte) int {
	code, body, ok := header(w, p, ccpCodeNames)
	if !ok {
		return 0
	}
	// ccp_printpkt prints Terminate text without the leading space.
	writeHexBytes(w, printFSM(w, code, body, printCCPOption, false))
	return HeaderLen + len(body)
}

func printCCPOption(w *strings.Builder, o []byte) int {
	l := len(o)
	switch o[0] {
	case ccpOptMPPE:
		if l >= 6 {
			bit := func(b byte, mask byte, name string) string {
				if b&mask != 0 {
					return "+" + name
				}
				return "-" + name
			}
			const all = 0x80 | 0x40 | 0x20 | 0x10 | 0x01
			unknown := o[2]&^0x01 != 0 || o[3] != 0 || o[4] != 0 || o[5]&^all != 0
			fmt.Fprintf(w, "mppe %s %s %s %s %s %s", bit(o[2], 0x01, "H"), bit(o[5], 0x80, "M"), bit(o[5], 0x40, "S"),
				bit(o[5], 0x20, "L"), bit(o[5], 0x10, "D"), bit(o[5], 0x01, "C"))
			if unknown {
				fmt.Fprintf(w, " +U (%02x %02x %02x %02x)", o[2], o[3], o[4], o[5])
			}
			return 6
		}
	case ccpOptDeflate, ccpOptDeflateDraft:
		if l >= 4 {
			old := ""
			if o[0] == ccpOptDeflateDraft {
				old = "(old#)"
			}
			fmt.Fprintf(w, "deflate%s %d", old, int(o[2]>>4)+8)
			if o[2]&0x0f != deflateMethodZlib {
				fmt.Fprintf(w, " method %d", o[2]&0x0f)
			}
			if o[3] != deflateCheckSequence {
				fmt.Fprintf(w, " check %d", o[3])
			}
			return 4
		}
	case ccpOptBSD:
		if l >= 3 {
			fmt.Fprintf(w, "bsd v%d %d", o[2]>>5, o[2]&0x1f)
			return 3
		}
	case ccpOptPredictor1, ccpOptPredictor2:
		if l >= 2 {
			fmt.Fprintf(w, "predictor %d", o[0])
			return 2
		}
	}
	return 0
}

func printPAP(w *strings.Builder, p []byte) int {
	code, body, ok := header(w, p, papCodeNames)
	if !ok {
		return 0
	}
	end := HeaderLen + len(body)
	switch Code(code) {
	case CodePAPAuthReq:
		// A malformed request may still hold a password: where the
		// fields cannot be told apart, none of it is printed, not even
		// as hex (pppd would dump it).
		if len(body) < 2 || len(body) < int(body[0])+2 || len(body) < int(body[0])+int(body[int(body[0])+1])+2 {
			w.WriteString(" <malformed, hidden>")
			return end
		}
		ulen := int(body[0])
		wlen := int(body[ulen+1])
		w.WriteString(" user=")
		writeString(w, body[1:1+ulen])
		w.WriteString(" password=<hidden>")
		body = body[ulen+wlen+2:]
	case CodePAPAuthAck, CodePAPAuthNak:
		if len(body) < 1 || len(body) < int(body[0])+1 {
			if len(body) > 0 {
				w.WriteString(" <malformed, hidden>")
			}
			return end
		}
		mlen := int(body[0])
		w.WriteString(" ")
		writeString(w, body[1:1+mlen])
		body = body[1+mlen:]
	}
	// pppd prints the rest in hex; in an Authenticate-Request it may be
	// a password misencoded.
	writeHidden(w, len(body))
	return end
}

func printCHAP(w *strings.Builder, p []byte) int {
	code, body, ok := header(w, p, chapCodeNames)
	if !ok {
		return 0
	}
	switch Code(code) {
	case CodeCHAPChallenge, CodeCHAPResponse:
		if len(body) < 1 {
			break
		}
		clen := int(body[0])
		if len(body) < clen+1 {
			break // pppd prints nothing more, and neither do we
		}
		if Code(code) == CodeCHAPResponse {
			w.WriteString(" <hidden>, name = ")
		} else {
			fmt.Fprintf(w, " <%x>, name = ", body[1:1+clen])
		}
		writeString(w, body[1+clen:])
	case CodeCHAPSuccess, CodeCHAPFailure:
		w.WriteString(" ")
		writeString(w, body)
	default:
		writeHidden(w, len(body))
	}
	return HeaderLen + len(body)
}

// printEAP prints EAP (RFC 3748 §4) in outline: pppoed never negotiates it,
// so only what arrives unasked is shown, and none of its data (identities,
// hashes) at all.
func printEAP(w *strings.Builder, p []byte) int {
	_, body, ok := header(w, p, eapCodeNames)
	if !ok {
		return 0
	}
	writeHidden(w, len(body))
	return HeaderLen + len(body)
}

// writeHidden stands for n octets that are not shown.
func writeHidden(w *strings.Builder, n int) {
	switch n {
	case 0:
	case 1:
		w.WriteString(" <1 octet hidden>")
	default:
		fmt.Fprintf(w, " <%d octets hidden>", n)
	}
}

// writeHexBytes is pppd's "%.*B": each octet as a space and two hex digits.
func writeHexBytes(w *strings.Builder, b []byte) {
	const digits = "0123456789abcdef"
	for _, c := range b {
		w.WriteByte(' ')
		w.WriteByte(digits[c>>4])
		w.WriteByte(digits[c&0xf])
	}
}

// writeString is pppd's print_string: quoted, with \\, \", \n, \r, \t and
// \ooo escapes for everything else outside printable ASCII.
func writeString(w *strings.Builder, s []byte) {
	w.WriteByte('"')
	for _, c := range s {
		if c == '\\' || c == '"' {
			w.WriteByte('\\')
			w.WriteByte(c)
			continue
		}
		if c >= ' ' && c <= '~' {
			w.WriteByte(c) // printable ASCII
			continue
		}
		switch c {
		case '\n':
			w.WriteString(`\n`)
		case '\r':
			w.WriteString(`\r`)
		case '\t':
			w.WriteString(`\t`)
		default:
			fmt.Fprintf(w, `\%03o`, c)
		}
	}
	w.WriteByte('"')
}
