// Package testimage writes local images exactly as real tools lay them out (docker save
// before and after 25, crane's legacy and tarball formats, skopeo's docker-archive, OCI
// image layouts as a tar or a directory), from a seed, and returns what a test needs to
// judge a reader or a push: image IDs, diffIDs, the digests of the bytes as stored, and
// the manifest and index digests of OCI layouts.
//
// It follows the published formats and the writers' source, and imports nothing from
// this repository, so it stays an independent judge of the code that reads them.
package testimage

import "fmt"

// Layout is the tool whose output a fixture imitates.
type Layout int

const (
	// DockerSave is `docker save` before 25: <id>/layer.tar, <id>/json, <id>/VERSION,
	// <hex>.json config, repositories, directory entries, names sorted.
	DockerSave Layout = iota + 1
	// CraneLegacy is `crane pull --format=legacy`: <id>/layer.tar written with the
	// layer's json and VERSION after it, config <hex>.json first, no directory entries.
	CraneLegacy
	// SkopeoDockerArchive is `skopeo copy ... docker-archive:`: layers <diffID hex>.tar
	// at the root, <id>/layer.tar symlinks to ../<hex>.tar, mode 0444.
	SkopeoDockerArchive
	// CraneTarball is `crane pull --format=tarball`: config sha256:<hex>, layers
	// <hex>.tar.gz stored gzip-compressed and named by the compressed digest.
	CraneTarball
	// Docker25 is `docker save` from 25 on: an OCI image layout with uncompressed layers
	// and manifest.json beside it pointing into blobs/.
	Docker25
	// OCIArchive is an OCI image layout in a tar (skopeo oci-archive:), gzip'd layers.
	OCIArchive
	// OCIDirectory is an OCI image layout directory (crane pull --format=oci, skopeo oci:).
	OCIDirectory
)

// Layouts lists every layout, for tests that run over all of them.
var Layouts = []Layout{DockerSave, CraneLegacy, SkopeoDockerArchive, CraneTarball, Docker25, OCIArchive, OCIDirectory}

func (l Layout) String() string {
	switch l {
	case DockerSave:
		return "docker-save"
	case CraneLegacy:
		return "crane-legacy"
	case SkopeoDockerArchive:
		return "skopeo-docker-archive"
	case CraneTarball:
		return "crane-tarball"
	case Docker25:
		return "docker-25"
	case OCIArchive:
		return "oci-archive"
	case OCIDirectory:
		return "oci-directory"
	}
	return fmt.Sprintf("Layout(%d)", int(l))
}

// IsOCI reports whether the layout is an OCI image layout without manifest.json.
func (l Layout) IsOCI() bool { return l == OCIArchive || l == OCIDirectory }

// IsDocker reports whether the layout has a docker-save manifest.json (Docker25 has both).
func (l Layout) IsDocker() bool { return !l.IsOCI() }

// Options describes a fixture.
type Options struct {
	Layout Layout
	// Seed fixes every byte: the same options always write the same archive.
	Seed int64
	// Images is how many images the archive holds; 0 means 1. Several images share
	// their first layer, as images built FROM one base do.
	Images int
	// Names gives each image's names (docker RepoTags, OCI ref.name annotations), one
	// slice per image; an empty slice leaves that image unnamed. Nil names image i
	// "testimage/img<i>:v1".
	Names [][]string
	// Platforms makes each image an index with one manifest per platform, such as
	// "linux/amd64" or "linux/arm/v7". OCI layouts only; empty means one linux/amd64
	// image.
	Platforms []string
	// Layers is the number of layers per image; 0 means 2.
	Layers int
	// LayerSize is roughly how many bytes of file content each layer holds; 0 means 16 KiB.
	LayerSize int
	// Gzip compresses the whole archive, as `docker save | gzip` does.
	Gzip bool
}

func (o Options) withDefaults() (Options, error) {
	if o.Layout < DockerSave || o.Layout > OCIDirectory {
		return o, fmt.Errorf("testimage: unknown layout %d", o.Layout)
	}
	if o.Images == 0 {
		o.Images = 1
	}
	if o.Layers == 0 {
		o.Layers = 2
	}
	if o.LayerSize == 0 {
		o.LayerSize = 16 << 10
	}
	if o.Names == nil {
		for i := range o.Images {
			o.Names = append(o.Names, []string{fmt.Sprintf("testimage/img%d:v1", i)})
		}
	}
	switch {
	case len(o.Names) != o.Images:
		return o, fmt.Errorf("testimage: %d name lists for %d images", len(o.Names), o.Images)
	case len(o.Platforms) > 0 && !o.Layout.IsOCI():
		return o, fmt.Errorf("testimage: %s archives hold single-platform images only", o.Layout)
	case o.Gzip && o.Layout == OCIDirectory:
		return o, fmt.Errorf("testimage: a directory cannot be gzip-compressed")
	}
	return o, nil
}
