package testregistry

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/opencontainers/go-digest"
)

// PushBlob uploads content to repo in one monolithic upload and returns its
// digest.
func (r *Registry) PushBlob(ctx context.Context, repo string, content []byte) (string, error) {
	dgst := digest.FromBytes(content)
	started, err := r.do(ctx, request{
		method: http.MethodPost,
		url:    r.endpoint("/v2/%s/blobs/uploads/", repo),
		repo:   repo,
		want:   http.StatusAccepted,
	})
	if err != nil {
		return "", fmt.Errorf("start blob upload, repository %s: %w", repo, err)
	}
	// Location may be relative (distribution sends an absolute one, others
	// do not) and already carries the upload state in its query.
	location, err := started.url.Parse(started.header.Get("Location"))
	if err != nil {
		return "", fmt.Errorf("parse upload location, repository %s: %w", repo, err)
	}
	query := location.Query()
	query.Set("digest", dgst.String())
	location.RawQuery = query.Encode()
	_, err = r.do(ctx, request{
		method: http.MethodPut,
		url:    location.String(),
		repo:   repo,
		header: http.Header{"Content-Type": {"application/octet-stream"}},
		body:   content,
		want:   http.StatusCreated,
	})
	if err != nil {
		return "", fmt.Errorf("finish blob upload, blob %s, repository %s: %w", dgst, repo, err)
	}
	return dgst.String(), nil
}

// BlobExists reports whether repo serves the blob with digest dgst.
func (r *Registry) BlobExists(ctx context.Context, repo, dgst string) (bool, error) {
	_, err := r.do(ctx, request{
		method: http.MethodHead,
		url:    r.endpoint("/v2/%s/blobs/%s", repo, dgst),
		repo:   repo,
		want:   http.StatusOK,
	})
	switch {
	case errors.Is(err, ErrNotFound):
		return false, nil
	case err != nil:
		return false, fmt.Errorf("check blob %s, repository %s: %w", dgst, repo, err)
	}
	return true, nil
}
