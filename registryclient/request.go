package registryclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/auth"
)

// request is one registry call described as data: what it does (method, endpoint) to
// which repository (ref), and what counts as success. Client.do derives the host, path
// and token scopes from it, sends it with auth and the status table, and
// Client.retrying decides whether a failure is worth another try.
type request struct {
	method   string
	ref      Reference // the registry and repository the request is about; its tag and digest are not used
	endpoint endpoint
	id       string   // the manifest's tag or digest, the blob's or the referrers' subject digest
	loc      *url.URL // replaces the endpoint's path: an upload Location, a next page
	query    url.Values
	header   http.Header
	// body opens the request body; it is called again when the request has to be sent
	// again (new credentials after a 401), so a rewindable body is sent whole each time.
	// nil means no body.
	body   func() (io.ReadCloser, error)
	size   int64 // Content-Length when body is set; -1 when unknown
	access access
	also   []auth.Scope // scopes on other repositories, such as a mount's source
	expect []int        // statuses that mean success
	// session is set when the request continues an upload session at loc: its failures
	// say something about the session (lost, at another offset).
	session bool
}

// do sends r once and returns the response when its status is one of r.expect. The
// caller closes the body. Any other status becomes an *Error; repeating a failed
// request is the caller's operation's business (Client.retrying).
//
// A 401 re-authenticates once and sends the request again (a second 401 asks the
// authenticator why the credentials failed). Credentials go only to the registry
// itself, never to another host an upload Location names. Both directions of the body
// are watched: a connection that carries no bytes for the idle timeout is dropped.
func (c *Client) do(ctx context.Context, r *request) (*http.Response, error) {
	host, scopes := r.ref.apiHost(), r.scopes()
	release, err := c.firstContact(ctx, host)
	if err != nil {
		return nil, err
	}
	defer release()
	reauthenticated := false
	for {
		ctx, dog := c.watch(ctx)
		req, err := c.newHTTPRequest(ctx, r, dog)
		if err != nil {
			dog.done()
			return nil, err
		}
		ours := sameHost(req.URL, host)
		if ours {
			if err := c.auth.Authorize(ctx, req, host, scopes); err != nil {
				closeBody(req)
				dog.done()
				return nil, err // the authenticator's errors name the registry
			}
		}
		started := time.Now()
		resp, err := c.http.Do(req)
		dog.disarm()
		if err != nil {
			err = dog.stalled(err)
			dog.done()
		}
		c.log(ctx, req, resp, err, started)
		if err != nil {
			if !r.elsewhere() && req.URL.Scheme == "https" && c.plainHTTPAllowed(host) &&
				(errors.Is(err, http.ErrSchemeMismatch) || errors.Is(err, syscall.ECONNREFUSED)) {
				// A loopback or insecure registry that speaks plain HTTP (on its own port or
				// on :80 with nothing on :443): Docker falls back too.
				c.schemes.Store(host, "http")
				continue
			}
			return nil, r.failed(transportError(err))
		}
		resp.Body = receiving{ReadCloser: resp.Body, w: dog}
		if expected(resp.StatusCode, r.expect) {
			return resp, nil
		}
		if resp.StatusCode == http.StatusUnauthorized && ours {
			if err := c.auth.Challenge(ctx, host, scopes, resp); err != nil {
				drain(resp)
				return nil, r.failed(err)
			}
			if !reauthenticated {
				reauthenticated = true
				drain(resp)
				continue
			}
		}
		e := newError(resp)
		e.Registry, e.Repository = r.ref.Registry, r.ref.Repository
		e.session = r.session
		resp.Body.Close()
		return nil, e
	}
}

// firstContact lets one request be the first to a host while the others wait for its
// answer: that answer tells whether the host speaks plain HTTP and how it wants to be
// authenticated, so a plan of many resources sends one anonymous request that draws a
// 401, not one per request in flight. release ends the wait for everyone.
func (c *Client) firstContact(ctx context.Context, host string) (release func(), err error) {
	gate, waiting := c.contacts.LoadOrStore(host, make(chan struct{}))
	ch := gate.(chan struct{})
	if !waiting {
		var once sync.Once
		return func() { once.Do(func() { close(ch) }) }, nil
	}
	select {
	case <-ch:
		return func() {}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// sameHost reports whether u is on the registry's own host (default ports aside):
// only there do its credentials belong.
func sameHost(u *url.URL, host string) bool {
	return strings.EqualFold(withoutDefaultPort(u.Scheme, u.Host), withoutDefaultPort(u.Scheme, host))
}

func withoutDefaultPort(scheme, host string) string {
	if h, port, err := net.SplitHostPort(host); err == nil && (scheme == "https" && port == "443" || scheme == "http" && port == "80") {
		return h
	}
	return host
}

func (c *Client) newHTTPRequest(ctx context.Context, r *request, dog *watchdog) (*http.Request, error) {
	host := r.ref.apiHost()
	u := &url.URL{Scheme: c.scheme(host), Host: host, Path: r.path()}
	if r.elsewhere() {
		copied := *r.loc
		u = &copied
	} else if r.loc != nil {
		u.Path, u.RawPath, u.RawQuery = r.loc.Path, r.loc.RawPath, r.loc.RawQuery
	}
	if len(r.query) > 0 {
		q := u.Query()
		for k, vs := range r.query {
			q[k] = append(q[k], vs...)
		}
		u.RawQuery = q.Encode()
	}
	var body io.ReadCloser
	if r.body != nil {
		var err error
		if body, err = r.body(); err != nil {
			return nil, err
		}
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u.String(), body)
	if err != nil {
		if body != nil {
			body.Close()
		}
		return nil, fmt.Errorf("build %s %s: %w", r.method, u.Redacted(), err)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", c.userAgent)
	if r.body != nil {
		req.ContentLength = r.size
		if r.size == 0 {
			body.Close()
			req.Body = http.NoBody
		} else {
			req.Body = sending{ReadCloser: req.Body, w: dog}
		}
	}
	return req, nil
}

// scheme is "https" unless the host may use plain HTTP and has shown it does.
func (c *Client) scheme(host string) string {
	if s, ok := c.schemes.Load(host); ok {
		return s.(string)
	}
	return "https"
}

// log reports one exchange. The query is left out: upload Locations carry opaque
// session state, and some registries put signed tokens there.
func (c *Client) log(ctx context.Context, req *http.Request, resp *http.Response, err error, started time.Time) {
	fields := map[string]any{
		"method":   req.Method,
		"url":      req.URL.Scheme + "://" + req.URL.Host + req.URL.Path,
		"duration": time.Since(started).String(),
	}
	if err != nil {
		fields["error"] = transportError(err).Error()
	} else {
		fields["status"] = resp.StatusCode
	}
	c.logf(ctx, "registry request", fields)
}

// transportError drops the *url.Error wrapper, whose text repeats the URL with its
// query (upload state, signed storage URLs after a redirect).
func transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// endpoint is the part of the Distribution API a request addresses, as the path
// segment after /v2/<repository>/; the request's id follows it.
type endpoint string

const (
	manifests   endpoint = "manifests/"
	blobs       endpoint = "blobs/"
	blobUploads endpoint = "blobs/uploads/"
	tagsList    endpoint = "tags/list"
	referrers   endpoint = "referrers/"
)

// path is where the endpoint lives on the registry's API host.
func (r *request) path() string {
	return "/v2/" + r.ref.Repository + "/" + string(r.endpoint) + r.id
}

// elsewhere reports whether the request goes to an absolute URL (an upload Location or
// a next page on another host) rather than to a path on the registry's API host.
func (r *request) elsewhere() bool {
	return r.loc != nil && r.loc.Host != ""
}

// access is what a request's token must allow on its repository.
type access int

const (
	// implied is pull to read (GET, HEAD) and pull and push to write.
	implied access = iota
	// pushAccess is pull and push even to read: a copy reads its destination with the
	// token it will write with, so one token serves both.
	pushAccess
	// deleteAccess is pull and delete.
	deleteAccess
)

// scopes are the token scopes the request needs on its registry.
func (r *request) scopes() []auth.Scope {
	actions := []string{"pull", "push"}
	switch {
	case r.access == deleteAccess:
		actions = []string{"pull", "delete"}
	case r.access == implied && (r.method == http.MethodGet || r.method == http.MethodHead):
		actions = []string{"pull"}
	}
	return append([]auth.Scope{{Repository: r.ref.Repository, Actions: actions}}, r.also...)
}

// following is r aimed at the next page u. On the registry's own host it stays a
// path and query, so the scheme learned for the host and its credentials apply; on
// any other host it is an absolute URL that gets no credentials.
func (r *request) following(u *url.URL) *request {
	next := *r
	next.query = nil
	if sameHost(u, r.ref.apiHost()) {
		next.loc = &url.URL{Path: u.Path, RawPath: u.RawPath, RawQuery: u.RawQuery}
	} else {
		next.loc = u
	}
	return &next
}

// failed names the request in an error: method, host and path, never the query.
func (r *request) failed(err error) error {
	host, path := r.ref.apiHost(), r.path()
	if r.loc != nil {
		path = r.loc.Path
		if r.elsewhere() {
			host = r.loc.Host
		}
	}
	return fmt.Errorf("%s %s%s: %w", r.method, host, path, err)
}

func expected(status int, want []int) bool {
	for _, s := range want {
		if s == status {
			return true
		}
	}
	return false
}

// drain reads a little of an unwanted body so the connection can be reused, then closes it.
func drain(resp *http.Response) {
	_, _ = io.CopyN(io.Discard, resp.Body, 4<<10)
	resp.Body.Close()
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
