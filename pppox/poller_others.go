//go:build !linux

package pppox

func newEpoller() (epoller, error) { return nil, errNotLinux }

// withFd has no descriptor to give: the Poller registers nothing here
// (it cannot be made, newEpoller fails), but it must build.
func withFd(file, func(int) error) error { return errNotLinux }
