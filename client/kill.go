package client

import (
	"errors"
	"fmt"
	"net"

	"github.com/pppoed/pppoed/discovery"
	"golang.org/x/sys/unix"
)

// KillConfig names a PPPoE session to end by hand (rp-pppoe's pppoe -k):
// one left at the AC by a client that could not send its PADT.
type KillConfig struct {
	Interface string
	SessionID uint16
	AC        net.HardwareAddr
}

// Kill sends a PADT for the session (RFC 2516 §5.5). The AC does not
// answer a PADT, so success means it was sent.
func Kill(cfg KillConfig) error {
	if cfg.Interface == "" {
		return &ExitError{Code: ExitOptionError, Err: errors.New("client: no interface given (--interface)")}
	}
	if cfg.SessionID == 0 || cfg.SessionID == 0xffff {
		// RFC 2516 §4: 0xffff is reserved, and 0 is Discovery's.
		return &ExitError{Code: ExitOptionError, Err: fmt.Errorf("client: --session-id 0x%x is not a session's (1 to 0xfffe)", cfg.SessionID)}
	}
	if !discovery.ValidUnicast(cfg.AC) {
		return &ExitError{Code: ExitOptionError, Err: fmt.Errorf("client: --ac-mac %v is not a unicast Ethernet address", cfg.AC)}
	}
	ifi, err := net.InterfaceByName(cfg.Interface)
	if err != nil {
		return &ExitError{Code: ExitOpenFailed, Err: fmt.Errorf("client: interface %s does not exist", cfg.Interface)}
	}
	conn, err := discovery.Listen(ifi)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return &ExitError{Code: ExitNotRoot, Err: fmt.Errorf("client: %w (packet sockets need CAP_NET_RAW)", err)}
		}
		return &ExitError{Code: ExitOpenFailed, Err: fmt.Errorf("client: %w", err)}
	}
	dc := discovery.NewClient(conn, discovery.ClientConfig{})
	defer dc.Close()
	if err := dc.SendPADT(&discovery.Session{ID: cfg.SessionID, AC: cfg.AC}, "pppoed: session ended by hand"); err != nil {
		return &ExitError{Code: ExitFatal, Err: fmt.Errorf("client: PADT: %w", err)}
	}
	return nil
}
