package testregistry

import (
	"net/http"
	"strings"
	"testing"

	"github.com/opencontainers/go-digest"
)

func TestBasicAuth(t *testing.T) {
	r := StartT(t, Options{Auth: AuthBasic})
	pushed, err := r.Push(t.Context(), "team/app", "v1", ImageSpec{Seed: 6, LayerSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	manifestURL := "http://" + r.Host + "/v2/team/app/manifests/v1"

	tests := []struct {
		name       string
		user, pass string
		want       int
	}{
		{name: "the right password reads the manifest", user: r.Username, pass: r.Password, want: http.StatusOK},
		{name: "a wrong password is refused", user: r.Username, pass: "wrong", want: http.StatusUnauthorized},
		{name: "no credentials are refused", want: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := newRequest(t, http.MethodGet, manifestURL, nil)
			req.Header.Set("Accept", manifestAccept)
			if tt.user != "" {
				req.SetBasicAuth(tt.user, tt.pass)
			}
			ex := send(t, req)
			if ex.status != tt.want {
				t.Fatalf("status %d, want %d: %s", ex.status, tt.want, ex.body)
			}
			if tt.want == http.StatusOK && digest.FromBytes(ex.body).String() != pushed.Digest {
				t.Errorf("manifest hashes to %s, Push said %s", digest.FromBytes(ex.body), pushed.Digest)
			}
		})
	}
}

func TestTokenAuth(t *testing.T) {
	r := StartT(t, Options{Auth: AuthToken, TokenExpiresIn: 300, RefreshToken: "refresh-me"})
	pushed, err := r.Push(t.Context(), "team/app", "v1", ImageSpec{Seed: 7, LayerSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	if n := r.TokenRequests(); n != 0 {
		t.Fatalf("TokenRequests = %d after the harness pushed, want 0", n)
	}
	base := "http://" + r.Host + "/v2/"
	ping := send(t, newRequest(t, http.MethodGet, base, nil))
	if ping.status != http.StatusUnauthorized {
		t.Fatalf("GET /v2/ without a token: status %d, want 401", ping.status)
	}
	params := challenge(t, ping.header)
	realm, service := params["realm"], params["service"]

	t.Run("a token fetched with basic auth reads the manifest", func(t *testing.T) {
		answer := decodeToken(t, send(t, tokenGet(t, realm, service, r.Username, r.Password, "repository:team/app:pull")))
		if answer.Token == "" || answer.AccessToken != "" {
			t.Errorf("answer has token %q and access_token %q; want only token", answer.Token, answer.AccessToken)
		}
		if answer.ExpiresIn == nil || *answer.ExpiresIn != 300 || answer.IssuedAt == "" {
			t.Errorf("answer has expires_in %v and issued_at %q; want 300 and a time", answer.ExpiresIn, answer.IssuedAt)
		}
		ex := send(t, bearer(t, http.MethodGet, base+"team/app/manifests/v1", answer.Token))
		if ex.status != http.StatusOK {
			t.Fatalf("GET manifest: status %d: %s", ex.status, ex.body)
		}
		if got := digest.FromBytes(ex.body).String(); got != pushed.Digest {
			t.Errorf("manifest hashes to %s, Push said %s", got, pushed.Digest)
		}

		upload := send(t, bearer(t, http.MethodPost, base+"team/app/blobs/uploads/", answer.Token))
		if upload.status != http.StatusUnauthorized || !strings.Contains(upload.header.Get("WWW-Authenticate"), "insufficient_scope") {
			t.Errorf("upload with a pull-only token: status %d, challenge %q; want 401 insufficient_scope",
				upload.status, upload.header.Get("WWW-Authenticate"))
		}
	})

	t.Run("a wrong password gets no token", func(t *testing.T) {
		ex := send(t, tokenGet(t, realm, service, r.Username, "wrong", "repository:team/app:pull"))
		if ex.status != http.StatusUnauthorized {
			t.Errorf("status %d, want 401: %s", ex.status, ex.body)
		}
	})

	t.Run("no credentials get no token without anonymous pull", func(t *testing.T) {
		ex := send(t, tokenGet(t, realm, service, "", "", "repository:team/app:pull"))
		if ex.status != http.StatusUnauthorized {
			t.Errorf("status %d, want 401: %s", ex.status, ex.body)
		}
	})

	t.Run("a refresh token POST grants push", func(t *testing.T) {
		answer := decodeToken(t, send(t, tokenPost(t, realm, service, "refresh-me", "repository:team/app:pull,push")))
		if answer.AccessToken == "" {
			t.Fatalf("answer %+v has no access_token", answer)
		}
		ex := send(t, bearer(t, http.MethodPost, base+"team/app/blobs/uploads/", answer.AccessToken))
		if ex.status != http.StatusAccepted {
			t.Errorf("start upload: status %d, want 202: %s", ex.status, ex.body)
		}
	})

	t.Run("a wrong refresh token is refused", func(t *testing.T) {
		ex := send(t, tokenPost(t, realm, service, "stale", "repository:team/app:pull"))
		if ex.status != http.StatusUnauthorized {
			t.Errorf("status %d, want 401: %s", ex.status, ex.body)
		}
	})

	t.Run("TokenRequests counts every request the token server answered", func(t *testing.T) {
		if n := r.TokenRequests(); n != 5 {
			t.Errorf("TokenRequests = %d, want 5", n)
		}
	})

	t.Run("IssuedTokens lists the two tokens answered, not the three refusals", func(t *testing.T) {
		issued := r.IssuedTokens()
		if len(issued) != 2 {
			t.Fatalf("IssuedTokens = %d tokens, want 2", len(issued))
		}
		for _, token := range issued {
			if ex := send(t, bearer(t, http.MethodGet, base+"team/app/manifests/v1", token)); ex.status != http.StatusOK {
				t.Errorf("an issued token reads the manifest: status %d", ex.status)
			}
		}
	})
}

func TestTokenAnonymousPull(t *testing.T) {
	r := StartT(t, Options{Auth: AuthToken, AllowAnonymousPull: true, TokenField: "access_token"})
	pushed, err := r.Push(t.Context(), "public/app", "v1", ImageSpec{OCI: true, Seed: 8, LayerSize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + r.Host + "/v2/"
	params := challenge(t, send(t, newRequest(t, http.MethodGet, base, nil)).header)

	answer := decodeToken(t, send(t, tokenGet(t, params["realm"], params["service"], "", "", "repository:public/app:pull,push")))
	if answer.AccessToken == "" || answer.Token != "" || answer.ExpiresIn != nil {
		t.Fatalf("answer %+v: want only access_token, no expires_in", answer)
	}

	t.Run("an anonymous token pulls", func(t *testing.T) {
		ex := send(t, bearer(t, http.MethodGet, base+"public/app/manifests/v1", answer.AccessToken))
		if ex.status != http.StatusOK || digest.FromBytes(ex.body).String() != pushed.Digest {
			t.Errorf("GET manifest: status %d, digest %s; want 200 and %s", ex.status, digest.FromBytes(ex.body), pushed.Digest)
		}
	})

	t.Run("an anonymous token asking for push cannot push", func(t *testing.T) {
		ex := send(t, bearer(t, http.MethodPost, base+"public/app/blobs/uploads/", answer.AccessToken))
		if ex.status != http.StatusUnauthorized {
			t.Errorf("start upload: status %d, want 401", ex.status)
		}
	})
}
