package testregistry

import v1 "github.com/opencontainers/image-spec/specs-go/v1"

// Docker schema2 media types; image-spec only defines the OCI ones.
const (
	// MediaTypeDockerManifest is a Docker schema2 image manifest.
	MediaTypeDockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
	// MediaTypeDockerManifestList is a Docker schema2 manifest list.
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	// MediaTypeDockerConfig is a Docker image config.
	MediaTypeDockerConfig = "application/vnd.docker.container.image.v1+json"
	// MediaTypeDockerLayer is a gzip-compressed Docker layer tar.
	MediaTypeDockerLayer = "application/vnd.docker.image.rootfs.diff.tar.gzip"
)

// mediaTypes is the family of types one generated image uses.
type mediaTypes struct {
	index, manifest, config, layer string
}

var (
	dockerTypes = mediaTypes{
		index:    MediaTypeDockerManifestList,
		manifest: MediaTypeDockerManifest,
		config:   MediaTypeDockerConfig,
		layer:    MediaTypeDockerLayer,
	}
	ociTypes = mediaTypes{
		index:    v1.MediaTypeImageIndex,
		manifest: v1.MediaTypeImageManifest,
		config:   v1.MediaTypeImageConfig,
		layer:    v1.MediaTypeImageLayerGzip,
	}
)
