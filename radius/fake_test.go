package radius

import (
	"crypto/hmac"
	"crypto/md5"
	"encoding/binary"
	"net"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
	"layeh.com/radius"
	"layeh.com/radius/rfc2869"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// fakeServer is a RADIUS server on 127.0.0.1 whose answers the test
// writes byte by byte (handler returns the datagrams to send back). Its
// checks and signatures are written here independently of wire.go, so a
// bug shared by our encoder and our verifier cannot hide.
type fakeServer struct {
	conn   *net.UDPConn
	secret []byte
	mu     sync.Mutex
	got    [][]byte // raw requests received
	wg     sync.WaitGroup
}

type handler func(raw []byte, p *radius.Packet) [][]byte

func newFake(t *testing.T, secret string, h handler) *fakeServer {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeServer{conn: conn, secret: []byte(secret)}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		buf := make([]byte, 8192)
		for {
			n, from, err := conn.ReadFromUDP(buf)
			if err != nil {
				return
			}
			raw := append([]byte(nil), buf[:n]...)
			f.mu.Lock()
			f.got = append(f.got, raw)
			f.mu.Unlock()
			if h == nil {
				continue
			}
			p, err := radius.Parse(raw, f.secret)
			if err != nil {
				continue
			}
			for _, out := range h(raw, p) {
				_, _ = conn.WriteToUDP(out, from)
			}
		}
	}()
	t.Cleanup(func() { conn.Close(); f.wg.Wait() })
	return f
}

func (f *fakeServer) addr() string { return f.conn.LocalAddr().String() }

func (f *fakeServer) requests() [][]byte {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]byte(nil), f.got...)
}

// testHMAC is RFC 3579 §3.2's HMAC-MD5 over raw with the authenticator
// field set to auth and the Message-Authenticator value (at off) zeroed.
func testHMAC(raw []byte, off int, auth []byte, secret []byte) []byte {
	c := append([]byte(nil), raw...)
	copy(c[4:20], auth)
	clear(c[off+2 : off+18])
	m := hmac.New(md5.New, secret)
	m.Write(c)
	return m.Sum(nil)
}

// findMA returns the offset of the first Message-Authenticator in raw, -1
// if none.
func findMA(raw []byte) int {
	for off := 20; off+2 <= len(raw); off += int(raw[off+1]) {
		if raw[off] == byte(rfc2869.MessageAuthenticator_Type) {
			return off
		}
		if raw[off+1] < 2 {
			return -1
		}
	}
	return -1
}

// requestMAValid checks an Access-Request's Message-Authenticator (over
// its own authenticator) or an Accounting/DAE request's (over zeros).
func requestMAValid(raw []byte, secret []byte) bool {
	off := findMA(raw)
	if off < 0 {
		return false
	}
	auth := raw[4:20]
	if raw[0] != byte(radius.CodeAccessRequest) {
		auth = make([]byte, 16)
	}
	return hmac.Equal(testHMAC(raw, off, auth, secret), raw[off+2:off+18])
}

// replyOpts shape a reply built by signedReply, to make hostile ones.
type replyOpts struct {
	noMA    bool
	badMA   bool
	badAuth bool
	secret  []byte // sign with another secret
	id      int    // override identifier if >= 0
	// edit changes the marshalled packet before it is signed (the
	// Length field is set after it), so that a hostile layout is
	// otherwise authentic and only the check under test can catch it.
	edit func([]byte) []byte
}

// signedReply builds a reply with code and attrs to the request raw,
// Message-Authenticator last (where layeh-based servers put it), signed
// as RFC 3579 §3.2 and RFC 2865 §3 say unless o says otherwise.
func signedReply(raw []byte, code radius.Code, secret []byte, attrs radius.Attributes, o replyOpts) []byte {
	if o.secret != nil {
		secret = o.secret
	}
	p := &radius.Packet{Code: code, Identifier: raw[1], Secret: secret}
	if o.id >= 0 {
		p.Identifier = byte(o.id)
	}
	copy(p.Authenticator[:], raw[4:20])
	p.Attributes = append(p.Attributes, attrs...)
	if !o.noMA {
		p.Add(rfc2869.MessageAuthenticator_Type, make(radius.Attribute, 16))
	}
	b, err := p.MarshalBinary()
	if err != nil {
		panic(err)
	}
	maOff := len(b) - 18
	if o.edit != nil {
		b = setLen(o.edit(b))
	}
	if !o.noMA {
		copy(b[maOff+2:], testHMAC(b, maOff, raw[4:20], secret))
		if o.badMA {
			b[maOff+2] ^= 1
		}
	}
	h := md5.New()
	h.Write(b[:4])
	h.Write(raw[4:20])
	h.Write(b[20:])
	h.Write(secret)
	copy(b[4:20], h.Sum(nil))
	if o.badAuth {
		b[4] ^= 1
	}
	return b
}

func ok() replyOpts { return replyOpts{id: -1} }

// fakeClock is an injectable clock for the dead-time bookkeeping.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func setLen(b []byte) []byte {
	binary.BigEndian.PutUint16(b[2:4], uint16(len(b)))
	return b
}
