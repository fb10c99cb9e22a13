package testregistry

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// Pushed is what Push stored, for comparing with what a copy produced.
type Pushed struct {
	Repository, Tag string
	// Digest is the digest of the tagged manifest: the index when there are
	// platforms, else the image manifest.
	Digest    string
	MediaType string
	// Children maps each platform to its image manifest's digest; empty for
	// a single-platform image.
	Children map[string]string
	// Blobs lists every blob pushed, layers and configs.
	Blobs []string
}

// Push generates the image spec describes and pushes it to repo:tag:
// blobs first, then child manifests by digest, then the top manifest by tag.
func (r *Registry) Push(ctx context.Context, repo, tag string, spec ImageSpec) (Pushed, error) {
	if spec.Layers == 0 {
		spec.Layers = defaultLayers
	}
	if spec.LayerSize == 0 {
		spec.LayerSize = defaultLayerSize
	}
	types := dockerTypes
	if spec.OCI {
		types = ociTypes
	}
	pushed := Pushed{Repository: repo, Tag: tag, Children: map[string]string{}}
	if len(spec.Platforms) == 0 {
		desc, err := r.pushImage(ctx, repo, tag, spec, defaultPlatform, types, &pushed)
		if err != nil {
			return Pushed{}, err
		}
		pushed.Digest, pushed.MediaType = desc.Digest.String(), desc.MediaType
		return pushed, nil
	}
	index := v1.Index{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: types.index,
	}
	for _, platform := range spec.Platforms {
		desc, err := r.pushImage(ctx, repo, "", spec, platform, types, &pushed)
		if err != nil {
			return Pushed{}, err
		}
		index.Manifests = append(index.Manifests, desc)
		pushed.Children[platform] = desc.Digest.String()
	}
	body, err := json.Marshal(index)
	if err != nil {
		return Pushed{}, fmt.Errorf("push %s:%s: encode index: %w", repo, tag, err)
	}
	dgst, err := r.PushManifest(ctx, repo, tag, types.index, body)
	if err != nil {
		return Pushed{}, err
	}
	pushed.Digest, pushed.MediaType = dgst, types.index
	return pushed, nil
}

// pushImage pushes one platform's image under tag, or by digest when tag
// is empty, records its blobs in pushed and returns its descriptor.
func (r *Registry) pushImage(ctx context.Context, repo, tag string, spec ImageSpec, platform string, types mediaTypes, pushed *Pushed) (v1.Descriptor, error) {
	img, err := buildImage(spec, platform, types)
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("push %s for %s: %w", repo, platform, err)
	}
	for _, blob := range img.blobs {
		dgst, err := r.PushBlob(ctx, repo, blob)
		if err != nil {
			return v1.Descriptor{}, err
		}
		pushed.Blobs = append(pushed.Blobs, dgst)
	}
	ref := tag
	if ref == "" {
		ref = img.desc.Digest.String()
	}
	if _, err := r.PushManifest(ctx, repo, ref, types.manifest, img.manifest); err != nil {
		return v1.Descriptor{}, err
	}
	return img.desc, nil
}
