package registryclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/auth"
)

// errNoLocation means a registry opened an upload without saying where it lives.
var errNoLocation = errors.New("upload answer has no Location header")

// upload is an open blob upload session. Its location changes with every answer
// (distribution's _state parameter), so it is always the newest one.
type upload struct {
	ref      Reference
	loc      *url.URL
	minChunk int64 // OCI-Chunk-Min-Length: the smallest PATCH the registry accepts
}

// mountBlob asks the registry to link blob d from another repository on the same
// registry. It returns (nil, nil) when the blob was mounted, or the upload session the
// registry opened instead (a 202: use it, do not POST again).
func (c *Client) mountBlob(ctx context.Context, dst Reference, from string, d digest.Digest) (*upload, error) {
	resp, err := c.do(ctx, &request{
		method:   http.MethodPost,
		ref:      dst,
		endpoint: blobUploads,
		query:    url.Values{"mount": {d.String()}, "from": {from}},
		body:     emptyBody,
		also:     []auth.Scope{{Repository: from, Actions: []string{"pull"}}},
		expect:   []int{http.StatusCreated, http.StatusAccepted},
	})
	if err != nil {
		return nil, err
	}
	drain(resp)
	if resp.StatusCode == http.StatusCreated {
		return nil, nil
	}
	return newUpload(dst, resp)
}

// startUpload opens an upload session in dst's repository.
func (c *Client) startUpload(ctx context.Context, dst Reference) (*upload, error) {
	resp, err := c.do(ctx, &request{
		method:   http.MethodPost,
		ref:      dst,
		endpoint: blobUploads,
		body:     emptyBody,
		expect:   []int{http.StatusAccepted},
	})
	if err != nil {
		return nil, err
	}
	drain(resp)
	return newUpload(dst, resp)
}

func newUpload(dst Reference, resp *http.Response) (*upload, error) {
	u := &upload{ref: dst}
	if n, err := strconv.ParseInt(resp.Header.Get("OCI-Chunk-Min-Length"), 10, 64); err == nil && n > 0 {
		u.minChunk = n
	}
	if err := u.follow(resp); err != nil {
		return nil, err
	}
	return u, nil
}

// follow moves the session to the Location of resp, which may be relative and carries
// query parameters that must be kept.
func (u *upload) follow(resp *http.Response) error {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return fmt.Errorf("upload to %s: %w", u.ref.Name(), errNoLocation)
	}
	next, err := resp.Request.URL.Parse(loc)
	if err != nil {
		return fmt.Errorf("upload to %s: Location %q: %w", u.ref.Name(), loc, err)
	}
	u.loc = next
	return nil
}

// putMonolithic sends the whole blob in the closing PUT. open is called again when the
// request has to be sent again after a 401.
func (c *Client) putMonolithic(ctx context.Context, u *upload, desc ocispec.Descriptor, open func() (io.ReadCloser, error)) error {
	resp, err := c.do(ctx, &request{
		method:   http.MethodPut,
		ref:      u.ref,
		endpoint: blobUploads,
		loc:      u.loc,
		query:    url.Values{"digest": {desc.Digest.String()}},
		header:   http.Header{"Content-Type": {"application/octet-stream"}},
		body:     open,
		size:     desc.Size,
		expect:   []int{http.StatusCreated, http.StatusNoContent},
		session:  true,
	})
	if err != nil {
		return err
	}
	drain(resp)
	return nil
}

// cancel abandons the session so the registry can drop what it received. Failures are
// ignored: the registry expires abandoned sessions anyway.
func (c *Client) cancel(ctx context.Context, u *upload) {
	// The caller's context is often the one that was cancelled; the DELETE still goes out.
	ctx, stop := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer stop()
	resp, err := c.do(ctx, &request{
		method:   http.MethodDelete,
		ref:      u.ref,
		endpoint: blobUploads,
		loc:      u.loc,
		access:   pushAccess,
		expect:   []int{http.StatusNoContent, http.StatusOK, http.StatusAccepted},
		session:  true,
	})
	if err == nil {
		drain(resp)
	}
}

func emptyBody() (io.ReadCloser, error) { return http.NoBody, nil }
