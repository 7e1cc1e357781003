package vm

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Kernel is an installed kernel image together with its module tree.
type Kernel struct {
	Image   string // e.g. /boot/vmlinuz-6.1.0-56-amd64
	Release string // e.g. 6.1.0-56-amd64
	ModDir  string // e.g. /lib/modules/6.1.0-56-amd64
}

// errNoKernel names the packages because the fix is always the same.
var errNoKernel = errors.New("no kernel image with a module tree (/boot/vmlinuz-* with /lib/modules/*/modules.dep); " +
	"install one: apt-get install linux-image-amd64 (or run `make deps`)")

// FindKernel returns the newest kernel in bootDir (normally /boot) whose
// modules are installed under modRoot (normally /lib/modules).
func FindKernel(bootDir, modRoot string) (Kernel, error) {
	images, _ := filepath.Glob(filepath.Join(bootDir, "vmlinuz-*"))
	var found []Kernel
	for _, img := range images {
		rel := strings.TrimPrefix(filepath.Base(img), "vmlinuz-")
		md := filepath.Join(modRoot, rel)
		if _, err := os.Stat(filepath.Join(md, "modules.dep")); err != nil {
			continue
		}
		found = append(found, Kernel{Image: img, Release: rel, ModDir: md})
	}
	if len(found) == 0 {
		return Kernel{}, errNoKernel
	}
	slices.SortFunc(found, func(a, b Kernel) int { return compareVersions(a.Release, b.Release) })
	return found[len(found)-1], nil
}

// KernelFromImage describes an explicitly chosen image; its release is taken
// from the file name, as Debian names them.
func KernelFromImage(image, modRoot string) (Kernel, error) {
	if _, err := os.Stat(image); err != nil {
		return Kernel{}, fmt.Errorf("kernel image: %w", err)
	}
	rel := strings.TrimPrefix(filepath.Base(image), "vmlinuz-")
	md := filepath.Join(modRoot, rel)
	if _, err := os.Stat(filepath.Join(md, "modules.dep")); err != nil {
		return Kernel{}, fmt.Errorf("kernel image %s: no module tree at %s: %w", image, md, err)
	}
	return Kernel{Image: image, Release: rel, ModDir: md}, nil
}

// compareVersions orders release strings the way `sort -V` does for the
// cases that matter here: digit runs compare numerically, the rest bytewise.
func compareVersions(a, b string) int {
	for a != "" && b != "" {
		ca, ra := versionChunk(a)
		cb, rb := versionChunk(b)
		if c := compareChunk(ca, cb); c != 0 {
			return c
		}
		a, b = ra, rb
	}
	return len(a) - len(b)
}

func versionChunk(s string) (chunk, rest string) {
	isDigit := func(c byte) bool { return c >= '0' && c <= '9' }
	d := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == d {
		i++
	}
	return s[:i], s[i:]
}

func compareChunk(a, b string) int {
	if a[0] >= '0' && a[0] <= '9' && b[0] >= '0' && b[0] <= '9' {
		a, b = strings.TrimLeft(a, "0"), strings.TrimLeft(b, "0")
		if len(a) != len(b) {
			return len(a) - len(b)
		}
	}
	return strings.Compare(a, b)
}

// moduleIndex is what modules.dep and modules.builtin say about a kernel.
type moduleIndex struct {
	dir     string
	paths   map[string]string   // module name -> path relative to dir
	deps    map[string][]string // module name -> names it needs
	builtin map[string]bool
}

// moduleName turns "kernel/net/9p/9pnet_virtio.ko.xz" into "9pnet_virtio".
// The kernel treats '-' and '_' in module names as the same character.
func moduleName(p string) string {
	b := filepath.Base(p)
	if i := strings.Index(b, ".ko"); i >= 0 {
		b = b[:i]
	}
	return strings.ReplaceAll(b, "-", "_")
}

func loadModuleIndex(dir string) (*moduleIndex, error) {
	ix := &moduleIndex{dir: dir, paths: map[string]string{}, deps: map[string][]string{}, builtin: map[string]bool{}}
	f, err := os.Open(filepath.Join(dir, "modules.dep"))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		mod, deps, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		name := moduleName(mod)
		ix.paths[name] = mod
		for _, d := range strings.Fields(deps) {
			ix.deps[name] = append(ix.deps[name], moduleName(d))
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if b, err := os.ReadFile(filepath.Join(dir, "modules.builtin")); err == nil {
		for _, l := range strings.Fields(string(b)) {
			ix.builtin[moduleName(l)] = true
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	return ix, nil
}

// resolve returns the module files to load, dependencies first, for names.
// Built-in modules need no file and are skipped.
func (ix *moduleIndex) resolve(names ...string) ([]string, error) {
	var order []string
	seen := map[string]bool{}
	var visit func(n string) error
	visit = func(n string) error {
		n = strings.ReplaceAll(n, "-", "_")
		if seen[n] {
			return nil
		}
		seen[n] = true
		if ix.builtin[n] {
			return nil
		}
		p, ok := ix.paths[n]
		if !ok {
			return fmt.Errorf("kernel module %q is neither built in nor in %s/modules.dep", n, ix.dir)
		}
		for _, d := range ix.deps[n] {
			if err := visit(d); err != nil {
				return err
			}
		}
		order = append(order, p)
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return order, nil
}
