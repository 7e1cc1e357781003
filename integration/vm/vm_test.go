package vm

import (
	"bytes"
	"encoding/binary"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// cpioEntry is one parsed newc record (test-side reader, written from the
// format description, independent of the writer).
type cpioEntry struct {
	name         string
	mode         uint32
	rmaj, rmin   uint32
	data         []byte
	headerOffset int
}

func parseNewc(t *testing.T, b []byte) []cpioEntry {
	t.Helper()
	var out []cpioEntry
	off := 0
	for {
		if off%4 != 0 {
			t.Fatalf("record at %d is not 4-aligned", off)
		}
		if len(b)-off < 110 {
			t.Fatalf("truncated header at %d", off)
		}
		h := b[off : off+110]
		if string(h[:6]) != "070701" {
			t.Fatalf("bad magic %q at %d", h[:6], off)
		}
		field := func(i int) uint32 {
			v, err := strconv.ParseUint(string(h[6+8*i:14+8*i]), 16, 32)
			if err != nil {
				t.Fatalf("field %d: %v", i, err)
			}
			return uint32(v)
		}
		mode, size, rmaj, rmin, nsize := field(1), field(6), field(9), field(10), field(11)
		nameStart := off + 110
		name := string(b[nameStart : nameStart+int(nsize)-1])
		if b[nameStart+int(nsize)-1] != 0 {
			t.Fatalf("%s: name not NUL-terminated", name)
		}
		dataStart := (nameStart + int(nsize) + 3) &^ 3
		if name == "TRAILER!!!" {
			return out
		}
		out = append(out, cpioEntry{name: name, mode: mode, rmaj: rmaj, rmin: rmin,
			data: b[dataStart : dataStart+int(size)], headerOffset: off})
		off = (dataStart + int(size) + 3) &^ 3
	}
}

func TestCPIOWriter(t *testing.T) {
	var buf bytes.Buffer
	w := newCPIOWriter(&buf)
	w.CharDev("/dev/console", 0o600, 5, 1)
	w.WriteFile("init", 0o755, []byte("#!x")) // 3 bytes: needs padding
	w.WriteFile("/modules/a/b.ko", 0o644, []byte("12345678"))
	w.WriteFile("dev/null-ish", 0o644, nil) // "dev" already exists: not repeated
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	got := parseNewc(t, buf.Bytes())
	want := []struct {
		name string
		mode uint32
		data string
	}{
		{"dev", 0o040755, ""},
		{"dev/console", 0o020600, ""},
		{"init", 0o100755, "#!x"},
		{"modules", 0o040755, ""},
		{"modules/a", 0o040755, ""},
		{"modules/a/b.ko", 0o100644, "12345678"},
		{"dev/null-ish", 0o100644, ""},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries %v, want %d", len(got), got, len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.name != w.name || g.mode != w.mode || string(g.data) != w.data {
			t.Errorf("entry %d = %q mode %o data %q, want %q mode %o data %q", i, g.name, g.mode, g.data, w.name, w.mode, w.data)
		}
	}
	if c := got[1]; c.rmaj != 5 || c.rmin != 1 {
		t.Errorf("console device = %d:%d, want 5:1", c.rmaj, c.rmin)
	}
	if buf.Len()%4 != 0 {
		t.Errorf("archive length %d not a multiple of 4", buf.Len())
	}
}

func TestCompareVersions(t *testing.T) {
	tests := []struct {
		a, b string
		want int // sign
	}{
		{"6.1.0-56-amd64", "6.1.0-9-amd64", 1},
		{"6.1.0-9-amd64", "6.10.0-1-amd64", -1},
		{"6.12.1+deb13-amd64", "6.1.0-56-amd64", 1},
		{"6.1.0-56-amd64", "6.1.0-56-amd64", 0},
		{"5.10.0-30-amd64", "5.10.0-30-cloud-amd64", -1},
		{"6.1.0-056-amd64", "6.1.0-56-amd64", 0},
	}
	for _, tt := range tests {
		got := compareVersions(tt.a, tt.b)
		if sign(got) != tt.want {
			t.Errorf("compareVersions(%q, %q) = %d, want sign %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}

// fakeKernels lays out a /boot and /lib/modules with the given releases;
// those listed in noModules get an image but no module tree.
func fakeKernels(t *testing.T, releases []string, noModules ...string) (boot, mods string) {
	t.Helper()
	root := t.TempDir()
	boot, mods = filepath.Join(root, "boot"), filepath.Join(root, "modules")
	for _, r := range releases {
		mustWrite(t, filepath.Join(boot, "vmlinuz-"+r), "kernel")
		if !slices.Contains(noModules, r) {
			mustWrite(t, filepath.Join(mods, r, "modules.dep"), "")
		}
	}
	return boot, mods
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestFindKernel(t *testing.T) {
	tests := []struct {
		name      string
		releases  []string
		noModules []string
		want      string // release, or "" for the no-kernel error
	}{
		{"newest wins", []string{"6.1.0-9-amd64", "6.1.0-56-amd64", "5.10.0-30-amd64"}, nil, "6.1.0-56-amd64"},
		{"needs modules", []string{"6.1.0-9-amd64", "6.1.0-56-amd64"}, []string{"6.1.0-56-amd64"}, "6.1.0-9-amd64"},
		{"none", nil, nil, ""},
		{"image without modules only", []string{"6.1.0-56-amd64"}, []string{"6.1.0-56-amd64"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			boot, mods := fakeKernels(t, tt.releases, tt.noModules...)
			k, err := FindKernel(boot, mods)
			if tt.want == "" {
				if err == nil || !strings.Contains(err.Error(), "linux-image-amd64") {
					t.Fatalf("FindKernel = %v, %v; want an error naming linux-image-amd64", k, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Release != tt.want || k.Image != filepath.Join(boot, "vmlinuz-"+tt.want) || k.ModDir != filepath.Join(mods, tt.want) {
				t.Errorf("FindKernel = %+v, want release %s", k, tt.want)
			}
		})
	}
}

func TestKernelFromImage(t *testing.T) {
	boot, mods := fakeKernels(t, []string{"6.1.0-56-amd64", "6.2.0-1-amd64"}, "6.2.0-1-amd64")
	if k, err := KernelFromImage(filepath.Join(boot, "vmlinuz-6.1.0-56-amd64"), mods); err != nil || k.Release != "6.1.0-56-amd64" {
		t.Errorf("KernelFromImage = %+v, %v", k, err)
	}
	if _, err := KernelFromImage(filepath.Join(boot, "vmlinuz-6.2.0-1-amd64"), mods); err == nil {
		t.Error("KernelFromImage accepted an image without modules")
	}
	if _, err := KernelFromImage(filepath.Join(boot, "vmlinuz-missing"), mods); err == nil {
		t.Error("KernelFromImage accepted a missing image")
	}
}

func TestModuleResolve(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "modules.dep"), strings.Join([]string{
		"kernel/fs/9p/9p.ko.xz: kernel/net/9p/9pnet.ko.xz kernel/fs/netfs/netfs.ko.xz",
		"kernel/net/9p/9pnet_virtio.ko.xz: kernel/net/9p/9pnet.ko.xz kernel/drivers/virtio/virtio_ring.ko.xz",
		"kernel/net/9p/9pnet.ko.xz:",
		"kernel/fs/netfs/netfs.ko.xz:",
		"kernel/drivers/virtio/virtio_ring.ko.xz:",
		"kernel/drivers/virtio/virtio_pci.ko.xz: kernel/drivers/virtio/virtio_ring.ko.xz",
		"kernel/drivers/net/ppp/ppp-async.ko:",
		"",
	}, "\n"))
	mustWrite(t, filepath.Join(dir, "modules.builtin"), "kernel/drivers/virtio/virtio.ko\n")
	ix, err := loadModuleIndex(dir)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		names   []string
		want    []string
		wantErr string
	}{
		{[]string{"virtio_pci", "9pnet_virtio", "9p"}, []string{
			"kernel/drivers/virtio/virtio_ring.ko.xz", "kernel/drivers/virtio/virtio_pci.ko.xz",
			"kernel/net/9p/9pnet.ko.xz", "kernel/net/9p/9pnet_virtio.ko.xz",
			"kernel/fs/netfs/netfs.ko.xz", "kernel/fs/9p/9p.ko.xz",
		}, ""},
		{[]string{"virtio"}, nil, ""}, // built in: nothing to load
		{[]string{"ppp_async"}, []string{"kernel/drivers/net/ppp/ppp-async.ko"}, ""}, // '-' and '_' are one
		{[]string{"nosuch"}, nil, `"nosuch" is neither built in nor in`},
	}
	for _, tt := range tests {
		got, err := ix.resolve(tt.names...)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("resolve(%v) error = %v, want %q", tt.names, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("resolve(%v) = %v, %v; want %v", tt.names, got, err, tt.want)
		}
	}
}

func TestBuildInitramfs(t *testing.T) {
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "modules.dep"), "kernel/a.ko:\nkernel/virtio_pci.ko: kernel/a.ko\nkernel/9pnet_virtio.ko:\nkernel/9p.ko:\n")
	for _, m := range []string{"a", "virtio_pci", "9pnet_virtio", "9p"} {
		mustWrite(t, filepath.Join(dir, "kernel", m+".ko"), "module "+m)
	}
	initBin := filepath.Join(dir, "init")
	mustWrite(t, initBin, "ELF...")
	sp := &spec{Nonce: "n", Args: []string{"true"}}
	var buf bytes.Buffer
	if err := buildInitramfs(&buf, Kernel{ModDir: dir, Release: "test"}, initBin, sp); err != nil {
		t.Fatal(err)
	}
	wantMods := []string{"/modules/a.ko", "/modules/virtio_pci.ko", "/modules/9pnet_virtio.ko", "/modules/9p.ko"}
	if !slices.Equal(sp.InitModules, wantMods) {
		t.Errorf("InitModules = %v, want %v", sp.InitModules, wantMods)
	}
	files := map[string]cpioEntry{}
	for _, e := range parseNewc(t, buf.Bytes()) {
		files[e.name] = e
	}
	if e := files["init"]; string(e.data) != "ELF..." || e.mode != 0o100755 {
		t.Errorf("init = %q mode %o", e.data, e.mode)
	}
	if e := files["modules/9p.ko"]; string(e.data) != "module 9p" {
		t.Errorf("modules/9p.ko = %q", e.data)
	}
	if !strings.Contains(string(files["vmrun.json"].data), `"/modules/a.ko"`) {
		t.Errorf("vmrun.json = %s, missing the module list", files["vmrun.json"].data)
	}
	for _, d := range []string{"dev", "proc", "sys", "host", "dev/console"} {
		if _, ok := files[d]; !ok {
			t.Errorf("initramfs lacks %s", d)
		}
	}
}

func TestReadConsole(t *testing.T) {
	const n = "0123abcd"
	tests := []struct {
		name        string
		in          string
		out         string
		kernelLog   string
		status      int
		ready       bool
		guestErr    string
		bootTailHas string
	}{
		{
			name:   "boot noise hidden, output forwarded, CRLF stripped",
			in:     "[ 1.0] booting\r\nvmrun:" + n + ":ready\r\nhello\r\nworld\r\nvmrun:" + n + ":status=3\r\n[ 3.9] reboot: Power down\r\n",
			out:    "hello\nworld\n",
			status: 3, ready: true,
		},
		{
			name:   "unterminated last line is split from the marker",
			in:     "vmrun:" + n + ":ready\nno newlinevmrun:" + n + ":status=0\n",
			out:    "no newline\n",
			status: 0, ready: true,
		},
		{
			name:   "a marker with another nonce is output",
			in:     "vmrun:" + n + ":ready\nvmrun:ffff:status=9\nvmrun:" + n + ":status=1\n",
			out:    "vmrun:ffff:status=9\n",
			status: 1, ready: true,
		},
		{
			name:     "guest error before the command",
			in:       "[ 1.0] x\nvmrun:" + n + ":error=mount 9p on /host: no such device\n",
			status:   -1,
			guestErr: "mount 9p on /host: no such device",
		},
		{
			name:     "nothing forwarded after a guest error",
			in:       "vmrun:" + n + ":ready\nout\nvmrun:" + n + ":error=wait: no child\n[ 3.5] reboot: Power down\n",
			out:      "out\n",
			status:   -1,
			ready:    true,
			guestErr: "wait: no child",
		},
		{
			name:        "panic without markers keeps the tail",
			in:          "[ 2.0] Kernel panic - not syncing: Attempted to kill init!\n",
			status:      -1,
			bootTailHas: "Kernel panic",
		},
		{
			name:      "kernel log shown when asked",
			in:        "[ 1.0] booting\nvmrun:" + n + ":ready\nout\nvmrun:" + n + ":status=0\n[ 3.0] reboot\n",
			out:       "out\n",
			kernelLog: "[ 1.0] booting\n[ 3.0] reboot\n",
			status:    0, ready: true,
		},
		{
			name:   "output cut off without a status",
			in:     "vmrun:" + n + ":ready\npartial",
			out:    "partial",
			status: -1, ready: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, log bytes.Buffer
			readies := 0
			res := readConsole(strings.NewReader(tt.in), n, &out, &log, tt.kernelLog != "", func() { readies++ })
			if out.String() != tt.out {
				t.Errorf("output = %q, want %q", out.String(), tt.out)
			}
			if log.String() != tt.kernelLog {
				t.Errorf("kernel log = %q, want %q", log.String(), tt.kernelLog)
			}
			if res.status != tt.status || res.ready != tt.ready || res.guestErr != tt.guestErr {
				t.Errorf("result = %+v, want status %d ready %v err %q", res, tt.status, tt.ready, tt.guestErr)
			}
			if (readies == 1) != tt.ready {
				t.Errorf("onReady called %d times", readies)
			}
			if tt.bootTailHas != "" && !strings.Contains(strings.Join(res.boot, "\n"), tt.bootTailHas) {
				t.Errorf("boot tail %q lacks %q", res.boot, tt.bootTailHas)
			}
		})
	}
}

func TestQemuArgs(t *testing.T) {
	c := Config{CPUs: 2, Memory: 512, Kernel: Kernel{Image: "/boot/vmlinuz-x"}}
	args := strings.Join(qemuArgs(&c, "/boot/vmlinuz-x", "/tmp/i.cpio", []share{{Tag: "share0", Path: "/work/x"}}), " ")
	for _, want := range []string{
		"-accel tcg -cpu max", "-smp 2 -m 512", "-kernel /boot/vmlinuz-x -initrd /tmp/i.cpio",
		"path=/,security_model=none,readonly=on", "mount_tag=hostroot",
		"-fsdev local,id=fs1,path=/work/x,security_model=none,multidevs=remap -device virtio-9p-pci,fsdev=fs1,mount_tag=share0",
		"-no-reboot", "panic=-1", "quiet",
	} {
		if !strings.Contains(args, want) {
			t.Errorf("qemu args lack %q:\n%s", want, args)
		}
	}
	if strings.Contains(args, "share0,readonly") {
		t.Error("shares must be writable")
	}
	args = strings.Join(qemuArgs(&c, "/k", "/i", []share{{Tag: "share0", Path: "/work/a,b"}}), " ")
	if !strings.Contains(args, "path=/work/a,,b,security_model") {
		t.Errorf("a comma in a share path is not escaped: %s", args)
	}
	c.KVM, c.KernelLog = true, true
	args = strings.Join(qemuArgs(&c, "/k", "/i", nil), " ")
	if !strings.Contains(args, "-accel kvm -cpu host") || strings.Contains(args, "quiet") {
		t.Errorf("KVM/kernel-log args wrong: %s", args)
	}
}

func TestGuestEnv(t *testing.T) {
	t.Setenv("PPPOED_REQUIRE_INTEGRATION", "1")
	t.Setenv("PPPOED_LAB", "forged")
	t.Setenv("SECRET_TOKEN", "x")
	t.Setenv("PATH", "/usr/bin:/bin")
	env := guestEnv("vm", []string{"A=b"})
	for _, want := range []string{"PPPOED_REQUIRE_INTEGRATION=1", "PPPOED_LAB=vm", "A=b", "HOME=/root"} {
		if !slices.Contains(env, want) {
			t.Errorf("env %v lacks %s", env, want)
		}
	}
	for _, kv := range env {
		if strings.HasPrefix(kv, "SECRET_TOKEN") || kv == "PPPOED_LAB=forged" {
			t.Errorf("env leaks %s", kv)
		}
		if v, ok := strings.CutPrefix(kv, "PATH="); ok && !strings.Contains(v, "/sbin") {
			t.Errorf("PATH %q lacks sbin directories (modprobe, ip)", v)
		}
	}
}

func TestCheckStatic(t *testing.T) {
	dir := t.TempDir()
	notELF := filepath.Join(dir, "script")
	mustWrite(t, notELF, "#!/bin/sh\n")
	if err := checkStatic(notELF); err == nil {
		t.Error("checkStatic accepted a script")
	}
	// A minimal ELF header with one PT_INTERP program header.
	dyn := minimalELF(true)
	stat := minimalELF(false)
	pd, ps := filepath.Join(dir, "dyn"), filepath.Join(dir, "static")
	mustWrite(t, pd, string(dyn))
	mustWrite(t, ps, string(stat))
	if err := checkStatic(pd); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("checkStatic(dynamic) = %v, want a CGO_ENABLED=0 hint", err)
	}
	if err := checkStatic(ps); err != nil {
		t.Errorf("checkStatic(static) = %v", err)
	}
}

// minimalELF builds an ELF64 little-endian executable header followed by one
// program header: PT_INTERP (3) when interp, else PT_LOAD (1).
func minimalELF(interp bool) []byte {
	b := make([]byte, 64+56)
	copy(b, "\x7fELF")
	b[4], b[5], b[6] = 2, 1, 1                // ELFCLASS64, little endian, EV_CURRENT
	binary.LittleEndian.PutUint16(b[16:], 2)  // e_type ET_EXEC
	binary.LittleEndian.PutUint16(b[18:], 62) // e_machine x86-64
	binary.LittleEndian.PutUint32(b[20:], 1)  // e_version
	binary.LittleEndian.PutUint64(b[32:], 64) // e_phoff
	binary.LittleEndian.PutUint16(b[52:], 64) // e_ehsize
	binary.LittleEndian.PutUint16(b[54:], 56) // e_phentsize
	binary.LittleEndian.PutUint16(b[56:], 1)  // e_phnum
	typ := uint32(1)
	if interp {
		typ = 3
	}
	binary.LittleEndian.PutUint32(b[64:], typ) // p_type
	return b
}

func TestPreflightNamesPackages(t *testing.T) {
	err := Preflight("qemu-system-does-not-exist")
	if err == nil || !strings.Contains(err.Error(), "qemu-system-x86") || !strings.Contains(err.Error(), "apt-get install") {
		t.Errorf("Preflight = %v, want an error naming the qemu package", err)
	}
}

func TestConfigFill(t *testing.T) {
	c := Config{}
	if err := c.fill(false); err == nil {
		t.Error("fill accepted an empty command")
	}
	c = Config{Args: []string{"true"}, Shares: []string{"/nonexistent/dir"}}
	if err := c.fill(false); err == nil || !strings.Contains(err.Error(), "/nonexistent/dir") {
		t.Errorf("fill(bad share) = %v", err)
	}
	c = Config{Args: []string{"true"}}
	if err := c.fill(true); err != nil {
		t.Fatal(err)
	}
	wd, _ := os.Getwd()
	if c.Dir != wd || !slices.Equal(c.Shares, []string{wd}) || !slices.Equal(c.Tmpfs, DirectTmpfs) {
		t.Errorf("defaults = dir %s shares %v tmpfs %v", c.Dir, c.Shares, c.Tmpfs)
	}
	// The working directory stays shared when the command runs elsewhere
	// (make runs bin/x with -chdir integration), and a Dir outside every
	// share is shared too.
	sub := filepath.Join(wd, "testdata-sub")
	mustWrite(t, filepath.Join(sub, "x"), "")
	t.Cleanup(func() { os.RemoveAll(sub) })
	c = Config{Args: []string{"true"}, Dir: sub}
	if err := c.fill(false); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Shares, []string{wd}) {
		t.Errorf("Dir inside the working directory: shares %v, want [%s]", c.Shares, wd)
	}
	other := t.TempDir()
	c = Config{Args: []string{"true"}, Dir: other}
	if err := c.fill(false); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Shares, []string{wd, other}) {
		t.Errorf("Dir outside the working directory: shares %v, want [%s %s]", c.Shares, wd, other)
	}
}

func TestCommandResolvesRelativeToDir(t *testing.T) {
	pathBefore := os.Getenv("PATH")
	dir := t.TempDir()
	mustWrite(t, filepath.Join(dir, "bin", "tool"), "#!/bin/sh\n")
	if err := os.Chmod(filepath.Join(dir, "bin", "tool"), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		arg0, want string
	}{
		{"bin/tool", filepath.Join(dir, "bin", "tool")},
		{"./bin/tool", filepath.Join(dir, "bin", "tool")},
		{"sh", ""}, // from PATH
	}
	for _, tt := range tests {
		cmd, err := command(&spec{Args: []string{tt.arg0, "x"}, Dir: dir, Env: []string{"PATH=/usr/bin:/bin"}}, io.Discard)
		if err != nil {
			t.Errorf("command(%q): %v", tt.arg0, err)
			continue
		}
		if tt.want != "" && cmd.Path != tt.want {
			t.Errorf("command(%q).Path = %q, want %q", tt.arg0, cmd.Path, tt.want)
		}
		if cmd.Dir != dir || cmd.Args[0] != tt.arg0 || cmd.Args[1] != "x" {
			t.Errorf("command(%q) = dir %q args %q", tt.arg0, cmd.Dir, cmd.Args)
		}
	}
	if _, err := command(&spec{Args: []string{"bin/missing"}, Dir: dir}, io.Discard); err == nil {
		t.Error("command accepted a missing program")
	}
	if _, err := command(&spec{Args: []string{"tool"}, Dir: dir, Env: []string{"PATH=/nonexistent"}}, io.Discard); err == nil {
		t.Error("command found a program outside the command's PATH")
	}
	if os.Getenv("PATH") != pathBefore {
		t.Errorf("command changed this process's PATH to %q", os.Getenv("PATH"))
	}
}
