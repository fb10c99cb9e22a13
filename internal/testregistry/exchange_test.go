package testregistry

import (
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// exchange is one plain HTTP round trip made the way code under test would
// make it, without the harness's credentials.
type exchange struct {
	status int
	header http.Header
	body   []byte
}

// send makes req with a client of its own and reads the whole answer.
func send(t *testing.T, req *http.Request) exchange {
	t.Helper()
	resp, err := newClient().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return exchange{status: resp.StatusCode, header: resp.Header, body: body}
}

func newRequest(t *testing.T, method, target string, body io.Reader) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, target, body)
	if err != nil {
		t.Fatal(err)
	}
	return req
}

// bearer returns a request carrying token.
func bearer(t *testing.T, method, target, token string) *http.Request {
	t.Helper()
	req := newRequest(t, method, target, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", manifestAccept)
	return req
}

// tokenGet asks realm for scopes, with basic auth unless user is empty.
func tokenGet(t *testing.T, realm, service, user, pass string, scopes ...string) *http.Request {
	t.Helper()
	q := url.Values{"service": {service}, "scope": scopes}
	req := newRequest(t, http.MethodGet, realm+"?"+q.Encode(), nil)
	if user != "" {
		req.SetBasicAuth(user, pass)
	}
	return req
}

// tokenPost is Docker's OAuth2 refresh-token request.
func tokenPost(t *testing.T, realm, service, refresh string, scopes ...string) *http.Request {
	t.Helper()
	form := url.Values{
		"grant_type":    {"refresh_token"},
		"refresh_token": {refresh},
		"service":       {service},
		"client_id":     {"testregistry-test"},
		"scope":         scopes,
	}
	req := newRequest(t, http.MethodPost, realm, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

// tokenAnswer is the token server's JSON.
type tokenAnswer struct {
	Token       string `json:"token"`
	AccessToken string `json:"access_token"`
	ExpiresIn   *int   `json:"expires_in"`
	IssuedAt    string `json:"issued_at"`
}

func decodeToken(t *testing.T, ex exchange) tokenAnswer {
	t.Helper()
	if ex.status != http.StatusOK {
		t.Fatalf("token request: status %d: %s", ex.status, ex.body)
	}
	var answer tokenAnswer
	if err := json.Unmarshal(ex.body, &answer); err != nil {
		t.Fatalf("token answer %s: %v", ex.body, err)
	}
	return answer
}

var challengeParam = regexp.MustCompile(`(\w+)="([^"]*)"`)

// challenge reads the parameters of a Bearer WWW-Authenticate header.
func challenge(t *testing.T, header http.Header) map[string]string {
	t.Helper()
	value := header.Get("WWW-Authenticate")
	if !strings.HasPrefix(value, "Bearer ") {
		t.Fatalf("WWW-Authenticate = %q, want a Bearer challenge", value)
	}
	params := map[string]string{}
	for _, m := range challengeParam.FindAllStringSubmatch(value, -1) {
		params[m[1]] = m[2]
	}
	return params
}
