package vm

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// elfWithNote is an ELF64 header, one PT_NOTE program header and one note
// (name "Xen" when xen, else "GNU") of the given type.
func elfWithNote(xen bool, typ uint32) []byte {
	b := minimalELF(false)
	note := make([]byte, 12, 24)
	binary.LittleEndian.PutUint32(note[0:], 4)   // namesz, with the NUL
	binary.LittleEndian.PutUint32(note[4:], 8)   // descsz
	binary.LittleEndian.PutUint32(note[8:], typ) // type
	if xen {
		note = append(note, "Xen\x00"...)
	} else {
		note = append(note, "GNU\x00"...)
	}
	note = append(note, 0, 0, 0x10, 0, 0, 0, 0, 0)              // the entry address
	binary.LittleEndian.PutUint32(b[64:], 4)                    // p_type PT_NOTE
	binary.LittleEndian.PutUint64(b[64+8:], uint64(len(b)))     // p_offset
	binary.LittleEndian.PutUint64(b[64+32:], uint64(len(note))) // p_filesz (note plus body)
	return append(b, note...)
}

// xzOf compresses b the way the kernel build does (scripts/xz_wrap.sh).
func xzOf(t *testing.T, b []byte) []byte {
	t.Helper()
	if _, err := exec.LookPath("xz"); err != nil {
		t.Skip("xz(1) not installed (Debian package xz-utils)")
	}
	cmd := exec.Command("xz", "--check=crc32", "--x86", "--lzma2=dict=1MiB", "--stdout")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func gzipOf(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	w.Write(b)
	w.Close()
	return buf.Bytes()
}

func TestExtractVmlinux(t *testing.T) {
	pvh := elfWithNote(true, xenElfnotePhys32Entry)
	setup := []byte("MZ....HdrS setup code \xfd7zXZ\x00 not really xz ")
	tests := []struct {
		name  string
		image []byte
		ok    bool
	}{
		{"xz payload", append(append(append([]byte{}, setup...), xzOf(t, pvh)...), "trailer"...), true},
		{"gzip payload", append(append([]byte("setup"), gzipOf(pvh)...), "trailer"...), true},
		{"no PVH note", append([]byte("setup"), xzOf(t, elfWithNote(true, 1))...), false},
		{"note of another owner", append([]byte("setup"), xzOf(t, elfWithNote(false, xenElfnotePhys32Entry))...), false},
		{"not an ELF", append([]byte("setup"), xzOf(t, []byte("just data"))...), false},
		{"no payload", []byte("setup only"), false},
		{"truncated stream", append([]byte("setup"), xzOf(t, pvh)[:60]...), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := extractVmlinux(tt.image)
			if tt.ok {
				if err != nil || !bytes.Equal(got, pvh) {
					t.Fatalf("extractVmlinux = %d bytes, %v; want the ELF", len(got), err)
				}
			} else if err == nil {
				t.Fatalf("extractVmlinux accepted %s", tt.name)
			}
		})
	}
}

func TestPVHKernelCache(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "vmlinuz-9.9.9-test")
	mustWrite(t, img, "setup"+string(xzOf(t, elfWithNote(true, xenElfnotePhys32Entry))))
	cache := filepath.Join(dir, "cache")
	mustWrite(t, filepath.Join(cache, "vmlinux-9.9.9-test-1-1"), "stale extraction")
	k := Kernel{Image: img, Release: "9.9.9-test"}
	p1, err := pvhKernel(k, cache)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(filepath.Base(p1), "vmlinux-9.9.9-test-") {
		t.Errorf("cache file %s", p1)
	}
	ents, _ := os.ReadDir(cache)
	if len(ents) != 1 {
		t.Errorf("cache holds %d files, want the one extraction (stale removed)", len(ents))
	}
	// A second call reuses the file.
	if err := os.WriteFile(p1, []byte("cached"), 0o644); err != nil {
		t.Fatal(err)
	}
	p2, err := pvhKernel(k, cache)
	if b, _ := os.ReadFile(p2); err != nil || p2 != p1 || string(b) != "cached" {
		t.Errorf("second call = %s, %v; want the cached %s", p2, err, p1)
	}
	bad := Kernel{Image: filepath.Join(dir, "vmlinuz-bad"), Release: "bad"}
	mustWrite(t, bad.Image, "no kernel in here")
	if _, err := pvhKernel(bad, cache); err == nil {
		t.Error("pvhKernel accepted an image without a kernel")
	}
}
