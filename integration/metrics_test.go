package integration

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
)

// scrape fetches addr's /metrics from inside ns (the listener is on its
// loopback). The connection is made on Do's own goroutine: net/http's
// Transport would dial from another, outside ns.
func scrape(t *testing.T, ns *lab.Netns, addr string) string {
	t.Helper()
	var body string
	err := ns.Do(func() error {
		conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
		if err != nil {
			return err
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := fmt.Fprintf(conn, "GET /metrics HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", addr); err != nil {
			return err
		}
		resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("status %s", resp.Status)
		}
		b, err := io.ReadAll(resp.Body)
		body = string(b)
		return err
	})
	if err != nil {
		t.Fatalf("scraping %s: %v", addr, err)
	}
	return body
}

// sample is the value of the series named exactly so, -1 when absent.
func sample(text, series string) float64 {
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
	if m == nil {
		return -1
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// The metrics endpoints of the AC and of the client, scraped while a
// session is up and after a ping through it: the session counted in its
// state, its login in the latency histogram, the kernel's traffic.
func TestMetricsEndpoints(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	cfg := acConfig(p, lab.ACUser{Name: "metrics-user", Password: "pw"})
	cfg.MetricsListen = "127.0.0.1:9101"
	srv := startAC(t, p, cfg)
	cli := must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp0",
		lab.ClientArgs(t, p.ClientIf, "metrics-user", "pw", "--ifname", "ppp0", "--metrics-listen", "127.0.0.1:9102")...))
	if _, err := cli.WaitUp(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := srv.WaitSessions(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Client.Ping(ctx, srvLocal, 3); err != nil {
		t.Fatal(err)
	}
	ac := scrape(t, p.AC, "127.0.0.1:9101")
	for series, want := range map[string]float64{
		`pppoed_server_sessions{state="up"}`:                 1,
		"pppoed_server_sessions_up_total":                    1,
		"pppoed_server_auth_duration_seconds_count":          1,
		`pppoed_server_session_failures_total{cause="auth"}`: 0,
	} {
		if got := sample(ac, series); got != want {
			t.Errorf("AC %s = %v, want %v\n%s", series, got, want, ac)
		}
	}
	if got := sample(ac, `pppoed_server_session_packets{interface="`+p.ACIf+`",direction="in"}`); got < 3 {
		t.Errorf("AC packets in from the client: %v, want at least the 3 pings", got)
	}
	cl := scrape(t, p.Client, "127.0.0.1:9102")
	name := `link="` + p.ClientIf + `"`
	if got := sample(cl, `pppoed_client_state{`+name+`,state="connected"}`); got != 1 {
		t.Errorf("client connected = %v\n%s", got, cl)
	}
	if got := sample(cl, `pppoed_client_session_packets{`+name+`,direction="out"}`); got < 3 {
		t.Errorf("client packets out: %v, want at least the 3 pings\n%s", got, cl)
	}
	stopClean(t, cli)
}
