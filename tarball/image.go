package tarball

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// archived is one image inside an archive, as manifest.json or index.json lists it.
type archived struct {
	names  []string
	docker dockerItem         // for a docker-save archive
	oci    ocispec.Descriptor // for an OCI image layout: its index.json entry
}

// Image is one image inside an Archive, ready to be pushed: the copy engine walks it
// from Root as it would walk a registry's manifest. It is valid until the Archive is
// closed and safe for concurrent use.
type Image struct {
	archive *Archive
	index   int
	label   string
}

// String names the image for messages: the path as written, and the name inside.
func (i *Image) String() string { return i.label }

// Format is how the image is read.
func (i *Image) Format() Format { return i.archive.format }

// Root is the manifest a push starts from, with its exact bytes.
//
// In an OCI image layout it is what the index.json entry points to, a manifest or an
// index (multi-platform), as stored in blobs/, so its digest is preserved. For a
// docker-save image it is an OCI image manifest built from manifest.json and the config
// (see convertDocker), the same bytes every time for the same archive.
func (i *Image) Root(ctx context.Context) (ocispec.Descriptor, []byte, error) {
	if err := ctx.Err(); err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	if i.archive.format == FormatDockerArchive {
		img, err := i.archive.dockerImage(ctx, i.index)
		if err != nil {
			return ocispec.Descriptor{}, nil, err
		}
		return img.desc, img.manifest, nil
	}
	entry := i.archive.images[i.index].oci
	b, err := readManifestBlob(i.archive.files, i.label, entry)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	desc, err := rootDescriptor(entry, b, i.label)
	if err != nil {
		return ocispec.Descriptor{}, nil, err
	}
	return desc, b, nil
}

// ReadManifest returns the bytes of a manifest or index desc names, checked against its
// digest: the children of an index in an OCI layout, or Root's own manifest.
func (i *Image) ReadManifest(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if i.archive.format == FormatDockerArchive {
		img, err := i.archive.dockerImage(ctx, i.index)
		if err != nil {
			return nil, err
		}
		if desc.Digest != img.desc.Digest {
			return nil, fmt.Errorf("%w: %s: a docker-save image has one manifest, %s, not %s", ErrMissingBlob, i.label, img.desc.Digest, desc.Digest)
		}
		return img.manifest, nil
	}
	return readManifestBlob(i.archive.files, i.label, desc)
}

// OpenBlob streams the blob desc names (a config or a layer) from byte offset on, as it
// is stored. It does not check the digest: the copy engine hashes what it reads. It
// does fail, rather than end early, when the file holds fewer bytes than it should.
func (i *Image) OpenBlob(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	name, err := i.blobFile(ctx, desc.Digest)
	if err != nil {
		return nil, err
	}
	m, err := i.archive.files.open(name)
	if err != nil {
		return nil, missing(err, i.label, "the blob "+desc.Digest.String())
	}
	size := m.Size()
	var fail error
	switch {
	case desc.Size > 0 && size < desc.Size:
		fail = fmt.Errorf("%w: %s: %s holds %d bytes of the blob %s, which has %d", ErrTruncated, i.label, name, size, desc.Digest, desc.Size)
	case desc.Size > 0 && size > desc.Size:
		fail = fmt.Errorf("%w: %s: %s holds %d bytes but the blob %s has %d", ErrMalformed, i.label, name, size, desc.Digest, desc.Size)
	case offset < 0 || offset > size:
		fail = fmt.Errorf("%s: blob %s: offset %d is outside its %d bytes", i.label, desc.Digest, offset, size)
	}
	if fail != nil {
		m.Close()
		return nil, fail
	}
	return &exactReader{
		ctx:       ctx,
		r:         io.NewSectionReader(m, offset, size-offset),
		remaining: size - offset,
		m:         m,
		label:     i.label + ": " + name,
	}, nil
}

// blobFile is the file inside the archive that holds the blob d.
func (i *Image) blobFile(ctx context.Context, d digest.Digest) (string, error) {
	if i.archive.format == FormatOCILayout {
		name, err := blobName(d)
		if err != nil {
			return "", fmt.Errorf("%s: %w", i.label, err)
		}
		return name, nil
	}
	img, err := i.archive.dockerImage(ctx, i.index)
	if err != nil {
		return "", err
	}
	name, ok := img.blobs[d]
	if !ok {
		return "", fmt.Errorf("%w: %s: the image has no blob %s; its manifest is %s", ErrMissingBlob, i.label, d, img.desc.Digest)
	}
	return name, nil
}

// dockerImage converts the docker-save image at index once and keeps the result; a
// failed conversion (a cancelled hash, say) is tried again on the next call.
func (a *Archive) dockerImage(ctx context.Context, index int) (*dockerImage, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if img, ok := a.converted[index]; ok {
		return img, nil
	}
	if a.closed {
		return nil, fmt.Errorf("%s: %w", a.label, fs.ErrClosed)
	}
	img, err := convertDocker(ctx, a.files, a.label, a.images[index].docker)
	if err != nil {
		return nil, err
	}
	a.converted[index] = img
	return img, nil
}

// missing turns "not there" into ErrMissingBlob, naming what was looked for; other
// errors already say what they are.
func missing(err error, label, what string) error {
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("%w: %s: %s is not in it; the archive is incomplete, write it again", ErrMissingBlob, label, what)
	}
	return err
}
