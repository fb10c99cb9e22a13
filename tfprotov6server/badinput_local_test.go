package tfprotov6server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/imagesync/terraform-provider-imagesync/internal/testimage"
)

// localRows are local images that cannot be pushed: missing, not an image, damaged, or
// without the image or platform asked for.
func localRows(t *testing.T, c *catalogue) []badInput {
	const (
		plan    = "PlanResourceChange"
		apply   = "ApplyResourceChange"
		pointAt = "Point source at a docker save archive"
		damaged = "is damaged or incomplete: write it again"
		corrupt = "is corrupt: a layer or config does not match the digest"
		choose  = "Choose one of the images listed"
	)
	push := func(source, platform string) step {
		return createImage(configured(source, c.mirror("local"), platform))
	}
	missing := filepath.Join(t.TempDir(), "nope.tar")
	notLayout := t.TempDir()
	writeFile(t, notLayout, "README", "not an image\n")
	notTar := writeTemp(t, "image.tar", "this is not a tar file, just text that ends here\n")

	whole, err := testimage.Build(testimage.Options{Layout: testimage.DockerSave, Seed: 910})
	if err != nil {
		t.Fatal(err)
	}
	b, err := whole.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	truncated := writeTemp(t, "truncated.tar", string(b[:len(b)*2/3]))

	dockerLayer := testimage.WriteT(t, testimage.Options{Layout: testimage.DockerSave, Seed: 911})
	flip(t, dockerLayer, func(name string) bool { return strings.HasSuffix(name, "/layer.tar") })
	dockerLayer.WriteT(t)

	ociLayer := testimage.WriteT(t, testimage.Options{Layout: testimage.OCIArchive, Seed: 912})
	layerBlob := "blobs/sha256/" + ociLayer.Images[0].Platforms[0].Layers[0].Digest.Encoded()
	flip(t, ociLayer, func(name string) bool { return name == layerBlob })
	ociLayer.WriteT(t)

	lostBlob := testimage.WriteT(t, testimage.Options{Layout: testimage.OCIDirectory, Seed: 913})
	if err := os.Remove(filepath.Join(lostBlob.Path, "blobs", "sha256", lostBlob.Images[0].Platforms[0].Layers[1].Digest.Encoded())); err != nil {
		t.Fatal(err)
	}

	named := testimage.WriteT(t, testimage.Options{Layout: testimage.DockerSave, Seed: 914, Images: 2, Names: [][]string{{"example/one:1.0"}, {"example/two:2.0"}}})
	multi := testimage.WriteT(t, testimage.Options{Layout: testimage.OCIArchive, Seed: 915, Platforms: []string{"linux/amd64", "linux/arm64/v8"}})

	return []badInput{
		{name: "an archive that does not exist is reported on source at apply, where it may have been written meanwhile",
			run: push(missing, ""), rpc: apply, attr: "source", names: missing, next: "Check the path"},
		{name: "a directory that is not an image layout is reported on source",
			run: push("oci-layout:"+notLayout, ""), rpc: plan, attr: "source", names: notLayout, next: pointAt},
		{name: "a file that is not a tar is reported on source",
			run: push(notTar, ""), rpc: plan, attr: "source", names: notTar, next: pointAt},
		{name: "a truncated archive is reported on source as damaged",
			run: push(truncated, ""), rpc: plan, attr: "source", names: truncated, next: damaged},
		{name: "a docker save archive with a corrupt layer pushes no manifest and says so",
			run: push(dockerLayer.Path, ""), rpc: apply, attr: "source", names: dockerLayer.Path, next: corrupt},
		{name: "an OCI archive with a corrupt layer pushes no manifest and says so",
			run: push("oci-archive:"+ociLayer.Path, ""), rpc: apply, attr: "source", names: ociLayer.Path, next: corrupt},
		{name: "an OCI layout missing a layer blob is reported as damaged",
			run: push("oci-layout:"+lostBlob.Path, ""), rpc: apply, attr: "source", names: lostBlob.Path, next: damaged},
		{name: "a name the multi-image archive does not hold is reported on source, listing the names it holds",
			run: push(named.Path+":example/three:3.0", ""), rpc: plan, attr: "source", names: "example/two:2.0", next: choose},
		{name: "a multi-image archive without a name is reported on source, listing the names",
			run: push(named.Path, ""), rpc: plan, attr: "source", names: "example/one:1.0", next: choose},
		{name: "a local image pushed to a registry that is down blames the registry, not the file",
			provider: noRetries(t), run: createImage(configured(named.Path+":example/one:1.0", c.down+"/mirror/local:v1", "")), rpc: apply, names: c.down, next: "can be reached from here"},
		{name: "a local image pushed to a registry whose credential helper is missing blames the credentials, not the file",
			provider: noRetries(t), env: func(t *testing.T) {
				dockerConfigDir(t, fmt.Sprintf(`{"credHelpers":{%q:"imagesync-absent"}}`, c.basic.Host))
			},
			run: createImage(configured(named.Path+":example/one:1.0", c.basic.Host+"/mirror/local:v1", "")), rpc: apply, names: "docker-credential-imagesync-absent", next: "registry_auth block"},
		{name: "a platform the local layout lacks is reported on platform, listing those it has",
			run: push("oci-archive:"+multi.Path, "linux/s390x"), rpc: plan, attr: "platform", names: "linux/arm64", next: "Choose one of the platforms the image offers"},
	}
}

// flip changes one byte in the middle of the first entry match accepts, keeping its size.
func flip(t *testing.T, f *testimage.Fixture, match func(name string) bool) {
	t.Helper()
	for i, e := range f.Entries {
		if match(e.Name) && len(e.Body) > 0 {
			body := append([]byte(nil), e.Body...)
			body[len(body)/2] ^= 0xff
			f.Entries[i].Body = body
			return
		}
	}
	t.Fatal("no entry to corrupt")
}
