package integration

import (
	"context"
	"net"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/packet"
	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/integration/lab"
)

// SIGTERM reaches pppoed after its PADR went out and before the AC's PADS
// came (issue 8): the AC may have opened the session, so pppoed ends it
// with a PADT before it exits, cleanly. The AC here is scripted on a
// packet socket: it offers, and on the PADR signals pppoed, then, once
// pppoed says it is stopping, confirms session 0x55. (It waited a fixed
// 20 ms before, and a loaded CI took longer to deliver the signal: the
// PADS came first, and the session was rightly used, then closed.)
func TestConnectStoppedBetweenPADRAndPADS(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	var conn *packet.Conn
	if err := p.AC.Do(func() error {
		ifi, err := net.InterfaceByName(p.ACIf)
		if err != nil {
			return err
		}
		conn, err = discovery.Listen(ifi)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	const sid = 0x55
	started := make(chan *lab.Pppoed, 1)
	padts := make(chan *discovery.Packet, 8)
	done := make(chan struct{})
	t.Cleanup(func() {
		conn.Close()
		<-done
	})
	go func() {
		defer close(done)
		var cli *lab.Pppoed
		send := func(q *discovery.Packet, to net.HardwareAddr) {
			if b, err := q.Marshal(); err == nil {
				conn.WriteTo(b, &packet.Addr{HardwareAddr: to})
			}
		}
		buf := make([]byte, 1600)
		for {
			n, addr, err := conn.ReadFrom(buf)
			if err != nil {
				return
			}
			from := addr.(*packet.Addr).HardwareAddr
			q, err := discovery.Parse(buf[:n])
			if err != nil {
				continue
			}
			hu, _ := discovery.Find[discovery.HostUniq](q)
			switch q.Code {
			case discovery.CodePADI:
				send(&discovery.Packet{Code: discovery.CodePADO, Tags: []discovery.Tag{
					discovery.ACName("cancel-ac"), discovery.ServiceName(""), discovery.ACCookie("c"), discovery.HostUniq(hu)}}, from)
			case discovery.CodePADR:
				if cli == nil {
					cli = <-started
				}
				cli.Signal(syscall.SIGTERM)
				wctx, wcancel := context.WithTimeout(ctx, 10*time.Second)
				err := cli.WaitLog(wctx, "client: stopping during discovery")
				wcancel()
				if err != nil {
					t.Errorf("pppoed does not say it is stopping: %v", err)
				}
				send(&discovery.Packet{Code: discovery.CodePADS, SessionID: sid, Tags: []discovery.Tag{discovery.ServiceName(""), discovery.HostUniq(hu)}}, from)
			case discovery.CodePADT:
				padts <- q
			}
		}
	}()
	cli := must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp0", lab.ClientArgs(t, p.ClientIf, "user1", "pass1")...))
	started <- cli
	if err := cli.Wait(ctx); err != nil || cli.ExitCode() != 0 {
		t.Fatalf("pppoed: %v, status %d; want 0\n%s", err, cli.ExitCode(), cli.Log())
	}
	select {
	case q := <-padts:
		if q.SessionID != sid || !strings.Contains(discovery.PADTReason(q), "discovery stopped") {
			t.Errorf("PADT %v", q)
		}
	case <-time.After(2 * time.Second):
		t.Fatalf("no PADT for the session the AC opened\n%s", cli.Log())
	}
	if !strings.Contains(cli.Log(), "ended a session we will not use") {
		t.Errorf("pppoed does not say it ended the session:\n%s", cli.Log())
	}
	assertNothingLeft(t, p.Client)
}
