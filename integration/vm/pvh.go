package vm

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
)

// Under TCG a third of the boot (about 3 s) is the kernel decompressing
// itself. qemu can instead boot the uncompressed vmlinux through its PVH
// entry point, so the runner extracts it from the bzImage once and caches
// it. Anything unexpected falls back to booting the bzImage.

// xenElfnotePhys32Entry is XEN_ELFNOTE_PHYS32_ENTRY: the PVH entry point
// note (include/xen/interface/elfnote.h) that qemu looks for.
const xenElfnotePhys32Entry = 18

// pvhKernel returns the path of k's uncompressed, PVH-bootable vmlinux in
// cacheDir, extracting it on first use.
func pvhKernel(k Kernel, cacheDir string) (string, error) {
	fi, err := os.Stat(k.Image)
	if err != nil {
		return "", err
	}
	out := filepath.Join(cacheDir, fmt.Sprintf("vmlinux-%s-%d-%d", k.Release, fi.Size(), fi.ModTime().Unix()))
	if _, err := os.Stat(out); err == nil {
		return out, nil
	}
	img, err := os.ReadFile(k.Image)
	if err != nil {
		return "", err
	}
	vmlinux, err := extractVmlinux(img)
	if err != nil {
		return "", fmt.Errorf("%s: %w", k.Image, err)
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(cacheDir, ".vmlinux-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(vmlinux); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	// Older extractions of this release (a reinstalled package) go away.
	old, _ := filepath.Glob(filepath.Join(cacheDir, "vmlinux-"+k.Release+"-*"))
	for _, o := range old {
		if o != out { // a concurrent run may have just put it there
			os.Remove(o)
		}
	}
	return out, os.Rename(tmp.Name(), out)
}

// extractVmlinux finds the compressed kernel in a bzImage (XZ or gzip, the
// ones Debian uses or used) and returns it if it is an ELF with a PVH entry.
// XZ goes through xz(1): the kernel's stream uses the x86 BCJ filter, which
// Go's XZ decoders lack.
func extractVmlinux(img []byte) ([]byte, error) {
	type format struct {
		magic []byte
		open  func(io.Reader) (io.Reader, error)
	}
	formats := []format{
		{[]byte("\xfd7zXZ\x00"), func(r io.Reader) (io.Reader, error) {
			cmd := exec.Command("xz", "--decompress", "--stdout", "--single-stream")
			cmd.Stdin = r
			out, err := cmd.Output()
			return bytes.NewReader(out), err
		}},
		{[]byte("\x1f\x8b\x08"), func(r io.Reader) (io.Reader, error) {
			zr, err := gzip.NewReader(r)
			if err == nil {
				zr.Multistream(false)
			}
			return zr, err
		}},
	}
	for _, f := range formats {
		for off := 0; ; {
			i := bytes.Index(img[off:], f.magic)
			if i < 0 {
				break
			}
			off += i
			r, err := f.open(bytes.NewReader(img[off:]))
			if err == nil {
				// The bzImage has more after the stream (at least the
				// uncompressed size), which the decoders report as an
				// error once the stream is done; completeness is judged
				// by the ELF file itself instead.
				b, _ := io.ReadAll(r)
				if hasPVHNote(b) && elfComplete(b) {
					return b, nil
				}
			}
			off++ // a false match inside other data: keep looking
		}
	}
	return nil, errors.New("no compressed ELF kernel with a PVH entry point inside")
}

// hasPVHNote reports whether b is an ELF file with a Xen PHYS32_ENTRY note.
func hasPVHNote(b []byte) bool {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil {
		return false
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		data, err := io.ReadAll(p.Open())
		if err != nil {
			continue
		}
		// Each note: namesz, descsz, type (4 octets each), then the name
		// and the descriptor, each padded to 4 octets.
		for len(data) >= 12 {
			namesz := int(binary.LittleEndian.Uint32(data[0:]))
			descsz := int(binary.LittleEndian.Uint32(data[4:]))
			typ := binary.LittleEndian.Uint32(data[8:])
			end := 12 + align4(namesz) + align4(descsz)
			if namesz < 0 || descsz < 0 || end > len(data) || end < 12 {
				break
			}
			name := string(bytes.TrimRight(data[12:12+namesz], "\x00"))
			if name == "Xen" && typ == xenElfnotePhys32Entry {
				return true
			}
			data = data[end:]
		}
	}
	return false
}

func align4(n int) int { return (n + 3) &^ 3 }

// elfComplete reports whether b holds every segment and the section header
// table its ELF64 header describes, so that a truncated stream is refused.
func elfComplete(b []byte) bool {
	f, err := elf.NewFile(bytes.NewReader(b))
	if err != nil || f.Class != elf.ELFCLASS64 || len(b) < 64 {
		return false
	}
	defer f.Close()
	need := uint64(0)
	for _, p := range f.Progs {
		need = max(need, p.Off+p.Filesz)
	}
	// e_shoff at 0x28, e_shentsize at 0x3a, e_shnum at 0x3c (ELF64).
	bo := f.ByteOrder
	shoff, shentsize, shnum := bo.Uint64(b[0x28:]), uint64(bo.Uint16(b[0x3a:])), uint64(bo.Uint16(b[0x3c:]))
	need = max(need, shoff+shentsize*shnum)
	return uint64(len(b)) >= need
}
