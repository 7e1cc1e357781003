package lab

// What make bench measures: when discovery frames cross the wire (a
// packet socket with the kernel's receive timestamps), when a PPP
// interface comes up (netlink events, not polling, which would take CPU
// from the thing measured on the VM's two CPUs), a process's memory and
// CPU time from /proc, and processes started without `ip netns exec`, so
// that the time taken before exec is the program's own exec.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// PPPoE Discovery codes (RFC 2516 §5), as a Frame carries them.
const (
	CodePADI = 0x09
	CodePADO = 0x07
	CodePADR = 0x19
	CodePADS = 0x65
	CodePADT = 0xa7
)

// Frame is one PPPoE Discovery frame a DiscoveryTap saw.
type Frame struct {
	At       time.Time // the kernel's timestamp (SO_TIMESTAMPNS)
	Code     uint8
	Outgoing bool // sent from the tap's own namespace
	Src      net.HardwareAddr
}

// DiscoveryTap records every PPPoE Discovery frame (ETH_P_PPP_DISC) on an
// interface, both directions, with the kernel's timestamps: the time a
// client's first PADI reached the AC's side, or the AC's PADS left it.
type DiscoveryTap struct {
	fd   int
	done chan struct{}
	quit chan struct{}

	mu      sync.Mutex
	frames  []Frame
	changed chan struct{} // closed and replaced at each frame
}

// TapDiscovery opens a DiscoveryTap on ifname in n; it is closed when the
// scope ends.
func (n *Netns) TapDiscovery(s Scope, ifname string) (*DiscoveryTap, error) {
	s.Helper()
	// ETH_P_ALL, filtered: a socket bound to ETH_P_PPP_DISC would not see
	// the frames its own side sends (the kernel hands outgoing frames
	// only to ETH_P_ALL taps), and the AC's PADS is one.
	proto := htons(unix.ETH_P_ALL)
	t := &DiscoveryTap{fd: -1, done: make(chan struct{}), quit: make(chan struct{}), changed: make(chan struct{})}
	err := n.Do(func() error {
		ifi, err := net.InterfaceByName(ifname)
		if err != nil {
			return err
		}
		fd, err := unix.Socket(unix.AF_PACKET, unix.SOCK_RAW|unix.SOCK_CLOEXEC, int(proto))
		if err != nil {
			return err
		}
		t.fd = fd
		if err := unix.SetsockoptSockFprog(fd, unix.SOL_SOCKET, unix.SO_ATTACH_FILTER, &discoveryFilter); err != nil {
			return err
		}
		if err := unix.Bind(fd, &unix.SockaddrLinklayer{Protocol: proto, Ifindex: ifi.Index}); err != nil {
			return err
		}
		if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1); err != nil {
			return err
		}
		// The reader wakes this often to see whether Close was called:
		// a blocked recvmsg on a packet socket does not end at close.
		tv := unix.NsecToTimeval((100 * time.Millisecond).Nanoseconds())
		return unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv)
	})
	if err != nil {
		if t.fd >= 0 {
			unix.Close(t.fd)
		}
		return nil, fmt.Errorf("lab: discovery tap on %s in %s: %w", ifname, n.Name, err)
	}
	go t.read()
	s.Cleanup(t.Close)
	return t, nil
}

func htons(v uint16) uint16 { return v<<8 | v>>8 }

// discoveryFilter passes PPPoE Discovery frames only (classic BPF: the
// EtherType at offset 12 is ETH_P_PPP_DISC), so that the traffic of a
// session, iperf3's included, never reaches the tap.
var discoveryFilter = unix.SockFprog{Len: 4, Filter: &[]unix.SockFilter{
	{Code: unix.BPF_LD | unix.BPF_H | unix.BPF_ABS, K: 12},
	{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, Jt: 0, Jf: 1, K: unix.ETH_P_PPP_DISC},
	{Code: unix.BPF_RET | unix.BPF_K, K: 0xffff},
	{Code: unix.BPF_RET | unix.BPF_K, K: 0},
}[0]}

func (t *DiscoveryTap) read() {
	defer close(t.done)
	buf := make([]byte, 2048)
	oob := make([]byte, 128)
	for {
		select {
		case <-t.quit:
			return
		default:
		}
		n, oobn, _, from, err := unix.Recvmsg(t.fd, buf, oob, 0)
		if err != nil {
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EINTR) {
				continue
			}
			return
		}
		f, ok := parseFrame(buf[:n], oob[:oobn])
		if !ok {
			continue
		}
		if ll, ok := from.(*unix.SockaddrLinklayer); ok {
			f.Outgoing = ll.Pkttype == unix.PACKET_OUTGOING
		}
		t.mu.Lock()
		t.frames = append(t.frames, f)
		close(t.changed)
		t.changed = make(chan struct{})
		t.mu.Unlock()
	}
}

// parseFrame reads a raw Ethernet frame carrying PPPoE Discovery and the
// recvmsg control data holding its timestamp; a frame too short for the
// PPPoE header is not one.
func parseFrame(b, oob []byte) (Frame, bool) {
	const eth, pppoeHdr = 14, 6
	if len(b) < eth+pppoeHdr {
		return Frame{}, false
	}
	f := Frame{Code: b[eth+1], Src: net.HardwareAddr(append([]byte(nil), b[6:12]...))}
	msgs, _ := unix.ParseSocketControlMessage(oob)
	for _, m := range msgs {
		if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SCM_TIMESTAMPNS && len(m.Data) >= 16 {
			f.At = time.Unix(int64(binary.NativeEndian.Uint64(m.Data[0:8])), int64(binary.NativeEndian.Uint64(m.Data[8:16])))
		}
	}
	if f.At.IsZero() {
		f.At = time.Now() // no timestamp: the kernel always gives one once asked
	}
	return f, true
}

// Frames returns every frame seen so far.
func (t *DiscoveryTap) Frames() []Frame {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Frame(nil), t.frames...)
}

// Wait returns the first frame with code seen at or after since, waiting
// for it until ctx ends.
func (t *DiscoveryTap) Wait(ctx context.Context, code uint8, since time.Time) (Frame, error) {
	for {
		t.mu.Lock()
		for _, f := range t.frames {
			if f.Code == code && !f.At.Before(since) {
				t.mu.Unlock()
				return f, nil
			}
		}
		changed := t.changed
		t.mu.Unlock()
		select {
		case <-changed:
		case <-t.done:
			return Frame{}, errors.New("lab: discovery tap closed")
		case <-ctx.Done():
			return Frame{}, fmt.Errorf("lab: no discovery frame 0x%02x since %s: %w", code, since.Format("15:04:05.000"), ctx.Err())
		}
	}
}

// Close stops the tap; it is safe to call more than once.
func (t *DiscoveryTap) Close() {
	select {
	case <-t.quit:
		return
	default:
	}
	close(t.quit)
	<-t.done
	unix.Close(t.fd)
}

// UpWatch records when a PPP interface is first up with an IPv4 address
// and its peer: the moment a client's session can carry IPv4.
type UpWatch struct {
	ns     *Netns
	ifname string
	stop   chan struct{}
	done   chan struct{}
	at     time.Time
	err    error
}

// WatchIPv4Up starts watching n for ifname ("": any PPP interface) to
// come up (with an IPv4
// address that has its peer: pppd sets the two in separate ioctls). It
// follows netlink's link and address events, and reads the state at each;
// the time is that of the event that completed it. Start it before the
// client.
func (n *Netns) WatchIPv4Up(s Scope, ifname string) (*UpWatch, error) {
	s.Helper()
	w := &UpWatch{ns: n, ifname: ifname, stop: make(chan struct{}), done: make(chan struct{})}
	links := make(chan netlink.LinkUpdate, 64)
	addrs := make(chan netlink.AddrUpdate, 64)
	subDone := make(chan struct{})
	if err := netlink.LinkSubscribeWithOptions(links, subDone, netlink.LinkSubscribeOptions{Namespace: &n.handle}); err != nil {
		return nil, fmt.Errorf("lab: link events in %s: %w", n.Name, err)
	}
	if err := netlink.AddrSubscribeWithOptions(addrs, subDone, netlink.AddrSubscribeOptions{Namespace: &n.handle}); err != nil {
		close(subDone)
		return nil, fmt.Errorf("lab: address events in %s: %w", n.Name, err)
	}
	go func() {
		defer close(w.done)
		defer close(subDone)
		if w.up() {
			w.at = time.Now()
			return
		}
		for {
			select {
			case _, ok := <-links:
				if !ok {
					w.err = errors.New("lab: link events ended")
					return
				}
			case _, ok := <-addrs:
				if !ok {
					w.err = errors.New("lab: address events ended")
					return
				}
			case <-w.stop:
				w.err = errors.New("lab: watch stopped")
				return
			}
			at := time.Now()
			if w.up() {
				w.at = at
				return
			}
		}
	}()
	s.Cleanup(w.Close)
	return w, nil
}

func (w *UpWatch) up() bool {
	var links []netlink.Link
	if w.ifname != "" {
		l, err := w.ns.nl.LinkByName(w.ifname)
		if err != nil {
			return false
		}
		links = append(links, l)
	} else if ls, err := w.ns.nl.LinkList(); err == nil {
		for _, l := range ls {
			if l.Type() == "ppp" {
				links = append(links, l)
			}
		}
	}
	for _, l := range links {
		if l.Attrs().Flags&net.FlagUp == 0 {
			continue
		}
		if as, err := w.ns.nl.AddrList(l, netlink.FAMILY_V4); err == nil && len(as) > 0 && as[0].Peer != nil {
			return true
		}
	}
	return false
}

// Wait returns the time the interface came up.
func (w *UpWatch) Wait(ctx context.Context) (time.Time, error) {
	select {
	case <-w.done:
		return w.at, w.err
	case <-ctx.Done():
		return time.Time{}, fmt.Errorf("lab: %s in %s not up: %w", w.ifname, w.ns.Name, ctx.Err())
	}
}

// Close ends the watch; it is safe to call more than once. The netlink
// subscriptions' own goroutines end at their next event or a second after.
func (w *UpWatch) Close() {
	select {
	case <-w.stop:
	default:
		close(w.stop)
	}
	<-w.done
}

// StartDirect is Start without `ip netns exec`: the program is forked and
// execed from a thread inside n, and the time returned was taken just
// before that, so that it marks the program's own exec (ip would add its
// exec, a mount namespace and a /sys remount). The program shares the
// test's mount namespace: its /sys is not n's.
func (n *Netns) StartDirect(s Scope, name string, args ...string) (*Process, time.Time, error) {
	s.Helper()
	var at time.Time
	p, err := startProcess(s, name, exec.Command(args[0], args[1:]...), func(cmd *exec.Cmd) error {
		return n.Do(func() error {
			at = time.Now()
			return cmd.Start()
		})
	})
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("lab: starting %s in %s: %w", name, n.Name, err)
	}
	return p, at, nil
}

// StartPPPDDirect is StartPPPD through StartDirect, with the time taken
// before exec.
func StartPPPDDirect(s Scope, ns *Netns, cfg PPPDConfig) (*PPPD, time.Time, error) {
	s.Helper()
	var at time.Time
	c, err := startPPPD(s, ns, cfg, func(name string, args ...string) (*Process, error) {
		p, t, err := ns.StartDirect(s, name, args...)
		at = t
		return p, err
	})
	return c, at, err
}

// StartPppoedDirect is StartPppoed through StartDirect, with the time
// taken before exec.
func StartPppoedDirect(s Scope, ns *Netns, ifname string, args ...string) (*Pppoed, time.Time, error) {
	s.Helper()
	bin, err := PppoedBinary()
	if err != nil {
		return nil, time.Time{}, err
	}
	p, at, err := ns.StartDirect(s, "pppoed", append([]string{bin}, args...)...)
	if err != nil {
		return nil, time.Time{}, err
	}
	return newPppoed(p, ns, ifname, args), at, nil
}

// StagePppoed copies the pppoed binary under test into dir and returns
// the copy's path, for PppoedEnv. In the VM the work tree is a 9p share without a
// page cache, so every exec of bin/pppoed reads the binary from the host
// again (about 0.5-1 s under TCG), while pppd comes from the host root,
// which is cached: a copy on the guest's tmpfs puts the two on the same
// footing, as on a router where both live on local storage.
func StagePppoed(dir string) (string, error) {
	src, err := PppoedBinary()
	if err != nil {
		return "", err
	}
	return StageBinary(src, filepath.Join(dir, "pppoed"))
}

// StageBinary copies the executable src to dst (see StagePppoed).
func StageBinary(src, dst string) (string, error) {
	b, err := os.ReadFile(src)
	if err != nil {
		return "", fmt.Errorf("lab: %w", err)
	}
	if err := os.WriteFile(dst, b, 0o755); err != nil {
		return "", fmt.Errorf("lab: %w", err)
	}
	return dst, nil
}

// Memory is a process's memory, in KiB, from /proc/PID/smaps_rollup,
// which walks the page tables: /proc/PID/status's VmRSS and RssAnon come
// from counters each thread batches (SPLIT_RSS_COUNTING, kernels before
// 6.2), which lag by up to 64 pages a thread, and a Go daemon has several
// threads (its VmRSS read 2 MB under its Pss in the VM).
type Memory struct {
	RSS  int // Rss: resident pages, shared ones included
	Anon int // Anonymous: resident anonymous memory (heap, stacks, data written)
	PSS  int // Pss: shared pages divided among their users
}

// ProcessMemory reads pid's Memory.
func ProcessMemory(pid int) (Memory, error) {
	sm, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps_rollup", pid))
	if err != nil {
		return Memory{}, fmt.Errorf("lab: %w", err)
	}
	kb := kbFields(string(sm))
	m := Memory{RSS: kb["Rss"], Anon: kb["Anonymous"], PSS: kb["Pss"]}
	if m.RSS == 0 || m.PSS == 0 {
		return m, fmt.Errorf("lab: no Rss or Pss for pid %d", pid)
	}
	return m, nil
}

// kbFields reads the "Name:   123 kB" lines of /proc/PID/smaps_rollup
// (or status).
func kbFields(s string) map[string]int {
	out := map[string]int{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		name, v, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		fs := strings.Fields(v)
		if len(fs) != 2 || fs[1] != "kB" {
			continue
		}
		if n, err := strconv.Atoi(fs[0]); err == nil {
			out[name] = n
		}
	}
	return out
}

// userHZ is the unit of /proc/PID/stat's times: USER_HZ, 100 on every
// Linux architecture the lab runs on.
const userHZ = 100

// CPUTime is the CPU a process has used: utime+stime from /proc/PID/stat
// (what ps and top show, in 10 ms ticks, dead threads included), and the
// scheduler's nanosecond count summed over its live threads.
type CPUTime struct {
	Ticks time.Duration
	Sched time.Duration
}

// ProcessCPU reads pid's CPUTime.
func ProcessCPU(pid int) (CPUTime, error) {
	var c CPUTime
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return c, fmt.Errorf("lab: %w", err)
	}
	if c.Ticks, err = parseStatCPU(string(b)); err != nil {
		return c, err
	}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue // a thread that ended
		}
		if fs := strings.Fields(string(b)); len(fs) > 0 {
			ns, _ := strconv.ParseInt(fs[0], 10, 64)
			c.Sched += time.Duration(ns)
		}
	}
	return c, nil
}

// parseStatCPU reads utime and stime (fields 14 and 15, proc(5)) from a
// /proc/PID/stat line; the command name before them is parenthesised and
// may hold spaces and parentheses, so fields are counted from the last ')'.
func parseStatCPU(s string) (time.Duration, error) {
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, errors.New("lab: /proc/PID/stat without a command name")
	}
	fs := strings.Fields(s[i+1:])
	// fs[0] is field 3 (state): utime is field 14, fs[11].
	if len(fs) < 13 {
		return 0, fmt.Errorf("lab: /proc/PID/stat has %d fields after the name", len(fs))
	}
	var ticks int64
	for _, f := range fs[11:13] {
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("lab: /proc/PID/stat: %w", err)
		}
		ticks += n
	}
	return time.Duration(ticks) * time.Second / userHZ, nil
}
