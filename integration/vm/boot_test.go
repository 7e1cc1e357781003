package vm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// These tests boot real VMs (about 7 s each under TCG). They need qemu and a
// Debian kernel, are skipped with -short, and fail instead of skipping when
// PPPOED_REQUIRE_INTEGRATION=1 (as `make test` sets it).

const helperEnv = "VMRUN_TEST_HELPER"

func TestMain(m *testing.M) {
	if os.Getenv(helperEnv) != "" {
		os.Exit(guestHelper())
	}
	os.Exit(m.Run())
}

// guestHelper runs inside the VM (this test binary, copied to a share) and
// checks what the guest promises; it exits 7 when everything holds, so the
// host also sees the exit status come through.
func guestHelper() int {
	fmt.Println("hello from the guest")
	fmt.Fprintln(os.Stderr, "and from its stderr")
	failed := false
	check := func(what string, err error) {
		if err != nil {
			fmt.Printf("helper FAIL %s: %v\n", what, err)
			failed = true
			return
		}
		fmt.Printf("helper ok %s\n", what)
	}
	check("PPP kernel (root, /dev/ppp, AF_PPPOX)", ProbeHostPPP())
	check("lab environment", expectEq(os.Getenv(LabEnv), "vm"))
	host, _ := os.Hostname()
	check("hostname", expectEq(host, "pppoed-vm"))
	check("writable /etc/ppp", os.WriteFile("/etc/ppp/probe", []byte("x"), 0o600))
	check("write to the shared directory", os.WriteFile("from-guest", []byte("written in the VM\n"), 0o644))
	// The host's /etc/ppp stays readable, read-only, under HostCopies;
	// the probe just written went to the fresh tmpfs, not there.
	hostEtc := filepath.Join(HostCopies, "etc/ppp")
	check("host's /etc/ppp kept at "+hostEtc, expectEq(dirNames(hostEtc), os.Getenv("VMRUN_TEST_HOST_ETC_PPP")))
	check("host's /etc/ppp kept read-only", expectErr(os.WriteFile(filepath.Join(hostEtc, "probe"), []byte("x"), 0o600), unix.EROFS))

	// An orphan is reaped by init rather than left a zombie.
	out, err := exec.Command("sh", "-c", "sleep 0.2 & echo $!").Output()
	check("spawn an orphan", err)
	if pid, err := strconv.Atoi(strings.TrimSpace(string(out))); err == nil {
		time.Sleep(1500 * time.Millisecond)
		_, err := os.Stat("/proc/" + strconv.Itoa(pid))
		if err == nil {
			err = errors.New("orphan still in /proc (zombie not reaped)")
		} else {
			err = nil
		}
		check("orphans reaped", err)
	}

	// Direct mode on a host with PPP: a private /etc/ppp.
	vmrun := os.Getenv("VMRUN_TEST_BIN")
	out, err = exec.Command(vmrun, "-host-if-ppp", "--", "sh", "-c", "echo direct:$PPPOED_LAB; touch /etc/ppp/direct-marker; ls /etc/ppp").CombinedOutput()
	check("direct run", err)
	check("direct run environment", expectContains(string(out), "direct:direct"))
	check("direct run has an empty private /etc/ppp", expectNot(strings.Contains(string(out), "probe")))
	_, err = os.Stat("/etc/ppp/direct-marker")
	check("direct run's /etc/ppp stays private", expectNot(err == nil))
	// Its /run goes first, so the /etc/ppp it hides (the guest's, with
	// the probe) is kept under HostCopies, read-only.
	out, err = exec.Command(vmrun, "-host-if-ppp", "--", "sh", "-c",
		"ls -A "+hostEtc+"; touch "+hostEtc+"/w 2>/dev/null || echo read-only").CombinedOutput()
	check("direct run", err)
	check("direct run keeps the /etc/ppp it hides", expectEq(string(out), "probe\nread-only\n"))
	// Its own PID namespace: a daemon that escapes with setsid is still
	// killed when the command ends.
	out, err = exec.Command(vmrun, "-host-if-ppp", "--", "sh", "-c", "setsid sleep 600 >/dev/null 2>&1 & echo init:$(cat /proc/1/comm); exit 3").CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		check("direct run's exit status", fmt.Errorf("got %v, want status 3", err))
	}
	// PID 1 is the runner only in a PID namespace of its own (with its /proc).
	check("direct run in its own PID namespace", expectContains(string(out), "init:vmrun\n"))
	check("direct run leaves no process behind", expectNot(len(pidsWithCmdline("sleep\x00600\x00")) > 0))
	if failed {
		return 1
	}
	return 7
}

// dirNames lists a directory's entries, sorted, joined by "/" (which no
// name holds); "" when it cannot be read.
func dirNames(dir string) string {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	names := make([]string, 0, len(ents))
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return strings.Join(names, "/")
}

func expectErr(err, want error) error {
	if !errors.Is(err, want) {
		return fmt.Errorf("got %v, want %v", err, want)
	}
	return nil
}

func pidsWithCmdline(cmdline string) []string {
	ents, _ := os.ReadDir("/proc")
	var out []string
	for _, e := range ents {
		if b, err := os.ReadFile("/proc/" + e.Name() + "/cmdline"); err == nil && string(b) == cmdline {
			out = append(out, e.Name())
		}
	}
	return out
}

func expectEq(got, want string) error {
	if got != want {
		return fmt.Errorf("got %q, want %q", got, want)
	}
	return nil
}

func expectContains(s, sub string) error {
	if !strings.Contains(s, sub) {
		return fmt.Errorf("%q lacks %q", s, sub)
	}
	return nil
}

func expectNot(bad bool) error {
	if bad {
		return errors.New("unexpected")
	}
	return nil
}

// needVM skips (or, when integration is required, fails) when the host
// cannot boot the lab VM.
func needVM(t *testing.T) {
	t.Helper()
	if testing.Short() {
		t.Skip("boots a VM; skipped with -short")
	}
	if err := Preflight(""); err != nil {
		if os.Getenv("PPPOED_REQUIRE_INTEGRATION") == "1" {
			t.Fatalf("cannot boot the lab VM: %v", err)
		}
		t.Skipf("cannot boot the lab VM: %v", err)
	}
}

// buildRunner builds vmrun statically into dir: it is the guest's init.
func buildRunner(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "vmrun")
	cmd := exec.Command("go", "build", "-o", bin, "../vmrun")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building vmrun: %v\n%s", err, out)
	}
	return bin
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	in, err := os.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o755)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestBootRunsCommand(t *testing.T) {
	needVM(t)
	t.Parallel()
	// t.TempDir is under /tmp, which the guest hides behind a tmpfs: this
	// also shows that shares are mounted over it.
	dir := t.TempDir()
	runner := buildRunner(t, dir)
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	helper := filepath.Join(dir, "vm.test")
	copyFile(t, self, helper)

	var out bytes.Buffer
	start := time.Now()
	status, err := Run(context.Background(), Config{
		Args:    []string{helper},
		Dir:     dir,
		Env:     []string{helperEnv + "=1", "VMRUN_TEST_BIN=" + runner, "VMRUN_TEST_HOST_ETC_PPP=" + dirNames("/etc/ppp")},
		Init:    runner,
		Stdout:  &out,
		Timeout: 3 * time.Minute,
	})
	t.Logf("guest output (%.1fs):\n%s", time.Since(start).Seconds(), out.String())
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if status != 7 {
		t.Errorf("status = %d, want the helper's 7", status)
	}
	for _, want := range []string{"hello from the guest\n", "and from its stderr\n"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	}
	if strings.Contains(out.String(), "helper FAIL") || strings.Contains(out.String(), "\r") {
		t.Errorf("guest checks failed or CR left in output")
	}
	if strings.Contains(out.String(), "vmrun:") {
		t.Errorf("marker lines leaked into the output")
	}
	b, err := os.ReadFile(filepath.Join(dir, "from-guest"))
	if err != nil || string(b) != "written in the VM\n" {
		t.Errorf("file written in the guest: %q, %v", b, err)
	}
}

func TestBootTimeout(t *testing.T) {
	needVM(t)
	t.Parallel()
	dir := t.TempDir()
	runner := buildRunner(t, dir)
	start := time.Now()
	_, err := Run(context.Background(), Config{Args: []string{"sleep", "600"}, Dir: dir, Init: runner, Stdout: io.Discard, Timeout: 10 * time.Second})
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Run = %v, want ErrTimeout", err)
	}
	if !strings.Contains(err.Error(), "killed") {
		t.Errorf("error %q does not say the VM was killed", err)
	}
	if d := time.Since(start); d > 2*time.Minute {
		t.Errorf("timed-out run took %s", d)
	}
}

func TestBootReportsGuestFailure(t *testing.T) {
	needVM(t)
	t.Parallel()
	dir := t.TempDir()
	runner := buildRunner(t, dir)
	_, err := Run(context.Background(), Config{Args: []string{"true"}, Dir: dir, Init: runner, Stdout: io.Discard,
		Modules: []string{"no_such_module_xyz"}, Timeout: 3 * time.Minute})
	if err == nil || !strings.Contains(err.Error(), "modprobe no_such_module_xyz") {
		t.Fatalf("Run = %v, want a guest error naming the failed modprobe", err)
	}
}

func TestRunRejectsDynamicInit(t *testing.T) {
	needVM(t)
	_, err := Run(context.Background(), Config{Args: []string{"true"}, Init: "/bin/sh", Stdout: io.Discard})
	if err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Fatalf("Run with a dynamic init = %v", err)
	}
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		ws   unix.WaitStatus
		want int
	}{
		{0, 0},
		{3 << 8, 3},      // exited with 3
		{9, 137},         // killed by SIGKILL
		{15 | 0x80, 143}, // SIGTERM with core flag
	}
	for _, tt := range tests {
		if got := exitStatus(tt.ws); got != tt.want {
			t.Errorf("exitStatus(%#x) = %d, want %d", uint32(tt.ws), got, tt.want)
		}
	}
}
