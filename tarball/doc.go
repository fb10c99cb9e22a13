// Package tarball reads local images so they can be pushed to a registry: docker-save
// archives and OCI image layouts, as a tar file, a gzip-compressed tar, or a directory.
// It knows nothing of registries or HTTP; the copy engine walks an Image from Root as
// it walks a registry's manifests.
//
// What real tools write, and is read here (file names always come from manifest.json or
// index.json, never guessed):
//   - docker save before 25 and crane pull --format=legacy: <id>/layer.tar, <hex>.json;
//   - skopeo docker-archive: <hex>.tar layers and <id>/layer.tar symlinks to them;
//   - crane pull --format=tarball: config sha256:<hex>, layers <hex>.tar.gz, gzip'd;
//   - docker save 25+: an OCI image layout with manifest.json beside it. Without a prefix
//     manifest.json wins (the image as docker loads it); "oci-archive:" reads the layout;
//   - OCI image layouts (skopeo oci:/oci-archive:, crane pull --format=oci, buildah), with
//     multi-platform indexes, images named by org.opencontainers.image.ref.name or
//     io.containerd.image.name.
//
// A tar is indexed in one scan of its headers and each file is read at its offset
// through the one open file: never extracted, never scanned twice. A gzip-compressed
// archive (told by its magic bytes, not its name) cannot be read at offsets, so Open
// decompresses it once into a temporary file in os.TempDir, which Close removes.
//
// Archives are not trusted: entry names that are absolute or climb out with "..", links
// that leave the archive or loop, and sparse files are refused (ErrUnsafeEntry);
// manifest.json, index.json, configs and manifests above 4 MiB are refused; an archive
// cut short is ErrTruncated, at Open or, if it shrinks later, while a blob is read. When
// a name appears twice in a tar the later entry wins, as it does when tar extracts.
package tarball

// Format is the kind of local image a path holds.
type Format int

// The formats tarball reads.
const (
	// FormatDockerArchive is `docker save` output: manifest.json and uncompressed layers.
	FormatDockerArchive Format = iota + 1
	// FormatOCILayout is an OCI image layout: oci-layout, index.json and blobs/<alg>/<hex>.
	FormatOCILayout
)

// String names the format as users write it.
func (f Format) String() string {
	switch f {
	case FormatDockerArchive:
		return "docker-archive"
	case FormatOCILayout:
		return "oci-layout"
	}
	return "unknown"
}
