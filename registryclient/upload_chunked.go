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
)

// errBodyConsumed means a request had to be sent again (new credentials after a 401)
// but its body was a stream already sent: the operation tries again from what the
// registry holds.
var errBodyConsumed = errors.New("request body already sent")

// DefaultChunkSize is the size of one PATCH in a chunked upload; blobs up to this size
// go in a single PUT.
const DefaultChunkSize = 64 << 20

// putChunked streams the blob into the session t.u in PATCH requests of at least the
// registry's OCI-Chunk-Min-Length, then closes the session with PUT ?digest=. When
// resuming (a chunk failed in an earlier attempt: dropped connection, 416, 5xx), it
// first asks the registry how much it holds and goes on from there, re-opening the
// source at that offset: a dropped connection late in a large layer does not send the
// layer again. The content is hashed on the way and checked before the closing PUT.
func (t *transfer) putChunked(ctx context.Context, resuming bool) error {
	u := t.u
	if resuming {
		acked, err := t.c.uploadOffset(ctx, u)
		if err != nil {
			return err
		}
		if acked < t.offset || acked > t.desc.Size {
			return corrupt(true, ErrUnexpectedContentSize, "upload of %s: the registry holds %d bytes, after acknowledging %d", u.ref.WithDigest(t.desc.Digest), acked, t.offset)
		}
		if err := t.advance(ctx, acked); err != nil {
			return err
		}
	}
	var src io.ReadCloser // positioned at t.offset; opened only while bytes remain to send
	defer func() {
		if src != nil {
			src.Close()
		}
	}()
	chunk := max(t.c.chunkSize, u.minChunk)
	for t.offset < t.desc.Size {
		if src == nil {
			var err error
			if src, err = t.src.OpenBlob(ctx, t.desc, t.offset); err != nil {
				return err
			}
		}
		n := min(chunk, t.desc.Size-t.offset)
		next, err := cloneHash(t.desc.Digest.Algorithm(), t.hashed)
		if err != nil {
			return err
		}
		acked, err := t.c.patchChunk(ctx, u, io.TeeReader(io.LimitReader(src, n), next), t.offset, n)
		if err != nil {
			return err
		}
		if acked == t.offset+n {
			t.hashed, t.offset = next, acked
			continue
		}
		// The registry took part of the chunk: hash exactly that part before going on.
		if acked < t.offset || acked > t.offset+n {
			return corrupt(true, ErrUnexpectedContentSize, "upload of %s: the registry holds %d bytes after a chunk ending at %d", u.ref.WithDigest(t.desc.Digest), acked, t.offset+n)
		}
		src.Close()
		src = nil
		if err := t.advance(ctx, acked); err != nil {
			return err
		}
	}
	if got := digest.NewDigestFromBytes(t.desc.Digest.Algorithm(), t.hashed.Sum(nil)); got != t.desc.Digest {
		return corrupt(fromRegistry(t.src), ErrDigestMismatch, "blob %s@%s: content hashes to %s", t.src, t.desc.Digest, got)
	}
	t.unsure = true
	resp, err := t.c.do(ctx, &request{
		method:   http.MethodPut,
		ref:      u.ref,
		endpoint: blobUploads,
		loc:      u.loc,
		query:    url.Values{"digest": {t.desc.Digest.String()}},
		body:     emptyBody,
		expect:   []int{http.StatusCreated, http.StatusNoContent},
		session:  true,
	})
	if err != nil {
		return err
	}
	drain(resp)
	t.u = nil // the session is closed: nothing to cancel
	return nil
}

// advance hashes the source's bytes from t.offset up to to, which the registry holds.
func (t *transfer) advance(ctx context.Context, to int64) error {
	if to == t.offset {
		return nil
	}
	src, err := t.src.OpenBlob(ctx, t.desc, t.offset)
	if err != nil {
		return err
	}
	defer src.Close()
	if _, err := io.CopyN(t.hashed, src, to-t.offset); err != nil {
		return fmt.Errorf("read %s bytes %d-%d again: %w", t.src, t.offset, to-1, err)
	}
	t.offset = to
	return nil
}

// patchChunk sends n bytes at offset and returns how many bytes the registry now holds.
func (c *Client) patchChunk(ctx context.Context, u *upload, body io.Reader, offset, n int64) (int64, error) {
	resp, err := c.do(ctx, &request{
		method:   http.MethodPatch,
		ref:      u.ref,
		endpoint: blobUploads,
		loc:      u.loc,
		header: http.Header{
			"Content-Type": {"application/octet-stream"},
			// Inclusive, and without the "bytes " prefix of an HTTP Content-Range.
			"Content-Range": {strconv.FormatInt(offset, 10) + "-" + strconv.FormatInt(offset+n-1, 10)},
		},
		body: oneShot(body),
		size: n,
		// ECR answers 201 to a PATCH.
		expect:  []int{http.StatusAccepted, http.StatusCreated, http.StatusNoContent},
		session: true,
	})
	if err != nil {
		return 0, fmt.Errorf("bytes %d-%d: %w", offset, offset+n-1, err)
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
		method:   http.MethodGet,
		ref:      u.ref,
		endpoint: blobUploads,
		loc:      u.loc,
		access:   pushAccess,
		expect:   []int{http.StatusNoContent, http.StatusOK},
		session:  true,
	})
	if err != nil {
		return 0, err
	}
	drain(resp)
	if err := u.follow(resp); err != nil && !errors.Is(err, errNoLocation) {
		return 0, err
	}
	end, _ := parseRange(resp.Header.Get("Range"))
	return end, nil
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

// oneShot is the body of a request that streams r: it can be sent once.
func oneShot(r io.Reader) func() (io.ReadCloser, error) {
	sent := false
	return func() (io.ReadCloser, error) {
		if sent {
			return nil, errBodyConsumed
		}
		sent = true
		return io.NopCloser(r), nil
	}
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
