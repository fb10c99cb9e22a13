package tarball

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// dirFiles is an OCI image layout (or an extracted docker save) in a directory. It is
// read through an os.Root, so no name or link inside it can reach a file outside.
type dirFiles struct {
	label string
	dir   string
	root  *os.Root
}

func openDir(dir, label string) (*dirFiles, error) {
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrUnreadable, label, err)
	}
	return &dirFiles{label: label, dir: dir, root: root}, nil
}

func (d *dirFiles) open(name string) (*member, error) {
	clean, ok := localName(name)
	if !ok || clean == "" {
		return nil, fmt.Errorf("%w: %s: the name %q leaves the directory", ErrUnsafeEntry, d.label, name)
	}
	f, err := d.root.Open(filepath.FromSlash(clean))
	if err != nil {
		return nil, d.openError(clean, err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("%w %s: %s: %v", ErrUnreadable, d.label, clean, err)
	}
	if !info.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("%w: %s: %s is not a regular file", ErrMissingBlob, d.label, clean)
	}
	return &member{SectionReader: io.NewSectionReader(f, 0, info.Size()), closer: f}, nil
}

// openError tells a missing file from one os.Root refused because a link leaves the
// directory or loops, which it reports with an error of its own that is not exported.
func (d *dirFiles) openError(name string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR):
		return notFound(name)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w %s: %s: %v; check the file's permissions", ErrUnreadable, d.label, name, err)
	}
	if !d.staysInside(name) {
		return fmt.Errorf("%w: %s: %s is a link that leaves the directory or loops", ErrUnsafeEntry, d.label, name)
	}
	return fmt.Errorf("%w %s: %s: %v", ErrUnreadable, d.label, name, err)
}

// staysInside reports whether name, links followed, is a path under the directory.
func (d *dirFiles) staysInside(name string) bool {
	root, err := filepath.EvalSymlinks(d.dir)
	if err != nil {
		return false
	}
	target, err := filepath.EvalSymlinks(filepath.Join(d.dir, filepath.FromSlash(name)))
	if err != nil {
		return false
	}
	rel, err := filepath.Rel(root, target)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}

func (d *dirFiles) close() error { return d.root.Close() }
