//go:build memdebug

package main

// A measuring hook, only in a binary built with -tags memdebug (the
// normal binary links none of it): with PPPOED_MEMPROFILE=PREFIX set,
// each SIGUSR2 writes PREFIX.heap (pprof heap profile), PREFIX.heap.txt
// (the same as text, with runtime.MemStats), PREFIX.goroutines (every
// goroutine's stack) and PREFIX.metrics (runtime/metrics, read before
// the GC the profile needs), for finding
// where a running daemon's memory goes (issue 13).

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"syscall"
)

// Every allocation sampled, so that the profile is exact; set as the
// main package's variables are, after the imported packages' init.
var _ = func() int { runtime.MemProfileRate = 1; return 0 }()

func init() {
	prefix := os.Getenv("PPPOED_MEMPROFILE")
	if prefix == "" {
		return
	}
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGUSR2)
	go func() {
		for range c {
			writeMemDebug(prefix)
		}
	}()
}

func writeMemDebug(prefix string) {
	descs := metrics.All()
	samples := make([]metrics.Sample, len(descs))
	for i := range descs {
		samples[i].Name = descs[i].Name
	}
	metrics.Read(samples)
	if f, err := os.Create(prefix + ".metrics"); err == nil {
		for _, s := range samples {
			switch s.Value.Kind() {
			case metrics.KindUint64:
				fmt.Fprintf(f, "%s %d\n", s.Name, s.Value.Uint64())
			case metrics.KindFloat64:
				fmt.Fprintf(f, "%s %g\n", s.Name, s.Value.Float64())
			}
		}
		f.Close()
	}
	// The heap profile is as of the last GC: one now, after the
	// metrics, so that in-use is what is live.
	runtime.GC()
	for _, p := range []struct {
		suffix, name string
		debug        int
	}{{".heap", "heap", 0}, {".heap.txt", "heap", 1}, {".goroutines", "goroutine", 2}} {
		if f, err := os.Create(prefix + p.suffix); err == nil {
			_ = pprof.Lookup(p.name).WriteTo(f, p.debug)
			f.Close()
		}
	}
	fmt.Fprintf(os.Stderr, "memdebug: wrote %s.*\n", prefix)
}
