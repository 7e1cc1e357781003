package procmem

import (
	"errors"
	"io"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
)

// A /proc/PID/smaps of a static Go binary, shortened: text, rodata, data,
// then a PIE's RELRO segment (read-only now, but written: its relocated
// pages are anonymous), a shared mapping and another file.
const smapsSample = `00400000-009f9000 r-xp 00000000 00:1f 1234                               /usr/sbin/pppoed
Size:               6116 kB
Rss:                2288 kB
Anonymous:             0 kB
Swap:                  0 kB
VmFlags: rd ex mr mw me 
009f9000-01043000 r--p 005f9000 00:1f 1234                               /usr/sbin/pppoed
Size:               6440 kB
Anonymous:             0 kB
Swap:                  0 kB
VmFlags: rd mr mw me 
01043000-010b2000 rw-p 00c43000 00:1f 1234                               /usr/sbin/pppoed
Anonymous:           120 kB
Swap:                  0 kB
7f0000000000-7f0000010000 r--p 00c00000 00:1f 1234                       /usr/sbin/pppoed
Anonymous:             8 kB
Swap:                  0 kB
7f0000010000-7f0000020000 r--s 00000000 00:1f 1234                       /usr/sbin/pppoed
Anonymous:             0 kB
Swap:                  0 kB
7f0000020000-7f0000030000 r--p 00000000 00:1f 99                         /usr/lib/other
Anonymous:             0 kB
Swap:                  0 kB
7f0000030000-7f0000040000 rw-p 00000000 00:00 0 
Anonymous:            64 kB
Swap:                  0 kB
7f0000040000-7f0000050000 r--p 00000000 00:1f 1235                       /usr/sbin/pppoed (deleted)
Anonymous:             0 kB
Swap:                  0 kB
`

func TestImageRanges(t *testing.T) {
	tests := []struct {
		name, exe string
		want      []addrRange
	}{
		{"text and rodata, not data, RELRO, shared or other files", "/usr/sbin/pppoed",
			[]addrRange{{0x400000, 0x9f9000}, {0x9f9000, 0x1043000}}},
		{"a replaced binary: the path with (deleted), as /proc/self/exe reads", "/usr/sbin/pppoed (deleted)",
			[]addrRange{{0x7f0000040000, 0x7f0000050000}}},
		{"no mapping of it", "/usr/sbin/pppd", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := imageRanges(strings.NewReader(smapsSample), tt.exe); !slices.Equal(got, tt.want) {
				t.Fatalf("imageRanges = %x, want %x", got, tt.want)
			}
		})
	}
	// Each mapping must be shown to hold no anonymous page, resident or
	// swapped: the last one too.
	const hdr = "00400000-00500000 r--p 00000000 00:1f 1 /x\n"
	for _, c := range []struct {
		name, smaps string
		take        bool
	}{
		{"both zero", hdr + "Anonymous: 0 kB\nSwap: 0 kB\n", true},
		{"anonymous pages", hdr + "Anonymous: 4 kB\nSwap: 0 kB\n", false},
		{"written pages swapped out (a RELRO)", hdr + "Anonymous: 0 kB\nSwap: 148 kB\n", false},
		{"no Swap line", hdr + "Anonymous: 0 kB\n", false},
		{"no Anonymous line", hdr + "Swap: 0 kB\n", false},
		{"cut short after the header", hdr + "Rss: 4 kB\n", false},
		{"a value not in kB", hdr + "Anonymous: 0 MB\nSwap: 0 kB\n", false},
		{"a line too long for the scanner", hdr + "Anonymous: 0 kB\nSwap: 0 kB\nVmFlags: " + strings.Repeat("rd ", 30000) + "\n", false},
	} {
		got := imageRanges(strings.NewReader(c.smaps), "/x")
		if (got != nil) != c.take {
			t.Errorf("%s: %x, want taken %v", c.name, got, c.take)
		}
	}
	// A read that fails gives nothing, whatever came before.
	if got := imageRanges(io.MultiReader(strings.NewReader(hdr+"Anonymous: 0 kB\nSwap: 0 kB\n"), iotest.ErrReader(errors.New("EIO"))), "/x"); got != nil {
		t.Errorf("a failed read: %x", got)
	}
	for _, bad := range []string{
		"zz-00500000 r-xp 00000000 00:1f 1 /x\n",
		"00500000-00400000 r-xp 00000000 00:1f 1 /x\n",
		"00400000 r-xp 00000000 00:1f 1 /x\n",
		"00400000-00500000 rw 00000000 00:1f 1 /x\n",
		"00400000-00500000 -r-p 00000000 00:1f 1 /x\n",
	} {
		if got := imageRanges(strings.NewReader(bad), "/x"); got != nil {
			t.Errorf("%q: %x", bad, got)
		}
	}
}

// rss is the process's Rss from smaps_rollup, in kB.
func rss(t *testing.T) int {
	b, err := os.ReadFile("/proc/self/smaps_rollup")
	if err != nil {
		t.Skipf("no smaps_rollup: %v", err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "Rss:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatal("no Rss in smaps_rollup")
	return 0
}

// TrimImage on this test binary: its image's pages leave the RSS, and
// the code keeps running (the pages come back as they are used).
func TestTrimImage(t *testing.T) {
	before := rss(t)
	n, err := TrimImage()
	if err != nil {
		t.Fatal(err)
	}
	after := rss(t)
	t.Logf("cleared %d KiB of mappings; Rss %d -> %d KiB", n>>10, before, after)
	if n == 0 {
		t.Fatal("no mapping of the executable cleared")
	}
	if after >= before {
		t.Fatalf("Rss %d KiB after, %d before", after, before)
	}
	// Still working: plenty of code and read-only data used again.
	if s := strings.Repeat(strconv.Itoa(42), 3); s != "424242" {
		t.Fatal(s)
	}
}
