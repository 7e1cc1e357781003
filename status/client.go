package status

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/pppoed/pppoed/internal/peerlog"
)

// dialErr and connErr are linkText's.
func dialErr(path string, err error) error { return linkText.dialErr(path, err) }
func connErr(path string, err error) error { return linkText.ConnError(path, err) }

// Get asks the pppoed at path for its link's status.
func Get(ctx context.Context, path string) (Status, error) {
	var st Status
	errGot := errors.New("got")
	err := stream(ctx, path, opGet, func(s Status) error {
		st = s
		return errGot
	})
	if err == errGot {
		return st, nil
	}
	return Status{}, err
}

// Watch calls f with the status of the link at path, then with the status
// after each change, until ctx ends (ctx.Err()), f fails (its error), or
// the daemon goes away. A slow f misses intermediate states, never the
// latest.
func Watch(ctx context.Context, path string, f func(Status) error) error {
	return stream(ctx, path, opWatch, f)
}

// reply is a line from the server: a Status, or an error.
type reply struct {
	Error string `json:"error"`
	Status
}

func stream(ctx context.Context, path string, o op, f func(Status) error) error {
	c, err := DialSocket(ctx, path, linkText)
	if err != nil {
		return err
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.Close() })
	defer stop()
	req, _ := json.Marshal(request{Op: o})
	// A server that refuses us may have closed before we write: its
	// reason is still there to read.
	_, werr := c.Write(append(req, '\n'))
	sc := bufio.NewScanner(c)
	sc.Buffer(make([]byte, 0, 4096), maxResponse)
	for sc.Scan() {
		var r reply
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return fmt.Errorf("status: bad reply from pppoed: %w", err)
		}
		if r.Error != "" {
			return fmt.Errorf("status: pppoed refused: %s", peerlog.Text(r.Error))
		}
		if err := f(r.Status); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return ctxErr(ctx, connErr(path, err))
	}
	if werr != nil {
		return ctxErr(ctx, connErr(path, werr))
	}
	return ctxErr(ctx, fmt.Errorf("status: pppoed closed the connection: %w", io.EOF))
}

// ctxErr prefers the context's error: closing the connection is how a
// cancelled context ends a read.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
