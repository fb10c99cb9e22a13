package tarball_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/testimage"
	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

// TestCompressedLayersAreToldByContentNotName covers the docker-save layers stored
// compressed: their media type comes from the magic bytes, their digest from a
// content-addressed name when there is one (so Root reads no layer data) and otherwise
// from hashing the layer once.
func TestCompressedLayersAreToldByContentNotName(t *testing.T) {
	t.Run("a gzip'd layer whose name is not a digest is hashed", func(t *testing.T) {
		f, _ := testimage.Build(testimage.Options{Layout: testimage.CraneTarball})
		renameLayers(t, f, func(i int, old string) string { return "layer" + itoa(i) + ".tar.gz" })
		f.WriteT(t)
		a := open(t, tarball.Location{Path: f.Path})
		checkImage(t, image(t, a, ""), f.Images[0], tarball.FormatDockerArchive)
	})
	t.Run("a gzip'd layer under a classic <id>/layer.tar name is hashed", func(t *testing.T) {
		f, _ := testimage.Build(testimage.Options{Layout: testimage.DockerSave})
		want := f.Images[0].Platforms[0]
		items, _ := f.ManifestJSON()
		for i, name := range items[0].Layers {
			f.Entry(name).Body = gzipped(t, want.Layers[i].Data)
		}
		f.WriteT(t)
		m := rootManifest(t, image(t, open(t, tarball.Location{Path: f.Path}), ""))
		for i, l := range m.Layers {
			body := f.Entry(items[0].Layers[i]).Body
			if l.MediaType != ocispec.MediaTypeImageLayerGzip || l.Digest != digest.FromBytes(body) {
				t.Errorf("layer %d is %s %s, want tar+gzip %s", i, l.MediaType, l.Digest, digest.FromBytes(body))
			}
		}
	})
	t.Run("a content-addressed name is trusted, not hashed", func(t *testing.T) {
		f, _ := testimage.Build(testimage.Options{Layout: testimage.CraneTarball})
		claimed := digest.FromString("not the layer's bytes")
		renameLayers(t, f, func(i int, old string) string {
			if i == 0 {
				return claimed.Encoded() + ".tar.gz"
			}
			return old
		})
		f.WriteT(t)
		m := rootManifest(t, image(t, open(t, tarball.Location{Path: f.Path}), ""))
		if m.Layers[0].Digest != claimed {
			t.Errorf("layer 0 is %s, want the digest its name claims, %s: the copy engine's hash check catches a lie", m.Layers[0].Digest, claimed)
		}
	})
	t.Run("a zstd layer gets the zstd media type", func(t *testing.T) {
		f, _ := testimage.Build(testimage.Options{Layout: testimage.CraneTarball, Layers: 1})
		items, _ := f.ManifestJSON()
		body := append([]byte{0x28, 0xb5, 0x2f, 0xfd}, bytes.Repeat([]byte("zstd frame"), 50)...)
		name := digest.FromBytes(body).Encoded() + ".tar.zst"
		f.Remove(items[0].Layers[0])
		f.Entries = append(f.Entries, testimage.Entry{Name: name, Body: body})
		items[0].Layers[0] = name
		if err := f.SetManifestJSON(items); err != nil {
			t.Fatal(err)
		}
		f.WriteT(t)
		img := image(t, open(t, tarball.Location{Path: f.Path}), "")
		m := rootManifest(t, img)
		if l := m.Layers[0]; l.MediaType != ocispec.MediaTypeImageLayerZstd || l.Digest != digest.FromBytes(body) || l.Size != int64(len(body)) {
			t.Errorf("layer is %s %s %d, want tar+zstd %s %d", l.MediaType, l.Digest, l.Size, digest.FromBytes(body), len(body))
		}
		checkBlob(t, img, m.Layers[0], body)
	})
}

func TestAnExtractedDockerSaveDirectoryIsRead(t *testing.T) {
	f, _ := testimage.Build(testimage.Options{Layout: testimage.SkopeoDockerArchive})
	dir := filepath.Join(t.TempDir(), "extracted")
	if err := testimage.WriteDir(dir, f.Entries); err != nil {
		t.Fatal(err)
	}
	a := open(t, tarball.Location{Path: dir})
	checkImage(t, image(t, a, ""), f.Images[0], tarball.FormatDockerArchive)
}

// TestBlobsAreReadConcurrently reads every blob of a multi-image archive from many
// goroutines at once, as parallel transfers do; run under -race it also checks that
// readers share no state.
func TestBlobsAreReadConcurrently(t *testing.T) {
	for _, layout := range []testimage.Layout{testimage.DockerSave, testimage.OCIArchive, testimage.OCIDirectory} {
		t.Run(layout.String(), func(t *testing.T) {
			f := testimage.WriteT(t, testimage.Options{Layout: layout, Images: 3, Layers: 3, LayerSize: 32 << 10})
			a := open(t, tarball.Location{Path: f.Path})
			var wg sync.WaitGroup
			for i, want := range f.Images {
				img := image(t, a, "@"+itoa(i))
				for _, l := range want.Platforms[0].Layers {
					for _, offset := range []int64{0, l.Size / 3} {
						wg.Go(func() {
							rc, err := img.OpenBlob(t.Context(), ocispec.Descriptor{Digest: l.Digest, Size: l.Size}, offset)
							if err != nil {
								t.Error(err)
								return
							}
							defer rc.Close()
							got, err := io.ReadAll(rc)
							if err != nil || !bytes.Equal(got, l.Data[offset:]) {
								t.Errorf("layer %s from %d: %d bytes, err %v", l.Digest, offset, len(got), err)
							}
						})
					}
				}
			}
			wg.Wait()
		})
	}
}

func TestACancelledContextStopsTheWork(t *testing.T) {
	t.Run("decompressing a gzip'd archive", func(t *testing.T) {
		tmp := t.TempDir()
		t.Setenv("TMPDIR", tmp)
		f := testimage.WriteT(t, testimage.Options{Layout: testimage.DockerSave, Gzip: true})
		ctx, cancel := cancelled(t)
		defer cancel()
		_, err := tarball.OpenContext(ctx, tarball.Location{Path: f.Path})
		if !errors.Is(err, ctxErr) {
			t.Fatalf("OpenContext with a cancelled context: %v", err)
		}
		if left, _ := filepath.Glob(filepath.Join(tmp, "imagesync-archive-*")); len(left) != 0 {
			t.Errorf("a cancelled Open left %v behind", left)
		}
	})
	t.Run("reading a blob", func(t *testing.T) {
		f := testimage.WriteT(t, testimage.Options{Layout: testimage.OCIArchive})
		img := image(t, open(t, tarball.Location{Path: f.Path}), "")
		layer := f.Images[0].Platforms[0].Layers[0]
		ctx, cancel := cancelled(t)
		defer cancel()
		if _, err := img.OpenBlob(ctx, ocispec.Descriptor{Digest: layer.Digest}, 0); !errors.Is(err, ctxErr) {
			t.Errorf("OpenBlob with a cancelled context: %v", err)
		}
	})
}

func TestClosedArchivesFailReads(t *testing.T) {
	f := testimage.WriteT(t, testimage.Options{Layout: testimage.CraneLegacy})
	a, err := tarball.Open(tarball.Location{Path: f.Path})
	if err != nil {
		t.Fatal(err)
	}
	img := image(t, a, "")
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("a second Close: %v", err)
	}
	if _, _, err := img.Root(t.Context()); err == nil {
		t.Error("Root after Close succeeded")
	}
	if _, err := os.Stat(f.Path); err != nil {
		t.Errorf("Close touched the archive itself: %v", err)
	}
}

func renameLayers(t *testing.T, f *testimage.Fixture, rename func(i int, old string) string) {
	t.Helper()
	items, err := f.ManifestJSON()
	if err != nil {
		t.Fatal(err)
	}
	for i, old := range items[0].Layers {
		e := f.Entry(old)
		e.Name = rename(i, old)
		items[0].Layers[i] = e.Name
	}
	if err := f.SetManifestJSON(items); err != nil {
		t.Fatal(err)
	}
}

func gzipped(t *testing.T, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

var ctxErr = context.Canceled

func cancelled(t *testing.T) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	return ctx, cancel
}
