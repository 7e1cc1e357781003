package discovery

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pppoed/pppoed/internal/pcapfile"
)

// Decoding the discovery frames of real sessions (make capture) yields
// exactly the lines pppd's PPPoE plugin logged for them.
func TestReferenceCaptures(t *testing.T) {
	pcaps, _ := filepath.Glob("../testdata/captures/*.pcap")
	if len(pcaps) == 0 {
		t.Fatal("no captures in ../testdata/captures (make capture)")
	}
	for _, path := range pcaps {
		t.Run(filepath.Base(path), func(t *testing.T) {
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			capture, err := pcapfile.Parse(b)
			if err != nil {
				t.Fatal(err)
			}
			log, err := os.ReadFile(strings.TrimSuffix(path, ".pcap") + ".pppd.log")
			if err != nil {
				t.Fatal(err)
			}
			want := loggedDiscovery(string(log))
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
