package integration

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/mdlayher/packet"
	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/integration/lab"
	"github.com/pppoed/pppoed/netcfg"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/ppp/ppptest"
	"github.com/pppoed/pppoed/pppox"
)

// goAC is a small access concentrator scripted in Go, for what Debian's
// pppoe-server cannot do: echo RFC 4638's PPP-Max-Payload (so the MRU can
// reach 1500), or refuse a session with an error tag in its PADS, or lose
// what a fast AC loses (retransmit_test.go). It runs one session at a time
// (a PADR while one runs is ignored), on the kernel's data path like
// pppoed's client, with the ppp package in the server role, and keeps each
// session's log (acSession): the AC's view of the negotiation.
type goAC struct {
	ns      *lab.Netns
	iface   string
	echoMax bool          // echo PPP-Max-Payload in PADO and PADS
	refuse  discovery.Tag // answer the PADR with this error instead
	deaf    bool          // never answer an LCP Terminate-Request
	// dropIPCP: like a fast AC seen in the VM, it loses the client's first
	// IPCP Configure-Request of each session, its own IPCP not started
	// yet, and its own request goes 5 ms after that loss.
	dropIPCP bool
	// eagerLCP: its LCP Configure-Request goes right after the PADS (the
	// session is made ready before the PADS is sent), racing the client's
	// set-up of its channel.
	eagerLCP bool
	// silent: its LCP waits for the client's request (ppp.Config.Silent,
	// as pppoed's server does), so that no request of its own goes before
	// the client's channel is up, to be lost.
	silent bool

	mu       sync.Mutex
	events   []ppp.Event
	padts    int
	done     chan struct{}
	conn     *packet.Conn
	sock     *pppox.Socket
	link     *pppox.Link // the running session's; nil between sessions
	sid      uint16      // the running (or last) session's id
	sessions []*acSession
	running  sync.WaitGroup
}

// acSession is the AC's log of one session: its ppp package's debug lines
// (every packet sent and received, every state change, in the session's
// order) and the frames the AC lost on purpose, each with its time.
type acSession struct {
	mu    sync.Mutex
	lines []acLine
}

type acLine struct {
	at  time.Time
	msg string
}

func (s *acSession) add(msg string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.lines = append(s.lines, acLine{time.Now(), msg})
}

func (s *acSession) log() []acLine {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]acLine(nil), s.lines...)
}

// acSession is also the slog.Handler of the session's logger.
func (s *acSession) Enabled(context.Context, slog.Level) bool { return true }
func (s *acSession) Handle(_ context.Context, r slog.Record) error {
	s.add(r.Message)
	return nil
}
func (s *acSession) WithAttrs([]slog.Attr) slog.Handler { return s }
func (s *acSession) WithGroup(string) slog.Handler      { return s }

func startGoAC(t testing.TB, ns *lab.Netns, iface string, echoMax bool, refuse discovery.Tag, opts ...func(*goAC)) *goAC {
	t.Helper()
	ac := &goAC{ns: ns, iface: iface, echoMax: echoMax, refuse: refuse, done: make(chan struct{})}
	for _, o := range opts {
		o(ac)
	}
	err := ns.Do(func() error {
		ifi, err := net.InterfaceByName(iface)
		if err != nil {
			return err
		}
		if ac.conn, err = discovery.Listen(ifi); err != nil {
			return err
		}
		ac.sock, err = pppox.OpenSocket()
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(ac.stop)
	go ac.serve(t)
	return ac
}

func (ac *goAC) stop() {
	ac.conn.Close()
	<-ac.done
	ac.mu.Lock()
	if ac.link != nil {
		ac.link.Close()
	}
	ac.mu.Unlock()
	ac.running.Wait()
	ac.sock.Close()
}

// idle reports whether no session runs.
func (ac *goAC) idle() bool {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	return ac.link == nil
}

// session returns the i-th session's log.
func (ac *goAC) session(i int) (*acSession, bool) {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if i >= len(ac.sessions) {
		return nil, false
	}
	return ac.sessions[i], true
}

func (ac *goAC) send(p *discovery.Packet, to net.HardwareAddr) error {
	b, err := p.Marshal()
	if err != nil {
		return err
	}
	_, err = ac.conn.WriteTo(b, &packet.Addr{HardwareAddr: to})
	return err
}

func (ac *goAC) serve(t testing.TB) {
	defer close(ac.done)
	buf := make([]byte, 1600)
	// When each client was sent its PADO: the PADR's arrival gives the
	// session a round trip (ppp.Config.RTT), an upper bound as it holds
	// the client's own time between the two, which keeps the fast
	// retransmit's guards on the safe side.
	padoAt := map[string]time.Time{}
	for {
		n, addr, err := ac.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		from := addr.(*packet.Addr).HardwareAddr
		p, err := discovery.Parse(buf[:n])
		if err != nil {
			continue
		}
		hu, _ := discovery.Find[discovery.HostUniq](p)
		switch p.Code {
		case discovery.CodePADI:
			pado := &discovery.Packet{Code: discovery.CodePADO, Tags: []discovery.Tag{
				discovery.ACName("go-ac"), discovery.ServiceName("isp"), discovery.ACCookie("go-cookie"), discovery.HostUniq(hu)}}
			if m, ok := discovery.Find[discovery.PPPMaxPayload](p); ok && ac.echoMax {
				pado.Tags = append(pado.Tags, m)
			}
			ac.send(pado, from)
			if len(padoAt) < 64 {
				padoAt[from.String()] = time.Now()
			}
		case discovery.CodePADR:
			if ac.refuse != nil {
				ac.send(&discovery.Packet{Code: discovery.CodePADS, Tags: []discovery.Tag{discovery.HostUniq(hu), ac.refuse}}, from)
				continue
			}
			if !ac.idle() {
				continue // one session at a time
			}
			var rtt time.Duration
			if at, ok := padoAt[from.String()]; ok {
				rtt = time.Since(at)
				delete(padoAt, from.String())
			}
			ac.mu.Lock()
			n := len(ac.sessions)
			sid := uint16(0x77 + n)
			ac.mu.Unlock()
			pads := &discovery.Packet{Code: discovery.CodePADS, SessionID: sid, Tags: []discovery.Tag{discovery.ServiceName("isp"), discovery.HostUniq(hu)}}
			maxMTU := 1492
			if m, ok := discovery.Find[discovery.PPPMaxPayload](p); ok && ac.echoMax {
				pads.Tags = append(pads.Tags, m)
				maxMTU = int(m)
			}
			var link *pppox.Link
			ifname := fmt.Sprintf("gac%d", n)
			if err := ac.ns.Do(func() error {
				var err error
				link, err = ac.sock.Connect(pppox.Config{Interface: ac.iface, SessionID: sid, AC: from, Ifname: ifname})
				return err
			}); err != nil {
				t.Errorf("go AC: %v", err)
				return
			}
			sess := &acSession{}
			ac.mu.Lock()
			ac.link, ac.sid = link, sid
			ac.sessions = append(ac.sessions, sess)
			ac.mu.Unlock()
			ac.running.Add(1)
			run := ac.preparePPP(t, link, ifname, maxMTU, rtt, sess)
			if !ac.eagerLCP {
				// As most ACs do: the PADS, then the PPP session.
				if err := ac.send(pads, from); err != nil {
					t.Errorf("go AC: %v", err)
				}
				go run()
				continue
			}
			// Everything ready before the PADS: LCP's request follows
			// it at once.
			err := ac.send(pads, from)
			go run()
			if err != nil {
				t.Errorf("go AC: %v", err)
			}
		case discovery.CodePADT:
			ac.mu.Lock()
			ac.padts++
			if ac.link != nil && p.SessionID == ac.sid {
				ac.link.HangUp(errors.New("PADT"))
			}
			ac.mu.Unlock()
		}
	}
}

// preparePPP returns the session's run: with eagerLCP it sets up the
// session at once (run only starts it), otherwise run does it all.
func (ac *goAC) preparePPP(t testing.TB, kl *pppox.Link, ifname string, maxMTU int, rtt time.Duration, sess *acSession) (run func()) {
	var ni *netcfg.Interface
	var s *ppp.Session
	setup := func() bool {
		var err error
		if ni, err = netcfg.Open(ac.ns.Handle(), ifname, nil); err != nil {
			t.Errorf("go AC: %v", err)
			return false
		}
		var link ppp.Link = kl
		if ac.deaf {
			link = deafLink{kl}
		}
		if ac.dropIPCP {
			link = &ipcpDropper{Link: kl, sess: sess}
		}
		s = ppp.NewSession(link, ppp.Config{
			Role: ppp.RoleServer, Name: "go-ac", MRU: uint16(maxMTU), MaxMTU: uint16(maxMTU),
			Require: []ppp.AuthMethod{ppp.AuthCHAPMD5}, Secrets: ppp.Secrets{"go-user": "go-pass"},
			IPv4:   &ppp.IPv4Config{Local: netip.MustParseAddr("10.66.0.1"), Pool: ppptest.NewPool(netip.MustParseAddr("10.66.0.2"), 1)},
			Logger: slog.New(sess), RTT: rtt, Silent: ac.silent,
			OnEvent: func(e ppp.Event) {
				ac.mu.Lock()
				ac.events = append(ac.events, e)
				ac.mu.Unlock()
				switch e := e.(type) {
				case ppp.LinkUp:
					ni.SetMTU(int(e.MTU))
					kl.SetMRU(int(e.MRU))
				case ppp.IPv4Up:
					ni.AddIPv4(e.Local, e.Peer)
					ni.Up()
					// pppox.Connect leaves every protocol dropped.
					kl.SetNPMode(ppp.ProtoIPv4, pppox.NPModePass)
				}
			},
		})
		return true
	}
	ready := ac.eagerLCP && setup()
	return func() {
		defer ac.running.Done()
		defer func() {
			ac.mu.Lock()
			ac.link = nil
			ac.mu.Unlock()
		}()
		if !ready && (ac.eagerLCP || !setup()) {
			kl.Close()
			return
		}
		defer ni.Close()
		s.Run(context.Background()) // closes kl
	}
}

// ipcpDropper is the link of an AC whose IPCP starts late: it loses the
// client's first IPCP Configure-Request, and holds the AC's own first
// one until 5 ms after that loss (whichever comes first), as the fast AC
// seen in the VM did.
type ipcpDropper struct {
	*pppox.Link
	sess *acSession

	mu      sync.Mutex
	dropped time.Time // when the client's first request was lost
	held    []byte    // the AC's first request, until then
	ours    bool      // the AC's first request was seen
}

func isConfReq(proto ppp.Protocol, b []byte) bool {
	return proto == ppp.ProtoIPCP && len(b) > 0 && ppp.Code(b[0]) == ppp.CodeConfReq
}

func (l *ipcpDropper) ReadFrame() (ppp.Protocol, []byte, error) {
	for {
		proto, b, err := l.Link.ReadFrame()
		if err != nil || !isConfReq(proto, b) {
			return proto, b, err
		}
		l.mu.Lock()
		if !l.dropped.IsZero() {
			l.mu.Unlock()
			return proto, b, nil
		}
		l.dropped = time.Now()
		l.sess.add("goac: dropped " + ppp.FormatFrame(append([]byte{byte(proto >> 8), byte(proto)}, b...)))
		if l.held != nil {
			l.writeLate(l.held)
			l.held = nil
		}
		l.mu.Unlock()
	}
}

// writeLate sends the AC's request 5 ms after the client's was lost.
func (l *ipcpDropper) writeLate(b []byte) {
	time.AfterFunc(time.Until(l.dropped.Add(5*time.Millisecond)), func() { l.Link.WriteFrame(ppp.ProtoIPCP, b) })
}

func (l *ipcpDropper) WriteFrame(proto ppp.Protocol, b []byte) error {
	if !isConfReq(proto, b) {
		return l.Link.WriteFrame(proto, b)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.ours {
		return l.Link.WriteFrame(proto, b)
	}
	l.ours = true
	b = append([]byte(nil), b...)
	if l.dropped.IsZero() {
		l.held = b
	} else {
		l.writeLate(b)
	}
	return nil
}

// deafLink loses every LCP Terminate-Request the peer sends.
type deafLink struct{ *pppox.Link }

func (l deafLink) ReadFrame() (ppp.Protocol, []byte, error) {
	for {
		proto, b, err := l.Link.ReadFrame()
		if err != nil || proto != ppp.ProtoLCP || len(b) == 0 || ppp.Code(b[0]) != ppp.CodeTermReq {
			return proto, b, err
		}
	}
}

func (ac *goAC) linkUp() (ppp.LinkUp, bool) {
	ac.mu.Lock()
	defer ac.mu.Unlock()
	for _, e := range ac.events {
		if l, ok := e.(ppp.LinkUp); ok {
			return l, true
		}
	}
	return ppp.LinkUp{}, false
}

// RFC 4638: with an Ethernet MTU of 1508 and an AC that echoes
// PPP-Max-Payload, both ends run an MTU of 1500, and full-size packets
// cross unfragmented.
func TestConnectRFC4638(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{MTU: 1508}))
	ac := startGoAC(t, p.AC, p.ACIf, true, nil)
	cli := must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp0",
		lab.ClientArgs(t, p.ClientIf, "go-user", "go-pass", "--mtu", "1500", "--mru", "1500", "--no-ipv6", "--debug")...))
	if _, err := cli.WaitUp(ctx); err != nil {
		t.Fatal(err)
	}
	if l := must[lab.Link](t)(p.Client.Link("ppp0")); l.MTU != 1500 {
		t.Errorf("client ppp0 MTU %d, want 1500\n%s", l.MTU, cli.Log())
	}
	if up, ok := ac.linkUp(); !ok || up.MRU != 1500 || up.MTU != 1500 {
		t.Errorf("AC LinkUp %+v", up)
	}
	// 1472 octets of ICMP data make a 1500-octet IP packet.
	if out, err := p.Client.Run(ctx, "busybox", "ping", "-c", "2", "-W", "2", "-s", "1472", "10.66.0.1"); err != nil || !bytes.Contains([]byte(out), []byte("2 packets received")) {
		t.Errorf("full-size ping: %v\n%s", err, out)
	}
	stopClean(t, cli)
	ac.mu.Lock()
	defer ac.mu.Unlock()
	if ac.padts != 1 {
		t.Errorf("the AC got %d PADTs, want 1", ac.padts)
	}
}

// --raise-parent-mtu: the Ethernet side starts at 1500, pppoed raises it
// to 1508 before discovery, gets 1500 from the AC, and puts 1500 back
// when it stops.
func TestConnectRaiseParentMTU(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{MTU: 1500, ACMTU: 1508}))
	startGoAC(t, p.AC, p.ACIf, true, nil)
	cli := must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp0",
		lab.ClientArgs(t, p.ClientIf, "go-user", "go-pass", "--mtu", "1500", "--mru", "1500", "--raise-parent-mtu", "--no-ipv6")...))
	if _, err := cli.WaitUp(ctx); err != nil {
		t.Fatal(err)
	}
	if l := must[lab.Link](t)(p.Client.Link(p.ClientIf)); l.MTU != 1508 {
		t.Errorf("Ethernet MTU %d while up, want 1508", l.MTU)
	}
	if l := must[lab.Link](t)(p.Client.Link("ppp0")); l.MTU != 1500 {
		t.Errorf("ppp0 MTU %d, want 1500\n%s", l.MTU, cli.Log())
	}
	stopClean(t, cli)
	if l := must[lab.Link](t)(p.Client.Link(p.ClientIf)); l.MTU != 1500 {
		t.Errorf("Ethernet MTU %d after, want 1500 restored", l.MTU)
	}
}

// An AC refusing the session in its PADS: pppoed says what it said and
// exits 8, as pppd does when discovery fails.
func TestConnectPADSError(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	startGoAC(t, p.AC, p.ACIf, false, discovery.GenericError("quota exceeded for go-user"))
	cli := must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp0", lab.ClientArgs(t, p.ClientIf, "go-user", "go-pass")...))
	if err := cli.Wait(ctx); err == nil || cli.ExitCode() != 8 {
		t.Fatalf("pppoed: %v, status %d; want 8\n%s", err, cli.ExitCode(), cli.Log())
	}
	if !bytes.Contains([]byte(cli.Log()), []byte("refused the session: generic-error: quota exceeded for go-user")) {
		t.Errorf("the AC's words are missing:\n%s", cli.Log())
	}
	assertNothingLeft(t, p.Client)
}

// Two SIGTERMs against an AC that never answers a Terminate-Request: the
// first starts LCP's termination (2 Terminate-Requests, 3 s apart, before
// giving up), the second hangs the link up at once. The PADT still goes,
// nothing is left, and the exit status is a clean stop's.
func TestConnectSecondSignal(t *testing.T) {
	lab.Require(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	p := must[*lab.Pair](t)(lab.NewPair(t, lab.PairConfig{}))
	ac := startGoAC(t, p.AC, p.ACIf, false, nil, func(ac *goAC) { ac.deaf = true })
	cli := must[*lab.Pppoed](t)(lab.StartPppoed(t, p.Client, "ppp0", lab.ClientArgs(t, p.ClientIf, "go-user", "go-pass", "--no-ipv6")...))
	if _, err := cli.WaitUp(ctx); err != nil {
		t.Fatal(err)
	}
	if err := cli.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cli.WaitLog(ctx, "ppp: stopping"); err != nil {
		t.Fatal(err)
	}
	if err := cli.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := cli.Wait(ctx); err != nil || cli.ExitCode() != 0 {
		t.Fatalf("pppoed: %v, status %d\n%s", err, cli.ExitCode(), cli.Log())
	}
	// The termination alone would take 6 s.
	if took := time.Since(start); took > 3*time.Second {
		t.Errorf("pppoed took %v to exit after the second SIGTERM\n%s", took, cli.Log())
	}
	if !strings.Contains(cli.Log(), "stopping at once") || !strings.Contains(cli.Log(), "PADT sent") {
		t.Errorf("log:\n%s", cli.Log())
	}
	err := lab.Poll(ctx, 20*time.Millisecond, func() (bool, error) {
		ac.mu.Lock()
		defer ac.mu.Unlock()
		return ac.padts > 0, nil
	})
	ac.mu.Lock()
	if err != nil || ac.padts != 1 {
		t.Errorf("the AC got %d PADTs, want 1", ac.padts)
	}
	ac.mu.Unlock()
	assertNothingLeft(t, p.Client)
}
