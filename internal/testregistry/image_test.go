package testregistry

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"testing"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestBuildImage(t *testing.T) {
	spec := ImageSpec{Layers: 2, LayerSize: 4096, Seed: 42}

	t.Run("the same seed gives the same digest and another seed a different one", func(t *testing.T) {
		a, err := buildImage(spec, "linux/amd64", ociTypes)
		if err != nil {
			t.Fatal(err)
		}
		again, err := buildImage(spec, "linux/amd64", ociTypes)
		if err != nil {
			t.Fatal(err)
		}
		other := spec
		other.Seed++
		b, err := buildImage(other, "linux/amd64", ociTypes)
		if err != nil {
			t.Fatal(err)
		}
		if a.desc.Digest != again.desc.Digest {
			t.Errorf("same spec: %s then %s", a.desc.Digest, again.desc.Digest)
		}
		if a.desc.Digest == b.desc.Digest {
			t.Errorf("seeds 42 and 43 both give %s", a.desc.Digest)
		}
	})

	t.Run("each layer is a gzipped tar whose digest is the config's diff_id", func(t *testing.T) {
		img, err := buildImage(spec, "linux/arm/v7", dockerTypes)
		if err != nil {
			t.Fatal(err)
		}
		var config v1.Image
		if err := json.Unmarshal(img.blobs[len(img.blobs)-1], &config); err != nil {
			t.Fatal(err)
		}
		if config.OS != "linux" || config.Architecture != "arm" || config.Variant != "v7" {
			t.Errorf("config platform %s/%s/%s, want linux/arm/v7", config.OS, config.Architecture, config.Variant)
		}
		layers := img.blobs[:len(img.blobs)-1]
		if len(layers) != 2 || len(config.RootFS.DiffIDs) != 2 {
			t.Fatalf("%d layers and %d diff_ids, want 2 each", len(layers), len(config.RootFS.DiffIDs))
		}
		for i, blob := range layers {
			zr, err := gzip.NewReader(bytes.NewReader(blob))
			if err != nil {
				t.Fatal(err)
			}
			uncompressed, err := io.ReadAll(zr)
			if err != nil {
				t.Fatal(err)
			}
			if got := digest.FromBytes(uncompressed); got != config.RootFS.DiffIDs[i] {
				t.Errorf("layer %d: tar hashes to %s, diff_id says %s", i, got, config.RootFS.DiffIDs[i])
			}
			tr := tar.NewReader(bytes.NewReader(uncompressed))
			hdr, err := tr.Next()
			if err != nil {
				t.Fatal(err)
			}
			if hdr.Typeflag != tar.TypeReg || hdr.Size != spec.LayerSize {
				t.Errorf("layer %d: entry %q type %c size %d, want a regular file of %d bytes", i, hdr.Name, hdr.Typeflag, hdr.Size, spec.LayerSize)
			}
		}
		var manifest v1.Manifest
		if err := json.Unmarshal(img.manifest, &manifest); err != nil {
			t.Fatal(err)
		}
		if manifest.MediaType != MediaTypeDockerManifest || manifest.Config.MediaType != MediaTypeDockerConfig || manifest.Layers[0].MediaType != MediaTypeDockerLayer {
			t.Errorf("media types %s / %s / %s, want Docker schema2", manifest.MediaType, manifest.Config.MediaType, manifest.Layers[0].MediaType)
		}
	})

	t.Run("a malformed platform is refused", func(t *testing.T) {
		for _, platform := range []string{"linux", "linux//v7", "a/b/c/d"} {
			if _, err := buildImage(spec, platform, ociTypes); err == nil {
				t.Errorf("platform %q accepted", platform)
			}
		}
	})
}
