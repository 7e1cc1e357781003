// Command vmrun runs a command as root on a Linux kernel with PPP: Debian's
// stock kernel under qemu, with the host root shared read-only, or, with
// -host-if-ppp on a host whose kernel has PPP, directly on the host in a
// private mount namespace. It exits with the command's exit status, 124 when
// the run timed out and 125 when the runner itself failed.
//
//	go build -o bin/vmrun ./integration/vmrun   # CGO_ENABLED=0: it is also the guest's init
//	bin/vmrun [flags] -- CMD [ARG...]
//
// Build it statically (CGO_ENABLED=0): the binary copies itself into the VM's
// initramfs and runs there as PID 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pppoed/pppoed/integration/vm"
)

const (
	exitTimeout = 124 // as timeout(1)
	exitRunner  = 125 // as docker run / git bisect's "cannot test"
)

type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

func main() {
	if vm.IsGuest() {
		vm.GuestMain()
	}
	if vm.IsDirectChild() {
		status, err := vm.DirectChildMain()
		if err != nil {
			fmt.Fprintf(os.Stderr, "vmrun: %v\n", err)
			os.Exit(exitRunner)
		}
		os.Exit(status)
	}
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	fs := flag.NewFlagSet("vmrun", flag.ContinueOnError)
	var (
		c         vm.Config
		modules   string
		shares    listFlag
		envs      listFlag
		kernel    string
		hostIfPPP bool
	)
	fs.IntVar(&c.Memory, "mem", vm.DefaultMemory, "guest memory in MiB")
	fs.IntVar(&c.CPUs, "cpus", vm.DefaultCPUs, "guest CPUs")
	fs.DurationVar(&c.Timeout, "timeout", vm.DefaultTimeout, "kill the VM and fail after this long")
	fs.BoolVar(&c.KVM, "kvm", false, "use KVM instead of TCG (hangs on some hosts)")
	fs.StringVar(&kernel, "kernel", "", "kernel image (default: the newest /boot/vmlinuz-* with modules)")
	fs.StringVar(&modules, "modules", "", "extra kernel modules to load, comma-separated")
	fs.Var(&shares, "share", "host directory to share read-write at the same path (repeatable; default: the working directory)")
	fs.Var(&envs, "env", "KEY=VALUE for the command's environment (repeatable)")
	fs.StringVar(&c.Dir, "chdir", "", "working directory of the command (default: the current one)")
	var verbose bool
	fs.BoolVar(&verbose, "v", false, "show the runner's progress")
	fs.BoolVar(&c.KernelLog, "kernel-log", false, "show the kernel's messages (implies -v)")
	fs.BoolVar(&hostIfPPP, "host-if-ppp", false, "run directly on the host when we are root and its kernel has PPP")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: vmrun [flags] -- CMD [ARG...]\n\nRuns CMD as root on a kernel with PPP; exits with its status (124: timeout, 125: runner failure).\n\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return exitRunner
	}
	c.Args = fs.Args()
	if len(c.Args) == 0 {
		fmt.Fprintln(os.Stderr, "vmrun: no command given (usage: vmrun [flags] -- CMD [ARG...])")
		return exitRunner
	}
	for _, kv := range envs {
		if !strings.Contains(kv, "=") {
			fmt.Fprintf(os.Stderr, "vmrun: -env %q: want KEY=VALUE\n", kv)
			return exitRunner
		}
	}
	c.Env = envs
	if len(shares) > 0 {
		c.Shares = shares
	}
	c.Modules = append([]string(nil), vm.DefaultModules...)
	for _, m := range strings.Split(modules, ",") {
		if m = strings.TrimSpace(m); m != "" {
			c.Modules = append(c.Modules, m)
		}
	}
	if kernel != "" {
		k, err := vm.KernelFromImage(kernel, "/lib/modules")
		if err != nil {
			fmt.Fprintf(os.Stderr, "vmrun: -kernel: %v\n", err)
			return exitRunner
		}
		c.Kernel = k
	}
	verbose = verbose || c.KernelLog
	if verbose {
		c.Log = os.Stderr
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	runner := vm.Run
	if hostIfPPP {
		if err := vm.ProbeHostPPP(); err == nil {
			runner = vm.RunDirect
		} else if verbose {
			fmt.Fprintf(os.Stderr, "vmrun: using the VM: %v\n", err)
		}
	}
	start := time.Now()
	status, err := runner(ctx, c)
	if err != nil {
		fmt.Fprintf(os.Stderr, "vmrun: %v\n", strings.TrimPrefix(err.Error(), "vm: "))
		if errors.Is(err, vm.ErrTimeout) {
			return exitTimeout
		}
		return exitRunner
	}
	if verbose {
		fmt.Fprintf(os.Stderr, "vmrun: done in %.1fs, status %d\n", time.Since(start).Seconds(), status)
	}
	return status
}
