package tarball

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// Referrers (signatures, SBOMs, attestations) live in a layout as any manifest does, in
// blobs/, and index.json names each one with two annotations of this provider's own (the
// OCI layout spec has no word for them): the manifest it refers to, and, for one that a
// registry kept under cosign's tag scheme, that tag. Such entries are not images:
// Names and Image never see them.
const (
	// AnnotationReferrerOf is the digest of the manifest a referrer entry refers to.
	AnnotationReferrerOf = "vnd.imagesync.referrer-of"
	// AnnotationReferrerTag is the cosign tag ("sha256-<hex>.sig") a referrer was
	// kept under; registryclient.AnnotationReferrerTag spells the same key.
	AnnotationReferrerTag = "vnd.imagesync.referrer-tag"
)

// AddReferrer records that the manifest desc, written with WriteBlob, refers to
// subject. Commit lists it in index.json, after the images, sorted.
func (w *Writer) AddReferrer(subject digest.Digest, desc ocispec.Descriptor) {
	d := desc
	d.Annotations = maps.Clone(desc.Annotations)
	if d.Annotations == nil {
		d.Annotations = map[string]string{}
	}
	d.Annotations[AnnotationReferrerOf] = subject.String()
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.referrers == nil {
		w.referrers = map[string]ocispec.Descriptor{}
	}
	w.referrers[referrerKey(d)] = d
}

// referrerEntries are the referrers recorded, in the order index.json lists them.
func (w *Writer) referrerEntries() []ocispec.Descriptor {
	w.mu.Lock()
	defer w.mu.Unlock()
	keys := slices.Sorted(maps.Keys(w.referrers))
	out := make([]ocispec.Descriptor, 0, len(keys))
	for _, k := range keys {
		out = append(out, w.referrers[k])
	}
	return out
}

func referrerKey(d ocispec.Descriptor) string {
	return strings.Join([]string{d.Annotations[AnnotationReferrerOf], d.Digest.String(), d.Annotations[AnnotationReferrerTag]}, " ")
}

// isReferrerEntry reports whether an index.json entry is a referrer, not an image.
func isReferrerEntry(d ocispec.Descriptor) bool {
	return d.Annotations[AnnotationReferrerOf] != ""
}

// Referrers lists the manifests the layout records as referring to subject, each with
// the AnnotationReferrerTag annotation when it has one. A docker-save archive has none.
func (i *Image) Referrers(ctx context.Context, subject digest.Digest) ([]ocispec.Descriptor, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if i.archive.format != FormatOCILayout {
		return nil, nil
	}
	b, err := readMetadata(i.archive.files, ocispec.ImageIndexFile, i.label)
	if err != nil {
		return nil, err
	}
	var index ocispec.Index
	if err := json.Unmarshal(b, &index); err != nil {
		return nil, fmt.Errorf("%w: %s: index.json is not an OCI image index: %v", ErrMalformed, i.label, err)
	}
	var out []ocispec.Descriptor
	for _, d := range index.Manifests {
		if d.Annotations[AnnotationReferrerOf] != subject.String() {
			continue
		}
		d.Annotations = maps.Clone(d.Annotations)
		delete(d.Annotations, AnnotationReferrerOf)
		if len(d.Annotations) == 0 {
			d.Annotations = nil
		}
		out = append(out, d)
	}
	return out, nil
}
