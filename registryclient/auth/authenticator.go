package auth

import (
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Authenticator adds credentials to registry requests and keeps the tokens it fetched
// for the whole run. It is safe for concurrent use; share one per run.
type Authenticator struct {
	client *http.Client
	creds  CredentialSource
	now    func() time.Time

	mu    sync.Mutex
	hosts map[string]*hostAuth

	tokens sharedCache[tokenKey, token]
}

// hostChallenge is how a registry asked to be authenticated in its last 401.
type hostChallenge struct {
	scheme, realm, service string
}

// hostAuth is what a registry's 401 answers taught us about it.
type hostAuth struct {
	challenge hostChallenge
	// learned maps a requested scope set to the larger one the registry named in its
	// challenge, so later requests ask for the token that worked.
	learned map[string]scopeSet
}

// New returns an Authenticator that fetches tokens with client (http.DefaultClient if
// nil) and finds credentials in creds.
func New(client *http.Client, creds CredentialSource) *Authenticator {
	if client == nil {
		client = http.DefaultClient
	}
	return &Authenticator{
		client: tokenClient(client),
		creds:  creds,
		now:    time.Now,
		hosts:  map[string]*hostAuth{},
	}
}

// Authorize sets req's Authorization header for host as its last challenge asked.
// Before a host's first 401 it sends nothing: the request goes out anonymous and the
// registry's challenge tells us what it wants.
func (a *Authenticator) Authorize(ctx context.Context, req *http.Request, host string, scopes []Scope) error {
	ch, set, known := a.lookup(host, newScopeSet(scopes))
	if !known {
		return nil
	}
	cred, err := a.creds.Credential(ctx, host)
	if err != nil {
		return fmt.Errorf("find credentials for registry %s: %w", host, err)
	}
	if ch.scheme == "basic" {
		if cred.hasBasic() {
			req.SetBasicAuth(cred.Username, cred.Password)
		}
		return nil
	}
	if cred.RegistryToken != "" {
		req.Header.Set("Authorization", "Bearer "+cred.RegistryToken)
		return nil
	}
	t, err := a.tokens.get(ctx, ch.key(host, set), a.usable, func(ctx context.Context) (token, error) {
		return a.fetchToken(ctx, host, ch, set, cred)
	})
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+t.value)
	return nil
}

// Challenge learns from resp, a 401 answer from host, how to authenticate there, and
// for a bearer challenge fetches a fresh token so the caller can retry once. It returns
// an *Error wrapping ErrUnauthorized when retrying cannot help.
func (a *Authenticator) Challenge(ctx context.Context, host string, scopes []Scope, resp *http.Response) error {
	header := strings.Join(resp.Header.Values("WWW-Authenticate"), ", ")
	if header == "" {
		return &Error{Host: host, Reason: "the registry answered 401 without a WWW-Authenticate challenge", Err: ErrUnauthorized}
	}
	challenges := ParseChallenges(header)
	ch, ok := pickChallenge(challenges)
	if !ok {
		return &Error{Host: host, Reason: fmt.Sprintf("the registry asks for an authentication scheme we do not support (%s)", schemes(challenges)), Err: ErrUnauthorized}
	}
	cred, err := a.creds.Credential(ctx, host)
	if err != nil {
		return fmt.Errorf("find credentials for registry %s: %w", host, err)
	}
	var sent string
	if resp.Request != nil {
		sent = resp.Request.Header.Get("Authorization")
	}
	if ch.Scheme == "basic" {
		return a.challengeBasic(host, cred, sent)
	}
	return a.challengeBearer(ctx, host, newScopeSet(scopes), ch, cred, sent, resp.Request == nil)
}

func (a *Authenticator) challengeBasic(host string, cred Credential, sent string) error {
	if !cred.hasBasic() {
		return &Error{Host: host, Reason: "the registry needs a username and password and none is configured; add a registry_auth block for it or run docker login", Err: ErrUnauthorized}
	}
	if sent == basicAuthorization(cred) {
		return &Error{Host: host, Reason: "the registry rejected the username and password; check the registry_auth block or docker config for it", Err: ErrUnauthorized}
	}
	a.learn(host, hostChallenge{scheme: "basic"}, nil, nil)
	return nil
}

// challengeBearer fetches a token for the requested scopes plus any the registry named.
// The token the failed request carried is dropped; a newer one that another goroutine
// already fetched is kept, so a burst of 401s still costs one token request.
func (a *Authenticator) challengeBearer(ctx context.Context, host string, requested scopeSet, c Challenge, cred Credential, sent string, sentUnknown bool) error {
	ch := hostChallenge{scheme: "bearer", realm: c.Params["realm"], service: c.Params["service"]}
	if ch.realm == "" {
		return &Error{Host: host, Reason: "the registry's bearer challenge names no realm to ask for a token"}
	}
	set := requested.withChallenge(c.Params["scope"])
	a.learn(host, ch, requested, set)
	if cred.RegistryToken != "" {
		if sent == "Bearer "+cred.RegistryToken {
			return &Error{Host: host, Reason: "the registry rejected the registrytoken from the docker config; log in again", Err: ErrUnauthorized}
		}
		return nil
	}
	key := ch.key(host, set)
	a.tokens.dropIf(key, func(t token) bool { return sentUnknown || sent == "Bearer "+t.value })
	_, err := a.tokens.get(ctx, key, a.usable, func(ctx context.Context) (token, error) {
		return a.fetchToken(ctx, host, ch, set, cred)
	})
	return err
}

// pickChallenge prefers Bearer over Basic when a registry offers both: with a token the
// password goes to the token endpoint once instead of with every request.
func pickChallenge(challenges []Challenge) (Challenge, bool) {
	var basic *Challenge
	for i, c := range challenges {
		switch {
		case c.Scheme == "bearer":
			return c, true
		case c.Scheme == "basic" && basic == nil:
			basic = &challenges[i]
		}
	}
	if basic == nil {
		return Challenge{}, false
	}
	return *basic, true
}

func schemes(challenges []Challenge) string {
	var names []string
	for _, c := range challenges {
		names = append(names, c.Scheme)
	}
	return strings.Join(names, ", ")
}

func (a *Authenticator) learn(host string, ch hostChallenge, requested, merged scopeSet) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hosts[host]
	if h == nil {
		h = &hostAuth{learned: map[string]scopeSet{}}
		a.hosts[host] = h
	}
	h.challenge = ch
	if k := requested.key(); merged.key() != k {
		h.learned[k] = merged
	}
}

// lookup returns host's last challenge and the scopes to ask for in place of requested.
func (a *Authenticator) lookup(host string, requested scopeSet) (hostChallenge, scopeSet, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	h := a.hosts[host]
	if h == nil {
		return hostChallenge{}, nil, false
	}
	if merged, ok := h.learned[requested.key()]; ok {
		return h.challenge, merged, true
	}
	return h.challenge, requested, true
}

func (a *Authenticator) usable(t token) bool { return a.now().Before(t.expires) }

func (ch hostChallenge) key(host string, scopes scopeSet) tokenKey {
	return tokenKey{host: host, realm: ch.realm, service: ch.service, scopes: scopes.key()}
}

func basicAuthorization(cred Credential) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(cred.Username+":"+cred.Password))
}
