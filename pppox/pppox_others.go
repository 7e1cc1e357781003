//go:build !linux

package pppox

import (
	"fmt"
	"time"

	"github.com/pppoed/pppoed/ppp"
)

// The kernel data path exists only on Linux: elsewhere the hooks behind
// pppox.go fail.

var errNotLinux = fmt.Errorf("pppox: %w: PPPoE in the kernel needs Linux", ErrNoKernelSupport)

func openSocket() (int, error)                   { return -1, errNotLinux }
func closeFD(int) error                          { return nil }
func (s *Socket) connect(Config) (*Link, error)  { return nil, errNotLinux }
func frameTooLarge(error) bool                   { return false }
func disconnect(file) error                      { return errNotLinux }
func setMRU(file, int) error                     { return errNotLinux }
func setNPMode(file, ppp.Protocol, NPMode) error { return errNotLinux }
func receiveIdle(file) (time.Duration, error)    { return 0, errNotLinux }
func idle(file) (tx, rx time.Duration, _ error)  { return 0, 0, errNotLinux }
func setLoop(file, bool) error                   { return errNotLinux }
func openUnit(UnitConfig) (*Unit, error)         { return nil, errNotLinux }

func (s *Socket) connectUnit(Config, *Unit) (*Link, error) { return nil, errNotLinux }
