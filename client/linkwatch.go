package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// linkWatch follows the Ethernet interface through netlink link
// notifications (RTM_NEWLINK, RTM_DELLINK), not by polling: the link is
// up when the interface exists, is administratively up and has a carrier
// (IFF_UP and IFF_LOWER_UP). A cable pulled, the modem switched off
// behind a switch that drops its port, `ip link set down`, a USB adapter
// unplugged: each ends the session at once instead of after the
// keepalive timeout.
type linkWatch struct {
	name string
	log  *slog.Logger
	done chan struct{}
	wg   sync.WaitGroup

	mu         sync.Mutex
	up         bool
	downCtx    context.Context // ends when the link goes down
	cancelDown context.CancelCauseFunc
	upCh       chan struct{} // closed when the link comes up
}

func watchLink(name string, log *slog.Logger) (*linkWatch, error) {
	w := &linkWatch{name: name, log: log, done: make(chan struct{}), upCh: make(chan struct{})}
	w.downCtx, w.cancelDown = context.WithCancelCause(context.Background())
	w.cancelDown(errLinkDown) // down until the first report says otherwise
	updates := make(chan netlink.LinkUpdate, 64)
	failed := make(chan error, 1)
	err := netlink.LinkSubscribeWithOptions(updates, w.done, netlink.LinkSubscribeOptions{
		ListExisting: true,
		ErrorCallback: func(err error) {
			select {
			case failed <- err:
			default:
			}
		},
	})
	if err != nil {
		return nil, fmt.Errorf("watching %s over netlink: %w", name, err)
	}
	// The state now, without waiting for the dump the subscription
	// asked for: a link that is up is not reported "waiting" first.
	w.down()
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		for {
			select {
			case u, ok := <-updates:
				if !ok {
					return
				}
				w.handle(u)
			case err := <-failed:
				// Without notifications a link that goes down is
				// noticed by the keepalive only: worth a warning,
				// not the session.
				log.Warn("client: netlink link notifications failed; relying on keepalives", "err", err)
			case <-w.done:
				return
			}
		}
	}()
	return w, nil
}

func (w *linkWatch) handle(u netlink.LinkUpdate) {
	if u.Link == nil || u.Link.Attrs().Name != w.name {
		return
	}
	up := u.Header.Type != unix.RTM_DELLINK &&
		u.IfInfomsg.Flags&unix.IFF_UP != 0 && u.IfInfomsg.Flags&unix.IFF_LOWER_UP != 0
	w.set(up, u.Header.Type == unix.RTM_DELLINK)
}

// set records the link's state; a change either way wakes the waiters.
func (w *linkWatch) set(up, removed bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if up == w.up {
		return
	}
	w.up = up
	if up {
		w.downCtx, w.cancelDown = context.WithCancelCause(context.Background())
		close(w.upCh)
		return
	}
	w.upCh = make(chan struct{})
	why := "down or without carrier"
	if removed {
		why = "removed"
	}
	w.log.Warn("client: Ethernet link "+why, "interface", w.name)
	w.cancelDown(fmt.Errorf("%w: %s is %s", errLinkDown, w.name, why))
}

// down reads the link's state from the kernel now, records it, and says
// whether it is down.
func (w *linkWatch) down() bool {
	l, err := netlink.LinkByName(w.name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			w.set(false, true)
			return true
		}
		return w.lost().Err() != nil // netlink failed: what we know
	}
	f := l.Attrs().RawFlags
	up := f&unix.IFF_UP != 0 && f&unix.IFF_LOWER_UP != 0
	w.set(up, false)
	return !up
}

func (w *linkWatch) lost() context.Context {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.downCtx
}

func (w *linkWatch) waitUp(ctx context.Context) error {
	w.mu.Lock()
	up, ch := w.up, w.upCh
	w.mu.Unlock()
	if up {
		return nil
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *linkWatch) close() {
	close(w.done)
	w.wg.Wait()
}
