package testregistry

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// defaultTokenTTL is how long a token lives when Options.TokenExpiresIn is 0;
// clients then assume 60 s, so the JWT outliving that is harmless.
const defaultTokenTTL = 5 * time.Minute

// tokenServer is the realm of a token-mode registry: it checks the user's
// credentials and answers with JWTs the registry accepts.
type tokenServer struct {
	signer   *signer
	opts     Options
	server   *http.Server
	realm    string
	requests atomic.Int64

	mu     sync.Mutex
	issued []string // every token answered, for tests that look for leaks
}

// startTokenServer listens on a free loopback port and serves /token.
func startTokenServer(ctx context.Context, s *signer, opts Options) (*tokenServer, error) {
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for token server: %w", err)
	}
	ts := &tokenServer{
		signer: s,
		opts:   opts,
		realm:  "http://" + ln.Addr().String() + "/token",
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /token", ts.serveGet)
	mux.HandleFunc("POST /token", ts.servePost)
	ts.server = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	// Serve only fails once the listener is gone; a test then sees its
	// token requests fail, which says more than a stored error would.
	go func() { _ = ts.server.Serve(ln) }()
	return ts, nil
}

// close stops the server: gracefully while ctx lasts, then by closing whatever
// connections a client still holds (a CLI killed mid-request leaves one active).
func (ts *tokenServer) close(ctx context.Context) error {
	if err := ts.server.Shutdown(ctx); err != nil {
		if cerr := ts.server.Close(); cerr != nil {
			return fmt.Errorf("stop token server: %w", cerr)
		}
	}
	return nil
}

// serveGet is the Docker token flow: credentials in basic auth, scopes in
// the query.
func (ts *tokenServer) serveGet(w http.ResponseWriter, r *http.Request) {
	ts.requests.Add(1)
	q := r.URL.Query()
	if !ts.knownService(w, q.Get("service")) {
		return
	}
	user, pass, ok := r.BasicAuth()
	switch {
	case ok && ts.validUser(user, pass):
		ts.issue(w, ts.getFields(), user, parseScopes(q["scope"], anyAction))
	case !ok && ts.opts.AllowAnonymousPull:
		ts.issue(w, ts.getFields(), "", parseScopes(q["scope"], pullOnly))
	default:
		w.Header().Set("WWW-Authenticate", `Basic realm="testregistry"`)
		writeOAuthError(w, http.StatusUnauthorized, "invalid_client", "wrong or missing credentials")
	}
}

// servePost is the OAuth2 flow Docker uses for identity tokens: a refresh
// token in a form. A 404 when refresh tokens are off makes Docker and
// containerd fall back to GET, as they do for GCR.
func (ts *tokenServer) servePost(w http.ResponseWriter, r *http.Request) {
	ts.requests.Add(1)
	if ts.opts.RefreshToken == "" {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseForm(); err != nil {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	if !ts.knownService(w, r.PostForm.Get("service")) {
		return
	}
	if grant := r.PostForm.Get("grant_type"); grant != "refresh_token" {
		writeOAuthError(w, http.StatusBadRequest, "unsupported_grant_type", grant)
		return
	}
	if !equal(r.PostForm.Get("refresh_token"), ts.opts.RefreshToken) {
		writeOAuthError(w, http.StatusUnauthorized, "invalid_grant", "wrong refresh token")
		return
	}
	// OAuth2 (RFC 6749 section 5.1) fixes the field, whatever TokenField says.
	ts.issue(w, []string{"access_token"}, ts.opts.Username, parseScopes(r.PostForm["scope"], anyAction))
}

func (ts *tokenServer) knownService(w http.ResponseWriter, service string) bool {
	if service != ts.signer.service {
		writeOAuthError(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("unknown service %q", service))
		return false
	}
	return true
}

func (ts *tokenServer) validUser(user, pass string) bool {
	return equal(user, ts.opts.Username) && equal(pass, ts.opts.Password)
}

// getFields is where a GET answer puts the token, per Options.TokenField.
func (ts *tokenServer) getFields() []string {
	if ts.opts.TokenField == "both" {
		return []string{"token", "access_token"}
	}
	return []string{ts.opts.TokenField}
}

// issue answers with a token for grants in each of fields.
func (ts *tokenServer) issue(w http.ResponseWriter, fields []string, subject string, grants []access) {
	ttl := defaultTokenTTL
	if ts.opts.TokenExpiresIn > 0 {
		ttl = time.Duration(ts.opts.TokenExpiresIn) * time.Second
	}
	token, err := ts.signer.token(subject, grants, ttl)
	if err != nil {
		writeOAuthError(w, http.StatusInternalServerError, "server_error", err.Error())
		return
	}
	ts.mu.Lock()
	ts.issued = append(ts.issued, token)
	ts.mu.Unlock()
	answer := map[string]any{"issued_at": time.Now().UTC().Format(time.RFC3339)}
	for _, field := range fields {
		answer[field] = token
	}
	if ts.opts.TokenExpiresIn > 0 {
		answer["expires_in"] = ts.opts.TokenExpiresIn
	}
	writeJSON(w, http.StatusOK, answer)
}

func anyAction(string) bool { return true }

func pullOnly(action string) bool { return action == "pull" }

func equal(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func writeOAuthError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": description})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
