package server

import (
	"bytes"
	"net"
	"testing"
	"testing/synctest"
	"time"
)

// clock is an injectable clock that tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var (
	testKey   = []byte("0123456789abcdef0123456789abcdef")
	clientMAC = net.HardwareAddr{0x02, 0x00, 0x5e, 0x00, 0x53, 0x01}
	otherMAC  = net.HardwareAddr{0x02, 0x00, 0x5e, 0x00, 0x53, 0x02}
	// t0 starts a 30 s window: 1704067200 / 30 = 56802240.
	t0 = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
)

// TestCookieGolden pins the cookie's octets, computed independently (with
// Python's hmac module) from the layout documented in cookie.go.
func TestCookieGolden(t *testing.T) {
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i) // 00 01 .. 1f
	}
	j := NewCookieJar(key, 30*time.Second, func() time.Time { return t0.Add(29 * time.Second) })
	want := []byte{
		// window index, big endian: 1704067229 / 30 = 56802240 = 0x0362bbc0
		0x00, 0x00, 0x00, 0x00, 0x03, 0x62, 0xbb, 0xc0,
		// the jar's count, big endian: its first cookie
		0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01,
		// HMAC-SHA256(key, "pppoed AC-Cookie v2\x00" | index | count | 02:00:5e:00:53:01), first 16 octets
		0x4f, 0x0c, 0xb1, 0x4c, 0x81, 0xb4, 0x92, 0x5f,
		0xf8, 0x2e, 0xff, 0xe2, 0xa8, 0x30, 0xd7, 0xfd,
	}
	got := j.Mint(clientMAC)
	if !bytes.Equal(got, want) {
		t.Fatalf("Mint = % x\nwant   % x", got, want)
	}
	if !j.Verify(clientMAC, want) {
		t.Fatal("Verify refuses the golden cookie")
	}
}

func TestCookieVerify(t *testing.T) {
	const w = 30 * time.Second
	flip := func(i int) func([]byte) []byte {
		return func(b []byte) []byte { b[i] ^= 0x01; return b }
	}
	tests := []struct {
		name   string
		minted time.Duration // after t0, when minted
		mac    net.HardwareAddr
		edit   func([]byte) []byte // of the minted cookie
		key    []byte              // of the verifying jar, if not testKey
		after  time.Duration       // after t0, when verified
		want   bool
	}{
		{name: "right MAC, same instant", mac: clientMAC, want: true},
		{name: "right MAC, end of the window", mac: clientMAC, after: w - 1, want: true},
		{name: "previous window, just begun", mac: clientMAC, after: w, want: true},
		{name: "minted last instant of a window, verified at the end of the next", minted: w - 1, mac: clientMAC, after: 2*w - 1, want: true},
		{name: "other MAC", mac: otherMAC, want: false},
		{name: "no MAC", mac: nil, want: false},
		{name: "expired: two windows on", mac: clientMAC, after: 2 * w, want: false},
		{name: "expired: minted late, two windows on", minted: w - 1, mac: clientMAC, after: 2 * w, want: false},
		{name: "expired: long ago", mac: clientMAC, after: 1000 * w, want: false},
		{name: "future window", minted: w, mac: clientMAC, after: 0, want: false},
		{name: "index edited to the current window", minted: 0, mac: clientMAC, after: w,
			edit: func(b []byte) []byte { b[7]++; return b }, want: false},
		{name: "truncated by one", mac: clientMAC, edit: func(b []byte) []byte { return b[:len(b)-1] }, want: false},
		{name: "index only", mac: clientMAC, edit: func(b []byte) []byte { return b[:8] }, want: false},
		{name: "one octet longer", mac: clientMAC, edit: func(b []byte) []byte { return append(b, 0) }, want: false},
		{name: "empty", mac: clientMAC, edit: func([]byte) []byte { return []byte{} }, want: false},
		{name: "nil", mac: clientMAC, edit: func([]byte) []byte { return nil }, want: false},
		{name: "bit flipped in the index", mac: clientMAC, edit: flip(0), want: false},
		{name: "bit flipped in the count", mac: clientMAC, edit: flip(15), want: false},
		{name: "count zeroed", mac: clientMAC, edit: func(b []byte) []byte { clear(b[8:16]); return b }, want: false},
		{name: "bit flipped in the first HMAC octet", mac: clientMAC, edit: flip(16), want: false},
		{name: "bit flipped in the last HMAC octet", mac: clientMAC, edit: flip(31), want: false},
		{name: "HMAC zeroed", mac: clientMAC, edit: func(b []byte) []byte { clear(b[16:]); return b }, want: false},
		{name: "other key", mac: clientMAC, key: []byte("another key of the same length.."), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &clock{t: t0.Add(tt.minted)}
			cookie := NewCookieJar(testKey, w, c.now).Mint(clientMAC)
			if tt.edit != nil {
				cookie = tt.edit(cookie)
			}
			key := testKey
			if tt.key != nil {
				key = tt.key
			}
			c.t = t0.Add(tt.after)
			if got := NewCookieJar(key, w, c.now).Verify(tt.mac, cookie); got != tt.want {
				t.Errorf("Verify = %v, want %v (cookie % x)", got, tt.want, cookie)
			}
		})
	}
}

// TestCookieDefaults: a nil key is a random one per jar (per boot), so a
// cookie from another process is refused; a zero window is 30 s; a nil
// clock is time.Now (faked by synctest, which starts at a whole minute).
func TestCookieDefaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := NewCookieJar(nil, 0, nil)
		b := NewCookieJar(nil, 0, nil)
		if bytes.Equal(a.key, b.key) || len(a.key) != 32 {
			t.Fatalf("random keys: % x and % x", a.key, b.key)
		}
		cookie := a.Mint(clientMAC)
		if b.Verify(clientMAC, cookie) {
			t.Fatal("a jar with another random key accepts the cookie")
		}
		time.Sleep(2*DefaultCookieWindow - time.Nanosecond)
		if !a.Verify(clientMAC, cookie) {
			t.Fatal("cookie refused before two default windows")
		}
		time.Sleep(time.Nanosecond)
		if a.Verify(clientMAC, cookie) {
			t.Fatal("cookie accepted after two default windows")
		}
	})
}

// Each PADO's cookie is its own, even to one MAC within one window, and
// each verifies: a PADR after a new PADO is told from a repeated one.
func TestCookieFreshPerMint(t *testing.T) {
	c := &clock{t: t0}
	j := NewCookieJar(testKey, 0, c.now)
	a, b := j.Mint(clientMAC), j.Mint(clientMAC)
	if bytes.Equal(a, b) {
		t.Fatalf("two Mints for one MAC in one window gave the same cookie % x", a)
	}
	if !j.Verify(clientMAC, a) || !j.Verify(clientMAC, b) {
		t.Fatal("a fresh cookie does not verify")
	}
	// The count is the jar's, not the window's or the MAC's.
	c.t = t0.Add(DefaultCookieWindow)
	if d := j.Mint(otherMAC); !bytes.Equal(d[8:16], []byte{0, 0, 0, 0, 0, 0, 0, 3}) {
		t.Fatalf("third cookie's count % x", d[8:16])
	}
}

// TestCookieKeyCopied: the caller reusing its key buffer changes nothing.
func TestCookieKeyCopied(t *testing.T) {
	key := bytes.Clone(testKey)
	c := &clock{t: t0}
	j := NewCookieJar(key, 0, c.now)
	cookie := j.Mint(clientMAC)
	clear(key)
	if !j.Verify(clientMAC, cookie) {
		t.Fatal("the jar follows the caller's key buffer")
	}
}

// FuzzVerify: no input panics Verify, and none verifies unless it is a
// cookie the jar (or one with its key) minted for that MAC in the
// current or previous window.
func FuzzVerify(f *testing.F) {
	j := NewCookieJar(testKey, 30*time.Second, func() time.Time { return t0.Add(45 * time.Second) })
	prev := NewCookieJar(testKey, 30*time.Second, func() time.Time { return t0.Add(15 * time.Second) })
	minted := map[string]bool{}
	mint := func(jar *CookieJar, mac net.HardwareAddr) []byte {
		c := jar.Mint(mac)
		minted[string(mac)+string(c)] = true
		return c
	}
	f.Add([]byte(clientMAC), mint(j, clientMAC))
	f.Add([]byte(clientMAC), mint(j, clientMAC))
	f.Add([]byte(clientMAC), mint(prev, clientMAC))
	f.Add([]byte(otherMAC), mint(j, clientMAC))
	f.Add([]byte{}, []byte{})
	f.Add([]byte(clientMAC), make([]byte, cookieLen))
	f.Add([]byte(clientMAC), bytes.Repeat([]byte{0xff}, cookieLen))
	f.Fuzz(func(t *testing.T, mac, cookie []byte) {
		if !j.Verify(mac, cookie) {
			return
		}
		if !minted[string(mac)+string(cookie)] {
			t.Fatalf("Verify(% x, % x) = true for a cookie the jar did not mint", mac, cookie)
		}
	})
}
