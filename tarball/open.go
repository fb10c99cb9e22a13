package tarball

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
)

// Archive is an opened local image file or directory: indexed once, then read by
// offset for as long as it stays open. It is safe for concurrent use.
type Archive struct {
	loc    Location // with the path split from the name when Open had to
	label  string   // loc as written, for messages
	files  files
	temp   string // the decompressed copy of a .tar.gz, removed by Close
	format Format
	images []archived

	mu        sync.Mutex
	converted map[int]*dockerImage // docker-save images turned into OCI manifests
	closed    bool
}

// Compression magic numbers: local images are told apart by content, never by name.
var (
	gzipMagic = []byte{0x1f, 0x8b}
	zstdMagic = []byte{0x28, 0xb5, 0x2f, 0xfd}
)

// Open indexes the local image loc names, as OpenContext does without a deadline.
func Open(loc Location) (*Archive, error) {
	return OpenContext(context.Background(), loc)
}

// OpenContext indexes the local image loc names: a tar file, a gzip-compressed tar, or a
// directory. Relative paths start from the working directory (Terraform's, for the
// provider), and "~/" is the home directory.
//
// A tar is scanned once, headers only. A gzip-compressed tar cannot be read at offsets,
// so it is decompressed once, in one pass, into a temporary file in os.TempDir that
// Close removes: that takes as much disk as the uncompressed archive. ctx stops the
// decompression.
func OpenContext(ctx context.Context, loc Location) (*Archive, error) {
	loc, disk, info, err := locate(loc)
	if err != nil {
		return nil, err
	}
	a := &Archive{loc: loc, label: loc.String(), converted: map[int]*dockerImage{}}
	if !info.IsDir() && !info.Mode().IsRegular() {
		// A pipe cannot be read at offsets, and opening one with no writer blocks.
		return nil, fmt.Errorf("%w %s: %s is a %s, not a file or directory; write the archive to a file first", ErrUnreadable, a.label, loc.Path, info.Mode().Type())
	}
	if info.IsDir() {
		a.files, err = openDir(disk, a.label)
	} else {
		a.files, a.temp, err = openTar(ctx, disk, a.label)
	}
	if err != nil {
		return nil, err
	}
	if err := a.load(); err != nil {
		return nil, errors.Join(err, a.Close())
	}
	return a, nil
}

// locate finds loc on disk. When loc.Path does not exist and no name was split from it,
// the longest prefix before a ':' that exists is the path and the rest is the name, so
// "oci-layout:/dir:app:1.0" works however many colons the name has.
func locate(loc Location) (Location, string, os.FileInfo, error) {
	label := loc.String()
	disk, err := expandHome(loc.Path)
	if err != nil {
		return loc, "", nil, fmt.Errorf("%w %s: %v", ErrUnreadable, label, err)
	}
	info, err := os.Stat(disk)
	if errors.Is(err, fs.ErrNotExist) && loc.Name == "" {
		for i := strings.LastIndex(loc.Path, ":"); i > 0; i = strings.LastIndex(loc.Path[:i], ":") {
			prefix, _ := expandHome(loc.Path[:i])
			if prefixInfo, prefixErr := os.Stat(prefix); prefixErr == nil {
				loc.Path, loc.Name = loc.Path[:i], loc.Path[i+1:]
				return loc, prefix, prefixInfo, nil
			}
		}
	}
	switch {
	case errors.Is(err, fs.ErrNotExist):
		hint := "check the path"
		if wd, wdErr := os.Getwd(); wdErr == nil && !filepath.IsAbs(disk) {
			hint += " (a relative path starts from " + wd + ")"
		}
		return loc, "", nil, fmt.Errorf("%w: local image %s: %s does not exist; %s", ErrNotFound, label, loc.Path, hint)
	case err != nil:
		return loc, "", nil, fmt.Errorf("%w %s: %v; check its permissions", ErrUnreadable, label, err)
	}
	return loc, disk, info, nil
}

func expandHome(path string) (string, error) {
	rest, ok := strings.CutPrefix(path, "~/")
	if !ok {
		return path, nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("expand ~ in %s: %w", path, err)
	}
	return filepath.Join(home, rest), nil
}

// openTar opens and indexes a tar file, decompressing it first when it is gzip'd.
func openTar(ctx context.Context, disk, label string) (*tarFile, string, error) {
	f, err := os.Open(disk)
	if err != nil {
		return nil, "", fmt.Errorf("%w %s: %v; check its permissions", ErrUnreadable, label, err)
	}
	magic := make([]byte, 4)
	n, err := f.ReadAt(magic, 0)
	if err != nil && err != io.EOF {
		f.Close()
		return nil, "", fmt.Errorf("%w %s: %v", ErrUnreadable, label, err)
	}
	magic = magic[:n]
	temp := ""
	switch {
	case bytes.HasPrefix(magic, zstdMagic):
		f.Close()
		return nil, "", fmt.Errorf("%w: %s is zstd-compressed, which is not read here; decompress it (zstd -d) or give the .tar", ErrNotTar, label)
	case bytes.HasPrefix(magic, gzipMagic):
		decompressed, err := gunzipToTemp(ctx, f, label)
		f.Close()
		if err != nil {
			return nil, "", err
		}
		f, temp = decompressed, decompressed.Name()
	}
	t, err := indexTar(f, label)
	if err != nil {
		f.Close()
		if temp != "" {
			os.Remove(temp)
		}
		return nil, "", err
	}
	return t, temp, nil
}

// gunzipToTemp decompresses src in one sequential pass into a new file in os.TempDir.
func gunzipToTemp(ctx context.Context, src *os.File, label string) (*os.File, error) {
	zr, err := gzip.NewReader(src)
	if err != nil {
		return nil, fmt.Errorf("%w: %s starts like gzip but is not: %v", ErrNotTar, label, err)
	}
	dst, err := os.CreateTemp("", "imagesync-archive-*.tar")
	if err != nil {
		return nil, fmt.Errorf("%w %s: decompress into %s: %v; free space there or set TMPDIR", ErrUnreadable, label, os.TempDir(), err)
	}
	trap := &trapReader{r: contextReader{ctx: ctx, r: zr}}
	_, err = io.Copy(dst, trap)
	if err == nil {
		_, err = dst.Seek(0, io.SeekStart)
	}
	if err != nil {
		dst.Close()
		os.Remove(dst.Name())
		if trap.err != nil {
			return nil, gunzipError(trap.err, label)
		}
		return nil, fmt.Errorf("%w %s: decompress into %s: %v; free space there or set TMPDIR", ErrUnreadable, label, os.TempDir(), err)
	}
	return dst, nil
}

// gunzipError says what a failure to read a gzip stream means for the user.
func gunzipError(err error, label string) error {
	var pathErr *fs.PathError
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return fmt.Errorf("decompress %s: %w", label, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %s: the gzip stream ends early; copy or download it again", ErrTruncated, label)
	case errors.As(err, &pathErr):
		return fmt.Errorf("%w %s: %v", ErrUnreadable, label, err)
	}
	return fmt.Errorf("%w: %s: the gzip stream is damaged (%v); copy or download it again", ErrNotTar, label, err)
}

// trapReader keeps the error its reader returned, so a failed copy can tell a damaged
// source from a full disk.
type trapReader struct {
	r   io.Reader
	err error
}

func (t *trapReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		t.err = err
	}
	return n, err
}

// Close releases the archive's file and removes its decompressed copy, if any. Readers
// from OpenBlob fail after it.
func (a *Archive) Close() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.closed {
		return nil
	}
	a.closed = true
	err := a.files.close()
	if a.temp != "" {
		if rmErr := os.Remove(a.temp); rmErr != nil {
			err = errors.Join(err, fmt.Errorf("remove the decompressed copy of %s: %w", a.label, rmErr))
		}
	}
	return err
}

// Format is how the archive is read: as a docker-save archive or as an OCI image layout.
func (a *Archive) Format() Format { return a.format }

// Location is where the archive is, with the image name split from the path when Open
// had to look at the disk to do it.
func (a *Archive) Location() Location { return a.loc }

// load reads the archive's top-level metadata, manifest.json or index.json, by the
// format a prefix forced or, without one, manifest.json first: Docker 25+ writes both,
// and its manifest.json describes the image as docker loads it.
func (a *Archive) load() error {
	var err error
	switch {
	case a.loc.Format == FormatDockerArchive:
		a.format = FormatDockerArchive
		a.images, err = loadDocker(a.files, a.label)
	case a.loc.Format == FormatOCILayout:
		a.format = FormatOCILayout
		a.images, err = loadOCI(a.files, a.label)
	default:
		a.format = FormatDockerArchive
		a.images, err = loadDocker(a.files, a.label)
		if errors.Is(err, fs.ErrNotExist) {
			a.format = FormatOCILayout
			a.images, err = loadOCI(a.files, a.label)
		}
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	switch a.loc.Format {
	case FormatDockerArchive:
		return fmt.Errorf("%w: %s has no manifest.json, so it is not a docker-save archive; without the docker-archive: prefix an OCI image layout is read too", ErrNotLayout, a.label)
	case FormatOCILayout:
		return fmt.Errorf("%w: %s has no index.json, so it is not an OCI image layout; without the prefix a docker-save archive is read too", ErrNotLayout, a.label)
	}
	return fmt.Errorf("%w: %s holds neither manifest.json (docker save, skopeo, crane) nor index.json (an OCI image layout)", ErrNotLayout, a.label)
}
