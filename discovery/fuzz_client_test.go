package discovery_test

import (
	"context"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/discovery/discoverytest"
)

// FuzzClient puts whatever the segment can carry in front of a Client in
// Discover, WaitPADT and Scan: none may panic or hang (synctest reports
// a deadlock), and a session Discover returns must be one it could use.
//
// The input is records: a control octet, a length octet, then that many
// octets of PPPoE packet. The control octet's high bit says when the
// record arrives (after our PADI, or after our PADR), its low bits from
// which MAC (the AC, another station, a multicast one).
func FuzzClient(f *testing.F) {
	hu := discovery.HostUniq{7, 7}
	rec := func(ctl byte, p *discovery.Packet) []byte {
		b, err := p.Marshal()
		if err != nil || len(b) > 255 {
			panic(err)
		}
		return append([]byte{ctl, byte(len(b))}, b...)
	}
	pado := rec(0x00, &discovery.Packet{Code: discovery.CodePADO, Tags: []discovery.Tag{discovery.ACName("ac"), discovery.ServiceName("isp"), discovery.ACCookie("ck"), hu, discovery.PPPMaxPayload(1500)}})
	pads := rec(0x80, &discovery.Packet{Code: discovery.CodePADS, SessionID: 0x42, Tags: []discovery.Tag{discovery.ServiceName("isp"), hu, discovery.PPPMaxPayload(1508)}})
	refusal := rec(0x80, &discovery.Packet{Code: discovery.CodePADS, Tags: []discovery.Tag{hu, discovery.GenericError("no\x1b[2J")}})
	padt := rec(0x80, &discovery.Packet{Code: discovery.CodePADT, SessionID: 0x42, Tags: []discovery.Tag{hu}})
	f.Add(append(append([]byte{}, pado...), pads...))
	f.Add(append(append([]byte{}, pado...), refusal...))
	f.Add(append(append(append([]byte{}, pado...), pads...), padt...))
	f.Add(append(append(append([]byte{}, pado...), pads...), rec(0x81, &discovery.Packet{Code: discovery.CodePADS, SessionID: 0x43, Tags: []discovery.Tag{hu}})...))
	f.Add([]byte{0x00, 3, 0x11, 0x07, 0x00})

	macs := []net.HardwareAddr{c2mac("02:00:00:00:00:0a"), c2mac("02:00:00:00:00:0b"), c2mac("03:00:00:00:00:0c"), c2mac("00:00:00:00:00:00")}
	f.Fuzz(func(t *testing.T, in []byte) {
		type record struct {
			late bool
			from net.HardwareAddr
			b    []byte
		}
		var recs []record
		for len(in) >= 2 {
			n := min(int(in[1]), len(in)-2)
			recs = append(recs, record{in[0]&0x80 != 0, macs[int(in[0]&0x7f)%len(macs)], in[2 : 2+n]})
			in = in[2+n:]
		}
		synctest.Test(t, func(t *testing.T) {
			seg := &discoverytest.Segment{}
			defer seg.Close()
			ac := seg.Port("02:00:00:00:00:0a")
			port := seg.Port("02:00:00:00:00:01")
			go func() {
				for {
					b, _, err := ac.Receive()
					if err != nil {
						return
					}
					p, err := discovery.Parse(b)
					if err != nil {
						t.Errorf("the client sent a packet it cannot parse: %v", err)
						return
					}
					for _, r := range recs {
						if r.late == (p.Code == discovery.CodePADR) {
							port.Inject(r.b, r.from)
						}
					}
				}
			}()
			c := discovery.NewClient(port, discovery.ClientConfig{HostUniq: hu, MaxPayload: 1500, Timeout: time.Second, Attempts: 2})
			defer c.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 2500*time.Millisecond)
			defer cancel()
			s, err := c.Discover(ctx)
			switch {
			case s == nil && err == nil:
				t.Fatal("Discover returned neither a session nor an error")
			case s != nil && err != nil:
				t.Fatalf("Discover returned a session and %v", err)
			case s != nil:
				if s.ID == 0 || s.ID == 0xffff || s.MaxPayload > 1500 || s.AC.String() != macs[0].String() {
					t.Fatalf("Discover accepted %+v", s)
				}
				wctx, wcancel := context.WithTimeout(context.Background(), time.Second)
				defer wcancel()
				if p, err := c.WaitPADT(wctx, s); err == nil && (p.SessionID != s.ID || p.Code != discovery.CodePADT) {
					t.Fatalf("WaitPADT accepted %v", p)
				}
			}
			if _, err := c.Scan(context.Background(), time.Second); err != nil {
				t.Fatalf("Scan: %v", err)
			}
		})
	})
}
