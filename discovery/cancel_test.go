package discovery_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/mdlayher/packet"
	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/discovery/discoverytest"
)

// padtIDs is the session ids of the PADTs the AC received, in order.
func (a *scriptedAC) padtIDs() []uint16 {
	a.mu.Lock()
	defer a.mu.Unlock()
	var ids []uint16
	for _, p := range a.padts {
		ids = append(ids, p.SessionID)
	}
	return ids
}

// When ctx ends after the PADR went out, Discover returns ctx's error,
// but first ends with a PADT each session the chosen AC confirms for us
// within the grace: four PADI/PADO round trips, at least 50 ms, at most
// 500 ms, and no longer than the PADSs owed (one per PADR) take.
func TestDiscoverStoppedAfterPADR(t *testing.T) {
	const ms = time.Millisecond
	tests := []struct {
		name        string
		padoDelay   time.Duration   // the round trip, as we measure it
		padsDelays  []time.Duration // per PADR
		sessionIDs  []uint16        // per PADR (default 0x42)
		refuse      discovery.Tag
		cancelOn    int           // the PADR whose arrival ends ctx
		cancelAfter time.Duration // ... this long after
		// the AC answers the PADR with these PADSs (our Host-Uniq) instead
		burst []uint16
		// another station sends a PADS for us then, from its own MAC
		impostor bool
		// ends ctx with this cause (default context.Canceled)
		cause error
		// the PADTs' Generic-Error, when not the whole cause
		reason     string
		wantPADTs  []uint16
		wantWaited time.Duration // from ctx's end to Discover's return
	}{
		{name: "PADS as ctx ends", wantPADTs: []uint16{0x42}},
		{name: "PADS within the floor", padsDelays: []time.Duration{40 * ms}, wantPADTs: []uint16{0x42}, wantWaited: 40 * ms},
		{name: "PADS after the floor", padsDelays: []time.Duration{60 * ms}, wantWaited: 50 * ms},
		{name: "within four round trips", padoDelay: 100 * ms, padsDelays: []time.Duration{390 * ms}, wantPADTs: []uint16{0x42}, wantWaited: 390 * ms},
		{name: "after four round trips", padoDelay: 100 * ms, padsDelays: []time.Duration{410 * ms}, wantWaited: 400 * ms},
		{name: "within the ceiling", padoDelay: time.Second, padsDelays: []time.Duration{490 * ms}, wantPADTs: []uint16{0x42}, wantWaited: 490 * ms},
		{name: "after the ceiling", padoDelay: time.Second, padsDelays: []time.Duration{510 * ms}, wantWaited: 500 * ms},
		{name: "refused", refuse: discovery.GenericError("no"), padsDelays: []time.Duration{10 * ms}, wantWaited: 10 * ms},
		{name: "impostor's PADS ignored", impostor: true, padsDelays: []time.Duration{40 * ms}, wantPADTs: []uint16{0x42}, wantWaited: 40 * ms},
		{
			// The first PADS is late, so the PADR went out twice, and
			// the AC opened a session for each.
			name: "two PADRs, two sessions", padoDelay: 100 * ms,
			padsDelays: []time.Duration{2200 * ms, 150 * ms}, sessionIDs: []uint16{0x50, 0x51},
			cancelOn: 1, cancelAfter: 100 * ms,
			wantPADTs: []uint16{0x51, 0x50}, wantWaited: 100 * ms,
		},
		{
			// Both PADRs answered with the same session: one PADT.
			name: "two PADRs, one session", padoDelay: 100 * ms,
			padsDelays: []time.Duration{2200 * ms, 150 * ms},
			cancelOn:   1, cancelAfter: 100 * ms,
			wantPADTs: []uint16{0x42}, wantWaited: 100 * ms,
		},
		{
			// The PADT says why, cut to fit a frame whatever the cause.
			name: "long cause", cause: errors.New(strings.Repeat("x", 2000)),
			reason:    "pppoed: discovery stopped: " + strings.Repeat("x", 128-27),
			wantPADTs: []uint16{0x42},
		},
		{
			// 128 octets exactly: nothing to cut.
			name: "cause of the longest reason", cause: errors.New(strings.Repeat("x", 128-27)),
			reason:    "pppoed: discovery stopped: " + strings.Repeat("x", 128-27),
			wantPADTs: []uint16{0x42},
		},
		{
			// A Generic-Error is UTF-8 (RFC 2516 appendix A): the cut
			// falls inside the 51st "é" (2 octets), and the half goes.
			name: "cut inside a character", cause: errors.New(strings.Repeat("é", 100)),
			reason:    "pppoed: discovery stopped: " + strings.Repeat("é", 50),
			wantPADTs: []uint16{0x42},
		},
		{
			// ... and so do octets that never were UTF-8.
			name: "cause not UTF-8", cause: errors.New("a\xff\xfeb"),
			reason:    "pppoed: discovery stopped: ab",
			wantPADTs: []uint16{0x42},
		},
		{
			// One PADR, so one session at most: forged PADSs from the
			// AC's MAC cannot make us send a PADT per PADS.
			name: "one PADR, a burst of PADSs", burst: []uint16{1, 2, 3},
			wantPADTs: []uint16{1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				defer time.Sleep(2 * time.Second) // the AC's late answers go out before the bubble ends
				seg := &discoverytest.Segment{}
				defer seg.Close()
				ctx, cancelCause := context.WithCancelCause(context.Background())
				defer cancelCause(nil)
				cancel := func() { cancelCause(tt.cause) }
				wantErr, wantReason := tt.cause, "pppoed: discovery stopped: context canceled"
				if tt.cause == nil {
					wantErr = context.Canceled
				}
				if tt.reason != "" {
					wantReason = tt.reason
				}
				var cancelled time.Time
				port := seg.Port("02:00:00:00:00:01")
				impostor := c2mac("02:00:00:00:00:0f")
				ac := newAC(seg, "02:00:00:00:00:0a", "ac1", "isp")
				ac.padoDelay, ac.padsDelays, ac.sessionIDs, ac.refuse = tt.padoDelay, tt.padsDelays, tt.sessionIDs, tt.refuse
				ac.onPADR = func(n int, hu discovery.HostUniq) bool {
					if n != tt.cancelOn {
						return false
					}
					if tt.cancelAfter == 0 { // before the answer goes out
						cancelled = time.Now()
						cancel()
					} else {
						go func() {
							time.Sleep(tt.cancelAfter)
							cancelled = time.Now()
							cancel()
						}()
					}
					if tt.impostor {
						go func() {
							time.Sleep(10 * time.Millisecond)
							port.Inject(mustMarshal(t, &discovery.Packet{Code: discovery.CodePADS, SessionID: 0x99, Tags: []discovery.Tag{discovery.ServiceName(""), hu}}), impostor)
						}()
					}
					for _, id := range tt.burst {
						ac.send(t, &discovery.Packet{Code: discovery.CodePADS, SessionID: id, Tags: []discovery.Tag{discovery.ServiceName(""), hu}}, c2mac("02:00:00:00:00:01"))
					}
					return tt.burst != nil
				}
				ac.run(t)
				c := discovery.NewClient(port, discovery.ClientConfig{HostUniq: []byte{7, 7}, Timeout: 2 * time.Second})
				defer c.Close()
				s, err := c.Discover(ctx)
				if s != nil || !errors.Is(err, wantErr) {
					t.Fatalf("Discover = %+v, %v; want %v", s, err, wantErr)
				}
				if waited := time.Since(cancelled); waited != tt.wantWaited {
					t.Errorf("returned %v after ctx ended, want %v", waited, tt.wantWaited)
				}
				synctest.Wait()
				if got := ac.padtIDs(); fmt.Sprint(got) != fmt.Sprint(tt.wantPADTs) {
					t.Fatalf("PADTs for %x, want %x", got, tt.wantPADTs)
				}
				ac.mu.Lock()
				defer ac.mu.Unlock()
				for _, p := range ac.padts {
					hu, _ := discovery.Find[discovery.HostUniq](p)
					if string(hu) != "\x07\x07" || discovery.PADTReason(p) != wantReason {
						t.Errorf("PADT %v, want Host-Uniq 0707 and reason %q", p, wantReason)
					}
				}
			})
		})
	}
}

// raceConn is a client's socket on which the AC's PADS and the end of ctx
// come at the same moment: when the PADR is written, the PADS is already
// in the client's queue as ctx ends, so Discover's select may take either.
type raceConn struct {
	*discoverytest.Port
	ac     net.HardwareAddr
	cancel context.CancelFunc
	padts  []*discovery.Packet
}

func (c *raceConn) WriteTo(b []byte, to net.Addr) (int, error) {
	p, err := discovery.Parse(b)
	if err != nil {
		return 0, err
	}
	hu, _ := discovery.Find[discovery.HostUniq](p)
	answer := func(q *discovery.Packet) {
		w, _ := q.Marshal()
		c.Inject(w, c.ac)
	}
	switch p.Code {
	case discovery.CodePADI:
		answer(&discovery.Packet{Code: discovery.CodePADO, Tags: []discovery.Tag{discovery.ACName("ac"), hu}})
	case discovery.CodePADR:
		answer(&discovery.Packet{Code: discovery.CodePADS, SessionID: 0x42, Tags: []discovery.Tag{discovery.ServiceName(""), hu}})
		synctest.Wait() // the client's reader has queued it
		c.cancel()
	case discovery.CodePADT:
		if to.(*packet.Addr).HardwareAddr.String() == c.ac.String() {
			c.padts = append(c.padts, p)
		}
	}
	return len(b), nil
}

// Whichever Discover sees first, the PADS or the end of ctx, it returns
// no session and ends the one the AC opened. Run often enough to see both.
func TestDiscoverStoppedAsPADSArrives(t *testing.T) {
	for range 64 {
		synctest.Test(t, func(t *testing.T) {
			seg := &discoverytest.Segment{}
			defer seg.Close()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			conn := &raceConn{Port: seg.Port("02:00:00:00:00:01"), ac: c2mac("02:00:00:00:00:0a"), cancel: cancel}
			c := discovery.NewClient(conn, discovery.ClientConfig{})
			defer c.Close()
			t0 := time.Now()
			s, err := c.Discover(ctx)
			if s != nil || !errors.Is(err, context.Canceled) {
				t.Fatalf("Discover = %+v, %v; want context.Canceled", s, err)
			}
			if time.Since(t0) != 0 {
				t.Errorf("Discover waited %v: the one PADR was answered", time.Since(t0))
			}
			if len(conn.padts) != 1 || conn.padts[0].SessionID != 0x42 {
				t.Fatalf("PADTs %v, want one for 0x42", conn.padts)
			}
		})
	}
}

// When the PADR went out twice and the AC opened a session for each, the
// PADS that comes after Discover returned is ended by WaitPADT; but no
// more sessions than PADRs, and only from the AC, for our Host-Uniq.
func TestWaitPADTEndsDuplicateSessions(t *testing.T) {
	const ms = time.Millisecond
	type pads struct {
		at     time.Duration // after WaitPADT starts
		from   string
		id     uint16
		hu     []byte
		refuse bool // session id 0 and an error tag
	}
	const acMAC, impostor = "02:00:00:00:00:0a", "02:00:00:00:00:0f"
	tests := []struct {
		name       string
		padsDelays []time.Duration
		extra      []pads
		want       []uint16
	}{
		{
			// PADR at 0 s (its PADS comes at 1.5 s) and at 1 s (answered
			// at once).
			name:       "the first PADS comes late",
			padsDelays: []time.Duration{1500 * ms},
			want:       []uint16{0x50},
		},
		{
			name:       "then forged or repeated ones",
			padsDelays: []time.Duration{1500 * ms},
			// Until the late PADS comes at 1.5 s (0.5 s into WaitPADT),
			// one more session may be ended; these must not take its
			// place, nor may any after it get a PADT.
			extra: []pads{
				{100 * ms, acMAC, 0x51, []byte{7, 7}, false},  // ours, repeated: never a PADT for it
				{0, impostor, 0x60, []byte{7, 7}, false},      // not from the AC
				{0, acMAC, 0x61, []byte{6, 6}, false},         // another host's
				{0, acMAC, 0, []byte{7, 7}, true},             // a refusal
				{1000 * ms, acMAC, 0x50, []byte{7, 7}, false}, // repeated: one PADT is enough
				{0, acMAC, 0x62, []byte{7, 7}, false},         // a third session for two PADRs
			},
			want: []uint16{0x50},
		},
		{
			name:  "one PADR: no extra session to end",
			extra: []pads{{100 * ms, acMAC, 0x60, []byte{7, 7}, false}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				seg := &discoverytest.Segment{}
				defer seg.Close()
				ac := newAC(seg, acMAC, "ac1", "isp")
				ac.padsDelays = tt.padsDelays
				ac.sessionIDs = []uint16{0x50, 0x51}
				ac.run(t)
				port := seg.Port("02:00:00:00:00:01")
				c := discovery.NewClient(port, discovery.ClientConfig{HostUniq: []byte{7, 7}, Timeout: time.Second})
				defer c.Close()
				s, err := c.Discover(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				go func() {
					for _, e := range tt.extra {
						time.Sleep(e.at)
						p := &discovery.Packet{Code: discovery.CodePADS, SessionID: e.id, Tags: []discovery.Tag{discovery.ServiceName(""), discovery.HostUniq(e.hu)}}
						if e.refuse {
							p.Tags = append(p.Tags, discovery.GenericError("no"))
						}
						port.Inject(mustMarshal(t, p), c2mac(e.from))
					}
				}()
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				if p, err := c.WaitPADT(ctx, s); !errors.Is(err, context.DeadlineExceeded) {
					t.Fatalf("WaitPADT = %v, %v", p, err)
				}
				if got := ac.padtIDs(); fmt.Sprint(got) != fmt.Sprint(tt.want) {
					t.Fatalf("PADTs for %x, want %x", got, tt.want)
				}
				ac.mu.Lock()
				defer ac.mu.Unlock()
				for _, p := range ac.padts {
					if r := discovery.PADTReason(p); !strings.Contains(r, fmt.Sprintf("duplicate session, using 0x%x", s.ID)) {
						t.Errorf("PADT reason %q", r)
					}
				}
			})
		})
	}
}
