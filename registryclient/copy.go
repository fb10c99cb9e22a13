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

// CopyOptions says what Copy copies.
type CopyOptions struct {
	// Platform, when set, copies only the matching child of an index; the destination
	// then holds that single-platform manifest.
	Platform *Platform
	// Compress gzip-compresses layers the source holds uncompressed (a docker-save
	// archive's) on their way to the destination; the manifest pushed then names the
	// compressed layers. Layers already compressed travel as they are.
	Compress bool
	// Compressed remembers earlier compressions: uncompressed digest (diffID) →
	// compressed layer. A layer found here and at the destination is neither read nor
	// compressed again.
	Compressed map[digest.Digest]ocispec.Descriptor
	// Referrers also copies every artifact that refers to the image or, for an index,
	// to any of its children, recursively (see withReferrers).
	Referrers bool
}

// CopyResult describes what the destination holds after a Copy.
type CopyResult struct {
	Digest    digest.Digest // the manifest digest at the destination
	MediaType string
	Tag       string        // the tag written; empty when the image was pushed by digest only
	Unchanged bool          // the destination already held this image; nothing was written
	Replaced  digest.Digest // another image the destination tag held before, now overwritten
	// Compressed is every compression this copy used: diffID → compressed layer.
	Compressed map[digest.Digest]ocispec.Descriptor
	// Referrers are the digests of the referrers at the destination after a copy with
	// CopyOptions.Referrers, sorted; Unchanged speaks of the image alone.
	Referrers []digest.Digest
}

// DestinationTag is the tag a copy writes: the destination's own tag, else the source's
// (mirroring "alpine:3.20" into "registry/mirror/alpine" gives ":3.20"), else none: an
// image copied from a digest-only source is pushed by digest.
func DestinationTag(src, dst Reference) string {
	if dst.Tag != "" {
		return dst.Tag
	}
	if src.Tag == "" && src.Digest == "" {
		return DefaultTag
	}
	return src.Tag
}

// Copy copies the image src names to dst, preserving every digest byte for byte; dst
// gets src's tag when it has none of its own.
func (c *Client) Copy(ctx context.Context, src, dst Reference, opts CopyOptions) (CopyResult, error) {
	root, err := c.GetManifest(ctx, src)
	if err != nil {
		return CopyResult{}, err
	}
	if tag := DestinationTag(src, dst); tag != "" {
		dst = dst.WithTag(tag)
	}
	return c.CopyFrom(ctx, c.Repository(src), root, dst, opts)
}

// CopyFrom copies the image whose root manifest is root from src into dst, under dst's
// tag or, without one, by digest. This is the one manifest walk: blobs and child
// manifests the destination already has are skipped, blobs on the same registry are
// mounted instead of moved, every byte read is verified against its digest, and a
// manifest is pushed only after everything it refers to is in place, so a failed copy
// never leaves a tag on a broken image.
func (c *Client) CopyFrom(ctx context.Context, src Source, root Manifest, dst Reference, opts CopyOptions) (CopyResult, error) {
	return c.copyInto(ctx, src, root, registryTarget{c: c, repo: dst.WithTag("")}, dst.Tag, opts)
}

// CopyTo copies the image whose root manifest is root from src into a local OCI layout
// being written, by the same walk as CopyFrom. The layout names the image itself: the
// result's Digest and MediaType describe the manifest to name.
func (c *Client) CopyTo(ctx context.Context, src Source, root Manifest, dst LayoutWriter, opts CopyOptions) (CopyResult, error) {
	if opts.Compress {
		return CopyResult{}, fmt.Errorf("copy %s to %s: compressing layers is only done on the way to a registry", src, dst)
	}
	return c.copyInto(ctx, src, root, layoutTarget{c: c, w: dst}, "", opts)
}

// copyInto is the walk's entry: resolve the platform, see whether dst already holds the
// image under tag, and copy what is missing.
func (c *Client) copyInto(ctx context.Context, src Source, root Manifest, dst target, tag string, opts CopyOptions) (CopyResult, error) {
	m, err := c.ResolveFrom(ctx, src, root, opts.Platform)
	if err != nil {
		return CopyResult{}, err
	}
	if IsIndex(m.MediaType) {
		opts.Compress = false // a child's digest is fixed by its index: never rewrite it
	}
	w := &walk{c: c, src: src, dst: dst, opts: opts, compressed: newCompressions(opts.Compressed)}
	if opts.Compress {
		if planned, ok := w.compressed.rewrite(m); ok {
			m = planned
		}
	}
	res := CopyResult{Digest: m.Digest, MediaType: m.MediaType, Tag: tag}
	at := tag
	if at == "" {
		at = m.Digest.String()
	}
	have, err := dst.manifestDigest(ctx, at)
	switch {
	case err == nil && have == m.Digest:
		res.Unchanged = true
		res.Compressed = w.compressed.used()
		return w.withReferrers(ctx, m, res)
	case err != nil && !isNotFound(err):
		return CopyResult{}, err
	case err == nil && tag != "":
		res.Replaced = have
	}
	pushed, err := w.manifest(ctx, tag, m)
	if err != nil {
		return CopyResult{}, err
	}
	res.Digest, res.MediaType = pushed.Digest, pushed.MediaType
	res.Compressed = w.compressed.used()
	return w.withReferrers(ctx, m, res)
}

// ResolveFrom returns the manifest that copying root from src with platform p pushes:
// root itself, or the child of root's index that matches p.
func (c *Client) ResolveFrom(ctx context.Context, src Source, root Manifest, p *Platform) (Manifest, error) {
	if p == nil {
		return root, nil
	}
	parsed, err := root.parse()
	if err != nil {
		return Manifest{}, err
	}
	if !IsIndex(root.MediaType) {
		if err := c.checkPlatform(ctx, src, parsed.Config, *p); err != nil {
			return Manifest{}, err
		}
		return root, nil
	}
	child, ok := selectPlatform(parsed.Manifests, *p)
	if !ok {
		return Manifest{}, fmt.Errorf("%s has no %s image; it offers %s: %w", src, p, platforms(parsed.Manifests), ErrPlatformNotFound)
	}
	cm, err := c.readManifest(ctx, src, child)
	if err != nil {
		return Manifest{}, err
	}
	if IsIndex(cm.MediaType) {
		return Manifest{}, fmt.Errorf("%s: the %s entry is itself an index: %w", src, p, ErrUnsupportedMediaType)
	}
	return cm, nil
}

// Resolve reads the manifest that copying src with platform p would push.
func (c *Client) Resolve(ctx context.Context, src Reference, p *Platform) (Manifest, error) {
	root, err := c.GetManifest(ctx, src)
	if err != nil {
		return Manifest{}, err
	}
	return c.ResolveFrom(ctx, c.Repository(src), root, p)
}

// checkPlatform reads a single-platform image's config to make sure it is platform p.
func (c *Client) checkPlatform(ctx context.Context, src Source, config ocispec.Descriptor, p Platform) error {
	if config.Size > maxManifestSize {
		return fmt.Errorf("%s: config of %d bytes: %w", src, config.Size, ErrManifestTooLarge)
	}
	var body []byte
	err := c.retrying(ctx, func(ctx context.Context, _ retry.Action) error {
		rc, err := openVerified(ctx, src, config)
		if err != nil {
			return err
		}
		defer rc.Close()
		if body, err = io.ReadAll(rc); err != nil {
			return fmt.Errorf("read config of %s: %w", src, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	var img ocispec.Platform
	if err := json.Unmarshal(body, &img); err != nil || img.OS == "" {
		return fmt.Errorf("%s is not a single-platform image with an os and architecture, so platform %s cannot be checked: %w", src, p, ErrPlatformNotFound)
	}
	if !p.matches(&img) {
		have := Platform{OS: img.OS, Architecture: img.Architecture, Variant: img.Variant}
		return fmt.Errorf("%s is a single-platform %s image, not %s: %w", src, have, p, ErrPlatformNotFound)
	}
	return nil
}

// walk is one copy in progress.
type walk struct {
	c          *Client
	src        Source
	dst        target
	opts       CopyOptions
	compressed *compressions
}

// manifest copies everything m refers to, then m itself, under tag or, without one,
// by digest. It returns what was pushed: m, or m with its layers compressed.
func (w *walk) manifest(ctx context.Context, tag string, m Manifest) (Manifest, error) {
	p, err := m.parse()
	if err != nil {
		return Manifest{}, err
	}
	g := newGroup(ctx, cap(w.c.transfers))
	if IsIndex(m.MediaType) {
		for _, child := range p.Manifests {
			g.Go(func(ctx context.Context) error { return w.child(ctx, child) })
		}
	} else {
		layers := make([]ocispec.Descriptor, len(p.Layers))
		copy(layers, p.Layers)
		for i, blob := range layers {
			if nondistributable(blob.MediaType) && !w.c.allowNondistributable {
				continue
			}
			if w.opts.Compress && uncompressed(blob.MediaType) {
				g.Go(func(ctx context.Context) (err error) {
					layers[i], err = w.dst.compressLayer(ctx, w, blob)
					return err
				})
				continue
			}
			g.Go(func(ctx context.Context) error { return w.dst.putBlob(ctx, w.src, blob) })
		}
		g.Go(func(ctx context.Context) error { return w.dst.putBlob(ctx, w.src, p.Config) })
		if err := g.Wait(); err != nil {
			return Manifest{}, err
		}
		if m, err = withLayers(m, layers); err != nil {
			return Manifest{}, err
		}
		return m, w.dst.putManifest(ctx, m, tag)
	}
	if err := g.Wait(); err != nil {
		return Manifest{}, err
	}
	return m, w.dst.putManifest(ctx, m, tag)
}

// child copies one manifest of an index, unless the destination already has it.
func (w *walk) child(ctx context.Context, child ocispec.Descriptor) error {
	_, err := w.dst.manifestDigest(ctx, child.Digest.String())
	if err == nil {
		return nil
	}
	if !isNotFound(err) {
		return err
	}
	cm, err := w.c.readManifest(ctx, w.src, child)
	if err != nil {
		return err
	}
	_, err = w.manifest(ctx, "", cm)
	return err
}
