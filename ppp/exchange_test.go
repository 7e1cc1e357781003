package ppp_test

import (
	"strings"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// countingRand is a deterministic random source: 1, 2, 3, ...
type countingRand struct{ n byte }

func (c *countingRand) Read(b []byte) (int, error) {
	for i := range b {
		c.n++
		b[i] = c.n
	}
	return len(b), nil
}

// tapLog records every frame on a pipe as pppd's debug log prints it, with
// the writing end's name: "a sent [LCP ConfReq id=0x1 ...]".
type tapLog struct {
	mu    sync.Mutex
	lines []string
}

func (l *tapLog) tap(from string, proto ppp.Protocol, p []byte, _ bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := append([]byte{byte(proto >> 8), byte(proto)}, p...)
	l.lines = append(l.lines, from+" "+ppp.FormatFrame(b))
}

func (l *tapLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.lines...)
}

// A whole session of our client, packet by packet, against a scripted
// AC: every field we send is pinned, in pppd's own notation. The
// Identifiers follow pppd's fsm.c (a new request, Terminate-Request or
// Code-Reject takes the next one; a reply copies the request's); the
// options come in pppd's order; the magic number and PAP's first
// Identifier come from the random source (1, 2, 3...).
func TestGoldenClientExchange(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		log := &tapLog{}
		a, b := ppptest.Pipe(ppptest.Config{Tap: log.tap})
		runScript(b, acScript(t, ppp.AuthProtocol{Protocol: ppp.ProtoPAP}, func(s *script, p ppp.Packet) {
			switch {
			case p.Protocol == ppp.ProtoPAP:
				d, _ := ppp.PAPResponse{Message: []byte("hi")}.Append(nil)
				s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthAck, p.ID, d)
				s.end.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 0x40, opts(t, ppp.IPAddress(acAddr)))
			case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfReq:
				if addr, _ := addrOf(t, p.Data); addr.IsUnspecified() {
					s.end.Send(ppp.ProtoIPCP, ppp.CodeConfNak, p.ID, opts(t, ppp.IPAddress(clientAddr), ppp.PrimaryDNS(dns1), ppp.SecondaryDNS(dns2)))
				} else {
					s.end.Send(ppp.ProtoIPCP, ppp.CodeConfAck, p.ID, p.Data)
				}
			case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeTermReq:
				s.end.Send(ppp.ProtoLCP, ppp.CodeTermAck, p.ID, nil)
			}
		}))
		cfg := clientConfig(true, false)
		cfg.Rand = &countingRand{}
		cli := start(cfg, a)
		synctest.Wait()
		// Then, one at a time: an unknown code, an Echo-Request, a
		// Discard-Request, a packet of an NCP we do not run.
		for _, send := range []func(){
			func() { b.Send(ppp.ProtoLCP, 0x42, 0x50, []byte{7}) },
			func() { b.Send(ppp.ProtoLCP, ppp.CodeEchoReq, 0x51, []byte{0, 0, 0, 0xac, 'x'}) },
			func() { b.Send(ppp.ProtoLCP, ppp.CodeDiscardReq, 0x52, []byte{0, 0, 0, 0xac}) },
			func() { b.WriteFrame(0x8207, []byte{1, 1, 0, 4}) },
		} {
			send()
			synctest.Wait()
		}
		cli.s.Close("")
		cli.wait(t)
		want := []string{
			// Ours: MRU (1492 is not the default 1500), magic 1,2,3,4.
			`a [LCP ConfReq id=0x1 <mru 1492> <magic 0x1020304>]`,
			`b [LCP ConfAck id=0x1 <mru 1492> <magic 0x1020304>]`,
			`b [LCP ConfReq id=0x1 <auth pap> <magic 0xac>]`,
			`a [LCP ConfAck id=0x1 <auth pap> <magic 0xac>]`,
			// PAP's Identifier: the random 5, then one more per request.
			`a [PAP AuthReq id=0x6 user="user1" password=<hidden>]`,
			`b [PAP AuthAck id=0x6 "hi"]`,
			`b [IPCP ConfReq id=0x40 <addr 10.64.0.1>]`,
			`a [IPCP ConfReq id=0x1 <addr 0.0.0.0> <ms-dns1 0.0.0.0> <ms-dns2 0.0.0.0>]`,
			`a [IPCP ConfAck id=0x40 <addr 10.64.0.1>]`,
			`b [IPCP ConfNak id=0x1 <addr 10.64.0.2> <ms-dns1 10.64.0.53> <ms-dns2 10.64.0.54>]`,
			`a [IPCP ConfReq id=0x2 <addr 10.64.0.2> <ms-dns1 10.64.0.53> <ms-dns2 10.64.0.54>]`,
			`b [IPCP ConfAck id=0x2 <addr 10.64.0.2> <ms-dns1 10.64.0.53> <ms-dns2 10.64.0.54>]`,
			`b [LCP code=0x42 id=0x50 07]`,
			// The rejected packet whole: code 0x42, id 0x50, length 5, data.
			`a [LCP CodeRej id=0x2 42 50 00 05 07]`,
			`b [LCP EchoReq id=0x51 magic=0xac 78]`,
			// Our magic number, the request's data back.
			`a [LCP EchoRep id=0x51 magic=0x1020304 78]`,
			`b [LCP DiscReq id=0x52 magic=0xac]`,
			`b [proto=0x8207] 01 01 00 04`,
			// The rejected protocol, then its packet.
			`a [LCP ProtRej id=0x3 82 07 01 01 00 04]`,
			`a [LCP TermReq id=0x4 "User request"]`,
			`b [LCP TermAck id=0x4]`,
		}
		// Each side's packets in order; how the two interleave is up to
		// the scheduler.
		side := func(lines []string, end string) string {
			var out []string
			for _, l := range lines {
				if strings.HasPrefix(l, end+" ") {
					out = append(out, l)
				}
			}
			return strings.Join(out, "\n")
		}
		got := log.all()
		for _, end := range []string{"a", "b"} {
			if g, w := side(got, end), side(want, end); g != w {
				t.Errorf("%s sent:\n%s\nwant:\n%s", end, g, w)
			}
		}
		// What the client counted: each side's packets, and no timer.
		out, in := strings.Count(side(want, "a"), "\n")+1, strings.Count(side(want, "b"), "\n")+1
		if st := cli.s.Stats(); st != (ppp.Stats{FramesIn: in, FramesOut: out}) {
			t.Errorf("Stats %+v, want %d frames in, %d out, no timer", st, in, out)
		}
	})
}
