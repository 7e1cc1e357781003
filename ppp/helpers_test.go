package ppp_test

import (
	"io"
	"log/slog"
	"strings"
	"sync"
)

// syncWriter lets a test read a log that a session's goroutine writes.
type syncWriter struct {
	mu sync.Mutex
	b  *strings.Builder
}

func (w *syncWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func textLogger(b *strings.Builder) *slog.Logger {
	var w io.Writer = &syncWriter{b: b}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
