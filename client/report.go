package client

import (
	"context"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/internal/peerlog"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/status"
)

// statusSink publishes the link's status (*status.Server).
type statusSink interface {
	Update(func(*status.Status))
}

// reporter tells the outside world where the link is: the control
// socket's status, systemd (READY=1 when the first network protocol is
// up, STATUS= on every change, STOPPING=1), and the state file that lets
// the next start clear a session we could not end. A nil *reporter
// reports nothing (tests of one connection).
type reporter struct {
	log    *slog.Logger
	sink   statusSink // nil: no control socket
	notify Notifier   // nil: not under systemd
	state  stateFile
	now    func() time.Time

	mu      sync.Mutex
	st      status.Status
	ready   bool
	status  string // the last STATUS= line
	stale   *sessionRecord
	upHook  func(time.Time) // told when a network protocol first comes up
	sendMu  sync.Mutex      // orders what update publishes; held before mu
	stopped bool            // STOPPING=1 was sent; under sendMu
	stopCtx context.Context // its end is the stop (daemon.run\'s ctx)
	// traffic: waiting is for traffic to dial for (dial on demand), not
	// for the Ethernet link.
	traffic bool
}

// snapshot is the current status.
func (r *reporter) snapshot() status.Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

// onConnected sets the function told when the current attempt's first
// network protocol comes up.
func (r *reporter) onConnected(f func(time.Time)) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.upHook = f
	r.mu.Unlock()
}

func newReporter(cfg *Config, name string, sink statusSink, state stateFile) *reporter {
	return &reporter{
		log: cfg.Logger, sink: sink, notify: cfg.Notify, state: state, now: time.Now,
		st: status.Status{Name: name, Interface: cfg.Interface, Ifname: cfg.Ifname},
	}
}

// update changes the status under the lock and publishes it; the
// STATUS= line follows the state. Publishing is serialised (sendMu), so
// that the lines go out in the order of the changes.
func (r *reporter) update(f func(*status.Status)) {
	if r == nil {
		return
	}
	r.sendMu.Lock()
	defer r.sendMu.Unlock()
	// Once the stop has begun, STOPPING=1 goes before anything its
	// teardown reports: the AfterFunc that sends it may not have run.
	r.stopFirst()
	r.mu.Lock()
	f(&r.st)
	st := r.st
	line := statusLine(&st, r.now(), r.traffic)
	changed := line != r.status
	r.status = line
	r.mu.Unlock()
	if r.sink != nil {
		r.sink.Update(func(s *status.Status) {
			counters := s.Counters
			*s = st
			s.Counters = counters
		})
	}
	if changed {
		r.sdNotify("STATUS=" + line)
	}
}

func (r *reporter) sdNotify(states ...string) {
	if r.notify == nil {
		return
	}
	if err := r.notify.Notify(states...); err != nil {
		r.log.Debug("client: sd_notify", "err", err)
	}
}

// statusLine is the one-line status systemctl status shows; traffic: a
// wait is dial on demand's for traffic.
func statusLine(s *status.Status, now time.Time, traffic bool) string {
	if traffic && s.State == status.StateWaiting && s.NextRedial.IsZero() {
		return "waiting for traffic on " + s.Ifname
	}
	switch s.State {
	case status.StateConnected:
		line := "connected"
		if s.LocalIPv4.IsValid() {
			line += " " + s.LocalIPv4.String()
		} else if s.LocalIPv6.IsValid() {
			line += " " + s.LocalIPv6.String()
		}
		if s.ACName != "" {
			line += " via AC " + peerlog.Text(s.ACName)
		}
		return line
	case status.StateDisconnected, status.StateWaiting:
		line := string(s.State)
		if s.LastError != "" {
			line = "down: " + peerlog.Printable(s.LastError)
		}
		if !s.NextRedial.IsZero() {
			line += fmt.Sprintf(", redial in %s", s.NextRedial.Sub(now).Round(time.Second))
		}
		if s.State == status.StateWaiting && s.NextRedial.IsZero() {
			line += ", waiting for " + s.Interface
		}
		return line
	}
	return string(s.State)
}

// clearStale sends a PADT for the session the state file names, once,
// before the first PADI.
func (r *reporter) clearStale(dc *discovery.Client) {
	if r == nil {
		return
	}
	r.mu.Lock()
	rec := r.stale
	r.stale = nil
	r.mu.Unlock()
	if rec == nil {
		return
	}
	if err := dc.SendPADT(rec.session(), "pppoed: clearing a session left by a previous run"); err != nil {
		r.log.Warn("client: could not clear the previous session", "session-id", fmt.Sprintf("0x%x", rec.SessionID), "ac", rec.ACMAC, "err", err)
		return
	}
	r.log.Info("client: PADT sent for the session a previous run left", "session-id", fmt.Sprintf("0x%x", rec.SessionID), "ac", rec.ACMAC, "since", rec.Since.Format(time.RFC3339))
	if err := r.state.clear(); err != nil {
		r.log.Warn("client: " + err.Error())
	}
}

func (r *reporter) dialing() {
	r.update(func(s *status.Status) {
		*s = status.Status{Name: s.Name, Interface: s.Interface, Ifname: s.Ifname, State: status.StateDialing,
			LastError: s.LastError, LastErrorTime: s.LastErrorTime, Redials: s.Redials, Failures: s.Failures}
	})
}

// sessionFound records the PADS's session, in the state file first: from
// now on a crash leaves it at the AC.
func (r *reporter) sessionFound(p *discovery.Session) {
	if r == nil {
		return
	}
	if err := r.state.write(sessionRecord{Interface: r.st.Interface, SessionID: p.ID, ACMAC: p.AC.String(), Since: r.now().UTC()}); err != nil {
		r.log.Warn("client: " + err.Error())
	}
	r.update(func(s *status.Status) {
		s.ACName, s.ACMAC, s.ServiceName, s.SessionID = p.ACName, p.AC.String(), p.ServiceName, p.ID
	})
}

// unended: the session's PADT could not be sent. It is sent before the
// next PADI of this run (the state file covers the next run).
func (r *reporter) unended(p *discovery.Session) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.stale = &sessionRecord{Interface: r.st.Interface, SessionID: p.ID, ACMAC: p.AC.String(), Since: r.now().UTC()}
	r.mu.Unlock()
}

// sessionEnded: the AC knows the session is over.
func (r *reporter) sessionEnded(*discovery.Session) {
	if r == nil {
		return
	}
	if err := r.state.clear(); err != nil {
		r.log.Warn("client: " + err.Error())
	}
}

func (r *reporter) linkUp(ifname string) {
	r.update(func(s *status.Status) { s.Ifname = ifname })
}

// event follows the PPP session.
func (r *reporter) event(ev ppp.Event) {
	if r == nil {
		return
	}
	var ready bool
	r.update(func(s *status.Status) {
		switch e := ev.(type) {
		case ppp.LinkUp:
			s.MTU, s.MRU = int(e.MTU), int(e.MRU)
			s.State = status.StateAuthenticating
		case ppp.IPv4Up:
			s.LocalIPv4, s.RemoteIPv4, s.DNS = e.Local, e.Peer, e.DNS
			ready = r.connected(s)
		case ppp.IPv6Up:
			s.LocalIPv6, s.RemoteIPv6 = e.Local.LinkLocal(), e.Peer.LinkLocal()
			ready = r.connected(s)
		case ppp.IPv4Down:
			s.LocalIPv4, s.RemoteIPv4, s.DNS = netip.Addr{}, netip.Addr{}, nil
		case ppp.IPv6Down:
			s.LocalIPv6, s.RemoteIPv6 = netip.Addr{}, netip.Addr{}
		case ppp.EchoRTT:
			s.EchoRTT = e.RTT
		case ppp.Down:
			s.EchoRTT = 0
		}
		if s.State == status.StateConnected && !s.LocalIPv4.IsValid() && !s.LocalIPv6.IsValid() {
			// No network protocol is up any more: the session is
			// going down.
			s.State = status.StateDisconnected
		}
	})
	if ready {
		r.sdNotify("READY=1")
	}
}

// connected marks the link up at its first network protocol, and says
// whether systemd is yet to hear READY=1. Called under r.mu.
func (r *reporter) connected(s *status.Status) bool {
	if s.State != status.StateConnected {
		s.State = status.StateConnected
		s.ConnectedSince = r.now()
		s.Failures = 0
		if r.upHook != nil {
			r.upHook(s.ConnectedSince)
		}
	}
	if r.ready {
		return false
	}
	r.ready = true
	return true
}

// ended records how an attempt ended.
func (r *reporter) ended(err error, failed bool) {
	r.update(func(s *status.Status) {
		*s = status.Status{Name: s.Name, Interface: s.Interface, Ifname: s.Ifname, State: status.StateDisconnected,
			LastError: s.LastError, LastErrorTime: s.LastErrorTime, Redials: s.Redials, Failures: s.Failures}
		if err != nil {
			s.LastError, s.LastErrorTime = err.Error(), r.now()
		}
		if failed {
			s.Failures++
		}
	})
}

// waiting: the next attempt is planned for next (zero: when the Ethernet
// link is back).
func (r *reporter) waiting(next time.Time, redial bool) {
	r.update(func(s *status.Status) {
		r.traffic = false
		s.State = status.StateWaiting
		s.NextRedial = next
		if redial {
			s.Redials++
		}
	})
}

// waitingForTraffic: dial on demand waits for a packet to dial for.
// pppN is configured: for systemd the service is ready (were READY=1 to
// wait for a session, a start would time out on a quiet host).
func (r *reporter) waitingForTraffic() {
	if r == nil {
		return
	}
	r.update(func(s *status.Status) {
		r.traffic = true
		s.State = status.StateWaiting
		s.NextRedial = time.Time{}
	})
	r.mu.Lock()
	ready := !r.ready
	r.ready = true
	r.mu.Unlock()
	if ready {
		r.sdNotify("READY=1")
	}
}

// redial counts a dial after the first (dial on demand: each one waits
// for traffic, not for a redial time).
func (r *reporter) redial() {
	r.update(func(s *status.Status) { s.Redials++ })
}

// stopWith names the context whose end is the stop.
func (r *reporter) stopWith(ctx context.Context) {
	if r == nil {
		return
	}
	r.mu.Lock()
	r.stopCtx = ctx
	r.mu.Unlock()
}

// stopFirst sends STOPPING=1 if the stop has begun and it has not gone
// yet. Called with sendMu held.
func (r *reporter) stopFirst() {
	if r.stopped {
		return
	}
	r.mu.Lock()
	ctx := r.stopCtx
	r.mu.Unlock()
	if ctx != nil && ctx.Err() != nil {
		r.stopped = true
		r.sdNotify("STOPPING=1")
		r.mu.Lock()
		r.st.State, r.st.NextRedial = status.StateStopping, time.Time{}
		r.mu.Unlock()
	}
}

// stopping says the shutdown has begun: STOPPING=1 once, and the state.
func (r *reporter) stopping() {
	if r == nil {
		return
	}
	r.sendMu.Lock()
	if !r.stopped {
		r.stopped = true
		r.sdNotify("STOPPING=1")
	}
	r.sendMu.Unlock()
	r.update(func(s *status.Status) { s.State = status.StateStopping; s.NextRedial = time.Time{} })
}
