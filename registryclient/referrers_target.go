package registryclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	"github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// referrerTarget is a target that can make referrers findable by their subject once
// they are stored: a registry through its referrers API or the fallback tag, a layout
// through index.json.
type referrerTarget interface {
	target
	// putReferrerManifest stores m as putManifest does and reports whether the target
	// listed it under its subject by itself (a registry's OCI-Subject answer).
	putReferrerManifest(ctx context.Context, m Manifest, tag string) (listed bool, err error)
	// listsReferrers reports whether the target keeps referrers lists itself, asked
	// about subject, when no push has told yet.
	listsReferrers(ctx context.Context, subject digest.Digest) (bool, error)
	// indexReferrers records refs, all of subject, where the target does not list them
	// itself.
	indexReferrers(ctx context.Context, subject digest.Digest, refs []Referrer) error
}

// LayoutReferrerWriter is a LayoutWriter that records referrers, so that the layout
// read back lists them (package tarball's Writer).
type LayoutReferrerWriter interface {
	// AddReferrer records that the manifest desc, written as a blob, refers to
	// subject; under the tag in desc's AnnotationReferrerTag annotation when it has one.
	AddReferrer(subject digest.Digest, desc ocispec.Descriptor)
}

// fallbackAttempts bounds how often the fallback tag is read, merged and written while
// another client keeps changing it between the read and the write.
const fallbackAttempts = 5

// errFallbackContended is a fallback tag that never held what was written to it.
var errFallbackContended = errors.New("another client keeps rewriting the referrers tag")

func (t registryTarget) putReferrerManifest(ctx context.Context, m Manifest, tag string) (bool, error) {
	ref := t.repo
	if tag != "" {
		ref = t.repo.WithTag(tag)
	}
	h, err := t.c.putManifest(ctx, ref, m)
	return err == nil && h.Get("OCI-Subject") != "", err
}

func (t registryTarget) listsReferrers(ctx context.Context, subject digest.Digest) (bool, error) {
	_, _, err := t.c.referrersPage(ctx, &request{
		method:   http.MethodGet,
		ref:      t.repo,
		endpoint: referrers,
		id:       subject.String(),
		header:   http.Header{"Accept": {ocispec.MediaTypeImageIndex}},
		access:   pushAccess,
		expect:   []int{http.StatusOK},
	})
	switch {
	case err == nil:
		return true, nil
	case referrersAPIMissing(err):
		return false, nil
	}
	return false, fmt.Errorf("list referrers of %s: %w", t.repo.WithDigest(subject), err)
}

// indexReferrers adds the referrers found by their subject to the fallback tag's index,
// sorted by digest so that the same referrers always give the same index. Those kept
// under cosign's tags are found by the tag alone. It writes only when something is
// missing, and reads the tag again after writing, until it holds every one of refs.
func (t registryTarget) indexReferrers(ctx context.Context, subject digest.Digest, refs []Referrer) error {
	var want []ocispec.Descriptor
	for _, r := range refs {
		if r.Tag == "" {
			want = append(want, r.Descriptor)
		}
	}
	if len(want) == 0 {
		return nil
	}
	ref := t.repo.WithTag(fallbackTag(subject))
	for attempt := 0; ; attempt++ {
		have, err := t.c.fallbackIndex(ctx, ref)
		if err != nil {
			return err
		}
		merged, changed := mergeReferrers(have, want)
		if !changed {
			return nil
		}
		if attempt == fallbackAttempts {
			return fmt.Errorf("%s: %w; apply again once it is done", ref, errFallbackContended)
		}
		body, err := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: merged})
		if err != nil {
			return err
		}
		if err := t.c.PutManifest(ctx, ref, Manifest{MediaType: ocispec.MediaTypeImageIndex, Digest: digest.FromBytes(body), Body: body}); err != nil {
			return fmt.Errorf("list the referrers of %s under the tag %s: %w", subject, ref, err)
		}
	}
}

// fallbackIndex reads the referrers index under a fallback tag at a destination; none
// yet is an empty list. An image under that name is not ours to replace.
func (c *Client) fallbackIndex(ctx context.Context, ref Reference) ([]ocispec.Descriptor, error) {
	m, err := c.GetManifest(ctx, ref)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if !IsIndex(m.MediaType) {
		return nil, fmt.Errorf("%s holds a %s, not the index of referrers its name promises; remove that tag, then apply again: %w", ref, m.MediaType, ErrUnsupportedMediaType)
	}
	p, err := m.parse()
	if err != nil {
		return nil, err
	}
	return p.Manifests, nil
}

// mergeReferrers adds to have the descriptors of want it lacks, sorted by digest, and
// reports whether it added any.
func mergeReferrers(have, want []ocispec.Descriptor) ([]ocispec.Descriptor, bool) {
	merged := slices.Clone(have)
	changed := false
	for _, d := range want {
		if !slices.ContainsFunc(merged, func(h ocispec.Descriptor) bool { return h.Digest == d.Digest }) {
			merged = append(merged, d)
			changed = true
		}
	}
	slices.SortStableFunc(merged, func(a, b ocispec.Descriptor) int { return strings.Compare(a.Digest.String(), b.Digest.String()) })
	return merged, changed
}

func (t layoutTarget) putReferrerManifest(ctx context.Context, m Manifest, tag string) (bool, error) {
	return false, t.putManifest(ctx, m, tag)
}

func (t layoutTarget) listsReferrers(context.Context, digest.Digest) (bool, error) {
	return false, nil
}

// indexReferrers records every referrer, those under a cosign tag with the tag, so
// that the layout read back lists the same as the source did.
func (t layoutTarget) indexReferrers(_ context.Context, subject digest.Digest, refs []Referrer) error {
	w, ok := t.w.(LayoutReferrerWriter)
	if !ok {
		return fmt.Errorf("%s cannot record referrers; write it without them", t.w)
	}
	for _, r := range refs {
		d := r.Descriptor
		if r.Tag != "" {
			d.Annotations = map[string]string{AnnotationReferrerTag: r.Tag}
			for k, v := range r.Descriptor.Annotations {
				d.Annotations[k] = v
			}
		}
		w.AddReferrer(subject, d)
	}
	return nil
}
