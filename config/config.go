// Package config reads a link's settings file, /etc/pppoed/NAME.toml: a
// flat TOML table whose keys are the long names of the command's flags
// (interface = "eth0", add-default-route = true, keepalive-timeout = "60s").
// It knows nothing of the command line: the caller gives it a schema (each
// key's name and kind) and gets back each setting as the string the flag
// would have been given, in the file's order, with its line, so that it
// can apply them under its own rule (pppoed: the command line wins).
//
// Every error names the file, the line and the key, on one line:
//
//	/etc/pppoed/wan.toml:3: key "mtu": want an integer, got a string
package config

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/pppoed/pppoed/internal/peerlog"
)

// Kind is the type of a key's value, that of its flag.
type Kind int

const (
	String   Kind = iota // a TOML string
	Bool                 // a TOML boolean
	Int                  // a TOML integer
	Duration             // a TOML string time.ParseDuration takes, "60s"
)

func (k Kind) String() string {
	switch k {
	case String:
		return "a string"
	case Bool:
		return "a boolean"
	case Int:
		return "an integer"
	case Duration:
		return `a duration string such as "60s"`
	}
	return fmt.Sprintf("config.Kind(%d)", int(k))
}

// Key is one key a file may set.
type Key struct {
	Name string
	Kind Kind
	// Secret marks a value that must not be readable by anyone but the
	// file's owner (a password): a file holding it is refused unless its
	// mode gives the group and others nothing, as pppd warns for its
	// secrets files. A secret's value never appears in an error.
	Secret bool
}

// Setting is one key the file sets.
type Setting struct {
	Key Key
	// Value is the value as the flag would take it on the command line:
	// "eth0", "true", "1492", "60s".
	Value string
	// Line is where the key's value is, from 1 (the last line of a
	// multi-line string).
	Line int
}

// Error is a file's fault; its text is "FILE:LINE: key "KEY": ...", with
// the parts that are not known left out.
type Error struct {
	File string
	Line int    // 0: not known (the file could not be read)
	Key  string // "": not about one key
	Err  error
}

func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	b.WriteString(": ")
	if e.Key != "" {
		fmt.Fprintf(&b, "key %q: ", e.Key)
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

func (e *Error) Unwrap() error { return e.Err }

// MaxSize bounds the file read: settings for one link are a few hundred
// bytes, and a daemon does not read a mistaken path to a disk image into
// memory.
const MaxSize = 1 << 20

// Load reads the file at path and returns its settings in the file's
// order. Only the keys of schema are allowed, each a scalar of its kind;
// tables and arrays are refused (every setting is one flag).
func Load(path string, schema []Key) ([]Setting, error) {
	data, perm, err := readFile(path)
	if err != nil {
		return nil, err
	}
	return parse(path, data, perm, schema)
}

// readFile returns the contents of the regular file at path, at most
// MaxSize bytes, and its permission bits (whether others may read a
// secret in it).
func readFile(path string) ([]byte, fs.FileMode, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, &Error{File: path, Err: unwrapPath(err)}
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, 0, &Error{File: path, Err: unwrapPath(err)}
	}
	if !fi.Mode().IsRegular() {
		return nil, 0, &Error{File: path, Err: errors.New("not a regular file")}
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, 0, &Error{File: path, Err: unwrapPath(err)}
	}
	if len(data) > MaxSize {
		return nil, 0, &Error{File: path, Err: fmt.Errorf("larger than %d bytes", MaxSize)}
	}
	return data, fi.Mode().Perm(), nil
}

// unwrapPath drops the *fs.PathError around err, whose path the Error
// already names.
func unwrapPath(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// errProbe is what probe always returns, so that the decoder reports the
// key's position.
var errProbe = errors.New("config: probe")

// probe takes a key's raw value and fails, so that toml reports the line
// of the key it decodes (the library records every key's position but
// shows it only in errors).
type probe struct{ v any }

func (p *probe) UnmarshalTOML(v any) error {
	p.v = v
	return errProbe
}

// probeKey returns a top-level key's value and its line: that of the
// value (the last line of a multi-line string), or for a table defined
// implicitly by dotted keys (a.b.c = 1), that of the first such key, path,
// found by descending it (at most maxDepth tables: every probe scans the
// file, and the key is refused whatever its line).
func probeKey(md *toml.MetaData, prim toml.Primitive, path toml.Key) (v any, line int, err error) {
	for depth := 0; ; depth++ {
		var p probe
		err = md.PrimitiveDecode(prim, &p)
		var pe toml.ParseError
		if !errors.As(err, &pe) || pe.Message != errProbe.Error() {
			// Not reached with toml v1.6; kept so that a change there
			// shows as an error, not as a setting without its line.
			return nil, 0, fmt.Errorf("config: locating the key: %v", err)
		}
		if depth == 0 {
			v = p.v
		}
		if pe.Position.Line > 0 || depth+1 >= len(path) || depth >= maxDepth {
			return v, pe.Position.Line, nil
		}
		var sub map[string]toml.Primitive
		if err := md.PrimitiveDecode(prim, &sub); err != nil {
			return v, 0, nil // not a table: no line known
		}
		var ok bool
		if prim, ok = sub[path[depth+1]]; !ok {
			return v, 0, nil
		}
	}
}

const maxDepth = 8

// parse is Load on data read from a file of mode perm.
func parse(file string, data []byte, perm fs.FileMode, schema []Key) ([]Setting, error) {
	var top map[string]toml.Primitive
	md, err := toml.Decode(string(data), &top)
	if err != nil {
		return nil, syntaxError(file, data, schema, err)
	}
	var out []Setting
	seen := make(map[string]bool)
	for _, k := range md.Keys() {
		// A table's keys come after it, and a dotted key (a.b = 1)
		// lists only a.b: each top-level name, in the order it first
		// appears.
		name := k[0]
		if seen[name] {
			continue
		}
		seen[name] = true
		v, line, err := probeKey(&md, top[name], k)
		if err != nil {
			return nil, &Error{File: file, Key: name, Err: err}
		}
		key, ok := lookup(schema, name)
		if !ok {
			return nil, &Error{File: file, Line: line, Key: name, Err: errors.New("unknown key (keys are the long names of the flags)")}
		}
		value, err := convert(key, v)
		if err != nil {
			return nil, &Error{File: file, Line: line, Key: name, Err: err}
		}
		if key.Secret && perm&0o077 != 0 {
			return nil, &Error{File: file, Line: line, Key: name, Err: fmt.Errorf(
				"the file is readable by others (mode %04o): chmod 600 it, or give password-file", uint32(perm))}
		}
		out = append(out, Setting{Key: key, Value: value, Line: line})
	}
	return out, nil
}

func lookup(schema []Key, name string) (Key, bool) {
	for _, k := range schema {
		if k.Name == name {
			return k, true
		}
	}
	return Key{}, false
}

// convert turns a TOML value into the flag's text.
func convert(key Key, v any) (string, error) {
	switch key.Kind {
	case String:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case Bool:
		if b, ok := v.(bool); ok {
			return strconv.FormatBool(b), nil
		}
	case Int:
		if i, ok := v.(int64); ok {
			return strconv.FormatInt(i, 10), nil
		}
	case Duration:
		if s, ok := v.(string); ok {
			if _, err := time.ParseDuration(s); err != nil {
				// The text is not secret: no duration is.
				return "", fmt.Errorf("want %v, got %q", key.Kind, s)
			}
			return s, nil
		}
	default:
		return "", fmt.Errorf("config: %v", key.Kind)
	}
	return "", fmt.Errorf("want %v, got %s", key.Kind, typeName(v))
}

// typeName names a decoded TOML value's type, never its value.
func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int64:
		return "an integer"
	case float64:
		return "a float"
	case map[string]any:
		return "a table"
	case []any, []map[string]any:
		return "an array"
	case time.Time:
		return "a date-time"
	}
	// toml's local dates and times, and anything a later version adds.
	return fmt.Sprintf("a %T", v)
}

// syntaxError turns the decoder's error into an Error. The decoder's text
// may quote the file ("expected value but found \"hunter2\""): when the
// line holds a secret key, only the line is given.
func syntaxError(file string, data []byte, schema []Key, err error) error {
	var pe toml.ParseError
	if !errors.As(err, &pe) {
		return &Error{File: file, Err: fmt.Errorf("not TOML: %w", err)}
	}
	line := pe.Position.Line
	msg := peerlog.Escape(pe.Message) // the decoder quotes the file raw: one line, nothing for a terminal
	if secretLine(data, line, schema) || secretKey(pe.LastKey, schema) {
		msg = "not valid TOML (the decoder's message is withheld: the line holds a secret)"
	} else {
		msg = "not valid TOML: " + msg
	}
	return &Error{File: file, Line: line, Err: errors.New(msg)}
}

func secretKey(name string, schema []Key) bool {
	name = strings.Trim(name, `"'`)
	k, ok := lookup(schema, name)
	return ok && k.Secret
}

// secretLine reports whether line n (from 1) of data mentions a secret key.
func secretLine(data []byte, n int, schema []Key) bool {
	lines := strings.Split(string(data), "\n")
	if n < 1 || n > len(lines) {
		return false
	}
	l := lines[n-1]
	for _, k := range schema {
		if k.Secret && strings.Contains(l, k.Name) {
			return true
		}
	}
	return false
}
