package ppp

import (
	"bytes"
	"encoding/binary"
	"regexp"
	"strings"
	"testing"

	"github.com/pppoed/pppoed/internal/pcapfile"
)

// chapResponseValue is the value of a CHAP Response in pppd's log, which
// we deliberately print as <hidden> (print.go): the one place where our
// dump differs from pppd's on these captures (pppd already hides PAP
// passwords). Only that value, in that packet, is replaced.
var chapResponseValue = regexp.MustCompile(`^(\[CHAP Response id=0x[0-9a-f]+ )<[0-9a-f]*>(, name = )`)

// Decoding the PPP frames of real sessions (make capture) yields exactly the
// lines pppd logged for them, "sent" and "rcvd" alike, but for the CHAP
// Response values we hide. pppd leaves LCP echoes out of its log once a
// network protocol is up, so only those may be missing from the log.
func TestReferenceCaptures(t *testing.T) {
	refs, err := pcapfile.References("../testdata/captures")
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range refs {
		t.Run(ref.Name, func(t *testing.T) {
			capture, log := ref.File, ref.Log
			logged := map[string][]string{}
			for _, l := range strings.Split(log, "\n") {
				if dir, rest, ok := strings.Cut(l, " "); ok && (dir == "sent" || dir == "rcvd") {
					logged[dir] = append(logged[dir], chapResponseValue.ReplaceAllString(rest, "$1<hidden>$2"))
				}
			}
			decoded := map[string][]string{}
			var client []byte
			for _, pkt := range capture.Packets {
				d := pkt.Data
				if len(d) < 20 {
					t.Fatalf("short frame % x", d)
				}
				if client == nil {
					client = d[6:12] // the PADI's sender
				}
				// Ethernet (14) + PPPoE header (6; LENGTH at offset 4).
				if binary.BigEndian.Uint16(d[12:]) != 0x8864 {
					continue
				}
				n := int(binary.BigEndian.Uint16(d[18:]))
				frame := d[20 : 20+n]
				if !Protocol(binary.BigEndian.Uint16(frame)).IsControl() {
					continue // data (IPv6 router solicitations): the kernel's, pppd never sees it
				}
				p, err := ParseFrame(frame)
				if err != nil {
					t.Fatalf("% x: %v", frame, err)
				}
				if s := FormatFrame(frame); s != p.String() {
					t.Errorf("FormatFrame %q != String %q", s, p.String())
				}
				dir := "rcvd"
				if bytes.Equal(d[6:12], client) {
					dir = "sent"
				}
				decoded[dir] = append(decoded[dir], p.String())
			}
			for _, dir := range []string{"sent", "rcvd"} {
				want, got := logged[dir], decoded[dir]
				i := 0
				for _, g := range got {
					if i < len(want) && g == want[i] {
						i++
						continue
					}
					if strings.Contains(g, " EchoReq ") || strings.Contains(g, " EchoRep ") {
						continue // not logged after an NCP came up
					}
					t.Errorf("%s: decoded %s\n pppd logged %s", dir, g, strings.Join(want[i:min(i+1, len(want))], ""))
					return
				}
				if i != len(want) {
					t.Errorf("%s: pppd logged %d packets, %d matched; next: %s", dir, len(want), i, want[i])
				}
				if i < 8 {
					t.Errorf("%s: only %d packets compared", dir, i)
				}
			}
		})
	}
}
