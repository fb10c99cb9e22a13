package tarball

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// files is the content of an archive or a directory, read by slash-separated names
// relative to its root.
type files interface {
	// open returns the named regular file, following links that stay inside. Errors
	// wrap fs.ErrNotExist for a name that is not there, ErrUnsafeEntry for a name or
	// link that leaves the root, and ErrUnreadable for anything else.
	open(name string) (*member, error)
	close() error
}

// member is one file inside an archive or a directory, read at offsets so that
// concurrent readers never share a position.
type member struct {
	*io.SectionReader
	closer io.Closer // nil for a tar entry: the archive's file outlives it
}

func (m *member) Close() error {
	if m.closer == nil {
		return nil
	}
	return m.closer.Close()
}

// maxMetadataSize bounds manifest.json, index.json, oci-layout, configs and manifests:
// real ones are a few KiB, and they are read into memory whole.
const maxMetadataSize = 4 << 20

// maxLinkHops bounds how many links one name may go through, as the kernel's ELOOP does.
const maxLinkHops = 40

// localName cleans an entry or file name from an archive and reports whether it stays
// inside the root: not absolute, no ".." leaving it. The root itself ("", ".", "./")
// is "".
func localName(raw string) (string, bool) {
	if raw == "" {
		return "", true
	}
	if strings.HasPrefix(raw, "/") {
		return "", false
	}
	clean := path.Clean(raw)
	if clean == ".." || strings.HasPrefix(clean, "../") {
		return "", false
	}
	if clean == "." {
		return "", true
	}
	return clean, true
}

// readMetadata reads a small file (manifest.json, index.json, a config, a manifest)
// whole, refusing one above maxMetadataSize before reading it.
func readMetadata(f files, name, label string) ([]byte, error) {
	m, err := f.open(name)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	if m.Size() > maxMetadataSize {
		return nil, fmt.Errorf("%w: %s: %s is %d bytes, more than the %d this kind of file may have", ErrMalformed, label, name, m.Size(), maxMetadataSize)
	}
	b := make([]byte, m.Size())
	if _, err := io.ReadFull(m, b); err != nil {
		return nil, fmt.Errorf("%w: %s: %s ends early: %v", ErrTruncated, label, name, err)
	}
	return b, nil
}

// notFound wraps fs.ErrNotExist for a name missing from an archive or a directory.
func notFound(name string) error {
	return fmt.Errorf("%s: %w", name, fs.ErrNotExist)
}

// exactReader reads a member from an offset to its end and calls a short read what it
// is: the archive changed or was cut after Open indexed it.
type exactReader struct {
	ctx       context.Context // of the OpenBlob call: a copy that is cancelled stops reading
	r         io.Reader
	remaining int64
	m         *member
	label     string
}

func (e *exactReader) Read(p []byte) (int, error) {
	if err := e.ctx.Err(); err != nil {
		return 0, err
	}
	n, err := e.r.Read(p)
	e.remaining -= int64(n)
	if err == io.EOF && e.remaining > 0 {
		return n, fmt.Errorf("%w: %s ends %d bytes early; the file changed after it was opened, or is damaged", ErrTruncated, e.label, e.remaining)
	}
	return n, err
}

func (e *exactReader) Close() error { return e.m.Close() }

// contextReader stops a long sequential read (decompressing an archive, hashing a layer)
// when ctx is done.
type contextReader struct {
	ctx context.Context
	r   io.Reader
}

func (c contextReader) Read(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(p)
}
