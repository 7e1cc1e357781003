package ppp_test

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// An AC with Silent sends nothing until the client speaks, then answers
// its Configure-Request with its own at once: no frame is lost to a
// client not yet listening, and no timer fires. A Close before the
// client spoke ends the session at once, sending nothing (pppd's
// lcp_close in silent mode), where RFC 1661's Stopped would wait forever.
func TestSilent(t *testing.T) {
	tests := []struct {
		name       string
		silent     bool
		clientWait time.Duration // the client starts this late
		closeFirst bool          // the AC is closed before the client starts
		wantFirst  time.Duration // when the AC's first LCP frame goes out
	}{
		{name: "silent", silent: true, clientWait: 10 * time.Second, wantFirst: 10 * time.Second},
		{name: "not silent", silent: false, clientWait: 10 * time.Second, wantFirst: 0},
		{name: "silent, closed before the client spoke", silent: true, closeFirst: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				var first time.Duration = -1
				t0 := time.Now()
				a, b := ppptest.Pipe(ppptest.Config{Tap: func(from string, proto ppp.Protocol, p []byte, lost bool) {
					mu.Lock()
					defer mu.Unlock()
					if from == "b" && proto == ppp.ProtoLCP && first < 0 {
						first = time.Since(t0)
					}
				}})
				pool := ppptest.NewPool(clientAddr, 4)
				cfg := serverConfig(ppp.AuthPAP, true, false, pool)
				cfg.Silent = tt.silent
				srv := start(cfg, b)
				if tt.closeFirst {
					synctest.Wait()
					srv.s.Close("shutting down")
					d := srv.waitFor(t, time.Second)
					if d.Reason != ppp.ReasonLocalClose {
						t.Errorf("down %v, want a local close", d)
					}
					mu.Lock()
					defer mu.Unlock()
					if first >= 0 {
						t.Errorf("the AC sent LCP at %v; a silent link closed before the peer spoke sends nothing", first)
					}
					a.Close()
					return
				}
				time.Sleep(tt.clientWait)
				cliStart := time.Now()
				cli := start(clientConfig(true, false), a)
				synctest.Wait()
				if d := time.Since(cliStart); d != 0 {
					t.Errorf("negotiation took %v of fake time: a timer fired", d)
				}
				if _, ok := find[ppp.IPv4Up](srv.rec); !ok {
					t.Fatalf("AC not up: %s", kinds(srv.rec))
				}
				mu.Lock()
				if first != tt.wantFirst {
					t.Errorf("the AC's first LCP frame at %v, want %v", first, tt.wantFirst)
				}
				mu.Unlock()
				srv.s.Close("")
				srv.wait(t)
				cli.wait(t)
			})
		})
	}
}
