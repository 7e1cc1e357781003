package netcfg

import (
	"net/netip"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// Dial on demand: pppN waits with placeholder addresses and the default
// route, and each session's addresses replace the ones before without
// the default route going (the kernel flushes an interface's routes with
// its last IPv4 address).
func TestReplaceIPv4(t *testing.T) {
	h, _ := testNS(t)
	i, err := Open(h, "ppp9", nil)
	if err != nil {
		t.Fatal(err)
	}
	a := netip.MustParseAddr
	if err := i.AddIPv4(a("10.64.64.64"), a("10.112.112.112")); err != nil {
		t.Fatal(err)
	}
	if err := i.AddIPv6LinkLocal(a("fe80::1"), a("fe80::2")); err != nil {
		t.Fatal(err)
	}
	if err := i.DefaultRoute(RouteAdd, 7); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		local, peer string
		want        string
	}{
		{"10.64.0.2", "10.64.0.1", "10.64.0.2/32 peer 10.64.0.1/32"},
		{"10.64.0.2", "10.64.0.1", "10.64.0.2/32 peer 10.64.0.1/32"}, // the same again: nothing changes
		{"10.64.0.2", "10.64.0.9", "10.64.0.2/32 peer 10.64.0.9/32"}, // only the peer changed
		{"10.64.0.3", "10.64.0.9", "10.64.0.3/32 peer 10.64.0.9/32"}, // only ours changed
		{"10.64.0.4", "0.0.0.0", "10.64.0.4/32"},                     // no peer address
	}
	for _, s := range steps {
		if err := i.ReplaceIPv4(a(s.local), a(s.peer)); err != nil {
			t.Fatalf("ReplaceIPv4(%s, %s): %v", s.local, s.peer, err)
		}
		if got := strings.Join(addrs(t, h, unix.AF_INET), ","); got != s.want {
			t.Errorf("after ReplaceIPv4(%s, %s): %s, want %s", s.local, s.peer, got, s.want)
		}
		if got := strings.Join(defaults(t, h), ","); got != "default dev ppp9 metric 7" {
			t.Errorf("after ReplaceIPv4(%s, %s) the default routes are %q", s.local, s.peer, got)
		}
		if got := strings.Join(addrs(t, h, unix.AF_INET6), ","); got != "fe80::1/128 peer fe80::2/128" {
			t.Errorf("after ReplaceIPv4(%s, %s) IPv6: %s", s.local, s.peer, got)
		}
	}
	if err := i.ReplaceIPv4(a("fe80::3"), a("fe80::4")); err == nil {
		t.Error("ReplaceIPv4 took an IPv6 address")
	}
	i.Close()
	if got := addrs(t, h, unix.AF_INET); len(got) != 0 {
		t.Errorf("left: %v", got)
	}
	if got := defaults(t, h); len(got) != 0 {
		t.Errorf("left: %v", got)
	}
}
