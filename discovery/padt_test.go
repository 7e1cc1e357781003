package discovery_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mdlayher/packet"
	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/discovery/discoverytest"
)

// captureConn keeps what a client sends, and where to; nothing arrives.
type captureConn struct {
	mu     sync.Mutex
	sent   [][]byte
	to     []net.HardwareAddr
	closed chan struct{}
	once   sync.Once
}

func newCaptureConn() *captureConn { return &captureConn{closed: make(chan struct{})} }

func (c *captureConn) ReadFrom([]byte) (int, net.Addr, error) {
	<-c.closed
	return 0, nil, net.ErrClosed
}

func (c *captureConn) WriteTo(b []byte, to net.Addr) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent = append(c.sent, bytes.Clone(b))
	c.to = append(c.to, to.(*packet.Addr).HardwareAddr)
	return len(b), nil
}

func (c *captureConn) Close() error { c.once.Do(func() { close(c.closed) }); return nil }

// A PADT goes to the AC with the session's id, and echoes our Host-Uniq
// and any Relay-Session-Id unmodified, an empty one included (RFC 2516
// §5.5 and appendix A); the reason, if any, is a Generic-Error.
func TestSendPADT(t *testing.T) {
	ac := c2mac("02:00:00:00:00:0a")
	tests := []struct {
		name   string
		relay  []byte
		reason string
		want   []byte
	}{
		{
			name: "reason", reason: "bye",
			want: cat(
				[]byte{0x11, 0xa7},             // VER/TYPE, CODE PADT
				[]byte{0x12, 0x34},             // SESSION_ID
				[]byte{0x00, 0x0d},             // LENGTH 13
				[]byte{0x01, 0x03, 0x00, 0x02}, // Host-Uniq, 2 octets
				[]byte{0x07, 0x07},
				[]byte{0x02, 0x03, 0x00, 0x03}, []byte("bye"), // Generic-Error
			),
		},
		{
			name: "relay, no reason", relay: []byte{1, 2, 3},
			want: cat(
				[]byte{0x11, 0xa7, 0x12, 0x34},                   // VER/TYPE, CODE PADT, SESSION_ID
				[]byte{0x00, 0x0d},                               // LENGTH 13
				[]byte{0x01, 0x03, 0x00, 0x02, 0x07, 0x07},       // Host-Uniq
				[]byte{0x01, 0x10, 0x00, 0x03, 0x01, 0x02, 0x03}, // Relay-Session-Id
			),
		},
		{
			name: "empty relay", relay: []byte{}, reason: "x",
			want: cat(
				[]byte{0x11, 0xa7, 0x12, 0x34},             // VER/TYPE, CODE PADT, SESSION_ID
				[]byte{0x00, 0x0f},                         // LENGTH 15
				[]byte{0x01, 0x03, 0x00, 0x02, 0x07, 0x07}, // Host-Uniq
				[]byte{0x01, 0x10, 0x00, 0x00},             // Relay-Session-Id, empty
				[]byte{0x02, 0x03, 0x00, 0x01, 'x'},        // Generic-Error
			),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			conn := newCaptureConn()
			c := discovery.NewClient(conn, discovery.ClientConfig{})
			defer c.Close()
			s := &discovery.Session{ID: 0x1234, AC: ac, HostUniq: []byte{7, 7}, RelaySessionID: tt.relay}
			if err := c.SendPADT(s, tt.reason); err != nil {
				t.Fatal(err)
			}
			conn.mu.Lock()
			defer conn.mu.Unlock()
			if len(conn.sent) != 1 || !bytes.Equal(conn.sent[0], tt.want) || conn.to[0].String() != ac.String() {
				t.Errorf("sent % x to %v\nwant % x to %v", conn.sent, conn.to, tt.want, ac)
			}
		})
	}
}

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

// padtFails is a socket that cannot send PADTs, as when the link goes
// down between the PADS and the PADT.
type padtFails struct{ *discoverytest.Port }

func (c padtFails) WriteTo(b []byte, to net.Addr) (int, error) {
	if len(b) > 1 && discovery.Code(b[1]) == discovery.CodePADT {
		return 0, errors.New("link down")
	}
	return c.Port.WriteTo(b, to)
}

// A PADT that could not go out for a session we meant to end is a
// warning naming the session, not a claim that it was ended: the AC
// keeps that session until its keepalives go unanswered.
func TestPADTNotSentLogged(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, c *discovery.Client, ac *scriptedAC)
		want string // the warning
	}{
		{
			// ctx ends as the PADR goes out: the AC's session is unused.
			name: "unused session",
			run: func(t *testing.T, c *discovery.Client, ac *scriptedAC) {
				ctx, cancel := context.WithCancel(context.Background())
				defer cancel()
				ac.onPADR = func(int, discovery.HostUniq) bool { cancel(); return false }
				ac.run(t)
				if s, err := c.Discover(ctx); !errors.Is(err, context.Canceled) {
					t.Fatalf("Discover = %+v, %v", s, err)
				}
			},
			want: "WARN discovery: could not end a session we will not use session-id=0x42 ac=02:00:00:00:00:0a err=discovery: sending PADT: link down",
		},
		{
			// The first PADS comes after the second PADR went out, and
			// opens a second session.
			name: "duplicate session",
			run: func(t *testing.T, c *discovery.Client, ac *scriptedAC) {
				ac.padsDelays = []time.Duration{1500 * time.Millisecond}
				ac.sessionIDs = []uint16{0x50, 0x51}
				ac.run(t)
				s, err := c.Discover(context.Background())
				if err != nil || s.ID != 0x51 {
					t.Fatalf("Discover = %+v, %v", s, err)
				}
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if p, err := c.WaitPADT(ctx, s); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("WaitPADT = %v, %v", p, err)
				}
			},
			want: "WARN discovery: could not end a duplicate session session-id=0x50 ac=02:00:00:00:00:0a err=discovery: sending PADT: link down",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec, log := newRecorder(slog.LevelInfo)
				seg := &discoverytest.Segment{}
				defer seg.Close()
				ac := newAC(seg, "02:00:00:00:00:0a", "ac1", "isp")
				c := discovery.NewClient(padtFails{seg.Port("02:00:00:00:00:01")}, discovery.ClientConfig{Logger: log, Timeout: time.Second})
				defer c.Close()
				tt.run(t, c, ac)
				lines := strings.Join(rec.lines(), "\n")
				if !strings.Contains(lines, tt.want) || strings.Contains(lines, "discovery: ended") {
					t.Errorf("log:\n%s\nwant the line %q and none saying a session was ended", lines, tt.want)
				}
			})
		})
	}
}
