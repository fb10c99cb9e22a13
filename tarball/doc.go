// Package tarball reads local images: docker-save archives and OCI image layouts, as a
// tar file or a directory, so they can be pushed to a registry. It opens an archive
// once and reads each file inside it in one pass.
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
