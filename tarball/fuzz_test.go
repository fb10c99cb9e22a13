package tarball_test

import (
	"archive/tar"
	"context"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/testimage"
	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

// contentErrors are the sentinels a readable regular file can earn: every failure on
// one must wrap one of them, so the user learns what is wrong with the file (never
// ErrNotFound or ErrUnreadable, which would send them looking at the wrong thing).
var contentErrors = []error{
	tarball.ErrNotLayout, tarball.ErrNotTar, tarball.ErrTruncated, tarball.ErrUnsafeEntry,
	tarball.ErrMalformed, tarball.ErrImageNotFound, tarball.ErrAmbiguous, tarball.ErrMissingBlob,
}

// FuzzOpen feeds arbitrary files to Open and walks whatever opens as the copy engine
// would. It must never panic or hang, and every error must say what is wrong with the
// file's content. Run it with
//
//	go test -run '^$' -fuzz FuzzOpen -fuzztime 60s -fuzzminimizetime 1x ./tarball/
//
// Tar inputs are kilobytes, so the default minimisation of each new input (up to 60 s
// apiece) would take nearly all the time. Crashers land in testdata/fuzz/FuzzOpen.
func FuzzOpen(f *testing.F) {
	for _, layout := range testimage.Layouts {
		if layout == testimage.OCIDirectory {
			continue // files only: a directory's tar is OCIArchive's
		}
		for _, gz := range []bool{false, true} {
			fx, err := testimage.Build(testimage.Options{Layout: layout, Seed: 1, Layers: 1, LayerSize: 64, Gzip: gz, Images: 2,
				Names: [][]string{{"a:1"}, {}}})
			if err != nil {
				f.Fatal(err)
			}
			b, err := fx.Bytes()
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	multi, err := testimage.Build(testimage.Options{Layout: testimage.OCIArchive, Layers: 1, LayerSize: 64, Platforms: []string{"linux/amd64", "linux/arm64"}})
	if err != nil {
		f.Fatal(err)
	}
	b, err := multi.Bytes()
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	links, err := testimage.Build(testimage.Options{Layout: testimage.SkopeoDockerArchive, Layers: 1, LayerSize: 64})
	if err != nil {
		f.Fatal(err)
	}
	items, err := links.ManifestJSON()
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range links.Entries {
		if e.Type == tar.TypeSymlink {
			items[0].Layers = []string{e.Name}
		}
	}
	if err := links.SetManifestJSON(items); err != nil {
		f.Fatal(err)
	}
	if b, err = links.Bytes(); err != nil {
		f.Fatal(err)
	}
	f.Add(b)

	f.Fuzz(func(t *testing.T, data []byte) {
		// A hang is a failure too: panicking records the input as a crasher.
		watchdog := time.AfterFunc(10*time.Second, func() { panic("FuzzOpen: this input hangs Open or the walk") })
		defer watchdog.Stop()
		path := filepath.Join(t.TempDir(), "image.tar")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		a, err := tarball.Open(tarball.Location{Path: path})
		if err != nil {
			requireSentinel(t, "Open", err)
			return
		}
		defer a.Close()
		names := append([]string{"", "@0", "@1", "a:1", "docker.io/library/a:1"}, a.Names()...)
		for _, name := range names {
			img, err := a.Image(name)
			if err != nil {
				requireSentinel(t, "Image", err)
				continue
			}
			walk(t, img)
		}
	})
}

// walk reads an image the way the copy engine does, a bounded amount of each blob.
func walk(t *testing.T, img *tarball.Image) {
	ctx := context.Background()
	desc, b, err := img.Root(ctx)
	if err != nil {
		requireSentinel(t, "Root", err)
		return
	}
	manifests := [][]byte{b}
	if desc.MediaType == ocispec.MediaTypeImageIndex {
		var index ocispec.Index
		if json.Unmarshal(b, &index) == nil {
			for _, child := range index.Manifests {
				mb, err := img.ReadManifest(ctx, child)
				if err != nil {
					requireSentinel(t, "ReadManifest", err)
					continue
				}
				manifests = append(manifests, mb)
			}
		}
	}
	for _, mb := range manifests {
		var m ocispec.Manifest
		if json.Unmarshal(mb, &m) != nil {
			continue
		}
		for _, blob := range append([]ocispec.Descriptor{m.Config}, m.Layers...) {
			rc, err := img.OpenBlob(ctx, blob, 0)
			if err != nil {
				requireSentinel(t, "OpenBlob", err)
				continue
			}
			_, err = io.CopyN(io.Discard, rc, 1<<20)
			rc.Close()
			if err != nil && err != io.EOF {
				requireSentinel(t, "read blob", err)
			}
		}
	}
}

func requireSentinel(t *testing.T, op string, err error) {
	t.Helper()
	for _, s := range contentErrors {
		if errors.Is(err, s) {
			return
		}
	}
	t.Fatalf("%s: error wraps no sentinel about the file's content: %v", op, err)
}
