// Package pppword splits text into words as pppd's getword (options.c)
// does, for the files pppd reads: options files (/etc/ppp/options, the
// peers files, ~/.ppprc) and the secrets files (chap-secrets,
// pap-secrets, and the file an "@/path" secret names).
//
// Words are separated by white space (C's isspace: space, \t, \n, \v, \f,
// \r). A quote, " or ', opens a quoted section anywhere in a word, and the
// same quote closes it; inside it white space, # and the other quote are
// ordinary characters. Quoted and unquoted pieces join into one word:
// a"b c"d is the word "ab cd", and "x y"z is "x yz". A backslash escapes
// the next character, inside quotes too: \a \b \f \n \r \t as in C, \s a
// space, \ooo up to three octal digits, \x and up to two hex digits (none
// gives 0), and any other character stands for itself. A backslash before
// a newline joins the two lines, inside a word or between words. An
// unquoted # starts a comment that runs to the end of the line, and ends
// the word before it (pw#x is the word "pw").
//
// Each word knows the line it starts on and whether it starts a line
// (pppd's newline flag, which starts an entry in a secrets file; options
// files ignore it).
//
// A Scanner is stricter than getword where getword would silently do
// something the author did not mean; these are errors, on the line the
// word starts on: a quote left open (getword takes the rest of the file as
// the word, with a warning, or silently nothing if nothing follows the
// quote), a NUL byte in a word, written or escaped
// (getword's C string would end there), a word of MaxLen bytes or more
// (getword keeps MaxLen-1, with a warning) and an empty quoted word ("")
// that ends the file without a newline (getword drops it). Errors never
// quote a word: it may be (part of) a secret.
package pppword

import (
	"bytes"
	"fmt"
)

// MaxLen is pppd's MAXWORDLEN: getword keeps at most MaxLen-1 bytes of a
// word and drops the rest with only a warning; a Scanner refuses such a
// word.
const MaxLen = 1024

// Error is a Scanner error on the line a word starts on. It never quotes
// the word.
type Error struct {
	Line int
	Msg  string
}

func (e *Error) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Msg) }

// Word is one word of the text.
type Word struct {
	Text    string
	Line    int  // the line the word starts on (from 1)
	Newline bool // the first word, or a newline came between the previous word and this one
}

// Scanner is pppd's getword over a byte slice.
type Scanner struct {
	data  []byte
	pos   int
	line  int
	first bool // the first word has been read
	err   error
}

// NewScanner returns a Scanner over data, starting at line 1.
func NewScanner(data []byte) *Scanner { return &Scanner{data: data, line: 1} }

const eof = -1

func (l *Scanner) peek() int {
	if l.pos >= len(l.data) {
		return eof
	}
	return int(l.data[l.pos])
}

// advance consumes the current character and returns the one after it.
func (l *Scanner) advance() int {
	if l.pos < len(l.data) {
		l.pos++
	}
	return l.peek()
}

// isSpace is C's isspace in the C locale.
func isSpace(c int) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

func isOctal(c int) bool { return c >= '0' && c <= '7' }

func hexVal(c int) (int, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// Next returns the next word, false at the end of the data. Its errors
// (*Error) do not quote the word; after one, Next returns it again.
func (l *Scanner) Next() (Word, bool, error) {
	if l.err != nil {
		return Word{}, false, l.err
	}
	w, ok, err := l.next()
	if err != nil {
		l.err = err
	}
	return w, ok, err
}

func (l *Scanner) next() (Word, bool, error) {
	w := Word{Newline: !l.first}
	escape, comment := false, false
	c := eof
	// Skip white space, comments and backslash-newlines. In a comment a
	// backslash is an ordinary character: the newline still ends it.
	for {
		c = l.peek()
		if c == eof {
			return Word{}, false, nil // a trailing lone backslash is dropped, as by getword
		}
		l.pos++
		if c == '\n' {
			l.line++
			if escape {
				escape = false
			} else {
				w.Newline, comment = true, false
			}
			continue
		}
		if comment {
			continue
		}
		if escape {
			break
		}
		if c == '\\' {
			escape = true
			continue
		}
		if c == '#' {
			comment = true
			continue
		}
		if !isSpace(c) {
			break
		}
	}
	// From here on c is the character at l.pos, not yet consumed; the
	// word starts with it (escaped if escape is set).
	l.pos--
	l.first = true
	w.Line = l.line
	var b bytes.Buffer
	quote := 0        // the quote of the open quoted section, or 0
	hadQuote := false // the word has a quoted section, so it exists even if empty
	for c != eof {
		if escape {
			escape = false
			if c == '\n' { // backslash-newline is ignored
				l.line++
				c = l.advance()
				continue
			}
			value, consumed := c, false
			switch c {
			case 'a':
				value = '\a'
			case 'b':
				value = '\b'
			case 'f':
				value = '\f'
			case 'n':
				value = '\n'
			case 'r':
				value = '\r'
			case 's':
				value = ' '
			case 't':
				value = '\t'
			case 'x':
				// \x and up to two hex digits (none gives 0, as in getword).
				value, consumed = 0, true
				c = l.advance()
				for n := 0; n < 2; n++ {
					d, ok := hexVal(c)
					if !ok {
						break
					}
					value = value<<4 + d
					c = l.advance()
				}
			default:
				if isOctal(c) { // \ooo: up to three octal digits; \4xx wraps as getword's char does
					value, consumed = 0, true
					for n := 0; n < 3 && isOctal(c); n++ {
						value = value<<3 + (c - '0')
						c = l.advance()
					}
				}
			}
			b.WriteByte(byte(value))
			if !consumed {
				c = l.advance()
			}
			continue
		}
		if c == '\\' {
			escape = true
			c = l.advance()
			continue
		}
		if quote != 0 {
			if c == quote {
				quote = 0
				c = l.advance()
				continue
			}
		} else if c == '"' || c == '\'' {
			quote, hadQuote = c, true
			c = l.advance()
			continue
		} else if isSpace(c) || c == '#' {
			break // left for the next call, like getword's ungetc
		}
		if c == '\n' { // only inside quotes
			l.line++
		}
		b.WriteByte(byte(c))
		c = l.advance()
	}
	if quote != 0 {
		// getword takes everything up to the end of the file as the word.
		return Word{}, false, &Error{w.Line, fmt.Sprintf("unterminated %c quote", quote)}
	}
	if c == eof && b.Len() == 0 {
		if hadQuote {
			// getword returns no word when it reaches the end of the
			// file with nothing stored: a final `password ""` would
			// lose its argument.
			return Word{}, false, &Error{w.Line, "empty quoted word at the end of the file without a newline (pppd would drop it)"}
		}
		return Word{}, false, nil
	}
	if b.Len() >= MaxLen {
		return Word{}, false, &Error{w.Line, fmt.Sprintf("word longer than %d bytes (pppd would truncate it)", MaxLen-1)}
	}
	if bytes.IndexByte(b.Bytes(), 0) >= 0 {
		// pppd's C strings would end the word at the NUL.
		return Word{}, false, &Error{w.Line, "NUL byte in a word"}
	}
	w.Text = b.String()
	return w, true, nil
}
