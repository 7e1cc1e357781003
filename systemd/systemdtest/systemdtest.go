// Package systemdtest stands in for the service manager's end of
// sd_notify(3) in tests: a datagram socket of the test's own.
package systemdtest

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"testing"
)

// Listen opens a notify socket for t and returns its path, for
// NOTIFY_SOCKET (t.Setenv, or a child's environment), and the datagrams
// it receives, each a string such as "READY=1\nSTATUS=connected". The
// socket and its goroutine go at t's cleanup; the channel is then closed.
// Datagrams nobody reads are kept up to the channel's buffer (64), then
// the reader waits, and the kernel's buffer takes the rest.
func Listen(t testing.TB) (path string, msgs <-chan string) {
	t.Helper()
	// t.TempDir's paths can pass sun_path's 108 bytes with a long test
	// name; a directory of its own under $TMPDIR stays short.
	dir, err := os.MkdirTemp("", "sdnotify")
	if err != nil {
		t.Fatal(err)
	}
	path = filepath.Join(dir, "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		os.RemoveAll(dir)
		t.Fatal(err)
	}
	ch := make(chan string, 64)
	done, ended := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(ended)
		defer close(ch)
		buf := make([]byte, 4096) // systemd takes at most PIPE_BUF (4096) bytes
		for {
			n, err := conn.Read(buf)
			if err != nil {
				if !errors.Is(err, net.ErrClosed) {
					t.Errorf("systemdtest: %v", err)
				}
				return
			}
			select {
			case ch <- string(buf[:n]):
			case <-done:
				return
			}
		}
	}()
	t.Cleanup(func() {
		close(done)
		conn.Close()
		<-ended
		os.RemoveAll(dir)
	})
	return path, ch
}
