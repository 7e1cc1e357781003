package client

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/pppoed/pppoed/metrics"
	"github.com/pppoed/pppoed/pppox"
	"github.com/pppoed/pppoed/status"
)

// Run connects and, with Config.Persist, stays connected until ctx ends
// (a clean stop: nil): every session that ends and every attempt that
// fails is followed by a redial, after a wait that depends on why
// (redialPolicy). Without Persist, or once MaxFail consecutive attempts
// have failed, or on an error no redial can fix, it returns the last
// attempt's error, carrying pppd's exit status (ExitCode).
func Run(ctx context.Context, cfg Config) error {
	if err := cfg.fill(); err != nil {
		return &ExitError{Code: ExitOptionError, Err: fmt.Errorf("client: %w", err)}
	}
	name := cfg.Name
	if cfg.Persist {
		// Kernel support and privileges first: without them no wait
		// for the link, and no redial, can help.
		sock, err := pppox.OpenSocket()
		if err != nil {
			return kernelExit(err)
		}
		sock.Close()
	}
	state, err := openStateFile(cfg.StateDir, name)
	if err != nil {
		return &ExitError{Code: ExitOptionError, Err: fmt.Errorf("client: %w", err)}
	}
	var sink statusSink
	if cfg.ControlSocket != "-" {
		srv, err := status.Listen(cfg.ControlSocket, cfg.Logger)
		if err != nil {
			code := ExitOpenFailed
			if errors.Is(err, status.ErrInUse) {
				code = ExitFatal
			}
			return &ExitError{Code: code, Err: err} // status: says where
		}
		defer srv.Close()
		sink = srv
	}
	r := newReporter(&cfg, name, sink, state)
	if cfg.MetricsListen != "" {
		ml, err := metrics.Listen(cfg.MetricsListen, metricsSet(r), cfg.Logger)
		if err != nil {
			return &ExitError{Code: ExitOpenFailed, Err: err}
		}
		defer ml.Close()
	}
	if srv, ok := sink.(*status.Server); ok {
		// The kernel's counters, read when asked for: pppN's own,
		// while it has a session.
		srv.SetCounters(func() *status.Counters {
			st := r.snapshot()
			if st.Ifname == "" || st.State != status.StateConnected {
				return nil
			}
			c, _ := status.ReadCounters(st.Ifname)
			return c
		})
	}
	if rec, err := state.read(); err != nil {
		cfg.Logger.Warn("client: " + err.Error())
	} else if rec != nil && rec.Interface == cfg.Interface {
		r.stale = rec
	}
	d := &daemon{cfg: &cfg, log: cfg.Logger, report: r, policy: newRedialPolicy(&cfg), dial: dial, after: time.After}
	if cfg.DialOnDemand {
		dm, err := openDemand(&cfg)
		if err != nil {
			return err
		}
		defer dm.close()
		r.linkUp(dm.unit.Ifname())
		d.demand = dm
		d.dial = func(ctx, lost context.Context, cfg *Config, r *reporter) error {
			return dialWith(ctx, lost, cfg, r, dm)
		}
	}
	if cfg.Persist {
		w, err := watchLink(cfg.Interface, cfg.Logger)
		if err != nil {
			return &ExitError{Code: ExitFatal, Err: fmt.Errorf("client: %w", err)}
		}
		defer w.close()
		d.link = w
	}
	err = d.run(ctx)
	r.stopping()
	return err
}

// linkState is the Ethernet link as the daemon sees it (*linkWatch).
type linkState interface {
	// lost returns a context that ends when the link goes down, or at
	// once if it is down.
	lost() context.Context
	// waitUp returns once the link is up, or ctx has ended.
	waitUp(ctx context.Context) error
	// down asks the kernel whether the link is down now, without
	// waiting for its notification.
	down() bool
}

// daemon is the always-on link: one goroutine dials, waits and redials.
type daemon struct {
	cfg    *Config
	log    *slog.Logger
	report *reporter
	policy *redialPolicy
	link   linkState // nil: not watched (one attempt)
	dial   func(ctx, lost context.Context, cfg *Config, r *reporter) error
	after  func(time.Duration) <-chan time.Time
	// demand, with dial on demand, is pppN between sessions: each
	// attempt waits for traffic first (demand.go).
	demand *onDemand
}

func (d *daemon) run(ctx context.Context) error {
	cfg, log := d.cfg, d.log
	// STOPPING=1 as the shutdown begins (sd_notify(3)), not once it
	// is over: the teardown (Terminate, PADT) comes after it.
	d.report.stopWith(ctx)
	stopNotify := context.AfterFunc(ctx, d.report.stopping)
	defer func() {
		stopNotify()
		if ctx.Err() != nil {
			d.report.stopping() // once: a no-op if the AfterFunc ran
		}
	}()
	for attempt := 1; ; attempt++ {
		lost := context.Background()
		if d.link != nil {
			if err := d.waitLink(ctx); err != nil {
				return nil // stopped while waiting
			}
			lost = d.link.lost()
		}
		if d.demand != nil {
			if err := d.waitTraffic(ctx, attempt); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				return err
			}
		}
		start := time.Now()
		var upSince time.Time
		d.report.onConnected(func(t time.Time) { upSince = t })
		err := d.dial(ctx, lost, cfg, d.report)
		d.report.onConnected(nil)
		if ctx.Err() != nil {
			return nil
		}
		if d.demand != nil {
			if err := d.demand.rearm(); err != nil {
				return &ExitError{Code: ExitFatal, Err: fmt.Errorf("client: dial on demand: %w", err)}
			}
		}
		if name := d.report.snapshot().Ifname; cfg.Ifname == "" && name != "" {
			// Redials keep the interface's name, so that firewall
			// rules and scripts naming it keep working.
			cfg.Ifname, cfg.ifnameKept = name, true
		}
		var up time.Duration
		if !upSince.IsZero() {
			up = time.Since(upSince)
		}
		if d.demand != nil && errors.Is(err, errIdle) {
			// Not a failure, and no redial: the next packet dials.
			d.policy.connected()
			d.report.ended(nil, false)
			continue
		}
		c := causeOf(err)
		if d.link != nil && c != causeLinkDown && d.link.down() {
			// Our own interface going down hangs the channel up
			// in the kernel before netlink tells us why: the link,
			// not the peer.
			c, err = causeLinkDown, fmt.Errorf("client: %w (%s): %w", errLinkDown, cfg.Interface, err)
		}
		if err == nil {
			// The session ended by itself with nothing wrong (a
			// local close we did not ask for): treat as lost.
			c, err = causeSessionLost, errors.New("client: the session ended")
		}
		wait, giveUp := d.policy.next(c, up)
		failed := up == 0 && c != causeLinkDown
		d.report.ended(err, failed)
		if !cfg.Persist || giveUp {
			if cfg.Persist && c != causeFatal {
				log.Error("client: giving up", "attempts", attempt, "consecutive-failures", d.policy.failures, "maxfail", cfg.MaxFail, "err", err)
			}
			return err
		}
		if d.demand != nil {
			if d.demandWait(ctx, c, wait, start, err) != nil {
				return nil
			}
			continue
		}
		log.Warn("client: redialling", "cause", c.String(), "wait", wait.Round(time.Millisecond).String(),
			"attempt", attempt+1, "after", time.Since(start).Round(time.Millisecond).String(), "err", err)
		d.report.waiting(time.Now().Add(wait), true)
		select {
		case <-ctx.Done():
			return nil
		case <-d.after(wait):
		case <-cfg.Hangup:
			// pppd: a SIGHUP during holdoff ends it ("allow signal to
			// end holdoff").
			log.Info("client: hang-up requested while waiting: redialling now")
		}
	}
}

// waitLink returns once the Ethernet link is up, saying so in the status
// while it waits.
func (d *daemon) waitLink(ctx context.Context) error {
	if d.link.lost().Err() == nil {
		return nil
	}
	d.log.Info("client: waiting for the Ethernet link", "interface", d.cfg.Interface)
	d.report.waiting(time.Time{}, false)
	if err := d.link.waitUp(ctx); err != nil {
		return err
	}
	d.log.Info("client: the Ethernet link is up", "interface", d.cfg.Interface)
	return nil
}

// controlSocket is the status socket's path for a link name.
func controlSocket(name string) string {
	return filepath.Join(DefaultControlDir, name+".sock")
}
