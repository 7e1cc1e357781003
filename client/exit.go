package client

import (
	"errors"
	"fmt"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/pppox"
)

// Exit statuses, pppd's (pppd(8), "EXIT STATUS"), so that scripts written
// for pppd read pppoed's the same way.
const (
	ExitOK                = 0
	ExitFatal             = 1
	ExitOptionError       = 2
	ExitNotRoot           = 3
	ExitNoKernelSupport   = 4
	ExitUserRequest       = 5
	ExitOpenFailed        = 7
	ExitConnectFailed     = 8
	ExitNegotiationFailed = 10
	ExitPeerAuthFailed    = 11
	ExitIdleTimeout       = 12 // dial on demand: hung up for lack of traffic (not Run's: it waits for traffic again)
	ExitPeerDead          = 15
	ExitHangup            = 16
	ExitLoopback          = 17
	ExitAuthToPeerFailed  = 19
)

// ExitError is an error with the exit status it warrants.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string { return e.Err.Error() }
func (e *ExitError) Unwrap() error { return e.Err }

// ExitCode is the process exit status for Run's error: 0 for nil (a stop
// asked for), else pppd's status for the cause.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	if errors.As(err, &ee) {
		return ee.Code
	}
	return ExitFatal
}

// exitFor maps how the PPP session ended. pppd exits with 16 both when
// the AC hangs up (PADT) and when its LCP terminates the link (measured
// with pppd 2.4.9 against pppoe-server), and 0 is ours for a stop asked
// for (pppd says 5).
func exitFor(err error) error {
	var de *ppp.DownError
	if !errors.As(err, &de) {
		return &ExitError{Code: ExitFatal, Err: fmt.Errorf("client: %w", err)}
	}
	code := map[ppp.Reason]int{
		ppp.ReasonLocalClose:         ExitOK,
		ppp.ReasonNegotiationFailed:  ExitNegotiationFailed,
		ppp.ReasonPeerAuthFailed:     ExitPeerAuthFailed,
		ppp.ReasonAuthFailed:         ExitAuthToPeerFailed,
		ppp.ReasonPeerDead:           ExitPeerDead,
		ppp.ReasonPeerTerminated:     ExitHangup,
		ppp.ReasonLinkLost:           ExitHangup,
		ppp.ReasonLoopback:           ExitLoopback,
		ppp.ReasonNoNetworkProtocols: ExitNegotiationFailed,
	}[de.Reason]
	if code == ExitOK {
		if de.Reason == ppp.ReasonLocalClose {
			return nil
		}
		code = ExitFatal
	}
	return &ExitError{Code: code, Err: de}
}

// kernelExit classifies errors setting up the kernel's side.
func kernelExit(err error) error {
	switch {
	case errors.Is(err, pppox.ErrNoKernelSupport):
		return &ExitError{Code: ExitNoKernelSupport, Err: err}
	case errors.Is(err, pppox.ErrPermission):
		return &ExitError{Code: ExitNotRoot, Err: err}
	}
	return &ExitError{Code: ExitFatal, Err: err}
}
