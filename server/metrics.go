package server

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/pppoed/pppoed/metrics"
)

// Metrics is the AC's metrics for Prometheus (package metrics serves it):
// the counters and the sessions as Status has them, read at each scrape,
// and the authentication latency, observed as sessions authenticate.
func (s *Server) Metrics() *vm.Set { return s.metrics }

// newMetrics makes s's Set.
func (s *Server) newMetrics() {
	s.metrics = vm.NewSet()
	// From LCP up to the peer's credentials verified (and authorized):
	// what the local users, and later RADIUS, cost a login.
	s.authSeconds = s.metrics.NewPrometheusHistogramExt("pppoed_server_auth_duration_seconds",
		[]float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10})
	s.metrics.RegisterMetricsWriter(func(w io.Writer) {
		writeServerMetrics(w, s.Status())
		if s.aaa != nil {
			s.aaa.writeMetrics(w)
		}
	})
}

// sessionStates are the states SessionStatus.State takes, so that each is
// written even at 0 (a series that vanishes is a gap in a graph).
var sessionStates = []string{"establish", "authenticate", "network", "up"}

// writeServerMetrics writes st in Prometheus's text format.
func writeServerMetrics(w io.Writer, st Status) {
	c := st.Counters
	for _, m := range []struct {
		name string
		v    uint64
	}{
		{"pppoed_server_padi_total", c.PADIs},
		{"pppoed_server_padi_answered_total", c.PADIsAnswered},
		{"pppoed_server_padi_rate_limited_total", c.PADIsLimited},
		{"pppoed_server_padi_no_service_total", c.PADIsNoService},
		{"pppoed_server_padr_total", c.PADRs},
		{"pppoed_server_padr_bad_cookie_total", c.BadCookies},
		{"pppoed_server_padt_total", c.PADTs},
		{"pppoed_server_padt_ignored_total", c.PADTsIgnored},
		{"pppoed_server_sessions_started_total", c.SessionsStarted},
		{"pppoed_server_sessions_up_total", c.SessionsUp},
		{`pppoed_server_session_failures_total{cause="auth"}`, c.AuthFailures},
		{`pppoed_server_session_failures_total{cause="max_sessions"}`, c.RefusedMax},
		{`pppoed_server_session_failures_total{cause="no_service"}`, c.RefusedNoService},
		{`pppoed_server_session_failures_total{cause="only_one"}`, c.RefusedOnlyOne},
		{`pppoed_server_session_failures_total{cause="no_address"}`, c.NoAddress},
	} {
		metrics.Counter(w, m.name, m.v)
	}
	byState := map[string]int{}
	type ifaceTotals struct{ rxBytes, txBytes, rxPackets, txPackets uint64 }
	byIface := map[string]*ifaceTotals{}
	for _, ss := range st.Sessions {
		byState[ss.State]++
		t := byIface[ss.Interface]
		if t == nil {
			t = &ifaceTotals{}
			byIface[ss.Interface] = t
		}
		if ss.Counters != nil {
			t.rxBytes += ss.Counters.RxBytes
			t.txBytes += ss.Counters.TxBytes
			t.rxPackets += ss.Counters.RxPackets
			t.txPackets += ss.Counters.TxPackets
		}
	}
	for _, state := range sessionStates {
		metrics.Gauge(w, fmt.Sprintf("pppoed_server_sessions{state=%s}", metrics.Label(state)), float64(byState[state]))
	}
	metrics.Gauge(w, "pppoed_server_uptime_seconds", secondsSince(st.Started))
	// The traffic of the sessions up now, per Ethernet interface (the
	// kernel's pppN counters; a session's leave with it).
	names := make([]string, 0, len(byIface))
	for n := range byIface {
		names = append(names, n)
	}
	slices.SortFunc(names, cmp.Compare)
	for _, n := range names {
		t, l := byIface[n], metrics.Label(n)
		metrics.Gauge(w, fmt.Sprintf("pppoed_server_session_bytes{interface=%s,direction=\"in\"}", l), float64(t.rxBytes))
		metrics.Gauge(w, fmt.Sprintf("pppoed_server_session_bytes{interface=%s,direction=\"out\"}", l), float64(t.txBytes))
		metrics.Gauge(w, fmt.Sprintf("pppoed_server_session_packets{interface=%s,direction=\"in\"}", l), float64(t.rxPackets))
		metrics.Gauge(w, fmt.Sprintf("pppoed_server_session_packets{interface=%s,direction=\"out\"}", l), float64(t.txPackets))
	}
}

// secondsSince is the time since t in seconds, 0 for a zero t.
func secondsSince(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return time.Since(t).Seconds()
}
