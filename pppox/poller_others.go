//go:build !linux

package pppox

func newEpoller() (epoller, error) { return nil, errNotLinux }
