package integration

import (
	"context"
	"encoding/json"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
)

// iperf3Server waits until the AC's side of a session answers at acAddr
// (it comes up a moment after the client's), then starts a one-shot
// iperf3 server there in p's AC namespace. The caller stops it.
func iperf3Server(tb testing.TB, ctx context.Context, p *lab.Pair, acAddr netip.Addr) *lab.Process {
	tb.Helper()
	if err := lab.Poll(ctx, 20*time.Millisecond, func() (bool, error) {
		_, err := p.Client.Ping(ctx, acAddr, 1)
		return err == nil, nil
	}); err != nil {
		tb.Fatal(err)
	}
	srv, err := p.AC.Start(tb, "iperf3", "iperf3", "-s", "-1", "--forceflush", "-B", acAddr.String())
	if err != nil {
		tb.Fatal(err)
	}
	if err := srv.WaitLog(ctx, "Server listening"); err != nil {
		tb.Fatal(err)
	}
	return srv
}

// iperf3Result is what the receiving side counted.
type iperf3Result struct{ bytes, bitsPerSecond float64 }

// iperf3Client sends to the iperf3 server at acAddr for secs seconds
// from p's client namespace.
func iperf3Client(tb testing.TB, ctx context.Context, p *lab.Pair, acAddr netip.Addr, secs int) iperf3Result {
	tb.Helper()
	out, err := p.Client.Run(ctx, "iperf3", "-c", acAddr.String(), "-t", strconv.Itoa(secs), "-J")
	if err != nil {
		tb.Fatal(err)
	}
	var res struct {
		End struct {
			SumReceived struct {
				Bytes         float64 `json:"bytes"`
				BitsPerSecond float64 `json:"bits_per_second"`
			} `json:"sum_received"`
		} `json:"end"`
	}
	if err := json.Unmarshal([]byte(out), &res); err != nil {
		tb.Fatalf("%v\n%s", err, out)
	}
	return iperf3Result{res.End.SumReceived.Bytes, res.End.SumReceived.BitsPerSecond}
}
