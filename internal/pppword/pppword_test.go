package pppword

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// w is a word that does not start a line.
func w(text string, line int) Word { return Word{Text: text, Line: line} }

// nl is a word that starts a line (or is the first).
func nl(text string, line int) Word { return Word{Text: text, Line: line, Newline: true} }

// scanAll scans in to its end or first error.
func scanAll(in string) ([]Word, error) {
	s := NewScanner([]byte(in))
	var got []Word
	for {
		word, ok, err := s.Next()
		if err != nil {
			return got, err
		}
		if !ok {
			return got, nil
		}
		got = append(got, word)
	}
}

// scanCase is a text and the words getword finds in it (checked against
// the installed pppd by TestAgainstPppd, through the first word), then,
// when err is set, the error after them.
type scanCase struct {
	name, in string
	want     []Word
	err      string // the error's prefix after the words in want
}

var scanCases = []scanCase{
	// White space and lines.
	{"one word", "word", []Word{nl("word", 1)}, ""},
	{"separators", "a \t\v\f\rb  c\n", []Word{nl("a", 1), w("b", 1), w("c", 1)}, ""},
	{"newline flags", "a b\nc\n\n  d e\n", []Word{nl("a", 1), w("b", 1), nl("c", 2), nl("d", 4), w("e", 4)}, ""},
	{"first word after blank lines", "\n\n a", []Word{nl("a", 3)}, ""},
	{"CRLF", "a b\r\nc\r\n", []Word{nl("a", 1), w("b", 1), nl("c", 2)}, ""},
	{"empty", "", nil, ""},
	{"only white space", " \n\t\n", nil, ""},

	// Comments.
	{"comment line", "# x y\nab", []Word{nl("ab", 2)}, ""},
	{"trailing comment", "ab # x\ncd", []Word{nl("ab", 1), nl("cd", 2)}, ""},
	{"# ends an unquoted word", "pw#c\nnext", []Word{nl("pw", 1), nl("next", 2)}, ""},
	{"# ends the word before a word on the same line", "pw#c x\ny", []Word{nl("pw", 1), nl("y", 2)}, ""},
	{"# inside a word's quotes", `"p#w" x`, []Word{nl("p#w", 1), w("x", 1)}, ""},
	{"escaped #", `p\#w`, []Word{nl("p#w", 1)}, ""},
	// A backslash does not continue a comment: the newline ends it.
	{"comment ending with backslash", "# c \\\nab", []Word{nl("ab", 2)}, ""},
	{"comment only", "# x", nil, ""},

	// Quoting.
	{"double quotes", `"a b" c`, []Word{nl("a b", 1), w("c", 1)}, ""},
	{"single quotes", `'a b' c`, []Word{nl("a b", 1), w("c", 1)}, ""},
	{"quotes mid-word", `a"b c"d`, []Word{nl("ab cd", 1)}, ""},
	{"word goes on after a closing quote", `"x y"z`, []Word{nl("x yz", 1)}, ""},
	{"pieces join", `"a"'b'c"d"`, []Word{nl("abcd", 1)}, ""},
	{"the other quote inside", `'say "hi"' "it's"`, []Word{nl(`say "hi"`, 1), w("it's", 1)}, ""},
	{"empty quoted word", `"" x`, []Word{nl("", 1), w("x", 1)}, ""},
	{"empty quoted word before a newline", "x ''\n", []Word{nl("x", 1), w("", 1)}, ""},
	{"empty quoted word before a comment", `x ""#c`, []Word{nl("x", 1), w("", 1)}, ""},
	{"quoted white space and newline", "\"a\tb\nc\" d\ne", []Word{nl("a\tb\nc", 1), w("d", 2), nl("e", 3)}, ""},
	{"escape inside quotes", `"x\"y\n" z`, []Word{nl("x\"y\n", 1), w("z", 1)}, ""},

	// Escapes, each.
	{"\\a", `x\ay`, []Word{nl("x\ay", 1)}, ""},
	{"\\b", `x\by`, []Word{nl("x\by", 1)}, ""},
	{"\\f", `x\fy`, []Word{nl("x\fy", 1)}, ""},
	{"\\n", `x\ny`, []Word{nl("x\ny", 1)}, ""},
	{"\\r", `x\ry`, []Word{nl("x\ry", 1)}, ""},
	{"\\s", `x\sy`, []Word{nl("x y", 1)}, ""},
	{"\\t", `x\ty`, []Word{nl("x\ty", 1)}, ""},
	{"octal", `x\101y`, []Word{nl("xAy", 1)}, ""},
	{"octal stops after three digits", `x\1012`, []Word{nl("xA2", 1)}, ""},
	{"octal of one digit", `x\7y`, []Word{nl("x\ay", 1)}, ""},
	{"octal stops at a non-octal digit", `x\18`, []Word{nl("x\x018", 1)}, ""},
	{"octal over 255 wraps", `x\777`, []Word{nl("x\xff", 1)}, ""},
	{"hex", `x\x41y`, []Word{nl("xAy", 1)}, ""},
	{"hex upper and lower", `x\x4a\x4B`, []Word{nl("xJK", 1)}, ""},
	{"hex stops after two digits", `x\x414`, []Word{nl("xA4", 1)}, ""},
	{"hex of one digit", `x\x4g`, []Word{nl("x\x04g", 1)}, ""},
	{"\\8 stands for itself", `x\8`, []Word{nl("x8", 1)}, ""},
	{"other character stands for itself", `x\q\\\"\'`, []Word{nl(`xq\"'`, 1)}, ""},
	{"escaped space joins", `p\ w x`, []Word{nl("p w", 1), w("x", 1)}, ""},
	{"escaped quote is literal", `\"ab`, []Word{nl(`"ab`, 1)}, ""},
	{"word starting with an escape", `\ a b`, []Word{nl(" a", 1), w("b", 1)}, ""},
	{"word starting with an escaped letter", `\ty`, []Word{nl("\ty", 1)}, ""},
	{"escaped newline as a word's first character", "x \\\\\ny", []Word{nl("x", 1), w(`\`, 1), nl("y", 2)}, ""},

	// Backslash-newline.
	{"joins two lines between words", "a \\\n b\nc", []Word{nl("a", 1), w("b", 2), nl("c", 3)}, ""},
	{"joins a word", "ab\\\ncd e", []Word{nl("abcd", 1), w("e", 2)}, ""},
	{"joins inside quotes", "\"ab\\\ncd\" e", []Word{nl("abcd", 1), w("e", 2)}, ""},
	{"at the start of the text", "\\\nab", []Word{nl("ab", 2)}, ""},
	{"trailing lone backslash", "ab \\", []Word{nl("ab", 1)}, ""},
	{"backslash ending a word at the end", `ab\`, []Word{nl("ab", 1)}, ""},

	// Line numbers across quoted newlines.
	{"lines after a quoted newline", "a \"l1\nl2\nl3\" b\nc", []Word{nl("a", 1), w("l1\nl2\nl3", 1), w("b", 3), nl("c", 4)}, ""},

	// Errors.
	{"unterminated double quote", "a\nb \"pw\n", []Word{nl("a", 1), nl("b", 2)}, "line 2: unterminated \" quote"},
	{"unterminated single quote", `'pw`, nil, "line 1: unterminated ' quote"},
	{"unterminated quote mid-word", "it's\nx", nil, "line 1: unterminated ' quote"},
	{"quote opened after a closed one", `"a"b"c`, nil, "line 1: unterminated \" quote"},
	{"escaped closing quote", `"ab\"`, nil, "line 1: unterminated \" quote"},
	{"lone quote at the end", "a \"", []Word{nl("a", 1)}, "line 1: unterminated \" quote"}, // getword drops it silently
	{"raw NUL", "a p\x00w", []Word{nl("a", 1)}, "line 1: NUL byte in a word"},
	{"NUL by octal", `p\0w`, nil, "line 1: NUL byte"},
	{"NUL by octal wrapping", `p\400`, nil, "line 1: NUL byte"},
	{"NUL by empty hex", `p\xg`, nil, "line 1: NUL byte"},
	{"NUL by \\x at the end", `p\x`, nil, "line 1: NUL byte"},
	{"NUL inside quotes", "\"p\x00\"", nil, "line 1: NUL byte"},
	{"too long", strings.Repeat("x", 1024), nil, "line 1: word longer than 1023 bytes"},
	{"too long by escapes", strings.Repeat(`\x41`, 1024), nil, "line 1: word longer than 1023 bytes"},
	{"too long in quotes", "a\n\"" + strings.Repeat("x y", 400) + "\"", []Word{nl("a", 1)}, "line 2: word longer than 1023 bytes"},
	{"empty quoted word at the end", `a ""`, []Word{nl("a", 1)}, "line 1: empty quoted word at the end of the file"},
	{"empty quoted pieces at the end", "a\n''\"\"", []Word{nl("a", 1)}, "line 2: empty quoted word at the end of the file"},
}

func TestScanner(t *testing.T) {
	for _, tt := range scanCases {
		t.Run(tt.name, func(t *testing.T) {
			got, err := scanAll(tt.in)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("words of %q\n got %#v\nwant %#v", tt.in, got, tt.want)
			}
			switch {
			case tt.err == "" && err != nil:
				t.Errorf("error %v", err)
			case tt.err != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.err)):
				t.Errorf("error %v, want prefix %q", err, tt.err)
			}
			if err != nil {
				var e *Error
				if !errors.As(err, &e) {
					t.Errorf("error %T, want *Error", err)
				}
			}
		})
	}
}

// The longest word pppd keeps whole is MaxLen-1 bytes.
func TestLongestWord(t *testing.T) {
	long := strings.Repeat("x", MaxLen-1)
	for _, in := range []string{long, `"` + long + `"`, `\x78` + long[1:], long + "\n"} {
		got, err := scanAll(in)
		if err != nil || len(got) != 1 || got[0].Text != long {
			t.Errorf("%d-byte input: %d words, %v", len(in), len(got), err)
		}
	}
}

// An error is returned again by the calls after it: a caller looping
// until the end does not go on past the bad word.
func TestErrorSticks(t *testing.T) {
	s := NewScanner([]byte("a \"open\nb c\n"))
	if _, ok, err := s.Next(); !ok || err != nil {
		t.Fatalf("first word: %v %v", ok, err)
	}
	_, _, first := s.Next()
	if first == nil {
		t.Fatal("no error for the open quote")
	}
	for range 3 {
		if word, ok, err := s.Next(); ok || err != first {
			t.Fatalf("after the error: %q %v %v, want the same error", word.Text, ok, err)
		}
	}
}

// No error quotes the word (or any of the text): a misplaced secret would
// reach a log.
func TestErrorsQuoteNothing(t *testing.T) {
	const secret = "Hunter2Secret"
	for _, in := range []string{
		`"` + secret, `'` + secret + "\n", secret + "\x00", secret + `\0`, secret + strings.Repeat("y", MaxLen),
		"x '" + secret + "' \"\"",
	} {
		_, err := scanAll(in)
		if err == nil {
			t.Errorf("%q: no error", in)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "Hunter") || strings.Contains(err.Error(), "\n") {
			t.Errorf("error %q quotes the text or has several lines", err)
		}
	}
}

// TestAgainstPppd checks the first word of each case against the
// installed pppd (2.4.9; the VM image and the development container have
// it): an options file whose first word is not an option makes pppd print
// the word as getword read it ("In file F: unrecognized option 'W'") and
// exit. Skipped without pppd.
func TestAgainstPppd(t *testing.T) {
	const pppd = "/usr/sbin/pppd"
	if _, err := os.Stat(pppd); err != nil {
		t.Skipf("no reference pppd: %v", err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "opts")
	run := func(t *testing.T, in string) string {
		t.Helper()
		if err := os.WriteFile(file, []byte(in), 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, pppd, "file", file)
		cmd.Dir, cmd.Env = dir, []string{"HOME=" + dir, "PATH=/usr/sbin:/usr/bin:/sbin:/bin"}
		out, _ := cmd.CombinedOutput() // pppd fails, as it should
		if !strings.Contains(string(out), "In file "+file) && !strings.Contains(string(out), "no device specified") &&
			!strings.Contains(string(out), "warning:") {
			t.Skipf("pppd did not get to the file (its own options?): %q", out)
		}
		return string(out)
	}
	for _, tt := range scanCases {
		if tt.in == "" || strings.Contains(tt.err, "NUL") {
			continue // no file; pppd's C string ends at a NUL
		}
		t.Run(tt.name, func(t *testing.T) {
			out := run(t, tt.in)
			const pre = ": unrecognized option '"
			i := strings.Index(out, pre)
			switch {
			case len(tt.want) > 0:
				end := strings.LastIndex(out, "'\n")
				if i < 0 || end < i+len(pre) {
					t.Fatalf("pppd read no word from %q: %q", tt.in, out)
				}
				if got := out[i+len(pre) : end]; got != tt.want[0].Text {
					t.Errorf("pppd's first word of %q is %q; the Scanner's %q", tt.in, got, tt.want[0].Text)
				}
			case strings.Contains(tt.err, "unterminated"):
				if !strings.Contains(out, "quoted word runs to end of file") {
					t.Errorf("pppd did not warn of the open quote in %q: %q", tt.in, out)
				}
			case strings.Contains(tt.err, "longer than"):
				if !strings.Contains(out, "too long") {
					t.Errorf("pppd did not warn of the long word: %q", out)
				}
			default: // no word, or an empty quoted word at the end, which pppd drops
				if i >= 0 {
					t.Errorf("pppd read a word from %q: %q", tt.in, out)
				}
			}
		})
	}
}

// refReader and refGetword model pppd's getword (options.c) on bytes,
// keeping its control flow (getc, one ungetc, a quoted section toggled
// anywhere in a word) but none of the Scanner's lines or errors: the
// fuzz target checks the Scanner against it. The word is kept whole;
// tooLong reports getword's truncation warning, runsToEOF its open-quote
// one.
type refReader struct {
	data []byte
	pos  int
}

func (r *refReader) getc() int {
	if r.pos >= len(r.data) {
		return eof
	}
	r.pos++
	return int(r.data[r.pos-1])
}

func (r *refReader) ungetc() { r.pos-- }

func refGetword(r *refReader) (word []byte, newline, ok, runsToEOF, tooLong bool) {
	escape, comment := false, false
	var c int
	for {
		c = r.getc()
		if c == eof {
			break
		}
		if c == '\n' {
			if escape {
				escape = false
			} else {
				newline, comment = true, false
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
	quoted := 0
	for c != eof {
		if escape {
			escape = false
			if c == '\n' {
				c = r.getc()
				continue
			}
			got, value := false, c
			switch {
			case c == 'a':
				value = '\a'
			case c == 'b':
				value = '\b'
			case c == 'f':
				value = '\f'
			case c == 'n':
				value = '\n'
			case c == 'r':
				value = '\r'
			case c == 's':
				value = ' '
			case c == 't':
				value = '\t'
			case c >= '0' && c < '8':
				value = 0
				for n := 0; n < 3 && c >= '0' && c < '8'; n++ {
					value = value<<3 + c&7
					c = r.getc()
				}
				got = true
			case c == 'x':
				value = 0
				c = r.getc()
				for n := 0; n < 2; n++ {
					d, ok := hexVal(c)
					if !ok {
						break
					}
					value = value<<4 + d
					c = r.getc()
				}
				got = true
			}
			word = append(word, byte(value))
			if !got {
				c = r.getc()
			}
			continue
		}
		if c == '\\' {
			escape = true
			c = r.getc()
			continue
		}
		if quoted != 0 {
			if c == quoted {
				quoted = 0
				c = r.getc()
				continue
			}
		} else if c == '"' || c == '\'' {
			quoted = c
			c = r.getc()
			continue
		} else if isSpace(c) || c == '#' {
			r.ungetc()
			break
		}
		word = append(word, byte(c))
		c = r.getc()
	}
	if c == eof {
		// getword warns of the open quote only with a word to return;
		// the model reports it either way.
		runsToEOF = quoted != 0
		if len(word) == 0 {
			return nil, newline, false, runsToEOF, false
		}
	}
	return word, newline, true, runsToEOF, len(word) >= MaxLen
}

// FuzzScanner: Next never panics and always ends (each word uses up at
// least one byte), words never hold a NUL or MaxLen bytes, lines never go
// back, and every word, flag and error agrees with the getword model; the
// words written back with \ooo escapes scan to the same words.
func FuzzScanner(f *testing.F) {
	for _, tt := range scanCases {
		f.Add(tt.in)
	}
	f.Fuzz(func(t *testing.T, in string) {
		s := NewScanner([]byte(in))
		ref := &refReader{data: []byte(in)}
		lines := strings.Count(in, "\n") + 1
		var got []Word
		for n := 0; ; n++ {
			if n > len(in)+1 {
				t.Fatalf("%d words from %d bytes: Next does not end", n, len(in))
			}
			word, ok, err := s.Next()
			rword, rnewline, rok, runsToEOF, tooLong := refGetword(ref)
			if err != nil {
				msg := err.Error()
				var why bool
				switch {
				case strings.Contains(msg, "unterminated"):
					why = runsToEOF
				case strings.Contains(msg, "empty quoted word"):
					why = !rok && !runsToEOF
				case strings.Contains(msg, "longer than"):
					why = rok && !runsToEOF && tooLong
				case strings.Contains(msg, "NUL"):
					why = rok && !runsToEOF && !tooLong && bytes.IndexByte(rword, 0) >= 0
				}
				if !why {
					t.Fatalf("error %q where getword reads %q (ok %v, open quote %v, long %v)", msg, rword, rok, runsToEOF, tooLong)
				}
				if again, _, err2 := s.Next(); err2 != err || again != (Word{}) {
					t.Fatalf("the error did not stick: %v", err2)
				}
				return // the text is refused: nothing to compare past it
			}
			if !ok {
				if rok {
					t.Fatalf("the Scanner ended where getword reads %q", rword)
				}
				break
			}
			if !rok || runsToEOF || tooLong || word.Text != string(rword) {
				t.Fatalf("word %q where getword reads %q (ok %v, open quote %v, long %v)", word.Text, rword, rok, runsToEOF, tooLong)
			}
			// scan_authfile takes the first word to start a line.
			if want := rnewline || len(got) == 0; word.Newline != want {
				t.Fatalf("word %d %q: Newline %v, getword's %v", len(got), word.Text, word.Newline, want)
			}
			if strings.IndexByte(word.Text, 0) >= 0 || len(word.Text) >= MaxLen {
				t.Fatalf("word %q holds a NUL or is too long", word.Text)
			}
			if word.Line < 1 || word.Line > lines || (len(got) > 0 && word.Line < got[len(got)-1].Line) {
				t.Fatalf("word %d on line %d after %v (%d lines)", len(got), word.Line, got, lines)
			}
			got = append(got, word)
		}
		// Written back, escaped, the words scan the same.
		var b strings.Builder
		for i, word := range got {
			switch {
			case i == 0:
			case word.Newline:
				b.WriteByte('\n')
			default:
				b.WriteByte(' ')
			}
			if word.Text == "" {
				b.WriteString(`""`)
			}
			for _, c := range []byte(word.Text) {
				fmt.Fprintf(&b, `\%03o`, c)
			}
		}
		b.WriteByte('\n')
		again, err := scanAll(b.String())
		if err != nil || len(again) != len(got) {
			t.Fatalf("written back as %q: %d words, %v; want %d", b.String(), len(again), err, len(got))
		}
		for i := range got {
			if again[i].Text != got[i].Text || again[i].Newline != got[i].Newline {
				t.Fatalf("written back, word %d is %+v, was %+v", i, again[i], got[i])
			}
		}
	})
}
