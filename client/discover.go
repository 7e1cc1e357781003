package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"golang.org/x/sys/unix"
)

// DiscoverConfig is what `pppoed discover` takes.
type DiscoverConfig struct {
	Interface   string
	ServiceName string
	Timeout     time.Duration // how long to collect offers; default 3 s
	MaxPayload  uint16        // ask for RFC 4638 payloads, to see who offers them (default 1500)
	Logger      *slog.Logger
}

// Discover lists every access concentrator that answers one PADI, as
// RouterOS's `pppoe-client scan` and pppd's pppoe-discovery do. No answer
// at all is an error (exit status 8).
func Discover(ctx context.Context, cfg DiscoverConfig) ([]discovery.Offer, error) {
	if cfg.Interface == "" {
		return nil, &ExitError{Code: ExitOptionError, Err: errors.New("client: no interface given (--interface)")}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 3 * time.Second
	}
	if cfg.MaxPayload == 0 {
		cfg.MaxPayload = 1500
	}
	ifi, err := net.InterfaceByName(cfg.Interface)
	if err != nil {
		return nil, &ExitError{Code: ExitOpenFailed, Err: fmt.Errorf("client: interface %s does not exist", cfg.Interface)}
	}
	if ifi.Flags&net.FlagUp == 0 {
		return nil, &ExitError{Code: ExitOpenFailed, Err: fmt.Errorf("client: interface %s is down", cfg.Interface)}
	}
	conn, err := discovery.Listen(ifi)
	if err != nil {
		if errors.Is(err, unix.EPERM) || errors.Is(err, unix.EACCES) {
			return nil, &ExitError{Code: ExitNotRoot, Err: fmt.Errorf("client: %w (packet sockets need CAP_NET_RAW)", err)}
		}
		return nil, &ExitError{Code: ExitOpenFailed, Err: fmt.Errorf("client: %w", err)}
	}
	c := discovery.NewClient(conn, discovery.ClientConfig{ServiceName: cfg.ServiceName, MaxPayload: cfg.MaxPayload, Logger: cfg.Logger})
	defer c.Close()
	offers, err := c.Scan(ctx, cfg.Timeout)
	if err != nil && ctx.Err() == nil {
		return offers, &ExitError{Code: ExitFatal, Err: err}
	}
	if len(offers) == 0 && ctx.Err() == nil {
		return nil, &ExitError{Code: ExitConnectFailed, Err: fmt.Errorf("client: no access concentrator answered on %s within %s", cfg.Interface, cfg.Timeout)}
	}
	return offers, nil
}
