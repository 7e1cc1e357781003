package peerlog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	now := time.Unix(1000, 0)
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug,
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == slog.LevelKey {
				return slog.Attr{}
			}
			return a
		}}))
	l := New(log, 3, time.Second)
	l.Now = func() time.Time { return now }

	tests := []struct {
		advance time.Duration
		lines   int // attempts
		want    []string
	}{
		// The burst goes through, the rest is held back.
		{0, 5, []string{"msg=x n=0", "msg=x n=1", "msg=x n=2"}},
		// Less than an interval later: still nothing.
		{999 * time.Millisecond, 1, nil},
		// One interval refills one token; the line says what was held.
		{time.Millisecond, 2, []string{"msg=x n=0 suppressed=3"}},
		// A long pause refills the burst, no more.
		{time.Hour, 5, []string{"msg=x n=0 suppressed=1", "msg=x n=1", "msg=x n=2"}},
	}
	for i, tt := range tests {
		buf.Reset()
		now = now.Add(tt.advance)
		for n := range tt.lines {
			l.Debug("x", "n", n)
		}
		var got []string
		if s := strings.TrimSuffix(buf.String(), "\n"); s != "" {
			got = strings.Split(s, "\n")
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("step %d: logged %q, want %q", i, got, tt.want)
		}
	}
}

// A level the logger drops costs nothing: debug lines from a peer must
// not use up the share of the warnings that are shown.
func TestLimiterDisabledLevelFree(t *testing.T) {
	var buf bytes.Buffer
	l := New(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelInfo})), 1, time.Hour)
	for range 100 {
		l.Debug("hidden")
	}
	l.Warn("shown")
	if !strings.Contains(buf.String(), "msg=shown") || strings.Contains(buf.String(), "suppressed") {
		t.Errorf("got %q", buf.String())
	}
}

func TestNewDefaults(t *testing.T) {
	l := New(nil, 0, 0)
	if l.burst != DefaultBurst || l.every != DefaultEvery {
		t.Errorf("burst %d every %s", l.burst, l.every)
	}
	l.Info("goes nowhere") // a nil logger discards
}

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{"lab-ac", "lab-ac"},
		{"Провайдер", "Провайдер"},                         // printable UTF-8 stays
		{"\x1b[2J\x1b]0;owned\a", `\x1b[2J\x1b]0;owned\a`}, // ANSI and OSC sequences
		{"a\u009bb", `a\u009bb`},                           // C1 CSI
		{"evil\u202etxt", `evil\u202etxt`},                 // bidi override
		{"\xff\xfe", `\xff\xfe`},                           // not UTF-8
		{"say \"hi\"\n", `say \"hi\"\n`},
		{strings.Repeat("x", MaxText+1), strings.Repeat("x", MaxText) + "..."},
	}
	for _, tt := range tests {
		if got := Text(tt.in); got != tt.want {
			t.Errorf("Text(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{`already \x1b escaped`, `already \x1b escaped`}, // not escaped twice
		{"Провайдер", "Провайдер"},
		{"raw \x1b[2J", `raw \x1b[2J`},
		{"tab\there", `tab\there`},
		{"\xff", `\xff`},
		{strings.Repeat("x", MaxText+1), strings.Repeat("x", MaxText) + "..."},
	}
	for _, tt := range tests {
		if got := Printable(tt.in); got != tt.want {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Escape leaves quotes and backslashes, escapes only what would act on a
// terminal or break the line.
func TestEscape(t *testing.T) {
	tests := []struct{ in, want string }{
		{`--ac-mac "zz:zz": not an Ethernet MAC address`, `--ac-mac "zz:zz": not an Ethernet MAC address`},
		{"peer said \x1b[31mred\u202e\n", `peer said \x1b[31mred\u202e\n`},
		{"\u009b", `\u009b`},
		{"café", "café"},
	}
	for _, tt := range tests {
		if got := Escape(tt.in); got != tt.want {
			t.Errorf("Escape(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
