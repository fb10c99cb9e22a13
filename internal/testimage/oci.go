package testimage

import (
	"encoding/json"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// BlobName is where an OCI image layout keeps the blob d.
func BlobName(d digest.Digest) string {
	return "blobs/" + d.Algorithm().String() + "/" + d.Encoded()
}

// ociLayout writes an OCI image layout: blobs, a manifest per platform, an index per
// image when multi, index.json with one entry per name (or one unnamed entry), and
// oci-layout. Docker 25's layout stores layers uncompressed and names images its way.
func (f *Fixture) ociLayout(images [][]imageData, names [][]string, multi, docker bool) error {
	compressed := !docker
	f.addDir("blobs/")
	f.addDir("blobs/sha256/")
	index := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex}
	for i, imgs := range images {
		image := Image{Names: names[i]}
		var children []ocispec.Descriptor
		for _, img := range imgs {
			p := platformOf(img, compressed)
			desc, err := f.addManifest(img, p)
			if err != nil {
				return err
			}
			p.Manifest = desc.Digest
			image.Platforms = append(image.Platforms, p)
			children = append(children, desc)
		}
		top := children[0]
		top.Platform = nil
		if multi {
			child := ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: children}
			b, err := json.Marshal(child)
			if err != nil {
				return err
			}
			top = f.addBlob(ocispec.MediaTypeImageIndex, b)
		}
		image.Digest, image.MediaType = top.Digest, top.MediaType
		f.Images = append(f.Images, image)
		index.Manifests = append(index.Manifests, indexEntries(top, names[i], docker)...)
	}
	b, err := json.Marshal(index)
	if err != nil {
		return err
	}
	f.add(Entry{Name: "index.json", Body: b})
	f.add(Entry{Name: ocispec.ImageLayoutFile, Body: []byte(`{"imageLayoutVersion":"1.0.0"}`)})
	return nil
}

// addManifest stores one platform's config, layers and manifest, and describes the
// manifest as an index lists it.
func (f *Fixture) addManifest(img imageData, p Platform) (ocispec.Descriptor, error) {
	manifest := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config:    f.addBlob(ocispec.MediaTypeImageConfig, img.config),
	}
	for _, l := range p.Layers {
		manifest.Layers = append(manifest.Layers, f.addBlob(l.MediaType, l.Data))
	}
	b, err := json.Marshal(manifest)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc := f.addBlob(ocispec.MediaTypeImageManifest, b)
	plat, err := parsePlatform(img.platform)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	desc.Platform = &plat
	return desc, nil
}

func (f *Fixture) addBlob(mediaType string, b []byte) ocispec.Descriptor {
	d := digest.FromBytes(b)
	f.add(Entry{Name: BlobName(d), Body: b})
	return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(b))}
}

// indexEntries names top in index.json: one entry per name with
// org.opencontainers.image.ref.name as skopeo writes it, or, as Docker 25 writes it,
// io.containerd.image.name with the full reference and ref.name with the tag alone.
func indexEntries(top ocispec.Descriptor, names []string, docker bool) []ocispec.Descriptor {
	if len(names) == 0 {
		return []ocispec.Descriptor{top}
	}
	var entries []ocispec.Descriptor
	for _, n := range names {
		e := top
		if docker {
			_, tag := splitTag(n)
			e.Annotations = map[string]string{"io.containerd.image.name": fullName(n), ocispec.AnnotationRefName: tag}
		} else {
			e.Annotations = map[string]string{ocispec.AnnotationRefName: n}
		}
		entries = append(entries, e)
	}
	return entries
}

// fullName spells a name with Docker Hub's defaults, as Docker 25 writes it into
// io.containerd.image.name: "alpine:3.20" is "docker.io/library/alpine:3.20".
func fullName(name string) string {
	repo, tag := splitTag(name)
	domain, rest, found := strings.Cut(repo, "/")
	if !found || !(strings.ContainsAny(domain, ".:") || domain == "localhost") {
		domain, rest = "docker.io", repo
	}
	if domain == "docker.io" && !strings.Contains(rest, "/") {
		rest = "library/" + rest
	}
	return domain + "/" + rest + ":" + tag
}
