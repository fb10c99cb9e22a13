package registryclient

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/internal/retry"
)

// ErrTagShared means a tag could not be removed alone: the registry deletes only
// manifests, and another tag still points at this one, so the manifest was kept.
var ErrTagShared = errors.New("another tag points at the same manifest")

// ErrUnsupported means the registry does not allow the operation (405, UNSUPPORTED).
var ErrUnsupported = errors.New("not supported by the registry")

// RemoveTag removes ref's tag and nothing else anyone else may rely on: the tag
// itself where the registry deletes tags; otherwise the manifest it points at, but only
// when no other tag of the repository points at it too (ErrTagShared). Blobs are left
// to the registry's garbage collector. A tag already gone is success.
func (c *Client) RemoveTag(ctx context.Context, ref Reference) error {
	desc, err := c.headManifest(ctx, ref, deleteAccess)
	if isNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	err = c.deleteManifest(ctx, ref, ref.Tag)
	if err == nil || isNotFound(err) {
		return nil
	}
	if !errors.Is(err, ErrUnsupported) {
		return err
	}
	tags, err := c.ListTags(ctx, ref)
	if err != nil {
		return err
	}
	for _, tag := range tags {
		if tag == ref.Tag {
			continue
		}
		other, err := c.headManifest(ctx, ref.WithTag(tag), deleteAccess)
		if err == nil && other.Digest == desc.Digest {
			return fmt.Errorf("%s: %s is also tagged %s: %w", ref, desc.Digest, tag, ErrTagShared)
		}
		if err != nil && !isNotFound(err) {
			return err
		}
	}
	if err := c.deleteManifest(ctx, ref, desc.Digest.String()); err != nil && !isNotFound(err) {
		return err
	}
	return nil
}

// deleteManifest sends DELETE /v2/<repo>/manifests/<tag or digest>.
func (c *Client) deleteManifest(ctx context.Context, ref Reference, identifier string) error {
	return c.retrying(ctx, func(ctx context.Context, _ retry.Action) error {
		resp, err := c.do(ctx, &request{
			method:   http.MethodDelete,
			ref:      ref,
			endpoint: manifests,
			id:       identifier,
			access:   deleteAccess,
			expect:   []int{http.StatusAccepted, http.StatusOK, http.StatusNoContent},
		})
		if err != nil {
			return err
		}
		drain(resp)
		return nil
	})
}
