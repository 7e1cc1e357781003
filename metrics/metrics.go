// Package metrics serves pppoed's metrics in Prometheus's text exposition
// format on an opt-in HTTP listener (GET /metrics), for the client
// (`pppoed connect --metrics-listen`) and the access concentrator
// (`metrics-listen` in server.toml). The text is written by
// github.com/VictoriaMetrics/metrics, whose registry costs far less memory
// than prometheus/client_golang's (the client shares this binary).
//
// Most values are read from the daemon's own status when scraped (Write
// functions below); only what happens between scrapes and cannot be
// recomputed (a latency histogram) is kept in a metrics.Set.
package metrics

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
)

// Listener serves a Set on GET /metrics.
type Listener struct {
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
}

// Listen binds addr (host:port; ":9101" listens on every address) now, so
// that a bad address or a port in use is an error at start, and serves
// set on it until Close.
func Listen(addr string, set *vm.Set, log *slog.Logger) (*Listener, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /metrics", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
		set.WritePrometheus(w)
	})
	l := &Listener{ln: ln, done: make(chan struct{}),
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second,
			WriteTimeout: 10 * time.Second, IdleTimeout: time.Minute, MaxHeaderBytes: 8 << 10,
			ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}}
	go func() {
		defer close(l.done)
		if err := l.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("metrics: " + err.Error())
		}
	}()
	log.Info("metrics: serving", "address", ln.Addr().String(), "path", "/metrics")
	return l, nil
}

// Addr is the address listened on.
func (l *Listener) Addr() net.Addr { return l.ln.Addr() }

// Close stops serving and returns once the server has ended.
func (l *Listener) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	err := l.srv.Shutdown(ctx)
	<-l.done
	return err
}

// Label quotes a label value for the text format: backslash, double
// quote and newline escaped (values such as interface names come from
// the system, user names from the wire).
func Label(v string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(v) + `"`
}

// Counter and Gauge write one sample of a value read at scrape time.
func Counter(w io.Writer, name string, v uint64) { vm.WriteCounterUint64(w, name, v) }
func Gauge(w io.Writer, name string, v float64)  { vm.WriteGaugeFloat64(w, name, v) }
