package auth

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestChallengeRefusals(t *testing.T) {
	const password = "hunter2-secret"
	tests := []struct {
		name             string
		cred             Credential
		challenge        string // REALM is replaced by the token endpoint's URL
		sent             string // Authorization the failed request carried
		tokenStatus      int
		tokenBody        string
		wantUnauthorized bool
		wantStatus       int
		wantInMessage    []string
	}{
		{
			name:             "a wrong password at the token endpoint is unauthorized, names the registry and hides the password",
			cred:             Credential{Username: "alice", Password: password},
			challenge:        `Bearer realm="REALM/token",service="reg.example"`,
			tokenStatus:      http.StatusUnauthorized,
			tokenBody:        `{"details":"incorrect username or password: alice:` + password + `"}`,
			wantUnauthorized: true,
			wantStatus:       http.StatusUnauthorized,
			wantInMessage:    []string{"reg.example", "401", "incorrect username or password", "registry_auth"},
		},
		{
			name:             "a token endpoint that refuses anonymous access is unauthorized and says to log in",
			challenge:        `Bearer realm="REALM/token",service="reg.example"`,
			tokenStatus:      http.StatusForbidden,
			tokenBody:        `{"errors":[{"code":"DENIED"}]}`,
			wantUnauthorized: true,
			wantStatus:       http.StatusForbidden,
			wantInMessage:    []string{"reg.example", "anonymous", "docker login"},
		},
		{
			name:          "a failing token endpoint reports its status and body but may be retried",
			cred:          Credential{Username: "alice", Password: password},
			challenge:     `Bearer realm="REALM/token",service="reg.example"`,
			tokenStatus:   http.StatusServiceUnavailable,
			tokenBody:     "upstream overloaded",
			wantStatus:    http.StatusServiceUnavailable,
			wantInMessage: []string{"reg.example", "503", "upstream overloaded"},
		},
		{
			name:             "a Basic challenge without credentials is unauthorized",
			challenge:        `Basic realm="reg"`,
			wantUnauthorized: true,
			wantInMessage:    []string{"reg.example", "registry_auth"},
		},
		{
			name:             "a Basic challenge to a request that already carried our credentials is unauthorized",
			cred:             Credential{Username: "alice", Password: password},
			challenge:        `Basic realm="reg"`,
			sent:             basicAuthorization(Credential{Username: "alice", Password: password}),
			wantUnauthorized: true,
			wantInMessage:    []string{"rejected the username and password"},
		},
		{
			name:             "a registry token the registry rejected is unauthorized",
			cred:             Credential{RegistryToken: password},
			challenge:        `Bearer realm="REALM/token"`,
			sent:             "Bearer " + password,
			wantUnauthorized: true,
			wantInMessage:    []string{"registrytoken"},
		},
		{
			name:             "a 401 without WWW-Authenticate is unauthorized",
			wantUnauthorized: true,
			wantInMessage:    []string{"without a WWW-Authenticate"},
		},
		{
			name:             "a scheme we do not support is unauthorized and named",
			challenge:        `Negotiate abc==`,
			wantUnauthorized: true,
			wantInMessage:    []string{"negotiate"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			te := newTokenEndpoint(t, func(w http.ResponseWriter, _ *http.Request) {
				w.WriteHeader(tt.tokenStatus)
				_, _ = w.Write([]byte(tt.tokenBody))
			})
			a := New(te.Client(), staticCreds{registryHost: tt.cred})
			req := newRequest(t, "https://reg.example/v2/")
			if tt.sent != "" {
				req.Header.Set("Authorization", tt.sent)
			}
			err := a.Challenge(t.Context(), registryHost, twoScopes, unauthorized(req, strings.ReplaceAll(tt.challenge, "REALM", te.URL)))
			if err == nil {
				t.Fatal("Challenge succeeded, want an error")
			}
			if got := errors.Is(err, ErrUnauthorized); got != tt.wantUnauthorized {
				t.Errorf("errors.Is(%v, ErrUnauthorized) = %v, want %v", err, got, tt.wantUnauthorized)
			}
			authErr, ok := errors.AsType[*Error](err)
			if !ok {
				t.Fatalf("error %v is not an *Error", err)
			}
			if authErr.Host != registryHost || authErr.StatusCode != tt.wantStatus {
				t.Errorf("Error host %q status %d, want %q %d", authErr.Host, authErr.StatusCode, registryHost, tt.wantStatus)
			}
			msg := err.Error()
			for _, want := range tt.wantInMessage {
				if !strings.Contains(msg, want) {
					t.Errorf("error %q does not mention %q", msg, want)
				}
			}
			if strings.Contains(msg, password) {
				t.Errorf("error %q contains the secret", msg)
			}
		})
	}
}

func TestBasicChallenge(t *testing.T) {
	a := New(nil, staticCreds{registryHost: {Username: "alice", Password: "s3cret"}})
	first := newRequest(t, "https://reg.example/v2/")
	if err := a.Challenge(t.Context(), registryHost, nil, unauthorized(first, `Basic realm="reg"`)); err != nil {
		t.Fatal(err)
	}
	retry := newRequest(t, "https://reg.example/v2/")
	if err := a.Authorize(t.Context(), retry, registryHost, nil); err != nil {
		t.Fatal(err)
	}
	if user, pass, ok := retry.BasicAuth(); !ok || user != "alice" || pass != "s3cret" {
		t.Errorf("after a Basic challenge the request carries basic auth %v %q, want alice's credentials", ok, user)
	}
}

// sendAuthorized does what the registry client does: authorize, send, and on a 401
// learn the challenge and retry once.
func sendAuthorized(ctx context.Context, a *Authenticator, client *http.Client, rawURL, host string, scopes []Scope) (int, error) {
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
		if err != nil {
			return 0, err
		}
		if err := a.Authorize(ctx, req, host, scopes); err != nil {
			return 0, err
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || attempt == 1 {
			return resp.StatusCode, nil
		}
		if err := a.Challenge(ctx, host, scopes, resp); err != nil {
			return 0, err
		}
	}
}

func TestConcurrentRequestsShareOneTokenRequest(t *testing.T) {
	t.Run("20 concurrent requests to a new registry for one scope make one token request", func(t *testing.T) {
		te := newTokenEndpoint(t, func(w http.ResponseWriter, _ *http.Request) {
			// Slow enough that every caller arrives while the first fetch runs.
			time.Sleep(50 * time.Millisecond)
			_, _ = w.Write([]byte(`{"token":"good","expires_in":300}`))
		})
		registry := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Authorization") != "Bearer good" {
				w.Header().Set("WWW-Authenticate", `Bearer realm="`+te.URL+`/token",service="registry",scope="repository:team/app:pull"`)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusOK)
		}))
		t.Cleanup(registry.Close)
		host := strings.TrimPrefix(registry.URL, "http://")
		a := New(te.Client(), staticCreds{host: {Username: "alice", Password: "s3cret"}})
		scopes := []Scope{{Repository: "team/app", Actions: []string{"pull"}}}

		const callers = 20
		var wg sync.WaitGroup
		errs := make(chan error, callers)
		for range callers {
			wg.Go(func() {
				status, err := sendAuthorized(t.Context(), a, registry.Client(), registry.URL+"/v2/team/app/manifests/latest", host, scopes)
				if err == nil && status != http.StatusOK {
					err = errors.New(http.StatusText(status))
				}
				errs <- err
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Errorf("request failed: %v", err)
			}
		}
		if n := len(te.recorded()); n != 1 {
			t.Errorf("token requests = %d, want 1", n)
		}
	})
}

func TestTokenEndpointBlipsAreRetried(t *testing.T) {
	var calls atomic.Int32
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Write([]byte(`{"token":"fresh"}`))
	}))
	defer tokens.Close()
	a := New(tokens.Client(), staticCreds{})
	resp := &http.Response{StatusCode: http.StatusUnauthorized, Header: http.Header{
		"Www-Authenticate": {`Bearer realm="` + tokens.URL + `/token",service="reg"`},
	}}
	if err := a.Challenge(context.Background(), "reg.example", []Scope{{Repository: "app", Actions: []string{"pull"}}}, resp); err != nil {
		t.Fatalf("challenge after one 503 from the token endpoint: %v", err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d token requests, want 2 (one 503, one retry)", n)
	}
}
