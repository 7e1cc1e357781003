// Package vm runs one command as root on a Linux kernel that has PPP, so
// that pppoed's kernel tests run on hosts (and CI machines) whose own kernel
// is built without it.
//
// Run boots the newest installed Debian kernel under qemu (TCG unless KVM is
// asked for), shares the host's root file system read-only over 9p, mounts
// tmpfs where the guest must write (/tmp, /run, /etc/ppp, ...), shares the
// working directory read-write at the same path, loads the PPP modules and
// runs the command. Its output streams to the caller live and its exit status
// becomes Run's result; qemu's own status says nothing about it.
//
// What a tmpfs hides stays readable under HostCopies: /run gets its tmpfs
// first, then each other directory is bind-mounted read-only at
// /run/vmrun/host/DIR before it is hidden, so the host's Debian /etc/ppp
// (ip-up, options, peers) is /run/vmrun/host/etc/ppp.
//
// The guest's init is the runner binary itself: the initramfs holds a copy of
// it, and when it starts as PID 1 its main calls GuestMain. It must therefore
// be statically linked (build it with CGO_ENABLED=0).
//
// RunDirect runs the command on the host instead, for hosts whose kernel has
// PPP, in a private mount namespace with the same tmpfs mounts (and the same
// HostCopies) so that no test can touch the host's /etc/ppp.
package vm

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"debug/elf"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults. The PPP modules are what pppoed and the reference peers need:
// ppp_async because Debian's pppoe-server runs pppd on a pty.
var (
	DefaultModules = []string{"ppp_generic", "pppox", "pppoe", "veth", "ppp_async", "macvlan"}
	// DefaultTmpfs are the guest directories that get a fresh tmpfs, since
	// the shared root is read-only.
	DefaultTmpfs = []string{"/tmp", "/run", "/var/tmp", "/var/log", "/var/lib/misc", "/etc/ppp"}
	// DirectTmpfs are the directories RunDirect hides behind a private tmpfs:
	// tests write /etc/ppp (secrets, plugins) and /run (pid files, netns).
	DirectTmpfs = []string{"/etc/ppp", "/run"}
)

const (
	DefaultMemory  = 1024 // MiB
	DefaultCPUs    = 2
	DefaultTimeout = 10 * time.Minute
	// LabEnv is set in the command's environment to "vm" or "direct", so
	// tests know they run with a private /etc/ppp and may write it.
	LabEnv = "PPPOED_LAB"
)

// ErrTimeout is returned (wrapped) when the run outlived Config.Timeout.
var ErrTimeout = errors.New("timed out")

// Config describes one run.
type Config struct {
	Args []string // the command and its arguments (required)
	// Dir is the command's working directory (default: the current one).
	Dir string
	// Shares are host directories shared read-write at the same path in
	// the guest (default: the current directory; Dir is added when outside
	// them). Paths under the guest's tmpfs mounts (/tmp) would otherwise
	// be invisible there.
	Shares  []string
	Env     []string // KEY=VALUE pairs added to the command's environment
	Modules []string // loaded before the command (default DefaultModules)
	Tmpfs   []string // default DefaultTmpfs (Run) or DirectTmpfs (RunDirect)
	Memory  int      // MiB, default DefaultMemory
	CPUs    int      // default DefaultCPUs
	KVM     bool     // use -enable-kvm instead of TCG
	Timeout time.Duration
	Kernel  Kernel // zero value: the newest installed (FindKernel)
	// KernelCache holds the uncompressed kernels extracted for faster
	// boots (default: the user's cache directory).
	KernelCache string
	// NoPVH boots the compressed bzImage as is.
	NoPVH bool
	// Init is the statically linked binary that becomes the guest's PID 1
	// (and RunDirect's re-executed child); default: os.Executable().
	Init string
	Qemu string // default "qemu-system-x86_64"
	// Stdout receives the command's output (stdout and stderr together,
	// as the guest has one console). Default os.Stdout.
	Stdout io.Writer
	// Log receives the runner's own progress lines; nil discards them.
	Log io.Writer
	// KernelLog shows the kernel's messages on Log (boot and shutdown).
	KernelLog bool
}

// spec is what the host hands the guest init (as /vmrun.json in the
// initramfs) or the direct child (in an environment variable).
type spec struct {
	Nonce       string   `json:"nonce"`
	InitModules []string `json:"init_modules,omitempty"` // initramfs paths, load order
	Shares      []share  `json:"shares,omitempty"`
	Tmpfs       []string `json:"tmpfs"`
	Modules     []string `json:"modules"`
	Dir         string   `json:"dir"`
	Args        []string `json:"args"`
	Env         []string `json:"env"`
}

type share struct {
	Tag  string `json:"tag"`
	Path string `json:"path"`
}

const (
	specPath   = "/vmrun.json"
	hostRoot   = "/host"
	hostTag    = "hostroot"
	directEnv  = "VMRUN_DIRECT_SPEC"
	guestPATH  = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
	markerWord = "vmrun:"
)

// Modules the guest init needs before it can mount the host root.
var bootModules = []string{"virtio_pci", "9pnet_virtio", "9p"}

// Packages names the Debian packages that provide a missing tool.
var Packages = map[string]string{
	"qemu-system-x86_64": "qemu-system-x86",
	"kernel":             "linux-image-amd64",
	"busybox":            "busybox-static",
}

// Preflight checks that the host can boot the lab VM and reports everything
// missing in one error that names the Debian packages to install.
func Preflight(qemu string) error {
	if qemu == "" {
		qemu = "qemu-system-x86_64"
	}
	var missing, pkgs []string
	if _, err := exec.LookPath(qemu); err != nil {
		missing, pkgs = append(missing, qemu), append(pkgs, Packages["qemu-system-x86_64"])
	}
	if _, err := FindKernel("/boot", "/lib/modules"); err != nil {
		missing, pkgs = append(missing, "a kernel image (/boot/vmlinuz-*)"), append(pkgs, Packages["kernel"])
	}
	// The lab's tools (ping) come from busybox inside the guest.
	if _, err := os.Stat("/bin/busybox"); err != nil {
		missing, pkgs = append(missing, "/bin/busybox"), append(pkgs, Packages["busybox"])
	}
	if len(missing) == 0 {
		return nil
	}
	return fmt.Errorf("missing %s: install with `apt-get install %s` (or run `make deps`)",
		strings.Join(missing, ", "), strings.Join(pkgs, " "))
}

func (c *Config) fill(direct bool) error {
	if len(c.Args) == 0 {
		return errors.New("no command given")
	}
	if c.Dir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		c.Dir = wd
	}
	dir, err := filepath.Abs(c.Dir)
	if err != nil {
		return err
	}
	c.Dir = dir
	if c.Shares == nil {
		wd, err := os.Getwd()
		if err != nil {
			return err
		}
		c.Shares = []string{wd}
	}
	inShare := false
	for i, s := range c.Shares {
		abs, err := filepath.Abs(s)
		if err != nil {
			return err
		}
		if fi, err := os.Stat(abs); err != nil || !fi.IsDir() {
			return fmt.Errorf("share %s: not a directory", s)
		}
		c.Shares[i] = abs
		if rel, err := filepath.Rel(abs, c.Dir); err == nil && !strings.HasPrefix(rel, "..") {
			inShare = true
		}
	}
	if !inShare {
		c.Shares = append(c.Shares, c.Dir)
	}
	if c.Modules == nil {
		c.Modules = DefaultModules
	}
	if c.Tmpfs == nil {
		c.Tmpfs = DefaultTmpfs
		if direct {
			c.Tmpfs = DirectTmpfs
		}
	}
	if c.Memory <= 0 {
		c.Memory = DefaultMemory
	}
	if c.CPUs <= 0 {
		c.CPUs = DefaultCPUs
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Qemu == "" {
		c.Qemu = "qemu-system-x86_64"
	}
	if c.Stdout == nil {
		c.Stdout = os.Stdout
	}
	if c.Log == nil {
		c.Log = io.Discard
	}
	if c.KernelCache == "" {
		if d, err := os.UserCacheDir(); err == nil {
			c.KernelCache = filepath.Join(d, "pppoed-vmrun")
		} else {
			c.KernelCache = filepath.Join(os.TempDir(), "pppoed-vmrun-cache")
		}
	}
	if c.Init == "" {
		exe, err := os.Executable()
		if err != nil {
			return fmt.Errorf("finding the init binary: %w", err)
		}
		c.Init = exe
	}
	return nil
}

// guestEnv is the command's environment: a clean base, the host's PATH and
// the variables tests are steered by, then the caller's additions.
func guestEnv(lab string, extra []string) []string {
	path := os.Getenv("PATH")
	if path == "" {
		path = guestPATH
	} else if !strings.Contains(path, "/sbin") {
		path += ":" + guestPATH
	}
	env := []string{"PATH=" + path, "HOME=/root", "TERM=dumb", "LANG=C.UTF-8", LabEnv + "=" + lab}
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if k == LabEnv || k == directEnv {
			continue
		}
		if strings.HasPrefix(k, "PPPOED_") || k == "GOTRACEBACK" || k == "GODEBUG" || k == "GOMAXPROCS" {
			env = append(env, kv)
		}
	}
	return append(env, extra...)
}

func newNonce() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// checkStatic fails when the init binary needs a dynamic loader, which the
// initramfs does not have.
func checkStatic(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("init binary %s: %w", path, err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("init binary %s is dynamically linked; build it with CGO_ENABLED=0", path)
		}
	}
	return nil
}

// buildInitramfs writes the initramfs: the init binary, the spec and the
// modules needed to mount the host root over virtio 9p.
func buildInitramfs(w io.Writer, k Kernel, initBin string, sp *spec) error {
	ix, err := loadModuleIndex(k.ModDir)
	if err != nil {
		return fmt.Errorf("kernel %s: %w", k.Release, err)
	}
	mods, err := ix.resolve(bootModules...)
	if err != nil {
		return err
	}
	init, err := os.ReadFile(initBin)
	if err != nil {
		return err
	}
	cw := newCPIOWriter(w)
	for _, d := range []string{"dev", "proc", "sys", "host", "modules"} {
		cw.mkdirAll(d)
	}
	// The kernel opens /dev/console for init's stdio before init runs.
	cw.CharDev("dev/console", 0o600, 5, 1)
	cw.WriteFile("init", 0o755, init)
	for _, m := range mods {
		b, err := os.ReadFile(filepath.Join(k.ModDir, m))
		if err != nil {
			return err
		}
		p := "/modules/" + filepath.Base(m)
		cw.WriteFile(p, 0o644, b)
		sp.InitModules = append(sp.InitModules, p)
	}
	js, err := json.Marshal(sp)
	if err != nil {
		return err
	}
	cw.WriteFile(specPath, 0o644, js)
	return cw.Close()
}

// qemuArgs is the qemu command line for one run.
func qemuArgs(c *Config, kernel, initrd string, shares []share) []string {
	accel, cpu := "tcg", "max" // "max" gives the guest RDRAND, so its RNG is ready at once
	if c.KVM {
		accel, cpu = "kvm", "host"
	}
	cmdline := "console=ttyS0 panic=-1 rdinit=/init mitigations=off"
	if c.KernelLog {
		cmdline += " loglevel=7"
	} else {
		cmdline += " quiet loglevel=1"
	}
	args := []string{
		"-nodefaults", "-no-user-config", "-no-reboot",
		"-display", "none", "-monitor", "none", "-serial", "stdio",
		"-accel", accel, "-cpu", cpu,
		"-smp", strconv.Itoa(c.CPUs), "-m", strconv.Itoa(c.Memory),
		"-kernel", kernel, "-initrd", initrd, "-append", cmdline,
		"-fsdev", "local,id=fs0,path=/,security_model=none,readonly=on,multidevs=remap",
		"-device", "virtio-9p-pci,fsdev=fs0,mount_tag=" + hostTag,
	}
	for i, s := range shares {
		id := "fs" + strconv.Itoa(i+1)
		// qemu's option syntax escapes a comma in a value by doubling it.
		path := strings.ReplaceAll(s.Path, ",", ",,")
		args = append(args,
			"-fsdev", "local,id="+id+",path="+path+",security_model=none,multidevs=remap",
			"-device", "virtio-9p-pci,fsdev="+id+",mount_tag="+s.Tag)
	}
	return args
}

// Run boots the VM, runs c.Args in it and returns the command's exit status.
// An error means the runner itself failed (or timed out): the status is then
// meaningless.
func Run(ctx context.Context, c Config) (int, error) {
	if err := c.fill(false); err != nil {
		return 0, fmt.Errorf("vm: %w", err)
	}
	if err := Preflight(c.Qemu); err != nil {
		return 0, fmt.Errorf("vm: %w", err)
	}
	if c.Kernel.Image == "" {
		k, err := FindKernel("/boot", "/lib/modules")
		if err != nil {
			return 0, fmt.Errorf("vm: %w", err)
		}
		c.Kernel = k
	}
	if err := checkStatic(c.Init); err != nil {
		return 0, fmt.Errorf("vm: %w", err)
	}
	tmp, err := os.MkdirTemp("", "vmrun-")
	if err != nil {
		return 0, fmt.Errorf("vm: %w", err)
	}
	defer os.RemoveAll(tmp)

	sp := &spec{Nonce: newNonce(), Tmpfs: c.Tmpfs, Modules: c.Modules, Dir: c.Dir, Args: c.Args, Env: guestEnv("vm", c.Env)}
	for i, s := range dedupe(c.Shares) {
		sp.Shares = append(sp.Shares, share{Tag: "share" + strconv.Itoa(i), Path: s})
	}
	initrd := filepath.Join(tmp, "initramfs.cpio")
	f, err := os.Create(initrd)
	if err != nil {
		return 0, fmt.Errorf("vm: %w", err)
	}
	err = buildInitramfs(f, c.Kernel, c.Init, sp)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, fmt.Errorf("vm: building the initramfs: %w", err)
	}

	kernel := c.Kernel.Image
	if !c.NoPVH {
		if k, err := pvhKernel(c.Kernel, c.KernelCache); err == nil {
			kernel = k
		} else {
			fmt.Fprintf(c.Log, "vmrun: booting the compressed kernel (slower under TCG): %v\n", err)
		}
	}
	runCtx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	cmd := exec.CommandContext(runCtx, c.Qemu, qemuArgs(&c, kernel, initrd, sp.Shares)...)
	cmd.WaitDelay = 5 * time.Second
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return 0, fmt.Errorf("vm: %w", err)
	}
	start := time.Now()
	fmt.Fprintf(c.Log, "vmrun: booting %s (%s, %d CPUs, %d MiB)\n", kernel, map[bool]string{false: "TCG", true: "KVM"}[c.KVM], c.CPUs, c.Memory)
	if err := cmd.Start(); err != nil {
		return 0, fmt.Errorf("vm: starting %s: %w", c.Qemu, err)
	}
	res := readConsole(out, sp.Nonce, c.Stdout, c.Log, c.KernelLog, func() {
		fmt.Fprintf(c.Log, "vmrun: command started %.1fs after boot\n", time.Since(start).Seconds())
	})
	waitErr := cmd.Wait()
	switch {
	case res.status >= 0:
		fmt.Fprintf(c.Log, "vmrun: command exited with status %d after %.1fs\n", res.status, time.Since(start).Seconds())
		return res.status, nil
	case res.guestErr != "":
		return 0, fmt.Errorf("vm: guest: %s", res.guestErr)
	case errors.Is(runCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil:
		return 0, fmt.Errorf("vm: %w after %s: the VM was killed (raise it with -timeout)", ErrTimeout, c.Timeout)
	case ctx.Err() != nil:
		return 0, fmt.Errorf("vm: interrupted: %w", ctx.Err())
	}
	msg := "the VM stopped without reporting the command's exit status"
	if !res.ready {
		msg = "the VM stopped before the command started (kernel panic or init failure)"
	}
	detail := strings.TrimSpace(stderr.String())
	if waitErr != nil {
		detail = strings.TrimSpace(waitErr.Error() + "; " + detail)
	}
	if tail := strings.TrimSpace(strings.Join(res.boot, "\n")); tail != "" && !c.KernelLog {
		detail += "\nlast console lines:\n" + tail
	}
	return 0, fmt.Errorf("vm: %s: %s", msg, detail)
}

func dedupe(paths []string) []string {
	var out []string
	for _, p := range paths {
		if !slices.Contains(out, p) {
			out = append(out, p)
		}
	}
	return out
}

// consoleResult is what the guest reported over its console.
type consoleResult struct {
	ready    bool
	status   int // -1 until reported
	guestErr string
	boot     []string // last lines before the command started (for errors)
}

// readConsole forwards the guest console to stdout, minus the kernel's
// messages before the command starts and after it ends (shown on log when
// kernelLog is set, else kept for error messages) and the runner's
// marker lines, which carry a per-run nonce so no command output can forge
// them. The serial line's "\r\n" becomes "\n".
func readConsole(r io.Reader, nonce string, stdout, log io.Writer, kernelLog bool, onReady func()) consoleResult {
	res := consoleResult{status: -1}
	marker := markerWord + nonce + ":"
	br := bufio.NewReaderSize(r, 64*1024)
	for {
		line, err := br.ReadString('\n')
		if line != "" {
			text := strings.TrimRight(line, "\r\n")
			nl := strings.HasSuffix(line, "\n")
			i := strings.Index(text, marker)
			switch {
			case i >= 0:
				before, msg := text[:i], text[i+len(marker):]
				if res.ready && res.status < 0 && before != "" {
					fmt.Fprintln(stdout, before)
				}
				switch {
				case msg == "ready":
					res.ready = true
					onReady()
				case strings.HasPrefix(msg, "status="):
					if n, err := strconv.Atoi(strings.TrimPrefix(msg, "status=")); err == nil {
						res.status = n
					}
				case strings.HasPrefix(msg, "error="):
					res.guestErr = strings.TrimPrefix(msg, "error=")
				}
			case !res.ready || res.status >= 0 || res.guestErr != "":
				// Kernel messages before the command starts and after it ends.
				if kernelLog {
					fmt.Fprintln(log, text)
				} else if !res.ready {
					res.boot = append(res.boot, text)
					if len(res.boot) > 40 {
						res.boot = res.boot[1:]
					}
				}
			default:
				if nl {
					fmt.Fprintln(stdout, text)
				} else {
					fmt.Fprint(stdout, text)
				}
			}
		}
		if err != nil {
			return res
		}
	}
}
