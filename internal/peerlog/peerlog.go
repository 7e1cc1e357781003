// Package peerlog keeps what peers send from taking over our logs. Every
// malformed packet, unexpected code or rejected option from the wire is
// worth a line, but a hostile or broken peer sending them at wire speed
// would otherwise fill the disk (or the journal) and drown the lines that
// matter: a Limiter lets a burst through, then a steady trickle, and says
// how many lines it held back in the next one it lets through. Text
// renders what a peer wrote (names, messages) so that no control character
// or escape sequence of its reaches a terminal.
package peerlog

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Defaults: ten lines at once, then one a second. pppd has no limit; a
// peer needs to misbehave constantly to reach this one.
const (
	DefaultBurst = 10
	DefaultEvery = time.Second
)

// Limiter is a token bucket over log lines. The zero value is not usable;
// call New. It is safe for concurrent use.
type Limiter struct {
	log   *slog.Logger
	burst int
	every time.Duration
	// Now is the clock (default time.Now, which testing/synctest fakes).
	Now func() time.Time

	mu         sync.Mutex
	tokens     int
	last       time.Time // when tokens were last refilled
	suppressed int
}

// New returns a limiter writing to log: burst lines at once, then one
// every interval. Zero or negative values take the defaults.
func New(log *slog.Logger, burst int, every time.Duration) *Limiter {
	if burst <= 0 {
		burst = DefaultBurst
	}
	if every <= 0 {
		every = DefaultEvery
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Limiter{log: log, burst: burst, every: every, tokens: burst}
}

func (l *Limiter) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// allow takes a token if one is left and reports how many lines were
// held back since the last one allowed.
func (l *Limiter) allow() (ok bool, held int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if l.last.IsZero() {
		l.last = now
	}
	if n := int(now.Sub(l.last) / l.every); n > 0 {
		l.tokens = min(l.burst, l.tokens+n)
		l.last = l.last.Add(time.Duration(n) * l.every)
	}
	if l.tokens == 0 {
		l.suppressed++
		return false, 0
	}
	l.tokens--
	held, l.suppressed = l.suppressed, 0
	return true, held
}

// Log writes one line at level unless the peer has used up its share;
// the first line after some were held back says how many
// ("suppressed"=N). A level the logger does not enable costs no token.
func (l *Limiter) Log(level slog.Level, msg string, args ...any) {
	if !l.log.Enabled(context.Background(), level) {
		return
	}
	ok, held := l.allow()
	if !ok {
		return
	}
	if held > 0 {
		args = append(args, "suppressed", held)
	}
	l.log.Log(context.Background(), level, msg, args...)
}

// Debug and Info are Log at those levels.
func (l *Limiter) Debug(msg string, args ...any) { l.Log(slog.LevelDebug, msg, args...) }
func (l *Limiter) Info(msg string, args ...any)  { l.Log(slog.LevelInfo, msg, args...) }
func (l *Limiter) Warn(msg string, args ...any)  { l.Log(slog.LevelWarn, msg, args...) }

// MaxText bounds what Text returns, in bytes of its input.
const MaxText = 256

// Text renders text from the wire (an AC's name, a peer's message, a user
// name) for a terminal or a log: printable characters as they are,
// everything else escaped as Go escapes it (\x1b, \u202e), so no escape
// sequence or control character from a peer reaches a terminal, and
// cut to MaxText bytes ("..." marks the cut).
func Text(s string) string {
	cut := ""
	if len(s) > MaxText {
		s, cut = s[:MaxText], "..."
	}
	q := strconv.Quote(s)
	return q[1:len(q)-1] + cut
}

// Escape escapes, as Go does (\x1b, \u202e, \n), only the characters of
// s that are not printable, leaving the rest (quotes and backslashes
// included) as it is, and cuts nothing: for a message that is meant to
// be read as it is (an error for stderr, a decoder's complaint) but may
// quote raw bytes.
func Escape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsPrint(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r)
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

// Printable is s when s is already fit for a terminal (valid UTF-8, every
// character printable, at most MaxText bytes), else Text(s). It is for
// text that is usually escaped already (a ppp.DownError's detail, a
// PADT's reason) but may carry something raw from below: escaping it
// again would double its backslashes.
func Printable(s string) string {
	if len(s) <= MaxText && utf8.ValidString(s) && !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return s
	}
	return Text(s)
}
