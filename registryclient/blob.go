package registryclient

import (
	"context"
	"fmt"
	"hash"
	"io"
	"net/http"
	"strconv"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/internal/retry"
)

// BlobExists reports whether ref's repository already holds blob d.
func (c *Client) BlobExists(ctx context.Context, ref Reference, d digest.Digest) (bool, error) {
	return c.blobExists(ctx, ref, d, implied)
}

// blobExists asks ref's repository whether it holds blob d, as an operation of its own.
func (c *Client) blobExists(ctx context.Context, ref Reference, d digest.Digest, a access) (exists bool, err error) {
	err = c.retrying(ctx, func(ctx context.Context, _ retry.Action) error {
		exists, err = c.headBlob(ctx, ref, d, a)
		return err
	})
	return exists, err
}

// headBlob asks once whether ref's repository holds blob d.
func (c *Client) headBlob(ctx context.Context, ref Reference, d digest.Digest, a access) (bool, error) {
	resp, err := c.do(ctx, &request{
		method:   http.MethodHead,
		ref:      ref,
		endpoint: blobs,
		id:       d.String(),
		access:   a,
		expect:   []int{http.StatusOK},
	})
	if err != nil {
		if isNotFound(err) {
			return false, nil
		}
		return false, err
	}
	resp.Body.Close()
	return true, nil
}

// OpenBlob streams blob desc from ref's repository. Reading it to the end verifies its
// size and digest: a mismatch is an error from Read, never silently accepted content.
// Opening is tried again as the retry policy says; reading is the caller's.
func (c *Client) OpenBlob(ctx context.Context, ref Reference, desc ocispec.Descriptor) (io.ReadCloser, error) {
	var rc io.ReadCloser
	err := c.retrying(ctx, func(ctx context.Context, _ retry.Action) (err error) {
		rc, err = c.openBlobAt(ctx, ref, desc, 0)
		return err
	})
	if err != nil {
		return nil, err
	}
	return newVerifier(rc, desc, ref.WithDigest(desc.Digest).String(), true)
}

// openBlobAt streams blob desc from byte offset on, unverified: the caller hashes. It
// is one request: the caller's operation decides about trying again.
func (c *Client) openBlobAt(ctx context.Context, ref Reference, desc ocispec.Descriptor, offset int64) (io.ReadCloser, error) {
	r := &request{
		method:   http.MethodGet,
		ref:      ref,
		endpoint: blobs,
		id:       desc.Digest.String(),
		expect:   []int{http.StatusOK},
	}
	if offset > 0 {
		r.header = http.Header{"Range": {"bytes=" + strconv.FormatInt(offset, 10) + "-"}}
		r.expect = []int{http.StatusOK, http.StatusPartialContent}
	}
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, err
	}
	want := desc.Size - offset
	if resp.StatusCode == http.StatusOK && offset > 0 {
		// The registry ignored the Range header: skip to the offset ourselves.
		if _, err := io.CopyN(io.Discard, resp.Body, offset); err != nil {
			resp.Body.Close()
			return nil, r.failed(fmt.Errorf("skip to byte %d: %w", offset, err))
		}
		if resp.ContentLength >= 0 {
			resp.ContentLength -= offset
		}
	}
	if desc.Size > 0 && resp.ContentLength >= 0 && resp.ContentLength != want {
		resp.Body.Close()
		return nil, corrupt(true, ErrUnexpectedContentSize, "get blob %s: registry sends %d bytes, manifest says %d", ref.WithDigest(desc.Digest), resp.ContentLength, want)
	}
	return resp.Body, nil
}

// verifier hashes what passes through it and fails the final Read when the content is
// not the blob it claims to be.
type verifier struct {
	rc     io.ReadCloser
	hash   hash.Hash
	want   ocispec.Descriptor
	name   string
	remote bool // read from a registry, not a local file
	n      int64

	mu     sync.Mutex // failed is read by the uploader while the transport may still Read
	failed error
}

func newVerifier(rc io.ReadCloser, desc ocispec.Descriptor, name string, remote bool) (*verifier, error) {
	if err := desc.Digest.Validate(); err != nil {
		rc.Close()
		return nil, fmt.Errorf("blob %s: %w", name, err)
	}
	return &verifier{rc: rc, hash: desc.Digest.Algorithm().Hash(), want: desc, name: name, remote: remote}, nil
}

func (v *verifier) Read(p []byte) (int, error) {
	if err := v.err(); err != nil {
		return 0, err
	}
	n, err := v.rc.Read(p)
	v.hash.Write(p[:n])
	v.n += int64(n)
	if v.want.Size > 0 && v.n > v.want.Size {
		return n, v.fail(corrupt(v.remote, ErrUnexpectedContentSize, "blob %s: more than the %d bytes expected", v.name, v.want.Size))
	}
	if err == io.EOF {
		if v.want.Size > 0 && v.n != v.want.Size {
			return n, v.fail(corrupt(v.remote, ErrUnexpectedContentSize, "blob %s: %d bytes, expected %d", v.name, v.n, v.want.Size))
		}
		if got := digest.NewDigestFromBytes(v.want.Digest.Algorithm(), v.hash.Sum(nil)); got != v.want.Digest {
			return n, v.fail(corrupt(v.remote, ErrDigestMismatch, "blob %s: content hashes to %s", v.name, got))
		}
	}
	return n, err
}

func (v *verifier) fail(err error) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.failed = err
	return err
}

// err is the verification failure, if reading found one.
func (v *verifier) err() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.failed
}

func (v *verifier) Close() error { return v.rc.Close() }
