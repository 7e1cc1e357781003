// Command capture records reference PPPoE sessions for the codec tests: for
// each authentication method it runs pppd with rp-pppoe.so against Debian's
// pppoe-server in a lab, captures the client's veth with tcpdump from
// before discovery to after the session's teardown, and keeps pppd's debug
// log. The tests decode every captured frame and compare the result with
// the lines pppd logged for the same packets.
//
//	make capture    # writes testdata/captures/*.pcap and *.pppd.log
package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"

	"github.com/pppoed/pppoed/integration/lab"
)

func main() {
	out := flag.String("out", "testdata/captures", "directory for the captures")
	flag.Parse()
	if why := lab.Unavailable(); why != "" {
		fmt.Fprintln(os.Stderr, "capture:", why)
		os.Exit(1)
	}
	for _, auth := range []lab.Auth{lab.AuthPAP, lab.AuthCHAP, lab.AuthMSCHAPv2} {
		if err := capture(*out, auth); err != nil {
			fmt.Fprintf(os.Stderr, "capture %s: %v\n", auth, err)
			os.Exit(1)
		}
	}
}

func capture(dir string, auth lab.Auth) error {
	td := &lab.Teardown{}
	defer td.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	p, err := lab.NewPair(td, lab.PairConfig{})
	if err != nil {
		return err
	}
	name := "reference-" + string(auth)
	pcap := filepath.Join(dir, name+".pcap")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	// --immediate-mode: hand each packet over at once instead of in blocks
	// (TPACKET_V3 holds them up to a second, and stopping tcpdump drops
	// what it holds); -U: write each one at once.
	dump, err := p.Client.Start(td, "tcpdump", "tcpdump", "-i", p.ClientIf, "--immediate-mode", "-U", "-n", "-w", pcap,
		"ether proto 0x8863 or ether proto 0x8864")
	if err != nil {
		return err
	}
	if err := dump.WaitLog(ctx, "listening on"); err != nil {
		return err
	}
	srv, err := lab.StartPPPoEServer(td, p.AC, lab.ServerConfig{
		Interface: p.ACIf, Auth: auth, ServiceNames: []string{"isp"}, ACName: "lab-ac",
		Local: netip.MustParseAddr("10.64.0.1"), PoolStart: netip.MustParseAddr("10.64.0.2"),
		Secrets:      []lab.Secret{{User: "user1", Password: "pass1"}},
		EchoInterval: 1, EchoFailure: 3,
		DNS: []netip.Addr{netip.MustParseAddr("10.64.0.53"), netip.MustParseAddr("10.64.0.54")},
	})
	if err != nil {
		return err
	}
	cli, err := lab.StartPPPD(td, p.Client, lab.PPPDConfig{
		Interface: p.ClientIf, User: "user1", Password: "pass1", ServiceName: "isp",
		Options: []string{"usepeerdns", "lcp-echo-interval", "1", "lcp-echo-failure", "3", "rp_pppoe_verbose", "1"},
	})
	if err != nil {
		return err
	}
	if _, err := cli.WaitUp(ctx); err != nil {
		return fmt.Errorf("%w\n%s", err, srv.Log())
	}
	// A few echoes each way, then a clean hang-up: TermReq/TermAck, PADT.
	time.Sleep(2500 * time.Millisecond)
	if err := cli.Signal(syscall.SIGTERM); err != nil {
		return err
	}
	if err := cli.Wait(ctx); err != nil {
		fmt.Fprintf(os.Stderr, "capture %s: pppd: %v\n", auth, err)
	}
	time.Sleep(time.Second)
	if err := dump.Signal(syscall.SIGINT); err != nil {
		return err
	}
	_ = dump.Wait(ctx)
	if err := os.WriteFile(filepath.Join(dir, name+".pppd.log"), []byte(cli.Log()), 0o644); err != nil {
		return err
	}
	fi, err := os.Stat(pcap)
	if err != nil {
		return err
	}
	fmt.Printf("%s: %s bytes of capture, %d lines of pppd log\n", name, strconv.FormatInt(fi.Size(), 10), countLines(cli.Log()))
	return nil
}

func countLines(s string) int {
	n := 0
	for _, c := range s {
		if c == '\n' {
			n++
		}
	}
	return n
}
