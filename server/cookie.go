package server

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"net"
	"sync/atomic"
	"time"
)

// DefaultCookieWindow is the AC-Cookie's time window: a cookie minted in a
// PADO is accepted in a PADR for between one and two windows. A client
// sends its PADR as soon as it picks an offer (pppd waits at most its
// discovery timeout, 5 s by default, before choosing), so 30 s is ample
// while keeping a captured cookie useless a minute later.
const DefaultCookieWindow = 30 * time.Second

// Cookie layout (RFC 2516 leaves the AC-Cookie's content to the AC, §5.2):
//
//	octets 0-7    the time window's index, big endian: now / window
//	octets 8-15   the jar's count of cookies minted, big endian
//	octets 16-31  HMAC-SHA256(key, label | index | count | client MAC), first 16 octets
//
// The index travels in the clear so Verify computes one HMAC, for the window
// the cookie names, instead of one per window it would accept. The count
// makes each PADO's cookie its own: the AC tells a PADR repeated because its
// PADS was lost (same cookie) from a new one after another PADO (a client
// that restarted within the window), and lets one cookie hold one session at
// a time, so that sessions cost PADOs, which the PADI limits bound. The MAC
// is truncated to 128 bits (NIST SP 800-107 §5.3.3 allows truncation to as
// few as 32 bits when forgery attempts are limited): an attacker has at most
// two windows to guess one of 2^128 values per PADR, each of which costs it
// a frame, and a shorter cookie leaves more of the PADO for tags that matter.
const (
	cookieIndexLen = 8
	cookieCountLen = 8
	cookieMACLen   = 16
	cookieLen      = cookieIndexLen + cookieCountLen + cookieMACLen
)

// cookieLabel separates this use of the key from any other the server may
// make of it later.
const cookieLabel = "pppoed AC-Cookie v2\x00"

// CookieJar mints and verifies AC-Cookies. It stores nothing per client:
// a cookie proves by itself that this AC sent it to that MAC recently. It
// is safe for concurrent use.
type CookieJar struct {
	key    []byte
	window time.Duration
	now    func() time.Time
	minted atomic.Uint64 // cookies minted: the count of the next is one more
}

// NewCookieJar returns a jar keyed by key; a nil or empty key draws a fresh
// 32-octet key from crypto/rand, so cookies die with the process (a per-boot
// key: a PADR after a restart is answered by nothing and the client
// retries from its PADI, RFC 2516 §5.3). window <= 0 means
// DefaultCookieWindow; a nil now means time.Now. The key is copied.
func NewCookieJar(key []byte, window time.Duration, now func() time.Time) *CookieJar {
	if len(key) == 0 {
		key = make([]byte, sha256.Size)
		rand.Read(key) // Never fails (it crashes the program instead), Go 1.24+.
	} else {
		key = append([]byte(nil), key...)
	}
	if window <= 0 {
		window = DefaultCookieWindow
	}
	if now == nil {
		now = time.Now
	}
	return &CookieJar{key: key, window: window, now: now}
}

// index is the number of the window that t falls in.
func (j *CookieJar) index(t time.Time) uint64 {
	// Before 1970 the quotient is negative and wraps to a huge index; that
	// only means such a clock mints cookies no later clock accepts.
	return uint64(t.UnixNano() / int64(j.window))
}

func (j *CookieJar) mac(h hash.Hash, index, count uint64, client net.HardwareAddr) []byte {
	h.Write([]byte(cookieLabel))
	h.Write(binary.BigEndian.AppendUint64(nil, index))
	h.Write(binary.BigEndian.AppendUint64(nil, count))
	// The index and count have fixed lengths, so the MAC, last, needs no
	// length.
	h.Write(client)
	return h.Sum(nil)[:cookieMACLen]
}

// Mint returns a new AC-Cookie for a PADO to client, valid from now until
// the end of the next window; no other call returns the same one.
func (j *CookieJar) Mint(client net.HardwareAddr) []byte {
	idx := j.index(j.now())
	n := j.minted.Add(1)
	b := make([]byte, 0, cookieLen)
	b = binary.BigEndian.AppendUint64(b, idx)
	b = binary.BigEndian.AppendUint64(b, n)
	return append(b, j.mac(hmac.New(sha256.New, j.key), idx, n, client)...)
}

// Verify reports whether cookie was minted by this jar (or one with its
// key) for client in the current window or the one before. Anything else (another MAC, another
// key, an older or a future window, a cookie of the wrong length, garbage)
// is false; the comparison takes the same time wherever the cookie differs.
func (j *CookieJar) Verify(client net.HardwareAddr, cookie []byte) bool {
	if len(cookie) != cookieLen {
		return false
	}
	idx := binary.BigEndian.Uint64(cookie)
	cur := j.index(j.now())
	// Only two windows, so a cookie lives between one and two windows; a
	// future index is refused, as no clock of ours minted it.
	if idx != cur && idx != cur-1 {
		return false
	}
	n := binary.BigEndian.Uint64(cookie[cookieIndexLen:])
	return hmac.Equal(cookie[cookieIndexLen+cookieCountLen:], j.mac(hmac.New(sha256.New, j.key), idx, n, client))
}
