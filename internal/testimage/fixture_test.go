package testimage

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestSameSeedSameBytes(t *testing.T) {
	for _, layout := range Layouts {
		t.Run(layout.String(), func(t *testing.T) {
			o := Options{Layout: layout, Seed: 7, Images: 2}
			a, b, c := build(t, o), build(t, o), build(t, Options{Layout: layout, Seed: 8, Images: 2})
			if !bytes.Equal(tarBytes(t, a), tarBytes(t, b)) {
				t.Error("two builds from one seed differ")
			}
			if bytes.Equal(tarBytes(t, a), tarBytes(t, c)) {
				t.Error("builds from seeds 7 and 8 are the same")
			}
		})
	}
}

func TestLayersAreRealTarStreamsAndMatchTheirDigests(t *testing.T) {
	for _, layout := range Layouts {
		t.Run(layout.String(), func(t *testing.T) {
			f := build(t, Options{Layout: layout, Layers: 3, LayerSize: 64 << 10})
			p := f.Images[0].Platforms[0]
			if got := digest.FromBytes(p.Config); got != p.ID {
				t.Errorf("config hashes to %s, ID says %s", got, p.ID)
			}
			for i, l := range p.Layers {
				if got := digest.FromBytes(l.Data); got != l.Digest || int64(len(l.Data)) != l.Size {
					t.Errorf("layer %d: stored bytes are %s (%d bytes), fixture says %s (%d)", i, got, len(l.Data), l.Digest, l.Size)
				}
				raw := l.Data
				if l.Compressed {
					raw = gunzip(t, l.Data)
					if len(raw) < 2*len(l.Data) {
						t.Errorf("layer %d compresses only from %d to %d bytes; fixtures should compress like real files", i, len(raw), len(l.Data))
					}
				}
				if got := digest.FromBytes(raw); got != p.DiffIDs[i] || got != l.DiffID {
					t.Errorf("layer %d: uncompressed bytes are %s, diffID says %s", i, got, p.DiffIDs[i])
				}
				if files := tarFiles(t, raw); files < 4 {
					t.Errorf("layer %d holds %d files, want a real tree", i, files)
				}
			}
		})
	}
}

func TestImagesShareTheirBaseLayer(t *testing.T) {
	f := build(t, Options{Layout: DockerSave, Images: 2})
	a, b := f.Images[0].Platforms[0], f.Images[1].Platforms[0]
	if a.DiffIDs[0] != b.DiffIDs[0] || a.DiffIDs[1] == b.DiffIDs[1] || a.ID == b.ID {
		t.Errorf("want a shared base layer and distinct tops and configs: %v %v", a.DiffIDs, b.DiffIDs)
	}
}

func TestMultiPlatformIndexesHaveOneChildPerPlatform(t *testing.T) {
	f := build(t, Options{Layout: OCIArchive, Platforms: []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}})
	img := f.Images[0]
	if img.MediaType != "application/vnd.oci.image.index.v1+json" || len(img.Platforms) != 3 {
		t.Fatalf("got %s with %d platforms, want an index of 3", img.MediaType, len(img.Platforms))
	}
	if f.Entry(BlobName(img.Digest)) == nil {
		t.Errorf("the index %s is not in blobs/", img.Digest)
	}
	for _, p := range img.Platforms {
		if f.Entry(BlobName(p.Manifest)) == nil {
			t.Errorf("the %s manifest %s is not in blobs/", p.Platform, p.Manifest)
		}
	}
}

func TestOptionsThatCannotBeWrittenAreRefused(t *testing.T) {
	for name, o := range map[string]Options{
		"platforms in a docker-save archive": {Layout: DockerSave, Platforms: []string{"linux/arm64"}},
		"a gzip'd directory":                 {Layout: OCIDirectory, Gzip: true},
		"names for the wrong image count":    {Layout: OCIArchive, Images: 2, Names: [][]string{{"a"}}},
		"no layout":                          {},
	} {
		if _, err := Build(o); err == nil {
			t.Errorf("%s: Build succeeded", name)
		}
	}
}

func build(t *testing.T, o Options) *Fixture {
	t.Helper()
	f, err := Build(o)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func tarBytes(t *testing.T, f *Fixture) []byte {
	t.Helper()
	b, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func gunzip(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func tarFiles(t *testing.T, b []byte) int {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(b))
	n := 0
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatalf("layer is not a tar: %v", err)
		}
		if hdr.Typeflag == tar.TypeReg {
			n++
		}
	}
}
