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
	// One session's: the spool orders each session's records, not
	// different sessions' (TestAccountingHeadOfLine).
	for i := range 5 {
		if err := a.Send(Record{Status: AcctInterimUpdate, SessionID: "S", SessionTime: time.Duration(i) * time.Second}); err != nil {
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
	var order []uint32
	for _, raw := range srv.requests() {
		p, _ := radius.Parse(raw, []byte(testSecret))
		n := uint32(rfc2866.AcctSessionTime_Get(p))
		if len(order) == 0 || order[len(order)-1] != n {
			order = append(order, n)
		}
	}
	if fmt.Sprint(order) != "[0 1 2 3 4]" {
		t.Errorf("records sent in the order %v", order)
	}
	if st := a.Stats(); st.Sent != 5 || st.Queued != 0 {
		t.Errorf("stats = %+v", st)
	}
}

// acctLog is an accounting server that leaves the records of the
// sessions in silent unanswered, as FreeRADIUS does when its accounting
// section fails on a row, and logs "Status/session" of every request it
// got and of every one it answered.
type acctLog struct {
	*fakeServer
	mu         sync.Mutex
	silent     map[string]bool
	got, acked []string
}

func newAcctLog(t *testing.T, silent ...string) *acctLog {
	l := &acctLog{silent: map[string]bool{}}
	for _, s := range silent {
		l.silent[s] = true
	}
	l.fakeServer = newFake(t, testSecret, func(raw []byte, p *radius.Packet) [][]byte {
		id := rfc2866.AcctSessionID_GetString(p)
		r := AcctStatus(rfc2866.AcctStatusType_Get(p)).String() + "/" + id
		l.mu.Lock()
		defer l.mu.Unlock()
		l.got = append(l.got, r)
		if l.silent[id] {
			return nil
		}
		l.acked = append(l.acked, r)
		return [][]byte{signedReply(raw, radius.CodeAccountingResponse, []byte(testSecret), nil, ok())}
	})
	return l
}

func (l *acctLog) answer(session string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.silent, session)
}

// logs returns the requests received and those answered; an answer
// repeated at once (ours came too late for the client, which sent the
// record again) is listed once.
func (l *acctLog) logs() (got, answered []string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range l.acked {
		if len(answered) == 0 || answered[len(answered)-1] != r {
			answered = append(answered, r)
		}
	}
	return append([]string(nil), l.got...), answered
}

// waitAcct polls a's counters (real UDP: synctest cannot wait on it).
func waitAcct(t *testing.T, a *Accounting, cond func(AcctStats) bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond(a.Stats()) {
		if time.Now().After(deadline) {
			t.Fatalf("stats %+v: condition not reached", a.Stats())
		}
		time.Sleep(time.Millisecond)
	}
}

// TestAccountingHeadOfLine: a session whose records no server
// acknowledges does not hold up the other sessions' (B's are delivered
// while A's wait); A's are still queued, never sent out of their order,
// and delivered in it once the server answers them.
func TestAccountingHeadOfLine(t *testing.T) {
	srv := newAcctLog(t, "A")
	c := newTestClient(t, Config{Timeout: 20 * time.Millisecond, Retries: -1}, srv.addr())
	a := NewAccounting(c, AccountingConfig{RetryInterval: time.Millisecond})
	for _, r := range []Record{
		{Status: AcctStart, SessionID: "A"}, {Status: AcctStart, SessionID: "B"},
		{Status: AcctInterimUpdate, SessionID: "A"}, {Status: AcctStop, SessionID: "B"},
		{Status: AcctStop, SessionID: "A"},
	} {
		if err := a.Send(r); err != nil {
			t.Fatal(err)
		}
	}
	runAcct(t, a)
	waitAcct(t, a, func(s AcctStats) bool { return s.Sent >= 2 && s.Retries >= 3 })
	got, answered := srv.logs()
	if fmt.Sprint(answered) != "[Start/B Stop/B]" {
		t.Errorf("answered %v, want B's Start and Stop", answered)
	}
	for _, r := range got {
		if r != "Start/B" && r != "Stop/B" && r != "Start/A" {
			t.Errorf("%s sent before A's Start was acknowledged: %v", r, got)
		}
	}
	if st := a.Stats(); st.Queued != 3 || st.Overflow != 0 {
		t.Errorf("A's records not all queued: %+v", st)
	}
	srv.answer("A")
	flush(t, a)
	_, answered = srv.logs()
	if want := "[Start/B Stop/B Start/A Interim-Update/A Stop/A]"; fmt.Sprint(answered) != want {
		t.Errorf("answered %v, want %s", answered, want)
	}
	if st := a.Stats(); st.Sent != 5 || st.Queued != 0 {
		t.Errorf("stats = %+v", st)
	}
}

// TestAccountingBarrier: an Accounting-On (or -Off) keeps its place:
// while A's Start goes unacknowledged, B's Start before the On is
// delivered, but neither the On nor C's Start after it is sent, since the
// server would clear C's session on the On.
func TestAccountingBarrier(t *testing.T) {
	for _, barrier := range []AcctStatus{AcctOn, AcctOff} {
		t.Run(barrier.String(), func(t *testing.T) {
			srv := newAcctLog(t, "A")
			c := newTestClient(t, Config{Timeout: 20 * time.Millisecond, Retries: -1}, srv.addr())
			a := NewAccounting(c, AccountingConfig{RetryInterval: time.Millisecond})
			for _, r := range []Record{
				{Status: AcctStart, SessionID: "A"}, {Status: AcctStart, SessionID: "B"},
				{Status: barrier, SessionID: "NAS"}, {Status: AcctStart, SessionID: "C"},
			} {
				if err := a.Send(r); err != nil {
					t.Fatal(err)
				}
			}
			runAcct(t, a)
			waitAcct(t, a, func(s AcctStats) bool { return s.Sent >= 1 && s.Retries >= 5 })
			got, _ := srv.logs()
			for _, r := range got {
				if r != "Start/A" && r != "Start/B" {
					t.Errorf("%s sent before A's Start was acknowledged: %v", r, got)
				}
			}
			srv.answer("A")
			flush(t, a)
			_, answered := srv.logs()
			if want := fmt.Sprintf("[Start/B Start/A %s/NAS Start/C]", barrier); fmt.Sprint(answered) != want {
				t.Errorf("answered %v, want %s", answered, want)
			}
		})
	}
}

// TestSpoolRotate: where a failed round leaves the records (Run's
// rotation without a network).
func TestSpoolRotate(t *testing.T) {
	rec := func(s AcctStatus, id string) Record { return Record{Status: s, SessionID: id} }
	tests := []struct {
		name string
		fill []Record
		want string
	}{
		{"empty", nil, "[]"},
		{"alone", []Record{rec(AcctStart, "a"), rec(AcctStop, "a")}, "[Start/a Stop/a]"},
		{"head's session behind the others, each in order", []Record{rec(AcctStart, "a"), rec(AcctStart, "b"), rec(AcctInterimUpdate, "a"), rec(AcctStart, "c"), rec(AcctStop, "b"), rec(AcctStop, "a")},
			"[Start/b Start/c Stop/b Start/a Interim-Update/a Stop/a]"},
		{"not past an On", []Record{rec(AcctStart, "a"), rec(AcctStart, "b"), rec(AcctOn, "on"), rec(AcctStop, "a"), rec(AcctStart, "c")},
			"[Start/b Start/a Accounting-On/on Stop/a Start/c]"},
		{"not past an Off", []Record{rec(AcctStop, "a"), rec(AcctOff, "off"), rec(AcctStart, "b")},
			"[Stop/a Accounting-Off/off Start/b]"},
		{"On at the head stays", []Record{rec(AcctOn, "on"), rec(AcctStart, "a"), rec(AcctStart, "b")},
			"[Accounting-On/on Start/a Start/b]"},
		{"Off at the head stays", []Record{rec(AcctOff, "off"), rec(AcctStart, "a")},
			"[Accounting-Off/off Start/a]"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestClient(t, Config{}, "127.0.0.1:9")
			a := NewAccounting(c, AccountingConfig{})
			for _, r := range tc.fill {
				if err := a.Send(r); err != nil {
					t.Fatal(err)
				}
			}
			a.rotate()
			q := []string{}
			for _, s := range a.queue {
				q = append(q, s.Status.String()+"/"+s.SessionID)
			}
			if fmt.Sprint(q) != tc.want {
				t.Errorf("queue = %v, want %v", q, tc.want)
			}
		})
	}
}

// TestSpoolOverflow: the spool policy without a network (Run not started).
func TestSpoolOverflow(t *testing.T) {
	rec := func(s AcctStatus, id string) Record { return Record{Status: s, SessionID: id} }
	tests := []struct {
		name      string
		busy      bool // the head is being sent
		rotate    bool // a failed round reordered fill
		fill      []Record
		add       Record
		wantErr   bool
		wantQueue string
	}{
		{"room", false, false, []Record{rec(AcctStart, "a")}, rec(AcctStop, "a"), false, "[Start/a Stop/a]"},
		{"oldest Interim goes", false, false, []Record{rec(AcctStart, "a"), rec(AcctInterimUpdate, "a1"), rec(AcctInterimUpdate, "a2")}, rec(AcctStop, "a"), false, "[Start/a Interim-Update/a2 Stop/a]"},
		{"not the one being sent", true, false, []Record{rec(AcctInterimUpdate, "a1"), rec(AcctStart, "b"), rec(AcctInterimUpdate, "a2")}, rec(AcctStop, "a"), false, "[Interim-Update/a1 Start/b Stop/a]"},
		{"head not being sent goes", false, false, []Record{rec(AcctInterimUpdate, "a1"), rec(AcctStart, "b"), rec(AcctInterimUpdate, "a2")}, rec(AcctStop, "a"), false, "[Start/b Interim-Update/a2 Stop/a]"},
		{"no Interim: Stop refused", false, false, []Record{rec(AcctStart, "a"), rec(AcctStart, "b"), rec(AcctStop, "c")}, rec(AcctStop, "a"), true, "[Start/a Start/b Stop/c]"},
		{"no Interim: Interim refused", false, false, []Record{rec(AcctStart, "a"), rec(AcctStart, "b"), rec(AcctStop, "c")}, rec(AcctInterimUpdate, "a"), true, "[Start/a Start/b Stop/c]"},
		// Oldest by Send, wherever a rotation put it.
		{"oldest Interim after a rotation", false, true, []Record{rec(AcctInterimUpdate, "a"), rec(AcctInterimUpdate, "b"), rec(AcctStart, "c")}, rec(AcctStop, "c"), false, "[Interim-Update/b Start/c Stop/c]"},
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
			if tc.rotate {
				a.rotate()
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
