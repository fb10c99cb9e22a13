package registryclient_test

import (
	"testing"

	"github.com/imagesync/terraform-provider-imagesync/internal/testimage"
	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
	"github.com/imagesync/terraform-provider-imagesync/registryclient"
	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

// goldenDockerSaveDigest is what pushing testimage's docker-save fixture of seed 1 gives,
// on any machine, in any run. If it changes, every user's plan shows a new digest for
// images pushed from unchanged files: change the compressor only on purpose, and say so
// in the changelog.
const goldenDockerSaveDigest = "sha256:c96fe3dc8aa7319466f9e8b28a6e8f16068532aa0e6dbf52570412a6974e0555"

// pushLocal pushes the only image of the archive at path into dst.
func pushLocal(t *testing.T, client *registryclient.Client, path, dst string, compress bool) registryclient.CopyResult {
	t.Helper()
	loc, ok, err := tarball.ParseSource(path)
	if err != nil || !ok {
		t.Fatalf("%s is not a local source: %v", path, err)
	}
	archive, err := tarball.Open(loc)
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()
	img, err := archive.Image("")
	if err != nil {
		t.Fatal(err)
	}
	root, err := registryclient.ReadRoot(t.Context(), img)
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.CopyFrom(t.Context(), img, root, parseRef(t, dst), registryclient.CopyOptions{Compress: compress})
	if err != nil {
		t.Fatalf("push %s to %s: %v", path, dst, err)
	}
	return res
}

func TestDockerSavePushHasAPinnedDigest(t *testing.T) {
	reg := testregistry.StartT(t, testregistry.Options{})
	f := testimage.WriteT(t, testimage.Options{Layout: testimage.DockerSave, Seed: 1, Layers: 3, LayerSize: 256 << 10})
	res := pushLocal(t, registryclient.New(), f.Path, reg.Host+"/golden/app:v1", true)
	if res.Digest.String() != goldenDockerSaveDigest {
		t.Errorf("pushing the seed-1 docker-save fixture gave %s, want the pinned %s: the compressed bytes changed", res.Digest, goldenDockerSaveDigest)
	}
	assertStored(t, reg, "golden/app", "v1", res.Digest.String())
}
