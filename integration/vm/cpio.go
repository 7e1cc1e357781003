package vm

import (
	"bufio"
	"fmt"
	"io"
	"path"
	"strings"
)

// cpioWriter writes the "newc" (SVR4, no CRC) cpio format that the kernel
// unpacks as an initramfs (Documentation/driver-api/early-userspace/buffer-format.rst).
// Only what an initramfs needs is supported: directories, regular files and
// character devices, owned by root.
type cpioWriter struct {
	w    *bufio.Writer
	ino  uint32
	err  error
	dirs map[string]bool
}

func newCPIOWriter(w io.Writer) *cpioWriter {
	return &cpioWriter{w: bufio.NewWriter(w), ino: 1, dirs: map[string]bool{".": true, "/": true}}
}

// File modes as cpio stores them (the st_mode bits of <sys/stat.h>).
const (
	cpioTypeDir  = 0o040000
	cpioTypeReg  = 0o100000
	cpioTypeChar = 0o020000
)

// header writes one newc header and the padded name.
func (c *cpioWriter) header(name string, mode uint32, size int, rmajor, rminor uint32) {
	if c.err != nil {
		return
	}
	nlink := uint32(1)
	if mode&cpioTypeDir == cpioTypeDir {
		nlink = 2
	}
	// Thirteen 8-digit hex fields after the magic: ino, mode, uid, gid,
	// nlink, mtime, filesize, devmajor, devminor, rdevmajor, rdevminor,
	// namesize (including the NUL) and check (always 0 for newc).
	hdr := fmt.Sprintf("070701%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x%08x",
		c.ino, mode, 0, 0, nlink, 0, size, 0, 0, rmajor, rminor, len(name)+1, 0)
	c.ino++
	if _, err := c.w.WriteString(hdr + name + "\x00"); err != nil {
		c.err = err
		return
	}
	// Header plus name is padded to a multiple of four octets.
	c.pad(len(hdr) + len(name) + 1)
}

func (c *cpioWriter) pad(n int) {
	if c.err != nil {
		return
	}
	if r := n % 4; r != 0 {
		_, c.err = c.w.WriteString(strings.Repeat("\x00", 4-r))
	}
}

// mkdirAll records every missing parent directory of name, then name itself.
func (c *cpioWriter) mkdirAll(name string) {
	name = strings.TrimPrefix(path.Clean(name), "/")
	if c.dirs[name] || name == "" {
		return
	}
	c.mkdirAll(path.Dir(name))
	c.header(name, cpioTypeDir|0o755, 0, 0, 0)
	c.dirs[name] = true
}

// WriteFile adds a regular file with the given permission bits.
func (c *cpioWriter) WriteFile(name string, perm uint32, data []byte) {
	name = strings.TrimPrefix(path.Clean(name), "/")
	c.mkdirAll(path.Dir(name))
	c.header(name, cpioTypeReg|perm, len(data), 0, 0)
	if c.err == nil {
		_, c.err = c.w.Write(data)
	}
	c.pad(len(data))
}

// CharDev adds a character device node.
func (c *cpioWriter) CharDev(name string, perm, major, minor uint32) {
	name = strings.TrimPrefix(path.Clean(name), "/")
	c.mkdirAll(path.Dir(name))
	c.header(name, cpioTypeChar|perm, 0, major, minor)
}

// Close writes the trailer and flushes.
func (c *cpioWriter) Close() error {
	c.header("TRAILER!!!", 0, 0, 0, 0)
	if c.err != nil {
		return c.err
	}
	return c.w.Flush()
}
