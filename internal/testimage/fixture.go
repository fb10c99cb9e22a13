package testimage

import (
	"archive/tar"
	"slices"

	"github.com/opencontainers/go-digest"
)

// Fixture is a generated archive: its entries, ready to write, and what they hold.
type Fixture struct {
	Layout Layout
	// Gzip is whether Write compresses the whole archive.
	Gzip bool
	// Entries are the archive's files in the order the tool writes them. A test may
	// change them before Write to make a damaged or hostile archive.
	Entries []Entry
	// Images are the images inside, in the order manifest.json or index.json lists them.
	Images []Image
	// Path is where WriteT put the fixture.
	Path string
}

// Entry is one file, directory or link of an archive.
type Entry struct {
	Name string
	// Type is a tar type flag: tar.TypeReg (also the zero value), tar.TypeDir,
	// tar.TypeSymlink or tar.TypeLink.
	Type byte
	// Link is a link's target.
	Link string
	Body []byte
	// Mode is the permission bits; 0 means 0644 for files and 0755 for directories.
	Mode int64
}

// Image is one image of a fixture.
type Image struct {
	// Names are the names the archive gives it, as written.
	Names []string
	// Digest and MediaType are, in an OCI layout (Docker25 included), what index.json
	// points to: the image manifest, or the index of a multi-platform image.
	Digest    digest.Digest
	MediaType string
	// Platforms has one entry per platform; a single-platform image has exactly one.
	Platforms []Platform
}

// ID is the image ID of a single-platform image: its config's digest.
func (i Image) ID() digest.Digest { return i.Platforms[0].ID }

// Platform is one single-platform image: the whole image, or one child of an index.
type Platform struct {
	Platform string
	// Manifest is the image manifest's digest in an OCI layout; empty in a docker-save
	// archive, which has none.
	Manifest digest.Digest
	// ID is the config's digest, the image ID, and Config its bytes.
	ID      digest.Digest
	Config  []byte
	DiffIDs []digest.Digest
	// Layers are the layers as the archive stores them.
	Layers []Layer
}

// Layer is one layer as the archive stores it.
type Layer struct {
	// Digest is the sha256 of the stored bytes: the diffID when stored uncompressed.
	Digest digest.Digest
	DiffID digest.Digest
	Size   int64
	// MediaType is the OCI layer media type of the stored bytes.
	MediaType string
	// Compressed is whether the stored bytes are gzip'd.
	Compressed bool
	// Data is the stored bytes.
	Data []byte
}

// Build generates the archive o describes, in memory.
func Build(o Options) (*Fixture, error) {
	o, err := o.withDefaults()
	if err != nil {
		return nil, err
	}
	platforms := o.Platforms
	if len(platforms) == 0 {
		platforms = []string{"linux/amd64"}
	}
	images := make([][]imageData, o.Images)
	for i := range o.Images {
		for _, p := range platforms {
			img, err := buildImage(o, i, p)
			if err != nil {
				return nil, err
			}
			images[i] = append(images[i], img)
		}
	}
	f := &Fixture{Layout: o.Layout, Gzip: o.Gzip}
	switch o.Layout {
	case DockerSave:
		err = f.dockerSave(images, o.Names)
	case CraneLegacy:
		err = f.craneLegacy(images, o.Names)
	case SkopeoDockerArchive:
		err = f.skopeo(images, o.Names)
	case CraneTarball:
		err = f.craneTarball(images, o.Names)
	case Docker25:
		err = f.docker25(images, o.Names)
	case OCIArchive, OCIDirectory:
		err = f.ociLayout(images, o.Names, len(o.Platforms) > 0, false)
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// Entry returns the entry named name (the last one, as extraction would), or nil.
func (f *Fixture) Entry(name string) *Entry {
	for i := len(f.Entries) - 1; i >= 0; i-- {
		if f.Entries[i].Name == name {
			return &f.Entries[i]
		}
	}
	return nil
}

// Remove deletes every entry named name and reports whether there was one.
func (f *Fixture) Remove(name string) bool {
	n := len(f.Entries)
	f.Entries = slices.DeleteFunc(f.Entries, func(e Entry) bool { return e.Name == name })
	return len(f.Entries) != n
}

// add appends an entry unless one with its name is there already: tools write a shared
// layer once.
func (f *Fixture) add(e Entry) {
	if f.Entry(e.Name) == nil {
		f.Entries = append(f.Entries, e)
	}
}

func (f *Fixture) addDir(name string) {
	f.add(Entry{Name: name, Type: tar.TypeDir})
}

// stored describes a layer as stored uncompressed or gzip'd.
func stored(l layerData, compressed bool) Layer {
	if compressed {
		return Layer{Digest: l.digest, DiffID: l.diffID, Size: int64(len(l.gz)), MediaType: "application/vnd.oci.image.layer.v1.tar+gzip", Compressed: true, Data: l.gz}
	}
	return Layer{Digest: l.diffID, DiffID: l.diffID, Size: int64(len(l.tar)), MediaType: "application/vnd.oci.image.layer.v1.tar", Data: l.tar}
}

// platformOf describes a generated image, with its layers stored as the layout does.
func platformOf(img imageData, compressed bool) Platform {
	p := Platform{Platform: img.platform, ID: img.id, Config: img.config}
	for _, l := range img.layers {
		p.DiffIDs = append(p.DiffIDs, l.diffID)
		p.Layers = append(p.Layers, stored(l, compressed))
	}
	return p
}
