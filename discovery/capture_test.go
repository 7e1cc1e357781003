package discovery

import (
	"bytes"
	"strings"
	"testing"

	"github.com/pppoed/pppoed/internal/pcapfile"
)

// Decoding the discovery frames of real sessions (make capture) yields
// exactly the lines pppd's PPPoE plugin logged for them.
func TestReferenceCaptures(t *testing.T) {
	refs, err := pcapfile.References("../testdata/captures")
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range refs {
		t.Run(ref.Name, func(t *testing.T) {
			capture, log := ref.File, ref.Log
			want := loggedDiscovery(log)
			var got []string
			var client []byte
			for _, pkt := range capture.Packets {
				f, err := ParseFrame(pkt.Data)
				if err != nil {
					t.Fatalf("frame: %v", err)
				}
				if f.EtherType != EtherTypeDiscovery {
					continue
				}
				p, err := Parse(f.Payload)
				if err != nil {
					t.Fatalf("% x: %v", f.Payload, err)
				}
				if client == nil {
					client = f.Src // the PADI's sender
				}
				dir := "Recv"
				if bytes.Equal(f.Src, client) {
					dir = "Send"
				}
				got = append(got, strings.Join(p.LogLines(dir, f.Dst, f.Src), "\n"))
			}
			if len(got) < 4 {
				t.Fatalf("only %d discovery frames in the capture", len(got))
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("decoded:\n%s\n\npppd logged:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

// loggedDiscovery returns the three-line discovery dumps of a pppd log.
func loggedDiscovery(log string) []string {
	lines := strings.Split(log, "\n")
	var out []string
	for i := 0; i+2 < len(lines); i++ {
		if strings.HasPrefix(lines[i], "Send PPPOE Discovery") || strings.HasPrefix(lines[i], "Recv PPPOE Discovery") {
			out = append(out, strings.Join(lines[i:i+3], "\n"))
			i += 2
		}
	}
	return out
}
