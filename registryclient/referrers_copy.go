package registryclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

// withReferrers is the copy walk's last step when CopyOptions.Referrers is set: once m
// (and, for an index, every child) is at the destination, every referrer of them goes
// the same way, recursively, each through the same walk (blobs, then its manifest), and
// the destination learns what refers to what:
//   - a referrer found by its subject is pushed by digest; a registry that answers
//     with OCI-Subject lists it itself, any other gets it added to the fallback tag
//     sha256-<hex>'s index;
//   - one kept under a cosign tag (sha256-<hex>.sig) is pushed under the same tag;
//   - a layout records both in index.json.
//
// What the destination holds already is skipped, so copying again writes nothing new.
func (w *walk) withReferrers(ctx context.Context, m Manifest, res CopyResult) (CopyResult, error) {
	if !w.opts.Referrers {
		return res, nil
	}
	dst, ok := w.dst.(referrerTarget)
	if !ok {
		return CopyResult{}, fmt.Errorf("%s cannot hold referrers", w.dst)
	}
	refs, err := w.c.ListReferrersFrom(ctx, w.src, m)
	if err != nil {
		return CopyResult{}, err
	}
	rc := &referrerCopy{dst: dst}
	rc.walk = *w
	rc.walk.dst = subjectWatch{referrerTarget: dst, rc: rc}
	rc.walk.opts.Compress = false // a referrer is named by its digest: never rewrite it
	for i, r := range refs {
		if refs[i].Descriptor, err = rc.copy(ctx, r); err != nil {
			return CopyResult{}, fmt.Errorf("copy %s, which refers to %s: %w", r.Descriptor.Digest, r.Subject, err)
		}
	}
	if err := rc.index(ctx, refs); err != nil {
		return CopyResult{}, err
	}
	res.Referrers = ReferrerDigests(refs)
	return res, nil
}

// referrerCopy is the referrers part of one copy.
type referrerCopy struct {
	walk walk // the copy's walk, writing through subjectWatch
	dst  referrerTarget
	// listed: a push of a manifest with a subject was answered with OCI-Subject;
	// unlisted: one was answered without.
	listed, unlisted atomic.Bool
}

// copy copies one referrer unless the destination holds it already (under its tag,
// for a cosign one), and returns its descriptor complete enough for an index.
func (rc *referrerCopy) copy(ctx context.Context, r Referrer) (ocispec.Descriptor, error) {
	at := r.Tag
	if at == "" {
		at = r.Descriptor.Digest.String()
	}
	have, err := rc.dst.manifestDigest(ctx, at)
	if err != nil && !errors.Is(err, ErrNotFound) {
		return r.Descriptor, err
	}
	there := err == nil && have == r.Descriptor.Digest
	if there && r.Descriptor.MediaType != "" && r.Descriptor.Size > 0 {
		return r.Descriptor, nil
	}
	m, err := rc.walk.c.readManifest(ctx, rc.walk.src, r.Descriptor)
	if err != nil {
		return r.Descriptor, err
	}
	d := completeDescriptor(r.Descriptor, m)
	if there {
		return d, nil // only its descriptor was short
	}
	_, err = rc.walk.manifest(ctx, r.Tag, m)
	return d, err
}

// completeDescriptor fills what a listing left out of a referrer's descriptor from its
// manifest: media type, size, and the artifact type the spec derives (the manifest's
// artifactType, else its config's media type).
func completeDescriptor(d ocispec.Descriptor, m Manifest) ocispec.Descriptor {
	if d.MediaType == "" {
		d.MediaType = m.MediaType
	}
	d.Size = int64(len(m.Body))
	if d.ArtifactType == "" {
		var p struct {
			ArtifactType string             `json:"artifactType"`
			Config       ocispec.Descriptor `json:"config"`
		}
		if json.Unmarshal(m.Body, &p) == nil {
			d.ArtifactType = p.ArtifactType
			if d.ArtifactType == "" && !IsIndex(m.MediaType) {
				d.ArtifactType = p.Config.MediaType
			}
		}
	}
	return d
}

// index makes the copied referrers findable at the destination by their subject,
// unless it showed it does that itself.
func (rc *referrerCopy) index(ctx context.Context, refs []Referrer) error {
	if len(refs) == 0 || rc.listed.Load() {
		return nil
	}
	var subjects []digest.Digest
	bySubject := map[digest.Digest][]Referrer{}
	bySubjectField := false
	for _, r := range refs {
		if _, ok := bySubject[r.Subject]; !ok {
			subjects = append(subjects, r.Subject)
		}
		bySubject[r.Subject] = append(bySubject[r.Subject], r)
		bySubjectField = bySubjectField || r.Tag == ""
	}
	if bySubjectField && !rc.unlisted.Load() {
		// Everything was there already, so no push told: ask once.
		lists, err := rc.dst.listsReferrers(ctx, subjects[0])
		if err != nil || lists {
			return err
		}
	}
	for _, s := range subjects {
		if err := rc.dst.indexReferrers(ctx, s, bySubject[s]); err != nil {
			return err
		}
	}
	return nil
}

// subjectWatch is the referrer walk's target: it notes whether the destination lists
// manifests with a subject by itself.
type subjectWatch struct {
	referrerTarget
	rc *referrerCopy
}

func (s subjectWatch) putManifest(ctx context.Context, m Manifest, tag string) error {
	listed, err := s.referrerTarget.putReferrerManifest(ctx, m, tag)
	if err != nil {
		return err
	}
	if p, err := m.parse(); err == nil && p.Subject != nil {
		if listed {
			s.rc.listed.Store(true)
		} else {
			s.rc.unlisted.Store(true)
		}
	}
	return nil
}
