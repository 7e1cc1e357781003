package metrics

import (
	"io"
	"net/http"
	"strings"
	"testing"

	vm "github.com/VictoriaMetrics/metrics"
)

// GET /metrics serves the Set in Prometheus's text format; nothing else
// is served; a port in use is an error at Listen.
func TestListen(t *testing.T) {
	set := vm.NewSet()
	set.NewCounter("pppoed_test_total").Add(3)
	set.RegisterMetricsWriter(func(w io.Writer) { Gauge(w, `pppoed_test_gauge{interface=`+Label(`a"b`)+`}`, 1.5) })
	l, err := Listen("127.0.0.1:0", set, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	defer http.DefaultClient.CloseIdleConnections()
	get := func(path string) (int, string, string) {
		resp, err := http.Get("http://" + l.Addr().String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, resp.Header.Get("Content-Type"), string(b)
	}
	code, ctype, body := get("/metrics")
	if code != 200 || !strings.HasPrefix(ctype, "text/plain; version=0.0.4") ||
		!strings.Contains(body, "pppoed_test_total 3\n") || !strings.Contains(body, `pppoed_test_gauge{interface="a\"b"} 1.5`+"\n") {
		t.Errorf("%d %q\n%s", code, ctype, body)
	}
	if code, _, _ := get("/"); code != http.StatusNotFound {
		t.Errorf("/: %d", code)
	}
	if _, err := Listen(l.Addr().String(), set, nil); err == nil || !strings.HasPrefix(err.Error(), "metrics: ") {
		t.Errorf("a port in use: %v", err)
	}
}
