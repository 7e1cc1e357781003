package vm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// IsGuest reports whether this process is the VM's init: PID 1 with the
// runner's spec in its initramfs.
func IsGuest() bool {
	if os.Getpid() != 1 {
		return false
	}
	_, err := os.Stat(specPath)
	return err == nil
}

// GuestMain is the VM's init. It never returns: it powers the VM off after
// reporting the command's exit status (or its own failure) on the console.
func GuestMain() {
	_ = mount("proc", "/proc", "proc", 0, "")
	_ = mount("sysfs", "/sys", "sysfs", 0, "")
	_ = mount("devtmpfs", "/dev", "devtmpfs", 0, "")
	console, err := os.OpenFile("/dev/console", os.O_WRONLY|syscall.O_NOCTTY, 0)
	if err != nil {
		console = os.Stdout
	}
	sp := &spec{Nonce: "unknown"}
	report := func(format string, a ...any) {
		// No leading newline: the host splits a marker off the end of an
		// unterminated last line of output.
		fmt.Fprintf(console, markerWord+"%s:"+format+"\n", append([]any{sp.Nonce}, a...)...)
		// tcdrain: the status line must leave the serial port before the
		// power goes.
		_ = unix.IoctlSetInt(int(console.Fd()), unix.TCSBRK, 1)
		unix.Sync()
		_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
		select {} // the kernel stops us
	}
	b, err := os.ReadFile(specPath)
	if err == nil {
		err = json.Unmarshal(b, sp)
	}
	if err != nil {
		report("error=reading %s: %v", specPath, err)
	}
	if err := guestSetup(sp); err != nil {
		report("error=%v", err)
	}
	fmt.Fprintf(console, "%s%s:ready\n", markerWord, sp.Nonce)
	status, err := runAsInit(sp, console)
	if err != nil {
		report("error=%v", err)
	}
	report("status=%d", status)
}

func mount(src, target, fstype string, flags uintptr, data string) error {
	if err := unix.Mount(src, target, fstype, flags, data); err != nil {
		return fmt.Errorf("mount %s on %s: %w", fstype, target, err)
	}
	return nil
}

// guestSetup turns the initramfs into the host's root file system with
// writable scratch space, then loads the modules the command needs.
func guestSetup(sp *spec) error {
	for _, m := range sp.InitModules {
		if err := loadModule(m); err != nil {
			return err
		}
	}
	if err := os.MkdirAll(hostRoot, 0o755); err != nil {
		return err
	}
	// msize: bigger 9p messages make reading test binaries much faster.
	// cache=loose: the host root does not change under a test run.
	if err := mount(hostTag, hostRoot, "9p", unix.MS_RDONLY, "trans=virtio,version=9p2000.L,msize=512000,cache=loose"); err != nil {
		return err
	}
	if err := unix.Chroot(hostRoot); err != nil {
		return fmt.Errorf("chroot %s: %w", hostRoot, err)
	}
	if err := os.Chdir("/"); err != nil {
		return err
	}
	mounts := []struct{ src, target, fstype, data string }{
		{"proc", "/proc", "proc", ""},
		{"sysfs", "/sys", "sysfs", ""},
		{"devtmpfs", "/dev", "devtmpfs", ""},
	}
	for _, m := range mounts {
		if err := mount(m.src, m.target, m.fstype, 0, m.data); err != nil {
			return err
		}
	}
	for _, d := range []string{"/dev/pts", "/dev/shm"} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	if err := mount("devpts", "/dev/pts", "devpts", 0, "gid=5,mode=620,ptmxmode=666"); err != nil {
		return err
	}
	if err := mount("shm", "/dev/shm", "tmpfs", 0, "mode=1777"); err != nil {
		return err
	}
	if err := mountTmpfs(sp.Tmpfs); err != nil {
		return err
	}
	// Shares come after the tmpfs mounts: a share under /tmp needs its
	// mount point created inside the fresh tmpfs.
	for _, s := range sp.Shares {
		if err := os.MkdirAll(s.Path, 0o755); err != nil {
			return fmt.Errorf("share %s: %w", s.Path, err)
		}
		if err := mount(s.Tag, s.Path, "9p", 0, "trans=virtio,version=9p2000.L,msize=512000"); err != nil {
			return err
		}
	}
	_ = unix.Sethostname([]byte("pppoed-vm"))
	if err := setLinkUp("lo"); err != nil {
		return err
	}
	return modprobe(sp.Modules)
}

// HostCopies is where the original content of each directory hidden under
// a fresh tmpfs stays visible, read-only, at its own path below it: the
// host's /etc/ppp (Debian's ip-up, options, peers) is
// /run/vmrun/host/etc/ppp. /run itself, which holds it, has none.
const HostCopies = "/run/vmrun/host"

// mountTmpfs gives each directory a fresh tmpfs. /run comes first, whatever
// its place in the list, so that the original content of every other one
// can be kept under HostCopies before it is hidden: tests copy Debian's own
// files from there. Without /run in the list nothing is kept.
func mountTmpfs(dirs []string) error {
	ordered := make([]string, 0, len(dirs))
	keep := false
	for _, d := range dirs {
		if filepath.Clean(d) == "/run" {
			ordered = append([]string{d}, ordered...)
			keep = true
		} else {
			ordered = append(ordered, d)
		}
	}
	for _, d := range ordered {
		// A symlink (Debian's /var/run -> /run) is followed by mount; the
		// target is mounted anyway if listed, so skip the link.
		fi, err := os.Lstat(d)
		if err == nil && fi.Mode()&os.ModeSymlink != 0 {
			continue
		}
		existed := err == nil && fi.IsDir()
		if err := os.MkdirAll(d, 0o755); err != nil {
			return fmt.Errorf("tmpfs %s: %w", d, err)
		}
		if keep && existed && filepath.Clean(d) != "/run" {
			if err := keepOriginal(d); err != nil {
				return err
			}
		}
		mode := "755"
		if d == "/tmp" || d == "/var/tmp" {
			mode = "1777"
		}
		if err := mount("tmpfs", d, "tmpfs", 0, "mode="+mode); err != nil {
			return err
		}
	}
	return nil
}

// keepOriginal bind-mounts directory d read-only at HostCopies/d, before d
// is hidden: the bind holds d's own directory, not what is mounted on it
// later.
func keepOriginal(d string) error {
	target := filepath.Join(HostCopies, filepath.Clean(d))
	if err := os.MkdirAll(target, 0o755); err != nil {
		return fmt.Errorf("keeping %s: %w", d, err)
	}
	if err := unix.Mount(d, target, "", unix.MS_BIND, ""); err != nil {
		return fmt.Errorf("keeping %s: bind on %s: %w", d, target, err)
	}
	// A bind mount takes the flags of its source until remounted.
	if err := unix.Mount("", target, "", unix.MS_BIND|unix.MS_REMOUNT|unix.MS_RDONLY, ""); err != nil {
		return fmt.Errorf("keeping %s: read-only %s: %w", d, target, err)
	}
	return nil
}

// loadModule inserts one module file; compressed modules are handed to the
// kernel to decompress (Linux 5.17+, as Debian's newer kernels ship them).
func loadModule(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	flags := 0
	if ext := filepath.Ext(path); ext == ".xz" || ext == ".zst" || ext == ".gz" {
		flags |= unix.MODULE_INIT_COMPRESSED_FILE
	}
	if err := unix.FinitModule(int(f.Fd()), "", flags); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("loading module %s: %w", filepath.Base(path), err)
	}
	return nil
}

// modprobe loads modules with the host's modprobe, which resolves
// dependencies from the shared /lib/modules.
func modprobe(mods []string) error {
	if len(mods) == 0 {
		return nil
	}
	out, err := exec.Command("/sbin/modprobe", append([]string{"-a", "--"}, mods...)...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("modprobe %s: %v: %s", strings.Join(mods, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// setLinkUp sets IFF_UP on a link of the current network namespace.
func setLinkUp(name string) error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq(name)
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return fmt.Errorf("%s up: %w", name, err)
	}
	return nil
}

// command builds the exec.Cmd for the spec, resolving the program in the
// command's own PATH (not ours: the guest init starts with none).
func command(sp *spec, out io.Writer) (*exec.Cmd, error) {
	path := guestPATH
	for _, kv := range sp.Env {
		if v, ok := strings.CutPrefix(kv, "PATH="); ok {
			path = v
		}
	}
	prog, err := lookPath(sp.Args[0], sp.Dir, path)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(prog, sp.Args[1:]...)
	cmd.Args[0] = sp.Args[0]
	cmd.Env = sp.Env
	cmd.Dir = sp.Dir
	cmd.Stdout, cmd.Stderr = out, out
	// Its own session: a `kill 0` in the command must not reach init.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	return cmd, nil
}

// lookPath finds name as a shell would with PATH=path in directory dir.
func lookPath(name, dir, path string) (string, error) {
	isExec := func(p string) bool {
		fi, err := os.Stat(p)
		return err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0
	}
	if strings.Contains(name, "/") {
		if !filepath.IsAbs(name) {
			name = filepath.Join(dir, name)
		}
		if isExec(name) {
			return name, nil
		}
		return "", fmt.Errorf("%s: not an executable file", name)
	}
	for _, d := range filepath.SplitList(path) {
		if d == "" {
			d = "."
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(dir, d)
		}
		if p := filepath.Join(d, name); isExec(p) {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: not found in PATH %s", name, path)
}

// runAsInit starts the command and reaps every process until it exits: as
// PID 1 we inherit every orphan (pppoe-server daemonizes), and a zombie left
// unreaped would look alive to a test that checks a process is gone.
func runAsInit(sp *spec, console *os.File) (int, error) {
	cmd, err := command(sp, console)
	if err != nil {
		return 0, err
	}
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	pid := cmd.Process.Pid
	for {
		var ws unix.WaitStatus
		wpid, err := unix.Wait4(-1, &ws, 0, nil)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return 0, fmt.Errorf("wait: %w", err)
		}
		if wpid == pid {
			return exitStatus(ws), nil
		}
	}
}

// exitStatus follows the shell's convention: 128+N for death by signal N.
func exitStatus(ws unix.WaitStatus) int {
	if ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ws.ExitStatus()
}

// ProbeHostPPP reports why the host cannot run the kernel tests directly
// (nil when it can): it needs root, /dev/ppp and AF_PPPOX, loading the
// modules first if they are available.
func ProbeHostPPP() error {
	if os.Geteuid() != 0 {
		return errors.New("not running as root")
	}
	_ = exec.Command("modprobe", "-q", "-a", "ppp_generic", "pppoe").Run()
	f, err := os.OpenFile("/dev/ppp", os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("kernel lacks PPP: %w", err)
	}
	f.Close()
	const pxProtoOE = 0 // PX_PROTO_OE, <linux/if_pppox.h>
	fd, err := unix.Socket(unix.AF_PPPOX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, pxProtoOE)
	if err != nil {
		return fmt.Errorf("kernel lacks PPPoE (AF_PPPOX): %w", err)
	}
	unix.Close(fd)
	return nil
}

// IsDirectChild reports whether this process is RunDirect's re-executed
// child, which must call DirectChildMain.
func IsDirectChild() bool { return os.Getenv(directEnv) != "" }

// DirectChildMain runs in RunDirect's child, which is PID 1 of its own PID
// namespace in a private mount namespace: it mounts that namespace's /proc
// and the tmpfs directories, loads the modules it can, runs the command and
// reaps every process until the command ends, and returns its exit status.
// When it exits, the kernel kills whatever the command left behind.
func DirectChildMain() (int, error) {
	var sp spec
	if err := json.Unmarshal([]byte(os.Getenv(directEnv)), &sp); err != nil {
		return 0, fmt.Errorf("direct child: %w", err)
	}
	os.Unsetenv(directEnv)
	// The lab finds processes through /proc: it must show this namespace.
	if err := mount("proc", "/proc", "proc", unix.MS_NOSUID|unix.MS_NODEV|unix.MS_NOEXEC, ""); err != nil {
		return 0, err
	}
	if err := mountTmpfs(sp.Tmpfs); err != nil {
		return 0, err
	}
	// The host's kernel already passed ProbeHostPPP; a module tree may still
	// be missing (a container), so a failed modprobe is only a warning.
	if err := modprobe(sp.Modules); err != nil {
		fmt.Fprintf(os.Stderr, "vmrun: warning: %v\n", err)
	}
	return runAsInit(&sp, os.Stdout)
}

// RunDirect runs the command on the host, in a private mount namespace
// where DirectTmpfs directories are fresh tmpfs, as root. It is for hosts
// whose kernel has PPP (see ProbeHostPPP).
func RunDirect(ctx context.Context, c Config) (int, error) {
	if err := c.fill(true); err != nil {
		return 0, fmt.Errorf("vm: %w", err)
	}
	sp := spec{Tmpfs: c.Tmpfs, Modules: c.Modules, Dir: c.Dir, Args: c.Args, Env: guestEnv("direct", c.Env)}
	js, err := json.Marshal(sp)
	if err != nil {
		return 0, err
	}
	cmd := exec.Command(c.Init)
	cmd.Env = append(os.Environ(), directEnv+"="+string(js))
	cmd.Stdout, cmd.Stderr = c.Stdout, c.Stdout
	cmd.WaitDelay = 5 * time.Second
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// A PID namespace of its own: killing its init (our child) kills
		// everything the command started, daemons that called setsid too.
		Cloneflags: syscall.CLONE_NEWPID,
		// CLONE_NEWNS here also makes "/" private (see syscall.SysProcAttr),
		// so the child's tmpfs mounts never reach the host.
		Unshareflags: syscall.CLONE_NEWNS,
		Pdeathsig:    syscall.SIGKILL,
	}
	fmt.Fprintf(c.Log, "vmrun: the host kernel has PPP; running directly in private mount and PID namespaces\n")
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("vm: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	timer := time.NewTimer(c.Timeout)
	defer timer.Stop()
	var why error
	select {
	case err := <-done:
		var ee *exec.ExitError
		if err == nil || errors.As(err, &ee) {
			ws := cmd.ProcessState.Sys().(syscall.WaitStatus)
			return exitStatus(unix.WaitStatus(ws)), nil
		}
		return 0, fmt.Errorf("vm: %w", err)
	case <-timer.C:
		why = fmt.Errorf("vm: %w after %s: the command was killed", ErrTimeout, c.Timeout)
	case <-ctx.Done():
		why = fmt.Errorf("vm: interrupted: %w", ctx.Err())
	}
	_ = cmd.Process.Kill()
	<-done
	return 0, why
}
