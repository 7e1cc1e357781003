package server

import (
	"context"
	"errors"
)

// Server is a running access concentrator. Its methods are safe for
// concurrent use.
type Server struct {
	cfg Config
}

// ErrNoSession is what Kick returns when no session matches.
var ErrNoSession = errors.New("server: no such session")

// New checks cfg and prepares a server; Run starts it.
func New(cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Server{cfg: cfg}, nil
}

// Run serves until ctx ends, then ends every session (LCP
// Terminate-Request, PADT) and removes every pppN before returning.
func (s *Server) Run(ctx context.Context) error {
	return errors.New("server: not implemented yet")
}

// Status returns the sessions and counters, the kernel's traffic
// counters of each pppN included.
func (s *Server) Status() Status { return Status{ACName: s.cfg.ACName} }

// Kick ends the sessions of user (when not "") or the session with id
// sessionID (when not 0), with an LCP Terminate-Request and a PADT, and
// returns how many it ended (ErrNoSession for none).
func (s *Server) Kick(user string, sessionID uint16) (int, error) {
	return 0, ErrNoSession
}

// Reload re-reads users and secrets through Config.Reload (SIGHUP); the
// sessions that are up are not touched.
func (s *Server) Reload() error { return errors.New("server: not implemented yet") }

// Run is New and Server.Run; ctx's end stops the server.
func Run(ctx context.Context, cfg Config) error {
	s, err := New(cfg)
	if err != nil {
		return err
	}
	return s.Run(ctx)
}
