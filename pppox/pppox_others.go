//go:build !linux

package pppox

import (
	"errors"
	"log/slog"
	"net"
	"time"

	"github.com/pppoed/pppoed/ppp"
)

// The kernel data path exists only on Linux; elsewhere every call fails.

const (
	NPModePass  = 0
	NPModeDrop  = 1
	NPModeError = 2
)

var (
	ErrNoKernelSupport = errors.New("pppox: PPPoE in the kernel needs Linux")
	ErrPermission      = errors.New("pppox: permission denied")
)

type Socket struct{}

func OpenSocket() (*Socket, error) { return nil, ErrNoKernelSupport }
func (s *Socket) Close() error     { return nil }

type Config struct {
	Interface string
	SessionID uint16
	AC        net.HardwareAddr
	Ifname    string
	MRU       int
	Logger    *slog.Logger
}

type Session struct {
	Ifname  string
	Unit    int
	Channel int
}

func (s *Socket) Connect(Config) (*Session, error)           { return nil, ErrNoKernelSupport }
func (ps *Session) ReadFrame() (ppp.Protocol, []byte, error) { return 0, nil, ErrNoKernelSupport }
func (ps *Session) WriteFrame(ppp.Protocol, []byte) error    { return ErrNoKernelSupport }
func (ps *Session) HangUp(error)                             {}
func (ps *Session) Close() error                             { return nil }
func (ps *Session) SetMRU(int) error                         { return ErrNoKernelSupport }
func (ps *Session) SetNPMode(ppp.Protocol, int) error        { return ErrNoKernelSupport }
func (ps *Session) ReceiveIdle() time.Duration               { return 0 }
