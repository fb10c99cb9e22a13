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
	"syscall"
	"time"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/auth"
	"github.com/imagesync/terraform-provider-imagesync/registryclient/internal/retry"
)

// request is one registry call described as data; Client.do owns sending it, auth,
// retries and the status table.
type request struct {
	method string
	host   string     // API host, e.g. "registry-1.docker.io"
	path   string     // "/v2/<repo>/manifests/<ref>"; ignored when location is set
	loc    *url.URL   // an absolute upload Location, when continuing an upload session
	query  url.Values // added to path or location
	header http.Header
	// body opens the request body; it is called again for every attempt, so a retry
	// never re-reads a consumed stream. nil means no body.
	body   func() (io.ReadCloser, error)
	size   int64 // Content-Length when body is set; -1 when unknown
	scopes []auth.Scope
	expect []int // statuses that mean success
	// once is set when repeating the request is not safe (it would re-send part of an
	// upload); such requests still re-authenticate once on a 401 when body can re-open.
	once bool
}

// do sends r and returns the response when its status is one of r.expect. The caller
// closes the body. Any other status becomes an *Error.
//
// Status table: 401 re-authenticates once (a second 401 asks the authenticator why the
// credentials failed); 408, 429, 5xx and dropped connections back off and retry,
// honouring Retry-After, when the request is safe to repeat; anything else (404, 416,
// ...) is returned at once. Credentials go only to the registry itself, never to another
// host an upload Location names.
func (c *Client) do(ctx context.Context, r *request) (*http.Response, error) {
	reauthenticated := false
	for attempt := 0; ; attempt++ {
		req, err := c.newHTTPRequest(ctx, r)
		if err != nil {
			return nil, err
		}
		ours := sameHost(req.URL, r.host)
		if ours {
			if err := c.auth.Authorize(ctx, req, r.host, r.scopes); err != nil {
				closeBody(req)
				return nil, err // the authenticator's errors name the registry
			}
		}
		started := time.Now()
		resp, err := c.http.Do(req)
		c.log(ctx, req, resp, err, attempt, started)
		if err != nil {
			if r.loc == nil && req.URL.Scheme == "https" && c.plainHTTPAllowed(r.host) &&
				(errors.Is(err, http.ErrSchemeMismatch) || errors.Is(err, syscall.ECONNREFUSED)) {
				// A loopback or insecure registry that speaks plain HTTP (on its own port or
				// on :80 with nothing on :443): Docker falls back too.
				c.schemes.Store(r.host, "http")
				attempt--
				continue
			}
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			if !r.once && attempt < c.maxRetries {
				if werr := c.wait(ctx, attempt, 0); werr != nil {
					return nil, werr
				}
				continue
			}
			err = r.failed(transportError(err))
			if !r.once {
				err = exhausted{err}
			}
			return nil, err
		}
		if expected(resp.StatusCode, r.expect) {
			return resp, nil
		}
		switch {
		case resp.StatusCode == http.StatusUnauthorized && ours:
			if err := c.auth.Challenge(ctx, r.host, r.scopes, resp); err != nil {
				drain(resp)
				return nil, r.failed(err)
			}
			if !reauthenticated {
				reauthenticated = true
				drain(resp)
				attempt--
				continue
			}
		case retry.Status(resp.StatusCode) && !r.once:
			if attempt >= c.maxRetries {
				e := newError(resp)
				resp.Body.Close()
				return nil, exhausted{e}
			}
			after := retry.After(resp.Header.Get("Retry-After"))
			drain(resp)
			if err := c.wait(ctx, attempt, after); err != nil {
				return nil, err
			}
			continue
		}
		e := newError(resp)
		resp.Body.Close()
		return nil, e
	}
}

// exhausted marks an error that do() already retried max_retries times, so that the
// blob-level retry does not multiply the attempts.
type exhausted struct{ error }

func (e exhausted) Unwrap() error { return e.error }

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

func (c *Client) newHTTPRequest(ctx context.Context, r *request) (*http.Request, error) {
	u := r.loc
	if u == nil {
		u = &url.URL{Scheme: c.scheme(r.host), Host: r.host, Path: r.path}
	} else {
		copied := *u
		u = &copied
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
			req.Body = http.NoBody
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

// wait sleeps before retry number attempt+1, as the registry asked or with backoff.
func (c *Client) wait(ctx context.Context, attempt int, after time.Duration) error {
	return retry.Wait(ctx, c.backoffBase, attempt, after)
}

// log reports one exchange. The query is left out: upload Locations carry opaque
// session state, and some registries put signed tokens there.
func (c *Client) log(ctx context.Context, req *http.Request, resp *http.Response, err error, attempt int, started time.Time) {
	fields := map[string]any{
		"method":   req.Method,
		"url":      req.URL.Scheme + "://" + req.URL.Host + req.URL.Path,
		"attempt":  attempt + 1,
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

// failed names the request in an error: method, host and path, never the query.
func (r *request) failed(err error) error {
	path := r.path
	if r.loc != nil {
		path = r.loc.Path
	}
	return fmt.Errorf("%s %s%s: %w", r.method, r.host, path, err)
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
