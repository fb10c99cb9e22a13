package testregistry

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

const (
	defaultPlatform  = "linux/amd64"
	defaultLayers    = 2
	defaultLayerSize = 64 << 10
)

// ImageSpec describes an image for Push to generate.
type ImageSpec struct {
	// OCI selects OCI media types; false means Docker schema2 and manifest lists.
	OCI bool
	// Platforms, when set, makes an index (or manifest list) with one child
	// per platform, such as "linux/amd64" or "linux/arm/v7"; empty makes a
	// single linux/amd64 image.
	Platforms []string
	// Layers is the number of layers per image; 0 means 2.
	Layers int
	// LayerSize is the bytes of random file content per layer before gzip;
	// 0 means 64 KiB.
	LayerSize int64
	// Seed fixes the random content: the same spec always gives the same
	// digests, and different seeds give different ones.
	Seed int64
}

// image is one generated single-platform image, ready to push.
type image struct {
	blobs    [][]byte // every layer, then the config
	manifest []byte
	desc     v1.Descriptor // of the manifest, carrying its platform
}

// buildImage generates the image spec describes for one platform.
func buildImage(spec ImageSpec, platform string, types mediaTypes) (image, error) {
	plat, err := parsePlatform(platform)
	if err != nil {
		return image{}, err
	}
	config := v1.Image{
		Platform: plat,
		RootFS:   v1.RootFS{Type: "layers"},
	}
	manifest := v1.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: types.manifest,
	}
	var img image
	for i := range spec.Layers {
		seed := sha256.Sum256(fmt.Appendf(nil, "testregistry layer %d %s %d", spec.Seed, platform, i))
		l, err := buildLayer(seed, fmt.Sprintf("layer-%d.bin", i), spec.LayerSize)
		if err != nil {
			return image{}, err
		}
		img.blobs = append(img.blobs, l.blob)
		config.RootFS.DiffIDs = append(config.RootFS.DiffIDs, l.diffID)
		manifest.Layers = append(manifest.Layers, descriptor(types.layer, l.blob))
	}
	configJSON, err := json.Marshal(config)
	if err != nil {
		return image{}, fmt.Errorf("encode image config: %w", err)
	}
	img.blobs = append(img.blobs, configJSON)
	manifest.Config = descriptor(types.config, configJSON)
	img.manifest, err = json.Marshal(manifest)
	if err != nil {
		return image{}, fmt.Errorf("encode image manifest: %w", err)
	}
	img.desc = descriptor(types.manifest, img.manifest)
	img.desc.Platform = &plat
	return img, nil
}

// parsePlatform reads "os/arch" or "os/arch/variant".
func parsePlatform(s string) (v1.Platform, error) {
	parts := strings.Split(s, "/")
	if len(parts) < 2 || len(parts) > 3 || parts[0] == "" || parts[1] == "" {
		return v1.Platform{}, fmt.Errorf("platform %q: want os/arch or os/arch/variant", s)
	}
	p := v1.Platform{OS: parts[0], Architecture: parts[1]}
	if len(parts) == 3 {
		p.Variant = parts[2]
	}
	return p, nil
}

func descriptor(mediaType string, content []byte) v1.Descriptor {
	return v1.Descriptor{
		MediaType: mediaType,
		Digest:    digest.FromBytes(content),
		Size:      int64(len(content)),
	}
}
