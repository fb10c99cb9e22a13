package auth

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/internal/retry"
)

const (
	// defaultTokenLifetime is what the Docker token spec says an answer without
	// expires_in means.
	defaultTokenLifetime = 60 * time.Second
	// tokenExpiryMargin retires a token early so that a request does not leave with a
	// token that expires on the way.
	tokenExpiryMargin = 5 * time.Second
	// clientID names us to OAuth2 token endpoints, which require a client_id.
	clientID = "imagesync"

	maxTokenResponse = 1 << 20
	maxErrorExcerpt  = 200
)

// token is a bearer token and the moment we stop using it.
type token struct {
	value   string
	expires time.Time
}

// tokenKey identifies a token: one per registry, token endpoint, service and scope set.
type tokenKey struct {
	host, realm, service, scopes string
}

// tokenAttempts bounds how often a token request is sent when the retry policy says
// asking again may help: 408, 429, 5xx, a dropped connection (auth.docker.io has bad
// minutes too).
const tokenAttempts = 4

// tokenBackoff is the first wait before asking a failing token endpoint again.
const tokenBackoff = 200 * time.Millisecond

// fetchToken asks the realm the registry named for a token: an OAuth2 refresh_token
// POST for an identity token, otherwise a GET with basic credentials or none.
func (a *Authenticator) fetchToken(ctx context.Context, host string, ch hostChallenge, scopes scopeSet, cred Credential) (token, error) {
	for attempt := 0; ; attempt++ {
		t, failed, err := a.fetchTokenOnce(ctx, host, ch, scopes, cred)
		failed.Canceled = ctx.Err() != nil
		d := retry.Decide(failed)
		if err == nil || d.Action == retry.Stop || attempt+1 == tokenAttempts {
			return t, err
		}
		if werr := retry.Wait(ctx, tokenBackoff, attempt, d.After); werr != nil {
			return token{}, werr
		}
	}
}

// fetchTokenOnce makes one token request; when it fails, failed says what the retry
// policy needs to know.
func (a *Authenticator) fetchTokenOnce(ctx context.Context, host string, ch hostChallenge, scopes scopeSet, cred Credential) (t token, failed retry.Failure, err error) {
	req, err := tokenRequest(ctx, ch, scopes, cred)
	if err != nil {
		return token{}, failed, &Error{Host: host, Reason: err.Error()}
	}
	sent := a.now()
	resp, err := a.client.Do(req)
	if err != nil {
		failed.Transport = retry.Transport(err)
		return token{}, failed, fmt.Errorf("request token from %s for registry %s: %w", req.URL.Host, host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		failed.Status, failed.After = resp.StatusCode, retry.After(resp.Header.Get("Retry-After"))
		return token{}, failed, tokenStatusError(host, req.URL.Host, resp, cred)
	}
	t, err = decodeToken(resp.Body, sent)
	if err != nil {
		return token{}, failed, fmt.Errorf("read token from %s for registry %s: %w", req.URL.Host, host, err)
	}
	return t, failed, nil
}

func tokenRequest(ctx context.Context, ch hostChallenge, scopes scopeSet, cred Credential) (*http.Request, error) {
	u, err := url.Parse(ch.realm)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("the registry named token realm %q, which is not an http(s) URL", ch.realm)
	}
	if cred.IdentityToken != "" {
		form := url.Values{
			"grant_type":    {"refresh_token"},
			"refresh_token": {cred.IdentityToken},
			"client_id":     {clientID},
		}
		if ch.service != "" {
			form.Set("service", ch.service)
		}
		if len(scopes) > 0 {
			form.Set("scope", strings.Join(scopes.list(), " "))
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(form.Encode()))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		return req, nil
	}
	q := u.Query()
	if ch.service != "" {
		q.Set("service", ch.service)
	}
	for _, s := range scopes.list() {
		q.Add("scope", s)
	}
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	if cred.hasBasic() {
		req.SetBasicAuth(cred.Username, cred.Password)
	}
	return req, nil
}

// decodeToken reads a token answer; sent is when we asked, by our clock.
func decodeToken(r io.Reader, sent time.Time) (token, error) {
	var body struct {
		Token       string `json:"token"`
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
		IssuedAt    string `json:"issued_at"`
	}
	if err := json.NewDecoder(io.LimitReader(r, maxTokenResponse)).Decode(&body); err != nil {
		return token{}, fmt.Errorf("decode token answer: %w", err)
	}
	value := body.Token
	if value == "" {
		value = body.AccessToken
	}
	if value == "" {
		return token{}, errors.New("the answer holds neither token nor access_token")
	}
	lifetime := defaultTokenLifetime
	if body.ExpiresIn > 0 {
		lifetime = time.Duration(body.ExpiresIn) * time.Second
	}
	issued := sent
	// A token endpoint behind a cache may hand out a token issued earlier; count its life
	// from then, unless a skewed clock would make it dead on arrival.
	if t, err := time.Parse(time.RFC3339, body.IssuedAt); err == nil && t.Before(sent) && t.Add(lifetime).After(sent) {
		issued = t
	}
	return token{value: value, expires: issued.Add(lifetime - min(tokenExpiryMargin, lifetime/2))}, nil
}

func tokenStatusError(host, realmHost string, resp *http.Response, cred Credential) error {
	excerpt := bodyExcerpt(resp.Body, cred)
	e := &Error{Host: host, StatusCode: resp.StatusCode}
	switch {
	case resp.StatusCode != http.StatusUnauthorized && resp.StatusCode != http.StatusForbidden:
		e.Reason = fmt.Sprintf("token endpoint %s answered %s: %s", realmHost, resp.Status, excerpt)
	case cred.Empty():
		e.Reason = fmt.Sprintf("token endpoint %s refused anonymous access (%s: %s); add a registry_auth block for it or run docker login", realmHost, resp.Status, excerpt)
		e.Err = ErrUnauthorized
	default:
		e.Reason = fmt.Sprintf("token endpoint %s rejected the credentials (%s: %s); check the registry_auth block or docker config for it", realmHost, resp.Status, excerpt)
		e.Err = ErrUnauthorized
	}
	return e
}

// bodyExcerpt returns the start of an error answer on one line. Some token endpoints
// echo the request back, so any secret of cred is masked.
func bodyExcerpt(r io.Reader, cred Credential) string {
	b, _ := io.ReadAll(io.LimitReader(r, maxTokenResponse))
	s := strings.Join(strings.Fields(string(b)), " ")
	for _, secret := range []string{cred.Password, cred.IdentityToken, cred.RegistryToken} {
		if secret != "" {
			s = strings.ReplaceAll(s, secret, "***")
		}
	}
	if len(s) > maxErrorExcerpt {
		s = strings.ToValidUTF8(s[:maxErrorExcerpt], "") + "..."
	}
	if s == "" {
		return "empty body"
	}
	return s
}

// tokenClient returns a copy of c whose redirects never carry a credential to another
// origin: the registry named the realm, not wherever the realm sends us next. Go already
// drops Authorization for a different domain but keeps it for subdomains and keeps a
// POST body (the refresh token) on 307/308.
func tokenClient(c *http.Client) *http.Client {
	copied := *c
	next := c.CheckRedirect
	copied.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		first := via[0]
		carriesSecret := first.Header.Get("Authorization") != "" || first.Method == http.MethodPost
		if carriesSecret && (req.URL.Scheme != first.URL.Scheme || req.URL.Host != first.URL.Host) {
			return fmt.Errorf("token endpoint %s redirected to %s; not following it with credentials", first.URL.Host, req.URL.Host)
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= 10 {
			return errors.New("stopped after 10 redirects")
		}
		return nil
	}
	return &copied
}
