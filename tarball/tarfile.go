package tarball

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
)

// tarFile is a tar archive indexed in one scan of its headers. Every entry is then read
// through an io.SectionReader on the one open file: nothing is extracted, and the
// archive is never scanned again.
//
// When a name appears twice the later entry wins, as it does when tar extracts.
type tarFile struct {
	label   string // the archive as the user named it, for messages
	f       *os.File
	entries map[string]tarEntry
}

type entryKind int

const (
	kindOther    entryKind = iota // devices, fifos, global headers: nothing an image reads
	kindFile                      // a regular file
	kindDir                       // a directory
	kindSymlink                   // target relative to the link's directory
	kindHardlink                  // target relative to the archive's root
	kindSparse                    // a sparse file: its stored bytes are not its content
)

type tarEntry struct {
	kind         entryKind
	offset, size int64
	link         string
}

// indexTar scans f's tar headers once. It seeks over the data (archive/tar does, on a
// file), so indexing costs one read per entry whatever the layers weigh.
func indexTar(f *os.File, label string) (*tarFile, error) {
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrUnreadable, label, err)
	}
	t := &tarFile{label: label, f: f, entries: map[string]tarEntry{}}
	tr := tar.NewReader(f)
	count, last := 0, ""
	var dataEnd int64 // where the last entry's data ends, or -1 when unknown (sparse)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, tar.ErrInsecurePath) {
			err = nil // localName below judges names, whatever GODEBUG says
		}
		if err == io.EOF {
			if count == 0 {
				return nil, fmt.Errorf("%w: %s holds no entries; it is not an image archive", ErrNotTar, label)
			}
			if err := t.checkEnd(dataEnd, last); err != nil {
				return nil, err
			}
			return t, nil
		}
		if err != nil {
			return nil, t.scanError(err, count, last)
		}
		offset, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, fmt.Errorf("%w %s: %v", ErrUnreadable, label, err)
		}
		name, ok := localName(hdr.Name)
		if !ok {
			return nil, fmt.Errorf("%w: %s holds the entry %q, which would land outside the archive; the archive was not written by an image tool, or was tampered with", ErrUnsafeEntry, label, hdr.Name)
		}
		count, last = count+1, hdr.Name
		if count > maxEntries {
			return nil, fmt.Errorf("%w: %s holds more than %d entries; image archives hold a few per layer", ErrMalformed, label, maxEntries)
		}
		e := tarEntry{kind: kindOf(hdr), offset: offset, size: hdr.Size, link: hdr.Linkname}
		dataEnd = -1
		if n := dataSize(hdr, e.kind); n >= 0 {
			dataEnd = offset + n
		}
		if name == "" {
			continue
		}
		if e.kind == kindFile && offset+e.size > info.Size() {
			return nil, fmt.Errorf("%w: %s ends inside the entry %s (%d bytes at offset %d, the file has %d); copy or download it again", ErrTruncated, label, name, e.size, offset, info.Size())
		}
		t.entries[name] = e
	}
}

// checkEnd tells an archive that ends with tar's end-of-archive blocks from one cut at
// an entry's boundary, which archive/tar reports as a clean end too: every tool writes
// the zero blocks, so a file without even one after the last entry lost its tail (and
// perhaps whole entries with it).
func (t *tarFile) checkEnd(dataEnd int64, last string) error {
	if dataEnd < 0 {
		return nil
	}
	pos, err := t.f.Seek(0, io.SeekCurrent)
	if err != nil {
		return fmt.Errorf("%w %s: %v", ErrUnreadable, t.label, err)
	}
	if padded := (dataEnd + blockSize - 1) / blockSize * blockSize; pos < padded+blockSize {
		return fmt.Errorf("%w: %s ends right after the entry %s, without tar's end-of-archive blocks; entries after it may be lost: copy or download it again", ErrTruncated, t.label, last)
	}
	return nil
}

// maxEntries bounds the index: an archive of tiny entries could otherwise cost far more
// memory than its size suggests. Real ones hold a few entries per layer. A variable so
// a test can lower it.
var maxEntries = 1 << 18

// blockSize is tar's unit: headers, data and the end-of-archive marker fill whole blocks.
const blockSize = 512

// dataSize is how many bytes of data follow hdr in the file, -1 when it is not known
// from the header (a sparse file stores less than its size). It mirrors archive/tar,
// which gives links, devices, fifos and directories no data whatever their size field.
func dataSize(hdr *tar.Header, kind entryKind) int64 {
	switch hdr.Typeflag {
	case tar.TypeLink, tar.TypeSymlink, tar.TypeChar, tar.TypeBlock, tar.TypeDir, tar.TypeFifo, tar.TypeXGlobalHeader:
		return 0
	}
	if kind == kindSparse {
		return -1
	}
	return hdr.Size
}

func kindOf(hdr *tar.Header) entryKind {
	for key := range hdr.PAXRecords {
		if strings.HasPrefix(key, "GNU.sparse.") {
			return kindSparse
		}
	}
	switch hdr.Typeflag {
	case tar.TypeReg:
		return kindFile
	case tar.TypeDir:
		return kindDir
	case tar.TypeSymlink:
		return kindSymlink
	case tar.TypeLink:
		return kindHardlink
	case tar.TypeGNUSparse:
		return kindSparse
	}
	return kindOther
}

// scanError says what a failed header read means: before any entry, the file is not a
// tar; after some, the archive was cut short or damaged.
func (t *tarFile) scanError(err error, count int, last string) error {
	var pathErr *fs.PathError
	switch {
	case errors.As(err, &pathErr):
		return fmt.Errorf("%w %s: %v", ErrUnreadable, t.label, err)
	case count == 0:
		return fmt.Errorf("%w: %s does not start with a tar header (%v); give a tar file from docker save, skopeo, crane or an OCI layout, optionally gzip-compressed", ErrNotTar, t.label, err)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Errorf("%w: %s ends in the middle of the entry after %s; copy or download it again", ErrTruncated, t.label, last)
	}
	return fmt.Errorf("%w: %s is damaged after the entry %s: %v", ErrNotTar, t.label, last, err)
}

func (t *tarFile) open(name string) (*member, error) {
	e, err := t.resolve(name)
	if err != nil {
		return nil, err
	}
	return &member{SectionReader: io.NewSectionReader(t.f, e.offset, e.size)}, nil
}

func (t *tarFile) close() error { return t.f.Close() }

// resolve follows symlinks and hard links, in any component of name, to a regular file.
// A link that leaves the archive, or a chain longer than maxLinkHops, is unsafe.
func (t *tarFile) resolve(name string) (tarEntry, error) {
	clean, ok := localName(name)
	if !ok || clean == "" {
		return tarEntry{}, fmt.Errorf("%w: %s: the name %q leaves the archive", ErrUnsafeEntry, t.label, name)
	}
	parts := strings.Split(clean, "/")
	for hops, i := 0, 0; i < len(parts); i++ {
		here := strings.Join(parts[:i+1], "/")
		e, found := t.entries[here]
		last := i == len(parts)-1
		switch {
		case !found && last:
			return tarEntry{}, notFound(name)
		case !found, e.kind == kindDir && !last:
			continue // parent directories need no entry of their own
		case e.kind == kindSymlink || e.kind == kindHardlink:
			if hops++; hops > maxLinkHops {
				return tarEntry{}, fmt.Errorf("%w: %s: %s goes through more than %d links", ErrUnsafeEntry, t.label, name, maxLinkHops)
			}
			target := e.link
			if e.kind == kindSymlink && !strings.HasPrefix(target, "/") {
				target = path.Join(path.Dir(here), target)
			}
			next, ok := localName(target)
			if !ok {
				return tarEntry{}, fmt.Errorf("%w: %s: the link %s points to %q, outside the archive", ErrUnsafeEntry, t.label, here, e.link)
			}
			rest := parts[i+1:]
			parts = nil
			if next != "" {
				parts = strings.Split(next, "/")
			}
			parts = append(parts, rest...)
			if len(parts) == 0 {
				return tarEntry{}, fmt.Errorf("%w: %s: %s is a link to the archive's root, not a file", ErrMissingBlob, t.label, name)
			}
			i = -1
		case !last:
			return tarEntry{}, notFound(name) // a file where a directory should be
		case e.kind == kindFile:
			return e, nil
		case e.kind == kindSparse:
			return tarEntry{}, fmt.Errorf("%w: %s: %s is a sparse file, which image tools never write", ErrUnsafeEntry, t.label, name)
		default:
			return tarEntry{}, fmt.Errorf("%w: %s: %s is not a regular file", ErrMissingBlob, t.label, name)
		}
	}
	return tarEntry{}, notFound(name)
}
