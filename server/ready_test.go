package server

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
)

// Ready (sd_notify READY=1) is called once, after every interface is
// served, and not when an interface cannot be.
func TestReady(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int32
		cfg := testConfig()
		cfg.Ready = func() { n.Add(1) }
		h := startHarness(t, cfg)
		if got := n.Load(); got != 1 {
			t.Errorf("Ready called %d times once serving, want 1", got)
		}
		h.stop()
		if got := n.Load(); got != 1 {
			t.Errorf("Ready called %d times in all, want 1", got)
		}
	})
}
