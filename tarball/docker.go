package tarball

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// dockerItem is one image of a docker-save manifest.json. File names differ from one
// writer to the next (see the package comment), so they are only ever taken from here.
type dockerItem struct {
	Config   string
	RepoTags []string
	Layers   []string
}

// dockerImage is a docker-save image as the OCI image manifest pushed for it, and the
// archive file that holds each blob that manifest references.
type dockerImage struct {
	desc     ocispec.Descriptor
	manifest []byte
	blobs    map[digest.Digest]string
}

// dockerConfig is the part of an image config the manifest is built from.
type dockerConfig struct {
	Architecture string `json:"architecture"`
	OS           string `json:"os"`
	Variant      string `json:"variant"`
	RootFS       struct {
		DiffIDs []digest.Digest `json:"diff_ids"`
	} `json:"rootfs"`
}

// loadDocker reads manifest.json. An error wrapping fs.ErrNotExist means there is none.
func loadDocker(f files, label string) ([]archived, error) {
	b, err := readMetadata(f, "manifest.json", label)
	if err != nil {
		return nil, err
	}
	var items []dockerItem
	if err := json.Unmarshal(b, &items); err != nil {
		return nil, fmt.Errorf("%w: %s: manifest.json is not a docker-save manifest (a list of {Config, RepoTags, Layers}): %v", ErrMalformed, label, err)
	}
	images := make([]archived, 0, len(items))
	for i, item := range items {
		if item.Config == "" {
			return nil, fmt.Errorf("%w: %s: image %d of manifest.json names no Config file", ErrMalformed, label, i)
		}
		images = append(images, archived{names: sortedUnique(item.RepoTags), docker: item})
	}
	return images, nil
}

// convertDocker builds the OCI image manifest for a docker-save image from
// manifest.json and its config alone: schemaVersion 2, the config as it is (its digest
// is the image ID), and the layers in order as they are stored. An uncompressed layer's
// digest is its diffID; a compressed one's is read from its content-addressed name, or
// hashed once when its name does not carry it. Only a layer's first bytes are read, to
// tell whether and how it is compressed.
func convertDocker(ctx context.Context, f files, label string, item dockerItem) (*dockerImage, error) {
	config, err := readMetadata(f, item.Config, label)
	if err != nil {
		return nil, missing(err, label, "the config "+item.Config+" that manifest.json names")
	}
	var cfg dockerConfig
	if err := json.Unmarshal(config, &cfg); err != nil {
		return nil, fmt.Errorf("%w: %s: the config %s is not an image config: %v", ErrMalformed, label, item.Config, err)
	}
	if len(cfg.RootFS.DiffIDs) != len(item.Layers) {
		return nil, fmt.Errorf("%w: %s: the config %s lists %d layer diff_ids but manifest.json %d layers", ErrMalformed, label, item.Config, len(cfg.RootFS.DiffIDs), len(item.Layers))
	}
	img := &dockerImage{blobs: map[digest.Digest]string{}}
	manifest := ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2},
		MediaType: ocispec.MediaTypeImageManifest,
		Config: ocispec.Descriptor{
			MediaType: ocispec.MediaTypeImageConfig,
			Digest:    digest.FromBytes(config),
			Size:      int64(len(config)),
		},
		Layers: make([]ocispec.Descriptor, 0, len(item.Layers)),
	}
	img.blobs[manifest.Config.Digest] = item.Config
	for i, name := range item.Layers {
		layer, err := dockerLayer(ctx, f, label, name, cfg.RootFS.DiffIDs[i])
		if err != nil {
			return nil, err
		}
		manifest.Layers = append(manifest.Layers, layer)
		img.blobs[layer.Digest] = name
	}
	if img.manifest, err = json.Marshal(manifest); err != nil {
		return nil, fmt.Errorf("%s: encode the image manifest: %w", label, err)
	}
	img.desc = ocispec.Descriptor{
		MediaType: ocispec.MediaTypeImageManifest,
		Digest:    digest.FromBytes(img.manifest),
		Size:      int64(len(img.manifest)),
	}
	if cfg.OS != "" && cfg.Architecture != "" {
		img.desc.Platform = &ocispec.Platform{OS: cfg.OS, Architecture: cfg.Architecture, Variant: cfg.Variant}
	}
	return img, nil
}

// dockerLayer describes one layer file as it is stored.
func dockerLayer(ctx context.Context, f files, label, name string, diffID digest.Digest) (ocispec.Descriptor, error) {
	m, err := f.open(name)
	if err != nil {
		return ocispec.Descriptor{}, missing(err, label, "the layer "+name+" that manifest.json names")
	}
	defer m.Close()
	magic := make([]byte, len(zstdMagic))
	n, err := m.ReadAt(magic, 0)
	if err != nil && err != io.EOF {
		return ocispec.Descriptor{}, fmt.Errorf("%w %s: layer %s: %v", ErrUnreadable, label, name, err)
	}
	desc := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageLayer, Digest: diffID, Size: m.Size()}
	switch {
	case bytes.HasPrefix(magic[:n], gzipMagic):
		desc.MediaType = ocispec.MediaTypeImageLayerGzip
	case bytes.HasPrefix(magic[:n], zstdMagic):
		desc.MediaType = ocispec.MediaTypeImageLayerZstd
	default:
		if err := diffID.Validate(); err != nil {
			return ocispec.Descriptor{}, fmt.Errorf("%w: %s: the config has no valid diff_id for the layer %s (%q): %v", ErrMalformed, label, name, diffID, err)
		}
		return desc, nil
	}
	if d, ok := digestFromName(name); ok {
		desc.Digest = d
		return desc, nil
	}
	if desc.Digest, err = hashMember(ctx, m, label, name); err != nil {
		return ocispec.Descriptor{}, err
	}
	return desc, nil
}

// hashMember reads a member once to learn its sha256.
func hashMember(ctx context.Context, m *member, label, name string) (digest.Digest, error) {
	d := digest.SHA256.Digester()
	n, err := io.Copy(d.Hash(), contextReader{ctx: ctx, r: io.NewSectionReader(m, 0, m.Size())})
	if err != nil {
		return "", fmt.Errorf("%s: hash the layer %s: %w", label, name, err)
	}
	if n != m.Size() {
		return "", fmt.Errorf("%w: %s: the layer %s ends %d bytes early", ErrTruncated, label, name, m.Size()-n)
	}
	return d.Digest(), nil
}

// compressedExtensions end the names of layers stored compressed and named by the
// digest of their compressed bytes (crane's <hex>.tar.gz).
var compressedExtensions = []string{".tar.gz", ".tgz", ".gz", ".tar.zst", ".zst"}

// digestFromName reads a compressed layer's digest from a content-addressed name:
// blobs/<alg>/<hex> (an OCI layout, Docker 25+), sha256:<hex>, or <hex>.tar.gz (crane).
// An uncompressed name such as <hex>.tar is not trusted: skopeo names those by diffID.
func digestFromName(name string) (digest.Digest, bool) {
	if rest, ok := strings.CutPrefix(name, "blobs/"); ok {
		if alg, encoded, ok := strings.Cut(rest, "/"); ok {
			d := digest.NewDigestFromEncoded(digest.Algorithm(alg), encoded)
			return d, d.Validate() == nil
		}
	}
	base := path.Base(name)
	if d := digest.Digest(base); strings.HasPrefix(base, "sha256:") && d.Validate() == nil {
		return d, true
	}
	for _, ext := range compressedExtensions {
		if encoded, ok := strings.CutSuffix(base, ext); ok {
			d := digest.NewDigestFromEncoded(digest.SHA256, encoded)
			return d, d.Validate() == nil
		}
	}
	return "", false
}
