package registryclient

import (
	"context"
	"encoding/json"
	"errors"
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
}

// CopyResult describes what the destination holds after a Copy.
type CopyResult struct {
	Digest    digest.Digest // the manifest digest at the destination
	MediaType string
	Tag       string // the tag written; empty when the image was pushed by digest only
	Unchanged bool   // the destination already held this image; nothing was written
}

// DestinationTag is the tag a copy writes: the destination's own tag, else the source's
// (mirroring "alpine:3.20" into "registry/mirror/alpine" gives ":3.20"), else none: an
// image copied from a digest-only source is pushed by digest.
func DestinationTag(src, dst Reference) string {
	if dst.Tag != "" {
		return dst.Tag
	}
	if src.Tag == "" && src.Digest == "" {
		return "latest"
	}
	return src.Tag
}

// Copy copies src to dst, preserving every digest byte for byte. Blobs and child
// manifests the destination already has are skipped, blobs on the same registry are
// mounted instead of transferred, and a manifest is pushed only after everything it
// refers to is in place, so a failed copy never leaves a tag on a broken image.
func (c *Client) Copy(ctx context.Context, src, dst Reference, opts CopyOptions) (CopyResult, error) {
	m, err := c.Resolve(ctx, src, opts.Platform)
	if err != nil {
		return CopyResult{}, err
	}
	res := CopyResult{Digest: m.Digest, MediaType: m.MediaType, Tag: DestinationTag(src, dst)}
	target := dst.WithDigest(m.Digest)
	if res.Tag != "" {
		target = dst.WithTag(res.Tag)
	}
	have, err := c.headManifest(ctx, target, push(target))
	switch {
	case err == nil && have.Digest == m.Digest:
		res.Unchanged = true
		return res, nil
	case err != nil && !isNotFound(err):
		return CopyResult{}, fmt.Errorf("copy %s to %s: %w", src, target, err)
	}
	if err := c.copyManifest(ctx, src, target, m); err != nil {
		return CopyResult{}, fmt.Errorf("copy %s to %s: %w", src, target, err)
	}
	return res, nil
}

// Resolve reads the manifest that copying src with platform p would push: src's own
// manifest, or the child of its index that matches p.
func (c *Client) Resolve(ctx context.Context, src Reference, p *Platform) (Manifest, error) {
	m, err := c.GetManifest(ctx, src)
	if err != nil || p == nil {
		return m, err
	}
	parsed, err := m.parse()
	if err != nil {
		return Manifest{}, err
	}
	if !IsIndex(m.MediaType) {
		if err := c.checkPlatform(ctx, src, parsed.Config, *p); err != nil {
			return Manifest{}, err
		}
		return m, nil
	}
	child, ok := selectPlatform(parsed.Manifests, *p)
	if !ok {
		return Manifest{}, fmt.Errorf("%s has no %s image; it offers %s: %w", src, p, platforms(parsed.Manifests), ErrPlatformNotFound)
	}
	cm, err := c.GetManifest(ctx, src.WithDigest(child.Digest))
	if err != nil {
		return Manifest{}, err
	}
	if IsIndex(cm.MediaType) {
		return Manifest{}, fmt.Errorf("%s: the %s entry is itself an index: %w", src, p, ErrUnsupportedMediaType)
	}
	return cm, nil
}

// checkPlatform reads a single-platform image's config to make sure it is platform p.
func (c *Client) checkPlatform(ctx context.Context, src Reference, config ocispec.Descriptor, p Platform) error {
	if config.Size > maxManifestSize {
		return fmt.Errorf("%s: config of %d bytes: %w", src, config.Size, ErrManifestTooLarge)
	}
	rc, err := c.OpenBlob(ctx, src, config)
	if err != nil {
		return err
	}
	defer rc.Close()
	body, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("read config of %s: %w", src, err)
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

// copyManifest copies everything m refers to from src's repository into dst's, then m
// itself, under dst's tag or, without one, by digest.
func (c *Client) copyManifest(ctx context.Context, src, dst Reference, m Manifest) error {
	p, err := m.parse()
	if err != nil {
		return err
	}
	g := newGroup(ctx, cap(c.transfers))
	if IsIndex(m.MediaType) {
		for _, child := range p.Manifests {
			g.Go(func(ctx context.Context) error { return c.copyChild(ctx, src, dst, child) })
		}
	} else {
		for _, blob := range append([]ocispec.Descriptor{p.Config}, p.Layers...) {
			if nondistributable(blob.MediaType) && !c.allowNondistributable {
				continue
			}
			g.Go(func(ctx context.Context) error { return c.copyBlob(ctx, src, dst, blob) })
		}
	}
	if err := g.Wait(); err != nil {
		return err
	}
	return c.PutManifest(ctx, dst, m)
}

// copyChild copies one manifest of an index, unless the destination already has it.
func (c *Client) copyChild(ctx context.Context, src, dst Reference, child ocispec.Descriptor) error {
	_, err := c.headManifest(ctx, dst.WithDigest(child.Digest), push(dst))
	if err == nil {
		return nil
	}
	if !isNotFound(err) {
		return err
	}
	cm, err := c.GetManifest(ctx, src.WithDigest(child.Digest))
	if err != nil {
		return err
	}
	return c.copyManifest(ctx, src, dst.WithDigest(child.Digest), cm)
}

// temporary reports whether a failed transfer may succeed when tried again.
func temporary(err error) bool {
	if errors.Is(err, errSessionLost) {
		return true
	}
	if errors.As(err, new(exhausted)) {
		return false // do() has spent the retries on it already
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, ErrDigestMismatch) || errors.Is(err, ErrUnexpectedContentSize) {
		return false
	}
	var re *Error
	if errors.As(err, &re) {
		return re.Temporary()
	}
	return retry.Transport(err)
}
