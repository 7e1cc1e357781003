package pppox

import (
	"errors"
	"fmt"
	"sync"

	"golang.org/x/sys/unix"
)

// epollPoller is the Poller's readiness source on Linux: a level-triggered
// epoll set, and an eventfd that close writes to end wait.
type epollPoller struct {
	epfd, wakefd int
	events       []unix.EpollEvent

	mu       sync.Mutex
	closed   bool // close was called: wait returns
	released bool // the descriptors are closed
}

// wakeToken marks the eventfd's readiness; the Poller never hands out 0.
const wakeToken = 0

func newEpoller() (epoller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("pppox: epoll_create1: %w", err)
	}
	wakefd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("pppox: eventfd: %w", err)
	}
	e := &epollPoller{epfd: epfd, wakefd: wakefd, events: make([]unix.EpollEvent, 128)}
	if err := e.add(wakefd, wakeToken); err != nil {
		unix.Close(epfd)
		unix.Close(wakefd)
		return nil, err
	}
	return e, nil
}

func (e *epollPoller) add(fd int, token uint32) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.released {
		return errPollerClosed
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(token)}
	if err := unix.EpollCtl(e.epfd, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
		return fmt.Errorf("epoll_ctl add %d: %w", fd, err)
	}
	return nil
}

func (e *epollPoller) del(fd int) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.released {
		return nil // the set is gone, and fd with it
	}
	if err := unix.EpollCtl(e.epfd, unix.EPOLL_CTL_DEL, fd, nil); err != nil {
		return fmt.Errorf("epoll_ctl del %d: %w", fd, err)
	}
	return nil
}

func (e *epollPoller) wait(tokens []uint32) ([]uint32, error) {
	for {
		n, err := unix.EpollWait(e.epfd, e.events, -1) // epfd outlives this: released below only
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return tokens, fmt.Errorf("pppox: epoll_wait: %w", err)
		}
		for _, ev := range e.events[:n] {
			t := uint32(ev.Fd)
			if t == wakeToken {
				e.mu.Lock()
				closed := e.closed
				if closed {
					// Only wait's goroutine uses the set's number
					// outside mu: it is released here.
					e.released = true
					unix.Close(e.epfd)
					unix.Close(e.wakefd)
				}
				e.mu.Unlock()
				if closed {
					return tokens, errPollerClosed
				}
				continue
			}
			tokens = append(tokens, t)
		}
		if len(tokens) > 0 {
			return tokens, nil
		}
	}
}

func (e *epollPoller) read(fd int, b []byte) (int, error) {
	for {
		n, err := unix.Read(fd, b)
		switch {
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN):
			return 0, errWouldBlock
		case err != nil:
			return 0, err
		}
		return n, nil
	}
}

// close wakes wait for good; the descriptors go once it has returned
// (the Poller's goroutine is done with them when Close returns).
func (e *epollPoller) close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.closed = true
	var one = [8]byte{1}
	if _, err := unix.Write(e.wakefd, one[:]); err != nil && !errors.Is(err, unix.EAGAIN) {
		return fmt.Errorf("pppox: eventfd: %w", err)
	}
	return nil
}
