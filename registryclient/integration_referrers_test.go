package registryclient_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
	"github.com/imagesync/terraform-provider-imagesync/registryclient"
	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

// Artifact types the tests sign and describe images with.
const (
	signatureType = "application/vnd.example.signature.v1+json"
	sbomType      = "application/spdx+json"
	cosignPayload = "application/vnd.dev.cosign.simplesigning.v1+json"
)

// signed is an image with every kind of referrer hanging off it, built by the test.
type signed struct {
	image testregistry.Pushed
	// bySubject are the OCI 1.1 referrers, each by the subject it names.
	bySubject map[string][]v1.Descriptor
	// cosign maps cosign's tags to the manifests under them.
	cosign map[string]string
	all    []string // every referrer digest, sorted
}

// seedSigned pushes a two-platform index to repo:tag on reg, then, as signing tools do:
// a signature and an SBOM of the index, a signature of the SBOM, a signature of one
// child (subject-based, listed in the fallback tag since distribution has no referrers
// API), and cosign's .sig and .att tags for the index.
func seedSigned(t *testing.T, reg *testregistry.Registry, repo, tag string, seed int64) signed {
	t.Helper()
	s := signed{
		image:     pushImage(t, reg, repo, tag, testregistry.ImageSpec{OCI: true, Platforms: []string{"linux/amd64", "linux/arm64"}, Seed: seed}),
		bySubject: map[string][]v1.Descriptor{},
		cosign:    map[string]string{},
	}
	index := v1.Descriptor{MediaType: s.image.MediaType, Digest: digest.Digest(s.image.Digest)}
	body, _, err := reg.Manifest(t.Context(), repo, s.image.Digest)
	if err != nil {
		t.Fatal(err)
	}
	index.Size = int64(len(body))
	child := v1.Descriptor{MediaType: v1.MediaTypeImageManifest, Digest: digest.Digest(s.image.Children["linux/arm64"])}
	if body, _, err = reg.Manifest(t.Context(), repo, child.Digest.String()); err != nil {
		t.Fatal(err)
	}
	child.Size = int64(len(body))

	refer := func(subject v1.Descriptor, a testregistry.Artifact) v1.Descriptor {
		t.Helper()
		a.Subject = &subject
		d, err := reg.PushArtifact(t.Context(), repo, "", a)
		if err != nil {
			t.Fatal(err)
		}
		s.bySubject[subject.Digest.String()] = append(s.bySubject[subject.Digest.String()], d)
		s.all = append(s.all, d.Digest.String())
		return d
	}
	refer(index, testregistry.Artifact{ArtifactType: signatureType, PayloadMediaType: signatureType, Payload: fmt.Appendf(nil, "signature of %s", index.Digest)})
	sbom := refer(index, testregistry.Artifact{ArtifactType: sbomType, PayloadMediaType: sbomType, Payload: fmt.Appendf(nil, `{"spdxVersion":"SPDX-2.3","seed":%d}`, seed),
		Annotations: map[string]string{"org.opencontainers.image.created": "2026-01-01T00:00:00Z"}})
	refer(sbom, testregistry.Artifact{ArtifactType: signatureType, PayloadMediaType: signatureType, Payload: fmt.Appendf(nil, "signature of %s", sbom.Digest)})
	refer(child, testregistry.Artifact{ArtifactType: signatureType, PayloadMediaType: signatureType, Payload: fmt.Appendf(nil, "signature of %s", child.Digest)})

	for _, suffix := range []string{".sig", ".att"} {
		cosignTag := testregistry.FallbackTag(s.image.Digest) + suffix
		d, err := reg.PushArtifact(t.Context(), repo, cosignTag, testregistry.Artifact{
			ConfigMediaType: v1.MediaTypeImageConfig, Config: []byte(`{"architecture":"","os":"","rootfs":{"type":"layers","diff_ids":[]}}`),
			PayloadMediaType: cosignPayload,
			Payload:          fmt.Appendf(nil, `{"critical":{"image":{"docker-manifest-digest":%q},"type":"cosign container image signature%s"}}`, s.image.Digest, suffix),
		})
		if err != nil {
			t.Fatal(err)
		}
		s.cosign[cosignTag] = d.Digest.String()
		s.all = append(s.all, d.Digest.String())
	}
	slices.Sort(s.all)
	return s
}

// assertSameReferrers checks, with the registries' own clients, that dst/dstRepo lists
// for every subject the referrers src/srcRepo lists, with the same digests, media and
// artifact types, and holds cosign's tags on the same manifests.
func assertSameReferrers(t *testing.T, src *testregistry.Registry, srcRepo string, dst *testregistry.Registry, dstRepo string, s signed) {
	t.Helper()
	for subject, want := range s.bySubject {
		have, err := src.Referrers(t.Context(), srcRepo, subject)
		if err != nil {
			t.Fatal(err)
		}
		if len(have) != len(want) {
			t.Fatalf("the source lists %d referrers of %s, the test pushed %d", len(have), subject, len(want))
		}
		got, err := dst.Referrers(t.Context(), dstRepo, subject)
		if err != nil {
			t.Fatal(err)
		}
		if describeDescriptors(got) != describeDescriptors(have) {
			t.Errorf("referrers of %s at the destination:\n%s\nat the source:\n%s", subject, describeDescriptors(got), describeDescriptors(have))
		}
		for _, d := range got {
			if stored, err := dst.ManifestDigest(t.Context(), dstRepo, d.Digest.String()); err != nil || stored != d.Digest.String() {
				t.Errorf("the destination lists %s but does not serve it: %v", d.Digest, err)
			}
		}
	}
	for tag, want := range s.cosign {
		assertStored(t, dst, dstRepo, tag, want)
	}
}

func describeDescriptors(ds []v1.Descriptor) string {
	var lines []string
	for _, d := range ds {
		lines = append(lines, fmt.Sprintf("  %s %s %d %s", d.Digest, d.MediaType, d.Size, d.ArtifactType))
	}
	return strings.Join(lines, "\n")
}

func digestStrings(ds []digest.Digest) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.String()
	}
	return out
}

func TestCopyReferrers(t *testing.T) {
	isolateDockerConfig(t)
	src := testregistry.StartT(t, testregistry.Options{})
	dst := testregistry.StartT(t, testregistry.Options{})
	s := seedSigned(t, src, "app", "v1", 1)
	proxy := startRecordingProxy(t, dst.Host)
	client := registryclient.New()

	t.Run("signatures, SBOMs and cosign tags follow the image, recursively and for every child", func(t *testing.T) {
		res, err := client.Copy(t.Context(), parseRef(t, src.Host+"/app:v1"), parseRef(t, proxy.Host+"/mirror/app"), registryclient.CopyOptions{Referrers: true})
		if err != nil {
			t.Fatal(err)
		}
		if got := digestStrings(res.Referrers); !slices.Equal(got, s.all) {
			t.Errorf("CopyResult.Referrers = %v, want %v", got, s.all)
		}
		assertStored(t, dst, "mirror/app", "v1", s.image.Digest)
		assertSameReferrers(t, src, "app", dst, "mirror/app", s)
		proxy.take()
	})

	t.Run("copying again writes nothing", func(t *testing.T) {
		res, err := client.Copy(t.Context(), parseRef(t, src.Host+"/app:v1"), parseRef(t, proxy.Host+"/mirror/app"), registryclient.CopyOptions{Referrers: true})
		if err != nil {
			t.Fatal(err)
		}
		if !res.Unchanged || len(res.Referrers) != len(s.all) {
			t.Errorf("second copy: Unchanged = %v, %d referrers; want true, %d", res.Unchanged, len(res.Referrers), len(s.all))
		}
		var writes []recordedRequest
		for _, r := range proxy.take() {
			if r.isWrite() {
				writes = append(writes, r)
			}
		}
		if len(writes) > 0 {
			t.Errorf("a copy of what the destination holds wrote:\n%s", describe(writes))
		}
	})

	t.Run("a referrer added at the source is added to the destination's list", func(t *testing.T) {
		body, _, err := src.Manifest(t.Context(), "app", s.image.Digest)
		if err != nil {
			t.Fatal(err)
		}
		subject := v1.Descriptor{MediaType: s.image.MediaType, Digest: digest.Digest(s.image.Digest), Size: int64(len(body))}
		late, err := src.PushArtifact(t.Context(), "app", "", testregistry.Artifact{ArtifactType: signatureType, PayloadMediaType: signatureType, Payload: []byte("a later signature"), Subject: &subject})
		if err != nil {
			t.Fatal(err)
		}
		s.bySubject[s.image.Digest] = append(s.bySubject[s.image.Digest], late)
		res, err := client.Copy(t.Context(), parseRef(t, src.Host+"/app:v1"), parseRef(t, dst.Host+"/mirror/app"), registryclient.CopyOptions{Referrers: true})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Contains(digestStrings(res.Referrers), late.Digest.String()) {
			t.Errorf("CopyResult.Referrers %v lacks the new %s", res.Referrers, late.Digest)
		}
		assertSameReferrers(t, src, "app", dst, "mirror/app", s)
	})

	t.Run("without the option no referrer moves", func(t *testing.T) {
		res := copyImage(t, client, src.Host+"/app:v1", dst.Host+"/plain/app")
		if res.Referrers != nil {
			t.Errorf("CopyResult.Referrers = %v without CopyOptions.Referrers", res.Referrers)
		}
		if got, err := dst.Referrers(t.Context(), "plain/app", s.image.Digest); err != nil || len(got) > 0 {
			t.Errorf("the destination lists %d referrers (%v), want none", len(got), err)
		}
	})

	t.Run("a platform's copy brings that image's referrers, not the index's", func(t *testing.T) {
		p, _ := registryclient.ParsePlatform("linux/arm64")
		res, err := client.Copy(t.Context(), parseRef(t, src.Host+"/app:v1"), parseRef(t, dst.Host+"/arm/app"), registryclient.CopyOptions{Referrers: true, Platform: &p})
		if err != nil {
			t.Fatal(err)
		}
		child := s.image.Children["linux/arm64"]
		want := []string{s.bySubject[child][0].Digest.String()}
		if got := digestStrings(res.Referrers); !slices.Equal(got, want) {
			t.Errorf("CopyResult.Referrers = %v, want the child's signature %v", got, want)
		}
		got, err := dst.Referrers(t.Context(), "arm/app", child)
		if err != nil || len(got) != 1 || got[0].Digest.String() != want[0] {
			t.Errorf("the destination lists %v (%v) for %s, want %v", got, err, child, want)
		}
	})
}

func TestListReferrersFromARegistryWithoutTheAPI(t *testing.T) {
	reg := testregistry.StartT(t, testregistry.Options{})
	s := seedSigned(t, reg, "app", "v1", 2)
	client := registryclient.New()
	ref := parseRef(t, reg.Host+"/app:v1")
	root, err := client.GetManifest(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	refs, err := client.ListReferrersFrom(t.Context(), client.Repository(ref), root)
	if err != nil {
		t.Fatal(err)
	}
	if got := digestStrings(registryclient.ReferrerDigests(refs)); !slices.Equal(got, s.all) {
		t.Fatalf("listed %v, want %v", got, s.all)
	}
	known := map[digest.Digest]bool{root.Digest: true}
	for _, child := range s.image.Children {
		known[digest.Digest(child)] = true
	}
	for _, r := range refs {
		if !known[r.Subject] {
			t.Errorf("referrer %s of %s comes before its subject", r.Descriptor.Digest, r.Subject)
		}
		known[r.Descriptor.Digest] = true
		if r.Tag != "" && s.cosign[r.Tag] != r.Descriptor.Digest.String() {
			t.Errorf("referrer %s under tag %q, want the cosign tags %v", r.Descriptor.Digest, r.Tag, s.cosign)
		}
	}
}

func TestReferrersTravelThroughALayout(t *testing.T) {
	if registryclient.AnnotationReferrerTag != tarball.AnnotationReferrerTag {
		t.Fatalf("registryclient and tarball spell the referrer tag annotation %q and %q", registryclient.AnnotationReferrerTag, tarball.AnnotationReferrerTag)
	}
	isolateDockerConfig(t)
	src := testregistry.StartT(t, testregistry.Options{})
	dst := testregistry.StartT(t, testregistry.Options{})
	s := seedSigned(t, src, "app", "v1", 3)
	client := registryclient.New()

	path := filepath.Join(t.TempDir(), "mirror.tar")
	w, err := tarball.NewWriter(path, true)
	if err != nil {
		t.Fatal(err)
	}
	ref := parseRef(t, src.Host+"/app:v1")
	root, err := client.GetManifest(t.Context(), ref)
	if err != nil {
		t.Fatal(err)
	}
	res, err := client.CopyTo(t.Context(), client.Repository(ref), root, w, registryclient.CopyOptions{Referrers: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := digestStrings(res.Referrers); !slices.Equal(got, s.all) {
		t.Errorf("written into the layout: %v, want %v", got, s.all)
	}
	if _, err := w.Commit([]tarball.Named{{Name: "app", Descriptor: v1.Descriptor{MediaType: res.MediaType, Digest: res.Digest, Size: int64(len(root.Body))}}}); err != nil {
		t.Fatal(err)
	}

	archive, err := tarball.Open(tarball.Location{Path: path, Name: "app", Format: tarball.FormatOCILayout})
	if err != nil {
		t.Fatal(err)
	}
	defer archive.Close()
	img, err := archive.Image("")
	if err != nil {
		t.Fatal(err)
	}
	local, err := registryclient.ReadRoot(t.Context(), img)
	if err != nil {
		t.Fatal(err)
	}
	pushed, err := client.CopyFrom(t.Context(), img, local, parseRef(t, dst.Host+"/airgap/app:v1"), registryclient.CopyOptions{Referrers: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := digestStrings(pushed.Referrers); !slices.Equal(got, s.all) {
		t.Errorf("pushed from the layout: %v, want %v", got, s.all)
	}
	assertStored(t, dst, "airgap/app", "v1", s.image.Digest)
	assertSameReferrers(t, src, "app", dst, "airgap/app", s)
}
