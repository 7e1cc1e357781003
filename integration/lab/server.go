package lab

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/pppoed/pppoed/server"
	"golang.org/x/sys/unix"
)

// ACConfig is `pppoed server`'s configuration file (its TOML keys, see
// config.LoadServer), as a lab writes it. Zero values are left out of the
// file, so the server's defaults apply to them. The control socket is the
// lab's to choose: StartPppoedServer puts it in the test's directory.
type ACConfig struct {
	ACName string `toml:"ac-name,omitempty"`
	// Auth are the methods offered, preferred first: pap, chap, mschap1,
	// mschap2.
	Auth []string `toml:"auth,omitempty"`
	// KeepaliveTimeout is a duration ("2s"); "0s" disables keepalives,
	// "" keeps the server's default (10 s).
	KeepaliveTimeout  string   `toml:"keepalive-timeout,omitempty"`
	MaxSessions       int      `toml:"max-sessions,omitzero"`
	OneSessionPerHost bool     `toml:"one-session-per-host,omitempty"`
	MaxMTU            int      `toml:"max-mtu,omitzero"`
	MaxMRU            int      `toml:"max-mru,omitzero"`
	IPv6              bool     `toml:"ipv6,omitempty"`
	SecretsFiles      []string `toml:"secrets-files,omitempty"`
	ControlSocket     string   `toml:"control-socket,omitempty"` // set by StartPppoedServer
	MetricsListen     string   `toml:"metrics-listen,omitempty"`

	PADILimit *ACPADILimit `toml:"padi-limit,omitempty"`

	Interfaces []ACInterface `toml:"interface,omitempty"`
	Pools      []ACPool      `toml:"pool,omitempty"`
	Profiles   []ACProfile   `toml:"profile,omitempty"`
	Users      []ACUser      `toml:"user,omitempty"`

	// RADIUS is the [radius] table; nil: none.
	RADIUS *ACRADIUS `toml:"radius,omitempty"`
}

// ACRADIUS is the [radius] table. Its secrets go into the file (mode
// 0600), never onto a command line.
type ACRADIUS struct {
	// Order is "local,radius" (the server's default), "radius" or
	// "radius,local".
	Order         string `toml:"order,omitempty"`
	NASIdentifier string `toml:"nas-identifier,omitempty"`
	NASIPAddress  string `toml:"nas-ip-address,omitempty"`
	// Timeout, DeadTime and InterimUpdate are durations ("1s").
	Timeout  string `toml:"timeout,omitempty"`
	DeadTime string `toml:"dead-time,omitempty"`
	// Retries are the retransmissions to one server; nil: the server's
	// default, 0: none (Ptr(0)).
	Retries         *int   `toml:"retries,omitempty"`
	InterimUpdate   string `toml:"interim-update,omitempty"`
	AccountingSpool int    `toml:"accounting-spool,omitzero"`

	Servers  []ACRADIUSServer  `toml:"server"`
	Incoming *ACRADIUSIncoming `toml:"incoming,omitempty"`
}

// ACRADIUSServer is a [[radius.server]] table.
type ACRADIUSServer struct {
	Address string `toml:"address"`
	Secret  string `toml:"secret"`
	// The ports: nil takes the server's default (1812, 1813), Ptr(0)
	// leaves the server out of authentication or accounting.
	AuthenticationPort *int `toml:"authentication-port,omitempty"`
	AccountingPort     *int `toml:"accounting-port,omitempty"`
}

// ACRADIUSIncoming is the [radius.incoming] table (RFC 5176).
type ACRADIUSIncoming struct {
	Listen  string           `toml:"listen"`
	Clients []ACRADIUSClient `toml:"client"`
}

// ACRADIUSClient is a [[radius.incoming.client]] table: who may send
// Disconnect- and CoA-Requests (an address or a prefix).
type ACRADIUSClient struct {
	Address string `toml:"address"`
	Secret  string `toml:"secret"`
}

// Ptr returns a pointer to v: the optional values of ACRADIUS.
func Ptr[T any](v T) *T { return &v }

// ACPADILimit is the [padi-limit] table.
type ACPADILimit struct {
	Rate        float64 `toml:"rate,omitzero"`
	Burst       int     `toml:"burst,omitzero"`
	PerMACRate  float64 `toml:"per-mac-rate,omitzero"`
	PerMACBurst int     `toml:"per-mac-burst,omitzero"`
	MaxMACs     int     `toml:"max-macs,omitzero"`
}

// ACInterface is an [[interface]] table.
type ACInterface struct {
	Name         string   `toml:"name"`
	ServiceNames []string `toml:"service-names,omitempty"`
}

// ACPool is a [[pool]] table; Ranges as "10.0.0.2-10.0.0.254" or a prefix.
type ACPool struct {
	Name   string   `toml:"name"`
	Ranges []string `toml:"ranges"`
}

// ACProfile is a [[profile]] table.
type ACProfile struct {
	Name          string   `toml:"name"`
	LocalAddress  string   `toml:"local-address,omitempty"`
	RemotePool    string   `toml:"remote-pool,omitempty"`
	RemoteAddress string   `toml:"remote-address,omitempty"`
	DNS           []string `toml:"dns,omitempty"`
	MTU           int      `toml:"mtu,omitzero"`
	MRU           int      `toml:"mru,omitzero"`
	OnlyOne       bool     `toml:"only-one,omitempty"`
}

// ACUser is a [[user]] table. Its password goes into the file (mode
// 0600), never onto a command line.
type ACUser struct {
	Name          string `toml:"name"`
	Password      string `toml:"password"`
	Profile       string `toml:"profile,omitempty"`
	RemoteAddress string `toml:"remote-address,omitempty"`
	InterfaceName string `toml:"interface-name,omitempty"`
}

// Render is the file's text.
func (c ACConfig) Render() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("# written by pppoed's integration lab\n")
	if err := toml.NewEncoder(&b).Encode(c); err != nil {
		return nil, fmt.Errorf("lab: server config: %w", err)
	}
	return b.Bytes(), nil
}

// PppoedServer is a running `pppoed server`.
type PppoedServer struct {
	*Process
	ConfigPath    string
	ControlSocket string
	Config        ACConfig
	ns            *Netns
}

// ServingLine is what the server logs once every interface is served.
const ServingLine = `msg="server: serving"`

// StartPppoedServer writes cfg (mode 0600) into the test's directory, with
// the control socket there too, starts `pppoed server --config FILE` in ns
// with flags (such as --debug) and returns once it logs that it serves.
func StartPppoedServer(s Scope, ns *Netns, cfg ACConfig, flags ...string) (*PppoedServer, error) {
	s.Helper()
	bin, err := PppoedBinary()
	if err != nil {
		return nil, err
	}
	dir := s.TempDir()
	name := uniqueName("server")
	if cfg.ControlSocket == "" {
		cfg.ControlSocket = filepath.Join(dir, name+".sock")
	}
	srv := &PppoedServer{ConfigPath: filepath.Join(dir, name+".toml"), ControlSocket: cfg.ControlSocket, ns: ns}
	if err := srv.WriteConfig(cfg); err != nil {
		return nil, err
	}
	args := append([]string{bin, "server", "--config", srv.ConfigPath}, flags...)
	if srv.Process, err = ns.Start(s, "pppoed-server", args...); err != nil {
		return nil, err
	}
	// Generous: a loaded machine under TCG takes seconds to start a Go
	// binary.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := srv.WaitLog(ctx, ServingLine); err != nil {
		return nil, err
	}
	return srv, nil
}

// WriteConfig replaces the configuration file (atomically, mode 0600),
// keeping the control socket; SIGHUP makes the server re-read its users.
func (srv *PppoedServer) WriteConfig(cfg ACConfig) error {
	cfg.ControlSocket = srv.ControlSocket
	b, err := cfg.Render()
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(srv.ConfigPath), ".server-*.toml")
	if err != nil {
		return fmt.Errorf("lab: %w", err)
	}
	// CreateTemp makes it 0600 already; say so for the reader.
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(b)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), srv.ConfigPath)
	}
	if err != nil {
		os.Remove(tmp.Name())
		return fmt.Errorf("lab: %w", err)
	}
	srv.Config = cfg
	return nil
}

// ReloadedLine is what the server logs once SIGHUP re-read the users.
const ReloadedLine = `msg="server: users reloaded"`

// Reload writes cfg, sends SIGHUP and waits until the server logs that it
// re-read its users.
func (srv *PppoedServer) Reload(ctx context.Context, cfg ACConfig) error {
	before := strings.Count(srv.Log(), ReloadedLine)
	if err := srv.WriteConfig(cfg); err != nil {
		return err
	}
	if err := srv.Signal(syscall.SIGHUP); err != nil {
		return fmt.Errorf("lab: SIGHUP: %w", err)
	}
	err := Poll(ctx, 20*time.Millisecond, func() (bool, error) {
		if srv.Exited() {
			return false, fmt.Errorf("pppoed server exited with status %d", srv.ExitCode())
		}
		return strings.Count(srv.Log(), ReloadedLine) > before, nil
	})
	if err != nil {
		return fmt.Errorf("lab: server reload: %w\n%s", err, tail(srv.Log(), 30))
	}
	return nil
}

// cli runs `pppoed server ARGS --socket SOCKET` and returns its stdout.
func (srv *PppoedServer) cli(ctx context.Context, args ...string) ([]byte, error) {
	bin, err := PppoedBinary()
	if err != nil {
		return nil, err
	}
	args = append(append([]string{"server"}, args...), "--socket", srv.ControlSocket)
	cmd := srv.ns.Command(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return stdout.Bytes(), fmt.Errorf("lab: pppoed %s: %w\n%s%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.Bytes(), nil
}

// Status reads the server's status through its control socket
// (server.GetStatus: no process to start, so it can be polled).
func (srv *PppoedServer) Status(ctx context.Context) (server.Status, error) {
	return server.GetStatus(ctx, srv.ControlSocket)
}

// StatusCLI reads the status as `pppoed server status --json` prints it.
func (srv *PppoedServer) StatusCLI(ctx context.Context) (server.Status, error) {
	var st server.Status
	out, err := srv.cli(ctx, "status", "--json")
	if err != nil {
		return st, err
	}
	if err := json.Unmarshal(out, &st); err != nil {
		return st, fmt.Errorf("lab: pppoed server status --json: %w\n%s", err, out)
	}
	return st, nil
}

// Kick ends the sessions of user: `pppoed server kick USER`.
func (srv *PppoedServer) Kick(ctx context.Context, user string) error {
	_, err := srv.cli(ctx, "kick", user)
	return err
}

// KickSession ends the session with id: `pppoed server kick --session-id ID`.
func (srv *PppoedServer) KickSession(ctx context.Context, id uint16) error {
	_, err := srv.cli(ctx, "kick", "--session-id", strconv.Itoa(int(id)))
	return err
}

// WaitStatus polls the status until ok accepts it and returns that status.
func (srv *PppoedServer) WaitStatus(ctx context.Context, what string, ok func(server.Status) bool) (server.Status, error) {
	var st server.Status
	var last error
	err := Poll(ctx, 50*time.Millisecond, func() (bool, error) {
		if srv.Exited() {
			return false, fmt.Errorf("pppoed server exited with status %d", srv.ExitCode())
		}
		var err error
		st, err = srv.Status(ctx)
		if err != nil {
			last = err // the socket may not be there yet
			return false, nil
		}
		return ok(st), nil
	})
	if err != nil {
		js, _ := json.MarshalIndent(st, "", "  ")
		return st, fmt.Errorf("lab: waiting for the server's status (%s): %w (last error: %v)\nlast status:\n%s\nserver log:\n%s",
			what, err, last, js, tail(srv.Log(), 60))
	}
	return st, nil
}

// UpSessions returns the sessions of st that have a network protocol up.
func UpSessions(st server.Status) []server.SessionStatus {
	var out []server.SessionStatus
	for _, s := range st.Sessions {
		if !s.UpSince.IsZero() {
			out = append(out, s)
		}
	}
	return out
}

// WaitSessions waits until the server has exactly n sessions, every one
// with IPv4 up.
func (srv *PppoedServer) WaitSessions(ctx context.Context, n int) (server.Status, error) {
	return srv.WaitStatus(ctx, fmt.Sprintf("%d sessions up", n), func(st server.Status) bool {
		if len(st.Sessions) != n {
			return false
		}
		for _, s := range st.Sessions {
			if s.UpSince.IsZero() || !s.Remote.IsValid() {
				return false
			}
		}
		return true
	})
}

// Stats reads the server process's fds, threads and RSS.
func (srv *PppoedServer) Stats() (ProcStats, error) { return ReadProcStats(srv.Pid()) }

// PPPLinks lists the PPP interfaces in n (the AC's pppN, whatever their
// names).
func (n *Netns) PPPLinks() ([]Link, error) {
	ls, err := n.Links()
	if err != nil {
		return nil, err
	}
	var out []Link
	for _, l := range ls {
		if l.Kind == "ppp" {
			out = append(out, l)
		}
	}
	return out, nil
}

// WaitNoPPP waits until n has no PPP interface left.
func (n *Netns) WaitNoPPP(ctx context.Context) error {
	var left []Link
	err := Poll(ctx, 20*time.Millisecond, func() (bool, error) {
		var err error
		left, err = n.PPPLinks()
		return len(left) == 0, err
	})
	if err != nil {
		return fmt.Errorf("lab: PPP interfaces left in %s: %v: %w", n.Name, left, err)
	}
	return nil
}

// PingDF sends one ICMP echo request of size octets of data to dst from
// n, with Don't Fragment set (IP_PMTUDISC_DO: the kernel refuses to send
// it, EMSGSIZE, past the route's MTU, instead of fragmenting), and waits
// for the reply. 1472 octets make a 1500-octet IP packet. busybox ping
// cannot set DF.
func (n *Netns) PingDF(ctx context.Context, dst netip.Addr, size int) error {
	if !dst.Is4() {
		return errors.New("lab: PingDF is IPv4 only")
	}
	return n.Do(func() error {
		fd, err := unix.Socket(unix.AF_INET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.IPPROTO_ICMP)
		if err != nil {
			return fmt.Errorf("lab: raw ICMP socket: %w", err)
		}
		defer unix.Close(fd)
		if err := unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_MTU_DISCOVER, unix.IP_PMTUDISC_DO); err != nil {
			return fmt.Errorf("lab: IP_MTU_DISCOVER: %w", err)
		}
		id, sq := uint16(os.Getpid()), uint16(seq.Add(1))
		req := make([]byte, 8+size)
		req[0] = 8 // echo request
		binary.BigEndian.PutUint16(req[4:], id)
		binary.BigEndian.PutUint16(req[6:], sq)
		for i := 8; i < len(req); i++ {
			req[i] = byte(i)
		}
		binary.BigEndian.PutUint16(req[2:], inetChecksum(req))
		wait := 5 * time.Second
		if dl, ok := ctx.Deadline(); ok {
			wait = min(wait, time.Until(dl))
		}
		if wait <= 0 {
			return fmt.Errorf("lab: ping %s: %w", dst, context.DeadlineExceeded)
		}
		tv := unix.NsecToTimeval(wait.Nanoseconds())
		if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
			return fmt.Errorf("lab: SO_RCVTIMEO: %w", err)
		}
		if err := unix.Sendto(fd, req, 0, &unix.SockaddrInet4{Addr: dst.As4()}); err != nil {
			return fmt.Errorf("lab: ping %s with DF, %d octets: %w", dst, size, err)
		}
		buf := make([]byte, 65536)
		for {
			m, from, err := unix.Recvfrom(fd, buf, 0)
			if errors.Is(err, unix.EINTR) {
				continue
			}
			if errors.Is(err, unix.EAGAIN) {
				return fmt.Errorf("lab: ping %s with DF, %d octets: no reply in %s", dst, size, wait)
			}
			if err != nil {
				return fmt.Errorf("lab: ping %s: %w", dst, err)
			}
			// A raw socket reads the IP header too.
			if m < 20 {
				continue
			}
			ihl := int(buf[0]&0x0f) * 4
			icmp := buf[ihl:m]
			src, _ := from.(*unix.SockaddrInet4)
			if src == nil || netip.AddrFrom4(src.Addr) != dst || len(icmp) < 8 || icmp[0] != 0 ||
				binary.BigEndian.Uint16(icmp[4:]) != id || binary.BigEndian.Uint16(icmp[6:]) != sq {
				continue // another ping's, or an echo request we sent
			}
			if len(icmp) != len(req) || !bytes.Equal(icmp[8:], req[8:]) {
				return fmt.Errorf("lab: ping %s: reply of %d octets, sent %d", dst, len(icmp), len(req))
			}
			return nil
		}
	})
}

// inetChecksum is RFC 1071's checksum.
func inetChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

// MAC returns the hardware address of ifname in n.
func (n *Netns) MAC(ifname string) (net.HardwareAddr, error) {
	l, err := n.Link(ifname)
	if err != nil {
		return nil, err
	}
	return l.MAC, nil
}
