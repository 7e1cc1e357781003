package pcapfile

import (
	"encoding/binary"
	"os"
	"strings"
	"testing"
)

func header(magic uint32) []byte {
	b := make([]byte, 24)
	binary.LittleEndian.PutUint32(b, magic)
	binary.LittleEndian.PutUint16(b[4:], 2) // version 2.4
	binary.LittleEndian.PutUint16(b[6:], 4)
	binary.LittleEndian.PutUint32(b[16:], 65535)            // snaplen
	binary.LittleEndian.PutUint32(b[20:], LinkTypeEthernet) // link type
	return b
}

func record(sec, frac uint32, data []byte) []byte {
	b := make([]byte, 16)
	binary.LittleEndian.PutUint32(b, sec)
	binary.LittleEndian.PutUint32(b[4:], frac)
	binary.LittleEndian.PutUint32(b[8:], uint32(len(data)))
	binary.LittleEndian.PutUint32(b[12:], uint32(len(data)+4)) // 4 octets not captured
	return append(b, data...)
}

func TestParse(t *testing.T) {
	b := append(header(0xa1b2c3d4), record(10, 500, []byte("frame-one"))...)
	b = append(b, record(11, 0, []byte("two"))...)
	f, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if f.LinkType != LinkTypeEthernet || len(f.Packets) != 2 {
		t.Fatalf("got %+v", f)
	}
	p := f.Packets[0]
	if string(p.Data) != "frame-one" || p.Len != 13 || p.Time.Unix() != 10 || p.Time.Nanosecond() != 500000 {
		t.Errorf("packet 0 = %+v", p)
	}
	nano, err := Parse(append(header(0xa1b23c4d), record(1, 7, nil)...))
	if err != nil || nano.Packets[0].Time.Nanosecond() != 7 {
		t.Errorf("nanosecond capture: %+v, %v", nano, err)
	}
}

func TestParseErrors(t *testing.T) {
	good := append(header(0xa1b2c3d4), record(1, 0, []byte("abcd"))...)
	tests := []struct {
		name string
		in   []byte
		want string
	}{
		{"empty", nil, "shorter than"},
		{"bad magic", append([]byte{1, 2, 3, 4}, good[4:]...), "unknown magic"},
		{"truncated record header", good[:24+10], "record header truncated"},
		{"truncated data", good[:len(good)-1], "runs past the end"},
	}
	for _, tt := range tests {
		if _, err := Parse(tt.in); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: err = %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestParseReferenceCapture(t *testing.T) {
	b, err := os.ReadFile("../../testdata/captures/reference-chap.pcap")
	if err != nil {
		t.Fatal(err)
	}
	f, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Packets) < 20 || f.LinkType != LinkTypeEthernet {
		t.Errorf("reference capture: %d packets, link type %d", len(f.Packets), f.LinkType)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(append(header(0xa1b2c3d4), record(1, 0, []byte("abcd"))...))
	f.Fuzz(func(t *testing.T, b []byte) {
		_, _ = Parse(b)
	})
}

func TestReferences(t *testing.T) {
	refs, err := References("../../testdata/captures")
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range refs {
		if len(r.File.Packets) == 0 || !strings.Contains(r.Log, "rcvd [") {
			t.Errorf("%s: %d packets, log of %d bytes", r.Name, len(r.File.Packets), len(r.Log))
		}
	}
	if _, err := References(t.TempDir()); err == nil || !strings.Contains(err.Error(), "no captures") {
		t.Errorf("empty directory: %v", err)
	}
}
