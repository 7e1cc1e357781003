// Command mutate runs mutation testing over pppoed's protocol packages and
// holds the result to the project's bar (`make mutate`).
//
// For each directory given it runs gremlins (pinned as a tool in go.mod)
// over the directory and its subpackages, then reports per package: the
// mutants the tests killed, those that lived, those no test covers, and
// the test efficacy, killed / (killed + lived), as gremlins computes it.
//
// A mutant that lives is a change to the code that no test notices. Each
// one is either killed by a new test or, when no test can kill it because
// it changes nothing observable (an equivalent mutant), listed with the
// reason in an equivalents file (testdata/equivalent-mutants/PACKAGE.txt).
// mutate fails when a package's efficacy is under the threshold or when a
// mutant lives that no equivalents file lists; entries that no longer
// match a surviving mutant are reported as stale, so the lists stay short
// and true.
//
// The equivalents file names each mutant by its file, column, mutator and
// the text of its source line, not by line number, so that edits elsewhere
// in the file do not invalidate it:
//
//	# comment
//	ppp/fsm.go:17 CONDITIONALS_BOUNDARY if f.timerSet > fastRetransmit {
//		why: timerSet is only ever 3 s or 200 ms: > and >= agree
//
// Usage:
//
//	go run ./internal/cmd/mutate [-threshold 95] [-equivalent FILE] [-files REGEXP] [-reuse] DIR...
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// Statuses in gremlins' JSON report.
const (
	statusKilled     = "KILLED"
	statusLived      = "LIVED"
	statusNotCovered = "NOT COVERED"
	statusTimedOut   = "TIMED OUT"
	statusNotViable  = "NOT VIABLE"
)

// report is the part of gremlins' JSON output (-o) that mutate reads.
type report struct {
	Files []struct {
		FileName  string `json:"file_name"`
		Mutations []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
			Line   int    `json:"line"`
			Column int    `json:"column"`
		} `json:"mutations"`
	} `json:"files"`
}

// mutant is one mutation, its file relative to the module root.
type mutant struct {
	path         string
	line, column int
	mutator      string
	status       string
	text         string // the source line, trimmed
}

func (m mutant) String() string {
	return fmt.Sprintf("%s:%d:%d %s %s", m.path, m.line, m.column, m.mutator, m.text)
}

// entry is one listed equivalent mutant.
type entry struct {
	path    string
	column  int
	mutator string
	text    string
	why     string
	file    string // the equivalents file it is in
	at      int    // its line there
	used    bool
}

func (e *entry) matches(m mutant) bool {
	return e.path == m.path && e.column == m.column && e.mutator == m.mutator && e.text == m.text
}

var entryRE = regexp.MustCompile(`^(\S+):(\d+) ([A-Z_]+) (.+)$`)

// readEquivalents reads a file of equivalents, or every *.txt file in a
// directory of them (one per package keeps edits apart); a missing one is
// empty.
func readEquivalents(path string) ([]*entry, error) {
	if fi, err := os.Stat(path); err == nil && fi.IsDir() {
		files, err := filepath.Glob(filepath.Join(path, "*.txt"))
		if err != nil {
			return nil, err
		}
		var all []*entry
		for _, f := range files {
			list, err := readEquivalentsFile(f)
			if err != nil {
				return nil, err
			}
			all = append(all, list...)
		}
		return all, nil
	}
	return readEquivalentsFile(path)
}

func readEquivalentsFile(path string) ([]*entry, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var list []*entry
	sc := bufio.NewScanner(f)
	n := 0
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
		case line[0] == ' ' || line[0] == '\t':
			why, ok := strings.CutPrefix(trimmed, "why:")
			if !ok || len(list) == 0 {
				return nil, fmt.Errorf("%s:%d: an indented line must be the \"why:\" of the entry above it", path, n)
			}
			e := list[len(list)-1]
			e.why = strings.TrimSpace(e.why + " " + strings.TrimSpace(why))
		default:
			m := entryRE.FindStringSubmatch(line)
			if m == nil {
				return nil, fmt.Errorf("%s:%d: want \"path:column MUTATOR source line\", got %q", path, n, line)
			}
			col, _ := strconv.Atoi(m[2])
			list = append(list, &entry{path: m[1], column: col, mutator: m[3], text: strings.TrimSpace(m[4]), file: path, at: n})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	for _, e := range list {
		if e.why == "" {
			return nil, fmt.Errorf("%s:%d: entry has no \"why:\": say why no test can kill it", path, e.at)
		}
	}
	return list, nil
}

// sourceLines caches files' lines for naming mutants by their text.
type sourceLines map[string][]string

func (s sourceLines) text(path string, line int) string {
	lines, ok := s[path]
	if !ok {
		b, err := os.ReadFile(path)
		if err == nil {
			lines = strings.Split(string(b), "\n")
		}
		s[path] = lines
	}
	if line < 1 || line > len(lines) {
		return ""
	}
	return strings.TrimSpace(lines[line-1])
}

type config struct {
	threshold   float64
	equivalents string
	outDir      string
	exclude     []string
	files       *regexp.Regexp // nil: all files
	reuse       bool
	workers     int
	coefficient int
	stdout      io.Writer
}

func main() {
	cfg := config{stdout: os.Stdout}
	flag.Float64Var(&cfg.threshold, "threshold", 95, "the least test efficacy (percent) each package must reach")
	flag.StringVar(&cfg.equivalents, "equivalent", "testdata/equivalent-mutants", "the equivalent mutants, with reasons: a file, or a directory of *.txt files")
	flag.StringVar(&cfg.outDir, "out", "bin/mutate", "where gremlins' reports and logs go")
	exclude := flag.String("exclude", `(^|/)(ppptest|discoverytest)/`, "comma-separated regexps of files not to mutate (test helpers)")
	files := flag.String("files", "", "mutate only the files whose path (from the module root) matches this regexp, to iterate on a few")
	flag.BoolVar(&cfg.reuse, "reuse", false, "report on the last run's results instead of running gremlins again")
	flag.IntVar(&cfg.workers, "workers", 0, "gremlins' parallel test runs (0: one per CPU)")
	flag.IntVar(&cfg.coefficient, "timeout-coefficient", 8, "a mutant's tests may take this many times the unmutated run (gremlins' default, 3, is too tight on a busy 2-core machine: builds time out)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: mutate [flags] DIR...\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	if flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	if *exclude != "" {
		cfg.exclude = strings.Split(*exclude, ",")
	}
	if *files != "" {
		re, err := regexp.Compile(*files)
		if err != nil {
			fmt.Fprintln(os.Stderr, "mutate: -files:", err)
			os.Exit(2)
		}
		cfg.files = re
	}
	ok, err := run(cfg, flag.Args())
	if err != nil {
		fmt.Fprintln(os.Stderr, "mutate:", err)
		os.Exit(2)
	}
	if !ok {
		os.Exit(1)
	}
}

// run mutates every directory and reports; ok is false when the bar is
// not met.
func run(cfg config, dirs []string) (ok bool, _ error) {
	equivalents, err := readEquivalents(cfg.equivalents)
	if err != nil {
		return false, err
	}
	if err := os.MkdirAll(cfg.outDir, 0o755); err != nil {
		return false, err
	}
	var all []mutant
	src := sourceLines{}
	for _, dir := range dirs {
		dir = filepath.Clean(strings.TrimPrefix(dir, "./"))
		name := strings.ReplaceAll(dir, "/", "_")
		if cfg.files != nil {
			name += "-partial" // a partial run keeps the last full one
		}
		jsonPath := filepath.Join(cfg.outDir, name+".json")
		if !cfg.reuse {
			if err := gremlins(cfg, dir, jsonPath, filepath.Join(cfg.outDir, name+".log")); err != nil {
				return false, err
			}
		}
		ms, err := load(jsonPath, dir, src)
		if err != nil {
			return false, err
		}
		all = append(all, ms...)
	}
	return summarize(cfg, all, equivalents, dirs), nil
}

// gremlins runs one directory's mutation testing; its own output goes to
// logPath, its results to jsonPath.
func gremlins(cfg config, dir, jsonPath, logPath string) error {
	args := []string{"tool", "gremlins", "unleash", "--output", jsonPath}
	for _, x := range cfg.exclude {
		args = append(args, "--exclude-files", x)
	}
	if cfg.workers > 0 {
		args = append(args, "--workers", strconv.Itoa(cfg.workers))
	}
	if cfg.coefficient > 0 {
		args = append(args, "--timeout-coefficient", strconv.Itoa(cfg.coefficient))
	}
	if cfg.files != nil {
		// gremlins only excludes: every other file is excluded by name,
		// relative to dir as gremlins sees it.
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
				return err
			}
			if !cfg.files.MatchString(filepath.ToSlash(p)) {
				rel, _ := filepath.Rel(dir, p)
				args = append(args, "--exclude-files", "^"+regexp.QuoteMeta(filepath.ToSlash(rel))+"$")
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	args = append(args, "./"+dir)
	log, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer log.Close()
	fmt.Fprintf(cfg.stdout, "mutate: gremlins over ./%s/... (log: %s)\n", dir, logPath)
	start := time.Now()
	cmd := exec.Command("go", args...)
	cmd.Stdout, cmd.Stderr = log, log
	// gremlins times each mutant's tests against its first, unmutated
	// run; a cached result would make that a few milliseconds and every
	// mutant a timeout.
	cmd.Env = append(os.Environ(), "GOFLAGS="+strings.TrimSpace(os.Getenv("GOFLAGS")+" -count=1"))
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("gremlins over %s failed (%w): see %s", dir, err, logPath)
	}
	fmt.Fprintf(cfg.stdout, "mutate: ./%s/... done in %s\n", dir, time.Since(start).Round(time.Second))
	return nil
}

// load reads one gremlins report; its file names are relative to dir.
func load(jsonPath, dir string, src sourceLines) ([]mutant, error) {
	b, err := os.ReadFile(jsonPath)
	if err != nil {
		return nil, fmt.Errorf("no results for %s (run without -reuse): %w", dir, err)
	}
	var r report
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", jsonPath, err)
	}
	var ms []mutant
	for _, f := range r.Files {
		path := filepath.ToSlash(filepath.Join(dir, f.FileName))
		for _, m := range f.Mutations {
			ms = append(ms, mutant{path: path, line: m.Line, column: m.Column, mutator: m.Type, status: m.Status, text: src.text(path, m.Line)})
		}
	}
	return ms, nil
}

// maxTimedOutPercent is the share of timed-out mutants above which a run
// says nothing.
const maxTimedOutPercent = 5

type tally struct {
	killed, lived, equivalent, notCovered, timedOut, notViable int
}

func (t tally) efficacy() float64 {
	if t.killed+t.lived == 0 {
		return 100
	}
	return 100 * float64(t.killed) / float64(t.killed+t.lived)
}

// summarize prints the table, the unlisted survivors and stale entries,
// and says whether the bar is met.
func summarize(cfg config, ms []mutant, equivalents []*entry, dirs []string) bool {
	byPkg := map[string]*tally{}
	var pkgs []string
	var unlisted []mutant
	for _, m := range ms {
		pkg := filepath.ToSlash(filepath.Dir(m.path))
		t, ok := byPkg[pkg]
		if !ok {
			t = &tally{}
			byPkg[pkg] = t
			pkgs = append(pkgs, pkg)
		}
		switch m.status {
		case statusKilled:
			t.killed++
		case statusLived:
			t.lived++
			listed := false
			for _, e := range equivalents {
				if e.matches(m) {
					e.used, listed = true, true
				}
			}
			if listed {
				t.equivalent++
			} else {
				unlisted = append(unlisted, m)
			}
		case statusNotCovered:
			t.notCovered++
		case statusTimedOut:
			t.timedOut++
		case statusNotViable:
			t.notViable++
		}
	}
	slices.Sort(pkgs)
	ok := true
	timedOut := 0
	for _, m := range ms {
		if m.status == statusTimedOut {
			timedOut++
		}
	}
	if cfg.files != nil {
		fmt.Fprintf(cfg.stdout, "partial run: only files matching %q were mutated\n", cfg.files)
	}
	tw := tabwriter.NewWriter(cfg.stdout, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "package\tkilled\tlived\t(equivalent)\ttimed out\tnot covered\tefficacy\t")
	for _, p := range pkgs {
		t := byPkg[p]
		mark := ""
		if t.efficacy() < cfg.threshold {
			mark, ok = " < threshold", false
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%.1f%%%s\t\n", p, t.killed, t.lived, t.equivalent, t.timedOut, t.notCovered, t.efficacy(), mark)
	}
	tw.Flush()
	if len(unlisted) > 0 {
		ok = false
		fmt.Fprintf(cfg.stdout, "\n%d mutants lived that %s does not list: kill them with a test, or list them with the reason no test can:\n", len(unlisted), cfg.equivalents)
		for _, m := range unlisted {
			fmt.Fprintf(cfg.stdout, "  %s:%d %s %s\n", m.path, m.column, m.mutator, m.text)
			fmt.Fprintf(cfg.stdout, "      (line %d)\n", m.line)
		}
	}
	// gremlins leaves timed-out mutants out of the efficacy. A mutant that
	// makes a test hang is caught, but so many that the machine was only
	// too busy to build in time would make any efficacy meaningless.
	if timedOut > 0 {
		fmt.Fprintf(cfg.stdout, "\n%d mutants timed out (counted as caught, left out of the efficacy):\n", timedOut)
		for _, m := range ms {
			if m.status == statusTimedOut {
				fmt.Fprintf(cfg.stdout, "  %s\n", m)
			}
		}
		if timedOut*100 > maxTimedOutPercent*len(ms) {
			ok = false
			fmt.Fprintf(cfg.stdout, "more than %d%% of the mutants timed out: the machine was too busy; run again on an idle one or raise -timeout-coefficient\n", maxTimedOutPercent)
		}
	}
	for _, e := range equivalents {
		if !e.used && coveredBy(e.path, dirs) && (cfg.files == nil || cfg.files.MatchString(e.path)) {
			fmt.Fprintf(cfg.stdout, "\nstale: %s:%d lists %s:%d %s, which no longer lives (killed, or the line changed): remove it\n",
				e.file, e.at, e.path, e.column, e.mutator)
		}
	}
	if ok {
		fmt.Fprintf(cfg.stdout, "\nmutate: every package at or above %.0f%% efficacy; every surviving mutant is listed as equivalent\n", cfg.threshold)
	}
	return ok
}

// coveredBy reports whether path lies under one of the directories run.
func coveredBy(path string, dirs []string) bool {
	for _, d := range dirs {
		d = filepath.ToSlash(filepath.Clean(strings.TrimPrefix(d, "./")))
		if strings.HasPrefix(path, d+"/") {
			return true
		}
	}
	return false
}
