package tarball_test

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/testimage"
	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

// openErr opens loc expecting an error that wraps want and mentions every one of says.
func openErr(t *testing.T, loc tarball.Location, want error, says ...string) {
	t.Helper()
	a, err := tarball.Open(loc)
	if err == nil {
		a.Close()
		t.Fatalf("Open(%s) succeeded, want %v", loc, want)
	}
	checkErr(t, err, want, says...)
}

func checkErr(t *testing.T, err, want error, says ...string) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("error %q does not wrap %q", err, want)
	}
	for _, s := range says {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func writeFile(t *testing.T, name string, b []byte) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestAMissingPathIsNotFound(t *testing.T) {
	path := filepath.Join(t.TempDir(), "nope.tar")
	openErr(t, tarball.Location{Path: path}, tarball.ErrNotFound, path, "check the path")
	t.Chdir(t.TempDir())
	wd, _ := os.Getwd()
	openErr(t, parse(t, "./images/app.tar"), tarball.ErrNotFound, "./images/app.tar", wd)
}

func TestADirectoryThatIsNotALayout(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "README"), []byte("hello"), 0o644); err != nil {
		t.Fatal(err)
	}
	openErr(t, tarball.Location{Path: dir}, tarball.ErrNotLayout, dir, "manifest.json", "index.json")
}

func TestAPrefixThatDoesNotMatchTheContent(t *testing.T) {
	oci := testimage.WriteT(t, testimage.Options{Layout: testimage.OCIArchive})
	openErr(t, parse(t, "docker-archive:"+oci.Path), tarball.ErrNotLayout, oci.Path, "no manifest.json")
	docker := testimage.WriteT(t, testimage.Options{Layout: testimage.DockerSave})
	openErr(t, parse(t, "oci-archive:"+docker.Path), tarball.ErrNotLayout, docker.Path, "no index.json")
}

func TestAnUnreadableFile(t *testing.T) {
	t.Run("without permission", func(t *testing.T) {
		if os.Geteuid() == 0 {
			t.Skip("root reads files whatever their permissions")
		}
		f := testimage.WriteT(t, testimage.Options{Layout: testimage.DockerSave})
		if err := os.Chmod(f.Path, 0); err != nil {
			t.Fatal(err)
		}
		openErr(t, tarball.Location{Path: f.Path}, tarball.ErrUnreadable, f.Path, "permissions")
	})
	t.Run("an I/O error", func(t *testing.T) {
		if runtime.GOOS != "linux" {
			t.Skip("/proc/self/mem is Linux's")
		}
		// Reading /proc/self/mem at offset 0 fails with EIO: unmapped memory.
		openErr(t, tarball.Location{Path: "/proc/self/mem"}, tarball.ErrUnreadable, "/proc/self/mem")
	})
}

func TestAFileThatIsNotATar(t *testing.T) {
	for name, body := range map[string][]byte{
		"an empty file":                          {},
		"a text file":                            []byte("this is not an image\n"),
		"a large text file":                      bytes.Repeat([]byte("not a tar header, not at all\n"), 100),
		"gzip'd text":                            gzipped(t, bytes.Repeat([]byte("plain text "), 200)),
		"a zstd-compressed archive":              append([]byte{0x28, 0xb5, 0x2f, 0xfd}, make([]byte, 600)...),
		"gzip magic and then no gzip":            append([]byte{0x1f, 0x8b}, bytes.Repeat([]byte{'x'}, 600)...),
		"a gzip'd archive damaged in the middle": damaged(gzipped(t, bytes.Repeat([]byte("a tar of text "), 5000))),
	} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, "image.tar", body)
			openErr(t, tarball.Location{Path: path}, tarball.ErrNotTar, path)
		})
	}
}

func TestATruncatedArchive(t *testing.T) {
	// crane writes manifest.json last; it is one header and one data block here.
	f, err := testimage.Build(testimage.Options{Layout: testimage.CraneTarball, LayerSize: 64 << 10})
	if err != nil {
		t.Fatal(err)
	}
	b, err := f.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(f.Entry("manifest.json").Body); n > 512 {
		t.Fatalf("manifest.json is %d bytes; the cuts below assume one block", n)
	}
	for name, cut := range map[string]int{
		"in the middle of a layer":            len(b) / 2,
		"in the middle of the last entry":     len(b) - 1024 - 300,
		"in the end-of-archive blocks":        len(b) - 700,
		"just before the end-of-archive":      len(b) - 1024,
		"just before the last entry's header": len(b) - 2048,
	} {
		t.Run(name, func(t *testing.T) {
			path := writeFile(t, "image.tar", b[:cut])
			openErr(t, tarball.Location{Path: path}, tarball.ErrTruncated, path, "again")
		})
	}
	t.Run("a gzip'd archive cut short", func(t *testing.T) {
		f.Gzip = true
		gz, err := f.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		path := writeFile(t, "image.tar.gz", gz[:len(gz)*2/3])
		openErr(t, tarball.Location{Path: path}, tarball.ErrTruncated, path, "again")
	})
}

func TestAnArchiveCutAfterOpenFailsTheRead(t *testing.T) {
	f := testimage.WriteT(t, testimage.Options{Layout: testimage.CraneLegacy, LayerSize: 64 << 10})
	a := open(t, tarball.Location{Path: f.Path})
	img := image(t, a, "")
	m := rootManifest(t, img)
	last := m.Layers[len(m.Layers)-1]
	rc, err := img.OpenBlob(t.Context(), last, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	info, _ := os.Stat(f.Path)
	if err := os.Truncate(f.Path, info.Size()/2); err != nil {
		t.Fatal(err)
	}
	n, err := io.Copy(io.Discard, rc)
	checkErr(t, err, tarball.ErrTruncated, f.Path)
	if n >= last.Size {
		t.Errorf("read %d bytes of a %d-byte layer before the error", n, last.Size)
	}
}

func TestABlobShorterThanItsDescriptorInALayoutDirectory(t *testing.T) {
	f := testimage.WriteT(t, testimage.Options{Layout: testimage.OCIDirectory})
	layer := f.Images[0].Platforms[0].Layers[0]
	blob := filepath.Join(f.Path, testimage.BlobName(layer.Digest))
	if err := os.Truncate(blob, layer.Size-10); err != nil {
		t.Fatal(err)
	}
	a := open(t, tarball.Location{Path: f.Path})
	_, err := image(t, a, "").OpenBlob(t.Context(), ocispec.Descriptor{Digest: layer.Digest, Size: layer.Size}, 0)
	checkErr(t, err, tarball.ErrTruncated, f.Path, layer.Digest.String())
}

func TestANameNotInTheArchiveListsTheNames(t *testing.T) {
	for _, layout := range []testimage.Layout{testimage.DockerSave, testimage.OCIArchive} {
		f := testimage.WriteT(t, testimage.Options{Layout: layout, Images: 2, Names: [][]string{{"app:1"}, {}}})
		a := open(t, tarball.Location{Path: f.Path})
		for _, name := range []string{"app:2", "@2", "@x"} {
			_, err := a.Image(name)
			checkErr(t, err, tarball.ErrImageNotFound, f.Path, name, "app:1", "@1 (unnamed)")
		}
	}
}

func TestAnAmbiguousChoiceListsTheNames(t *testing.T) {
	f := testimage.WriteT(t, testimage.Options{Layout: testimage.CraneTarball, Images: 2, Names: [][]string{{"app:1"}, {"app:2", "app:latest"}}})
	a := open(t, tarball.Location{Path: f.Path})
	_, err := a.Image("")
	checkErr(t, err, tarball.ErrAmbiguous, f.Path, "2 images", "app:1", "app:2, app:latest")

	same := testimage.WriteT(t, testimage.Options{Layout: testimage.OCIArchive, Images: 2, Names: [][]string{{"app"}, {"docker.io/library/app:latest"}}})
	a = open(t, tarball.Location{Path: same.Path})
	if _, err := a.Image("app"); err != nil {
		t.Errorf("an exact name should win over a normalised one: %v", err)
	}
	_, err = a.Image("docker.io/library/app")
	checkErr(t, err, tarball.ErrAmbiguous, "@0 (app)", "@1 (docker.io/library/app:latest)")
}

func TestUnsafeEntriesAreRefused(t *testing.T) {
	docker := func(t *testing.T) *testimage.Fixture {
		f, err := testimage.Build(testimage.Options{Layout: testimage.DockerSave})
		if err != nil {
			t.Fatal(err)
		}
		return f
	}
	pointFirstLayerAt := func(t *testing.T, f *testimage.Fixture, name string) {
		items, err := f.ManifestJSON()
		if err != nil {
			t.Fatal(err)
		}
		items[0].Layers[0] = name
		if err := f.SetManifestJSON(items); err != nil {
			t.Fatal(err)
		}
	}
	tests := map[string]struct {
		edit   func(t *testing.T, f *testimage.Fixture)
		atRoot bool // refused when the entry is used, not at Open
		says   string
	}{
		"an absolute entry name": {edit: func(t *testing.T, f *testimage.Fixture) {
			f.Entries = append(f.Entries, testimage.Entry{Name: "/etc/cron.d/evil", Body: []byte("x")})
		}, says: "/etc/cron.d/evil"},
		"an entry climbing out with ..": {edit: func(t *testing.T, f *testimage.Fixture) {
			f.Entries = append(f.Entries, testimage.Entry{Name: "blobs/../../evil", Body: []byte("x")})
		}, says: "blobs/../../evil"},
		"a symlink leaving the archive": {edit: func(t *testing.T, f *testimage.Fixture) {
			f.Entries = append(f.Entries, testimage.Entry{Name: "evil/layer.tar", Type: tar.TypeSymlink, Link: "../../../etc/passwd"})
			pointFirstLayerAt(t, f, "evil/layer.tar")
		}, atRoot: true, says: "evil/layer.tar"},
		"an absolute symlink": {edit: func(t *testing.T, f *testimage.Fixture) {
			f.Entries = append(f.Entries, testimage.Entry{Name: "evil/layer.tar", Type: tar.TypeSymlink, Link: "/etc/passwd"})
			pointFirstLayerAt(t, f, "evil/layer.tar")
		}, atRoot: true, says: "/etc/passwd"},
		"a hard link leaving the archive": {edit: func(t *testing.T, f *testimage.Fixture) {
			f.Entries = append(f.Entries, testimage.Entry{Name: "evil/layer.tar", Type: tar.TypeLink, Link: "../outside"})
			pointFirstLayerAt(t, f, "evil/layer.tar")
		}, atRoot: true, says: "../outside"},
		"a symlink loop": {edit: func(t *testing.T, f *testimage.Fixture) {
			f.Entries = append(f.Entries,
				testimage.Entry{Name: "a/layer.tar", Type: tar.TypeSymlink, Link: "../b/layer.tar"},
				testimage.Entry{Name: "b/layer.tar", Type: tar.TypeSymlink, Link: "../a/layer.tar"})
			pointFirstLayerAt(t, f, "a/layer.tar")
		}, atRoot: true, says: "links"},
		"manifest.json naming a path outside": {edit: func(t *testing.T, f *testimage.Fixture) {
			pointFirstLayerAt(t, f, "../../etc/passwd")
		}, atRoot: true, says: "../../etc/passwd"},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			f := docker(t)
			tt.edit(t, f)
			f.WriteT(t)
			if !tt.atRoot {
				openErr(t, tarball.Location{Path: f.Path}, tarball.ErrUnsafeEntry, f.Path, tt.says)
				return
			}
			a := open(t, tarball.Location{Path: f.Path})
			_, _, err := image(t, a, "").Root(t.Context())
			checkErr(t, err, tarball.ErrUnsafeEntry, f.Path, tt.says)
		})
	}
}

func TestASymlinkLeavingALayoutDirectoryIsRefused(t *testing.T) {
	f := testimage.WriteT(t, testimage.Options{Layout: testimage.OCIDirectory})
	outside := writeFile(t, "secret", []byte("secret"))
	layer := f.Images[0].Platforms[0].Layers[0]
	blob := filepath.Join(f.Path, testimage.BlobName(layer.Digest))
	if err := os.Remove(blob); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, blob); err != nil {
		t.Fatal(err)
	}
	a := open(t, tarball.Location{Path: f.Path})
	_, err := image(t, a, "").OpenBlob(t.Context(), ocispec.Descriptor{Digest: layer.Digest, Size: layer.Size}, 0)
	checkErr(t, err, tarball.ErrUnsafeEntry, f.Path)
}

func TestOversizedMetadataIsRefused(t *testing.T) {
	big := bytes.Repeat([]byte(" "), 4<<20+1)
	t.Run("manifest.json", func(t *testing.T) {
		f, _ := testimage.Build(testimage.Options{Layout: testimage.DockerSave})
		e := f.Entry("manifest.json")
		e.Body = append(e.Body, big...)
		f.WriteT(t)
		openErr(t, tarball.Location{Path: f.Path}, tarball.ErrMalformed, f.Path, "manifest.json", "4194304")
	})
	t.Run("index.json", func(t *testing.T) {
		f, _ := testimage.Build(testimage.Options{Layout: testimage.OCIArchive})
		e := f.Entry("index.json")
		e.Body = append(e.Body, big...)
		f.WriteT(t)
		openErr(t, tarball.Location{Path: f.Path}, tarball.ErrMalformed, f.Path, "index.json")
	})
	t.Run("a config", func(t *testing.T) {
		f, _ := testimage.Build(testimage.Options{Layout: testimage.CraneLegacy})
		items, _ := f.ManifestJSON()
		e := f.Entry(items[0].Config)
		e.Body = append(e.Body, big...)
		f.WriteT(t)
		a := open(t, tarball.Location{Path: f.Path})
		_, _, err := image(t, a, "").Root(t.Context())
		checkErr(t, err, tarball.ErrMalformed, f.Path, items[0].Config)
	})
}

func TestMalformedMetadata(t *testing.T) {
	t.Run("manifest.json that is not JSON", func(t *testing.T) {
		f, _ := testimage.Build(testimage.Options{Layout: testimage.SkopeoDockerArchive})
		f.Entry("manifest.json").Body = []byte("{not json")
		f.WriteT(t)
		openErr(t, tarball.Location{Path: f.Path}, tarball.ErrMalformed, f.Path, "manifest.json")
	})
	t.Run("a config with fewer diff_ids than layers", func(t *testing.T) {
		f, _ := testimage.Build(testimage.Options{Layout: testimage.DockerSave, Layers: 3})
		items, _ := f.ManifestJSON()
		items[0].Layers = append(items[0].Layers, items[0].Layers[0])
		f.SetManifestJSON(items)
		f.WriteT(t)
		a := open(t, tarball.Location{Path: f.Path})
		_, _, err := image(t, a, "").Root(t.Context())
		checkErr(t, err, tarball.ErrMalformed, "3 layer diff_ids", "4 layers")
	})
	t.Run("a manifest whose bytes do not match its digest", func(t *testing.T) {
		f, _ := testimage.Build(testimage.Options{Layout: testimage.OCIArchive})
		e := f.Entry(testimage.BlobName(f.Images[0].Digest))
		e.Body = bytes.Replace(e.Body, []byte("schemaVersion"), []byte("schemaVersioN"), 1)
		f.WriteT(t)
		a := open(t, tarball.Location{Path: f.Path})
		_, _, err := image(t, a, "").Root(t.Context())
		checkErr(t, err, tarball.ErrMalformed, f.Path, f.Images[0].Digest.Encoded())
	})
	t.Run("an oci-layout of another version", func(t *testing.T) {
		f, _ := testimage.Build(testimage.Options{Layout: testimage.OCIArchive})
		f.Entry("oci-layout").Body = []byte(`{"imageLayoutVersion":"2.0.0"}`)
		f.WriteT(t)
		openErr(t, tarball.Location{Path: f.Path}, tarball.ErrMalformed, "oci-layout")
	})
}

func TestAMissingBlobIsNamed(t *testing.T) {
	t.Run("a layer manifest.json names", func(t *testing.T) {
		f, _ := testimage.Build(testimage.Options{Layout: testimage.CraneTarball})
		items, _ := f.ManifestJSON()
		f.Remove(items[0].Layers[1])
		f.WriteT(t)
		a := open(t, tarball.Location{Path: f.Path})
		_, _, err := image(t, a, "").Root(t.Context())
		checkErr(t, err, tarball.ErrMissingBlob, f.Path, items[0].Layers[1])
	})
	t.Run("the config manifest.json names", func(t *testing.T) {
		f, _ := testimage.Build(testimage.Options{Layout: testimage.DockerSave})
		items, _ := f.ManifestJSON()
		f.Remove(items[0].Config)
		f.WriteT(t)
		a := open(t, tarball.Location{Path: f.Path})
		_, _, err := image(t, a, "").Root(t.Context())
		checkErr(t, err, tarball.ErrMissingBlob, f.Path, items[0].Config)
	})
	t.Run("the manifest index.json points to", func(t *testing.T) {
		f, _ := testimage.Build(testimage.Options{Layout: testimage.OCIArchive})
		f.Remove(testimage.BlobName(f.Images[0].Digest))
		f.WriteT(t)
		a := open(t, tarball.Location{Path: f.Path})
		_, _, err := image(t, a, "").Root(t.Context())
		checkErr(t, err, tarball.ErrMissingBlob, f.Path, f.Images[0].Digest.String())
	})
	t.Run("a layer an OCI manifest references", func(t *testing.T) {
		f, _ := testimage.Build(testimage.Options{Layout: testimage.OCIArchive})
		layer := f.Images[0].Platforms[0].Layers[0]
		f.Remove(testimage.BlobName(layer.Digest))
		f.WriteT(t)
		a := open(t, tarball.Location{Path: f.Path})
		_, err := image(t, a, "").OpenBlob(t.Context(), ocispec.Descriptor{Digest: layer.Digest, Size: layer.Size}, 0)
		checkErr(t, err, tarball.ErrMissingBlob, f.Path, layer.Digest.String())
	})
	t.Run("a blob a docker-save image does not reference", func(t *testing.T) {
		f := testimage.WriteT(t, testimage.Options{Layout: testimage.DockerSave})
		a := open(t, tarball.Location{Path: f.Path})
		other := digest.FromString("another blob")
		_, err := image(t, a, "").OpenBlob(t.Context(), ocispec.Descriptor{Digest: other}, 0)
		checkErr(t, err, tarball.ErrMissingBlob, other.String())
	})
}

func TestDuplicateEntriesLastOneWins(t *testing.T) {
	f, _ := testimage.Build(testimage.Options{Layout: testimage.DockerSave, Names: [][]string{{"first:1"}}})
	items, _ := f.ManifestJSON()
	items[0].RepoTags = []string{"second:1"}
	b, _ := json.Marshal(items)
	f.Entries = append(f.Entries, testimage.Entry{Name: "manifest.json", Body: b})
	f.WriteT(t)
	a := open(t, tarball.Location{Path: f.Path})
	if got := a.Names(); !equalStrings(got, []string{"second:1"}) {
		t.Errorf("Names() = %v, want the later manifest.json's [second:1]", got)
	}
}

func TestCloseRemovesTheDecompressedCopy(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	f := testimage.WriteT(t, testimage.Options{Layout: testimage.OCIArchive, Gzip: true})
	a, err := tarball.Open(tarball.Location{Path: f.Path})
	if err != nil {
		t.Fatal(err)
	}
	copies, _ := filepath.Glob(filepath.Join(tmp, "imagesync-archive-*"))
	if len(copies) != 1 {
		t.Fatalf("found %v in TMPDIR while open, want one decompressed copy", copies)
	}
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(copies[0]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is still there after Close: %v", copies[0], err)
	}
}

func TestAnArchiveWithTooManyEntriesIsRefused(t *testing.T) {
	defer tarball.SetMaxEntries(10)()
	f := testimage.WriteT(t, testimage.Options{Layout: testimage.DockerSave, Layers: 3})
	if len(f.Entries) <= 10 {
		t.Fatalf("fixture has only %d entries", len(f.Entries))
	}
	openErr(t, tarball.Location{Path: f.Path}, tarball.ErrMalformed, f.Path, "more than 10 entries")
}

// damaged flips bytes in the middle of b, as a bad disk or a broken download would.
func damaged(b []byte) []byte {
	out := bytes.Clone(b)
	for i := len(out) / 2; i < len(out)/2+16; i++ {
		out[i] ^= 0x5a
	}
	return out
}
