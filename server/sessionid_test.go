package server

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// ids is a fake random source: each id big endian, then EOF.
func ids(v ...uint16) *bytes.Reader {
	var b []byte
	for _, id := range v {
		b = append(b, byte(id>>8), byte(id))
	}
	return bytes.NewReader(b)
}

// repeat returns the same two octets forever and counts the reads.
type repeat struct {
	id    uint16
	reads int
}

func (r *repeat) Read(p []byte) (int, error) {
	for i := range p {
		if i%2 == 0 {
			p[i] = byte(r.id >> 8)
		} else {
			p[i] = byte(r.id)
		}
	}
	r.reads++
	return len(p), nil
}

// TestSessionIDsFromReader: ids are the reader's, in order, skipping 0,
// 0xFFFF and live ones.
func TestSessionIDsFromReader(t *testing.T) {
	tests := []struct {
		name string
		draw []uint16
		want []uint16
	}{
		{name: "as drawn", draw: []uint16{0x1234, 0xbeef, 0x0001, 0xfffe}, want: []uint16{0x1234, 0xbeef, 0x0001, 0xfffe}},
		{name: "0 skipped (RFC 2516 §5.4: the Discovery stage's)", draw: []uint16{0x0000, 0x4242}, want: []uint16{0x4242}},
		{name: "0xFFFF skipped (RFC 2516 §4: reserved)", draw: []uint16{0xffff, 0x4242}, want: []uint16{0x4242}},
		{name: "live id skipped", draw: []uint16{0x4242, 0x4242, 0x0007}, want: []uint16{0x4242, 0x0007}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSessionIDs(ids(tt.draw...))
			for _, want := range tt.want {
				got, err := s.Allocate()
				if err != nil || got != want {
					t.Fatalf("Allocate = %#04x, %v; want %#04x", got, err, want)
				}
			}
			if s.Len() != len(tt.want) {
				t.Errorf("Len = %d, want %d", s.Len(), len(tt.want))
			}
		})
	}
}

// TestSessionIDsScan: after randomTries draws of live or forbidden ids,
// Allocate scans from the last draw (wrapping, skipping 0 and 0xFFFF) rather
// than drawing forever.
func TestSessionIDsScan(t *testing.T) {
	tests := []struct {
		name string
		live []uint16 // allocated first, from a reader of them
		draw uint16   // then drawn every time
		want uint16
	}{
		{name: "next after a live id", live: []uint16{0x1000, 0x1001}, draw: 0x1000, want: 0x1002},
		{name: "0xFFFF drawn: wraps past 0 to 1", draw: 0xffff, want: 0x0001},
		{name: "0 drawn", draw: 0x0000, want: 0x0001},
		{name: "0xFFFE live: wraps past 0xFFFF and 0", live: []uint16{0xfffe}, draw: 0xfffe, want: 0x0001},
		{name: "1 live, 0xFFFF drawn", live: []uint16{0x0001, 0x0002}, draw: 0xffff, want: 0x0003},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := NewSessionIDs(ids(tt.live...))
			for range tt.live {
				if _, err := s.Allocate(); err != nil {
					t.Fatal(err)
				}
			}
			r := &repeat{id: tt.draw}
			s.rand = r
			got, err := s.Allocate()
			if err != nil || got != tt.want {
				t.Fatalf("Allocate = %#04x, %v; want %#04x", got, err, tt.want)
			}
			if r.reads != randomTries {
				t.Errorf("%d draws, want %d", r.reads, randomTries)
			}
		})
	}
}

// TestSessionIDsExhaustion fills an interface from crypto/rand: every id
// 1..0xFFFE exactly once, then ErrNoSessionID, then a released id is the
// only one handed out again.
func TestSessionIDsExhaustion(t *testing.T) {
	s := NewSessionIDs(nil)
	seen := make([]bool, 65536)
	for i := range MaxSessionIDs {
		id, err := s.Allocate()
		if err != nil {
			t.Fatalf("Allocate #%d: %v", i, err)
		}
		if id == 0 || id == 0xffff {
			t.Fatalf("Allocate #%d = %#04x", i, id)
		}
		if seen[id] {
			t.Fatalf("Allocate #%d = %#04x, already live", i, id)
		}
		seen[id] = true
	}
	if s.Len() != MaxSessionIDs || MaxSessionIDs != 65534 {
		t.Fatalf("Len = %d, MaxSessionIDs = %d", s.Len(), MaxSessionIDs)
	}
	// Refused at once, without drawing: a full table costs no scans.
	r := &repeat{id: 0x1234}
	s.rand = r
	if id, err := s.Allocate(); !errors.Is(err, ErrNoSessionID) || r.reads != 0 {
		t.Fatalf("Allocate when full = %#04x, %v after %d draws; want ErrNoSessionID, none", id, err, r.reads)
	}
	for _, id := range []uint16{0x0001, 0x8000, 0xfffe} {
		s.Release(id)
		got, err := s.Allocate()
		if err != nil || got != id {
			t.Fatalf("Allocate after Release(%#04x) = %#04x, %v", id, got, err)
		}
	}
	if _, err := s.Allocate(); !errors.Is(err, ErrNoSessionID) {
		t.Fatalf("Allocate when full again: %v", err)
	}
}

// TestSessionIDsRelease: releasing a free, 0 or 0xFFFF id changes nothing
// (a double release must not make Len undercount and let Allocate run
// past a full table).
func TestSessionIDsRelease(t *testing.T) {
	s := NewSessionIDs(ids(0x0005, 0x0005))
	id, err := s.Allocate()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []uint16{0x0000, 0xffff, 0x0006} {
		s.Release(r)
	}
	if s.Len() != 1 {
		t.Fatalf("Len = %d after releasing ids never allocated, want 1", s.Len())
	}
	s.Release(id)
	s.Release(id)
	if s.Len() != 0 {
		t.Fatalf("Len = %d after a double release, want 0", s.Len())
	}
	if got, err := s.Allocate(); err != nil || got != 0x0005 {
		t.Fatalf("Allocate after Release = %#04x, %v; want 0x0005", got, err)
	}
}

func TestSessionIDsReaderError(t *testing.T) {
	s := NewSessionIDs(ids()) // EOF at once
	if _, err := s.Allocate(); !errors.Is(err, io.EOF) {
		t.Fatalf("Allocate = %v, want io.EOF wrapped", err)
	}
	if s.Len() != 0 {
		t.Fatalf("Len = %d after a failed Allocate", s.Len())
	}
}

func BenchmarkSessionIDsNearlyFull(b *testing.B) {
	s := NewSessionIDs(nil)
	for range MaxSessionIDs - 1 {
		if _, err := s.Allocate(); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		id, err := s.Allocate()
		if err != nil {
			b.Fatal(err)
		}
		s.Release(id)
	}
}
