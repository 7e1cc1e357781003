package client

import (
	"strings"
	"testing"
	"time"

	"github.com/pppoed/pppoed/status"
)

// The link's metrics are its status: the state as one series per state,
// the time connected, the redials, the kernel's counters.
func TestWriteClientMetrics(t *testing.T) {
	now := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
	st := status.Status{Name: "dsl", State: status.StateConnected, ConnectedSince: now.Add(-90 * time.Second), Redials: 4, Failures: 0, EchoRTT: 12 * time.Millisecond,
		Counters: &status.Counters{RxBytes: 1000, TxBytes: 200, RxPackets: 10, TxPackets: 5}}
	var b strings.Builder
	writeClientMetrics(&b, st, now)
	for _, want := range []string{
		`pppoed_client_state{link="dsl",state="connected"} 1`,
		`pppoed_client_state{link="dsl",state="dialing"} 0`,
		`pppoed_client_connected_seconds{link="dsl"} 90`,
		`pppoed_client_redials_total{link="dsl"} 4`,
		`pppoed_client_echo_rtt_seconds{link="dsl"} 0.012`,
		`pppoed_client_session_bytes{link="dsl",direction="in"} 1000`,
		`pppoed_client_session_packets{link="dsl",direction="out"} 5`,
	} {
		if !strings.Contains(b.String(), want+"\n") {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
	b.Reset()
	st.State, st.Counters = status.StateWaiting, nil
	writeClientMetrics(&b, st, now)
	if !strings.Contains(b.String(), `pppoed_client_connected_seconds{link="dsl"} 0`+"\n") || strings.Contains(b.String(), "session_bytes") {
		t.Errorf("while waiting:\n%s", b.String())
	}
}
