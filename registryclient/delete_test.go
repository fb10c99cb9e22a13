package registryclient

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// manifestOnlyRegistry deletes manifests but not tags (405 UNSUPPORTED), as many
// registries do: RemoveTag must then look at the other tags before deleting anything.
type manifestOnlyRegistry struct {
	tags map[string]string // tag → digest
	mu   sync.Mutex
	gone []string // what was deleted
}

func (m *manifestOnlyRegistry) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.mu.Lock()
	defer m.mu.Unlock()
	switch {
	case r.URL.Path == "/v2/app/tags/list":
		names := []string{}
		for t := range m.tags {
			names = append(names, `"`+t+`"`)
		}
		w.Write([]byte(`{"name":"app","tags":[` + strings.Join(names, ",") + `]}`))
	case strings.HasPrefix(r.URL.Path, "/v2/app/manifests/"):
		id := strings.TrimPrefix(r.URL.Path, "/v2/app/manifests/")
		d, isTag := m.tags[id]
		if strings.HasPrefix(id, "sha256:") {
			d = id
		}
		switch {
		case r.Method == http.MethodDelete && isTag:
			w.WriteHeader(http.StatusMethodNotAllowed)
			w.Write([]byte(`{"errors":[{"code":"UNSUPPORTED","message":"tag deletion"}]}`))
		case r.Method == http.MethodDelete:
			m.gone = append(m.gone, id)
			w.WriteHeader(http.StatusAccepted)
		case d == "":
			w.WriteHeader(http.StatusNotFound)
		default:
			w.Header().Set("Docker-Content-Digest", d)
			w.Header().Set("Content-Type", MediaTypeDockerManifest)
		}
	default:
		w.WriteHeader(http.StatusNotFound)
	}
}

func TestRemoveTagOnARegistryThatDeletesOnlyManifests(t *testing.T) {
	const d1 = "sha256:1111111111111111111111111111111111111111111111111111111111111111"
	const d2 = "sha256:2222222222222222222222222222222222222222222222222222222222222222"
	for _, tc := range []struct {
		name     string
		tags     map[string]string
		wantErr  error
		wantGone []string
	}{
		{"an image only this tag names is deleted by digest", map[string]string{"v1": d1, "other": d2}, nil, []string{d1}},
		{"an image another tag names is kept", map[string]string{"v1": d1, "keep": d1}, ErrTagShared, nil},
		{"a tag already gone is success", map[string]string{"other": d2}, nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			reg := &manifestOnlyRegistry{tags: tc.tags}
			srv := httptest.NewServer(reg)
			defer srv.Close()
			ref, err := ParseReference(strings.TrimPrefix(srv.URL, "http://") + "/app:v1")
			if err != nil {
				t.Fatal(err)
			}
			err = New(WithMaxRetries(0)).RemoveTag(t.Context(), ref)
			if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Fatalf("RemoveTag: %v, want %v", err, tc.wantErr)
			}
			if strings.Join(reg.gone, " ") != strings.Join(tc.wantGone, " ") {
				t.Errorf("deleted %v, want %v", reg.gone, tc.wantGone)
			}
		})
	}
}
