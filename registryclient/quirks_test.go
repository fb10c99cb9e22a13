package registryclient

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/auth"
)

// testClient is a client with short retry waits.
func testClient(opts ...Option) *Client {
	return New(append([]Option{withBackoffBase(time.Millisecond)}, opts...)...)
}

// copyAndCheck copies src to dst and checks that dst holds src's digest and every layer
// byte for byte.
func copyAndCheck(t *testing.T, c *Client, from *fakeRegistry, src string, to *fakeRegistry, dst string) CopyResult {
	t.Helper()
	res, err := c.Copy(context.Background(), from.ref(t, src), to.ref(t, dst), CopyOptions{})
	if err != nil {
		t.Fatalf("copy: %v", err)
	}
	srcRef, dstRef := from.ref(t, src), to.ref(t, dst)
	m, err := c.GetManifest(context.Background(), dstRef)
	if err != nil {
		t.Fatalf("read the copy: %v", err)
	}
	want, _ := c.GetManifest(context.Background(), srcRef)
	if m.Digest != want.Digest || res.Digest != want.Digest {
		t.Fatalf("destination digest %s (result %s), want %s", m.Digest, res.Digest, want.Digest)
	}
	p, _ := m.parse()
	for _, l := range p.Layers {
		got, ok := to.blob(dstRef.Repository, l.Digest)
		if !ok || digest.FromBytes(got) != l.Digest {
			t.Fatalf("layer %s missing or corrupt at the destination", l.Digest)
		}
	}
	return res
}

func TestMountWithinOneRegistry(t *testing.T) {
	t.Run("a granted mount moves no blob bytes", func(t *testing.T) {
		reg := newFakeRegistry(t)
		reg.seedImage("src/app", "v1", 3000, 4000)
		copyAndCheck(t, testClient(), reg, "src/app:v1", reg, "dst/app:v1")
		if n := reg.count("PUT /v2/dst/app/blobs/uploads/"); n != 0 {
			t.Errorf("%d blob uploads, want 0 (every blob mounted)", n)
		}
	})
	t.Run("a refused mount continues in the session the 202 opened", func(t *testing.T) {
		reg := newFakeRegistry(t)
		reg.refuseMount = true
		reg.seedImage("src/app", "v1", 3000, 4000)
		copyAndCheck(t, testClient(), reg, "src/app:v1", reg, "dst/app:v1")
		if n := reg.count("POST /v2/dst/app/blobs/uploads/?from="); n != 3 {
			t.Errorf("%d mount attempts, want 3 (config and two layers)", n)
		}
		if posts, mounts := reg.count("POST /v2/dst/app/blobs/uploads/"), reg.count("POST /v2/dst/app/blobs/uploads/?from="); posts != mounts {
			t.Errorf("%d POSTs beyond the mounts: a 202 session must be used, not a new POST", posts-mounts)
		}
	})
}

func TestUploadLocations(t *testing.T) {
	for _, tc := range []struct {
		name      string
		relative  bool
		chunkSize int64
	}{
		{"absolute Locations with _state, monolithic", false, DefaultChunkSize},
		{"relative Locations with _state, monolithic", true, DefaultChunkSize},
		{"relative Locations with _state, chunked", true, 1000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src, dst := newFakeRegistry(t), newFakeRegistry(t)
			dst.relativeLocation = tc.relative
			src.seedImage("app", "v1", 3500)
			copyAndCheck(t, testClient(WithChunkSize(tc.chunkSize)), src, "app:v1", dst, "app:v1")
		})
	}
}

func TestChunkedUpload(t *testing.T) {
	t.Run("chunks carry inclusive Content-Range without a unit", func(t *testing.T) {
		src, dst := newFakeRegistry(t), newFakeRegistry(t)
		var ranges []string
		var mu sync.Mutex
		dst.intercept = func(_ http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodPatch {
				mu.Lock()
				ranges = append(ranges, r.Header.Get("Content-Range"))
				mu.Unlock()
			}
			return false
		}
		src.seedImage("app", "v1", 2500)
		copyAndCheck(t, testClient(WithChunkSize(1000)), src, "app:v1", dst, "app:v1")
		if got := strings.Join(ranges, " "); got != "0-999 1000-1999 2000-2499" {
			t.Errorf("PATCH ranges %q, want 0-999 1000-1999 2000-2499", got)
		}
	})
	t.Run("chunks are at least OCI-Chunk-Min-Length", func(t *testing.T) {
		src, dst := newFakeRegistry(t), newFakeRegistry(t)
		dst.chunkMinLength = 1500
		src.seedImage("app", "v1", 4000)
		copyAndCheck(t, testClient(WithChunkSize(1000)), src, "app:v1", dst, "app:v1")
		if n := dst.count("PATCH "); n != 3 {
			t.Errorf("%d PATCHes, want 3 chunks of 1500, 1500 and 1000 bytes", n)
		}
	})
	t.Run("a 201 answer to PATCH is accepted, as ECR sends it", func(t *testing.T) {
		src, dst := newFakeRegistry(t), newFakeRegistry(t)
		dst.patchCreated = true
		src.seedImage("app", "v1", 2500)
		copyAndCheck(t, testClient(WithChunkSize(1000)), src, "app:v1", dst, "app:v1")
	})
	t.Run("a 416 is recovered from the offset the registry reports", func(t *testing.T) {
		src, dst := newFakeRegistry(t), newFakeRegistry(t)
		var refused atomic.Bool
		dst.intercept = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodPatch && strings.HasPrefix(r.Header.Get("Content-Range"), "1000-") && !refused.Swap(true) {
				fakeError(w, http.StatusRequestedRangeNotSatisfiable, "RANGE_INVALID")
				return true
			}
			return false
		}
		src.seedImage("app", "v1", 2500)
		copyAndCheck(t, testClient(WithChunkSize(1000)), src, "app:v1", dst, "app:v1")
		if n := dst.count("GET /v2/app/blobs/uploads/"); n != 1 {
			t.Errorf("%d upload status requests, want 1", n)
		}
		if n := dst.count("POST /v2/app/blobs/uploads/"); n != 2 {
			t.Errorf("%d upload sessions, want 2 (config, layer): the layer's session must be resumed, not restarted", n)
		}
	})
	t.Run("a connection dropped mid-chunk resumes from the bytes the registry kept", func(t *testing.T) {
		src, dst := newFakeRegistry(t), newFakeRegistry(t)
		var dropped atomic.Bool
		var sent atomic.Int64
		dst.intercept = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method != http.MethodPatch {
				return false
			}
			if !strings.HasPrefix(r.Header.Get("Content-Range"), "1000-") || dropped.Swap(true) {
				sent.Add(r.ContentLength)
				return false
			}
			// Keep 400 bytes of the chunk, then cut the connection.
			id := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
			dst.mu.Lock()
			io.CopyN(&dst.uploads[id].data, r.Body, 400)
			dst.mu.Unlock()
			sent.Add(400)
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return true
		}
		src.seedImage("app", "v1", 2500)
		copyAndCheck(t, testClient(WithChunkSize(1000)), src, "app:v1", dst, "app:v1")
		if got := sent.Load(); got != 2500 {
			t.Errorf("%d layer bytes sent, want 2500: only what the registry had not kept is sent again", got)
		}
	})
}

func TestChunkedUploadClosesAgainWhenOnlyTheClosingPutFailed(t *testing.T) {
	src, dst := newFakeRegistry(t), newFakeRegistry(t)
	_, layers := src.seedImage("app", "v1", 2500)
	var refused atomic.Bool
	dst.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && r.URL.Query().Get("digest") == layers[0].Digest.String() && !refused.Swap(true) {
			fakeError(w, http.StatusServiceUnavailable, "UNAVAILABLE")
			return true
		}
		return false
	}
	copyAndCheck(t, testClient(WithChunkSize(1000)), src, "app:v1", dst, "app:v1")
	if n := dst.count("PATCH "); n != 3 {
		t.Errorf("%d PATCHes, want 3: every chunk had landed, none is sent again", n)
	}
	if n := src.count("GET /v2/app/blobs/" + layers[0].Digest.String()); n != 1 {
		t.Errorf("the layer was read %d times, want once: all of it was at the destination already", n)
	}
}

func TestChunkedUploadRestartsWhenTheSessionIsLost(t *testing.T) {
	src, dst := newFakeRegistry(t), newFakeRegistry(t)
	var dropped atomic.Bool
	dst.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.Method == http.MethodPatch && strings.HasPrefix(r.Header.Get("Content-Range"), "1000-") && !dropped.Swap(true):
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return true
		case r.Method == http.MethodGet && strings.Contains(r.URL.Path, "/blobs/uploads/"):
			fakeError(w, http.StatusRequestedRangeNotSatisfiable, "RANGE_INVALID") // distribution's answer to a stale _state
			return true
		}
		return false
	}
	src.seedImage("app", "v1", 2500)
	copyAndCheck(t, testClient(WithChunkSize(1000)), src, "app:v1", dst, "app:v1")
	if n := dst.count("POST /v2/app/blobs/uploads/"); n != 3 {
		t.Errorf("%d upload sessions, want 3 (config, the lost layer session, its restart)", n)
	}
}

func TestRetries(t *testing.T) {
	t.Run("429 waits for Retry-After, then succeeds", func(t *testing.T) {
		reg := newFakeRegistry(t)
		reg.seedImage("app", "v1", 100)
		var limited atomic.Bool
		reg.intercept = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodHead && !limited.Swap(true) {
				w.Header().Set("Retry-After", "1")
				w.WriteHeader(http.StatusTooManyRequests)
				return true
			}
			return false
		}
		start := time.Now()
		if _, err := testClient().HeadManifest(context.Background(), reg.ref(t, "app:v1")); err != nil {
			t.Fatalf("head after a 429: %v", err)
		}
		if waited := time.Since(start); waited < 900*time.Millisecond {
			t.Errorf("retried after %s, want Retry-After's 1s honoured", waited)
		}
	})
	t.Run("503s are retried with backoff up to max_retries", func(t *testing.T) {
		reg := newFakeRegistry(t)
		reg.seedImage("app", "v1", 100)
		var failures atomic.Int32
		reg.intercept = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodHead && failures.Add(1) <= 3 {
				fakeError(w, http.StatusServiceUnavailable, "UNAVAILABLE")
				return true
			}
			return false
		}
		if _, err := testClient(WithMaxRetries(2)).HeadManifest(context.Background(), reg.ref(t, "app:v1")); err == nil || !strings.Contains(err.Error(), "503") {
			t.Errorf("with 2 retries against 3 failures: err = %v, want the 503", err)
		}
		failures.Store(0)
		if _, err := testClient(WithMaxRetries(3)).HeadManifest(context.Background(), reg.ref(t, "app:v1")); err != nil {
			t.Errorf("with 3 retries against 3 failures: %v", err)
		}
	})
	t.Run("404 is not retried", func(t *testing.T) {
		reg := newFakeRegistry(t)
		_, err := testClient().HeadManifest(context.Background(), reg.ref(t, "app:missing"))
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("err = %v, want ErrNotFound", err)
		}
		if n := reg.count("HEAD "); n != 1 {
			t.Errorf("%d HEADs, want 1", n)
		}
	})
	t.Run("a connection reset mid-blob restarts that blob's upload", func(t *testing.T) {
		src, dst := newFakeRegistry(t), newFakeRegistry(t)
		_, layers := src.seedImage("app", "v1", 50000)
		var reset atomic.Bool
		src.intercept = func(w http.ResponseWriter, r *http.Request) bool {
			if r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, layers[0].Digest.String()) && !reset.Swap(true) {
				w.Header().Set("Content-Length", "50000")
				w.WriteHeader(http.StatusOK)
				w.Write(make([]byte, 10000))
				w.(http.Flusher).Flush()
				conn, _, _ := w.(http.Hijacker).Hijack()
				conn.Close()
				return true
			}
			return false
		}
		copyAndCheck(t, testClient(), src, "app:v1", dst, "app:v1")
		if n := dst.count("DELETE "); n != 1 {
			t.Errorf("%d cancelled sessions, want 1 (the broken upload)", n)
		}
	})
}

func TestCredentialsStayWithTheRegistry(t *testing.T) {
	reg := newFakeRegistry(t)
	reg.seedImage("app", "v1")
	m, _ := testClient().GetManifest(context.Background(), reg.ref(t, "app:v1"))
	p, _ := m.parse()
	config, _ := reg.blob("app", p.Config.Digest)
	var storageAuth atomic.Value
	storage := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		storageAuth.Store(r.Header.Get("Authorization"))
		w.Write(config)
	}))
	defer storage.Close()
	reg.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != "Basic dXNlcjpwYXNz" {
			w.Header().Set("WWW-Authenticate", `Basic realm="fake"`)
			w.WriteHeader(http.StatusUnauthorized)
			return true
		}
		if strings.Contains(r.URL.Path, "/blobs/") {
			http.Redirect(w, r, storage.URL+"/bucket/blob?sig=x", http.StatusTemporaryRedirect)
			return true
		}
		return false
	}
	var logged strings.Builder
	var logMu sync.Mutex
	logger := func(_ context.Context, msg string, fields map[string]any) {
		logMu.Lock()
		defer logMu.Unlock()
		fmt.Fprintln(&logged, msg, fields)
	}
	c := testClient(WithCredentials(staticCredentials{"user", "pass"}), WithLogger(logger))
	rc, err := c.OpenBlob(context.Background(), reg.ref(t, "app"), p.Config)
	if err != nil {
		t.Fatalf("open a redirected blob: %v", err)
	}
	if _, err := io.ReadAll(rc); err != nil {
		t.Fatalf("read a redirected blob: %v", err)
	}
	rc.Close()
	if got := storageAuth.Load(); got != "" {
		t.Errorf("object storage received Authorization %q, want none", got)
	}
	if log := logged.String(); !strings.Contains(log, "/v2/app/blobs/") || strings.Contains(log, "pass") || strings.Contains(log, "dXNlcjpwYXNz") || strings.Contains(log, "sig=") {
		t.Errorf("the request log shows a secret or misses the request:\n%s", log)
	}
}

func TestTokenExpiryReauthenticatesOnce(t *testing.T) {
	var issued atomic.Int32
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := issued.Add(1)
		w.Write([]byte(`{"token":"t` + string(rune('0'+n)) + `","expires_in":300}`))
	}))
	defer tokens.Close()
	reg := newFakeRegistry(t)
	reg.seedImage("app", "v1", 100)
	var current atomic.Value
	current.Store("Bearer t1")
	reg.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != current.Load() {
			w.Header().Set("WWW-Authenticate", `Bearer realm="`+tokens.URL+`/token",service="fake",scope="repository:app:pull"`)
			fakeError(w, http.StatusUnauthorized, "UNAUTHORIZED")
			return true
		}
		return false
	}
	c := testClient()
	for i := range 3 {
		if _, err := c.HeadManifest(context.Background(), reg.ref(t, "app:v1")); err != nil {
			t.Fatalf("head %d: %v", i, err)
		}
	}
	// The registry revokes t1 (it expired early); the next request re-authenticates once.
	current.Store("Bearer t2")
	if _, err := c.HeadManifest(context.Background(), reg.ref(t, "app:v1")); err != nil {
		t.Fatalf("head after expiry: %v", err)
	}
	if n := issued.Load(); n != 2 {
		t.Errorf("%d tokens issued, want 2 (one per run, one after the expiry)", n)
	}
}

type staticCredentials struct{ user, pass string }

func (s staticCredentials) Credential(context.Context, string) (auth.Credential, error) {
	return auth.Credential{Username: s.user, Password: s.pass}, nil
}

func TestTLSVerification(t *testing.T) {
	reg := newFakeRegistry(t)
	reg.seedImage("app", "v1", 100)
	tlsServer := httptest.NewTLSServer(reg.server.Config.Handler)
	defer tlsServer.Close()
	host := strings.TrimPrefix(tlsServer.URL, "https://")
	ref, _ := ParseReference(host + "/app:v1")
	roots := x509.NewCertPool()
	roots.AddCert(tlsServer.Certificate())

	for _, tc := range []struct {
		name   string
		opts   []Option
		wantOK bool
	}{
		{"a loopback registry's certificate is still verified", nil, false},
		{"a certificate signed by a CA from ca_cert_* is accepted", []Option{WithRootCAs(roots)}, true},
		{"insecure_registries skips verification for that host", []Option{WithInsecureRegistries([]string{host})}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := testClient(append(tc.opts, WithMaxRetries(0))...).HeadManifest(context.Background(), ref)
			if ok := err == nil; ok != tc.wantOK {
				t.Errorf("err = %v, want success %v", err, tc.wantOK)
			}
		})
	}
}

func TestCredentialsNeverFollowAnUploadLocationElsewhere(t *testing.T) {
	storage := newFakeRegistry(t)
	var leaked atomic.Value
	storage.intercept = func(_ http.ResponseWriter, r *http.Request) bool {
		if a := r.Header.Get("Authorization"); a != "" {
			leaked.Store(r.Method + " " + a)
		}
		return false
	}
	reg := newFakeRegistry(t)
	reg.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("Authorization") != "Basic dXNlcjpwYXNz" {
			w.Header().Set("WWW-Authenticate", `Basic realm="fake"`)
			w.WriteHeader(http.StatusUnauthorized)
			return true
		}
		if r.Method == http.MethodPost {
			// The registry hands the upload to another host, as some registries do.
			resp, err := http.Post(storage.server.URL+"/v2/app/blobs/uploads/", "", nil)
			if err != nil {
				t.Error(err)
				return false
			}
			resp.Body.Close()
			w.Header().Set("Location", resp.Header.Get("Location"))
			w.WriteHeader(http.StatusAccepted)
			return true
		}
		return false
	}
	c := testClient(WithCredentials(staticCredentials{"user", "pass"}))
	u, err := c.startUpload(context.Background(), reg.ref(t, "app"))
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("layer bytes")
	desc := ocispec.Descriptor{Digest: digest.FromBytes(content), Size: int64(len(content))}
	if err := c.putMonolithic(context.Background(), u, desc, func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(content)), nil }); err != nil {
		t.Fatalf("upload to the other host: %v", err)
	}
	if got, ok := storage.blob("app", desc.Digest); !ok || !bytes.Equal(got, content) {
		t.Error("the blob did not arrive at the upload host")
	}
	if l := leaked.Load(); l != nil {
		t.Errorf("the upload host received credentials: %v", l)
	}
}

func TestMaxRetriesIsOneBudgetPerRequest(t *testing.T) {
	src, dst := newFakeRegistry(t), newFakeRegistry(t)
	src.seedImage("app", "v1") // one blob: the config
	dst.intercept = func(w http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPost {
			fakeError(w, http.StatusServiceUnavailable, "UNAVAILABLE")
			return true
		}
		return false
	}
	_, err := testClient(WithMaxRetries(3)).Copy(context.Background(), src.ref(t, "app:v1"), dst.ref(t, "app:v1"), CopyOptions{})
	if err == nil {
		t.Fatal("copy succeeded against a registry that refuses every upload")
	}
	if n := dst.count("POST "); n != 4 {
		t.Errorf("%d POSTs with max_retries 3, want 4: one attempt and three retries, not retries of retries", n)
	}
}

func TestInsecureRegistryOnPort80FallsBackToPlainHTTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.7:80")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.7:80 here: %v", err)
	}
	reg := newFakeRegistry(t)
	reg.seedImage("app", "v1", 100)
	srv := &http.Server{Handler: reg.server.Config.Handler}
	go srv.Serve(ln)
	defer srv.Close()
	ref, _ := ParseReference("127.0.0.7/app:v1")
	if _, err := testClient(WithInsecureRegistries([]string{"127.0.0.7"}), WithMaxRetries(0)).HeadManifest(context.Background(), ref); err != nil {
		t.Errorf("plain HTTP on :80 with nothing on :443: %v", err)
	}
}

func TestALostAnswerToTheClosingPutIsNotAFailure(t *testing.T) {
	for _, chunk := range []int64{DefaultChunkSize, 1000} {
		t.Run(fmt.Sprintf("chunk size %d", chunk), func(t *testing.T) {
			src, dst := newFakeRegistry(t), newFakeRegistry(t)
			_, layers := src.seedImage("app", "v1", 2500)
			var lost atomic.Bool
			dst.intercept = func(w http.ResponseWriter, r *http.Request) bool {
				if r.Method == http.MethodPut && r.URL.Query().Get("digest") == layers[0].Digest.String() && !lost.Swap(true) {
					// Store the blob, then drop the connection before answering.
					dst.serve(httptest.NewRecorder(), r)
					conn, _, _ := w.(http.Hijacker).Hijack()
					conn.Close()
					return true
				}
				return false
			}
			copyAndCheck(t, testClient(WithChunkSize(chunk)), src, "app:v1", dst, "app:v1")
			if n := dst.count("POST "); n != 2 {
				t.Errorf("%d upload sessions, want 2: the stored layer must not be sent again", n)
			}
		})
	}
}

// TestAnUploadTheRegistryStopsReadingIsCut: a registry that stops reading a PUT's body
// halfway leaves the client's writes blocked; the idle timeout drops the connection
// instead of waiting for ever, and the next attempt gets the blob there.
func TestAnUploadTheRegistryStopsReadingIsCut(t *testing.T) {
	src, dst := newFakeRegistry(t), newFakeRegistry(t)
	_, layers := src.seedImage("app", "v1", 16<<20) // far more than the socket buffers hold
	var stalled atomic.Bool
	release := make(chan struct{})
	t.Cleanup(func() { close(release) }) // before the server's own cleanup, which waits for this handler
	dst.intercept = func(_ http.ResponseWriter, r *http.Request) bool {
		if r.Method == http.MethodPut && r.URL.Query().Get("digest") == layers[0].Digest.String() && !stalled.Swap(true) {
			io.CopyN(io.Discard, r.Body, 1<<20)
			<-release // read no more: the server cannot tell that the client left
			return true
		}
		return false
	}
	started := time.Now()
	copyAndCheck(t, testClient(withTimeouts(300*time.Millisecond, time.Minute)), src, "app:v1", dst, "app:v1")
	if took := time.Since(started); took > 20*time.Second {
		t.Errorf("the copy took %s: the blocked upload was not cut by the idle timeout", took)
	}
	if !stalled.Load() {
		t.Error("the registry never stalled: the test did not test")
	}
}
