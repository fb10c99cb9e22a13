package registryclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"sync"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/internal/retry"
)

// Layers a docker-save archive holds uncompressed, and what they become compressed.
var compressedType = map[string]string{
	ocispec.MediaTypeImageLayer:                    ocispec.MediaTypeImageLayerGzip,
	"application/vnd.docker.image.rootfs.diff.tar": MediaTypeDockerLayer,
}

// uncompressed reports whether a layer media type is an uncompressed tar.
func uncompressed(mediaType string) bool {
	_, ok := compressedType[mediaType]
	return ok
}

// compressions is what a copy knows about compressed layers: diffID → compressed layer,
// from earlier copies and from this one.
type compressions struct {
	mu    sync.Mutex
	known map[digest.Digest]ocispec.Descriptor
}

func newCompressions(known map[digest.Digest]ocispec.Descriptor) *compressions {
	k := make(map[digest.Digest]ocispec.Descriptor, len(known))
	for d, desc := range known {
		k[d] = desc
	}
	return &compressions{known: k}
}

func (cs *compressions) get(diffID digest.Digest) (ocispec.Descriptor, bool) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	d, ok := cs.known[diffID]
	return d, ok
}

func (cs *compressions) put(diffID digest.Digest, desc ocispec.Descriptor) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	cs.known[diffID] = desc
}

// used returns everything known, for the caller to remember.
func (cs *compressions) used() map[digest.Digest]ocispec.Descriptor {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	out := make(map[digest.Digest]ocispec.Descriptor, len(cs.known))
	for d, desc := range cs.known {
		out[d] = desc
	}
	return out
}

// rewrite returns m as it will be pushed with its uncompressed layers compressed, when
// every one of them was compressed before: the digest is then known without reading a
// layer.
func (cs *compressions) rewrite(m Manifest) (Manifest, bool) {
	p, err := m.parse()
	if err != nil || IsIndex(m.MediaType) {
		return m, false
	}
	layers := slices.Clone(p.Layers)
	for i, l := range layers {
		if !uncompressed(l.MediaType) {
			continue
		}
		c, ok := cs.get(l.Digest)
		if !ok {
			return m, false
		}
		layers[i] = c
	}
	out, err := withLayers(m, layers)
	return out, err == nil
}

// PlanCompressed returns the manifest a Copy with Compress would push, when every
// uncompressed layer of m is in known; ok is false when some layer must be compressed
// first, and the digest is known only then.
func PlanCompressed(m Manifest, known map[digest.Digest]ocispec.Descriptor) (Manifest, bool) {
	return newCompressions(known).rewrite(m)
}

// withLayers returns m with its layers replaced, re-encoding the manifest only when a
// layer changed: an untouched manifest keeps its bytes and digest.
func withLayers(m Manifest, layers []ocispec.Descriptor) (Manifest, error) {
	p, err := m.parse()
	if err != nil {
		return Manifest{}, err
	}
	same := len(layers) == len(p.Layers)
	for i := range layers {
		same = same && layers[i].Digest == p.Layers[i].Digest && layers[i].MediaType == p.Layers[i].MediaType
	}
	if same {
		return m, nil
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(m.Body, &fields); err != nil {
		return Manifest{}, fmt.Errorf("parse manifest %s: %w", m.Digest, err)
	}
	encoded, err := json.Marshal(layers)
	if err != nil {
		return Manifest{}, err
	}
	fields["layers"] = encoded
	body, err := json.Marshal(fields) // keys sorted: the same layers always give the same bytes
	if err != nil {
		return Manifest{}, err
	}
	return Manifest{MediaType: m.MediaType, Digest: digest.FromBytes(body), Body: body}, nil
}

// compressLayer gets an uncompressed layer into dst compressed, and returns the
// compressed layer's descriptor. A layer compressed before and present at dst costs one
// HEAD. Otherwise it is read once, verified against its diffID, compressed once, and
// hashed and uploaded in the same pass: its digest is learned as the upload ends.
func (t registryTarget) compressLayer(ctx context.Context, w *walk, layer ocispec.Descriptor) (ocispec.Descriptor, error) {
	dst := t.repo
	if c, ok := w.compressed.get(layer.Digest); ok {
		exists, err := w.c.blobExists(ctx, dst, c.Digest, pushAccess)
		if err != nil {
			return ocispec.Descriptor{}, err
		}
		if exists {
			return c, nil
		}
	}
	key := dst.apiHost() + "/" + dst.Repository + "@" + layer.Digest.String()
	c, err := w.c.compressing.Do(ctx, key, func(ctx context.Context) (c ocispec.Descriptor, err error) {
		err = w.c.retrying(ctx, func(ctx context.Context, _ retry.Action) error {
			release, err := w.c.transferSlot(ctx)
			if err != nil {
				return err
			}
			defer release()
			// Compressing is CPU-bound: more layers at once than cores only adds memory
			// (each compressor holds its blocks in flight).
			select {
			case w.c.compressors <- struct{}{}:
				defer func() { <-w.c.compressors }()
			case <-ctx.Done():
				return ctx.Err()
			}
			c, err = w.c.pushCompressed(ctx, w.src, dst, layer)
			return err
		})
		return c, err
	})
	if err != nil {
		return ocispec.Descriptor{}, fmt.Errorf("compress layer %s: %w", layer.Digest, err)
	}
	w.compressed.put(layer.Digest, c)
	return c, nil
}

// pushCompressed makes one attempt: open an upload, stream the compressed layer in one
// PATCH of unknown length while hashing it, then close the upload with the digest.
func (c *Client) pushCompressed(ctx context.Context, src Source, dst Reference, layer ocispec.Descriptor) (ocispec.Descriptor, error) {
	u, err := c.startUpload(ctx, dst)
	if err != nil {
		return ocispec.Descriptor{}, err
	}
	raw, err := openVerified(ctx, src, layer)
	if err != nil {
		c.cancel(ctx, u)
		return ocispec.Descriptor{}, err
	}
	z := startCompressing(raw, layer.Digest.Algorithm(), &c.gzipWriters)
	resp, err := c.do(ctx, &request{
		method:   http.MethodPatch,
		ref:      u.ref,
		endpoint: blobUploads,
		loc:      u.loc,
		header:   http.Header{"Content-Type": {"application/octet-stream"}},
		body:     oneShot(z),
		size:     -1,
		expect:   []int{http.StatusAccepted, http.StatusCreated, http.StatusNoContent},
		session:  true,
	})
	d, size, zerr := z.finish()
	if zerr != nil && (err == nil || !errors.Is(zerr, errUploadStopped)) {
		err = zerr // what was wrong with the source says more than the failed request
	}
	if err == nil {
		drain(resp)
		if err = u.follow(resp); errors.Is(err, errNoLocation) {
			err = nil
		}
	}
	if err == nil {
		var done *http.Response
		done, err = c.do(ctx, &request{
			method:   http.MethodPut,
			ref:      u.ref,
			endpoint: blobUploads,
			loc:      u.loc,
			query:    url.Values{"digest": {d.String()}},
			body:     emptyBody,
			expect:   []int{http.StatusCreated, http.StatusNoContent},
			session:  true,
		})
		if err == nil {
			drain(done)
		}
	}
	if err != nil {
		c.cancel(ctx, u)
		return ocispec.Descriptor{}, err
	}
	return ocispec.Descriptor{MediaType: compressedType[layer.MediaType], Digest: d, Size: size}, nil
}
