package secrets

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"syscall"

	"github.com/pppoed/pppoed/internal/pppword"
)

// ResolveSecret returns e's secret: Secret, or for an indirect one
// (SecretFile set) the first word of that file, read as pppd's
// scan_authfile reads it (getword: quotes, escapes and comments as in a
// secrets file; the rest of the file is ignored; an empty quoted word is
// an empty secret). The file must be a regular file of at most 16 MiB;
// like pppd's check_access, a warning goes to log (which may be nil) when
// its group or others may access it.
//
// name is the name of the secrets file e came from, for errors. An error
// names it, e's line and the indirect secret's path, never a word of
// either file. pppd skips an entry whose file it cannot open or that holds
// no word, with a warning, and may then use a less specific entry: here
// it is an error.
func (e Entry) ResolveSecret(name string, log *slog.Logger) (string, error) {
	if e.SecretFile == "" {
		return e.Secret, nil
	}
	fail := func(format string, a ...any) (string, error) {
		return "", fmt.Errorf("secrets: %s:%d: secret file %s: "+format, append([]any{name, e.Line, e.SecretFile}, a...)...)
	}
	data, err := readFile(e.SecretFile, log)
	if err != nil {
		return fail("%w", err)
	}
	w, ok, err := pppword.NewScanner(data).Next()
	if err != nil {
		var we *pppword.Error
		if errors.As(err, &we) {
			return fail("line %d: %s", we.Line, we.Msg)
		}
		return fail("%w", err)
	}
	if !ok {
		return fail("no secret in it (pppd would skip the entry)")
	}
	return w.Text, nil
}

// readFile reads the regular file at path, of at most maxFileSize bytes,
// warning through log (when not nil) when its group or others may access
// it. Its errors are not prefixed.
func readFile(path string, log *slog.Logger) ([]byte, error) {
	// Only a regular file, checked before the open: opening a FIFO would
	// block a (re)load until something writes to it, and opening a device
	// can act on it (a tty, a tape). O_NONBLOCK and O_NOCTTY cover one put
	// there between the Stat and the open, which the open file's Stat then
	// refuses.
	if fi, err := os.Stat(path); err != nil {
		return nil, err
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
	}
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file (%s)", path, fi.Mode().Type())
	}
	// check_access: any of S_IRWXG | S_IRWXO.
	if fi.Mode().Perm()&0o077 != 0 && log != nil {
		log.Warn("secrets: file has group and/or world access", "file", path, "mode", fi.Mode().Perm().String())
	}
	data, err := readAll(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return data, nil
}

// readAll reads r to its end, refusing more than maxFileSize bytes, so a
// wrong path (a device, a huge log) cannot exhaust memory.
func readAll(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("larger than %d bytes", maxFileSize)
	}
	return data, nil
}
