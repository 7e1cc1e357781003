package client

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/ppp"
)

// cause is why an attempt ended, as the redial policy sees it.
type cause uint8

const (
	causeStopped     cause = iota // a stop was asked for: no redial
	causeLinkDown                 // the Ethernet link went down or away: wait for it, not a failure
	causeSessionLost              // PADT, peer dead, peer terminated, link lost: redial at once
	causeDiscovery                // no access concentrator answered, or it refused
	causeNegotiation              // LCP or the NCPs could not agree; the peer failed our authentication
	causeAuth                     // we failed the peer's authentication: ISPs throttle retries
	causeFatal                    // our configuration, privileges or kernel: redialling cannot help
)

var causeNames = [...]string{
	causeStopped:     "stopped",
	causeLinkDown:    "Ethernet link down",
	causeSessionLost: "session lost",
	causeDiscovery:   "discovery failed",
	causeNegotiation: "negotiation failed",
	causeAuth:        "authentication failed",
	causeFatal:       "fatal",
}

func (c cause) String() string {
	if int(c) < len(causeNames) {
		return causeNames[c]
	}
	return fmt.Sprintf("cause(%d)", uint8(c))
}

// causeOf classifies an attempt's error (nil: a stop asked for).
func causeOf(err error) cause {
	if err == nil {
		return causeStopped
	}
	if errors.Is(err, errLinkDown) {
		return causeLinkDown
	}
	var de *ppp.DownError
	if errors.As(err, &de) {
		switch de.Reason {
		case ppp.ReasonPeerDead, ppp.ReasonPeerTerminated, ppp.ReasonLinkLost:
			return causeSessionLost
		case ppp.ReasonAuthFailed:
			return causeAuth
		case ppp.ReasonLocalClose:
			return causeStopped
		}
		return causeNegotiation
	}
	var re *discovery.RefusedError
	if errors.As(err, &re) {
		return causeDiscovery
	}
	switch ExitCode(err) {
	case ExitConnectFailed, ExitOpenFailed:
		return causeDiscovery
	case ExitHangup, ExitPeerDead:
		return causeSessionLost
	case ExitAuthToPeerFailed:
		return causeAuth
	case ExitNegotiationFailed, ExitPeerAuthFailed, ExitLoopback:
		return causeNegotiation
	}
	return causeFatal
}

// errLinkDown ends an attempt whose Ethernet link went down or away.
var errLinkDown = errors.New("the Ethernet link went down")

// Redial waits. A session lost after it had been up is redialled at once
// (the AC rebooted, the line dropped): what matters is to be back fast.
// Everything else backs off, so that a broken setup does not flood an AC
// that may be overloaded already, and authentication failures most: ISPs
// lock out or throttle repeated bad logins.
const (
	backoffBase = 2 * time.Second
	// stableFor is how long a session must have been up for its loss
	// to be redialled at once; a session that keeps dying at once is
	// treated as a failed attempt, or an AC that accepts and drops us
	// would have us loop without pause.
	stableFor = 30 * time.Second
	// jitter spreads redials by up to this fraction of the wait either
	// way, so that the routers of a whole street, cut at once, do not
	// dial their AC at the same instant when it comes back.
	jitter = 0.2
)

// redialPolicy decides when to redial. It is not safe for concurrent use;
// the daemon's loop owns it.
type redialPolicy struct {
	holdoff                     time.Duration
	backoffMax                  time.Duration
	authHoldoff, authHoldoffMax time.Duration
	maxFail                     int
	rand                        func() float64 // in [0,1); math/rand/v2 by default

	failures int // consecutive failed attempts (maxfail counts these)
	backoffs int // consecutive backoffs of the discovery/negotiation kind
	authFail int // consecutive authentication failures
}

func newRedialPolicy(cfg *Config) *redialPolicy {
	return &redialPolicy{
		holdoff:        cfg.Holdoff,
		backoffMax:     cfg.BackoffMax,
		authHoldoff:    cfg.AuthHoldoff,
		authHoldoffMax: cfg.AuthHoldoffMax,
		maxFail:        cfg.MaxFail,
		rand:           rand.Float64,
	}
}

// next records how an attempt ended (up: how long its session had a
// network protocol up, 0 if never) and returns the wait before the next
// one, or giveUp when there should be none: a stop, a fatal error, or
// maxfail consecutive failures.
func (p *redialPolicy) next(c cause, up time.Duration) (wait time.Duration, giveUp bool) {
	if c == causeStopped || c == causeFatal {
		return 0, true
	}
	if up > 0 {
		// It connected: whatever ends it now, the setup works.
		p.failures, p.authFail = 0, 0
		if up >= stableFor {
			p.backoffs = 0
		}
	}
	switch {
	case c == causeLinkDown:
		// Not our failure, nor the AC's; the wait for the link is
		// the wait.
		return p.holdoff, false
	case c == causeSessionLost && up >= stableFor:
		return p.holdoff, false
	case c == causeSessionLost && up > 0 && p.backoffs == 0:
		// The first short session lost is redialled at once too;
		// the next ones back off.
		p.backoffs++
		return p.holdoff, false
	}
	if up == 0 {
		p.failures++
		if p.maxFail > 0 && p.failures >= p.maxFail {
			return 0, true
		}
	}
	if c == causeAuth {
		wait = doubled(p.authHoldoff, p.authFail, p.authHoldoffMax)
		p.authFail++
	} else {
		wait = doubled(backoffBase, p.backoffs, p.backoffMax)
		p.backoffs++
	}
	wait = p.spread(wait)
	return max(wait, p.holdoff), false
}

// connected records a session that came up and ended without a fault
// (dial on demand's idle hang-up): the setup works, and nothing backs
// off.
func (p *redialPolicy) connected() {
	p.failures, p.authFail, p.backoffs = 0, 0, 0
}

// doubled is base·2ⁿ, at most limit.
func doubled(base time.Duration, n int, limit time.Duration) time.Duration {
	d := base
	for range n {
		if d >= limit/2 {
			return limit
		}
		d *= 2
	}
	return min(d, limit)
}

// spread moves d by up to ±jitter of itself.
func (p *redialPolicy) spread(d time.Duration) time.Duration {
	f := 1 + jitter*(2*p.rand()-1)
	return time.Duration(float64(d) * f)
}
