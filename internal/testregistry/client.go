package testregistry

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"
)

// harnessTokenTTL is how long the harness's own minted tokens live.
const harnessTokenTTL = time.Minute

// request is one call the harness makes to its registry.
type request struct {
	method string
	url    string // absolute
	repo   string // repository the harness token must cover; "" for /v2/
	header http.Header
	body   []byte
	want   int // the status that means success
}

// response is a successful call with its body read.
type response struct {
	header http.Header
	body   []byte
	url    *url.URL // of the request, to resolve a relative Location
}

// newClient returns a client that never sends loopback traffic through
// $HTTP_PROXY.
func newClient() *http.Client {
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.Proxy = nil
	return &http.Client{Transport: transport}
}

// endpoint is the absolute URL of path on this registry.
func (r *Registry) endpoint(format string, args ...any) string {
	return "http://" + r.Host + fmt.Sprintf(format, args...)
}

// do sends req as the configured user and returns a *StatusError for any
// status but req.want.
func (r *Registry) do(ctx context.Context, req request) (response, error) {
	httpReq, err := http.NewRequestWithContext(ctx, req.method, req.url, bytes.NewReader(req.body))
	if err != nil {
		return response{}, fmt.Errorf("build request: %w", err)
	}
	for k, vs := range req.header {
		httpReq.Header[k] = vs
	}
	if err := r.authorize(httpReq, req.repo); err != nil {
		return response{}, err
	}
	resp, err := r.client.Do(httpReq)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: %w", req.method, req.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, fmt.Errorf("%s %s: read body: %w", req.method, req.url, err)
	}
	if resp.StatusCode != req.want {
		const maxMessage = 512
		if len(body) > maxMessage {
			body = body[:maxMessage]
		}
		return response{}, &StatusError{
			Method:     req.method,
			URL:        req.url,
			StatusCode: resp.StatusCode,
			Body:       string(bytes.TrimSpace(body)),
		}
	}
	return response{header: resp.Header, body: body, url: resp.Request.URL}, nil
}

// authorize adds the harness's credentials. In token mode it mints a token
// itself rather than asking the token server, so TokenRequests counts only
// what the code under test asked for.
func (r *Registry) authorize(req *http.Request, repo string) error {
	switch r.auth {
	case AuthBasic:
		req.SetBasicAuth(r.Username, r.Password)
	case AuthToken:
		var grants []access
		if repo != "" {
			grants = []access{{Type: "repository", Name: repo, Actions: []string{"pull", "push", "delete"}}}
		}
		token, err := r.signer.token(r.Username, grants, harnessTokenTTL)
		if err != nil {
			return err
		}
		req.Header.Set("Authorization", "Bearer "+token)
	}
	return nil
}
