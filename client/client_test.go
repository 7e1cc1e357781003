package client

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/pppoed/pppoed/netcfg"
	"github.com/pppoed/pppoed/ppp"
	"github.com/pppoed/pppoed/pppox"
)

// The exit statuses scripts written for pppd expect.
func TestExitCodes(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{nil, 0},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonLocalClose}), 0},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonNegotiationFailed}), 10},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonPeerAuthFailed}), 11},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonPeerDead}), 15},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonLinkLost}), 16},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonPeerTerminated}), 16},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonLoopback}), 17},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonAuthFailed}), 19},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonNoNetworkProtocols}), 10},
		{exitFor(&ppp.DownError{Reason: ppp.ReasonUnknown}), 1},
		{exitFor(errors.New("something else")), 1},
		{kernelExit(fmt.Errorf("x: %w", pppox.ErrNoKernelSupport)), 4},
		{kernelExit(fmt.Errorf("x: %w", pppox.ErrPermission)), 3},
		{kernelExit(errors.New("other")), 1},
		{errors.New("plain"), 1},
		{fmt.Errorf("wrapped: %w", &ExitError{Code: 8, Err: errors.New("no AC")}), 8},
	}
	for _, tt := range tests {
		if got := ExitCode(tt.err); got != tt.want {
			t.Errorf("ExitCode(%v) = %d, want %d", tt.err, got, tt.want)
		}
	}
	// The session's reason survives for the user to read.
	err := exitFor(&ppp.DownError{Reason: ppp.ReasonAuthFailed, Detail: "E=691 R=0 V=3 M=Access denied"})
	if !strings.Contains(err.Error(), "authentication failed: E=691") {
		t.Errorf("error text %q", err)
	}
}

func TestConfigValidation(t *testing.T) {
	base := func() Config { return Config{Interface: "eth0", User: "u"} }
	tests := []struct {
		name   string
		modify func(*Config)
		want   string // "" for valid
	}{
		{"defaults", func(*Config) {}, ""},
		{"no interface", func(c *Config) { c.Interface = "" }, "no interface"},
		{"long interface", func(c *Config) { c.Interface = "interface-name-too-long" }, "longer than 15"},
		{"no user", func(c *Config) { c.User = "" }, "no user name"},
		{"MTU too big", func(c *Config) { c.MTU = 1501 }, "--mtu 1501"},
		{"MRU too small", func(c *Config) { c.MRU = 100 }, "--mru 100"},
		{"nothing to run", func(c *Config) { c.NoIPv4, c.NoIPv6 = true, true }, "nothing to connect"},
		{"route without IPv4", func(c *Config) { c.NoIPv4, c.DefaultRoute = true, netcfg.RouteAdd }, "needs IPv4"},
	}
	for _, tt := range tests {
		c := base()
		tt.modify(&c)
		err := c.fill()
		if tt.want == "" {
			if err != nil {
				t.Errorf("%s: %v", tt.name, err)
				continue
			}
			if c.MTU != 1492 || c.MRU != 1492 || c.ResolvConf != DefaultResolvConf || c.KeepaliveInterval != DefaultKeepaliveInterval || c.KeepaliveFailures != 4 {
				t.Errorf("defaults: %+v", c)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
	c := base()
	c.KeepaliveInterval = -1
	c.fill()
	if c.KeepaliveInterval != 0 {
		t.Errorf("a negative keepalive interval should disable keepalives, got %v", c.KeepaliveInterval)
	}
}
