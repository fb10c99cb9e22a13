package registryclient

import (
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Docker media types; the OCI ones come from image-spec.
const (
	MediaTypeDockerManifest     = "application/vnd.docker.distribution.manifest.v2+json"
	MediaTypeDockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
	MediaTypeDockerConfig       = "application/vnd.docker.container.image.v1+json"
	MediaTypeDockerLayer        = "application/vnd.docker.image.rootfs.diff.tar.gzip"
	MediaTypeDockerForeignLayer = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
	mediaTypeDockerSchema1      = "application/vnd.docker.distribution.manifest.v1+json"
	mediaTypeDockerSchema1JWS   = "application/vnd.docker.distribution.manifest.v1+prettyjws"
)

// manifestAccept lists every manifest type the client understands; registries that are
// not sent one of them may convert the manifest and change its digest.
var manifestAccept = []string{
	ocispec.MediaTypeImageManifest,
	ocispec.MediaTypeImageIndex,
	MediaTypeDockerManifest,
	MediaTypeDockerManifestList,
}

// IsIndex reports whether a manifest media type lists other manifests.
func IsIndex(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageIndex || mediaType == MediaTypeDockerManifestList
}

// isImageManifest reports whether a media type is a single image (or artifact) manifest.
func isImageManifest(mediaType string) bool {
	return mediaType == ocispec.MediaTypeImageManifest || mediaType == MediaTypeDockerManifest
}

func isSchema1(mediaType string) bool {
	return mediaType == mediaTypeDockerSchema1 || mediaType == mediaTypeDockerSchema1JWS
}

// nondistributable reports whether a layer must not be pushed to other registries by
// default: Docker's foreign layers and OCI's deprecated non-distributable types.
func nondistributable(mediaType string) bool {
	switch mediaType {
	case MediaTypeDockerForeignLayer,
		// Deprecated in image-spec 1.1, still found in the wild.
		ocispec.MediaTypeImageLayerNonDistributable,
		ocispec.MediaTypeImageLayerNonDistributableGzip,
		ocispec.MediaTypeImageLayerNonDistributableZstd:
		return true
	}
	return false
}
