package radius

import (
	"context"
	"fmt"
	"net/netip"
	"regexp"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"layeh.com/radius"
	"layeh.com/radius/rfc2865"
	"layeh.com/radius/rfc2866"
	"layeh.com/radius/rfc2869"
)

// acctServer answers Accounting-Requests whose authenticator and
// Message-Authenticator it verified (independently of wire.go) while
// answering is set.
func acctServer(t *testing.T, answering *atomic.Bool) *fakeServer {
	return newFake(t, testSecret, func(raw []byte, p *radius.Packet) [][]byte {
		if !radius.IsAuthenticRequest(raw, []byte(testSecret)) || !requestMAValid(raw, []byte(testSecret)) {
			t.Errorf("request not authentic: % x", raw)
			return nil
		}
		if answering != nil && !answering.Load() {
			return nil
		}
		return [][]byte{signedReply(raw, radius.CodeAccountingResponse, []byte(testSecret), nil, ok())}
	})
}

func runAcct(t *testing.T, a *Accounting) {
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); _ = a.Run(ctx) }()
	t.Cleanup(func() { cancel(); wg.Wait() })
}

func flush(t *testing.T, a *Accounting) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := a.Flush(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAccountingRecords(t *testing.T) {
	srv := acctServer(t, nil)
	clock := &fakeClock{now: time.Unix(1_700_000_000, 0)}
	c := newTestClient(t, Config{Now: clock.Now}, srv.addr())
	a := NewAccounting(c, AccountingConfig{})
	class := [][]byte{[]byte("c1"), []byte("c2")}
	ip := netip.MustParseAddr("10.0.0.9")
	base := Record{SessionID: "S1", UserName: "alice", Port: testPort(), FramedIP: ip, Class: class, Authentic: 1}
	stop := base
	stop.Status, stop.SessionTime, stop.Cause = AcctStop, 90*time.Second, CauseIdleTimeout
	stop.InputOctets, stop.OutputOctets = 5<<32|1234, 77
	stop.InputPackets, stop.OutputPackets = 1<<32|9, 8
	stop.Time = clock.Now().Add(-7 * time.Second) // ended 7 s before it was queued
	start := base
	start.Status = AcctStart
	records := []Record{{Status: AcctOn, SessionID: "ON"}, start, stop, {Status: AcctOff, SessionID: "OFF"}}
	for _, r := range records {
		if err := a.Send(r); err != nil {
			t.Fatal(err)
		}
	}
	runAcct(t, a)
	flush(t, a)
	got := srv.requests()
	if len(got) != len(records) {
		t.Fatalf("server got %d records, want %d", len(got), len(records))
	}
	type attr struct {
		name string
		get  func(p *radius.Packet) any
	}
	attrs := []attr{
		{"Acct-Status-Type", func(p *radius.Packet) any { return uint32(rfc2866.AcctStatusType_Get(p)) }},
		{"Acct-Session-Id", func(p *radius.Packet) any { return rfc2866.AcctSessionID_GetString(p) }},
		{"User-Name", func(p *radius.Packet) any { return rfc2865.UserName_GetString(p) }},
		{"NAS-Identifier", func(p *radius.Packet) any { return rfc2865.NASIdentifier_GetString(p) }},
		{"NAS-Port-Id", func(p *radius.Packet) any { return rfc2869.NASPortID_GetString(p) }},
		{"Calling-Station-Id", func(p *radius.Packet) any { return rfc2865.CallingStationID_GetString(p) }},
		{"Framed-IP-Address", func(p *radius.Packet) any { return fmt.Sprint(rfc2865.FramedIPAddress_Get(p)) }},
		{"Class", func(p *radius.Packet) any { v, _ := rfc2865.Class_GetStrings(p); return fmt.Sprint(v) }},
		{"Acct-Authentic", func(p *radius.Packet) any { return uint32(rfc2866.AcctAuthentic_Get(p)) }},
		{"Acct-Session-Time", func(p *radius.Packet) any { return uint32(rfc2866.AcctSessionTime_Get(p)) }},
		{"Acct-Input-Octets", func(p *radius.Packet) any { return uint32(rfc2866.AcctInputOctets_Get(p)) }},
		{"Acct-Input-Gigawords", func(p *radius.Packet) any { return uint32(rfc2869.AcctInputGigawords_Get(p)) }},
		{"Acct-Output-Octets", func(p *radius.Packet) any { return uint32(rfc2866.AcctOutputOctets_Get(p)) }},
		{"Acct-Output-Gigawords", func(p *radius.Packet) any { return uint32(rfc2869.AcctOutputGigawords_Get(p)) }},
		{"Acct-Input-Packets", func(p *radius.Packet) any { return uint32(rfc2866.AcctInputPackets_Get(p)) }},
		{"Acct-Output-Packets", func(p *radius.Packet) any { return uint32(rfc2866.AcctOutputPackets_Get(p)) }},
		{"Acct-Terminate-Cause", func(p *radius.Packet) any { return uint32(rfc2866.AcctTerminateCause_Get(p)) }},
		{"Acct-Delay-Time", func(p *radius.Packet) any { return uint32(rfc2866.AcctDelayTime_Get(p)) }},
	}
	// want[i] lists, in attrs' order, what record i carries ("" or 0 for absent).
	want := [][]any{
		{uint32(7), "ON", "", "ac1", "", "", "<nil>", "[]", uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0)},
		{uint32(1), "S1", "alice", "ac1", "eth1", "02-AB-CD-00-11-22", "10.0.0.9", "[c1 c2]", uint32(1), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0)},
		{uint32(2), "S1", "alice", "ac1", "eth1", "02-AB-CD-00-11-22", "10.0.0.9", "[c1 c2]", uint32(1), uint32(90), uint32(1234), uint32(5), uint32(77), uint32(0), uint32(9), uint32(8), uint32(4), uint32(7)},
		{uint32(8), "OFF", "", "ac1", "", "", "<nil>", "[]", uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0), uint32(0)},
	}
	for i, raw := range got {
		p, err := radius.Parse(raw, []byte(testSecret))
		if err != nil {
			t.Fatal(err)
		}
		for j, at := range attrs {
			if g := at.get(p); g != want[i][j] {
				t.Errorf("record %d (%s): %s = %v, want %v", i, records[i].Status, at.name, g, want[i][j])
			}
		}
	}
	if st := a.Stats(); st.Sent != 4 || st.Queued != 0 || st.Overflow != 0 {
		t.Errorf("stats = %+v", st)
	}
}

// TestAccountingRetry: records wait while no server answers, are retried
// and then delivered in order, none lost; a forged Accounting-Response
// does not take a record off the spool.
func TestAccountingRetry(t *testing.T) {
	var answering atomic.Bool
	var forge atomic.Bool
	forge.Store(true)
	srv := newFake(t, testSecret, func(raw []byte, p *radius.Packet) [][]byte {
		if forge.Load() {
			return [][]byte{signedReply(raw, radius.CodeAccountingResponse, []byte("wrong"), nil, ok())}
		}
		if !answering.Load() {
			return nil
		}
		return [][]byte{signedReply(raw, radius.CodeAccountingResponse, []byte(testSecret), nil, ok())}
	})
	c := newTestClient(t, Config{Timeout: 5 * time.Millisecond, Retries: -1}, srv.addr())
	a := NewAccounting(c, AccountingConfig{RetryInterval: time.Millisecond})
	for i := range 5 {
		if err := a.Send(Record{Status: AcctInterimUpdate, SessionID: fmt.Sprint(i)}); err != nil {
			t.Fatal(err)
		}
	}
	runAcct(t, a)
	for a.Stats().Retries < 3 {
		time.Sleep(time.Millisecond)
	}
	forge.Store(false)
	for a.Stats().Retries < 5 {
		time.Sleep(time.Millisecond)
	}
	if st := a.Stats(); st.Sent != 0 || st.Queued != 5 {
		t.Fatalf("before the server answers: %+v", st)
	}
	if c.Stats()[0].DroppedBy.BadAuthenticator == 0 {
		t.Error("forged responses not counted")
	}
	answering.Store(true)
	flush(t, a)
	var order []string
	seen := map[string]bool{}
	for _, raw := range srv.requests() {
		p, _ := radius.Parse(raw, []byte(testSecret))
		id := rfc2866.AcctSessionID_GetString(p)
		if !seen[id] {
			seen[id] = true
			order = append(order, id)
		}
	}
	if fmt.Sprint(order) != "[0 1 2 3 4]" {
		t.Errorf("order = %v", order)
	}
	if st := a.Stats(); st.Sent != 5 || st.Queued != 0 {
		t.Errorf("stats = %+v", st)
	}
}

// TestSpoolOverflow: the spool policy without a network (Run not started).
func TestSpoolOverflow(t *testing.T) {
	rec := func(s AcctStatus, id string) Record { return Record{Status: s, SessionID: id} }
	tests := []struct {
		name      string
		busy      bool // the head is being sent
		fill      []Record
		add       Record
		wantErr   bool
		wantQueue string
	}{
		{"room", false, []Record{rec(AcctStart, "a")}, rec(AcctStop, "a"), false, "[Start/a Stop/a]"},
		{"oldest Interim goes", false, []Record{rec(AcctStart, "a"), rec(AcctInterimUpdate, "a1"), rec(AcctInterimUpdate, "a2")}, rec(AcctStop, "a"), false, "[Start/a Interim-Update/a2 Stop/a]"},
		{"not the one being sent", true, []Record{rec(AcctInterimUpdate, "a1"), rec(AcctStart, "b"), rec(AcctInterimUpdate, "a2")}, rec(AcctStop, "a"), false, "[Interim-Update/a1 Start/b Stop/a]"},
		{"head not being sent goes", false, []Record{rec(AcctInterimUpdate, "a1"), rec(AcctStart, "b"), rec(AcctInterimUpdate, "a2")}, rec(AcctStop, "a"), false, "[Start/b Interim-Update/a2 Stop/a]"},
		{"no Interim: Stop refused", false, []Record{rec(AcctStart, "a"), rec(AcctStart, "b"), rec(AcctStop, "c")}, rec(AcctStop, "a"), true, "[Start/a Start/b Stop/c]"},
		{"no Interim: Interim refused", false, []Record{rec(AcctStart, "a"), rec(AcctStart, "b"), rec(AcctStop, "c")}, rec(AcctInterimUpdate, "a"), true, "[Start/a Start/b Stop/c]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient(t, Config{}, "127.0.0.1:9")
			a := NewAccounting(c, AccountingConfig{Spool: 3})
			for _, r := range tc.fill {
				if err := a.Send(r); err != nil {
					t.Fatal(err)
				}
			}
			a.busy = tc.busy
			err := a.Send(tc.add)
			if (err != nil) != tc.wantErr {
				t.Errorf("Send = %v, want error %v", err, tc.wantErr)
			}
			var q []string
			for _, s := range a.queue {
				q = append(q, s.Status.String()+"/"+s.SessionID)
			}
			if fmt.Sprint(q) != tc.wantQueue {
				t.Errorf("queue = %v, want %v", q, tc.wantQueue)
			}
			wantOverflow := uint64(0)
			if len(tc.fill) == 3 {
				wantOverflow = 1
			}
			if got := a.Stats().Overflow; got != wantOverflow {
				t.Errorf("Overflow = %d, want %d", got, wantOverflow)
			}
		})
	}
}

func TestSessionIDs(t *testing.T) {
	now := time.Unix(0x66A1B2C3, 0)
	g1, g2 := NewSessionIDs(now), NewSessionIDs(now.Add(time.Second))
	re := regexp.MustCompile(`^66A1B2C[34][0-9A-F]{4}-0000000[12]$`)
	seen := map[string]bool{}
	for _, g := range []*SessionIDs{g1, g2} {
		for range 2 {
			id := g.Next()
			if !re.MatchString(id) {
				t.Errorf("id %q has not the form", id)
			}
			if seen[id] {
				t.Errorf("id %q twice", id)
			}
			seen[id] = true
		}
	}
	// The same second twice: the random bits tell the runs apart (with
	// 1/65536 odds of a false failure; draw twice to make it 2^-32).
	a, b, c := NewSessionIDs(now), NewSessionIDs(now), NewSessionIDs(now)
	if a.prefix == b.prefix && a.prefix == c.prefix {
		t.Error("same prefix for three runs started in the same second")
	}
}

func TestAccountingNoSessionID(t *testing.T) {
	c := newTestClient(t, Config{}, "127.0.0.1:9")
	if err := NewAccounting(c, AccountingConfig{}).Send(Record{Status: AcctOn}); err == nil {
		t.Error("record without Acct-Session-Id queued")
	}
}

// TestAccountingResponses: an Accounting-Response takes a record off the
// spool only if authentic. A Message-Authenticator is checked when there
// is one and not required (RFC 2866 has none; FreeRADIUS sends none in
// Accounting-Response; the Response Authenticator still covers it).
func TestAccountingResponses(t *testing.T) {
	s := []byte(testSecret)
	tests := []struct {
		name      string
		reply     func(raw []byte) []byte
		delivered bool
	}{
		{"authentic", func(raw []byte) []byte { return signedReply(raw, radius.CodeAccountingResponse, s, nil, ok()) }, true},
		{"authentic without Message-Authenticator", func(raw []byte) []byte {
			return signedReply(raw, radius.CodeAccountingResponse, s, nil, replyOpts{id: -1, noMA: true})
		}, true},
		{"bad Message-Authenticator", func(raw []byte) []byte {
			return signedReply(raw, radius.CodeAccountingResponse, s, nil, replyOpts{id: -1, badMA: true})
		}, false},
		{"bad authenticator", func(raw []byte) []byte {
			return signedReply(raw, radius.CodeAccountingResponse, s, nil, replyOpts{id: -1, badAuth: true})
		}, false},
		{"Access-Accept", func(raw []byte) []byte { return signedReply(raw, radius.CodeAccessAccept, s, nil, ok()) }, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newFake(t, testSecret, func(raw []byte, p *radius.Packet) [][]byte {
				return [][]byte{tc.reply(raw)}
			})
			c := newTestClient(t, Config{Timeout: 20 * time.Millisecond, Retries: -1}, srv.addr())
			a := NewAccounting(c, AccountingConfig{})
			err := a.deliver(context.Background(), &spooled{Record: Record{Status: AcctOn, SessionID: "x"}})
			if (err == nil) != tc.delivered {
				t.Errorf("deliver = %v, want delivered %v", err, tc.delivered)
			}
		})
	}
}
