package registryclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

func TestCopyRefusesCorruptContent(t *testing.T) {
	for _, chunk := range []int64{DefaultChunkSize, 1000} {
		t.Run(fmt.Sprintf("a source blob that does not match its digest is never pushed (chunk size %d)", chunk), func(t *testing.T) {
			src, dst := newFakeRegistry(t), newFakeRegistry(t)
			_, layers := src.seedImage("app", "v1", 3000)
			src.mu.Lock()
			src.blobs[layers[0].Digest.String()][100] ^= 0xff
			src.mu.Unlock()
			_, err := testClient(WithChunkSize(chunk)).Copy(context.Background(), src.ref(t, "app:v1"), dst.ref(t, "app:v1"), CopyOptions{})
			if !errors.Is(err, ErrDigestMismatch) {
				t.Fatalf("err = %v, want ErrDigestMismatch", err)
			}
			if _, ok := dst.blob("app", layers[0].Digest); ok {
				t.Error("the corrupt layer was stored at the destination")
			}
			if dst.hasManifest("app", "v1") {
				t.Error("the destination was tagged although a layer failed")
			}
		})
	}
}

func TestCopyMediaTypes(t *testing.T) {
	t.Run("schema 1 manifests are refused with a way out", func(t *testing.T) {
		src, dst := newFakeRegistry(t), newFakeRegistry(t)
		src.seedManifest("old", "v1", mediaTypeDockerSchema1JWS, []byte(`{"schemaVersion":1,"name":"old","tag":"v1"}`))
		_, err := testClient().Copy(context.Background(), src.ref(t, "old:v1"), dst.ref(t, "old:v1"), CopyOptions{})
		if !errors.Is(err, ErrUnsupportedMediaType) || !strings.Contains(err.Error(), "schema 1") {
			t.Errorf("err = %v, want ErrUnsupportedMediaType naming schema 1", err)
		}
	})
	for _, allow := range []bool{false, true} {
		t.Run(fmt.Sprintf("foreign layers are copied only when allowed (allow=%v)", allow), func(t *testing.T) {
			src, dst := newFakeRegistry(t), newFakeRegistry(t)
			_, layers := src.seedImage("win", "base", 100)
			foreign := []byte("windows base layer")
			src.mu.Lock()
			src.blobs[digest.FromBytes(foreign).String()] = foreign
			src.repoBlobs["win@"+digest.FromBytes(foreign).String()] = true
			src.mu.Unlock()
			foreignDesc := ocispec.Descriptor{MediaType: MediaTypeDockerForeignLayer, Digest: digest.FromBytes(foreign), Size: int64(len(foreign)), URLs: []string{"https://example.com/layer"}}
			m, _ := testClient().GetManifest(context.Background(), src.ref(t, "win:base"))
			p, _ := m.parse()
			body := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"config":{"mediaType":%q,"digest":%q,"size":%d},"layers":[{"mediaType":%q,"digest":%q,"size":%d,"urls":["https://example.com/layer"]},{"mediaType":%q,"digest":%q,"size":%d}]}`,
				MediaTypeDockerManifest, MediaTypeDockerConfig, p.Config.Digest, p.Config.Size,
				foreignDesc.MediaType, foreignDesc.Digest, foreignDesc.Size, MediaTypeDockerLayer, layers[0].Digest, layers[0].Size)
			src.seedManifest("win", "v1", MediaTypeDockerManifest, []byte(body))
			if _, err := testClient(WithNondistributable(allow)).Copy(context.Background(), src.ref(t, "win:v1"), dst.ref(t, "win:v1"), CopyOptions{}); err != nil {
				t.Fatal(err)
			}
			if _, copied := dst.blob("win", foreignDesc.Digest); copied != allow {
				t.Errorf("foreign layer copied = %v, want %v", copied, allow)
			}
			if !dst.hasManifest("win", "v1") {
				t.Error("the manifest was not pushed")
			}
		})
	}
}

func TestCopySkipsWhatTheDestinationHas(t *testing.T) {
	src, dst := newFakeRegistry(t), newFakeRegistry(t)
	src.seedImage("app", "v1", 3000, 4000)
	c := testClient()
	copyAndCheck(t, c, src, "app:v1", dst, "app:v1")
	before := len(dst.log())
	res := copyAndCheck(t, c, src, "app:v1", dst, "app:v1")
	if !res.Unchanged {
		t.Error("second copy reported a change")
	}
	for _, r := range dst.log()[before:] {
		if !strings.HasPrefix(r, "HEAD ") && !strings.HasPrefix(r, "GET ") {
			t.Errorf("second copy wrote: %s", r)
		}
	}
	// A new tag on the same image pushes the manifest only.
	before = len(dst.log())
	copyAndCheck(t, c, src, "app:v1", dst, "app:stable")
	for _, r := range dst.log()[before:] {
		if strings.Contains(r, "/blobs/uploads/") {
			t.Errorf("re-tagging uploaded a blob: %s", r)
		}
	}
}

func TestParseRange(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{{"0-999", 1000, true}, {"bytes=0-4", 5, true}, {"0-0", 0, true}, {"", 0, false}, {"5-10", 0, false}, {"0-x", 0, false}} {
		if got, ok := parseRange(tc.in); got != tc.want || ok != tc.ok {
			t.Errorf("parseRange(%q) = %d, %v; want %d, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

func TestErrorsCarryTheRegistrysWords(t *testing.T) {
	reg := newFakeRegistry(t)
	reg.intercept = func(w http.ResponseWriter, _ *http.Request) bool {
		fakeError(w, http.StatusForbidden, "DENIED")
		return true
	}
	_, err := testClient().HeadManifest(context.Background(), reg.ref(t, "private/app:v1"))
	var re *Error
	if !errors.As(err, &re) || !errors.Is(err, ErrDenied) || re.Status != http.StatusForbidden {
		t.Fatalf("err = %v, want a 403 *Error that is ErrDenied", err)
	}
	if msg := err.Error(); !strings.Contains(msg, reg.host()) || !strings.Contains(msg, "private/app") {
		t.Errorf("message %q does not name the registry and the image", msg)
	}
}

func TestCopyArtifactWithNonImageConfig(t *testing.T) {
	src, dst := newFakeRegistry(t), newFakeRegistry(t)
	_, layers := src.seedImage("charts/app", "blobs", 500)
	config := []byte(`{"name":"app","version":"1.0.0"}`)
	cd := digest.FromBytes(config)
	src.mu.Lock()
	src.blobs[cd.String()] = config
	src.repoBlobs["charts/app@"+cd.String()] = true
	src.mu.Unlock()
	body := fmt.Sprintf(`{"schemaVersion":2,"mediaType":%q,"artifactType":"application/vnd.cncf.helm.config.v1+json","config":{"mediaType":"application/vnd.cncf.helm.config.v1+json","digest":%q,"size":%d},"layers":[{"mediaType":"application/vnd.cncf.helm.chart.content.v1.tar+gzip","digest":%q,"size":%d}]}`,
		ocispec.MediaTypeImageManifest, cd, len(config), layers[0].Digest, layers[0].Size)
	src.seedManifest("charts/app", "1.0.0", ocispec.MediaTypeImageManifest, []byte(body))
	res := copyAndCheck(t, testClient(), src, "charts/app:1.0.0", dst, "charts/app:1.0.0")
	if res.Digest != digest.FromString(body) {
		t.Errorf("artifact digest %s, want %s", res.Digest, digest.FromString(body))
	}
	if _, ok := dst.blob("charts/app", cd); !ok {
		t.Error("the artifact's config was not copied")
	}
}

// TestCopyFailureNamesTheRequestOnce: the provider writes "Copying X to Y failed: …"
// around this error, so the error names the failed request once and does not repeat
// the image or the repository in front of it.
func TestCopyFailureNamesTheRequestOnce(t *testing.T) {
	src, dst := newFakeRegistry(t), newFakeRegistry(t)
	src.seedImage("team/app", "v1", 300)
	dst.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method != http.MethodPost {
			return false
		}
		fakeError(w, http.StatusForbidden, "DENIED")
		return true
	}
	_, err := testClient().Copy(context.Background(), src.ref(t, "team/app:v1"), dst.ref(t, "mirror/app:v1"), CopyOptions{})
	if !errors.Is(err, ErrDenied) {
		t.Fatalf("copy = %v, want the destination's DENIED", err)
	}
	msg := err.Error()
	post := "POST " + dst.host() + "/v2/mirror/app/blobs/uploads/: 403 forbidden; DENIED"
	if !strings.Contains(msg, post) {
		t.Errorf("message %q does not name the refused request %q", msg, post)
	}
	if n := strings.Count(msg, "mirror/app"); n != 1 {
		t.Errorf("message %q names the destination repository %d times, want once", msg, n)
	}
}
