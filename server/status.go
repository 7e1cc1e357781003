package server

import (
	"net/netip"
	"time"

	"github.com/pppoed/pppoed/status"
)

// Status is what `pppoed server status` shows: the sessions and the
// counters. Text from the wire (user names) is kept raw: escape it before
// printing it to a terminal (peerlog.Text).
type Status struct {
	ACName   string          `json:"ac_name"`
	Started  time.Time       `json:"started"`
	Sessions []SessionStatus `json:"sessions"`
	Counters Counters        `json:"counters"`
}

// SessionStatus is one session.
type SessionStatus struct {
	User      string     `json:"user,omitempty"` // once authenticated
	MAC       string     `json:"mac"`
	SessionID uint16     `json:"session_id"`
	Interface string     `json:"interface"` // the Ethernet interface
	Ifname    string     `json:"ifname"`    // pppN
	Service   string     `json:"service,omitempty"`
	State     string     `json:"state"` // establish, authenticate, network (up), terminate
	Local     netip.Addr `json:"local_ipv4,omitzero"`
	Remote    netip.Addr `json:"remote_ipv4,omitzero"`
	RemoteV6  netip.Addr `json:"remote_ipv6,omitzero"` // link-local
	MTU       int        `json:"mtu,omitempty"`
	Since     time.Time  `json:"since"` // the PADS
	UpSince   time.Time  `json:"up_since,omitzero"`
	// AcctSessionID is its RADIUS Acct-Session-Id (with RADIUS only): a
	// Disconnect-Request may name it.
	AcctSessionID string `json:"acct_session_id,omitempty"`
	// Counters are the kernel's for Ifname, read when asked for.
	Counters *status.Counters `json:"counters,omitempty"`
}

// Counters count what the AC saw since it started.
type Counters struct {
	PADIs            uint64 `json:"padi"`              // PADIs received
	PADIsAnswered    uint64 `json:"padi_answered"`     // PADOs sent
	PADIsLimited     uint64 `json:"padi_rate_limited"` // dropped by the rate limits
	PADIsNoService   uint64 `json:"padi_no_service"`   // for a service not served
	PADRs            uint64 `json:"padr"`
	BadCookies       uint64 `json:"bad_cookies"` // PADRs without a valid AC-Cookie
	PADTs            uint64 `json:"padt"`        // that ended a session
	PADTsIgnored     uint64 `json:"padt_ignored"`
	SessionsStarted  uint64 `json:"sessions_started"` // PADSs with a session id
	SessionsUp       uint64 `json:"sessions_up"`      // that reached an NCP
	AuthFailures     uint64 `json:"auth_failures"`
	RefusedMax       uint64 `json:"refused_max_sessions"` // PADRs refused (a client resends its PADR: pppd 3 times)
	RefusedNoService uint64 `json:"refused_no_service"`
	RefusedOnlyOne   uint64 `json:"refused_only_one"`
	NoAddress        uint64 `json:"no_address"` // pool exhausted
}
