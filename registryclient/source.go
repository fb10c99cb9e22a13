package registryclient

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Source is what a copy reads an image from: a repository on a registry
// (Client.Repository), or a local image such as a docker-save archive or an OCI layout
// (package tarball, which satisfies this interface without importing this package).
//
// The copy engine lives here, beside the registry it always writes to, so that the
// manifest walk exists once whatever the source: the local kinds plug in as Sources.
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
	m, err := r.c.GetManifest(ctx, r.ref.WithDigest(desc.Digest))
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
		return Manifest{}, fmt.Errorf("manifest %s in %s: content hashes to %s: %w", desc.Digest, src, got, ErrDigestMismatch)
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

// readManifest reads and checks the manifest desc names.
func readManifest(ctx context.Context, src Source, desc ocispec.Descriptor) (Manifest, error) {
	body, err := src.ReadManifest(ctx, desc)
	if err != nil {
		return Manifest{}, err
	}
	return NewManifest(src, desc, body)
}

// openVerified streams a whole blob from src, failing the final Read when the content
// is not the blob it claims to be.
func openVerified(ctx context.Context, src Source, desc ocispec.Descriptor) (io.ReadCloser, error) {
	rc, err := src.OpenBlob(ctx, desc, 0)
	if err != nil {
		return nil, err
	}
	return newVerifier(rc, desc, src.String()+"@"+desc.Digest.String())
}
