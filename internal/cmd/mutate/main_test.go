package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func write(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestReadEquivalents(t *testing.T) {
	tests := []struct {
		name, content, wantErr string
		want                   int
	}{
		{"empty", "# nothing\n\n", "", 0},
		{"one", "pkg/a.go:9 CONDITIONALS_BOUNDARY if n > 3 {\n\twhy: n is 0 or 5\n", "", 1},
		{"reason on two lines", "pkg/a.go:9 CONDITIONALS_BOUNDARY if n > 3 {\n\twhy: n is\n\twhy: 0 or 5\n", "", 1},
		{"no reason", "pkg/a.go:9 CONDITIONALS_BOUNDARY if n > 3 {\n", `eq.txt:1: entry has no "why:"`, 0},
		{"reason first", "\twhy: orphan\n", `eq.txt:1: an indented line must be the "why:"`, 0},
		{"bad entry", "pkg/a.go CONDITIONALS_BOUNDARY x\n\twhy: y\n", `eq.txt:1: want "path:column MUTATOR source line"`, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, "eq.txt")
			write(t, p, tt.content)
			list, err := readEquivalents(p)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || len(list) != tt.want {
				t.Fatalf("got %d entries, %v; want %d", len(list), err, tt.want)
			}
		})
	}
	if list, err := readEquivalents(filepath.Join(t.TempDir(), "missing")); err != nil || list != nil {
		t.Errorf("a missing file: %v, %v; want an empty list", list, err)
	}
}

// TestReport runs the report on a gremlins result: per-package efficacy,
// equivalents matched by line text (not number), unlisted survivors and
// stale entries, and the verdict.
func TestReport(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	write(t, "pkg/a.go", "package pkg\n\nfunc f(n int) bool {\n\treturn n > 3\n}\n")
	write(t, "pkg/sub/b.go", "package sub\n\nvar x = 1 + 2\n")
	write(t, "out/pkg.json", `{"files":[
		{"file_name":"a.go","mutations":[
			{"type":"CONDITIONALS_BOUNDARY","status":"LIVED","line":4,"column":11},
			{"type":"CONDITIONALS_NEGATION","status":"KILLED","line":4,"column":11}]},
		{"file_name":"sub/b.go","mutations":[
			{"type":"ARITHMETIC_BASE","status":"LIVED","line":3,"column":11},
			{"type":"ARITHMETIC_BASE","status":"NOT COVERED","line":3,"column":11}]}]}`)

	tests := []struct {
		name        string
		equivalents string
		threshold   float64
		wantOK      bool
		want        []string
	}{
		{
			name:      "nothing listed",
			threshold: 50,
			want: []string{
				"2 mutants lived",
				"pkg/a.go:11 CONDITIONALS_BOUNDARY return n > 3",
				"pkg/sub/b.go:11 ARITHMETIC_BASE var x = 1 + 2",
			},
		},
		{
			name:        "all listed but under the threshold",
			equivalents: "pkg/a.go:11 CONDITIONALS_BOUNDARY return n > 3\n\twhy: test\npkg/sub/b.go:11 ARITHMETIC_BASE var x = 1 + 2\n\twhy: test\n",
			threshold:   95,
			want:        []string{"50.0% < threshold", "0.0% < threshold"},
		},
		{
			name:        "all listed, low bar",
			equivalents: "pkg/a.go:11 CONDITIONALS_BOUNDARY return n > 3\n\twhy: test\npkg/sub/b.go:11 ARITHMETIC_BASE var x = 1 + 2\n\twhy: test\n",
			threshold:   0,
			wantOK:      true,
			want:        []string{"every package at or above 0%"},
		},
		{
			name:        "stale entry",
			equivalents: "pkg/a.go:11 CONDITIONALS_BOUNDARY return n >= 3\n\twhy: the line changed since\n",
			threshold:   0,
			want:        []string{"stale: eq.txt:1 lists pkg/a.go:11 CONDITIONALS_BOUNDARY", "2 mutants lived"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			write(t, "eq.txt", tt.equivalents)
			var out strings.Builder
			ok, err := run(config{threshold: tt.threshold, equivalents: "eq.txt", outDir: "out", reuse: true, stdout: &out}, []string{"./pkg"})
			if err != nil {
				t.Fatal(err)
			}
			if ok != tt.wantOK {
				t.Errorf("ok = %v, want %v", ok, tt.wantOK)
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
}

// A run where the machine was too busy for the tests to build in time
// says nothing, whatever its efficacy.
func TestReportTimeouts(t *testing.T) {
	t.Chdir(t.TempDir())
	write(t, "pkg/a.go", "package pkg\n\nvar x = 1 + 2\n")
	write(t, "out/pkg.json", `{"files":[{"file_name":"a.go","mutations":[
		{"type":"ARITHMETIC_BASE","status":"TIMED OUT","line":3,"column":11},
		{"type":"ARITHMETIC_BASE","status":"KILLED","line":3,"column":11}]}]}`)
	var out strings.Builder
	ok, err := run(config{threshold: 95, equivalents: "eq.txt", outDir: "out", reuse: true, stdout: &out}, []string{"pkg"})
	if err != nil || ok {
		t.Fatalf("ok %v, err %v; want a failed verdict", ok, err)
	}
	for _, w := range []string{"1 mutants timed out", "pkg/a.go:3:11 ARITHMETIC_BASE var x = 1 + 2", "too busy"} {
		if !strings.Contains(out.String(), w) {
			t.Errorf("output lacks %q:\n%s", w, out.String())
		}
	}
}

// A directory of equivalents files is read whole; README and the like
// (not *.txt) are not entries.
func TestReadEquivalentsDir(t *testing.T) {
	dir := t.TempDir()
	write(t, filepath.Join(dir, "a.txt"), "pkg/a.go:9 CONDITIONALS_BOUNDARY if n > 3 {\n\twhy: one\n")
	write(t, filepath.Join(dir, "b.txt"), "pkg/b.go:1 ARITHMETIC_BASE x + y\n\twhy: two\n")
	write(t, filepath.Join(dir, "README"), "not an entry\n")
	list, err := readEquivalents(dir)
	if err != nil || len(list) != 2 || list[1].file != filepath.Join(dir, "b.txt") || list[1].at != 1 {
		t.Fatalf("got %+v, %v", list, err)
	}
}
