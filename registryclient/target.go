package registryclient

import (
	"bytes"
	"context"
	"fmt"
	"io"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/internal/retry"
)

// target is where the copy walk writes: a registry repository, or a local OCI layout.
type target interface {
	String() string
	// manifestDigest returns the digest of what the target holds under a tag or a
	// digest, or an error for which isNotFound is true when it holds nothing there.
	manifestDigest(ctx context.Context, at string) (digest.Digest, error)
	// putBlob stores blob desc read from src, unless the target has it.
	putBlob(ctx context.Context, src Source, desc ocispec.Descriptor) error
	// putManifest stores m under tag, or by its digest when tag is empty.
	putManifest(ctx context.Context, m Manifest, tag string) error
	// compressLayer stores an uncompressed layer compressed and returns its descriptor.
	compressLayer(ctx context.Context, w *walk, layer ocispec.Descriptor) (ocispec.Descriptor, error)
}

// registryTarget is a repository on a registry.
type registryTarget struct {
	c    *Client
	repo Reference // registry and repository; no tag or digest
}

func (t registryTarget) String() string { return t.repo.Name() }

func (t registryTarget) at(tagOrDigest string) Reference {
	if d, err := digest.Parse(tagOrDigest); err == nil {
		return t.repo.WithDigest(d)
	}
	return t.repo.WithTag(tagOrDigest)
}

func (t registryTarget) manifestDigest(ctx context.Context, at string) (digest.Digest, error) {
	ref := t.at(at)
	desc, err := t.c.headManifest(ctx, ref, pushAccess)
	return desc.Digest, err
}

func (t registryTarget) putBlob(ctx context.Context, src Source, desc ocispec.Descriptor) error {
	return t.c.copyBlob(ctx, src, t.repo, desc)
}

func (t registryTarget) putManifest(ctx context.Context, m Manifest, tag string) error {
	if tag == "" {
		return t.c.PutManifest(ctx, t.repo, m)
	}
	return t.c.PutManifest(ctx, t.repo.WithTag(tag), m)
}

// LayoutWriter is a local OCI image layout being written (package tarball writes one).
// Manifests are blobs there too; the layout names the images itself.
type LayoutWriter interface {
	String() string
	// HasBlob reports whether blob d is written already.
	HasBlob(d digest.Digest) bool
	// WriteBlob stores blob desc from r. The walk verifies what r yields: a failed Read
	// means the content was wrong, and nothing of it may be kept.
	WriteBlob(ctx context.Context, desc ocispec.Descriptor, r io.Reader) error
}

// layoutTarget adapts a LayoutWriter to the walk.
type layoutTarget struct {
	c *Client
	w LayoutWriter
}

func (t layoutTarget) String() string { return t.w.String() }

func (t layoutTarget) manifestDigest(_ context.Context, at string) (digest.Digest, error) {
	if d, err := digest.Parse(at); err == nil && t.w.HasBlob(d) {
		return d, nil
	}
	return "", fmt.Errorf("%s in %s: %w", at, t.w, ErrNotFound)
}

func (t layoutTarget) putBlob(ctx context.Context, src Source, desc ocispec.Descriptor) error {
	if t.w.HasBlob(desc.Digest) {
		return nil
	}
	release, err := t.c.transferSlot(ctx)
	if err != nil {
		return err
	}
	defer release()
	return t.c.retrying(ctx, func(ctx context.Context, _ retry.Action) error {
		return t.writeBlob(ctx, src, desc)
	})
}

func (t layoutTarget) writeBlob(ctx context.Context, src Source, desc ocispec.Descriptor) error {
	rc, err := openVerified(ctx, src, desc)
	if err != nil {
		return err
	}
	defer rc.Close()
	return t.w.WriteBlob(ctx, desc, rc)
}

func (t layoutTarget) putManifest(ctx context.Context, m Manifest, _ string) error {
	if t.w.HasBlob(m.Digest) {
		return nil
	}
	desc := ocispec.Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: int64(len(m.Body))}
	return t.w.WriteBlob(ctx, desc, bytes.NewReader(m.Body))
}

func (t layoutTarget) compressLayer(context.Context, *walk, ocispec.Descriptor) (ocispec.Descriptor, error) {
	return ocispec.Descriptor{}, fmt.Errorf("%s: layers are compressed only on the way to a registry", t.w)
}
