package tarball

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Writer writes an OCI image layout, as a tar file or a directory. Blobs are staged in a
// directory beside the destination as they arrive (each once, however many images
// share it); Commit then names the images in index.json and moves the result into
// place atomically, so a crash or a kill never leaves a half-written archive at the
// destination. The same images always give the same bytes: entries sorted, times,
// owners and modes fixed.
type Writer struct {
	path  string
	asTar bool
	stage string

	mu        sync.Mutex
	blobs     map[digest.Digest]ocispec.Descriptor
	referrers map[string]ocispec.Descriptor // AddReferrer's, by referrerKey
}

// Named is one image of a layout: its manifest (or index) and the name index.json
// gives it (org.opencontainers.image.ref.name).
type Named struct {
	Name       string
	Descriptor ocispec.Descriptor
}

// NewWriter starts writing a layout that Commit will put at path: a tar file when
// asTar, else a directory.
func NewWriter(path string, asTar bool) (*Writer, error) {
	path, err := expandHome(path)
	if err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	stage, err := os.MkdirTemp(filepath.Dir(abs), "."+filepath.Base(abs)+".partial-")
	if err != nil {
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Join(stage, "blobs", "sha256"), 0o755); err != nil {
		os.RemoveAll(stage)
		return nil, fmt.Errorf("write %s: %w", path, err)
	}
	return &Writer{path: abs, asTar: asTar, stage: stage, blobs: map[digest.Digest]ocispec.Descriptor{}}, nil
}

// String names the layout in messages.
func (w *Writer) String() string { return w.path }

// written returns the descriptor of blob d as written, if it was.
func (w *Writer) written(d digest.Digest) (ocispec.Descriptor, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	desc, ok := w.blobs[d]
	return desc, ok
}

// HasBlob reports whether blob d is written already.
func (w *Writer) HasBlob(d digest.Digest) bool {
	_, ok := w.written(d)
	return ok
}

// WriteBlob stores blob desc from r. A Read error (the copy found the content wrong)
// or a short stream leaves nothing behind.
func (w *Writer) WriteBlob(ctx context.Context, desc ocispec.Descriptor, r io.Reader) error {
	if desc.Digest.Algorithm() != digest.SHA256 {
		return fmt.Errorf("write %s: blob %s: only sha256 blobs are written", w.path, desc.Digest)
	}
	final := filepath.Join(w.stage, "blobs", "sha256", desc.Digest.Encoded())
	f, err := os.CreateTemp(filepath.Dir(final), ".blob-")
	if err != nil {
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	n, err := io.Copy(f, contextReader{ctx: ctx, r: r})
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && desc.Size > 0 && n != desc.Size {
		err = fmt.Errorf("blob %s: %d bytes, expected %d", desc.Digest, n, desc.Size)
	}
	if err == nil {
		err = os.Rename(f.Name(), final)
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write %s: %w", w.path, err)
	}
	w.mu.Lock()
	w.blobs[desc.Digest] = ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: n}
	w.mu.Unlock()
	return nil
}

// Commit writes oci-layout and index.json naming images (and the referrers recorded
// with AddReferrer), and moves the layout into place. It returns the sha256 of the archive: of the tar file, or, for a directory,
// of the tar it would make, so both can be checked the same way later (Checksum).
func (w *Writer) Commit(images []Named) (digest.Digest, error) {
	defer os.RemoveAll(w.stage)
	sort.Slice(images, func(i, j int) bool { return images[i].Name < images[j].Name })
	index := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{}}
	for _, img := range images {
		// The manifest is a blob written here: its size is known from that, whatever
		// the caller had at hand.
		d, written := w.written(img.Descriptor.Digest)
		if !written {
			return "", fmt.Errorf("write %s: image %s names %s, which was not written", w.path, img.Name, img.Descriptor.Digest)
		}
		if img.Descriptor.MediaType != "" {
			d.MediaType = img.Descriptor.MediaType
		}
		d.Annotations = map[string]string{ocispec.AnnotationRefName: img.Name}
		index.Manifests = append(index.Manifests, d)
	}
	index.Manifests = append(index.Manifests, w.referrerEntries()...)
	body, err := json.Marshal(index)
	if err != nil {
		return "", err
	}
	layout, _ := json.Marshal(ocispec.ImageLayout{Version: ocispec.ImageLayoutVersion})
	if err := os.WriteFile(filepath.Join(w.stage, ocispec.ImageLayoutFile), layout, 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", w.path, err)
	}
	if err := os.WriteFile(filepath.Join(w.stage, "index.json"), body, 0o644); err != nil {
		return "", fmt.Errorf("write %s: %w", w.path, err)
	}
	if !w.asTar {
		sum, err := Checksum(w.stage)
		if err != nil {
			return "", err
		}
		return sum, replaceDir(w.stage, w.path)
	}
	f, err := os.CreateTemp(filepath.Dir(w.path), "."+filepath.Base(w.path)+".tar-")
	if err != nil {
		return "", fmt.Errorf("write %s: %w", w.path, err)
	}
	h := sha256.New()
	err = writeLayoutTar(io.MultiWriter(f, h), w.stage)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), w.path)
	}
	if err != nil {
		os.Remove(f.Name())
		return "", fmt.Errorf("write %s: %w", w.path, err)
	}
	return digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil))), nil
}

// Abort drops what was written; the destination is left as it was.
func (w *Writer) Abort() { os.RemoveAll(w.stage) }

// Checksum is the sha256 of a layout at path: of the file for a tar, or of the
// deterministic tar of a directory.
func Checksum(path string) (digest.Digest, error) {
	path, err := expandHome(path)
	if err != nil {
		return "", err
	}
	info, err := os.Stat(path)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, errors.Join(ErrNotFound, err))
	}
	h := sha256.New()
	if info.IsDir() {
		err = writeLayoutTar(h, path)
	} else {
		var f *os.File
		if f, err = os.Open(path); err == nil {
			_, err = io.Copy(h, f)
			f.Close()
		}
	}
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(h.Sum(nil))), nil
}

// writeLayoutTar writes the layout in dir as a tar with sorted entries and fixed
// times, owners and modes: the same layout always gives the same bytes.
func writeLayoutTar(out io.Writer, dir string) error {
	var names []string
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil || p == dir {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(filepath.Base(rel), ".") {
			return nil // staging leftovers
		}
		if d.IsDir() {
			rel += "/"
		}
		names = append(names, rel)
		return nil
	})
	if err != nil {
		return err
	}
	sort.Strings(names)
	tw := tar.NewWriter(out)
	for _, name := range names {
		hdr := &tar.Header{Name: name, ModTime: time.Unix(0, 0), Format: tar.FormatPAX, Uid: 0, Gid: 0}
		if strings.HasSuffix(name, "/") {
			hdr.Typeflag, hdr.Mode = tar.TypeDir, 0o755
			if err := tw.WriteHeader(hdr); err != nil {
				return err
			}
			continue
		}
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			return err
		}
		info, err := f.Stat()
		if err == nil {
			hdr.Typeflag, hdr.Mode, hdr.Size = tar.TypeReg, 0o644, info.Size()
			if err = tw.WriteHeader(hdr); err == nil {
				_, err = io.Copy(tw, f)
			}
		}
		f.Close()
		if err != nil {
			return err
		}
	}
	return tw.Close()
}

// replaceDir moves the staged directory to path, replacing what was there: the old
// layout is moved aside first and removed only once the new one is in place.
func replaceDir(stage, path string) error {
	old := ""
	if _, err := os.Lstat(path); err == nil {
		old = path + ".old-" + filepath.Base(stage)
		if err := os.Rename(path, old); err != nil {
			return fmt.Errorf("replace %s: %w", path, err)
		}
	}
	if err := os.Rename(stage, path); err != nil {
		if old != "" {
			os.Rename(old, path)
		}
		return fmt.Errorf("write %s: %w", path, err)
	}
	if old != "" {
		os.RemoveAll(old)
	}
	return nil
}
