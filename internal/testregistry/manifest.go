package testregistry

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/opencontainers/go-digest"
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// manifestAccept lists every manifest type the harness knows, so the
// registry answers with what it stored.
var manifestAccept = strings.Join([]string{
	v1.MediaTypeImageIndex,
	v1.MediaTypeImageManifest,
	MediaTypeDockerManifestList,
	MediaTypeDockerManifest,
}, ", ")

// PushManifest stores body under ref (a tag or its digest) in repo and
// returns its digest.
func (r *Registry) PushManifest(ctx context.Context, repo, ref, mediaType string, body []byte) (string, error) {
	dgst := digest.FromBytes(body)
	resp, err := r.do(ctx, request{
		method: http.MethodPut,
		url:    r.endpoint("/v2/%s/manifests/%s", repo, ref),
		repo:   repo,
		header: http.Header{"Content-Type": {mediaType}},
		body:   body,
		want:   http.StatusCreated,
	})
	if err != nil {
		return "", fmt.Errorf("push manifest %s: %w", imageRef(repo, ref), err)
	}
	if got := resp.header.Get("Docker-Content-Digest"); got != dgst.String() {
		return "", fmt.Errorf("push manifest %s: registry says digest %s, body hashes to %s", imageRef(repo, ref), got, dgst)
	}
	return dgst.String(), nil
}

// Manifest returns the manifest repo serves for ref (a tag or digest) and
// its media type.
func (r *Registry) Manifest(ctx context.Context, repo, ref string) (body []byte, mediaType string, err error) {
	resp, err := r.getManifest(ctx, repo, ref)
	if err != nil {
		return nil, "", err
	}
	return resp.body, resp.header.Get("Content-Type"), nil
}

// ManifestDigest returns the digest of the manifest repo serves for ref,
// computed from the body and checked against Docker-Content-Digest (and
// against ref when ref is a digest). It returns ErrNotFound on a 404.
func (r *Registry) ManifestDigest(ctx context.Context, repo, ref string) (string, error) {
	resp, err := r.getManifest(ctx, repo, ref)
	if err != nil {
		return "", err
	}
	dgst := digest.FromBytes(resp.body)
	if got := resp.header.Get("Docker-Content-Digest"); got != dgst.String() {
		return "", fmt.Errorf("get manifest %s: registry says digest %s, body hashes to %s", imageRef(repo, ref), got, dgst)
	}
	if want, err := digest.Parse(ref); err == nil && want != dgst {
		return "", fmt.Errorf("get manifest %s@%s: body hashes to %s", repo, ref, dgst)
	}
	return dgst.String(), nil
}

// DeleteManifest deletes the manifest with digest dgst from repo, and with
// it every tag pointing at it.
func (r *Registry) DeleteManifest(ctx context.Context, repo, dgst string) error {
	_, err := r.do(ctx, request{
		method: http.MethodDelete,
		url:    r.endpoint("/v2/%s/manifests/%s", repo, dgst),
		repo:   repo,
		want:   http.StatusAccepted,
	})
	if err != nil {
		return fmt.Errorf("delete manifest %s@%s: %w", repo, dgst, err)
	}
	return nil
}

func (r *Registry) getManifest(ctx context.Context, repo, ref string) (response, error) {
	resp, err := r.do(ctx, request{
		method: http.MethodGet,
		url:    r.endpoint("/v2/%s/manifests/%s", repo, ref),
		repo:   repo,
		header: http.Header{"Accept": {manifestAccept}},
		want:   http.StatusOK,
	})
	if err != nil {
		return response{}, fmt.Errorf("get manifest %s: %w", imageRef(repo, ref), err)
	}
	return resp, nil
}

// imageRef spells repo and ref the way a user would: repo:tag or repo@digest.
func imageRef(repo, ref string) string {
	if _, err := digest.Parse(ref); err == nil {
		return repo + "@" + ref
	}
	return repo + ":" + ref
}
