package testregistry

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
	v1 "github.com/opencontainers/image-spec/specs-go/v1"
)

// emptyJSON is the OCI empty descriptor's content, the config of most artifacts.
var emptyJSON = []byte("{}")

// Artifact describes a signature, SBOM or attestation for PushArtifact to build: a
// manifest with one payload layer, as cosign, notation and oras write them.
type Artifact struct {
	// ArtifactType is the manifest's artifactType; empty leaves it out, as cosign's
	// tag-scheme signatures do.
	ArtifactType string
	// ConfigMediaType is the config's media type; empty means the OCI empty
	// descriptor (application/vnd.oci.empty.v1+json, content "{}").
	ConfigMediaType string
	// Config is the config's content when ConfigMediaType is set.
	Config []byte
	// PayloadMediaType and Payload are the one layer: a signature, an SBOM document.
	PayloadMediaType string
	Payload          []byte
	// Subject, when set, makes the artifact a referrer of that manifest (OCI 1.1).
	Subject *v1.Descriptor
	// Annotations go on the manifest.
	Annotations map[string]string
}

// PushArtifact builds a, pushes its blobs and its manifest to repo under tag, or by
// digest when tag is empty, and returns the manifest's descriptor. An artifact with a
// subject is listed where a client must list it: where the registry does not answer
// with OCI-Subject (distribution has no referrers API), PushArtifact adds it to the
// fallback tag sha256-<hex>'s index, as oras and cosign do.
func (r *Registry) PushArtifact(ctx context.Context, repo, tag string, a Artifact) (v1.Descriptor, error) {
	config := v1.Descriptor{MediaType: v1.MediaTypeEmptyJSON, Digest: digest.FromBytes(emptyJSON), Size: int64(len(emptyJSON))}
	configBody := emptyJSON
	if a.ConfigMediaType != "" {
		config, configBody = descriptor(a.ConfigMediaType, a.Config), a.Config
	}
	layer := descriptor(a.PayloadMediaType, a.Payload)
	for _, blob := range [][]byte{configBody, a.Payload} {
		if _, err := r.PushBlob(ctx, repo, blob); err != nil {
			return v1.Descriptor{}, err
		}
	}
	body, err := json.Marshal(v1.Manifest{
		Versioned:    specs.Versioned{SchemaVersion: 2},
		MediaType:    v1.MediaTypeImageManifest,
		ArtifactType: a.ArtifactType,
		Config:       config,
		Layers:       []v1.Descriptor{layer},
		Subject:      a.Subject,
		Annotations:  a.Annotations,
	})
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("encode artifact manifest: %w", err)
	}
	desc := descriptor(v1.MediaTypeImageManifest, body)
	desc.ArtifactType, desc.Annotations = a.ArtifactType, a.Annotations
	if desc.ArtifactType == "" {
		desc.ArtifactType = config.MediaType
	}
	ref := tag
	if ref == "" {
		ref = desc.Digest.String()
	}
	resp, err := r.do(ctx, request{
		method: http.MethodPut,
		url:    r.endpoint("/v2/%s/manifests/%s", repo, ref),
		repo:   repo,
		header: http.Header{"Content-Type": {v1.MediaTypeImageManifest}},
		body:   body,
		want:   http.StatusCreated,
	})
	if err != nil {
		return v1.Descriptor{}, fmt.Errorf("push artifact %s: %w", imageRef(repo, ref), err)
	}
	if a.Subject == nil || resp.header.Get("OCI-Subject") != "" {
		return desc, nil
	}
	return desc, r.addToFallback(ctx, repo, a.Subject.Digest, desc)
}

// addToFallback adds desc to the referrers index under subject's fallback tag.
func (r *Registry) addToFallback(ctx context.Context, repo string, subject digest.Digest, desc v1.Descriptor) error {
	tag := FallbackTag(subject.String())
	index := v1.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: v1.MediaTypeImageIndex}
	body, _, err := r.Manifest(ctx, repo, tag)
	switch {
	case err == nil:
		if err := json.Unmarshal(body, &index); err != nil {
			return fmt.Errorf("read %s:%s: %w", repo, tag, err)
		}
	case !errors.Is(err, ErrNotFound):
		return err
	}
	index.Manifests = append(index.Manifests, desc)
	body, err = json.Marshal(index)
	if err != nil {
		return err
	}
	_, err = r.PushManifest(ctx, repo, tag, v1.MediaTypeImageIndex, body)
	return err
}

// Referrers lists subject's referrers in repo, sorted by digest, as a client that
// follows the spec finds them: through the referrers API, or, where the registry
// answers 404 there, the fallback tag's index. Cosign's tags are not included; read
// them with ManifestDigest.
func (r *Registry) Referrers(ctx context.Context, repo, subject string) ([]v1.Descriptor, error) {
	resp, err := r.do(ctx, request{
		method: http.MethodGet,
		url:    r.endpoint("/v2/%s/referrers/%s", repo, subject),
		repo:   repo,
		header: http.Header{"Accept": {v1.MediaTypeImageIndex}},
		want:   http.StatusOK,
	})
	var body []byte
	switch {
	case err == nil:
		body = resp.body
	case errors.Is(err, ErrNotFound):
		body, _, err = r.Manifest(ctx, repo, FallbackTag(subject))
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("list referrers of %s@%s: %w", repo, subject, err)
	}
	var index v1.Index
	if err := json.Unmarshal(body, &index); err != nil {
		return nil, fmt.Errorf("list referrers of %s@%s: %w", repo, subject, err)
	}
	slices.SortFunc(index.Manifests, func(a, b v1.Descriptor) int { return strings.Compare(a.Digest.String(), b.Digest.String()) })
	return index.Manifests, nil
}

// FallbackTag is the tag the referrers tag schema (and cosign, with .sig, .att or
// .sbom after it) names after a digest: "sha256:abc..." gives "sha256-abc...".
func FallbackTag(subject string) string {
	return strings.Replace(subject, ":", "-", 1)
}

// Descriptor describes the manifest repo serves for ref (a tag or digest), as a
// subject or an index entry names it.
func (r *Registry) Descriptor(ctx context.Context, repo, ref string) (v1.Descriptor, error) {
	resp, err := r.getManifest(ctx, repo, ref)
	if err != nil {
		return v1.Descriptor{}, err
	}
	mediaType, _, _ := strings.Cut(resp.header.Get("Content-Type"), ";")
	return v1.Descriptor{MediaType: mediaType, Digest: digest.FromBytes(resp.body), Size: int64(len(resp.body))}, nil
}
