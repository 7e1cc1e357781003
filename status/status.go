// Package status is what a running pppoed says about its link: the Status
// record, and the root-only control socket (under /run/pppoed/) that
// serves it to `pppoed status`, once or as a stream of changes.
package status

import (
	"net/netip"
	"time"
)

// State is where a link is, in RouterOS pppoe-client monitor's words.
//
//	           +--------------------------------------------+
//	           v                                            |
//	waiting -> dialing -> authenticating -> connected -> disconnected
//	  ^  (link down,        (PAP/CHAP)      (an NCP up)     | (redial
//	  |   demand idle)                                      |  planned)
//	  +-----------------------------------------------------+
//
// stopping is entered from any state at shutdown.
type State string

const (
	StateWaiting        State = "waiting"            // for the Ethernet link, or (dial on demand) for traffic
	StateDialing        State = "dialing"            // discovery and LCP
	StateAuthenticating State = "verifying password" // PAP/CHAP/MS-CHAP
	StateConnected      State = "connected"          // at least one network protocol is up
	StateDisconnected   State = "disconnected"       // the session ended; a redial may be planned
	StateStopping       State = "stopping"
)

// Status is one link's state. Text that came from the wire (ACName,
// ServiceName, LastError may quote it) is kept raw: escape it before
// printing it to a terminal (peerlog.Text).
type Status struct {
	Name      string `json:"name"` // the link's name (config file name, or the interface)
	State     State  `json:"state"`
	Interface string `json:"interface"` // the Ethernet interface
	Ifname    string `json:"ifname,omitempty"`

	ACName      string `json:"ac_name,omitempty"`
	ACMAC       string `json:"ac_mac,omitempty"`
	ServiceName string `json:"service_name,omitempty"`
	SessionID   uint16 `json:"session_id,omitempty"`

	LocalIPv4  netip.Addr   `json:"local_ipv4,omitzero"`
	RemoteIPv4 netip.Addr   `json:"remote_ipv4,omitzero"`
	LocalIPv6  netip.Addr   `json:"local_ipv6,omitzero"` // link-local, from the IPv6CP interface id
	RemoteIPv6 netip.Addr   `json:"remote_ipv6,omitzero"`
	DNS        []netip.Addr `json:"dns,omitempty"`
	MTU        int          `json:"mtu,omitempty"`
	MRU        int          `json:"mru,omitempty"`

	// EchoRTT is the round trip of the last LCP keepalive answered
	// (0: none yet in this session).
	EchoRTT time.Duration `json:"echo_rtt_ns,omitzero"`
	// ConnectedSince is when the first network protocol came up.
	ConnectedSince time.Time `json:"connected_since,omitzero"`
	// Counters are the kernel's for Ifname, read when the status is
	// asked for.
	Counters *Counters `json:"counters,omitempty"`

	LastError     string    `json:"last_error,omitempty"`
	LastErrorTime time.Time `json:"last_error_time,omitzero"`
	Redials       int       `json:"redials"`              // redials since start
	Failures      int       `json:"failures"`             // consecutive failed attempts
	NextRedial    time.Time `json:"next_redial,omitzero"` // when waiting to redial
}

// Counters are a network interface's traffic counters.
type Counters struct {
	RxBytes   uint64 `json:"rx_bytes"`
	TxBytes   uint64 `json:"tx_bytes"`
	RxPackets uint64 `json:"rx_packets"`
	TxPackets uint64 `json:"tx_packets"`
}
