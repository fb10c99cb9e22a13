package registryclient

import (
	"context"
	"fmt"
	"hash"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/internal/retry"
)

// copyBlob copies one blob unless the destination has it. Two copies of the same blob
// into one repository at the same time share a single upload.
func (c *Client) copyBlob(ctx context.Context, src Source, dst Reference, desc ocispec.Descriptor) error {
	key := dst.apiHost() + "/" + dst.Repository + "@" + desc.Digest.String()
	_, err := c.uploads.Do(ctx, key, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, c.transferBlob(ctx, src, dst, desc)
	})
	return err
}

// transferBlob gets one blob into dst: one operation, tried again as the retry policy
// says. Whatever failed (the source's answer, the bytes it sent, the destination's
// session, its verdict on what arrived), the next attempt resumes the upload session or
// starts a new one, reading the source again; when the failed attempt had sent the
// request that completes the upload, it first asks whether the blob arrived after all.
func (c *Client) transferBlob(ctx context.Context, src Source, dst Reference, desc ocispec.Descriptor) error {
	t := &transfer{c: c, src: src, dst: dst, desc: desc, unsure: true}
	err := c.retrying(ctx, t.attempt)
	t.abandon(ctx)
	if err != nil {
		return fmt.Errorf("copy blob %s (%d bytes): %w", desc.Digest, desc.Size, err)
	}
	return nil
}

// transfer is one blob on its way from a source to a destination repository.
type transfer struct {
	c    *Client
	src  Source
	dst  Reference
	desc ocispec.Descriptor

	// A chunked upload in progress, kept between attempts so that it resumes where the
	// registry says it stands: the session, how many bytes it acknowledged, and the
	// hash of those bytes.
	u      *upload
	offset int64
	hashed hash.Hash

	// unsure is set until the destination has said it lacks the blob, and again once an
	// attempt sends the request that completes the upload: if that answer is lost, the
	// blob may be stored.
	unsure bool
}

// attempt makes one try. Only the move itself holds one of the max_parallel_transfers
// slots: the existence check and the waits between attempts do not.
func (t *transfer) attempt(ctx context.Context, next retry.Action) error {
	if next == retry.Restart {
		t.abandon(ctx)
	}
	if t.unsure {
		exists, err := t.c.headBlob(ctx, t.dst, t.desc.Digest, pushAccess)
		if err != nil || exists {
			return err
		}
		t.unsure = false
	}
	release, err := t.c.transferSlot(ctx)
	if err != nil {
		return err
	}
	defer release()
	if t.u != nil {
		return t.putChunked(ctx, true)
	}
	if repo, ok := t.src.(repository); ok && repo.ref.apiHost() == t.dst.apiHost() && repo.ref.Repository != t.dst.Repository {
		u, err := t.c.mountBlob(ctx, t.dst, repo.ref.Repository, t.desc.Digest)
		switch {
		case err == nil && u == nil:
			return nil
		case err == nil:
			return t.upload(ctx, u, nil)
		}
		// A mount the registry rejects outright (no pull on the other repository, say)
		// is no reason to fail: upload instead.
	}
	var early *earlyOpen
	if t.desc.Size <= t.c.chunkSize {
		early = openEarly(ctx, t.src, t.desc)
	}
	u, err := t.c.startUpload(ctx, t.dst)
	if err != nil {
		early.discard()
		return err
	}
	return t.upload(ctx, u, early)
}

// transferSlot waits for one of the max_parallel_transfers slots.
func (c *Client) transferSlot(ctx context.Context) (release func(), err error) {
	select {
	case c.transfers <- struct{}{}:
		return func() { <-c.transfers }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// upload sends the blob into the new session u: in one PUT, or in chunks when it is
// large. A failed PUT's session is cancelled at once; a chunked session is kept for
// the next attempt to resume.
func (t *transfer) upload(ctx context.Context, u *upload, early *earlyOpen) error {
	if t.desc.Size > t.c.chunkSize {
		t.u, t.offset, t.hashed = u, 0, t.desc.Digest.Algorithm().Hash()
		return t.putChunked(ctx, false)
	}
	var body *verifier
	t.unsure = true
	err := t.c.putMonolithic(ctx, u, t.desc, func() (io.ReadCloser, error) {
		rc, err := early.take()
		if rc == nil && err == nil {
			rc, err = openVerified(ctx, t.src, t.desc)
		}
		body, _ = rc.(*verifier)
		return rc, err
	})
	early.discard()
	if err != nil {
		if body != nil && body.err() != nil {
			// The registry may answer DIGEST_INVALID before the transport reports our
			// verifier's error; ours says what was wrong with the source.
			err = body.err()
		}
		t.c.cancel(ctx, u)
	}
	return err
}

// abandon cancels the session a chunked upload kept, if any.
func (t *transfer) abandon(ctx context.Context) {
	if t.u != nil {
		t.c.cancel(ctx, t.u)
		t.u = nil
	}
}

// earlyOpen is a source GET sent while the destination opens its upload session, so
// the PUT can start as soon as both have answered: a round trip saved per blob.
type earlyOpen struct {
	result chan earlyResult
	taken  bool
}

type earlyResult struct {
	rc  io.ReadCloser
	err error
}

func openEarly(ctx context.Context, src Source, desc ocispec.Descriptor) *earlyOpen {
	e := &earlyOpen{result: make(chan earlyResult, 1)}
	go func() {
		rc, err := openVerified(ctx, src, desc)
		e.result <- earlyResult{rc, err}
	}()
	return e
}

// take returns the early stream the first time and (nil, nil) after, when a request
// sent again must open the source again.
func (e *earlyOpen) take() (io.ReadCloser, error) {
	if e == nil || e.taken {
		return nil, nil
	}
	e.taken = true
	r := <-e.result
	return r.rc, r.err
}

// discard closes the early stream if nobody took it.
func (e *earlyOpen) discard() {
	if rc, _ := e.take(); rc != nil {
		rc.Close()
	}
}
