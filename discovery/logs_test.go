package discovery_test

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
)

// recorder is a slog.Handler that keeps every record with its attribute
// values as the code passed them: a text or JSON handler would quote
// control characters itself and hide a raw value from the test.
type recorder struct {
	level slog.Level
	mu    sync.Mutex
	recs  []slog.Record
}

func newRecorder(level slog.Level) (*recorder, *slog.Logger) {
	h := &recorder{level: level}
	return h, slog.New(h)
}

func (h *recorder) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level }
func (h *recorder) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h *recorder) WithGroup(string) slog.Handler                { return h }
func (h *recorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.recs = append(h.recs, r.Clone())
	return nil
}

// lines renders each record as "LEVEL msg key=value ...", values raw.
func (h *recorder) lines() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []string
	for _, r := range h.recs {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s", r.Level, r.Message)
		r.Attrs(func(a slog.Attr) bool {
			fmt.Fprintf(&b, " %s=%v", a.Key, a.Value.Resolve().Any())
			return true
		})
		out = append(out, b.String())
	}
	return out
}

// count is how many records have a message starting with prefix.
func (h *recorder) count(prefix string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, r := range h.recs {
		if strings.HasPrefix(r.Message, prefix) {
			n++
		}
	}
	return n
}

// suppressed is the "suppressed" attribute of the last record with
// prefix, or -1.
func (h *recorder) suppressed(prefix string) int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := int64(-1)
	for _, r := range h.recs {
		if !strings.HasPrefix(r.Message, prefix) {
			continue
		}
		n = 0
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "suppressed" {
				n = a.Value.Int64()
			}
			return true
		})
	}
	return n
}
