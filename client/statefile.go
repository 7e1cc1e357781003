package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"

	"github.com/pppoed/pppoed/discovery"
)

// sessionRecord is the state file: the PPPoE session pppoed has, or had
// when it last stopped without a PADT (a crash, SIGKILL, power loss). At
// the next start it is cleared at the AC with a PADT before the first
// PADI: an ISP's AC may otherwise hold it for up to its session timeout
// and refuse a new one ("sessions limit exceeded"), and some go quiet
// after failed PADIs until they see a PADT.
type sessionRecord struct {
	Interface string    `json:"interface"`
	SessionID uint16    `json:"session_id"`
	ACMAC     string    `json:"ac_mac"`
	Since     time.Time `json:"since"`
}

// stateFile is NAME.state in the state directory; the zero value (no
// directory) records nothing.
type stateFile struct {
	path string
}

// openStateFile checks at start that dir is usable, so that a bad
// --state-dir is a clear error before anything is configured, not a
// warning after the first session.
func openStateFile(dir, name string) (stateFile, error) {
	if dir == "" || dir == "-" {
		return stateFile{}, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return stateFile{}, fmt.Errorf("state directory %s: %w", dir, unwrapPath(err))
	}
	f, err := os.CreateTemp(dir, ".probe-*")
	if err != nil {
		return stateFile{}, fmt.Errorf("state directory %s is not writable: %w (--state-dir)", dir, unwrapPath(err))
	}
	f.Close()
	os.Remove(f.Name())
	return stateFile{path: filepath.Join(dir, name+".state")}, nil
}

func unwrapPath(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// read returns the recorded session, if any. A file that cannot be read
// or parsed is reported and ignored: it only ever saves a stale session.
func (f stateFile) read() (*sessionRecord, error) {
	if f.path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(f.path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state file %s: %w", f.path, unwrapPath(err))
	}
	var r sessionRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("state file %s: %w", f.path, err)
	}
	if mac, err := net.ParseMAC(r.ACMAC); err != nil || len(mac) != 6 || r.SessionID == 0 || r.SessionID == 0xffff {
		return nil, fmt.Errorf("state file %s: no valid session in it", f.path)
	}
	return &r, nil
}

// write records s atomically: a new file renamed over the old one and
// synced, so that a crash leaves the old record or the new, never half
// of one.
func (f stateFile) write(r sessionRecord) error {
	if f.path == "" {
		return nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	dir := filepath.Dir(f.path)
	tmp, err := os.CreateTemp(dir, filepath.Base(f.path)+".*")
	if err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	defer os.Remove(tmp.Name()) // a no-op once renamed
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("state file: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("state file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	if err := os.Rename(tmp.Name(), f.path); err != nil {
		return fmt.Errorf("state file: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // the rename itself survives a power loss
		d.Close()
	}
	return nil
}

// clear removes the record: the session ended with a PADT, ours or the
// AC's.
func (f stateFile) clear() error {
	if f.path == "" {
		return nil
	}
	if err := os.Remove(f.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("state file: %w", err)
	}
	return nil
}

// session is the discovery session the record names, for its PADT.
func (r *sessionRecord) session() *discovery.Session {
	mac, _ := net.ParseMAC(r.ACMAC)
	return &discovery.Session{ID: r.SessionID, AC: mac}
}
