package registryclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Referrers are the artifacts (signatures, SBOMs, attestations) that refer to a
// manifest. A registry keeps them in one of three places, and all three are read:
//   - the OCI 1.1 referrers API, GET /v2/<name>/referrers/<digest>: an index of every
//     manifest whose subject is <digest>, kept by the registry itself;
//   - where the registry lacks that API (it answers 404), the fallback tag
//     sha256-<hex>: an index of the same manifests, kept by the clients that pushed them;
//   - cosign's tags sha256-<hex>.sig, .att and .sbom: manifests without a subject,
//     found by their name alone.

// AnnotationReferrerTag marks, in a descriptor a ReferrerLister returns, a referrer
// found under a tag named after its subject (cosign's "sha256-<hex>.sig") rather than
// by its subject field. The copy pushes it under the same tag. Package tarball spells
// the same key in the layouts it writes.
const AnnotationReferrerTag = "vnd.imagesync.referrer-tag"

// cosignSuffixes are the tags cosign keeps its artifacts under, after sha256-<hex>:
// signatures, attestations and SBOMs.
var cosignSuffixes = []string{".sig", ".att", ".sbom"}

// maxReferrers bounds how many referrers one image may bring along, so that a
// registry listing without end cannot keep a copy going for ever.
const maxReferrers = 1000

// referrerLookups is how many subjects are listed at once.
const referrerLookups = 4

// ReferrerLister is a Source that can list the artifacts referring to a manifest. A
// registry repository is one; so is an OCI layout written with referrers (package
// tarball). A Source without it has no referrers to copy.
type ReferrerLister interface {
	// Referrers lists the manifests that refer to subject: those whose subject field
	// names it, and those kept under a tag named after it, whose descriptors carry
	// the tag in the AnnotationReferrerTag annotation.
	Referrers(ctx context.Context, subject digest.Digest) ([]ocispec.Descriptor, error)
}

// Referrer is one artifact that refers to a manifest.
type Referrer struct {
	// Subject is the manifest it refers to: the image, a child of its index, or
	// another referrer (a signature on an SBOM).
	Subject digest.Digest
	// Descriptor is the referrer's manifest: media type, digest, size, and the
	// artifactType and annotations the listing gave.
	Descriptor ocispec.Descriptor
	// Tag is the cosign tag it is kept under ("sha256-<hex>.sig"); empty for a
	// referrer found by its subject field.
	Tag string
}

// Referrers lists the artifacts referring to subject in this repository.
func (r repository) Referrers(ctx context.Context, subject digest.Digest) ([]ocispec.Descriptor, error) {
	return r.c.ListReferrers(ctx, r.ref, subject)
}

// ListReferrers lists the artifacts referring to subject in repo's repository: through
// the referrers API, or its fallback tag where the registry lacks it, and cosign's
// tags. It costs one GET (two without the API) and three HEADs, sent together.
func (c *Client) ListReferrers(ctx context.Context, repo Reference, subject digest.Digest) ([]ocispec.Descriptor, error) {
	if err := subject.Validate(); err != nil {
		return nil, fmt.Errorf("list referrers of %s: %w", repo.Name(), err)
	}
	var bySubject []ocispec.Descriptor
	tagged := make([]*ocispec.Descriptor, len(cosignSuffixes))
	g := newGroup(ctx, 1+len(cosignSuffixes))
	g.Go(func(ctx context.Context) (err error) {
		bySubject, err = c.referrersBySubject(ctx, repo, subject)
		return err
	})
	for i, suffix := range cosignSuffixes {
		g.Go(func(ctx context.Context) error {
			tag := fallbackTag(subject) + suffix
			desc, err := c.HeadManifest(ctx, repo.WithTag(tag))
			if errors.Is(err, ErrNotFound) {
				return nil
			}
			if err != nil {
				return err
			}
			tagged[i] = &ocispec.Descriptor{MediaType: desc.MediaType, Digest: desc.Digest, Size: desc.Size, Annotations: map[string]string{AnnotationReferrerTag: tag}}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, fmt.Errorf("list referrers of %s: %w", repo.WithDigest(subject), err)
	}
	for _, d := range tagged {
		if d != nil {
			bySubject = append(bySubject, *d)
		}
	}
	return bySubject, nil
}

// referrersBySubject reads the referrers API, following its Link pages, or the fallback
// tag when the registry answers 404: the spec's sign that it has no such API.
func (c *Client) referrersBySubject(ctx context.Context, repo Reference, subject digest.Digest) ([]ocispec.Descriptor, error) {
	r := &request{
		method:   http.MethodGet,
		ref:      repo,
		endpoint: referrers,
		id:       subject.String(),
		header:   http.Header{"Accept": {ocispec.MediaTypeImageIndex}},
		expect:   []int{http.StatusOK},
	}
	var all []ocispec.Descriptor
	fetched := map[string]bool{}
	for {
		page, next, err := c.referrersPage(ctx, r)
		if len(fetched) == 0 && referrersAPIMissing(err) {
			return c.fallbackReferrers(ctx, repo, subject)
		}
		if err != nil {
			return nil, err
		}
		all = append(all, page...)
		if next == nil {
			return all, nil
		}
		if fetched[next.String()] || len(page) == 0 || len(all) > maxReferrers {
			return nil, fmt.Errorf("the registry's next page of referrers %s goes nowhere new: %w", next.Redacted(), errReferrersPaging)
		}
		fetched[next.String()] = true
		r = r.following(next)
	}
}

// errReferrersPaging is a referrers listing whose Link headers loop.
var errReferrersPaging = errors.New("referrers pages loop")

// referrersAPIMissing reports an answer that means "no referrers API here": 404, as the
// spec says, or 405 from registries that route the path but refuse the method.
func referrersAPIMissing(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrUnsupported)
}

// referrersPage fetches one page of the referrers API and returns its descriptors and
// the absolute URL of the next page, nil on the last one.
func (c *Client) referrersPage(ctx context.Context, r *request) ([]ocispec.Descriptor, *url.URL, error) {
	resp, err := c.do(ctx, r)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxManifestSize+1))
	if err != nil {
		return nil, nil, r.failed(fmt.Errorf("read referrers: %w", err))
	}
	if len(body) > maxManifestSize {
		return nil, nil, r.failed(fmt.Errorf("referrers index larger than %d bytes: %w", maxManifestSize, ErrManifestTooLarge))
	}
	var index ocispec.Index
	if err := json.Unmarshal(body, &index); err != nil {
		return nil, nil, r.failed(fmt.Errorf("the referrers answer is not an image index: %w", err))
	}
	target := nextLink(resp.Header)
	if target == "" {
		return index.Manifests, nil, nil
	}
	next, err := resp.Request.URL.Parse(target)
	if err != nil {
		return nil, nil, r.failed(fmt.Errorf("the Link header's next page %q is not a URL: %w", target, err))
	}
	return index.Manifests, next, nil
}

// fallbackReferrers reads the index under the fallback tag sha256-<hex>; no such tag
// means no referrers. Anything but an index there is someone's image, not a list.
func (c *Client) fallbackReferrers(ctx context.Context, repo Reference, subject digest.Digest) ([]ocispec.Descriptor, error) {
	m, err := c.GetManifest(ctx, repo.WithTag(fallbackTag(subject)))
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil || !IsIndex(m.MediaType) {
		return nil, err
	}
	p, err := m.parse()
	if err != nil {
		return nil, err
	}
	return p.Manifests, nil
}

// fallbackTag is the tag the OCI referrers tag schema keeps subject's referrers under:
// <alg>-<hex>, the algorithm cut to 32 characters and the hex to 64.
func fallbackTag(subject digest.Digest) string {
	alg, hex := subject.Algorithm().String(), subject.Encoded()
	return alg[:min(len(alg), 32)] + "-" + hex[:min(len(hex), 64)]
}

// ListReferrersFrom lists every referrer of m and, when m is an index, of each of its
// children, and then the referrers of those referrers, as far as they go: exactly what
// a copy of m with CopyOptions.Referrers copies. They come subjects first, each
// subject's referrers sorted by digest. A Source that is no ReferrerLister has none.
func (c *Client) ListReferrersFrom(ctx context.Context, src Source, m Manifest) ([]Referrer, error) {
	lister, ok := src.(ReferrerLister)
	if !ok {
		return nil, nil
	}
	subjects := []digest.Digest{m.Digest}
	if IsIndex(m.MediaType) {
		p, err := m.parse()
		if err != nil {
			return nil, err
		}
		for _, child := range p.Manifests {
			subjects = append(subjects, child.Digest)
		}
	}
	return collectReferrers(ctx, src, lister, subjects)
}

// ListReferrersOf lists every referrer of the manifest subject in src, and the
// referrers of those, as far as they go, in the order ListReferrersFrom gives.
func (c *Client) ListReferrersOf(ctx context.Context, src Source, subject digest.Digest) ([]Referrer, error) {
	lister, ok := src.(ReferrerLister)
	if !ok {
		return nil, nil
	}
	return collectReferrers(ctx, src, lister, []digest.Digest{subject})
}

// collectReferrers walks the referrers of subjects breadth first, so that a referrer
// always comes after its subject, and lists each manifest's referrers once.
func collectReferrers(ctx context.Context, src Source, lister ReferrerLister, subjects []digest.Digest) ([]Referrer, error) {
	seen := map[digest.Digest]bool{}
	for _, s := range subjects {
		seen[s] = true
	}
	var out []Referrer
	listed := map[string]bool{}
	for level := subjects; len(level) > 0; {
		found := make([][]ocispec.Descriptor, len(level))
		g := newGroup(ctx, referrerLookups)
		for i, s := range level {
			g.Go(func(ctx context.Context) (err error) {
				found[i], err = lister.Referrers(ctx, s)
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		var next []digest.Digest
		for i, subject := range level {
			refs := make([]Referrer, 0, len(found[i]))
			for _, d := range found[i] {
				if err := d.Digest.Validate(); err != nil {
					return nil, fmt.Errorf("%s lists a referrer of %s with the digest %q: %w", src, subject, d.Digest, err)
				}
				refs = append(refs, newReferrer(subject, d))
			}
			slices.SortFunc(refs, func(a, b Referrer) int {
				return strings.Compare(a.Descriptor.Digest.String()+a.Tag, b.Descriptor.Digest.String()+b.Tag)
			})
			for _, r := range refs {
				key := r.Subject.String() + " " + r.Descriptor.Digest.String() + " " + r.Tag
				if listed[key] {
					continue
				}
				listed[key] = true
				out = append(out, r)
				if len(out) > maxReferrers {
					return nil, fmt.Errorf("%s: more than %d referrers hang off %s, more than any signing tool makes; copy the image without its referrers", src, maxReferrers, subjects[0])
				}
				if !seen[r.Descriptor.Digest] {
					seen[r.Descriptor.Digest] = true
					next = append(next, r.Descriptor.Digest)
				}
			}
		}
		level = next
	}
	return out, nil
}

// newReferrer takes the tag out of a listed descriptor's annotations.
func newReferrer(subject digest.Digest, d ocispec.Descriptor) Referrer {
	r := Referrer{Subject: subject, Descriptor: d, Tag: d.Annotations[AnnotationReferrerTag]}
	if r.Tag != "" {
		r.Descriptor.Annotations = nil
		for k, v := range d.Annotations {
			if k != AnnotationReferrerTag {
				if r.Descriptor.Annotations == nil {
					r.Descriptor.Annotations = map[string]string{}
				}
				r.Descriptor.Annotations[k] = v
			}
		}
	}
	return r
}

// ReferrerDigests is the sorted, de-duplicated digests of refs.
func ReferrerDigests(refs []Referrer) []digest.Digest {
	out := make([]digest.Digest, 0, len(refs))
	for _, r := range refs {
		out = append(out, r.Descriptor.Digest)
	}
	slices.Sort(out)
	return slices.Compact(out)
}
