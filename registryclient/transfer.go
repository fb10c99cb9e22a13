package registryclient

import (
	"context"
	"io"

	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
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

// transferBlob moves one blob the destination lacks. Only the move itself holds one of
// the max_parallel_transfers slots: the existence check does not.
func (c *Client) transferBlob(ctx context.Context, src Source, dst Reference, desc ocispec.Descriptor) error {
	exists, err := c.blobExists(ctx, dst, desc.Digest, push(dst))
	if err != nil || exists {
		return err
	}
	release, err := c.transferSlot(ctx)
	if err != nil {
		return err
	}
	defer release()
	for attempt := 0; ; attempt++ {
		err := c.pushBlob(ctx, src, dst, desc)
		if err == nil || attempt >= c.maxRetries || !temporary(err) {
			return err
		}
		if werr := c.wait(ctx, attempt, 0); werr != nil {
			return werr
		}
	}
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

// pushBlob makes one attempt at getting desc into dst: a mount when both repositories
// are on one registry, else an upload streamed from the source.
func (c *Client) pushBlob(ctx context.Context, src Source, dst Reference, desc ocispec.Descriptor) error {
	if repo, ok := src.(repository); ok && repo.ref.apiHost() == dst.apiHost() && repo.ref.Repository != dst.Repository {
		u, err := c.mountBlob(ctx, dst, repo.ref.Repository, desc.Digest)
		switch {
		case err == nil && u == nil:
			return nil
		case err == nil:
			return c.upload(ctx, u, src, desc, nil)
		}
		// A mount the registry rejects outright (no pull on the other repository, say)
		// is no reason to fail: upload instead.
	}
	var early *earlyOpen
	if desc.Size <= c.chunkSize {
		early = openEarly(ctx, src, desc)
	}
	u, err := c.startUpload(ctx, dst)
	if err != nil {
		early.discard()
		return err
	}
	return c.upload(ctx, u, src, desc, early)
}

// upload sends desc into the open session u: in one PUT, or in chunks when it is large.
// A failed upload is cancelled, unless the blob arrived after all.
func (c *Client) upload(ctx context.Context, u *upload, src Source, desc ocispec.Descriptor, early *earlyOpen) error {
	var err error
	if desc.Size > c.chunkSize {
		err = c.putChunked(ctx, u, desc, func(offset int64) (io.ReadCloser, error) { return src.OpenBlob(ctx, desc, offset) })
	} else {
		var body *verifier
		err = c.putMonolithic(ctx, u, desc, func() (io.ReadCloser, error) {
			rc, err := early.take()
			if rc == nil && err == nil {
				rc, err = openVerified(ctx, src, desc)
			}
			body, _ = rc.(*verifier)
			return rc, err
		})
		early.discard()
		if err != nil && body != nil && body.err() != nil {
			// The registry may answer DIGEST_INVALID before the transport reports our
			// verifier's error; ours says what was wrong with the source.
			err = body.err()
		}
	}
	if err != nil {
		// What was lost may be only the answer to the closing PUT, with the blob stored.
		if exists, herr := c.blobExists(ctx, u.ref, desc.Digest, push(u.ref)); herr == nil && exists {
			return nil
		}
		c.cancel(ctx, u)
	}
	return err
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

// take returns the early stream the first time and (nil, nil) after, when a retried
// request must open the source again.
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
