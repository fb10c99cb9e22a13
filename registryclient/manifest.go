package registryclient

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/internal/retry"
)

// maxManifestSize bounds how much of a manifest is read into memory; distribution's own
// limit is 4 MiB.
const maxManifestSize = 4 << 20

// parsed is the union of the fields of an image manifest and an index.
type parsed struct {
	MediaType string               `json:"mediaType"`
	Config    ocispec.Descriptor   `json:"config"`
	Layers    []ocispec.Descriptor `json:"layers"`
	Manifests []ocispec.Descriptor `json:"manifests"`
	Subject   *ocispec.Descriptor  `json:"subject,omitempty"`
}

func (m Manifest) parse() (parsed, error) {
	var p parsed
	if err := json.Unmarshal(m.Body, &p); err != nil {
		return p, fmt.Errorf("parse manifest %s: %w", m.Digest, err)
	}
	return p, nil
}

// HeadManifest returns the digest, media type and size of ref's manifest at the cost of
// one HEAD (which Docker Hub does not count against the pull quota).
func (c *Client) HeadManifest(ctx context.Context, ref Reference) (ocispec.Descriptor, error) {
	return c.headManifest(ctx, ref, implied)
}

// headManifest is HeadManifest with the scopes of the operation it is part of: a copy
// reads its destination with the pull,push token it will write with, so one token
// serves both.
func (c *Client) headManifest(ctx context.Context, ref Reference, a access) (desc ocispec.Descriptor, err error) {
	var missing bool // the registry left Docker-Content-Digest out
	err = c.retrying(ctx, func(ctx context.Context, _ retry.Action) error {
		resp, err := c.do(ctx, &request{
			method:   http.MethodHead,
			ref:      ref,
			endpoint: manifests,
			id:       ref.identifier(),
			header:   http.Header{"Accept": {strings.Join(manifestAccept, ", ")}},
			access:   a,
			expect:   []int{http.StatusOK},
		})
		if err != nil {
			return err
		}
		resp.Body.Close()
		d, err := digest.Parse(resp.Header.Get("Docker-Content-Digest"))
		if missing = err != nil; missing {
			return nil
		}
		if ref.Digest != "" && d != ref.Digest {
			return corrupt(true, ErrDigestMismatch, "head manifest %s: registry answered %s", ref, d)
		}
		desc = ocispec.Descriptor{MediaType: mediaType(resp.Header.Get("Content-Type")), Digest: d, Size: resp.ContentLength}
		return nil
	})
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	if missing {
		// Some registries leave the header out of HEAD answers: fall back to reading it.
		m, err := c.GetManifest(ctx, ref)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		return ocispec.Descriptor{MediaType: m.MediaType, Digest: m.Digest, Size: int64(len(m.Body))}, nil
	}
	return desc, nil
}

// GetManifest reads ref's manifest and verifies it against the digest in ref (or, for a
// tag, against the registry's Docker-Content-Digest).
func (c *Client) GetManifest(ctx context.Context, ref Reference) (m Manifest, err error) {
	err = c.retrying(ctx, func(ctx context.Context, _ retry.Action) (err error) {
		m, err = c.getManifest(ctx, ref)
		return err
	})
	return m, err
}

// getManifest is one try at GetManifest.
func (c *Client) getManifest(ctx context.Context, ref Reference) (Manifest, error) {
	resp, err := c.do(ctx, &request{
		method:   http.MethodGet,
		ref:      ref,
		endpoint: manifests,
		id:       ref.identifier(),
		header:   http.Header{"Accept": {strings.Join(manifestAccept, ", ")}},
		expect:   []int{http.StatusOK},
	})
	if err != nil {
		return Manifest{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestSize+1))
	if err != nil {
		return Manifest{}, fmt.Errorf("get manifest %s: %w", ref, err)
	}
	if len(body) > maxManifestSize {
		return Manifest{}, fmt.Errorf("get manifest %s: larger than %d bytes: %w", ref, maxManifestSize, ErrManifestTooLarge)
	}
	m := Manifest{MediaType: mediaType(resp.Header.Get("Content-Type")), Body: body}
	// The body is checked against a well-formed digest of a supported algorithm: the
	// reference's own (which may come from an index, so it is validated too), else the
	// registry's header; a header that is not such a digest counts as missing.
	want := ref.Digest
	if want != "" {
		if err := want.Validate(); err != nil {
			return Manifest{}, fmt.Errorf("get manifest %s: digest %q: %w", ref, want, err)
		}
	} else if d, err := digest.Parse(resp.Header.Get("Docker-Content-Digest")); err == nil {
		want = d
	}
	if want != "" {
		if got := want.Algorithm().FromBytes(body); got != want {
			return Manifest{}, corrupt(true, ErrDigestMismatch, "get manifest %s: content hashes to %s, expected %s", ref, got, want)
		}
	}
	m.Digest = digest.FromBytes(body)
	if want != "" && want.Algorithm() != digest.Canonical {
		m.Digest = want
	}
	if m.MediaType == "" || m.MediaType == "application/json" || m.MediaType == "text/plain" {
		// Some registries serve a generic type: the body's own mediaType says what it is.
		var p struct {
			MediaType string `json:"mediaType"`
		}
		if json.Unmarshal(body, &p) == nil {
			m.MediaType = p.MediaType
		}
	}
	if isSchema1(m.MediaType) {
		return Manifest{}, fmt.Errorf("get manifest %s: Docker schema 1 manifests are not supported; pull and push the image with a current Docker to convert it: %w", ref, ErrUnsupportedMediaType)
	}
	if !IsIndex(m.MediaType) && !isImageManifest(m.MediaType) {
		return Manifest{}, fmt.Errorf("get manifest %s: media type %q: %w", ref, m.MediaType, ErrUnsupportedMediaType)
	}
	return m, nil
}

// PutManifest pushes m under ref's tag, or by its digest when ref has no tag.
func (c *Client) PutManifest(ctx context.Context, ref Reference, m Manifest) error {
	_, err := c.putManifest(ctx, ref, m)
	return err
}

// putManifest is PutManifest returning the registry's answer headers (OCI-Subject).
func (c *Client) putManifest(ctx context.Context, ref Reference, m Manifest) (http.Header, error) {
	at := ref.WithDigest(m.Digest)
	if ref.Tag != "" {
		at = ref.WithTag(ref.Tag)
	}
	var header http.Header
	err := c.retrying(ctx, func(ctx context.Context, _ retry.Action) error {
		resp, err := c.do(ctx, &request{
			method:   http.MethodPut,
			ref:      ref,
			endpoint: manifests,
			id:       at.identifier(),
			header:   http.Header{"Content-Type": {m.MediaType}},
			body:     func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(m.Body)), nil },
			size:     int64(len(m.Body)),
			expect:   []int{http.StatusCreated, http.StatusOK, http.StatusAccepted},
		})
		if err != nil {
			return err
		}
		drain(resp)
		if got := resp.Header.Get("Docker-Content-Digest"); got != "" && got != m.Digest.String() {
			// Sending it again settles whether the registry stored other bytes or the
			// answer was damaged on the way.
			return corrupt(true, ErrDigestMismatch, "put manifest %s: registry stored it as %s, expected %s", at, got, m.Digest)
		}
		header = resp.Header
		return nil
	})
	if err != nil {
		return nil, err
	}
	return header, nil
}

// mediaType strips parameters such as "; charset=utf-8" from a Content-Type.
func mediaType(contentType string) string {
	mt, _, _ := strings.Cut(contentType, ";")
	return strings.TrimSpace(mt)
}
