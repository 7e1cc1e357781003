package systemd

import (
	"context"
	"os"
	"strconv"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pppoed/pppoed/systemd/systemdtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// next returns the next datagram. The timeout only keeps a broken test
// from hanging: the datagrams were sent before next is called.
func next(t *testing.T, msgs <-chan string) string {
	t.Helper()
	select {
	case m, ok := <-msgs:
		if !ok {
			t.Fatal("notify socket closed")
		}
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no notify datagram")
	}
	return ""
}

func TestNotifierUnset(t *testing.T) {
	t.Setenv("NOTIFY_SOCKET", "")
	n := New()
	if n != nil {
		t.Fatalf("New without NOTIFY_SOCKET: %+v, want nil", n)
	}
	// A nil Notifier does nothing, without error.
	if err := n.Notify(Ready, Status("connected")); err != nil {
		t.Errorf("Notify on nil: %v", err)
	}
	if d, err := n.WatchdogInterval(); d != 0 || err != nil {
		t.Errorf("WatchdogInterval on nil: %v %v", d, err)
	}
	n.Watchdog(t.Context()) // returns at once
}

// The states arrive in order, each call one datagram, its states one a line.
func TestNotify(t *testing.T) {
	path, msgs := systemdtest.Listen(t)
	t.Setenv("NOTIFY_SOCKET", path)
	n := New()
	if n == nil {
		t.Fatal("New with NOTIFY_SOCKET set: nil")
	}
	calls := []struct {
		states []string
		want   string
	}{
		{[]string{Status("dialing")}, "STATUS=dialing"},
		{[]string{Ready, Status("connected 10.64.0.2 via AC demo-ac")}, "READY=1\nSTATUS=connected 10.64.0.2 via AC demo-ac"},
		// A newline would start an assignment of the sender's choosing.
		{[]string{Status("down: peer dead\nREADY=1")}, "STATUS=down: peer dead READY=1"},
		{nil, ""}, // nothing sent
		{[]string{Stopping}, "STOPPING=1"},
	}
	for _, c := range calls {
		if err := n.Notify(c.states...); err != nil {
			t.Fatalf("Notify(%q): %v", c.states, err)
		}
	}
	for _, c := range calls {
		if c.want == "" {
			continue
		}
		if got := next(t, msgs); got != c.want {
			t.Errorf("got %q, want %q", got, c.want)
		}
	}
}

func TestNotifyError(t *testing.T) {
	path := t.TempDir() + "/nobody"
	t.Setenv("NOTIFY_SOCKET", path)
	err := New().Notify(Ready)
	if err == nil || !strings.HasPrefix(err.Error(), "systemd: notify "+path+": ") {
		t.Errorf("Notify to a missing socket: %v", err)
	}
}

// With WATCHDOG_USEC (and WATCHDOG_PID ours), a ping every half interval
// until ctx ends; without, or for another pid, none.
func TestWatchdog(t *testing.T) {
	tests := []struct {
		name      string
		usec, pid string
		pings     int
		wantErr   bool
	}{
		{"ours", "2000000", strconv.Itoa(os.Getpid()), 4, false},
		{"no pid given", "2000000", "", 4, false},
		{"another process's", "2000000", strconv.Itoa(os.Getpid() + 1), 0, false},
		{"off", "", "", 0, false},
		{"bad usec", "soon", "", 0, true},
		{"zero usec", "0", "", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path, msgs := systemdtest.Listen(t)
			t.Setenv("NOTIFY_SOCKET", path)
			t.Setenv("WATCHDOG_USEC", tt.usec)
			t.Setenv("WATCHDOG_PID", tt.pid)
			n := New()
			if _, err := n.WatchdogInterval(); (err != nil) != tt.wantErr {
				t.Errorf("WatchdogInterval error %v, want error %v", err, tt.wantErr)
			}
			synctest.Test(t, func(t *testing.T) {
				ctx, cancel := context.WithCancel(t.Context())
				returned := make(chan struct{})
				go func() {
					n.Watchdog(ctx)
					close(returned)
				}()
				// 4.5 s at 1 s: pings at 1, 2, 3 and 4 s.
				time.Sleep(4500 * time.Millisecond)
				select {
				case <-returned:
					if tt.pings > 0 {
						t.Error("Watchdog returned before ctx ended")
					}
				default:
					if tt.pings == 0 {
						t.Error("Watchdog still runs with the watchdog off")
					}
				}
				cancel()
				<-returned
				time.Sleep(10 * time.Second) // nothing more once ctx ended
			})
			if err := n.Notify("X=end"); err != nil {
				t.Fatal(err)
			}
			for i := range tt.pings {
				if got := next(t, msgs); got != Watchdog {
					t.Fatalf("datagram %d: %q, want %q", i, got, Watchdog)
				}
			}
			if got := next(t, msgs); got != "X=end" {
				t.Errorf("after %d pings: %q, want no more", tt.pings, got)
			}
		})
	}
}
