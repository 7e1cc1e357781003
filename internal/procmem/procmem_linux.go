package procmem

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// TrimImage drops the page-table entries of the running executable's
// read-only, file-backed mappings (MADV_DONTNEED; see the package doc),
// and reports how many bytes of mappings it cleared. A mapping with any
// anonymous page is left alone: such a page was written (a RELRO
// segment's relocations, in a PIE or dynamic build) and would be lost.
func TrimImage() (int, error) {
	exe, err := os.Readlink("/proc/self/exe")
	if err != nil {
		return 0, fmt.Errorf("procmem: %w", err)
	}
	// Read as a stream: the whole file, some 40 KiB, would grow the heap
	// of a daemon that is trying to shrink.
	f, err := os.Open("/proc/self/smaps")
	if err != nil {
		return 0, fmt.Errorf("procmem: %w", err)
	}
	ranges := imageRanges(f, exe)
	f.Close()
	total := 0
	for _, r := range ranges {
		if _, _, e := unix.Syscall(unix.SYS_MADVISE, r.start, r.end-r.start, unix.MADV_DONTNEED); e != 0 {
			return total, fmt.Errorf("procmem: madvise %#x-%#x: %w", r.start, r.end, e)
		}
		total += int(r.end - r.start)
	}
	return total, nil
}

type addrRange struct{ start, end uintptr }

// imageRanges returns the mappings of the file exe in a /proc/PID/smaps
// text that are safe to drop: read-only ("r-", no write permission),
// private, and shown to hold no page of anonymous memory, resident
// ("Anonymous: 0 kB") or swapped out ("Swap: 0 kB"): a written page
// (a PIE's relocated RELRO) is anonymous, and dropping it would bring the
// file's unrelocated octets back. Each mapping is a header line,
// "start-end perms offset dev inode path", then "Key: value kB" lines. It
// fails closed: a mapping whose two lines were not both read as 0 is
// left out, and a read that ends in an error gives nothing.
func imageRanges(smaps io.Reader, exe string) []addrRange {
	var out []addrRange
	var cur *addrRange // the current mapping, if a candidate
	var anonZero, swapZero bool
	flush := func() {
		if cur != nil && anonZero && swapZero {
			out = append(out, *cur)
		}
		cur, anonZero, swapZero = nil, false, false
	}
	sc := bufio.NewScanner(smaps)
	for sc.Scan() {
		line := sc.Bytes()
		first, _, _ := bytes.Cut(line, []byte(" "))
		if key, ok := bytes.CutSuffix(first, []byte(":")); ok {
			// A field of the current mapping (most lines: no
			// allocation for them).
			if cur == nil {
				continue
			}
			zero := func() bool {
				v := bytes.Fields(line[len(first):])
				return len(v) == 2 && string(v[0]) == "0" && string(v[1]) == "kB"
			}
			switch string(key) {
			case "Anonymous":
				anonZero = zero()
			case "Swap":
				swapZero = zero()
			}
			continue
		}
		flush()
		if r, ok := candidate(bytes.Fields(line), exe); ok {
			cur = &r
		}
	}
	flush()
	if sc.Err() != nil {
		return nil
	}
	return out
}

// candidate parses a mapping's header fields and says whether it is a
// read-only private mapping of exe.
func candidate(f [][]byte, exe string) (addrRange, bool) {
	if len(f) < 6 || string(bytes.Join(f[5:], []byte(" "))) != exe {
		return addrRange{}, false
	}
	perms := f[1]
	if len(perms) != 4 || perms[0] != 'r' || perms[1] != '-' || perms[3] != 'p' {
		return addrRange{}, false
	}
	lo, hi, ok := bytes.Cut(f[0], []byte("-"))
	if !ok {
		return addrRange{}, false
	}
	start, err1 := strconv.ParseUint(string(lo), 16, 64)
	end, err2 := strconv.ParseUint(string(hi), 16, 64)
	if err1 != nil || err2 != nil || end <= start {
		return addrRange{}, false
	}
	return addrRange{uintptr(start), uintptr(end)}, true
}
