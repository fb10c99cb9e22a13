package registryclient_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/imagesync/terraform-provider-imagesync/internal/testregistry"
	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// The integration tests run the client against real CNCF distribution registries
// started by internal/testregistry, which also judges the outcome: it reads what a
// copy stored with its own plain HTTP client. This file holds what they share.

// isolateDockerConfig points the client at an empty docker config directory, so a
// developer's `docker login` can neither help nor break a test, and returns it.
func isolateDockerConfig(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	t.Setenv("DOCKER_AUTH_CONFIG", "")
	return dir
}

// dockerConfig is the part of a docker config.json the tests write.
type dockerConfig struct {
	Auths       map[string]dockerAuth `json:"auths,omitempty"`
	CredsStore  string                `json:"credsStore,omitempty"`
	CredHelpers map[string]string     `json:"credHelpers,omitempty"`
}

// dockerAuth is one "auths" entry as `docker login` writes it.
type dockerAuth struct {
	Auth          string `json:"auth,omitempty"`
	Username      string `json:"username,omitempty"`
	IdentityToken string `json:"identitytoken,omitempty"`
}

// basicAuth is the base64 "auth" field docker login stores for a password login.
func basicAuth(username, password string) dockerAuth {
	return dockerAuth{Auth: base64.StdEncoding.EncodeToString([]byte(username + ":" + password))}
}

// writeDockerConfig writes cfg as dir/config.json and returns its path.
func writeDockerConfig(t *testing.T, dir string, cfg dockerConfig) string {
	t.Helper()
	data, err := json.Marshal(cfg)
	if err != nil {
		t.Fatalf("encode docker config: %v", err)
	}
	path := filepath.Join(dir, "config.json")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatalf("write docker config: %v", err)
	}
	return path
}

// parseRef parses an image reference the test built itself.
func parseRef(t *testing.T, s string) registryclient.Reference {
	t.Helper()
	ref, err := registryclient.ParseReference(s)
	if err != nil {
		t.Fatalf("parse reference %q: %v", s, err)
	}
	return ref
}

// pushImage seeds reg with a generated image at repo:tag.
func pushImage(t *testing.T, reg *testregistry.Registry, repo, tag string, spec testregistry.ImageSpec) testregistry.Pushed {
	t.Helper()
	pushed, err := reg.Push(t.Context(), repo, tag, spec)
	if err != nil {
		t.Fatalf("seed %s/%s:%s: %v", reg.Host, repo, tag, err)
	}
	return pushed
}

// assertStored checks, with the registry's own client, that repo:ref on reg is the
// manifest with digest want.
func assertStored(t *testing.T, reg *testregistry.Registry, repo, ref, want string) {
	t.Helper()
	got, err := reg.ManifestDigest(t.Context(), repo, ref)
	if err != nil {
		t.Fatalf("read back %s/%s:%s: %v", reg.Host, repo, ref, err)
	}
	if got != want {
		t.Errorf("%s/%s:%s is %s, want the source's %s", reg.Host, repo, ref, got, want)
	}
}

// copyImage copies src to dst with client and fails the test if that fails.
func copyImage(t *testing.T, client *registryclient.Client, src, dst string) registryclient.CopyResult {
	t.Helper()
	res, err := client.Copy(t.Context(), parseRef(t, src), parseRef(t, dst), registryclient.CopyOptions{})
	if err != nil {
		t.Fatalf("copy %s to %s: %v", src, dst, err)
	}
	return res
}

// recordedRequest is what the recording proxy saw of one request.
type recordedRequest struct {
	Method        string
	Path          string
	Query         url.Values
	ContentLength int64
}

func (r recordedRequest) String() string {
	s := r.Method + " " + r.Path
	if len(r.Query) > 0 {
		s += "?" + r.Query.Encode()
	}
	return s
}

// isUpload reports whether r is part of a blob upload session (POST, PATCH, PUT).
func (r recordedRequest) isUpload() bool {
	return strings.Contains(r.Path, "/blobs/uploads/") && r.Method != http.MethodGet && r.Method != http.MethodHead
}

// isWrite reports whether r changes what the registry stores.
func (r recordedRequest) isWrite() bool {
	switch r.Method {
	case http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
		return true
	}
	return false
}

// recordingProxy is a reverse proxy on loopback in front of a registry that logs
// every request the client makes, so a test can count what an operation costs.
type recordingProxy struct {
	// Host is the proxy's "127.0.0.1:PORT": use it in references instead of the
	// registry's own host.
	Host string

	mu  sync.Mutex
	log []recordedRequest
}

// startRecordingProxy puts a recording proxy in front of the registry at target.
// The Host header passes through unchanged, so the registry's upload Locations
// point back at the proxy.
func startRecordingProxy(t *testing.T, target string) *recordingProxy {
	t.Helper()
	p := &recordingProxy{}
	forward := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: "http", Host: target})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.log = append(p.log, recordedRequest{
			Method:        r.Method,
			Path:          r.URL.Path,
			Query:         r.URL.Query(),
			ContentLength: r.ContentLength,
		})
		p.mu.Unlock()
		forward.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	p.Host = srv.Listener.Addr().String()
	return p
}

// take returns the requests seen since the last take and forgets them.
func (p *recordingProxy) take() []recordedRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	log := p.log
	p.log = nil
	return log
}

// describe lists requests one per line for a failure message.
func describe(requests []recordedRequest) string {
	lines := make([]string, 0, len(requests))
	for _, r := range requests {
		lines = append(lines, "  "+r.String())
	}
	return strings.Join(lines, "\n")
}
