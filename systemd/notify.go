package systemd

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// States pppoed sends (sd_notify(3)); STATUS= takes free text.
const (
	Ready    = daemon.SdNotifyReady    // "READY=1"
	Stopping = daemon.SdNotifyStopping // "STOPPING=1"
	Watchdog = daemon.SdNotifyWatchdog // "WATCHDOG=1"
)

// Status is the STATUS= line systemctl status shows.
func Status(text string) string { return "STATUS=" + text }

// Notifier tells the service manager our states over $NOTIFY_SOCKET. A nil
// *Notifier (what New returns outside a Type=notify service) does nothing,
// so callers need not check.
type Notifier struct {
	socket string
}

// New returns a Notifier for $NOTIFY_SOCKET, or nil when it is unset.
func New() *Notifier {
	s := os.Getenv("NOTIFY_SOCKET")
	if s == "" {
		return nil
	}
	return &Notifier{socket: s}
}

// Notify sends states, such as Ready and Status("connected"), in one
// datagram, so that the manager sees them together. Newlines inside a
// state would start another assignment: they are replaced by spaces.
func (n *Notifier) Notify(states ...string) error {
	if n == nil || len(states) == 0 {
		return nil
	}
	lines := make([]string, len(states))
	for i, s := range states {
		lines[i] = strings.ReplaceAll(s, "\n", " ")
	}
	// daemon.SdNotify reads the address from the environment each time;
	// it is New's, unless the process changed it since.
	if _, err := daemon.SdNotify(false, strings.Join(lines, "\n")); err != nil {
		return fmt.Errorf("systemd: notify %s: %w", n.socket, err)
	}
	return nil
}

// WatchdogInterval is how often Watchdog pings: half of $WATCHDOG_USEC
// (sd_watchdog_enabled(3)), or 0 when the watchdog is off, not ours
// ($WATCHDOG_PID names another process) or n is nil.
func (n *Notifier) WatchdogInterval() (time.Duration, error) {
	if n == nil {
		return 0, nil
	}
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		return 0, fmt.Errorf("systemd: watchdog: %w", err)
	}
	return d / 2, nil
}

// Watchdog sends WATCHDOG=1 every half of the unit's WatchdogSec= until
// ctx ends; it returns at once when the watchdog is off. Run it in its own
// goroutine. A ping that cannot be sent is not retried sooner: if pings
// stop reaching the manager, it restarts the service, which is the point.
func (n *Notifier) Watchdog(ctx context.Context) {
	every, err := n.WatchdogInterval()
	if err != nil || every <= 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = n.Notify(Watchdog)
		}
	}
}
