package registryclient

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// TestErrorAboutNamesTheRequestsRepository: a registry's refusal says which repository
// the request was about, so the provider can tell a failing destination from a failing
// source, even when the refusal comes from the host an upload Location sent us to.
func TestErrorAboutNamesTheRequestsRepository(t *testing.T) {
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"errors":[{"code":"DENIED","message":"no writes today"}]}`))
	}))
	defer storage.Close()
	registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.Method == http.MethodPost && r.URL.Path == "/v2/team/app/blobs/uploads/":
			w.Header().Set("Location", storage.URL+"/uploads/1?sig=secret")
			w.WriteHeader(http.StatusAccepted)
		default:
			w.WriteHeader(http.StatusNotFound)
			w.Write([]byte(`{"errors":[{"code":"MANIFEST_UNKNOWN"}]}`))
		}
	}))
	defer registry.Close()
	host := strings.TrimPrefix(registry.URL, "http://")
	parse := func(s string) Reference {
		t.Helper()
		ref, err := ParseReference(host + "/" + s)
		if err != nil {
			t.Fatal(err)
		}
		return ref
	}
	dst, src, elsewhere := parse("team/app:v1"), parse("team/base:v1"), parse("team/app-old:v1")
	c := testClient(WithMaxRetries(0))

	t.Run("a missing manifest is about the repository that was asked", func(t *testing.T) {
		_, err := c.GetManifest(t.Context(), src)
		var re *Error
		if !errors.As(err, &re) || !re.About(src) || re.About(dst) || re.About(elsewhere) {
			t.Fatalf("GetManifest(%s) = %v; want an *Error about %s only", src, err, src.Name())
		}
	})

	t.Run("a refused upload at the storage host is about the destination", func(t *testing.T) {
		u, err := c.startUpload(t.Context(), dst)
		if err != nil {
			t.Fatal(err)
		}
		body := []byte("layer")
		desc := ocispec.Descriptor{Digest: digest.FromBytes(body), Size: int64(len(body))}
		err = c.putMonolithic(t.Context(), u, desc, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil })
		var re *Error
		if !errors.As(err, &re) || !re.About(dst) || re.About(src) {
			t.Fatalf("put to the storage host = %v; want an *Error about %s, not %s", err, dst.Name(), src.Name())
		}
		if !errors.Is(err, ErrDenied) || strings.Contains(err.Error(), "secret") {
			t.Fatalf("put to the storage host = %q; want DENIED, without the Location's query", err)
		}
	})
}
