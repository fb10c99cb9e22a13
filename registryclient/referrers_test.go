package registryclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// The real registry the integration tests use has no referrers API, so these tests
// give the fake one: OCI-Subject on pushes, and GET /v2/<name>/referrers/<digest>
// answered in pages of pageSize with Link headers.
func withReferrersAPI(f *fakeRegistry, pageSize int) {
	f.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		repo, rest, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/v2/"), "/referrers/")
		if ok && r.Method == http.MethodGet {
			f.serveReferrers(w, r, repo, rest, pageSize)
			return true
		}
		if r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/") {
			body, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(body))
			var p parsed
			if json.Unmarshal(body, &p) == nil && p.Subject != nil {
				w.Header().Set("OCI-Subject", p.Subject.Digest.String())
			}
		}
		return false
	}
}

func (f *fakeRegistry) serveReferrers(w http.ResponseWriter, r *http.Request, repo, subject string, pageSize int) {
	f.mu.Lock()
	var found []ocispec.Descriptor
	for key, m := range f.manifests {
		name, ref, _ := strings.Cut(key, "@")
		if name != repo || !strings.HasPrefix(ref, "sha256:") {
			continue
		}
		var p struct {
			parsed
			ArtifactType string `json:"artifactType"`
		}
		if json.Unmarshal(m.body, &p) == nil && p.Subject != nil && p.Subject.Digest.String() == subject {
			found = append(found, ocispec.Descriptor{MediaType: m.mediaType, Digest: digest.Digest(ref), Size: int64(len(m.body)), ArtifactType: p.ArtifactType})
		}
	}
	f.mu.Unlock()
	slices.SortFunc(found, func(a, b ocispec.Descriptor) int { return strings.Compare(a.Digest.String(), b.Digest.String()) })
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	from, to := min(page*pageSize, len(found)), min((page+1)*pageSize, len(found))
	if to < len(found) {
		w.Header().Set("Link", fmt.Sprintf(`</v2/%s/referrers/%s?page=%d>; rel="next"`, repo, subject, page+1))
	}
	w.Header().Set("Content-Type", ocispec.MediaTypeImageIndex)
	json.NewEncoder(w).Encode(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: append([]ocispec.Descriptor{}, found[from:to]...)})
}

// seedReferrer stores an artifact referring to subject in repo (under tag when set) and
// returns its descriptor.
func (f *fakeRegistry) seedReferrer(repo, tag string, subject *ocispec.Descriptor, artifactType, payload string) ocispec.Descriptor {
	f.mu.Lock()
	put := func(mediaType string, content []byte) ocispec.Descriptor {
		d := digest.FromBytes(content)
		f.blobs[d.String()] = content
		f.repoBlobs[repo+"@"+d.String()] = true
		return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(content))}
	}
	body, _ := json.Marshal(ocispec.Manifest{
		Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, ArtifactType: artifactType,
		Config: put(ocispec.MediaTypeEmptyJSON, []byte("{}")), Layers: []ocispec.Descriptor{put(artifactType, []byte(payload))}, Subject: subject,
	})
	f.mu.Unlock()
	if tag == "" {
		tag = digest.FromBytes(body).String()
	}
	f.seedManifest(repo, tag, ocispec.MediaTypeImageManifest, body)
	return ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromBytes(body), Size: int64(len(body)), ArtifactType: artifactType}
}

// seedFallback stores the fallback tag's index listing refs of subject, as clients do
// on registries without the API.
func (f *fakeRegistry) seedFallback(repo string, subject digest.Digest, refs ...ocispec.Descriptor) {
	body, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: refs})
	f.seedManifest(repo, fallbackTag(subject), ocispec.MediaTypeImageIndex, body)
}

// seedSignedImage stores an image with a signature, an SBOM and a signature of the SBOM,
// listed in the fallback tag unless the registry has the API, and returns the image
// and the referrers.
func seedSignedImage(f *fakeRegistry, repo string, fallback bool) (ocispec.Descriptor, []ocispec.Descriptor) {
	d, _ := f.seedImage(repo, "v1", 100, 200)
	f.mu.Lock()
	image := ocispec.Descriptor{MediaType: ocispec.MediaTypeImageManifest, Digest: d, Size: int64(len(f.manifests[repo+"@v1"].body))}
	f.mu.Unlock()
	sig := f.seedReferrer(repo, "", &image, "application/vnd.example.signature", "signature of the image")
	sbom := f.seedReferrer(repo, "", &image, "application/spdx+json", `{"spdxVersion":"SPDX-2.3"}`)
	sbomSig := f.seedReferrer(repo, "", &sbom, "application/vnd.example.signature", "signature of the SBOM")
	if fallback {
		f.seedFallback(repo, image.Digest, sig, sbom)
		f.seedFallback(repo, sbom.Digest, sbomSig)
	}
	return image, []ocispec.Descriptor{sig, sbom, sbomSig}
}

func digests(ds []ocispec.Descriptor) []digest.Digest {
	out := make([]digest.Digest, 0, len(ds))
	for _, d := range ds {
		out = append(out, d.Digest)
	}
	slices.Sort(out)
	return out
}

// writesUnder lists the manifest PUTs a registry got under the fallback tag scheme.
func writesUnder(f *fakeRegistry, repo string) []string {
	var out []string
	for _, r := range f.log() {
		if strings.HasPrefix(r, "PUT /v2/"+repo+"/manifests/sha256-") {
			out = append(out, r)
		}
	}
	return out
}

func TestReferrersWhereTheRegistryListsThem(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name                    string
		srcAPI, dstAPI          bool
		wantFallbackWritesAtDst bool
	}{
		{name: "from the referrers API to a registry that lists them itself", srcAPI: true, dstAPI: true},
		{name: "from the referrers API to a registry without it, which gets the fallback tag", srcAPI: true, wantFallbackWritesAtDst: true},
		{name: "from the fallback tag to a registry with the API, which needs none", dstAPI: true},
		{name: "from the fallback tag to the fallback tag", wantFallbackWritesAtDst: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := newFakeRegistry(t), newFakeRegistry(t)
			if tc.srcAPI {
				withReferrersAPI(src, 1)
			}
			if tc.dstAPI {
				withReferrersAPI(dst, 1)
			}
			image, refs := seedSignedImage(src, "app", !tc.srcAPI)
			c := testClient()
			res, err := c.Copy(ctx, src.ref(t, "app:v1"), dst.ref(t, "mirror:v1"), CopyOptions{Referrers: true})
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(res.Referrers, digests(refs)) {
				t.Errorf("CopyResult.Referrers = %v, want %v", res.Referrers, digests(refs))
			}
			if tc.srcAPI && src.count("GET /v2/app/referrers/"+image.Digest.String()+"?page=1") != 1 {
				t.Errorf("the second page of the source's referrers was not read:\n%s", strings.Join(src.log(), "\n"))
			}
			if got := writesUnder(dst, "mirror"); (len(got) > 0) != tc.wantFallbackWritesAtDst {
				t.Errorf("fallback tag writes at the destination: %v; want some: %v", got, tc.wantFallbackWritesAtDst)
			}
			for subject, want := range map[digest.Digest][]ocispec.Descriptor{image.Digest: refs[:2], refs[1].Digest: refs[2:]} {
				got, err := c.ListReferrers(ctx, dst.ref(t, "mirror"), subject)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(digests(got), digests(want)) {
					t.Errorf("the destination lists %v for %s, want %v", digests(got), subject, digests(want))
				}
				for _, d := range got {
					if d.ArtifactType == "" || d.Size == 0 || d.MediaType != ocispec.MediaTypeImageManifest {
						t.Errorf("the destination lists %s without its media type, size or artifact type: %+v", d.Digest, d)
					}
				}
			}
		})
	}
}

func TestFallbackTagAtTheDestination(t *testing.T) {
	ctx := context.Background()
	t.Run("keeps what others listed and comes out sorted", func(t *testing.T) {
		src, dst := newFakeRegistry(t), newFakeRegistry(t)
		image, refs := seedSignedImage(src, "app", true)
		other := dst.seedReferrer("mirror", "", &image, "application/vnd.example.other", "someone else's")
		dst.seedFallback("mirror", image.Digest, other)
		if _, err := testClient().Copy(ctx, src.ref(t, "app:v1"), dst.ref(t, "mirror:v1"), CopyOptions{Referrers: true}); err != nil {
			t.Fatal(err)
		}
		dst.mu.Lock()
		body := dst.manifests["mirror@"+fallbackTag(image.Digest)].body
		dst.mu.Unlock()
		var index ocispec.Index
		if err := json.Unmarshal(body, &index); err != nil {
			t.Fatal(err)
		}
		want := digests(append([]ocispec.Descriptor{other}, refs[:2]...))
		var got []digest.Digest
		for _, d := range index.Manifests {
			got = append(got, d.Digest)
		}
		if !slices.Equal(got, want) {
			t.Errorf("fallback index lists %v, want %v in this order", got, want)
		}
	})
	t.Run("an image under the fallback tag is not overwritten", func(t *testing.T) {
		src, dst := newFakeRegistry(t), newFakeRegistry(t)
		image, _ := seedSignedImage(src, "app", true)
		dst.seedImage("mirror", fallbackTag(image.Digest), 10)
		_, err := testClient().Copy(ctx, src.ref(t, "app:v1"), dst.ref(t, "mirror:v1"), CopyOptions{Referrers: true})
		if !errors.Is(err, ErrUnsupportedMediaType) || !strings.Contains(err.Error(), "remove that tag") {
			t.Errorf("copy over someone's image under %s: %v, want an error that says what to do", fallbackTag(image.Digest), err)
		}
	})
	t.Run("a referrers listing whose pages loop is an error, not a hang", func(t *testing.T) {
		src, dst := newFakeRegistry(t), newFakeRegistry(t)
		seedSignedImage(src, "app", false)
		src.intercept = func(w http.ResponseWriter, r *http.Request) bool {
			if !strings.Contains(r.URL.Path, "/referrers/") {
				return false
			}
			w.Header().Set("Link", `<`+r.URL.Path+`?page=1>; rel="next"`)
			json.NewEncoder(w).Encode(ocispec.Index{Manifests: []ocispec.Descriptor{{MediaType: ocispec.MediaTypeImageManifest, Digest: digest.FromString("x"), Size: 1}}})
			return true
		}
		_, err := testClient().Copy(ctx, src.ref(t, "app:v1"), dst.ref(t, "mirror:v1"), CopyOptions{Referrers: true})
		if !errors.Is(err, errReferrersPaging) {
			t.Errorf("copy: %v, want %v", err, errReferrersPaging)
		}
	})
}

func TestFallbackTagName(t *testing.T) {
	d := digest.FromString("x")
	if got := fallbackTag(d); got != "sha256-"+d.Encoded() {
		t.Errorf("fallbackTag(%s) = %s", d, got)
	}
	long := digest.NewDigestFromEncoded(digest.SHA512, strings.Repeat("ab", 64))
	if got := fallbackTag(long); got != "sha512-"+strings.Repeat("ab", 32) || !tagPattern.MatchString(got) {
		t.Errorf("fallbackTag(sha512) = %s, want the hex cut to 64 characters", got)
	}
}
