package lab

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
)

// PppoedEnv names the pppoed binary under test; make test-integration
// sets it.
const PppoedEnv = "PPPOED_BIN"

// PppoedBinary returns the pppoed binary to test.
func PppoedBinary() (string, error) {
	p := os.Getenv(PppoedEnv)
	if p == "" {
		return "", fmt.Errorf("lab: %s is not set: build bin/pppoed and point %s at it (make test-integration does)", PppoedEnv, PppoedEnv)
	}
	if _, err := os.Stat(p); err != nil {
		return "", fmt.Errorf("lab: %s=%s: %w", PppoedEnv, p, err)
	}
	return p, nil
}

// Pppoed is a running `pppoed connect`.
type Pppoed struct {
	*Process
	Ifname string
	// ControlSocket is the status socket's path (the last
	// --control-socket given), for status.Get.
	ControlSocket string
	ns            *Netns
}

// ClientArgs are the usual `pppoed connect` arguments for a lab: the
// password goes into a file, never onto the command line; the state file
// and the control socket go into the test's own directory (the VM's
// /var/lib is read-only). One attempt (--persist=false), as most tests
// look at how a single session ends: a test of the always-on link passes
// --persist in more, which comes later and wins.
func ClientArgs(s Scope, iface, user, password string, more ...string) []string {
	dir := s.TempDir()
	pw := filepath.Join(dir, uniqueName("password"))
	if err := os.WriteFile(pw, []byte(password+"\n"), 0o600); err != nil {
		panic(err)
	}
	return append([]string{"connect", "--interface", iface, "--user", user, "--password-file", pw,
		"--persist=false", "--state-dir", filepath.Join(dir, "state"), "--control-socket", filepath.Join(dir, "ctl.sock")}, more...)
}

// StartPppoed runs pppoed with args in ns; ifname is the PPP interface
// it will create (pass --ifname in args to choose it).
func StartPppoed(s Scope, ns *Netns, ifname string, args ...string) (*Pppoed, error) {
	s.Helper()
	bin, err := PppoedBinary()
	if err != nil {
		return nil, err
	}
	p, err := ns.Start(s, "pppoed", append([]string{bin}, args...)...)
	if err != nil {
		return nil, err
	}
	return newPppoed(p, ns, ifname, args), nil
}

func newPppoed(p *Process, ns *Netns, ifname string, args []string) *Pppoed {
	c := &Pppoed{Process: p, Ifname: ifname, ns: ns}
	for i, a := range args[:max(len(args)-1, 0)] {
		if a == "--control-socket" {
			c.ControlSocket = args[i+1]
		}
	}
	return c
}

// WaitUp waits until the PPP interface is up with an IPv4 address and
// pppoed has finished configuring it (routes, DNS: it logs "IPv4 up" last).
func (c *Pppoed) WaitUp(ctx context.Context) (Addr, error) {
	var got Addr
	err := Poll(ctx, 10*time.Millisecond, func() (bool, error) {
		if c.Exited() {
			return false, fmt.Errorf("pppoed exited with status %d", c.ExitCode())
		}
		if !strings.Contains(c.Log(), `msg="client: IPv4 up"`) {
			return false, nil
		}
		l, err := c.ns.nl.LinkByName(c.Ifname)
		if err != nil || l.Attrs().Flags&net.FlagUp == 0 {
			return false, nil
		}
		as, err := c.ns.Addrs(c.Ifname, netlink.FAMILY_V4)
		if err != nil || len(as) == 0 {
			return false, nil
		}
		got = as[0]
		return true, nil
	})
	if err != nil {
		return Addr{}, fmt.Errorf("lab: %s not up: %w\npppoed log:\n%s", c.Ifname, err, tail(c.Log(), 60))
	}
	return got, nil
}

// Handle is the namespace's netlink handle.
func (n *Netns) Handle() *netlink.Handle { return n.nl }

// Do runs fn on an OS thread that is in n, then puts the thread back.
// Sockets fn opens stay in n.
func (n *Netns) Do(fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		defer orig.Close()
		if err := netns.Set(n.handle); err != nil {
			runtime.UnlockOSThread()
			errc <- err
			return
		}
		ferr := fn()
		if err := netns.Set(orig); err != nil {
			errc <- errors.Join(ferr, err) // the thread stays locked and dies
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// AddMacvlan adds a macvlan (bridge mode) named name on parent in n: a
// second station with its own MAC on the same link.
func (n *Netns) AddMacvlan(parent, name string) (net.HardwareAddr, error) {
	p, err := n.nl.LinkByName(parent)
	if err != nil {
		return nil, fmt.Errorf("lab: %s in %s: %w", parent, n.Name, err)
	}
	mv := &netlink.Macvlan{LinkAttrs: netlink.LinkAttrs{Name: name, ParentIndex: p.Attrs().Index}, Mode: netlink.MACVLAN_MODE_BRIDGE}
	if err := n.nl.LinkAdd(mv); err != nil {
		return nil, fmt.Errorf("lab: macvlan %s on %s (modprobe macvlan?): %w", name, parent, err)
	}
	l, err := n.nl.LinkByName(name)
	if err == nil {
		err = n.nl.LinkSetUp(l)
	}
	if err != nil {
		return nil, fmt.Errorf("lab: macvlan %s up: %w", name, err)
	}
	return l.Attrs().HardwareAddr, nil
}
