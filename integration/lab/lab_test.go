package lab

import (
	"encoding/binary"
	"net/netip"
	"os"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests need no kernel: they check what the lab writes and parses.

func TestParsePPPoESessions(t *testing.T) {
	var le [2]byte
	binary.NativeEndian.PutUint16(le[:], 1)
	if le[0] != 1 {
		t.Skip("table written for little-endian hosts")
	}
	tests := []struct {
		name    string
		in      string
		want    []PPPoESession
		wantErr string
	}{
		{"header only", "Id       Address              Device\n", nil, ""},
		{"one session, id 1 in network order", "Id       Address              Device\n00000100 1a:15:95:e5:98:2b     vcl3\n",
			[]PPPoESession{{ID: 1, Device: "vcl3"}}, ""},
		{"id 0x1234", "Id       Address              Device\n00003412 02:00:00:00:00:01     eth0\n00000200 02:00:00:00:00:02     eth1\n",
			[]PPPoESession{{ID: 0x1234, Device: "eth0"}, {ID: 2, Device: "eth1"}}, ""},
		{"bad id", "Id Address Device\nzz 1a:15:95:e5:98:2b vcl3\n", nil, "line 2: id"},
		{"bad mac", "Id Address Device\n00000100 1a:15 vcl3\n", nil, "line 2"},
		{"short line", "Id Address Device\n00000100\n", nil, "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parsePPPoESessions(tt.in)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			for i := range got {
				if got[i].ID != tt.want[i].ID || got[i].Device != tt.want[i].Device || len(got[i].Peer) != 6 {
					t.Errorf("session %d = %+v, want %+v", i, got[i], tt.want[i])
				}
			}
		})
	}
}

func TestRenderSecrets(t *testing.T) {
	got := renderSecrets(map[int]Secret{2: {"bob", "b pass"}, 1: {"alice", "a"}})
	want := "# written by pppoed's integration lab\n\"alice\"\t*\t\"a\"\t*\n\"bob\"\t*\t\"b pass\"\t*\n"
	if got != want {
		t.Errorf("renderSecrets = %q, want %q", got, want)
	}
}

func TestSecretValidation(t *testing.T) {
	for _, bad := range []Secret{{"", "x"}, {"a\"b", "x"}, {"a", "x\ny"}, {"a", `back\slash`}} {
		if err := addSecrets(&Teardown{}, []Secret{bad}); err == nil {
			t.Errorf("addSecrets(%q) accepted", bad)
		}
	}
}

func TestServerConfig(t *testing.T) {
	c := ServerConfig{Interface: "vac1", ServiceNames: []string{"isp", "voip"}, EchoInterval: 10, EchoFailure: 3,
		DNS: []netip.Addr{netip.MustParseAddr("10.64.0.53")}, Auth: AuthMSCHAPv2}
	if err := c.fill(); err != nil {
		t.Fatal(err)
	}
	args := strings.Join(c.args("/x/opts"), " ")
	want := "pppoe-server -F -I vac1 -C lab-ac -L 10.64.0.1 -R 10.64.0.2 -N 8 -O /x/opts -S isp -S voip"
	if args != want {
		t.Errorf("args = %q, want %q", args, want)
	}
	opts := c.optionsFile("/x/log")
	for _, line := range []string{"require-mschap-v2", "name lab-ac", "logfile /x/log", "lcp-echo-interval 10", "lcp-echo-failure 3", "ms-dns 10.64.0.53"} {
		if !strings.Contains(opts, line+"\n") {
			t.Errorf("options lack %q:\n%s", line, opts)
		}
	}
	if err := (&ServerConfig{}).fill(); err == nil {
		t.Error("fill accepted a config without an interface")
	}
	if err := (&ServerConfig{Interface: "x", Auth: "eap"}).fill(); err == nil {
		t.Error("fill accepted an unknown auth")
	}
}

func TestPPPDArgsCarryNoPassword(t *testing.T) {
	c := PPPDConfig{Interface: "vcl1", User: "u", Password: "s3cret", Unit: 7, ServiceName: "isp", ACName: "ac"}
	args := strings.Join(c.args("/x/log"), " ")
	if strings.Contains(args, "s3cret") {
		t.Fatalf("password on pppd's command line: %s", args)
	}
	for _, want := range []string{"plugin rp-pppoe.so nic-vcl1", "user u", "unit 7", "rp_pppoe_service isp", "rp_pppoe_ac ac", "logfile /x/log"} {
		if !strings.Contains(args, want) {
			t.Errorf("args lack %q: %s", want, args)
		}
	}
}

func TestTeardownOrder(t *testing.T) {
	var td Teardown
	var order []int
	for i := range 3 {
		td.Cleanup(func() { order = append(order, i) })
	}
	dir := td.TempDir()
	td.Close()
	if len(order) != 3 || order[0] != 2 || order[2] != 0 {
		t.Errorf("cleanup order %v, want last registered first", order)
	}
	if dir == "" || dirExists(dir) {
		t.Errorf("temp dir %q not removed", dir)
	}
}

func dirExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}

// A benchmark records one result per b.N it tries; the summary shows one
// line per name, failed if any round failed.
func TestSummaryMerge(t *testing.T) {
	got := merge([]result{
		{"TestB", "PASS", time.Second},
		{"BenchmarkA", "PASS", time.Second},
		{"BenchmarkA", "FAIL", 2 * time.Second},
		{"TestC", "SKIP", 0},
		{"BenchmarkA", "PASS", time.Second},
	})
	want := []result{
		{"BenchmarkA", "FAIL", 4 * time.Second},
		{"TestB", "PASS", time.Second},
		{"TestC", "SKIP", 0},
	}
	if !slices.Equal(got, want) {
		t.Errorf("merge = %v, want %v", got, want)
	}
}
