package discovery_test

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"testing/synctest"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pppoed/pppoed/discovery"
	"github.com/pppoed/pppoed/discovery/discoverytest"
	"github.com/pppoed/pppoed/internal/peerlog"
)

// hostile is text an AC could put in any text tag: a screen clear, an
// xterm title (OSC ... BEL), CSI both as the C1 character and as a raw
// 0x9b octet (not UTF-8), bidi overrides that reorder what follows, DEL,
// a forged log line after CR LF, and a NUL that hides the rest from C
// string printers.
const hostile = "evil\x1b[2J\x1b]0;owned\x07\u009b31m\x9b\u202eRTL\u2066\x7f\r\nlevel=ERROR fake line\x00tail"

// assertPrintable fails if s holds anything a terminal would interpret:
// control characters (C0, DEL, C1), format characters (bidi controls and
// the like) or octets that are not UTF-8. Tab is harmless and allowed.
func assertPrintable(t *testing.T, where, s string) {
	t.Helper()
	for i, r := range s {
		bad := r != '\t' && (unicode.IsControl(r) || unicode.Is(unicode.Cf, r))
		if r == utf8.RuneError {
			_, n := utf8.DecodeRuneInString(s[i:])
			bad = n == 1
		}
		if bad {
			t.Errorf("%s holds %U raw at %d: %q", where, r, i, s)
			return
		}
	}
}

func assertLogPrintable(t *testing.T, rec *recorder) {
	t.Helper()
	for _, l := range rec.lines() {
		assertPrintable(t, "log line", l)
	}
}

// Text from the wire reaches no log line and no error raw, whichever tag
// carries it; Offer and Session keep it raw, as data.
func TestWireTextEscaped(t *testing.T) {
	want := peerlog.Text(hostile) // how it must appear
	errTags := []discovery.Tag{discovery.GenericError(hostile), discovery.ACSystemError(hostile), discovery.ServiceNameError(hostile)}

	t.Run("offer", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			rec, log := newRecorder(slog.LevelDebug)
			seg := &discoverytest.Segment{}
			defer seg.Close()
			ac := newAC(seg, "02:00:00:00:00:0a", hostile, hostile, "isp")
			ac.relay = []byte(hostile)
			ac.padoExtra = []discovery.Tag{
				discovery.VendorSpecific{VendorID: 9, Data: []byte(hostile)},
				discovery.RawTag{TagType: 0x0199, Value: []byte(hostile)},
			}
			ac.run(t)
			c := discovery.NewClient(seg.Port("02:00:00:00:00:01"), discovery.ClientConfig{Logger: log})
			defer c.Close()
			s, err := c.Discover(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if s.ACName != hostile {
				t.Errorf("Session lost the raw text: %q", s.ACName)
			}
			assertLogPrintable(t, rec)
			if !strings.Contains(strings.Join(rec.lines(), "\n"), "ac-name="+want) {
				t.Errorf("the offer's line does not name the AC as %q:\n%s", want, strings.Join(rec.lines(), "\n"))
			}
		})
	})
	for _, tag := range errTags {
		t.Run("PADO "+tag.Type().String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec, log := newRecorder(slog.LevelDebug)
				seg := &discoverytest.Segment{}
				defer seg.Close()
				ac := newAC(seg, "02:00:00:00:00:0a", hostile, "isp")
				ac.padoExtra = []discovery.Tag{tag}
				ac.run(t)
				c := discovery.NewClient(seg.Port("02:00:00:00:00:01"), discovery.ClientConfig{Logger: log, Timeout: time.Second, Attempts: 1})
				defer c.Close()
				_, err := c.Discover(context.Background())
				if !errors.Is(err, discovery.ErrNoOffer) {
					t.Fatalf("Discover = %v", err)
				}
				assertPrintable(t, "error", err.Error())
				if strings.Count(err.Error(), want) != 2 { // AC-Name and the error text
					t.Errorf("error %q does not quote the AC twice as %q", err, want)
				}
				assertLogPrintable(t, rec)
			})
		})
		t.Run("PADS "+tag.Type().String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				rec, log := newRecorder(slog.LevelDebug)
				seg := &discoverytest.Segment{}
				defer seg.Close()
				ac := newAC(seg, "02:00:00:00:00:0a", "ac1", "isp")
				ac.refuse = tag
				ac.run(t)
				c := discovery.NewClient(seg.Port("02:00:00:00:00:01"), discovery.ClientConfig{Logger: log})
				defer c.Close()
				_, err := c.Discover(context.Background())
				var refused *discovery.RefusedError
				if !errors.As(err, &refused) {
					t.Fatalf("Discover = %v", err)
				}
				assertPrintable(t, "error", err.Error())
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not quote the AC as %q", err, want)
				}
				assertLogPrintable(t, rec)
			})
		})
	}
	t.Run("PADT", func(t *testing.T) {
		r := discovery.PADTReason(&discovery.Packet{Code: discovery.CodePADT, SessionID: 1, Tags: errTags})
		assertPrintable(t, "PADT reason", r)
		if strings.Count(r, want) != 3 {
			t.Errorf("PADTReason = %q, want each tag's text as %q", r, want)
		}
	})
}
