package lab

import (
	"net"
	"testing"
)

func TestParseRelayArgs(t *testing.T) {
	mac, _ := net.ParseMAC("f6:e1:69:ba:fe:17")
	tests := []struct {
		name string
		args []string
		want PPPoESession
		ok   bool
	}{
		{"pppoe-server's relay", []string{"/usr/sbin/pppoe", "-n", "-I", "vac3", "-e", "1:f6:e1:69:ba:fe:17", "-S", ""},
			PPPoESession{ID: 1, Peer: mac, Device: "vac3"}, true},
		{"session 4660", []string{"pppoe", "-e", "4660:f6:e1:69:ba:fe:17", "-I", "eth0"},
			PPPoESession{ID: 4660, Peer: mac, Device: "eth0"}, true},
		{"no -e: a client's discovery", []string{"pppoe", "-I", "eth0", "-A"}, PPPoESession{}, false},
		{"bad id", []string{"pppoe", "-e", "x:f6:e1:69:ba:fe:17"}, PPPoESession{}, false},
		{"id too big", []string{"pppoe", "-e", "65536:f6:e1:69:ba:fe:17"}, PPPoESession{}, false},
		{"bad mac", []string{"pppoe", "-e", "1:f6:e1"}, PPPoESession{}, false},
		{"-e last", []string{"pppoe", "-e"}, PPPoESession{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseRelayArgs(tt.args)
			if ok != tt.ok || (ok && (got.ID != tt.want.ID || got.Peer.String() != tt.want.Peer.String() || got.Device != tt.want.Device)) {
				t.Errorf("parseRelayArgs(%q) = %+v, %v; want %+v, %v", tt.args, got, ok, tt.want, tt.ok)
			}
		})
	}
}
