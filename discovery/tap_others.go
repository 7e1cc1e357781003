//go:build !linux

package discovery

import (
	"errors"
	"net"
)

// SessionTap is Linux's only (see tap.go).
type SessionTap struct{}

// ListenSessionTap fails off Linux.
func ListenSessionTap(ifi *net.Interface) (*SessionTap, error) {
	return nil, errors.New("discovery: a session tap needs Linux")
}

// Take returns nothing.
func (t *SessionTap) Take(s *Session) []byte { return nil }

// Close does nothing.
func (t *SessionTap) Close() error { return nil }
