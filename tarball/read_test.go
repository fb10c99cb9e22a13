package tarball_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/testimage"
	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

func TestReadsWhatEachToolWrites(t *testing.T) {
	for _, layout := range testimage.Layouts {
		for _, gz := range []bool{false, true} {
			if gz && layout == testimage.OCIDirectory {
				continue
			}
			name := layout.String()
			if gz {
				name += " gzip'd whole"
			}
			t.Run(name, func(t *testing.T) {
				f := testimage.WriteT(t, testimage.Options{Layout: layout, Seed: 1, Layers: 3, Gzip: gz})
				a := open(t, tarball.Location{Path: f.Path})
				wantFormat := tarball.FormatDockerArchive
				if layout.IsOCI() {
					wantFormat = tarball.FormatOCILayout
				}
				if a.Format() != wantFormat {
					t.Errorf("Format() = %v, want %v", a.Format(), wantFormat)
				}
				img := image(t, a, "")
				checkImage(t, img, f.Images[0], wantFormat)
			})
		}
	}
}

func TestDocker25ArchiveIsReadBothWays(t *testing.T) {
	f := testimage.WriteT(t, testimage.Options{Layout: testimage.Docker25, Seed: 2})
	t.Run("without a prefix manifest.json wins", func(t *testing.T) {
		a := open(t, tarball.Location{Path: f.Path})
		if a.Format() != tarball.FormatDockerArchive {
			t.Fatalf("Format() = %v, want docker-archive", a.Format())
		}
		checkImage(t, image(t, a, ""), f.Images[0], tarball.FormatDockerArchive)
	})
	t.Run("oci-archive: reads the OCI layout and keeps its manifest digest", func(t *testing.T) {
		loc := parse(t, "oci-archive:"+f.Path)
		a := open(t, loc)
		if a.Format() != tarball.FormatOCILayout {
			t.Fatalf("Format() = %v, want oci-layout", a.Format())
		}
		checkImage(t, image(t, a, ""), f.Images[0], tarball.FormatOCILayout)
	})
}

func TestMultiPlatformLayoutRootIsTheIndex(t *testing.T) {
	platforms := []string{"linux/amd64", "linux/arm64", "linux/arm/v7"}
	for _, layout := range []testimage.Layout{testimage.OCIArchive, testimage.OCIDirectory} {
		t.Run(layout.String(), func(t *testing.T) {
			f := testimage.WriteT(t, testimage.Options{Layout: layout, Seed: 3, Platforms: platforms})
			a := open(t, tarball.Location{Path: f.Path})
			checkImage(t, image(t, a, ""), f.Images[0], tarball.FormatOCILayout)
		})
	}
}

func TestPicksAnImageOfAMultiImageArchiveByName(t *testing.T) {
	names := [][]string{{"alpine:3.20", "alpine:latest"}, {"registry.example.com/team/app:1.0"}, {}}
	for _, layout := range testimage.Layouts {
		t.Run(layout.String(), func(t *testing.T) {
			f := testimage.WriteT(t, testimage.Options{Layout: layout, Seed: 4, Images: 3, Names: names})
			a := open(t, tarball.Location{Path: f.Path})
			byName := map[string]testimage.Image{}
			for _, img := range f.Images {
				for _, n := range img.Names {
					byName[n] = img
				}
			}
			for _, tc := range []struct{ ask, written string }{
				{"alpine:3.20", "alpine:3.20"},
				{"docker.io/library/alpine:3.20", "alpine:3.20"},
				{"alpine", "alpine:latest"},
				{"registry.example.com/team/app:1.0", "registry.example.com/team/app:1.0"},
			} {
				img := image(t, a, tc.ask)
				root := rootManifest(t, img)
				if want := byName[tc.written].ID(); root.Config.Digest != want {
					t.Errorf("Image(%q) has config %s, want %s (the image written as %s)", tc.ask, root.Config.Digest, want, tc.written)
				}
			}
			unnamed := f.Images[len(f.Images)-1]
			for i := range f.Images {
				if len(f.Images[i].Names) == 0 {
					unnamed = f.Images[i]
				}
			}
			idx := -1
			for i, img := range f.Images {
				if img.ID() == unnamed.ID() {
					idx = i
				}
			}
			img := image(t, a, "@"+itoa(idx))
			if got := rootManifest(t, img).Config.Digest; got != unnamed.ID() {
				t.Errorf("@%d has config %s, want the unnamed image %s", idx, got, unnamed.ID())
			}
		})
	}
}

func TestNamesListsEveryNameSorted(t *testing.T) {
	f := testimage.WriteT(t, testimage.Options{Layout: testimage.DockerSave, Images: 2, Names: [][]string{{"b:1", "a:1"}, {"c:2"}}})
	a := open(t, tarball.Location{Path: f.Path})
	got, want := a.Names(), []string{"a:1", "b:1", "c:2"}
	if !equalStrings(got, want) {
		t.Errorf("Names() = %v, want %v", got, want)
	}
	docker25 := testimage.WriteT(t, testimage.Options{Layout: testimage.Docker25, Names: [][]string{{"alpine:3.20"}}})
	a = open(t, parse(t, "oci-archive:"+docker25.Path))
	got, want = a.Names(), []string{"3.20", "docker.io/library/alpine:3.20"}
	if !equalStrings(got, want) {
		t.Errorf("Names() of a Docker 25 layout = %v, want both annotations %v", got, want)
	}
}

func TestALayoutDirectoryWithANameIsSplitOnDisk(t *testing.T) {
	f := testimage.WriteT(t, testimage.Options{Layout: testimage.OCIDirectory, Images: 2, Names: [][]string{{"app:1"}, {"app:2"}}})
	loc := parse(t, "oci-layout:"+f.Path+":app:2")
	if loc.Name != "" {
		t.Fatalf("ParseSource split %q syntactically; a directory's split is Open's", loc)
	}
	a := open(t, loc)
	if got := a.Location(); got.Path != f.Path || got.Name != "app:2" {
		t.Errorf("Location() = path %q name %q, want %q and app:2", got.Path, got.Name, f.Path)
	}
	img := image(t, a, "")
	if got := rootManifest(t, img).Config.Digest; got != f.Images[1].ID() {
		t.Errorf("image app:2 has config %s, want %s", got, f.Images[1].ID())
	}
	if img.String() != "oci-layout:"+f.Path+":app:2" {
		t.Errorf("String() = %q, want it as written", img.String())
	}
}

func TestSkopeoLegacySymlinksAreFollowed(t *testing.T) {
	f, err := testimage.Build(testimage.Options{Layout: testimage.SkopeoDockerArchive, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	items, err := f.ManifestJSON()
	if err != nil {
		t.Fatal(err)
	}
	// Point manifest.json at the <id>/layer.tar symlinks instead of the files they link
	// to, as docker load's legacy path reads them.
	var links []string
	for _, e := range f.Entries {
		if e.Link != "" {
			links = append(links, e.Name)
		}
	}
	if len(links) != len(items[0].Layers) {
		t.Fatalf("fixture has %d links for %d layers", len(links), len(items[0].Layers))
	}
	items[0].Layers = links
	if err := f.SetManifestJSON(items); err != nil {
		t.Fatal(err)
	}
	f.WriteT(t)
	a := open(t, tarball.Location{Path: f.Path})
	checkImage(t, image(t, a, ""), f.Images[0], tarball.FormatDockerArchive)
}

func TestHomeAndRelativePathsAreResolved(t *testing.T) {
	f := testimage.WriteT(t, testimage.Options{Layout: testimage.CraneTarball})
	dir := t.TempDir()
	t.Setenv("HOME", dir)
	if err := f.Write(dir + "/image.tar"); err != nil {
		t.Fatal(err)
	}
	a := open(t, parse(t, "~/image.tar"))
	checkImage(t, image(t, a, ""), f.Images[0], tarball.FormatDockerArchive)
	t.Chdir(dir)
	a = open(t, parse(t, "./image.tar"))
	checkImage(t, image(t, a, ""), f.Images[0], tarball.FormatDockerArchive)
}

func TestRootIsTheSameBytesEveryTime(t *testing.T) {
	f := testimage.WriteT(t, testimage.Options{Layout: testimage.CraneLegacy, Seed: 6})
	var first []byte
	for range 2 {
		a := open(t, tarball.Location{Path: f.Path})
		_, b, err := image(t, a, "").Root(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		if first != nil && !bytes.Equal(first, b) {
			t.Fatalf("two opens built different manifests:\n%s\n%s", first, b)
		}
		first = b
	}
}

// checkImage walks img as the copy engine will and compares everything with the fixture.
func checkImage(t *testing.T, img *tarball.Image, want testimage.Image, format tarball.Format) {
	t.Helper()
	ctx := t.Context()
	if img.Format() != format {
		t.Errorf("Format() = %v, want %v", img.Format(), format)
	}
	desc, b, err := img.Root(ctx)
	if err != nil {
		t.Fatalf("Root: %v", err)
	}
	if digest.FromBytes(b) != desc.Digest || int64(len(b)) != desc.Size {
		t.Fatalf("Root's descriptor %s (%d bytes) does not describe its bytes", desc.Digest, desc.Size)
	}
	if format == tarball.FormatOCILayout && (desc.Digest != want.Digest || desc.MediaType != want.MediaType) {
		t.Errorf("Root = %s %s, want the layout's %s %s", desc.MediaType, desc.Digest, want.MediaType, want.Digest)
	}
	if desc.MediaType == ocispec.MediaTypeImageIndex {
		var index ocispec.Index
		if err := json.Unmarshal(b, &index); err != nil {
			t.Fatal(err)
		}
		if len(index.Manifests) != len(want.Platforms) {
			t.Fatalf("index has %d children, want %d", len(index.Manifests), len(want.Platforms))
		}
		for i, child := range index.Manifests {
			if child.Digest != want.Platforms[i].Manifest {
				t.Errorf("child %d is %s, want %s", i, child.Digest, want.Platforms[i].Manifest)
			}
			mb, err := img.ReadManifest(ctx, child)
			if err != nil {
				t.Fatalf("ReadManifest(%s): %v", child.Digest, err)
			}
			checkManifest(t, img, mb, want.Platforms[i])
		}
		return
	}
	if format == tarball.FormatDockerArchive {
		if desc.MediaType != ocispec.MediaTypeImageManifest {
			t.Errorf("Root's media type is %s, want an OCI image manifest", desc.MediaType)
		}
		if again, err := img.ReadManifest(ctx, desc); err != nil || !bytes.Equal(again, b) {
			t.Errorf("ReadManifest(Root) = %v, want Root's bytes", err)
		}
	}
	if format == tarball.FormatOCILayout && want.Platforms[0].Manifest != desc.Digest {
		t.Errorf("Root is %s, want the manifest %s", desc.Digest, want.Platforms[0].Manifest)
	}
	checkManifest(t, img, b, want.Platforms[0])
}

func checkManifest(t *testing.T, img *tarball.Image, b []byte, want testimage.Platform) {
	t.Helper()
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	if m.SchemaVersion != 2 || m.MediaType != ocispec.MediaTypeImageManifest {
		t.Errorf("manifest is schemaVersion %d %s, want 2 and an OCI image manifest", m.SchemaVersion, m.MediaType)
	}
	if m.Config.Digest != want.ID || m.Config.MediaType != ocispec.MediaTypeImageConfig {
		t.Errorf("config is %s %s, want the image ID %s", m.Config.MediaType, m.Config.Digest, want.ID)
	}
	checkBlob(t, img, m.Config, want.Config)
	if len(m.Layers) != len(want.Layers) {
		t.Fatalf("manifest has %d layers, want %d", len(m.Layers), len(want.Layers))
	}
	for i, l := range m.Layers {
		w := want.Layers[i]
		if l.Digest != w.Digest || l.Size != w.Size || l.MediaType != w.MediaType {
			t.Errorf("layer %d = %s %s %d, want %s %s %d", i, l.MediaType, l.Digest, l.Size, w.MediaType, w.Digest, w.Size)
		}
		if !w.Compressed && l.Digest != want.DiffIDs[i] {
			t.Errorf("uncompressed layer %d has digest %s, want its diffID %s", i, l.Digest, want.DiffIDs[i])
		}
		checkBlob(t, img, l, w.Data)
	}
}

// checkBlob reads a blob whole and from its middle, and checks both against the bytes
// the fixture stored and the digest the manifest gives.
func checkBlob(t *testing.T, img *tarball.Image, desc ocispec.Descriptor, want []byte) {
	t.Helper()
	got := readBlob(t, img, desc, 0)
	if digest.FromBytes(got) != desc.Digest || !bytes.Equal(got, want) {
		t.Errorf("OpenBlob(%s) read %d bytes hashing to %s, want the %d stored bytes", desc.Digest, len(got), digest.FromBytes(got), len(want))
	}
	offset := desc.Size / 2
	if got := readBlob(t, img, desc, offset); !bytes.Equal(got, want[offset:]) {
		t.Errorf("OpenBlob(%s) from %d read %d bytes, want the last %d stored bytes", desc.Digest, offset, len(got), len(want)-int(offset))
	}
}

func readBlob(t *testing.T, img *tarball.Image, desc ocispec.Descriptor, offset int64) []byte {
	t.Helper()
	rc, err := img.OpenBlob(t.Context(), desc, offset)
	if err != nil {
		t.Fatalf("OpenBlob(%s, %d): %v", desc.Digest, offset, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		t.Fatalf("read blob %s from %d: %v", desc.Digest, offset, err)
	}
	return b
}

func rootManifest(t *testing.T, img *tarball.Image) ocispec.Manifest {
	t.Helper()
	_, b, err := img.Root(context.Background())
	if err != nil {
		t.Fatalf("Root of %s: %v", img, err)
	}
	var m ocispec.Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func open(t *testing.T, loc tarball.Location) *tarball.Archive {
	t.Helper()
	a, err := tarball.Open(loc)
	if err != nil {
		t.Fatalf("Open(%s): %v", loc, err)
	}
	t.Cleanup(func() {
		if err := a.Close(); err != nil {
			t.Errorf("Close(%s): %v", loc, err)
		}
	})
	return a
}

func image(t *testing.T, a *tarball.Archive, name string) *tarball.Image {
	t.Helper()
	img, err := a.Image(name)
	if err != nil {
		t.Fatalf("Image(%q): %v", name, err)
	}
	return img
}

func parse(t *testing.T, s string) tarball.Location {
	t.Helper()
	loc, ok, err := tarball.ParseSource(s)
	if err != nil || !ok {
		t.Fatalf("ParseSource(%q) = ok %v, err %v", s, ok, err)
	}
	return loc
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func itoa(i int) string { return string(rune('0' + i)) }
