package registryclient_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

var errCut = errors.New("connection cut by the test")

// cutReader passes n bytes, then fails, as a connection dropping mid-body does.
type cutReader struct {
	r io.Reader
	n int64
}

func (c *cutReader) Read(p []byte) (int, error) {
	if c.n <= 0 {
		return 0, errCut
	}
	if int64(len(p)) > c.n {
		p = p[:c.n]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	return n, err
}

// TestChunkedUploadSurvivesADroppedConnection cuts the second PATCH of a chunked upload
// halfway, between the client and a real distribution registry, after the registry has
// stored part of the chunk. Distribution then refuses the session's old Location
// (RANGE_INVALID: its _state records the old offset), so the client must start the blob
// again rather than fail the copy.
func TestChunkedUploadSurvivesADroppedConnection(t *testing.T) {
	isolateDockerConfig(t)
	src := testregistry.StartT(t, testregistry.Options{})
	reg := testregistry.StartT(t, testregistry.Options{})
	pushed := pushImage(t, src, "source/app", "v1", testregistry.ImageSpec{Layers: 1, LayerSize: 3 << 20, Seed: 21})

	var patches atomic.Int32
	upstream := &http.Transport{}
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		out := r.Clone(r.Context())
		out.URL.Scheme, out.URL.Host, out.RequestURI = "http", reg.Host, ""
		if r.Method == http.MethodPatch && patches.Add(1) == 2 {
			out.Body = io.NopCloser(&cutReader{r: r.Body, n: r.ContentLength / 2})
			if resp, err := upstream.RoundTrip(out); err == nil {
				resp.Body.Close()
			}
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		resp, err := upstream.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vs := range resp.Header {
			for _, v := range vs {
				w.Header().Add(k, strings.ReplaceAll(v, reg.Host, r.Host))
			}
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	host := strings.TrimPrefix(proxy.URL, "http://")

	client := registryclient.New(registryclient.WithChunkSize(1<<20), registryclient.WithLogger(func(_ context.Context, msg string, f map[string]any) {
		t.Log(f["method"], f["url"], f["status"], f["error"])
	}))
	if _, err := client.Copy(t.Context(), parseRef(t, src.Host+"/source/app:v1"), parseRef(t, host+"/mirror/app:v1"), registryclient.CopyOptions{}); err != nil {
		t.Fatalf("copy with a connection dropped mid-chunk: %v", err)
	}
	if patches.Load() < 4 {
		t.Errorf("%d PATCHes: the cut never happened", patches.Load())
	}
	assertStored(t, reg, "mirror/app", "v1", pushed.Digest)
}
