package registryclient

import (
	"context"
	"encoding"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// errBodyConsumed stops do() from re-sending a chunk whose stream it already read; the
// chunked upload then resumes from what the registry acknowledges.
var errBodyConsumed = errors.New("chunk body already sent")

// errSessionLost means the registry no longer tells where an upload stands (distribution
// refuses a Location whose _state is stale after a broken PATCH): start the blob again.
var errSessionLost = errors.New("upload session lost")

// DefaultChunkSize is the size of one PATCH in a chunked upload; blobs up to this size
// go in a single PUT.
const DefaultChunkSize = 64 << 20

// putChunked streams desc in PATCH requests of at least the registry's
// OCI-Chunk-Min-Length, then closes the session with PUT ?digest=. When a chunk fails
// (dropped connection, 416, 5xx), it asks the registry how much it holds and resumes
// from there, re-opening the source at that offset: a dropped connection late in a
// large layer does not send the layer again. The content is hashed on the way and
// checked before the closing PUT.
func (c *Client) putChunked(ctx context.Context, u *upload, desc ocispec.Descriptor, open func(offset int64) (io.ReadCloser, error)) error {
	chunk := max(c.chunkSize, u.minChunk)
	hashed := desc.Digest.Algorithm().Hash() // hash of bytes [0, offset)
	var offset int64
	var src io.ReadCloser
	defer func() {
		if src != nil {
			src.Close()
		}
	}()
	for failures := 0; offset < desc.Size; {
		if src == nil {
			var err error
			if src, err = open(offset); err != nil {
				return err
			}
		}
		n := min(chunk, desc.Size-offset)
		next, err := cloneHash(desc.Digest.Algorithm(), hashed)
		if err != nil {
			return err
		}
		acked, err := c.patchChunk(ctx, u, io.TeeReader(io.LimitReader(src, n), next), offset, n)
		if err == nil && acked == offset+n {
			hashed, offset = next, acked
			continue
		}
		// The chunk failed or landed partly: the source stream is in an unknown place.
		src.Close()
		src = nil
		if err != nil {
			if failures++; failures > c.maxRetries || !temporary(err) && !errors.Is(err, errBodyConsumed) && !isRangeError(err) {
				return err
			}
			if werr := c.wait(ctx, failures-1, 0); werr != nil {
				return werr
			}
			if acked, err = c.uploadOffset(ctx, u); err != nil {
				if ctx.Err() != nil || errors.Is(err, ErrUnauthorized) || errors.Is(err, ErrDenied) {
					return err
				}
				return fmt.Errorf("%w: %w", errSessionLost, err)
			}
		}
		if acked < offset || acked > offset+n {
			return fmt.Errorf("put blob %s: registry holds %d bytes after a chunk ending at %d: %w", u.ref.WithDigest(desc.Digest), acked, offset+n, ErrUnexpectedContentSize)
		}
		if acked > offset {
			// Part of the chunk arrived: hash exactly that part before going on.
			if hashed, src, err = c.skipTo(hashed, open, offset, acked); err != nil {
				return err
			}
			offset = acked
		}
	}
	if got := digest.NewDigestFromBytes(desc.Digest.Algorithm(), hashed.Sum(nil)); got != desc.Digest {
		return fmt.Errorf("put blob %s: source content hashes to %s: %w", u.ref.WithDigest(desc.Digest), got, ErrDigestMismatch)
	}
	resp, err := c.do(ctx, &request{
		method: http.MethodPut,
		host:   u.ref.apiHost(),
		loc:    u.loc,
		query:  url.Values{"digest": {desc.Digest.String()}},
		body:   emptyBody,
		scopes: push(u.ref),
		expect: []int{http.StatusCreated, http.StatusNoContent},
	})
	if err != nil {
		return fmt.Errorf("close upload of %s: %w", u.ref.WithDigest(desc.Digest), err)
	}
	drain(resp)
	return nil
}

// patchChunk sends n bytes at offset and returns how many bytes the registry now holds.
func (c *Client) patchChunk(ctx context.Context, u *upload, body io.Reader, offset, n int64) (int64, error) {
	sent := false
	resp, err := c.do(ctx, &request{
		method: http.MethodPatch,
		host:   u.ref.apiHost(),
		loc:    u.loc,
		header: http.Header{
			"Content-Type": {"application/octet-stream"},
			// Inclusive, and without the "bytes " prefix of an HTTP Content-Range.
			"Content-Range": {strconv.FormatInt(offset, 10) + "-" + strconv.FormatInt(offset+n-1, 10)},
		},
		body: func() (io.ReadCloser, error) {
			if sent {
				return nil, errBodyConsumed
			}
			sent = true
			return io.NopCloser(body), nil
		},
		size:   n,
		scopes: push(u.ref),
		// ECR answers 201 to a PATCH.
		expect: []int{http.StatusAccepted, http.StatusCreated, http.StatusNoContent},
		once:   true,
	})
	if err != nil {
		return 0, fmt.Errorf("patch %s bytes %d-%d: %w", u.ref.Name(), offset, offset+n-1, err)
	}
	drain(resp)
	if err := u.follow(resp); err != nil && !errors.Is(err, errNoLocation) {
		return 0, err
	}
	if end, ok := parseRange(resp.Header.Get("Range")); ok {
		return end, nil
	}
	return offset + n, nil // no Range header: the registry took the whole chunk
}

// uploadOffset asks the registry how many bytes of the session it holds.
func (c *Client) uploadOffset(ctx context.Context, u *upload) (int64, error) {
	resp, err := c.do(ctx, &request{
		method: http.MethodGet,
		host:   u.ref.apiHost(),
		loc:    u.loc,
		scopes: push(u.ref),
		expect: []int{http.StatusNoContent, http.StatusOK},
	})
	if err != nil {
		return 0, fmt.Errorf("upload status of %s: %w", u.ref.Name(), err)
	}
	drain(resp)
	if err := u.follow(resp); err != nil && !errors.Is(err, errNoLocation) {
		return 0, err
	}
	end, _ := parseRange(resp.Header.Get("Range"))
	return end, nil
}

// skipTo re-opens the source at from and hashes it up to to, returning the hash of
// [0, to) and the source positioned at to.
func (c *Client) skipTo(hashed hash.Hash, open func(int64) (io.ReadCloser, error), from, to int64) (hash.Hash, io.ReadCloser, error) {
	src, err := open(from)
	if err != nil {
		return nil, nil, err
	}
	if _, err := io.CopyN(hashed, src, to-from); err != nil {
		src.Close()
		return nil, nil, fmt.Errorf("re-read source bytes %d-%d: %w", from, to-1, err)
	}
	return hashed, src, nil
}

// parseRange reads an upload's "0-<end>" Range header into the number of bytes held.
// Distribution answers "0-0" for an empty session as well as for one byte; an empty
// session is by far the likelier, and resuming from 0 is the safe reading.
func parseRange(v string) (int64, bool) {
	v = strings.TrimPrefix(strings.TrimSpace(v), "bytes=")
	start, end, ok := strings.Cut(v, "-")
	if !ok || start != "0" {
		return 0, false
	}
	e, err := strconv.ParseInt(end, 10, 64)
	if err != nil || e < 0 {
		return 0, false
	}
	if e == 0 {
		return 0, true
	}
	return e + 1, true
}

// cloneHash copies a hash's state, so a chunk can be hashed provisionally and the
// hash of what the registry acknowledged kept aside.
func cloneHash(alg digest.Algorithm, h hash.Hash) (hash.Hash, error) {
	m, ok := h.(encoding.BinaryMarshaler)
	if !ok {
		return nil, fmt.Errorf("hash %T cannot be cloned", h)
	}
	state, err := m.MarshalBinary()
	if err != nil {
		return nil, err
	}
	clone := alg.Hash()
	if err := clone.(encoding.BinaryUnmarshaler).UnmarshalBinary(state); err != nil {
		return nil, fmt.Errorf("clone hash: %w", err)
	}
	return clone, nil
}

func isRangeError(err error) bool {
	var e *Error
	return errors.As(err, &e) && (e.Status == http.StatusRequestedRangeNotSatisfiable || e.hasCode("RANGE_INVALID"))
}
