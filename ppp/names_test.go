package ppp

import (
	"fmt"
	"testing"
)

// Every enumeration prints its names, and a value past the last name as
// its number, never panicking (a Phase or State from a future version, a
// Reason from a caller's switch).
func TestNames(t *testing.T) {
	tests := []struct {
		v    fmt.Stringer
		want string
	}{
		{StateInitial, "Initial"},
		{StateOpened, "Opened"},
		{StateOpened + 1, "State(10)"},
		{PhaseDead, "dead"},
		{PhaseTerminate, "terminate"},
		{PhaseTerminate + 1, "Phase(5)"},
		{ReasonUnknown, "unknown"},
		{ReasonNoNetworkProtocols, "no network protocols"},
		{ReasonNoNetworkProtocols + 1, "Reason(10)"},
		{AuthNone, "none"},
		{AuthMSCHAPv2, "mschap2"},
		{AuthMSCHAPv2 + 1, "AuthMethod(5)"},
		{RoleClient, "client"},
		{RoleServer, "server"},
		{ProtoIPv6CP, "IPV6CP"},
		{ProtoIPv4, "IP"},
		{Protocol(0x1234), "proto=0x1234"},
	}
	for _, tt := range tests {
		if got := tt.v.String(); got != tt.want {
			t.Errorf("%T(%d).String() = %q, want %q", tt.v, tt.v, got, tt.want)
		}
	}
}

// DownError reads "ppp: " and the reason, then the detail if any.
func TestDownErrorText(t *testing.T) {
	tests := []struct {
		err  DownError
		want string
	}{
		{DownError{Reason: ReasonLocalClose}, "ppp: closed locally"},
		{DownError{Reason: ReasonPeerDead, Detail: "no response to 3 echo-requests"}, "ppp: peer not responding: no response to 3 echo-requests"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%+v.Error() = %q, want %q", tt.err, got, tt.want)
		}
	}
}
