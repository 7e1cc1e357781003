//go:build !linux

package server

import "log/slog"

func raiseFileLimit(*slog.Logger) {}
