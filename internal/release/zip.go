package main

import (
	"archive/zip"
	"cmp"
	"io"
	"io/fs"
	"os"
	"slices"
	"time"
)

// zipEntry is one file to put into a zip.
type zipEntry struct {
	name string      // name inside the zip
	path string      // file to read it from
	mode fs.FileMode // recorded mode, whatever the file's own is
}

// writeZip writes a zip whose bytes depend only on the entries' names, contents and
// modes and on modTime: entries are sorted, and the file system's times, owners and
// permissions are never read. modTime is stored as UTC, so the local time zone does not
// leak into the MS-DOS date field either.
func writeZip(dst string, modTime time.Time, entries []zipEntry) (err error) {
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(dst)
		}
	}()
	zw := zip.NewWriter(f)
	for _, e := range slices.SortedFunc(slices.Values(entries), func(a, b zipEntry) int { return cmp.Compare(a.name, b.name) }) {
		if err := addFile(zw, e, modTime); err != nil {
			return err
		}
	}
	return zw.Close()
}

func addFile(zw *zip.Writer, e zipEntry, modTime time.Time) error {
	src, err := os.Open(e.path)
	if err != nil {
		return err
	}
	defer src.Close()
	h := &zip.FileHeader{Name: e.name, Method: zip.Deflate, Modified: modTime.UTC()}
	h.SetMode(e.mode)
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, src)
	return err
}
