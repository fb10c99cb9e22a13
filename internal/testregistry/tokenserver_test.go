package testregistry

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
)

// serveToken runs one request through a token server built from opts,
// without a network.
func serveToken(t *testing.T, opts Options, req *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	opts, err := opts.withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	s, err := newSigner(tokenIssuer, tokenService)
	if err != nil {
		t.Fatal(err)
	}
	ts := &tokenServer{signer: s, opts: opts}
	rec := httptest.NewRecorder()
	if req.Method == http.MethodPost {
		ts.servePost(rec, req)
	} else {
		ts.serveGet(rec, req)
	}
	return rec
}

// grantsIn decodes the access claim of a token, trusting its signature.
func grantsIn(t *testing.T, token string) []access {
	t.Helper()
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		t.Fatalf("token %q is not a compact JWS", token)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c claims
	if err := json.Unmarshal(payload, &c); err != nil {
		t.Fatal(err)
	}
	return c.Access
}

func TestTokenServerAnswers(t *testing.T) {
	get := func(service string, basic bool, scopes ...string) *http.Request {
		q := url.Values{"service": {service}, "scope": scopes}
		req := httptest.NewRequest(http.MethodGet, "/token?"+q.Encode(), nil)
		if basic {
			req.SetBasicAuth("tester", "secret-pass")
		}
		return req
	}
	post := func(grantType string) *http.Request {
		form := url.Values{"grant_type": {grantType}, "refresh_token": {"r"}, "service": {tokenService}}
		req := httptest.NewRequest(http.MethodPost, "/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req
	}
	tests := []struct {
		name       string
		opts       Options
		req        func() *http.Request
		wantStatus int
		wantFields []string
		wantGrants []access
	}{
		{
			name:       "TokenField both puts the token in token and access_token",
			opts:       Options{Auth: AuthToken, TokenField: "both", TokenExpiresIn: 60},
			req:        func() *http.Request { return get(tokenService, true, "repository:a:pull") },
			wantStatus: http.StatusOK,
			wantFields: []string{"access_token", "expires_in", "issued_at", "token"},
			wantGrants: []access{{Type: "repository", Name: "a", Actions: []string{"pull"}}},
		},
		{
			name: "repeated and space-separated scopes are all granted",
			opts: Options{Auth: AuthToken},
			req: func() *http.Request {
				return get(tokenService, true, "repository:a:pull,push repository:b:pull", "registry:catalog:*")
			},
			wantStatus: http.StatusOK,
			wantFields: []string{"issued_at", "token"},
			wantGrants: []access{
				{Type: "repository", Name: "a", Actions: []string{"pull", "push"}},
				{Type: "repository", Name: "b", Actions: []string{"pull"}},
				{Type: "registry", Name: "catalog", Actions: []string{"*"}},
			},
		},
		{
			name:       "an anonymous request gets pull and nothing more",
			opts:       Options{Auth: AuthToken, AllowAnonymousPull: true},
			req:        func() *http.Request { return get(tokenService, false, "repository:a:push,pull,delete") },
			wantStatus: http.StatusOK,
			wantFields: []string{"issued_at", "token"},
			wantGrants: []access{{Type: "repository", Name: "a", Actions: []string{"pull"}}},
		},
		{
			name:       "another service is refused",
			opts:       Options{Auth: AuthToken},
			req:        func() *http.Request { return get("elsewhere", true, "repository:a:pull") },
			wantStatus: http.StatusBadRequest,
		},
		{
			name:       "a POST without refresh tokens configured is 404 so clients fall back to GET",
			opts:       Options{Auth: AuthToken},
			req:        func() *http.Request { return post("refresh_token") },
			wantStatus: http.StatusNotFound,
		},
		{
			name:       "a POST with a password grant is refused",
			opts:       Options{Auth: AuthToken, RefreshToken: "r"},
			req:        func() *http.Request { return post("password") },
			wantStatus: http.StatusBadRequest,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := serveToken(t, tt.opts, tt.req())
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.wantStatus, rec.Body)
			}
			if tt.wantStatus != http.StatusOK {
				return
			}
			var answer map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &answer); err != nil {
				t.Fatal(err)
			}
			var fields []string
			for _, f := range []string{"access_token", "expires_in", "issued_at", "token"} {
				if _, ok := answer[f]; ok {
					fields = append(fields, f)
				}
			}
			if !reflect.DeepEqual(fields, tt.wantFields) {
				t.Errorf("answer fields %v, want %v", fields, tt.wantFields)
			}
			token, _ := answer["token"].(string)
			if got := grantsIn(t, token); !reflect.DeepEqual(got, tt.wantGrants) {
				t.Errorf("grants %+v, want %+v", got, tt.wantGrants)
			}
		})
	}
}
