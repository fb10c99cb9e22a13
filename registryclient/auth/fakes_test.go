package auth

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"
)

// staticCreds is a CredentialSource with a fixed answer per host.
type staticCreds map[string]Credential

func (s staticCreds) Credential(_ context.Context, host string) (Credential, error) {
	return s[host], nil
}

// tokenRequestRecord is what a fake token endpoint saw.
type tokenRequestRecord struct {
	method             string
	query, form        url.Values
	username, password string
	hasBasic           bool
}

// tokenEndpoint is a fake token endpoint that records every request and answers with
// answer.
type tokenEndpoint struct {
	*httptest.Server
	mu       sync.Mutex
	requests []tokenRequestRecord
}

func newTokenEndpoint(t *testing.T, answer http.HandlerFunc) *tokenEndpoint {
	t.Helper()
	te := &tokenEndpoint{}
	te.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil {
			t.Errorf("parse token request: %v", err)
		}
		rec := tokenRequestRecord{method: r.Method, query: r.URL.Query(), form: r.PostForm}
		rec.username, rec.password, rec.hasBasic = r.BasicAuth()
		te.mu.Lock()
		te.requests = append(te.requests, rec)
		te.mu.Unlock()
		answer(w, r)
	}))
	t.Cleanup(te.Close)
	return te
}

func (te *tokenEndpoint) recorded() []tokenRequestRecord {
	te.mu.Lock()
	defer te.mu.Unlock()
	return append([]tokenRequestRecord(nil), te.requests...)
}

// answerJSON answers every token request with body.
func answerJSON(body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(body))
	}
}

// unauthorized builds the 401 a registry answers to req with a bearer challenge.
func unauthorized(req *http.Request, challenge string) *http.Response {
	h := http.Header{}
	if challenge != "" {
		h.Set("WWW-Authenticate", challenge)
	}
	return &http.Response{StatusCode: http.StatusUnauthorized, Header: h, Request: req}
}

// fakeClock is a clock tests move by hand.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Set(now time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = now
}

func newRequest(t *testing.T, rawURL string) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, rawURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	return req
}
