package tarball_test

import (
	"bytes"
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

// writeSignedLayout writes a layout holding one image ("app") and two referrers of it,
// recorded in the order given, and returns its path and checksum.
func writeSignedLayout(t *testing.T, dir string, image, sig, cosign ocispec.Descriptor, blobs map[digest.Digest][]byte, reversed bool) (string, digest.Digest) {
	t.Helper()
	path := filepath.Join(dir, "layout.tar")
	w, err := tarball.NewWriter(path, true)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range []ocispec.Descriptor{image, sig, cosign} {
		if err := w.WriteBlob(context.Background(), d, bytes.NewReader(blobs[d.Digest])); err != nil {
			t.Fatal(err)
		}
	}
	refs := []ocispec.Descriptor{sig, cosign}
	if reversed {
		slices.Reverse(refs)
	}
	for _, r := range refs {
		w.AddReferrer(image.Digest, r)
	}
	sum, err := w.Commit([]tarball.Named{{Name: "app", Descriptor: image}})
	if err != nil {
		t.Fatal(err)
	}
	return path, sum
}

func TestALayoutKeepsTheReferrersItWasWrittenWith(t *testing.T) {
	blobs := map[digest.Digest][]byte{}
	manifest := func(body string) ocispec.Descriptor {
		b := []byte(body)
		blobs[digest.FromBytes(b)] = b
		return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(b), Size: int64(len(b))}
	}
	image := manifest(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a","size":2},"layers":[]}`)
	sig := manifest(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","artifactType":"application/vnd.example.signature","subject":{"digest":"` + image.Digest.String() + `"}}`)
	sig.ArtifactType = "application/vnd.example.signature"
	cosign := manifest(`{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","layers":[]}`)
	cosign.Annotations = map[string]string{tarball.AnnotationReferrerTag: "sha256-" + image.Digest.Encoded() + ".sig"}

	path, sum := writeSignedLayout(t, t.TempDir(), image, sig, cosign, blobs, false)
	if _, again := writeSignedLayout(t, t.TempDir(), image, sig, cosign, blobs, true); again != sum {
		t.Errorf("the same referrers recorded in another order give %s, then %s", sum, again)
	}

	archive, err := tarball.Open(tarball.Location{Path: path})
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()
	if names := archive.Names(); !slices.Equal(names, []string{"app"}) {
		t.Errorf("Names() = %v: referrers are not images", names)
	}
	img, err := archive.Image("")
	if err != nil {
		t.Fatalf("the one image is not chosen by default among its referrers: %v", err)
	}
	got, err := img.Referrers(context.Background(), image.Digest)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("Referrers(%s) = %v, want the signature and the cosign one", image.Digest, got)
	}
	for _, d := range got {
		switch d.Digest {
		case sig.Digest:
			if d.ArtifactType != sig.ArtifactType || d.Annotations != nil {
				t.Errorf("the signature reads back as %+v, want its artifact type and no annotations", d)
			}
		case cosign.Digest:
			if d.Annotations[tarball.AnnotationReferrerTag] != cosign.Annotations[tarball.AnnotationReferrerTag] {
				t.Errorf("the cosign signature reads back as %+v, without its tag", d)
			}
		default:
			t.Errorf("unexpected referrer %+v", d)
		}
		if _, err := img.ReadManifest(context.Background(), d); err != nil {
			t.Errorf("referrer %s cannot be read: %v", d.Digest, err)
		}
	}
	if none, err := img.Referrers(context.Background(), sig.Digest); err != nil || len(none) != 0 {
		t.Errorf("Referrers of the signature = %v, %v; want none", none, err)
	}
}
