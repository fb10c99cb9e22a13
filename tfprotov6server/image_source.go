package tfprotov6server

import (
	"context"

	"github.com/opencontainers/go-digest"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

// resolved is what the source holds now, as far as a plan can tell without moving
// layer data.
type resolved struct {
	// root is the source's own manifest (an index when platform picks a child).
	root digest.Digest
	// identity is the manifest the copy starts from, after platform: for a registry or
	// an OCI layout the one pushed; for a docker-save image the manifest with its
	// layers uncompressed. When it changes, the source holds another image.
	identity digest.Digest
	// push is the digest the destination will hold; empty while it is known only after
	// compressing layers.
	push digest.Digest
	// referrers are the digests of what a copy with copy_referrers brings along,
	// sorted; listed only when copy_referrers is set.
	referrers []string
}

// resolve finds what the source holds. A registry source costs one HEAD, and a GET of
// the index only when platform must pick a child of an index not seen before; a
// digest-pinned source without platform costs nothing. A local image is opened and
// only its index, manifest and config are read. With copy_referrers, listing the
// referrers costs more (see withRegistryReferrers).
func resolve(ctx context.Context, client *registryclient.Client, t target, prior imagePrivate) (resolved, error) {
	if t.local != nil {
		return withLocal(ctx, client, t, func(img *tarball.Image, root, m registryclient.Manifest) (resolved, error) {
			r := resolved{root: root.Digest, identity: m.Digest, push: m.Digest}
			if compresses(img, t) {
				r.push = ""
				if planned, ok := registryclient.PlanCompressed(m, prior.layers()); ok {
					r.push = planned.Digest
				}
			}
			return r.withReferrers(ctx, client, t, img, m)
		})
	}
	if t.source.Digest != "" && t.platform == nil {
		d := t.source.Digest
		return resolved{root: d, identity: d, push: d}.withRegistryReferrers(ctx, client, t)
	}
	desc, err := client.HeadManifest(ctx, t.source)
	if err != nil {
		return resolved{}, err
	}
	r := resolved{root: desc.Digest, identity: desc.Digest}
	switch {
	case t.platform == nil:
	case prior.SourceRoot == desc.Digest.String() && prior.Source != "":
		r.identity = digest.Digest(prior.Source) // the same index picks the same child
	default:
		m, err := client.Resolve(ctx, t.source.WithDigest(desc.Digest), t.platform)
		if err != nil {
			return resolved{}, err
		}
		r.identity = m.Digest
	}
	r.push = r.identity
	return r.withRegistryReferrers(ctx, client, t)
}

// withLocal opens the local image t names, picks the manifest platform selects, and
// hands both to fn before closing the archive.
func withLocal[T any](ctx context.Context, client *registryclient.Client, t target, fn func(img *tarball.Image, root, m registryclient.Manifest) (T, error)) (T, error) {
	var zero T
	archive, err := tarball.OpenContext(ctx, *t.local)
	if err != nil {
		return zero, err
	}
	defer archive.Close()
	img, err := archive.Image(t.local.Name)
	if err != nil {
		return zero, err
	}
	root, err := registryclient.ReadRoot(ctx, img)
	if err != nil {
		return zero, err
	}
	m, err := client.ResolveFrom(ctx, img, root, t.platform)
	if err != nil {
		return zero, err
	}
	return fn(img, root, m)
}

// compresses reports whether the copy compresses the image's layers: a docker-save
// archive's, unless compression = "none".
func compresses(img *tarball.Image, t target) bool {
	return t.compress && img.Format() == tarball.FormatDockerArchive
}
