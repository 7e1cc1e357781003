package discovery

import (
	"bytes"
	"encoding/binary"
	"net"

	"golang.org/x/net/bpf"
)

// The session tap. An AC may start the session stage the moment it sends
// its PADS (RFC 2516 §5.4: "the PPP session stage begins" once the
// PADS is sent), and a fast one sends its LCP Configure-Request right
// behind it. Until the host's PPPoE socket for that session is connected,
// the kernel knows no such session (pppoe_rcv finds no socket) and drops
// the request; the AC then waits out its restart timer, 3 s with pppd's
// fsm.c, before sending it again. pppd has the same race. A SessionTap is
// a packet socket for the session EtherType, opened before the PADR and
// filtered in the kernel to LCP Configure-Requests; read just before the
// session's socket is connected (pppox.Config.Tapped), what it holds
// reached the host before the kernel knew the session, so the socket can
// never have a copy of it. Only the newest request is taken: an AC that
// retransmitted meanwhile waits for the answer to its latest, and two
// Configure-Acks to two identical requests would make an AC that follows
// RFC 1661's table to the letter renegotiate (RCA in Ack-Rcvd or Opened).

// Session stage offsets, from the PPPoE header (RFC 2516 §6; RFC 1661
// §2 for the protocol field, §5 for the LCP header).
const (
	offPPPProtocol = HeaderLen     // the PPP protocol field, 2 octets
	offLCPCode     = HeaderLen + 2 // the control packet's Code
	lcpHeaderLen   = 4             // Code, Identifier, Length
)

// Spec constants of PPP the tap filters on.
const (
	protoLCP       = 0xc021 // RFC 1661 §5: the Link Control Protocol
	lcpConfRequest = 1      // RFC 1661 §5.1 Configure-Request
)

// maxTapReads bounds the reads of one Take: the filter lets other
// sessions' requests through too.
const maxTapReads = 64

// tapFilter is the tap's classic BPF program, run on the PPPoE header (a
// datagram socket sees no Ethernet header): version/type 0x11 and code 0
// (session data), PPP protocol LCP, LCP code Configure-Request. Anything
// else never reaches the socket's queue.
var tapFilter = mustAssemble([]bpf.Instruction{
	bpf.LoadAbsolute{Off: offVerType, Size: 2},                           // 0: VER/TYPE, CODE
	bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: VerType << 8, SkipTrue: 5},   // 1: not session data: 7
	bpf.LoadAbsolute{Off: offPPPProtocol, Size: 2},                       // 2: PPP protocol
	bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: protoLCP, SkipTrue: 3},       // 3: not LCP: 7
	bpf.LoadAbsolute{Off: offLCPCode, Size: 1},                           // 4: LCP code
	bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: lcpConfRequest, SkipTrue: 1}, // 5: not a request: 7
	bpf.RetConstant{Val: 0xffff},                                         // 6: keep it whole
	bpf.RetConstant{Val: 0},                                              // 7: drop
})

func mustAssemble(p []bpf.Instruction) []bpf.RawInstruction {
	raw, err := bpf.Assemble(p)
	if err != nil {
		panic("discovery: the tap's filter: " + err.Error())
	}
	return raw
}

// tappedRequest returns the LCP Configure-Request (from its Code on) that
// b, a session-stage PPPoE packet from the MAC from, carries for session
// s; false when b is anything else. The kernel's filter already chose, but
// every length is checked here again: b is from the wire.
func tappedRequest(b []byte, from net.HardwareAddr, s *Session) ([]byte, bool) {
	if s == nil || !bytes.Equal(from, s.AC) {
		return nil, false
	}
	if len(b) < offLCPCode+lcpHeaderLen {
		return nil, false
	}
	if b[offVerType] != VerType || Code(b[offCode]) != CodeSession || binary.BigEndian.Uint16(b[offSessionID:]) != s.ID {
		return nil, false
	}
	// LENGTH counts the payload (RFC 2516 §4); what follows it is the
	// Ethernet padding of a short frame.
	n := HeaderLen + int(binary.BigEndian.Uint16(b[offLength:]))
	if n > len(b) || n < offLCPCode+lcpHeaderLen {
		return nil, false
	}
	if binary.BigEndian.Uint16(b[offPPPProtocol:]) != protoLCP || b[offLCPCode] != lcpConfRequest {
		return nil, false
	}
	return bytes.Clone(b[offLCPCode:n]), true
}

// takeFrom reads what recv returns until it fails, at most maxTapReads
// times, and keeps the newest LCP Configure-Request for s (nil: none).
// recv returns a packet's length and its source MAC (nil: not one to
// take).
func takeFrom(recv func(b []byte) (int, net.HardwareAddr, error), s *Session) []byte {
	var newest []byte
	// An Ethernet payload. A longer frame (a baby jumbo, RFC 4638) is cut
	// short, and its LENGTH then refuses it: an AC's Configure-Request is
	// far shorter.
	buf := make([]byte, 1500)
	for range maxTapReads {
		n, from, err := recv(buf)
		if err != nil {
			break
		}
		if p, ok := tappedRequest(buf[:n], from, s); ok {
			newest = p
		}
	}
	return newest
}
