package server

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrNoSessionID is returned by SessionIDs.Allocate when every id is in
// use: the AC answers the PADR with a PADS carrying AC-System-Error
// (RFC 2516 §5.4).
var ErrNoSessionID = errors.New("server: all 65534 session ids are in use")

// Session ids 0 and 0xFFFF are never allocated: 0 is the Discovery stage's
// (a PADS with SESSION_ID 0 refuses the session, RFC 2516 §5.4) and 0xFFFF
// is reserved for future use (§4).
const (
	sessionIDMin = 0x0001
	sessionIDMax = 0xFFFE
	// MaxSessionIDs is how many sessions one interface can hold at once.
	MaxSessionIDs = sessionIDMax - sessionIDMin + 1
)

// randomTries bounds the random draws of one Allocate before it scans.
// With a fraction f of ids in use, all 8 draws hit used ids with
// probability f^8: under 0.4% at f = 1/2, so scans are rare until the
// table is nearly full, when they are what keeps Allocate fast.
const randomTries = 8

// SessionIDs allocates the PPPoE session ids of one interface (RFC 2516
// §4: the id is unique for the pair of MACs, and the AC picks it; ids
// unique per interface satisfy that for every client). Ids are random, so
// that a host cannot guess another client's id to forge its PADT. It is
// safe for concurrent use.
type SessionIDs struct {
	mu   sync.Mutex
	rand io.Reader
	used [65536 / 64]uint64 // bit i: id i is live (8 KiB)
	n    int
}

// NewSessionIDs returns an empty allocator drawing from r, or from
// crypto/rand when r is nil.
func NewSessionIDs(r io.Reader) *SessionIDs {
	if r == nil {
		r = rand.Reader
	}
	return &SessionIDs{rand: r}
}

func (s *SessionIDs) inUse(id uint16) bool { return s.used[id/64]&(1<<(id%64)) != 0 }

func (s *SessionIDs) take(id uint16) uint16 {
	s.used[id/64] |= 1 << (id % 64)
	s.n++
	return id
}

func valid(id uint16) bool { return id >= sessionIDMin && id <= sessionIDMax }

// Allocate returns a random id, never 0 or 0xFFFF, that is not live, and
// makes it live until Release. It returns ErrNoSessionID when all
// MaxSessionIDs are live, or the random source's error.
func (s *SessionIDs) Allocate() (uint16, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.n >= MaxSessionIDs {
		return 0, ErrNoSessionID
	}
	var b [2]byte
	var id uint16
	for range randomTries {
		if _, err := io.ReadFull(s.rand, b[:]); err != nil {
			return 0, fmt.Errorf("server: session id: %w", err)
		}
		id = binary.BigEndian.Uint16(b[:])
		if valid(id) && !s.inUse(id) {
			return s.take(id), nil
		}
	}
	// Nearly full: the first free id after the last draw, wrapping around.
	// There is one, since n < MaxSessionIDs; finding it costs at most 65535
	// bit tests (tens of microseconds), whatever the draws were.
	for range 0xFFFF {
		id++
		if valid(id) && !s.inUse(id) {
			return s.take(id), nil
		}
	}
	return 0, ErrNoSessionID // unreachable while n counts the live ids
}

// Release makes id free again. Releasing an id that is not live (0 and
// 0xFFFF never are) does nothing, so a session's teardown may release twice.
func (s *SessionIDs) Release(id uint16) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.inUse(id) {
		return
	}
	s.used[id/64] &^= 1 << (id % 64)
	s.n--
}

// Len returns how many ids are live.
func (s *SessionIDs) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}
