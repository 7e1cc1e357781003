package ppp_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// What a session does when what it stands on fails: the link's reads or
// writes, the random source.

// brokenLink fails its reads with readErr once the pipe closes, and
// each write while failWrites is set.
type brokenLink struct {
	*ppptest.End
	readErr    error
	mu         sync.Mutex
	failWrites bool
}

func (l *brokenLink) ReadFrame() (ppp.Protocol, []byte, error) {
	proto, b, err := l.End.ReadFrame()
	if err != nil && l.readErr != nil {
		err = l.readErr
	}
	return proto, b, err
}

func (l *brokenLink) WriteFrame(proto ppp.Protocol, b []byte) error {
	l.mu.Lock()
	fail := l.failWrites
	l.mu.Unlock()
	if fail {
		return errors.New("no buffer space")
	}
	return l.End.WriteFrame(proto, b)
}

// The link going away ends the session as link lost; its error, unless
// it is a plain hang-up (EOF), is the detail.
func TestLinkLostDetail(t *testing.T) {
	tests := []struct {
		name    string
		readErr error
		detail  string
	}{
		{"hang-up", nil, "link closed"},
		{"error", errors.New("pppoe: interface eth0 gone"), "pppoe: interface eth0 gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				srv := start(serverConfig(ppp.AuthNone, false, true, nil), b)
				cli := start(clientConfig(false, true), &brokenLink{End: a, readErr: tt.readErr})
				synctest.Wait()
				b.Close()
				if d := cli.wait(t); d.Reason != ppp.ReasonLinkLost || d.Detail != tt.detail {
					t.Errorf("down %v, want link lost: %s", d, tt.detail)
				}
				srv.wait(t)
			})
		})
	}
}

// A write that fails is logged (the frame is lost, as on a real link)
// and the restart timer recovers it.
func TestWriteFailed(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		srv := start(serverConfig(ppp.AuthNone, false, true, nil), b)
		link := &brokenLink{End: a, failWrites: true}
		var logs strings.Builder
		cfg := clientConfig(false, true)
		cfg.Logger = textLogger(&logs)
		cli := start(cfg, link)
		time.Sleep(time.Second)
		link.mu.Lock()
		link.failWrites = false
		link.mu.Unlock()
		time.Sleep(10 * time.Second)
		if _, ok := find[ppp.IPv6Up](cli.rec); !ok {
			t.Errorf("not up after the writes recovered: %s", kinds(cli.rec))
		}
		if want := `level=WARN msg="ppp: write failed" protocol=LCP err="no buffer space"`; !strings.Contains(logs.String(), want) {
			t.Errorf("no %s in the log:\n%s", want, logs.String())
		}
		cli.s.Close("")
		cli.wait(t)
		srv.wait(t)
	})
}

type failingRand struct{}

func (failingRand) Read([]byte) (int, error) { return 0, errors.New("entropy exhausted") }

// A random source that fails is replaced by crypto/rand, once, with a
// warning: the magic number and interface identifier are still random
// and non-zero, and the session comes up.
func TestRandomSourceFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		srv := start(serverConfig(ppp.AuthNone, false, true, nil), b)
		var logs strings.Builder
		cfg := clientConfig(false, true)
		cfg.Logger = textLogger(&logs)
		cfg.Rand = failingRand{}
		cli := start(cfg, a)
		synctest.Wait()
		up, ok := find[ppp.LinkUp](cli.rec)
		up6, ok6 := find[ppp.IPv6Up](cli.rec)
		if !ok || !ok6 || up.Magic == 0 || up6.Local == (ppp.InterfaceID{}) {
			t.Errorf("events %s, LinkUp %+v, IPv6Up %+v", kinds(cli.rec), up, up6)
		}
		want := `level=WARN msg="ppp: random source failed; using crypto/rand" err="entropy exhausted"`
		if n := strings.Count(logs.String(), want); n != 1 {
			t.Errorf("%d warnings %s, want 1:\n%s", n, want, logs.String())
		}
		cli.s.Close("")
		cli.wait(t)
		srv.wait(t)
	})
}

// A Down detail quotes the peer, escaped, and is cut at 256 bytes (plus
// "..."): a Terminate-Request's text of 256 octets fits, whole.
func TestDownDetailBounded(t *testing.T) {
	tests := []struct {
		name   string
		text   string
		detail string
	}{
		{"256 octets", strings.Repeat("x", 256), strings.Repeat("x", 256)},
		{"257 octets", strings.Repeat("y", 257), strings.Repeat("y", 256) + "..."},
		{"escapes", strings.Repeat("\x01", 100), strings.Repeat(`\x01`, 64) + "..."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				a, b := ppptest.Pipe(ppptest.Config{})
				runScript(b, lcpPeer(t, []ppp.Option{ppp.MagicNumber(0xac)}, func(s *script, _ ppp.Packet) {
					s.end.Send(ppp.ProtoLCP, ppp.CodeTermReq, 9, []byte(tt.text))
				}, nil))
				cli := start(clientConfig(false, true), a)
				d := cli.wait(t)
				if d.Reason != ppp.ReasonPeerTerminated || d.Detail != tt.detail {
					t.Errorf("down %v, want terminated by peer: %s", d, tt.detail)
				}
			})
		})
	}
}

// Phase, read from OnEvent, follows RFC 1661 §3.2: LinkUp still in
// Establish, Authenticated in Authenticate, the NCPs in Network, Down in
// Dead.
func TestPhases(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		srv := start(serverConfig(ppp.AuthPAP, false, true, nil), b)
		var s *ppp.Session
		var got []string
		cfg := clientConfig(false, true)
		cfg.OnEvent = func(e ppp.Event) {
			got = append(got, strings.TrimPrefix(fmt.Sprintf("%T", e), "ppp.")+":"+s.Phase().String())
		}
		s = ppp.NewSession(a, cfg)
		done := make(chan error, 1)
		go func() { done <- s.Run(t.Context()) }()
		synctest.Wait()
		s.Close("")
		<-done
		srv.wait(t)
		want := "LinkUp:establish Authenticated:authenticate IPv6Up:network IPv6Down:terminate Down:dead"
		if g := strings.Join(got, " "); g != want {
			t.Errorf("phases %s, want %s", g, want)
		}
	})
}
