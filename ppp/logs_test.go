package ppp_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// msgHandler keeps the message of every record, at every level.
type msgHandler struct {
	mu   *sync.Mutex
	msgs *[]string
}

func (h msgHandler) Enabled(context.Context, slog.Level) bool { return true }
func (h msgHandler) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h msgHandler) WithGroup(string) slog.Handler            { return h }
func (h msgHandler) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	*h.msgs = append(*h.msgs, r.Message)
	return nil
}

// Every line a session logs starts with "ppp: ", so that a reader of
// pppoed's log can tell the layers apart, except the packet dumps, which
// are pppd's own form ("sent [LCP ConfReq id=0x1 ...]"). Each case also
// names lines it must produce (the start of each), so that it exercises
// the paths it is there for.
func TestLogLinesPrefixed(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, log *slog.Logger)
		want []string // some of the lines
	}{{
		// Every state change of every automaton, authentication both
		// ways, both NCPs, the close; --debug's packet dumps.
		name: "client and server",
		want: []string{
			"ppp: LCP: Closed -> Req-Sent",
			"sent [LCP ConfReq id=0x1 <mru 1492> <auth chap MS-v2> <magic ",
			"rcvd [LCP ConfAck id=0x1 <mru 1492> <magic ",
		},
		run: func(t *testing.T, log *slog.Logger) {
			a, b := ppptest.Pipe(ppptest.Config{})
			scfg := serverConfig(ppp.AuthMSCHAPv2, true, true, ppptest.NewPool(clientAddr, 1))
			scfg.Logger = log
			ccfg := clientConfig(true, true)
			ccfg.Logger = log
			srv := start(scfg, b)
			cli := start(ccfg, a)
			synctest.Wait()
			cli.s.Close("done")
			cli.wait(t)
			srv.wait(t)
		},
	}, {
		// The restart timer runs out.
		name: "silent peer",
		want: []string{"ppp: LCP: no answer to 10 Configure-Requests"},
		run: func(t *testing.T, log *slog.Logger) {
			a, b := ppptest.Pipe(ppptest.Config{})
			runScript(b, func(*script, ppp.Packet) {})
			cfg := clientConfig(true, false)
			cfg.Logger = log
			start(cfg, a).wait(t)
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				var msgs []string
				tt.run(t, slog.New(msgHandler{&mu, &msgs}))
				mu.Lock()
				defer mu.Unlock()
				for _, m := range msgs {
					if !strings.HasPrefix(m, "ppp: ") && !strings.HasPrefix(m, "sent [") && !strings.HasPrefix(m, "rcvd [") {
						t.Errorf("log line %q does not start with \"ppp: \"", m)
					}
				}
				for _, w := range tt.want {
					found := false
					for _, m := range msgs {
						found = found || strings.HasPrefix(m, w)
					}
					if !found {
						t.Errorf("no line %q among the %d logged", w, len(msgs))
					}
				}
			})
		})
	}
}
