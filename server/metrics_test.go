package server

import (
	"bytes"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/status"
)

// The AC's metrics are its status and counters at the scrape, and the
// authentication latency of the sessions that logged in.
func TestMetrics(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		cfg := testConfig()
		h := startHarness(t, cfg)
		h.connect("eth0", macA, "alice", "alice-pw")
		h.session("eth0", macB)      // up to the PADS only
		time.Sleep(10 * time.Second) // within SetupTimeout: the second is still setting up
		var b bytes.Buffer
		h.s.Metrics().WritePrometheus(&b)
		text := b.String()
		for _, want := range []string{
			`pppoed_server_sessions{state="up"} 1`,
			`pppoed_server_sessions{state="establish"} 1`,
			`pppoed_server_sessions{state="authenticate"} 0`,
			"pppoed_server_sessions_started_total 2",
			"pppoed_server_sessions_up_total 1",
			"pppoed_server_padi_total 2",
			"pppoed_server_uptime_seconds 10",
			"pppoed_server_auth_duration_seconds_count 1",
		} {
			if !strings.Contains(text, want+"\n") {
				t.Errorf("no %q in\n%s", want, text)
			}
		}
	})
}

// The traffic is summed per Ethernet interface, labels escaped.
func TestWriteServerMetricsTraffic(t *testing.T) {
	st := Status{Sessions: []SessionStatus{
		{Interface: "eth1", State: "up", Counters: &status.Counters{RxBytes: 100, TxBytes: 10, RxPackets: 2, TxPackets: 1}},
		{Interface: "eth1", State: "up", Counters: &status.Counters{RxBytes: 50, TxBytes: 5, RxPackets: 1, TxPackets: 1}},
		{Interface: `we"ird`, State: "establish"},
	}}
	var b bytes.Buffer
	writeServerMetrics(&b, st)
	for _, want := range []string{
		`pppoed_server_session_bytes{interface="eth1",direction="in"} 150`,
		`pppoed_server_session_bytes{interface="eth1",direction="out"} 15`,
		`pppoed_server_session_packets{interface="eth1",direction="in"} 3`,
		`pppoed_server_session_bytes{interface="we\"ird",direction="in"} 0`,
		`pppoed_server_sessions{state="up"} 2`,
	} {
		if !strings.Contains(b.String(), want+"\n") {
			t.Errorf("no %q in\n%s", want, b.String())
		}
	}
}
