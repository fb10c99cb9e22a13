package registryclient

import (
	"context"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Inspection is what a registry holds under a reference, read without copying it.
type Inspection struct {
	// Manifest is the image: the manifest the reference names, or, when a platform
	// was asked for and the reference names an index, the child for that platform.
	Manifest Manifest
	// Config is Manifest's config descriptor; zero when Manifest is an index.
	Config ocispec.Descriptor
	// Children are the entries of the index the reference names, in its order; nil
	// when it names a single manifest.
	Children []ocispec.Descriptor
}

// Inspect reads ref's manifest and, when p is set, selects p's image the way Copy
// would: the matching child of an index (one more GET), or a single-platform image
// after checking its config says it is p. Every manifest read is verified against its
// digest.
func (c *Client) Inspect(ctx context.Context, ref Reference, p *Platform) (Inspection, error) {
	root, err := c.GetManifest(ctx, ref)
	if err != nil {
		return Inspection{}, err
	}
	parsed, err := root.parse()
	if err != nil {
		return Inspection{}, err
	}
	in := Inspection{Manifest: root, Config: parsed.Config}
	if IsIndex(root.MediaType) {
		in.Config, in.Children = ocispec.Descriptor{}, parsed.Manifests
	}
	if p == nil {
		return in, nil
	}
	// The selection a copy makes, so the data source and the resource agree.
	m, err := c.ResolveFrom(ctx, c.Repository(ref), root, p)
	if err != nil {
		return Inspection{}, err
	}
	mp, err := m.parse()
	if err != nil {
		return Inspection{}, err
	}
	in.Manifest, in.Config = m, mp.Config
	return in, nil
}

// PlatformOf is an index entry's platform in the form ParsePlatform reads. ok is
// false for entries that are not images for a platform: no platform at all, or the
// unknown/unknown that BuildKit gives its attestation manifests.
func PlatformOf(d ocispec.Descriptor) (p Platform, ok bool) {
	if d.Platform == nil || d.Platform.OS == "" || d.Platform.OS == "unknown" {
		return Platform{}, false
	}
	return Platform{OS: d.Platform.OS, Architecture: d.Platform.Architecture, Variant: d.Platform.Variant, OSVersion: d.Platform.OSVersion}, true
}
