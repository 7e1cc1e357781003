package ppp

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pppoed/pppoed/internal/peerlog"
)

// fakeLayer is a protocol whose answers a test chooses.
type fakeLayer struct {
	f        *fsm
	accept   bool // configure answers Ack (RCR+) or Nak (RCR-)
	badReply bool // nak and reject refuse the reply
}

func (l *fakeLayer) resetOptions()         {}
func (l *fakeLayer) request() []byte       { return []byte{1, 4, 5, 0xd4} }
func (l *fakeLayer) acked()                {}
func (l *fakeLayer) nak([]byte, bool) bool { return !l.badReply }
func (l *fakeLayer) reject([]byte) bool    { return !l.badReply }
func (l *fakeLayer) up()                   {}
func (l *fakeLayer) down()                 {}
func (l *fakeLayer) starting()             {}
func (l *fakeLayer) finished()             {}
func (l *fakeLayer) configure(data []byte, _ bool) (Code, []byte) {
	if l.accept {
		return CodeConfAck, data
	}
	return CodeConfNak, []byte{1, 4, 5, 0xd4}
}

// extension plays LCP's part for RXR: an Echo-Request is answered (ser)
// only when Opened.
func (l *fakeLayer) extension(code Code, id uint8, data []byte) bool {
	if code != CodeEchoReq {
		return false
	}
	if l.f.state == StateOpened {
		l.f.act("ser")
	}
	return true
}

type fakeTimer struct {
	running bool
	d       time.Duration
	starts  int
}

func (t *fakeTimer) start(d time.Duration) { t.running, t.d = true, d; t.starts++ }
func (t *fakeTimer) stop()                 { t.running = false }

type sent struct {
	code Code
	id   uint8
	data []byte
}

func newTestFSM() (*fsm, *fakeLayer, *fakeTimer, *[]string, *[]sent) {
	var actions []string
	var out []sent
	l := &fakeLayer{}
	t := &fakeTimer{}
	f := &fsm{
		proto:  ProtoLCP,
		layer:  l,
		timers: Timers{}.withDefaults(),
		timer:  t,
		send:   func(c Code, id uint8, d []byte) { out = append(out, sent{c, id, d}) },
		now:    func() time.Time { return time.Unix(0, 0) },
		trace:  func(a string) { actions = append(actions, a) },
		noFast: true,
	}
	l.f = f
	return f, l, t, &actions, &out
}

// pkt encodes an LCP packet (after the protocol field).
func pkt(code Code, id uint8, data ...byte) []byte {
	b, _ := Packet{Code: code, ID: id, Data: data}.Append(nil)
	return b
}

var events = []struct {
	name string
	fire func(f *fsm, l *fakeLayer)
}{
	{"Up", func(f *fsm, _ *fakeLayer) { f.Up() }},
	{"Down", func(f *fsm, _ *fakeLayer) { f.Down() }},
	{"Open", func(f *fsm, _ *fakeLayer) { f.Open() }},
	{"Close", func(f *fsm, _ *fakeLayer) { f.Close("bye") }},
	{"TO+", func(f *fsm, _ *fakeLayer) { f.restart = 2; f.timeout() }},
	{"TO-", func(f *fsm, _ *fakeLayer) { f.restart = 0; f.timeout() }},
	{"RCR+", func(f *fsm, l *fakeLayer) { l.accept = true; f.input(pkt(CodeConfReq, 1, 1, 4, 5, 0xd4), 1500) }},
	{"RCR-", func(f *fsm, l *fakeLayer) { l.accept = false; f.input(pkt(CodeConfReq, 1, 1, 4, 5, 0xd4), 1500) }},
	{"RCA", func(f *fsm, _ *fakeLayer) { f.input(pkt(CodeConfAck, f.reqID, 1, 4, 5, 0xd4), 1500) }},
	{"RCN", func(f *fsm, _ *fakeLayer) { f.input(pkt(CodeConfNak, f.reqID, 1, 4, 5, 0xd4), 1500) }},
	{"RTR", func(f *fsm, _ *fakeLayer) { f.input(pkt(CodeTermReq, 7), 1500) }},
	{"RTA", func(f *fsm, _ *fakeLayer) { f.input(pkt(CodeTermAck, 7), 1500) }},
	{"RUC", func(f *fsm, _ *fakeLayer) { f.input(pkt(0x42, 7, 1, 2), 1500) }},
	{"RXJ+", func(f *fsm, _ *fakeLayer) { f.input(pkt(CodeCodeRej, 7, byte(CodeEchoReq), 0, 0, 4), 1500) }},
	{"RXJ-", func(f *fsm, _ *fakeLayer) { f.input(pkt(CodeCodeRej, 7, byte(CodeConfReq), 1, 0, 4), 1500) }},
	{"RXR", func(f *fsm, _ *fakeLayer) { f.input(pkt(CodeEchoReq, 7, 0, 0, 0, 0), 1500) }},
}

// The state transition table of RFC 1661 §4.1, as printed there: for each
// event, the actions and the new state in each of the ten states; "-" is
// an event that cannot happen in that state (nothing is done). The
// implementation-specific options are off: "r" (restart) and "p" (passive)
// change nothing here, "x" marks a crossed connection.
var table = map[string][10]string{
	//         0 Initial   1 Starting   2 Closed   3 Stopped        4 Closing   5 Stopping  6 Req-Sent   7 Ack-Rcvd   8 Ack-Sent   9 Opened
	"Up":    {"2", "irc,scr/6", "-", "-", "-", "-", "-", "-", "-", "-"},
	"Down":  {"-", "-", "0", "tls/1", "0", "1", "1", "1", "1", "tld/1"},
	"Open":  {"tls/1", "1", "irc,scr/6", "3r", "5r", "5r", "6", "7", "8", "9r"},
	"Close": {"0", "tlf/0", "2", "2", "4", "4", "irc,str/4", "irc,str/4", "irc,str/4", "tld,irc,str/4"},
	"TO+":   {"-", "-", "-", "-", "str/4", "str/5", "scr/6", "scr/6", "scr/8", "-"},
	"TO-":   {"-", "-", "-", "-", "tlf/2", "tlf/3", "tlf/3p", "tlf/3p", "tlf/3p", "-"},
	"RCR+":  {"-", "-", "sta/2", "irc,scr,sca/8", "4", "5", "sca/8", "sca,tlu/9", "sca/8", "tld,scr,sca/8"},
	"RCR-":  {"-", "-", "sta/2", "irc,scr,scn/6", "4", "5", "scn/6", "scn/7", "scn/6", "tld,scr,scn/6"},
	"RCA":   {"-", "-", "sta/2", "sta/3", "4", "5", "irc/7", "scr/6x", "irc,tlu/9", "tld,scr/6x"},
	"RCN":   {"-", "-", "sta/2", "sta/3", "4", "5", "irc,scr/6", "scr/6x", "irc,scr/8", "tld,scr/6x"},
	"RTR":   {"-", "-", "sta/2", "sta/3", "sta/4", "sta/5", "sta/6", "sta/6", "sta/6", "tld,zrc,sta/5"},
	"RTA":   {"-", "-", "2", "3", "tlf/2", "tlf/3", "6", "6", "8", "tld,scr/6"},
	"RUC":   {"-", "-", "scj/2", "scj/3", "scj/4", "scj/5", "scj/6", "scj/7", "scj/8", "scj/9"},
	"RXJ+":  {"-", "-", "2", "3", "4", "5", "6", "6", "8", "9"},
	"RXJ-":  {"-", "-", "tlf/2", "tlf/3", "tlf/2", "tlf/3", "tlf/3", "tlf/3", "tlf/3", "tld,irc,str/5"},
	"RXR":   {"-", "-", "2", "3", "4", "5", "6", "7", "8", "ser/9"},
}

func TestStateTransitionTable(t *testing.T) {
	for _, ev := range events {
		row, ok := table[ev.name]
		if !ok {
			t.Fatalf("no table row for %s", ev.name)
		}
		for s := StateInitial; s <= StateOpened; s++ {
			cell := row[s]
			t.Run(fmt.Sprintf("%s/%s", ev.name, s), func(t *testing.T) {
				f, l, _, actions, _ := newTestFSM()
				f.state = s
				f.reqID, f.id, f.reqData = 5, 5, l.request()
				ev.fire(f, l)
				wantActions, wantState := "", s
				if cell != "-" {
					acts, st, found := strings.Cut(cell, "/")
					if !found {
						acts, st = "", cell
					}
					wantActions = acts
					var n int
					fmt.Sscanf(st, "%d", &n) // "6x", "3p", "5r": the digit is the state
					wantState = State(n)
				}
				if got := strings.Join(*actions, ","); got != wantActions || f.state != wantState {
					t.Errorf("%s in %s: %s/%d, want %s (%s/%d)", ev.name, s, got, f.state, cell, wantActions, wantState)
				}
			})
		}
	}
}

// The restart timer runs exactly in the states that wait for an answer.
func TestTimerRunsWhileWaiting(t *testing.T) {
	f, l, tm, _, _ := newTestFSM()
	f.Up()
	f.Open()
	if f.state != StateReqSent || !tm.running || tm.d != DefaultRestart {
		t.Fatalf("after Open: %s, timer %v %v", f.state, tm.running, tm.d)
	}
	l.accept = true
	f.input(pkt(CodeConfReq, 1, 1, 4, 5, 0xd4), 1500)
	f.input(pkt(CodeConfAck, f.reqID, 1, 4, 5, 0xd4), 1500)
	if f.state != StateOpened || tm.running {
		t.Fatalf("Opened with the timer running (%v)", tm.running)
	}
	f.input(pkt(CodeTermReq, 9), 1500)
	if f.state != StateStopping || !tm.running || f.restart != 0 {
		t.Fatalf("after RTR: %s, timer %v, counter %d; want Stopping waiting one restart time", f.state, tm.running, f.restart)
	}
	f.timeout()
	if f.state != StateStopped || tm.running {
		t.Errorf("after TO-: %s, timer %v", f.state, tm.running)
	}
}

// Counters: Max-Configure requests, then Stopped; Max-Terminate requests.
func TestRestartCounters(t *testing.T) {
	f, _, _, _, out := newTestFSM()
	f.timers.MaxConfigure, f.timers.MaxTerminate = 4, 2
	f.Up()
	f.Open()
	for i := 0; i < 10 && f.state == StateReqSent; i++ {
		f.timeout()
	}
	if f.state != StateStopped || len(*out) != 4 {
		t.Errorf("after timeouts: %s with %d requests sent, want Stopped after 4", f.state, len(*out))
	}
	// All four are the same request: retransmissions keep the Identifier.
	for _, p := range *out {
		if p.id != (*out)[0].id || p.code != CodeConfReq {
			t.Errorf("retransmission %+v differs from the first %+v", p, (*out)[0])
		}
	}
	*out = nil
	f.Open() // Stopped: stays (no restart option)
	f.Down()
	f.Up() // Starting -> Req-Sent
	f.Close("admin")
	for i := 0; i < 10 && f.state == StateClosing; i++ {
		f.timeout()
	}
	terms := 0
	for _, p := range *out {
		if p.code == CodeTermReq {
			terms++
			if string(p.data) != "admin" {
				t.Errorf("Terminate-Request data %q, want the reason", p.data)
			}
		}
	}
	if f.state != StateClosed || terms != 2 {
		t.Errorf("after closing: %s with %d Terminate-Requests, want Closed after 2", f.state, terms)
	}
}

// Replies whose Identifier is not our outstanding request's are stale, as
// is a second reply to the same request (RFC 1661 §5.2); a Nak or Reject
// that lists nothing, or a Code-Reject of nothing, means nothing.
func TestStaleRepliesDropped(t *testing.T) {
	f, _, _, actions, _ := newTestFSM()
	f.Up()
	f.Open()
	*actions = nil
	id := f.reqID
	for _, b := range [][]byte{
		pkt(CodeConfAck, id-1, 1, 4, 5, 0xd4),
		pkt(CodeConfNak, id+1, 1, 4, 5, 0xd4),
		pkt(CodeConfRej, id+7, 1, 4, 5, 0xd4),
		pkt(CodeConfNak, id), // lists nothing to change (RFC 1661 §5.3)
		pkt(CodeConfRej, id), // nor this (§5.4)
		pkt(CodeCodeRej, 7),  // rejects nothing
	} {
		f.input(b, 1500)
	}
	if f.state != StateReqSent || len(*actions) != 0 {
		t.Fatalf("stale replies changed the state: %s %v", f.state, *actions)
	}
	f.input(pkt(CodeConfAck, id, 1, 4, 5, 0xd4), 1500)
	if f.state != StateAckRcvd {
		t.Fatalf("the right Ack: %s", f.state)
	}
	f.input(pkt(CodeConfAck, id, 1, 4, 5, 0xd4), 1500) // duplicate
	if f.state != StateAckRcvd {
		t.Errorf("a duplicate Ack moved us to %s", f.state)
	}
}

// A reply the layer finds invalid (an Ack that does not match our request)
// is dropped without an event.
func TestInvalidReplyDropped(t *testing.T) {
	f, l, _, _, _ := newTestFSM()
	var log strings.Builder
	f.plog = peerlog.New(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelDebug})), 10, time.Second)
	f.Up()
	f.Open()
	l.badReply = true
	for _, tt := range []struct {
		code Code
		line string
	}{
		{CodeConfAck, `msg="ppp: LCP: Configure-Ack does not match our request: dropped"`},
		{CodeConfNak, `msg="ppp: LCP: invalid Configure-Nak: dropped"`},
		{CodeConfRej, `msg="ppp: LCP: invalid Configure-Reject: dropped"`},
	} {
		log.Reset()
		f.input(pkt(tt.code, f.reqID, 9, 9), 1500)
		if f.state != StateReqSent || f.seenReply {
			t.Errorf("invalid code %d counted: %s", tt.code, f.state)
		}
		if !strings.Contains(log.String(), tt.line) {
			t.Errorf("code %d: no %s in the log:\n%s", tt.code, tt.line, log.String())
		}
	}
}

// A Code-Reject of a code every implementation must know (1 to 7) is
// catastrophic (RXJ-, RFC 1661 §5.6): in Req-Sent the automaton stops.
// Of any other code it is not (RXJ+): nothing changes.
func TestCodeRejectKinds(t *testing.T) {
	for code := range 16 {
		catastrophic := code >= 1 && code <= 7
		f, _, _, _, _ := newTestFSM()
		f.Up()
		f.Open()
		f.input(pkt(CodeCodeRej, 7, byte(code), 1, 0, 4), 1500)
		if stopped := f.state == StateStopped; stopped != catastrophic {
			t.Errorf("Code-Reject of code %d: %s, want catastrophic %v", code, f.state, catastrophic)
		}
	}
}

// A Code-Reject needs only the rejected code: one octet of a core code
// is catastrophic (RXJ-).
func TestCodeRejectOfOneOctet(t *testing.T) {
	f, _, _, actions, _ := newTestFSM()
	f.Up()
	f.Open()
	*actions = nil
	f.input(pkt(CodeCodeRej, 7, byte(CodeConfReq)), 1500)
	if f.state != StateStopped || strings.Join(*actions, ",") != "tlf" {
		t.Errorf("Code-Reject of code 1 in one octet: %s after %v, want Stopped after tlf", f.state, *actions)
	}
}

// After Max-Failure Naks we send, the layer is told to reject instead, and
// after Max-Failure Naks we receive, to treat them as Rejects.
func TestMaxFailure(t *testing.T) {
	f, _, _, _, _ := newTestFSM()
	var rejectIfDisagree []bool
	var treatAsReject []bool
	f.layer = &recordingLayer{fakeLayer: fakeLayer{f: f}, rid: &rejectIfDisagree, tar: &treatAsReject}
	f.timers.MaxFailure = 3
	f.Up()
	f.Open()
	for i := 0; i < 5; i++ {
		f.input(pkt(CodeConfReq, uint8(10+i), 1, 4, 5, 0xd4), 1500)
		f.input(pkt(CodeConfNak, f.reqID, 1, 4, 5, 0xd4), 1500)
	}
	want := "[false false false true true]"
	if got := fmt.Sprint(rejectIfDisagree); got != want {
		t.Errorf("rejectIfDisagree over 5 requests = %s, want %s", got, want)
	}
	if got := fmt.Sprint(treatAsReject); got != want {
		t.Errorf("treatAsReject over 5 Naks = %s, want %s", got, want)
	}
}

type recordingLayer struct {
	fakeLayer
	rid, tar *[]bool
}

func (l *recordingLayer) configure(data []byte, rejectIfDisagree bool) (Code, []byte) {
	*l.rid = append(*l.rid, rejectIfDisagree)
	return CodeConfNak, data
}

func (l *recordingLayer) nak(data []byte, treatAsReject bool) bool {
	*l.tar = append(*l.tar, treatAsReject)
	return true
}

// The Code-Reject carries the rejected packet, cut to the peer's MRU.
func TestCodeRejectTruncated(t *testing.T) {
	f, _, _, _, out := newTestFSM()
	f.Up()
	f.Open()
	*out = nil
	unknown := pkt(0x42, 3, make([]byte, 100)...)
	f.input(unknown, 20)
	if len(*out) != 1 || (*out)[0].code != CodeCodeRej || len((*out)[0].data) != 20 {
		t.Fatalf("sent %+v, want one Code-Reject with 20 octets", *out)
	}
}

func TestStateString(t *testing.T) {
	if StateAckSent.String() != "Ack-Sent" || State(42).String() != "State(42)" {
		t.Error(StateAckSent.String(), State(42).String())
	}
}

// Random event sequences: the automaton never panics, every step is the
// table's transition, and the restart timer runs exactly in the states
// that wait for an answer.
func FuzzFSM(f *testing.F) {
	f.Add([]byte{0, 2, 6, 8})              // Up, Open, RCR+, RCA: Opened
	f.Add([]byte{0, 2, 10, 4, 5, 5, 5})    // RTR in Req-Sent, timeouts
	f.Add([]byte{2, 0, 6, 8, 10, 5, 2, 3}) // to Opened, peer terminates
	f.Fuzz(func(t *testing.T, seq []byte) {
		fs, l, tm, actions, _ := newTestFSM()
		for _, b := range seq {
			ev := events[int(b)%len(events)]
			prev := fs.state
			// Make each receive event the table's event: replies valid,
			// requests new (our duplicate rule aside), no give-up bound.
			fs.seenReply = false
			fs.acked = nil
			fs.refusals, fs.refused = 0, 0
			*actions = nil
			ev.fire(fs, l)
			cell := table[ev.name][prev]
			want := prev
			if cell != "-" {
				_, st, found := strings.Cut(cell, "/")
				if !found {
					st = cell
				}
				var n int
				fmt.Sscanf(st, "%d", &n)
				want = State(n)
			}
			if fs.state != want {
				t.Fatalf("%s in %s went to %s, want %s (%s)", ev.name, prev, fs.state, want, cell)
			}
			waiting := fs.state >= StateClosing && fs.state <= StateAckSent
			if tm.running != waiting {
				t.Fatalf("after %s in %s: %s with the timer running=%v", ev.name, prev, fs.state, tm.running)
			}
		}
	})
}

// In Opened, the very request we acknowledged (same Identifier, same
// options) is a retransmission whose Ack was lost: it gets the Ack again
// and nothing goes down. Anything else is a new negotiation (RFC 1661
// §4.1, RCR in Opened).
func TestReAckInOpened(t *testing.T) {
	req := []byte{1, 4, 5, 0xd4}
	other := []byte{1, 4, 5, 0xdc}
	tests := []struct {
		name    string
		id      uint8
		data    []byte
		actions string
		state   State
	}{
		{"the acknowledged request again", 1, req, "sca", StateOpened},
		{"same options, another Identifier", 2, req, "tld,scr,sca", StateAckSent},
		{"same Identifier, other options", 1, other, "tld,scr,sca", StateAckSent},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, l, _, actions, out := newTestFSM()
			l.accept = true
			f.Up()
			f.Open()
			f.input(pkt(CodeConfReq, 1, req...), 1500)
			f.input(pkt(CodeConfAck, f.reqID, l.request()...), 1500)
			if f.state != StateOpened {
				t.Fatalf("not Opened: %s", f.state)
			}
			*actions, *out = nil, nil
			f.input(pkt(CodeConfReq, tt.id, tt.data...), 1500)
			if got := strings.Join(*actions, ","); got != tt.actions || f.state != tt.state {
				t.Errorf("%s/%s, want %s/%s", got, f.state, tt.actions, tt.state)
			}
			last := (*out)[len(*out)-1]
			if last.code != CodeConfAck || last.id != tt.id || !bytes.Equal(last.data, tt.data) {
				t.Errorf("last sent %+v, want the Ack of the request", last)
			}
		})
	}
}

// hookLayer is a fakeLayer whose this-layer actions a test supplies.
type hookLayer struct {
	fakeLayer
	onUp, onFinished func()
}

func (l *hookLayer) up() {
	if l.onUp != nil {
		l.onUp()
	}
}

func (l *hookLayer) finished() {
	if l.onFinished != nil {
		l.onFinished()
	}
}

// This-layer-up runs in Opened, and this-layer-finished in Closed or
// Stopped, as pppd's fsm.c has it: a layer that finds the link unusable
// in up() closes it there, and the automaton ends in Closing with a
// Terminate-Request sent, not in the Opened the transition was heading
// for.
func TestLayerActionsSeeTheNewState(t *testing.T) {
	for _, last := range []string{"RCA in Ack-Sent", "RCR+ in Ack-Rcvd"} {
		t.Run(last, func(t *testing.T) {
			f, _, _, actions, out := newTestFSM()
			l := &hookLayer{fakeLayer: fakeLayer{f: f, accept: true}}
			f.layer = l
			var inUp, inFinished []State
			l.onUp = func() {
				inUp = append(inUp, f.state)
				f.Close("unusable")
			}
			l.onFinished = func() { inFinished = append(inFinished, f.state) }
			f.Up()
			f.Open()
			if last == "RCA in Ack-Sent" {
				f.input(pkt(CodeConfReq, 1, 1, 4, 5, 0xd4), 1500)
				f.input(pkt(CodeConfAck, f.reqID, l.request()...), 1500)
			} else {
				f.input(pkt(CodeConfAck, f.reqID, l.request()...), 1500)
				f.input(pkt(CodeConfReq, 1, 1, 4, 5, 0xd4), 1500)
			}
			if fmt.Sprint(inUp) != "[Opened]" {
				t.Fatalf("up() ran in %v, want [Opened]", inUp)
			}
			if f.state != StateClosing || !strings.HasSuffix(strings.Join(*actions, ","), "tlu,tld,irc,str") {
				t.Errorf("after Close from up(): %s with %v, want Closing after tlu,tld,irc,str", f.state, *actions)
			}
			if p := (*out)[len(*out)-1]; p.code != CodeTermReq || string(p.data) != "unusable" {
				t.Errorf("last sent %+v, want the Terminate-Request", p)
			}
			f.input(pkt(CodeTermAck, f.id), 1500)
			if f.state != StateClosed || fmt.Sprint(inFinished) != "[Closed]" {
				t.Errorf("finished() ran in %v, now %s; want [Closed]", inFinished, f.state)
			}
		})
	}
	// Every other way to this-layer-finished: the state is final first.
	for _, tt := range []struct {
		name  string
		from  State
		event func(f *fsm)
		want  State
	}{
		{"TO- in Closing", StateClosing, func(f *fsm) { f.restart = 0; f.timeout() }, StateClosed},
		{"TO- in Stopping", StateStopping, func(f *fsm) { f.restart = 0; f.timeout() }, StateStopped},
		{"TO- in Req-Sent", StateReqSent, func(f *fsm) { f.restart = 0; f.timeout() }, StateStopped},
		{"RTA in Stopping", StateStopping, func(f *fsm) { f.input(pkt(CodeTermAck, 1), 1500) }, StateStopped},
		{"RXJ- in Ack-Sent", StateAckSent, func(f *fsm) { f.input(pkt(CodeCodeRej, 7, byte(CodeConfReq), 1, 0, 4), 1500) }, StateStopped},
		{"RXJ- in Closing", StateClosing, func(f *fsm) { f.input(pkt(CodeCodeRej, 7, byte(CodeConfReq), 1, 0, 4), 1500) }, StateClosed},
		{"Close in Starting", StateStarting, func(f *fsm) { f.Close("") }, StateInitial},
		{"give up", StateReqSent, func(f *fsm) { f.giveUp("no") }, StateStopped},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, _, _, _, _ := newTestFSM()
			l := &hookLayer{fakeLayer: fakeLayer{f: f}}
			f.layer = l
			var seen []State
			l.onFinished = func() { seen = append(seen, f.state) }
			f.state = tt.from
			tt.event(f)
			if fmt.Sprint(seen) != fmt.Sprint([]State{tt.want}) {
				t.Errorf("finished() ran in %v, want [%s]", seen, tt.want)
			}
		})
	}
}
