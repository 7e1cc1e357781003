package lab

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Process is a long-running program started in a namespace, its stdout and
// stderr going to a log file. It is stopped when the scope ends.
type Process struct {
	Name    string
	LogPath string
	cmd     *exec.Cmd
	done    chan struct{}
	err     error
}

// Start runs args in n in the background.
func (n *Netns) Start(s Scope, name string, args ...string) (*Process, error) {
	s.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", n.Name}, args...)...)
	p, err := startProcess(s, name, cmd, (*exec.Cmd).Start)
	if err != nil {
		return nil, fmt.Errorf("lab: starting %s in %s: %w", name, n.Name, err)
	}
	return p, nil
}

// startProcess starts cmd through start, its output going to a log file
// in the scope's directory, and stops it when the scope ends.
func startProcess(s Scope, name string, cmd *exec.Cmd, start func(*exec.Cmd) error) (*Process, error) {
	logPath := filepath.Join(s.TempDir(), uniqueName(name)+".log")
	f, err := os.Create(logPath)
	if err != nil {
		return nil, fmt.Errorf("lab: %w", err)
	}
	defer f.Close()
	cmd.Stdout, cmd.Stderr = f, f
	if err := start(cmd); err != nil {
		return nil, err
	}
	p := &Process{Name: name, LogPath: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	s.Cleanup(func() { _ = p.Stop(2 * time.Second) })
	return p, nil
}

// Pid is the program's process id (ip netns exec execs it in place).
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Done is closed when the process has ended.
func (p *Process) Done() <-chan struct{} { return p.done }

// ExitCode is the exit status once the process has ended (-1 if killed by
// a signal or still running).
func (p *Process) ExitCode() int {
	if !p.Exited() {
		return -1
	}
	return p.cmd.ProcessState.ExitCode()
}

// Wait waits for the process to end or ctx to expire.
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("lab: waiting for %s: %w", p.Name, ctx.Err())
	}
}

// Signal sends sig to the process.
func (p *Process) Signal(sig syscall.Signal) error {
	if p.Exited() {
		return nil
	}
	return p.cmd.Process.Signal(sig)
}

// Stop sends SIGTERM and waits up to grace before SIGKILL.
func (p *Process) Stop(grace time.Duration) error {
	if p.Exited() {
		return nil
	}
	_ = p.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
		return nil
	case <-time.After(grace):
	}
	return p.Kill()
}

// Kill sends SIGKILL (kill -9) and waits for the process to end.
func (p *Process) Kill() error {
	if p.Exited() {
		return nil
	}
	if err := p.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-p.done
	return nil
}

// Log returns what the process has written so far.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.LogPath)
	return string(b)
}

// WaitLog waits until the log contains substr, failing early if the process
// ends first.
func (p *Process) WaitLog(ctx context.Context, substr string) error {
	return waitFile(ctx, p.LogPath, substr, p)
}

// waitFile polls path for substr; when proc ends first it fails with the
// file's tail.
func waitFile(ctx context.Context, path, substr string, proc *Process) error {
	err := Poll(ctx, 20*time.Millisecond, func() (bool, error) {
		b, _ := os.ReadFile(path)
		if strings.Contains(string(b), substr) {
			return true, nil
		}
		if proc != nil && proc.Exited() {
			return false, fmt.Errorf("%s exited (%v) before logging %q", proc.Name, proc.err, substr)
		}
		return false, nil
	})
	if err != nil {
		b, _ := os.ReadFile(path)
		return fmt.Errorf("lab: %w; %s ends with:\n%s", err, filepath.Base(path), tail(string(b), 30))
	}
	return nil
}

// tail returns the last n lines of s.
func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
