package client

import (
	"fmt"
	"io"
	"time"

	vm "github.com/VictoriaMetrics/metrics"
	"github.com/pppoed/pppoed/metrics"
	"github.com/pppoed/pppoed/status"
)

// clientStates are the states the link's status takes, each written
// (0 or 1) so that none vanishes from a graph.
var clientStates = []status.State{status.StateWaiting, status.StateDialing, status.StateAuthenticating,
	status.StateConnected, status.StateDisconnected, status.StateStopping}

// metricsSet is the link's metrics, read from its status at each scrape
// (Config.MetricsListen).
func metricsSet(r *reporter) *vm.Set {
	set := vm.NewSet()
	set.RegisterMetricsWriter(func(w io.Writer) {
		st := r.snapshot()
		if st.Ifname != "" && st.State == status.StateConnected {
			st.Counters, _ = status.ReadCounters(st.Ifname)
		}
		writeClientMetrics(w, st, time.Now())
	})
	return set
}

// writeClientMetrics writes st in Prometheus's text format, every series
// labelled with the link's name.
func writeClientMetrics(w io.Writer, st status.Status, now time.Time) {
	link := "link=" + metrics.Label(st.Name)
	for _, s := range clientStates {
		v := 0.0
		if st.State == s {
			v = 1
		}
		metrics.Gauge(w, fmt.Sprintf("pppoed_client_state{%s,state=%s}", link, metrics.Label(string(s))), v)
	}
	up := 0.0
	if !st.ConnectedSince.IsZero() && st.State == status.StateConnected {
		up = now.Sub(st.ConnectedSince).Seconds()
	}
	metrics.Gauge(w, fmt.Sprintf("pppoed_client_connected_seconds{%s}", link), up)
	metrics.Counter(w, fmt.Sprintf("pppoed_client_redials_total{%s}", link), uint64(max(st.Redials, 0)))
	metrics.Gauge(w, fmt.Sprintf("pppoed_client_echo_rtt_seconds{%s}", link), st.EchoRTT.Seconds())
	metrics.Gauge(w, fmt.Sprintf("pppoed_client_consecutive_failures{%s}", link), float64(st.Failures))
	if c := st.Counters; c != nil {
		// pppN's, since the session's unit was made.
		metrics.Gauge(w, fmt.Sprintf("pppoed_client_session_bytes{%s,direction=\"in\"}", link), float64(c.RxBytes))
		metrics.Gauge(w, fmt.Sprintf("pppoed_client_session_bytes{%s,direction=\"out\"}", link), float64(c.TxBytes))
		metrics.Gauge(w, fmt.Sprintf("pppoed_client_session_packets{%s,direction=\"in\"}", link), float64(c.RxPackets))
		metrics.Gauge(w, fmt.Sprintf("pppoed_client_session_packets{%s,direction=\"out\"}", link), float64(c.TxPackets))
	}
}
