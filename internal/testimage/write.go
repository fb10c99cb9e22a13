package testimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// WriteT builds the fixture o describes and writes it into a temporary directory of t:
// image.tar, image.tar.gz when gzip'd, or the directory layout/ for OCIDirectory.
// Fixture.Path says where. It fails t on any error.
func WriteT(t testing.TB, o Options) *Fixture {
	t.Helper()
	f, err := Build(o)
	if err != nil {
		t.Fatalf("build %v fixture: %v", o.Layout, err)
	}
	f.WriteT(t)
	return f
}

// WriteT writes the fixture, as it is now, into a new temporary directory of t and sets
// Path. Call it again after changing Entries to write another copy.
func (f *Fixture) WriteT(t testing.TB) {
	t.Helper()
	path := filepath.Join(t.TempDir(), f.FileName())
	if err := f.Write(path); err != nil {
		t.Fatalf("write %v fixture: %v", f.Layout, err)
	}
	f.Path = path
}

// FileName is the name WriteT gives the fixture.
func (f *Fixture) FileName() string {
	switch {
	case f.Layout == OCIDirectory:
		return "layout"
	case f.Gzip:
		return "image.tar.gz"
	}
	return "image.tar"
}

// Write writes the fixture to path: a directory for OCIDirectory, else a tar file,
// gzip'd when Gzip is set.
func (f *Fixture) Write(path string) error {
	if f.Layout == OCIDirectory {
		return WriteDir(path, f.Entries)
	}
	b, err := f.Bytes()
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// Bytes is the archive's file content (a tar, gzip'd when Gzip is set), for fuzz seeds
// and in-memory tests. An OCIDirectory fixture gives the tar of its directory.
func (f *Fixture) Bytes() ([]byte, error) {
	var buf bytes.Buffer
	var w io.Writer = &buf
	var zw *gzip.Writer
	if f.Gzip {
		zw = gzip.NewWriter(&buf)
		w = zw
	}
	if err := WriteTar(w, f.Entries); err != nil {
		return nil, err
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// WriteTar writes entries to w as a tar, with fixed times and owners.
func WriteTar(w io.Writer, entries []Entry) error {
	tw := tar.NewWriter(w)
	for _, e := range entries {
		hdr := &tar.Header{Name: e.Name, Typeflag: e.Type, Linkname: e.Link, Mode: e.mode(), ModTime: epoch}
		switch e.Type {
		case 0, tar.TypeReg:
			hdr.Typeflag, hdr.Size = tar.TypeReg, int64(len(e.Body))
		}
		if err := tw.WriteHeader(hdr); err != nil {
			return fmt.Errorf("testimage: write %s: %w", e.Name, err)
		}
		if hdr.Size > 0 {
			if _, err := tw.Write(e.Body); err != nil {
				return fmt.Errorf("testimage: write %s: %w", e.Name, err)
			}
		}
	}
	return tw.Close()
}

// WriteDir writes entries as files, directories and links under dir.
func WriteDir(dir string, entries []Entry) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, e := range entries {
		path := filepath.Join(dir, filepath.FromSlash(e.Name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		var err error
		switch e.Type {
		case tar.TypeDir:
			err = os.MkdirAll(path, 0o755)
		case tar.TypeSymlink:
			err = os.Symlink(filepath.FromSlash(e.Link), path)
		case tar.TypeLink:
			err = os.Link(filepath.Join(dir, filepath.FromSlash(e.Link)), path)
		default:
			err = os.WriteFile(path, e.Body, os.FileMode(e.mode()))
		}
		if err != nil {
			return fmt.Errorf("testimage: write %s: %w", e.Name, err)
		}
	}
	return nil
}

func (e Entry) mode() int64 {
	switch {
	case e.Mode != 0:
		return e.Mode
	case e.Type == tar.TypeDir:
		return 0o755
	case e.Type == tar.TypeSymlink:
		return 0o777
	}
	return 0o644
}
