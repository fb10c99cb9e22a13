package registryclient

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// fakeRegistry is an in-memory Distribution API server whose quirks a test switches on:
// the protocol corners a real registry will not produce on demand (a refused mount, a
// 416, ECR's 201 on PATCH, a dropped connection halfway through a body).
type fakeRegistry struct {
	t      *testing.T
	server *httptest.Server

	// Quirks.
	refuseMount      bool  // answer 202 with a session to ?mount=
	patchCreated     bool  // answer 201 to PATCH, as ECR does
	relativeLocation bool  // Location headers without scheme and host
	chunkMinLength   int64 // OCI-Chunk-Min-Length on POST
	// intercept, when set, sees every request first; returning true means it answered.
	intercept func(w http.ResponseWriter, r *http.Request) bool

	mu        sync.Mutex
	blobs     map[string][]byte // digest → content, registry-wide
	repoBlobs map[string]bool   // repo + "@" + digest
	manifests map[string]fakeManifest
	uploads   map[string]*fakeUpload
	nextID    int
	requests  []string // "METHOD /path?query"
}

type fakeManifest struct {
	mediaType string
	body      []byte
}

type fakeUpload struct {
	repo   string
	data   bytes.Buffer
	state  int     // the _state the next request must carry: stale Locations are refused
	chunks []int64 // sizes of the PATCHes, to check OCI-Chunk-Min-Length
}

func newFakeRegistry(t *testing.T) *fakeRegistry {
	f := &fakeRegistry{
		t: t, blobs: map[string][]byte{}, repoBlobs: map[string]bool{},
		manifests: map[string]fakeManifest{}, uploads: map[string]*fakeUpload{},
	}
	f.server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.server.Close)
	return f
}

// host is the registry's host:port, a loopback address, so plain HTTP is allowed.
func (f *fakeRegistry) host() string { return strings.TrimPrefix(f.server.URL, "http://") }

func (f *fakeRegistry) ref(t *testing.T, s string) Reference {
	t.Helper()
	ref, err := ParseReference(f.host() + "/" + s)
	if err != nil {
		t.Fatal(err)
	}
	return ref
}

func (f *fakeRegistry) log() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.requests...)
}

// count counts logged requests that start with prefix ("POST /v2/dst/blobs/uploads/").
func (f *fakeRegistry) count(prefix string) int {
	n := 0
	for _, r := range f.log() {
		if strings.HasPrefix(r, prefix) {
			n++
		}
	}
	return n
}

func (f *fakeRegistry) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.requests = append(f.requests, r.Method+" "+r.URL.RequestURI())
	f.mu.Unlock()
	if f.intercept != nil && f.intercept(w, r) {
		return
	}
	path := r.URL.Path
	switch {
	case path == "/v2/":
		w.WriteHeader(http.StatusOK)
	case strings.Contains(path, "/blobs/uploads/"):
		repo, id, _ := strings.Cut(strings.TrimPrefix(path, "/v2/"), "/blobs/uploads/")
		f.serveUpload(w, r, repo, id)
	case strings.Contains(path, "/blobs/"):
		repo, d, _ := strings.Cut(strings.TrimPrefix(path, "/v2/"), "/blobs/")
		f.serveBlob(w, r, repo, d)
	case strings.Contains(path, "/manifests/"):
		repo, ref, _ := strings.Cut(strings.TrimPrefix(path, "/v2/"), "/manifests/")
		f.serveManifest(w, r, repo, ref)
	default:
		fakeError(w, http.StatusNotFound, "NAME_UNKNOWN")
	}
}

func fakeError(w http.ResponseWriter, status int, code string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"errors":[{"code":%q,"message":%q}]}`, code, strings.ToLower(strings.ReplaceAll(code, "_", " ")))
}

func (f *fakeRegistry) serveBlob(w http.ResponseWriter, r *http.Request, repo, d string) {
	f.mu.Lock()
	content, ok := f.blobs[d]
	ok = ok && f.repoBlobs[repo+"@"+d]
	f.mu.Unlock()
	if !ok {
		fakeError(w, http.StatusNotFound, "BLOB_UNKNOWN")
		return
	}
	w.Header().Set("Docker-Content-Digest", d)
	status := http.StatusOK
	if rng := r.Header.Get("Range"); rng != "" {
		from, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(rng, "bytes="), "-"))
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, len(content)-1, len(content)))
		content = content[from:]
		status = http.StatusPartialContent
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(content)))
	w.WriteHeader(status)
	if r.Method == http.MethodGet {
		w.Write(content)
	}
}

func (f *fakeRegistry) serveUpload(w http.ResponseWriter, r *http.Request, repo, id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if r.Method == http.MethodPost {
		if from, d := r.URL.Query().Get("from"), r.URL.Query().Get("mount"); d != "" && !f.refuseMount && f.repoBlobs[from+"@"+d] {
			f.repoBlobs[repo+"@"+d] = true
			w.Header().Set("Location", "/v2/"+repo+"/blobs/"+d)
			w.WriteHeader(http.StatusCreated)
			return
		}
		f.nextID++
		id = strconv.Itoa(f.nextID)
		f.uploads[id] = &fakeUpload{repo: repo}
		if f.chunkMinLength > 0 {
			w.Header().Set("OCI-Chunk-Min-Length", strconv.FormatInt(f.chunkMinLength, 10))
		}
		f.answerUpload(w, id, http.StatusAccepted)
		return
	}
	u, ok := f.uploads[id]
	if !ok || u.repo != repo {
		fakeError(w, http.StatusNotFound, "BLOB_UPLOAD_UNKNOWN")
		return
	}
	if r.URL.Query().Get("_state") != strconv.Itoa(u.state) {
		fakeError(w, http.StatusBadRequest, "BLOB_UPLOAD_INVALID") // a stale Location
		return
	}
	switch r.Method {
	case http.MethodGet:
		f.answerUpload(w, id, http.StatusNoContent)
	case http.MethodDelete:
		delete(f.uploads, id)
		w.WriteHeader(http.StatusNoContent)
	case http.MethodPatch:
		start, _, _ := strings.Cut(r.Header.Get("Content-Range"), "-")
		if s, err := strconv.Atoi(start); err != nil || s != u.data.Len() {
			fakeError(w, http.StatusRequestedRangeNotSatisfiable, "RANGE_INVALID")
			return
		}
		n, err := io.Copy(&u.data, r.Body)
		u.chunks = append(u.chunks, n)
		if err != nil {
			return
		}
		status := http.StatusAccepted
		if f.patchCreated {
			status = http.StatusCreated
		}
		f.answerUpload(w, id, status)
	case http.MethodPut:
		io.Copy(&u.data, r.Body)
		d := r.URL.Query().Get("digest")
		if digest.FromBytes(u.data.Bytes()).String() != d {
			fakeError(w, http.StatusBadRequest, "DIGEST_INVALID")
			return
		}
		for i, n := range u.chunks {
			if i < len(u.chunks)-1 && n < f.chunkMinLength {
				fakeError(w, http.StatusBadRequest, "SIZE_INVALID")
				return
			}
		}
		f.blobs[d] = append([]byte(nil), u.data.Bytes()...)
		f.repoBlobs[repo+"@"+d] = true
		delete(f.uploads, id)
		w.Header().Set("Docker-Content-Digest", d)
		w.WriteHeader(http.StatusCreated)
	}
}

// answerUpload points the client at the session's next state, as distribution's _state does.
func (f *fakeRegistry) answerUpload(w http.ResponseWriter, id string, status int) {
	u := f.uploads[id]
	u.state++
	loc := fmt.Sprintf("/v2/%s/blobs/uploads/%s?_state=%d", u.repo, id, u.state)
	if !f.relativeLocation {
		loc = f.server.URL + loc
	}
	w.Header().Set("Location", loc)
	end := u.data.Len() - 1
	w.Header().Set("Range", fmt.Sprintf("0-%d", max(end, 0)))
	w.WriteHeader(status)
}

func (f *fakeRegistry) serveManifest(w http.ResponseWriter, r *http.Request, repo, ref string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.Method {
	case http.MethodHead, http.MethodGet:
		m, ok := f.manifests[repo+"@"+ref]
		if !ok {
			fakeError(w, http.StatusNotFound, "MANIFEST_UNKNOWN")
			return
		}
		w.Header().Set("Content-Type", m.mediaType)
		w.Header().Set("Docker-Content-Digest", digest.FromBytes(m.body).String())
		w.Header().Set("Content-Length", strconv.Itoa(len(m.body)))
		if r.Method == http.MethodGet {
			w.Write(m.body)
		}
	case http.MethodPut:
		body, _ := io.ReadAll(r.Body)
		var p parsed
		json.Unmarshal(body, &p)
		for _, b := range append([]ocispec.Descriptor{p.Config}, p.Layers...) {
			if b.Digest != "" && !nondistributable(b.MediaType) && !f.repoBlobs[repo+"@"+b.Digest.String()] {
				fakeError(w, http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN")
				return
			}
		}
		for _, c := range p.Manifests {
			if _, ok := f.manifests[repo+"@"+c.Digest.String()]; !ok {
				fakeError(w, http.StatusBadRequest, "MANIFEST_BLOB_UNKNOWN")
				return
			}
		}
		d := digest.FromBytes(body).String()
		m := fakeManifest{mediaType: r.Header.Get("Content-Type"), body: body}
		f.manifests[repo+"@"+ref] = m
		f.manifests[repo+"@"+d] = m
		w.Header().Set("Docker-Content-Digest", d)
		w.WriteHeader(http.StatusCreated)
	}
}

// seedImage stores a single-platform OCI image with layers of the given sizes and returns
// its manifest digest and layer descriptors.
func (f *fakeRegistry) seedImage(repo, tag string, layerSizes ...int) (digest.Digest, []ocispec.Descriptor) {
	f.mu.Lock()
	defer f.mu.Unlock()
	put := func(mediaType string, content []byte) ocispec.Descriptor {
		d := digest.FromBytes(content)
		f.blobs[d.String()] = content
		f.repoBlobs[repo+"@"+d.String()] = true
		return ocispec.Descriptor{MediaType: mediaType, Digest: d, Size: int64(len(content))}
	}
	config := put(ocispec.MediaTypeImageConfig, []byte(`{"architecture":"amd64","os":"linux","rootfs":{"type":"layers"}}`))
	var layers []ocispec.Descriptor
	for i, n := range layerSizes {
		content := bytes.Repeat([]byte{byte('a' + i)}, n)
		copy(content, repo+tag) // different images, different layers
		layers = append(layers, put(ocispec.MediaTypeImageLayerGzip, content))
	}
	body, _ := json.Marshal(ocispec.Manifest{MediaType: ocispec.MediaTypeImageManifest, Config: config, Layers: layers})
	body = append([]byte(`{"schemaVersion":2,`), body[1:]...)
	d := digest.FromBytes(body)
	m := fakeManifest{mediaType: ocispec.MediaTypeImageManifest, body: body}
	f.manifests[repo+"@"+tag] = m
	f.manifests[repo+"@"+d.String()] = m
	return d, layers
}

// seedManifest stores raw manifest bytes under repo:tag.
func (f *fakeRegistry) seedManifest(repo, tag, mediaType string, body []byte) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := fakeManifest{mediaType: mediaType, body: body}
	f.manifests[repo+"@"+tag] = m
	f.manifests[repo+"@"+digest.FromBytes(body).String()] = m
}

// blob returns what the registry holds for d in repo.
func (f *fakeRegistry) blob(repo string, d digest.Digest) ([]byte, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	b, ok := f.blobs[d.String()]
	return b, ok && f.repoBlobs[repo+"@"+d.String()]
}

func (f *fakeRegistry) hasManifest(repo, ref string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.manifests[repo+"@"+ref]
	return ok
}
