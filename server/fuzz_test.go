package server

import (
	"bytes"
	"io"
	"net"
	"testing"
	"time"

	"github.com/pppoed/pppoed/discovery"
)

// FuzzHandle: whatever frame a station sends, the AC's Discovery does not
// panic; it answers nothing that is not a well-formed discovery packet
// from a station's own address, and what it does send is well formed,
// from us, to that station: a PADO for a broadcast PADI, a PADS for a PADR
// to us (a PADT when the session it started ends).
func FuzzHandle(f *testing.F) {
	fuzzClock := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	jar := NewCookieJar(goldenKey, 0, func() time.Time { return fuzzClock })
	client := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x0a}
	ac := net.HardwareAddr{0x02, 0xac, 0, 0, 0, 0x01}
	seed := func(dst net.HardwareAddr, p *discovery.Packet) {
		f.Add(frameFrom(f, dst, client, p))
	}
	seed(discovery.Broadcast, padi(discovery.ServiceName(""), discovery.HostUniq{1, 2}, discovery.PPPMaxPayload(1500)))
	seed(discovery.Broadcast, padi(discovery.ServiceName("internet")))
	seed(ac, &discovery.Packet{Code: discovery.CodePADR, Tags: []discovery.Tag{
		discovery.ServiceName(""), discovery.ACCookie(jar.Mint(client)), discovery.RelaySessionID{9},
	}})
	seed(ac, &discovery.Packet{Code: discovery.CodePADR, Tags: []discovery.Tag{discovery.ServiceName("tv"), discovery.ACCookie(jar.Mint(client))}})
	seed(ac, &discovery.Packet{Code: discovery.CodePADT, SessionID: 0x1234})
	// What must get nothing: a PADI not broadcast, a PADR to another
	// station, from a group address.
	seed(ac, padi(discovery.ServiceName("")))
	seed(net.HardwareAddr{0x02, 0xff, 0, 0, 0, 1}, &discovery.Packet{Code: discovery.CodePADR, Tags: []discovery.Tag{
		discovery.ServiceName(""), discovery.ACCookie(jar.Mint(client)),
	}})
	f.Add(frameFrom(f, discovery.Broadcast, net.HardwareAddr{0x03, 0, 0, 0, 0, 1}, padi(discovery.ServiceName(""))))
	f.Add([]byte{})
	f.Add(bytes.Repeat([]byte{0xff}, 60))

	f.Fuzz(func(t *testing.T, b []byte) {
		cfg := testConfig()
		cfg.Interfaces[0].ServiceNames = []string{"internet", "voip"}
		cfg.PADI = PADILimits{GlobalRate: 1e9, GlobalBurst: 1 << 30, MACRate: 1e9, MACBurst: 1 << 30}
		s, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		s.jar = jar
		k := newFakeKernel()
		s.kernel = k
		conn := newFakeConn()
		p := &port{s: s, ifi: &net.Interface{Index: 2, MTU: 1508, Name: "eth0", HardwareAddr: ac}, conn: conn,
			services: cfg.Interfaces[0].ServiceNames, profile: "default", ids: NewSessionIDs(nil)}

		p.handle(b, fuzzClock)
		// End what it started: its link gone, as on a PADT.
		s.mu.Lock()
		for _, ss := range s.sessions {
			ss.link.HangUp(io.EOF)
		}
		s.mu.Unlock()
		s.wg.Wait()

		fr, err := discovery.ParseFrame(b)
		var in *discovery.Packet
		if err == nil && fr.EtherType == discovery.EtherTypeDiscovery && discovery.ValidUnicast(fr.Src) {
			in, _ = discovery.Parse(fr.Payload)
		}
		for {
			var o outFrame
			select {
			case o = <-conn.out:
			default:
				return
			}
			if in == nil {
				t.Fatalf("% x: answered with % x", b, o.b)
			}
			of, err := discovery.ParseFrame(o.b)
			if err != nil {
				t.Fatalf("sent a bad frame % x: %v", o.b, err)
			}
			out, err := discovery.Parse(of.Payload)
			if err != nil {
				t.Fatalf("sent a bad packet % x: %v", o.b, err)
			}
			if !bytes.Equal(of.Dst, fr.Src) || !bytes.Equal(o.to, fr.Src) || !bytes.Equal(of.Src, ac) {
				t.Fatalf("%v from %v to %v (WriteTo %v), in answer to %v from %v", out.Code, of.Src, of.Dst, o.to, in.Code, fr.Src)
			}
			switch {
			case in.Code == discovery.CodePADI && out.Code == discovery.CodePADO && bytes.Equal(fr.Dst, discovery.Broadcast):
			case in.Code == discovery.CodePADR && (out.Code == discovery.CodePADS || out.Code == discovery.CodePADT) && bytes.Equal(fr.Dst, ac):
			default:
				t.Fatalf("%v to %v answered with %v", in.Code, fr.Dst, out.Code)
			}
		}
	})
}
