package registryclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/internal/retry"
)

// Source is what a copy reads an image from: a repository on a registry
// (Client.Repository), or a local image such as a docker-save archive or an OCI layout
// (package tarball, which satisfies this interface without importing this package).
//
// The copy engine lives here, beside the registry it always writes to, so that the
// manifest walk exists once whatever the source: the local kinds plug in as Sources.
//
// A Source makes one attempt at whatever it is asked: the copy verifies what it reads
// and decides whether trying again may help (a registry's bytes damaged on the way may
// arrive whole next time; a local file's will not).
type Source interface {
	// String names the source in messages: "registry/repo" or "./image.tar".
	String() string
	// ReadManifest returns the bytes of the manifest or index desc names. The copy
	// verifies them against desc.Digest.
	ReadManifest(ctx context.Context, desc ocispec.Descriptor) ([]byte, error)
	// OpenBlob streams blob desc from byte offset on. The copy verifies what it reads.
	OpenBlob(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error)
}

// Manifest is a manifest exactly as its source holds it: pushing Body unchanged keeps
// the digest.
type Manifest struct {
	MediaType string
	Digest    digest.Digest
	Body      []byte
}

// Repository returns ref's repository as a copy Source.
func (c *Client) Repository(ref Reference) Source { return repository{c: c, ref: ref} }

// repository is a registry repository read as a Source. Copies between two
// repositories of one registry mount blobs instead of moving them.
type repository struct {
	c   *Client
	ref Reference
}

func (r repository) String() string { return r.ref.Name() }

func (r repository) ReadManifest(ctx context.Context, desc ocispec.Descriptor) ([]byte, error) {
	m, err := r.c.getManifest(ctx, r.ref.WithDigest(desc.Digest))
	return m.Body, err
}

func (r repository) OpenBlob(ctx context.Context, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	return r.c.openBlobAt(ctx, r.ref, desc, offset)
}

// NewManifest checks bytes read from a source against the descriptor that named them
// and returns them as a Manifest: the digest must match, the size must be sane, and
// the media type must be one a registry accepts.
func NewManifest(src Source, desc ocispec.Descriptor, body []byte) (Manifest, error) {
	if len(body) > maxManifestSize {
		return Manifest{}, fmt.Errorf("manifest %s in %s: larger than %d bytes: %w", desc.Digest, src, maxManifestSize, ErrManifestTooLarge)
	}
	if err := desc.Digest.Validate(); err != nil {
		return Manifest{}, fmt.Errorf("manifest %s in %s: %w", desc.Digest, src, err)
	}
	if got := desc.Digest.Algorithm().FromBytes(body); got != desc.Digest {
		return Manifest{}, corrupt(fromRegistry(src), ErrDigestMismatch, "manifest %s in %s: content hashes to %s", desc.Digest, src, got)
	}
	m := Manifest{MediaType: desc.MediaType, Digest: desc.Digest, Body: body}
	if m.MediaType == "" {
		var p struct {
			MediaType string `json:"mediaType"`
		}
		if json.Unmarshal(body, &p) == nil {
			m.MediaType = p.MediaType
		}
	}
	if !IsIndex(m.MediaType) && !isImageManifest(m.MediaType) {
		return Manifest{}, fmt.Errorf("manifest %s in %s: media type %q: %w", desc.Digest, src, m.MediaType, ErrUnsupportedMediaType)
	}
	return m, nil
}

// readManifest reads and checks the manifest desc names, as an operation of its own.
func (c *Client) readManifest(ctx context.Context, src Source, desc ocispec.Descriptor) (m Manifest, err error) {
	err = c.retrying(ctx, func(ctx context.Context, _ retry.Action) error {
		body, err := src.ReadManifest(ctx, desc)
		if err != nil {
			return err
		}
		m, err = NewManifest(src, desc, body)
		return err
	})
	return m, err
}

// openVerified streams a whole blob from src, failing the final Read when the content
// is not the blob it claims to be.
func openVerified(ctx context.Context, src Source, desc ocispec.Descriptor) (io.ReadCloser, error) {
	rc, err := src.OpenBlob(ctx, desc, 0)
	if err != nil {
		return nil, err
	}
	return newVerifier(rc, desc, src.String()+"@"+desc.Digest.String(), fromRegistry(src))
}

// fromRegistry reports whether src's content comes over the network, where it can be
// damaged on the way, rather than from a local file.
func fromRegistry(src Source) bool {
	_, ok := src.(repository)
	return ok
}

// LocalImage is a Source that knows the manifest a copy of it starts from, as a local
// image does (tarball.Image); a registry's starts from the reference it is asked for.
type LocalImage interface {
	Source
	// Root returns the root manifest's descriptor and exact bytes.
	Root(ctx context.Context) (ocispec.Descriptor, []byte, error)
}

// ReadRoot reads a local image's root manifest and checks it against its descriptor.
func ReadRoot(ctx context.Context, img LocalImage) (Manifest, error) {
	desc, body, err := img.Root(ctx)
	if err != nil {
		return Manifest{}, err
	}
	return NewManifest(img, desc, body)
}
