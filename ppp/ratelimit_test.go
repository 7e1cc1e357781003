package ppp_test

import (
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
)

// logLines returns the lines of a text log other than the packet dumps,
// which --debug asks for one per packet and are not bounded.
func logLines(log string) []string {
	var out []string
	for _, l := range strings.Split(strings.TrimSpace(log), "\n") {
		if !strings.Contains(l, `msg="sent [`) && !strings.Contains(l, `msg="rcvd [`) {
			out = append(out, l)
		}
	}
	return out
}

// A peer that sends 10 000 packets of every kind we complain about gets a
// bounded number of log lines, and the next line it gets once its share
// has refilled says how many were held back.
func TestPeerLogLinesBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := ppptest.Pipe(ppptest.Config{})
		var mu sync.Mutex
		var clientReq ppp.Packet // the client's LCP request, answered when open is set
		open := false
		runScript(b, func(s *script, p ppp.Packet) {
			mu.Lock()
			defer mu.Unlock()
			switch {
			case p.Protocol == ppp.ProtoLCP && p.Code == ppp.CodeConfReq:
				clientReq = p
				if open {
					s.end.Send(ppp.ProtoLCP, ppp.CodeConfAck, p.ID, p.Data)
				}
			case p.Protocol == ppp.ProtoPAP && p.Code == ppp.CodePAPAuthReq:
				d, _ := ppp.PAPResponse{}.Append(nil)
				s.end.Send(ppp.ProtoPAP, ppp.CodePAPAuthAck, p.ID, d)
			case p.Protocol == ppp.ProtoIPCP && p.Code == ppp.CodeConfReq:
				s.end.Send(ppp.ProtoIPCP, ppp.CodeConfAck, p.ID, p.Data)
			}
		})
		var logs strings.Builder
		ccfg := clientConfig(true, false)
		ccfg.IPv4.Local = clientAddr
		ccfg.Logger = textLogger(&logs)
		cli := start(ccfg, a)
		synctest.Wait()

		// flood sends n packets, cycling through kinds, in batches the
		// pipe's queue holds.
		flood := func(n int, kinds []func(i int)) {
			for i := range n {
				kinds[i%len(kinds)](i)
				if i%256 == 255 {
					synctest.Wait()
				}
			}
			synctest.Wait()
		}
		mu.Lock()
		req := clientReq
		mu.Unlock()
		// While LCP negotiates.
		before := []func(int){
			func(int) { b.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 1, nil) },                    // before LCP is open
			func(int) { b.Send(ppp.ProtoLCP, ppp.CodeConfAck, req.ID, []byte{1, 4, 0, 9}) }, // not our request
			func(int) { b.Send(ppp.ProtoLCP, ppp.CodeConfNak, req.ID, []byte{1, 9}) },       // options past the end
			func(int) { b.Send(ppp.ProtoLCP, ppp.CodeConfReq, 9, []byte{1, 1}) },            // option length 1
			func(int) { b.WriteFrame(ppp.ProtoLCP, []byte{1, 2, 0}) },                       // truncated
		}
		flood(5000, before)
		mu.Lock()
		open = true
		mu.Unlock()
		b.Send(ppp.ProtoLCP, ppp.CodeConfAck, req.ID, req.Data)
		b.Send(ppp.ProtoLCP, ppp.CodeConfReq, 1, opts(t, ppp.AuthProtocol{Protocol: ppp.ProtoPAP}, ppp.MagicNumber(0xac)))
		b.Send(ppp.ProtoIPCP, ppp.CodeConfReq, 1, opts(t, ppp.IPAddress(acAddr)))
		synctest.Wait()
		up, ok := find[ppp.LinkUp](cli.rec)
		if _, ipOK := find[ppp.IPv4Up](cli.rec); !ok || !ipOK {
			t.Fatalf("not up: %s", kinds(cli.rec))
		}
		magic := func(m uint32) []byte { return []byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)} }
		chal, _ := ppp.CHAPChallenge{Value: []byte{1}, Name: []byte("ac")}.Append(nil)
		after := []func(int){
			func(int) { b.Send(ppp.ProtoCHAP, ppp.CodeCHAPChallenge, 1, chal) },                  // not negotiated
			func(int) { b.Send(ppp.ProtoLCP, ppp.CodeIdentif, 1, append(magic(0xac), "hi"...)) }, // Identification
			func(int) { b.Send(ppp.ProtoLCP, ppp.CodeTimeRemaining, 1, append(magic(0xac), 0, 0, 0, 9)) },
			func(int) { b.Send(ppp.ProtoLCP, ppp.CodeEchoReq, 1, magic(up.Magic)) },                // our own
			func(int) { b.Send(ppp.ProtoLCP, ppp.CodeEchoRep, 1, magic(up.Magic)) },                // our own
			func(int) { b.Send(ppp.ProtoLCP, ppp.CodeCodeRej, 1, []byte{9, 1, 0, 8, 0, 0, 0, 0}) }, // of our echo
			func(int) { b.Send(ppp.ProtoLCP, ppp.CodeProtRej, 1, []byte{0x12, 0x35}) },             // of what we never sent
			func(int) { b.WriteFrame(ppp.ProtoIPCP, []byte{1}) },                                   // truncated
			func(int) { b.WriteFrame(ppp.ProtoPAP, []byte{2, 1, 0, 9}) },                           // Length past the end
			func(int) { b.Send(ppp.ProtoLCP, 0x42, 1, nil) },                                       // unknown code
			func(int) { b.WriteFrame(0x8281, []byte{1, 1, 0, 4}) },                                 // unknown protocol
		}
		flood(5000, after)
		lines := logLines(logs.String())
		if len(lines) > 40 {
			t.Errorf("10 000 bad packets made %d log lines; the first 50:\n%s", len(lines), strings.Join(lines[:50], "\n"))
		}
		// A second later the peer may have a line again, which says how
		// many were held back.
		time.Sleep(time.Second)
		b.Send(ppp.ProtoLCP, ppp.CodeIdentif, 1, append(magic(0xac), "again"...))
		synctest.Wait()
		last := logLines(logs.String())
		if l := last[len(last)-1]; !strings.Contains(l, "suppressed=") || !strings.Contains(l, "again") {
			t.Errorf("the line after the pause: %s", l)
		}
		if _, down := find[ppp.Down](cli.rec); down {
			t.Errorf("junk took the link down: %s", kinds(cli.rec))
		}
		cli.s.Close("")
		cli.wait(t)
	})
}
