package auth

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"sync/atomic"
	"testing"
	"time"
)

const registryHost = "reg.example"

var twoScopes = []Scope{
	{Repository: "team/app", Actions: []string{"pull"}},
	{Repository: "base/img", Actions: []string{"pull"}},
}

func bearerChallenge(realmServer string) string {
	return `Bearer realm="` + realmServer + `/token",service="reg.example"`
}

func TestTokenFlows(t *testing.T) {
	tests := []struct {
		name         string
		cred         Credential
		answer       string
		wantAuth     string
		wantRequests int
		check        func(t *testing.T, got tokenRequestRecord)
	}{
		{
			name:         "basic credentials go to the realm in a GET with one scope parameter per scope",
			cred:         Credential{Username: "alice", Password: "s3cret"},
			answer:       `{"token":"tok-basic"}`,
			wantAuth:     "Bearer tok-basic",
			wantRequests: 1,
			check: func(t *testing.T, got tokenRequestRecord) {
				if got.method != http.MethodGet || !got.hasBasic || got.username != "alice" || got.password != "s3cret" {
					t.Errorf("token request = %s with basic %v %q, want GET with alice's basic credentials", got.method, got.hasBasic, got.username)
				}
				want := url.Values{"service": {"reg.example"}, "scope": {"repository:base/img:pull", "repository:team/app:pull"}}
				if !reflect.DeepEqual(got.query, want) {
					t.Errorf("token query = %v, want %v", got.query, want)
				}
			},
		},
		{
			name:         "anonymous access asks for a token without credentials",
			answer:       `{"token":"tok-anon"}`,
			wantAuth:     "Bearer tok-anon",
			wantRequests: 1,
			check: func(t *testing.T, got tokenRequestRecord) {
				if got.method != http.MethodGet || got.hasBasic {
					t.Errorf("token request = %s with basic %v, want an anonymous GET", got.method, got.hasBasic)
				}
			},
		},
		{
			name:         "an answer with only access_token is accepted",
			cred:         Credential{Username: "alice", Password: "s3cret"},
			answer:       `{"access_token":"tok-access","expires_in":300}`,
			wantAuth:     "Bearer tok-access",
			wantRequests: 1,
		},
		{
			name:         "an identity token is exchanged with a refresh_token POST",
			cred:         Credential{Username: "<token>", IdentityToken: "id-token"},
			answer:       `{"access_token":"tok-refreshed","expires_in":300}`,
			wantAuth:     "Bearer tok-refreshed",
			wantRequests: 1,
			check: func(t *testing.T, got tokenRequestRecord) {
				if got.method != http.MethodPost || got.hasBasic {
					t.Errorf("token request = %s with basic %v, want a POST without basic credentials", got.method, got.hasBasic)
				}
				want := url.Values{
					"grant_type":    {"refresh_token"},
					"refresh_token": {"id-token"},
					"service":       {"reg.example"},
					"scope":         {"repository:base/img:pull repository:team/app:pull"},
					"client_id":     {"imagesync"},
				}
				if !reflect.DeepEqual(got.form, want) {
					t.Errorf("token form = %v, want %v", got.form, want)
				}
			},
		},
		{
			name:         "a registry token is sent as the bearer token without asking the token endpoint",
			cred:         Credential{RegistryToken: "reg-token"},
			wantAuth:     "Bearer reg-token",
			wantRequests: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTokenEndpoint(t, answerJSON(tt.answer))
			a := New(te.Client(), staticCreds{registryHost: tt.cred})
			ctx := t.Context()

			first := newRequest(t, "https://reg.example/v2/team/app/manifests/latest")
			if err := a.Authorize(ctx, first, registryHost, twoScopes); err != nil {
				t.Fatal(err)
			}
			if got := first.Header.Get("Authorization"); got != "" {
				t.Fatalf("first request to an unknown registry carries Authorization %q, want none", got)
			}
			if err := a.Challenge(ctx, registryHost, twoScopes, unauthorized(first, bearerChallenge(te.URL))); err != nil {
				t.Fatal(err)
			}
			retry := newRequest(t, "https://reg.example/v2/team/app/manifests/latest")
			if err := a.Authorize(ctx, retry, registryHost, twoScopes); err != nil {
				t.Fatal(err)
			}
			if got := retry.Header.Get("Authorization"); got != tt.wantAuth {
				t.Errorf("retry Authorization = %q, want %q", got, tt.wantAuth)
			}
			got := te.recorded()
			if len(got) != tt.wantRequests {
				t.Fatalf("token requests = %d, want %d", len(got), tt.wantRequests)
			}
			if tt.check != nil {
				tt.check(t, got[0])
			}
		})
	}
}

func TestTokenExpiry(t *testing.T) {
	start := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name        string
		answerExtra string // JSON fields besides the token
		stillValid  time.Duration
		refetched   time.Duration
	}{
		{
			name:        "a token is reused until expires_in runs out, then fetched again",
			answerExtra: `"expires_in":120`,
			stillValid:  110 * time.Second,
			refetched:   116 * time.Second,
		},
		{
			name:       "a token without expires_in lives 60 seconds",
			stillValid: 50 * time.Second,
			refetched:  56 * time.Second,
		},
		{
			name:        "a token issued before we asked counts its life from issued_at",
			answerExtra: `"expires_in":120,"issued_at":"` + start.Add(-100*time.Second).Format(time.RFC3339) + `"`,
			stillValid:  10 * time.Second,
			refetched:   16 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n atomic.Int32
			te := newTokenEndpoint(t, func(w http.ResponseWriter, _ *http.Request) {
				extra := tt.answerExtra
				if extra != "" {
					extra = "," + extra
				}
				fmt.Fprintf(w, `{"token":"t%d"%s}`, n.Add(1), extra)
			})
			clock := &fakeClock{now: start}
			a := New(te.Client(), staticCreds{})
			a.now = clock.Now
			ctx := t.Context()

			first := newRequest(t, "https://reg.example/v2/")
			if err := a.Challenge(ctx, registryHost, twoScopes, unauthorized(first, bearerChallenge(te.URL))); err != nil {
				t.Fatal(err)
			}
			authorizeAt := func(d time.Duration) string {
				clock.Set(start.Add(d))
				req := newRequest(t, "https://reg.example/v2/")
				if err := a.Authorize(ctx, req, registryHost, twoScopes); err != nil {
					t.Fatal(err)
				}
				return req.Header.Get("Authorization")
			}
			if got := authorizeAt(tt.stillValid); got != "Bearer t1" {
				t.Errorf("after %v Authorization = %q, want the first token still", tt.stillValid, got)
			}
			if got := authorizeAt(tt.refetched); got != "Bearer t2" {
				t.Errorf("after %v Authorization = %q, want a fresh token", tt.refetched, got)
			}
		})
	}
}

func TestTokenScopes(t *testing.T) {
	tests := []struct {
		name      string
		requested []Scope
		challenge string // appended to the bearer challenge
		later     []Scope
		wantScope []string
	}{
		{
			name:      "the scope a registry names in its challenge is added to the token request and kept for later requests",
			requested: []Scope{{Repository: "team/app", Actions: []string{"pull"}}},
			challenge: `,scope="repository:team/app:pull,push"`,
			later:     []Scope{{Repository: "team/app", Actions: []string{"pull"}}},
			wantScope: []string{"repository:team/app:pull,push"},
		},
		{
			name:      "scopes listed in another order share one token",
			requested: []Scope{{Repository: "base/img", Actions: []string{"pull"}}, {Repository: "team/app", Actions: []string{"pull", "push"}}},
			later:     []Scope{{Repository: "team/app", Actions: []string{"push", "pull"}}, {Repository: "base/img", Actions: []string{"pull"}}},
			wantScope: []string{"repository:base/img:pull", "repository:team/app:pull,push"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTokenEndpoint(t, answerJSON(`{"token":"tok"}`))
			a := New(te.Client(), staticCreds{})
			ctx := t.Context()
			req := newRequest(t, "https://reg.example/v2/")
			if err := a.Challenge(ctx, registryHost, tt.requested, unauthorized(req, bearerChallenge(te.URL)+tt.challenge)); err != nil {
				t.Fatal(err)
			}
			later := newRequest(t, "https://reg.example/v2/")
			if err := a.Authorize(ctx, later, registryHost, tt.later); err != nil {
				t.Fatal(err)
			}
			if got := later.Header.Get("Authorization"); got != "Bearer tok" {
				t.Errorf("later Authorization = %q, want the token", got)
			}
			got := te.recorded()
			if len(got) != 1 {
				t.Fatalf("token requests = %d, want 1", len(got))
			}
			if !reflect.DeepEqual(got[0].query["scope"], tt.wantScope) {
				t.Errorf("token scope = %v, want %v", got[0].query["scope"], tt.wantScope)
			}
		})
	}
}

func TestTokenRedirects(t *testing.T) {
	tests := []struct {
		name string
		cred Credential
	}{
		{name: "basic credentials are not carried to another host the realm redirects to", cred: Credential{Username: "alice", Password: "s3cret"}},
		{name: "an identity token is not posted to another host the realm redirects to", cred: Credential{IdentityToken: "id-token"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var elsewhereHits atomic.Int32
			elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				elsewhereHits.Add(1)
				_, _ = w.Write([]byte(`{"token":"stolen"}`))
			}))
			t.Cleanup(elsewhere.Close)
			te := newTokenEndpoint(t, func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, elsewhere.URL+"/token", http.StatusTemporaryRedirect)
			})
			a := New(te.Client(), staticCreds{registryHost: tt.cred})

			req := newRequest(t, "https://reg.example/v2/")
			if err := a.Challenge(t.Context(), registryHost, twoScopes, unauthorized(req, bearerChallenge(te.URL))); err == nil {
				t.Error("Challenge succeeded through a cross-host redirect, want an error")
			}
			if n := elsewhereHits.Load(); n != 0 {
				t.Errorf("the other host got %d requests, want 0", n)
			}
		})
	}
}

func TestRejectedToken(t *testing.T) {
	t.Run("two requests rejected with the same token cost one new token request", func(t *testing.T) {
		var n atomic.Int32
		te := newTokenEndpoint(t, func(w http.ResponseWriter, _ *http.Request) {
			fmt.Fprintf(w, `{"token":"t%d","expires_in":300}`, n.Add(1))
		})
		a := New(te.Client(), staticCreds{})
		ctx := t.Context()
		challenge := bearerChallenge(te.URL)
		if err := a.Challenge(ctx, registryHost, twoScopes, unauthorized(newRequest(t, "https://reg.example/v2/"), challenge)); err != nil {
			t.Fatal(err)
		}
		var rejected []*http.Request
		for range 2 {
			req := newRequest(t, "https://reg.example/v2/")
			if err := a.Authorize(ctx, req, registryHost, twoScopes); err != nil {
				t.Fatal(err)
			}
			rejected = append(rejected, req)
		}
		for _, req := range rejected {
			if err := a.Challenge(ctx, registryHost, twoScopes, unauthorized(req, challenge)); err != nil {
				t.Fatal(err)
			}
		}
		retry := newRequest(t, "https://reg.example/v2/")
		if err := a.Authorize(ctx, retry, registryHost, twoScopes); err != nil {
			t.Fatal(err)
		}
		if got := retry.Header.Get("Authorization"); got != "Bearer t2" {
			t.Errorf("retry Authorization = %q, want the replacement token t2", got)
		}
		if got := len(te.recorded()); got != 2 {
			t.Errorf("token requests = %d, want 2 (the first token and one replacement)", got)
		}
	})
}
