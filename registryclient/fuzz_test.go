package registryclient

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/opencontainers/go-digest"
)

// Fuzz targets for what registryclient reads from users and registries. `make test`
// runs each for a few seconds, `make fuzz` for longer; inputs that once failed live
// in testdata/fuzz/<target>/ and run with every `go test`.

const fuzzDigest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

func FuzzParseReference(f *testing.F) {
	for _, s := range []string{
		"alpine", "library/alpine:3.20", "docker.io/library/alpine:latest", "index.docker.io/library/alpine",
		"registry-1.docker.io/bitnami/redis:7", "ghcr.io/org/app:1.2@" + fuzzDigest, "app@" + fuzzDigest,
		"localhost/app", "localhost:5000/a/b/c:tag", "[::1]:5000/app", "127.0.0.1:5000/app@" + fuzzDigest,
		"registry.example.com:443/team/app:v1.0.0-rc.1", "a.b/c_d__e---f:Tag_1.-x", "xn--bcher-kva.example/app",
		"", " alpine", "Alpine", "app:", "app@sha256:short", "a//b", "ghcr.io/", "r.io/app:tag:tag",
		"r.io/app@@" + fuzzDigest, "docker.io", "foo.com:5000", "r.io/app@sha512:" + strings.Repeat("0", 128),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ref, err := ParseReference(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidReference) {
				t.Fatalf("ParseReference(%q) error %v does not wrap ErrInvalidReference", s, err)
			}
			return
		}
		again, err := ParseReference(ref.String())
		if err != nil {
			t.Fatalf("ParseReference(%q) = %q, which does not parse again: %v", s, ref, err)
		}
		if again != ref {
			t.Fatalf("ParseReference(%q) = %#v, but its String %q parses to %#v", s, ref, ref.String(), again)
		}
		// Every request for the image is addressed by request.go: the registry must be
		// a host[:port] that a request URL carries unchanged.
		r := &request{method: http.MethodGet, ref: ref, endpoint: manifests, id: ref.identifier()}
		u := url.URL{Scheme: "https", Host: ref.apiHost(), Path: r.path()}
		req, err := http.NewRequest(http.MethodGet, u.String(), nil)
		if err != nil {
			t.Fatalf("ParseReference(%q) accepted registry %q, but no request can address it: %v", s, ref.Registry, err)
		}
		if req.URL.Host != ref.apiHost() || req.URL.Path != u.Path {
			t.Fatalf("ParseReference(%q): a request for it goes to %s%s, not %s%s", s, req.URL.Host, req.URL.Path, ref.apiHost(), u.Path)
		}
	})
}

func FuzzParsePlatform(f *testing.F) {
	for _, s := range []string{
		"linux/amd64", "linux/arm64/v8", "linux/arm", "windows/amd64:10.0.20348.2700", "linux/amd64:",
		"linux/amd64:a:b", "", "linux", "linux/", "/", ":", "Linux/AMD64", "linux//amd64", "linux/amd64/v3/extra",
		"linux /amd64", "linux/amd64\t", "darwin/arm64:14.0/x", "linux/arm64/v8:", "\xff/amd64",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePlatform(s)
		if err != nil {
			if !errors.Is(err, ErrInvalidPlatform) {
				t.Fatalf("ParsePlatform(%q) error %v does not wrap ErrInvalidPlatform", s, err)
			}
			return
		}
		again, err := ParsePlatform(p.String())
		if err != nil {
			t.Fatalf("ParsePlatform(%q) = %q, which does not parse again: %v", s, p, err)
		}
		if again != p {
			t.Fatalf("ParsePlatform(%q) = %#v, but its String %q parses to %#v", s, p, p.String(), again)
		}
		if p.Normal().Normal() != p.Normal() {
			t.Fatalf("Normal is not stable for %#v", p)
		}
	})
}

// manifestServer answers GET and HEAD for fuzz/app:v1 with whatever the fuzzer chose,
// and 404 for everything else (children, configs).
type manifestServer struct {
	contentType, dockerDigest string
	body                      []byte
}

// FuzzGetManifest feeds registry answers through the real client: GetManifest, then
// Resolve, which decodes the manifest or index and picks a platform from it.
func FuzzGetManifest(f *testing.F) {
	const (
		ociManifest = "application/vnd.oci.image.manifest.v1+json"
		ociIndex    = "application/vnd.oci.image.index.v1+json"
	)
	layer := `{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"` + fuzzDigest + `","size":32}`
	for _, seed := range []manifestServer{
		{ociManifest, "", []byte(`{"schemaVersion":2,"mediaType":"` + ociManifest + `","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"` + fuzzDigest + `","size":2},"layers":[` + layer + `]}`)},
		{ociIndex, "", []byte(`{"schemaVersion":2,"mediaType":"` + ociIndex + `","manifests":[{"mediaType":"` + ociManifest + `","digest":"` + fuzzDigest + `","size":7,"platform":{"architecture":"amd64","os":"linux"}},{"digest":"` + fuzzDigest + `","platform":{"architecture":"arm64","os":"linux","variant":"v8"}},{"digest":"` + fuzzDigest + `","platform":null}]}`)},
		{MediaTypeDockerManifest, "", []byte(`{"schemaVersion":2,"mediaType":"` + MediaTypeDockerManifest + `","config":{"size":99999999999},"layers":[{"mediaType":"` + MediaTypeDockerForeignLayer + `","urls":["https://x"]}]}`)},
		{MediaTypeDockerManifestList, "", []byte(`{"manifests":[{"mediaType":"` + ociIndex + `","digest":"` + fuzzDigest + `","platform":{"os":"linux","architecture":"amd64"}}]}`)},
		{"application/json", "", []byte(`{"mediaType":"` + ociIndex + `","manifests":[]}`)},
		{"text/plain; charset=utf-8", "", []byte(`{"mediaType":"application/vnd.docker.distribution.manifest.v1+prettyjws"}`)},
		{ociManifest + "; charset=utf-8", "sha512:" + strings.Repeat("0", 128), []byte(`{}`)},
		{ociManifest, "sha256:not-hex", []byte(`null`)},
		{ociManifest, "md5:d41d8cd98f00b204e9800998ecf8427e", []byte(`{}`)},
		{ociIndex, "", []byte(`{"manifests":[{"digest":"0","platform":{"os":"linux","architecture":"amd64"}}]}`)},
		{"", "", []byte(`{"mediaType":"","manifests":[{"platform":{}}],"layers":null}`)},
		{ociIndex, "", []byte(`{"manifests":[{"platform":{"os":"linux","architecture":"arm"}}],"subject":{"digest":"x"}}`)},
		{ociIndex, "", nil},
		{ociIndex, "", []byte(`[`)},
	} {
		f.Add(seed.contentType, seed.dockerDigest, seed.body)
	}

	var current atomic.Pointer[manifestServer]
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := current.Load()
		if r.URL.Path != "/v2/fuzz/app/manifests/v1" || m == nil {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", m.contentType)
		if m.dockerDigest != "" {
			w.Header().Set("Docker-Content-Digest", m.dockerDigest)
		}
		w.Write(m.body)
	}))
	defer srv.Close()
	ref, err := ParseReference(strings.TrimPrefix(srv.URL, "http://") + "/fuzz/app:v1")
	if err != nil {
		f.Fatal(err)
	}
	c := New(WithMaxRetries(0))
	linux := Platform{OS: "linux", Architecture: "amd64"}

	f.Fuzz(func(t *testing.T, contentType, dockerDigest string, body []byte) {
		if strings.ContainsAny(contentType+dockerDigest, "\r\n\x00") || len(body) > maxManifestSize {
			t.Skip("not a header value net/http would send, or over the size limit")
		}
		current.Store(&manifestServer{contentType, dockerDigest, body})
		ctx := context.Background()
		m, err := c.GetManifest(ctx, ref)
		if err == nil {
			if !bytes.Equal(m.Body, body) {
				t.Fatal("GetManifest returned other bytes than the registry sent")
			}
			if err := m.Digest.Validate(); err != nil || m.Digest.Algorithm().FromBytes(body) != m.Digest {
				t.Fatalf("GetManifest reported digest %q for a body that hashes otherwise", m.Digest)
			}
			if !IsIndex(m.MediaType) && !isImageManifest(m.MediaType) {
				t.Fatalf("GetManifest accepted media type %q", m.MediaType)
			}
			if dockerDigest == "" && m.Digest != digest.FromBytes(body) {
				t.Fatalf("digest %s, want the body's sha256", m.Digest)
			}
		}
		c.Resolve(ctx, ref, &linux)
		c.Resolve(ctx, ref, &Platform{OS: "linux", Architecture: "arm64", Variant: "v8"})
	})
}
