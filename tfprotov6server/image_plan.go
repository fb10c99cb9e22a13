package tfprotov6server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

// imagePrivate is kept in Terraform's private state, out of the user's sight.
type imagePrivate struct {
	// Digest is what this provider pushed to the destination, to tell drift from a
	// copy.
	Digest string `json:"digest,omitempty"`
	// Source is the source manifest last copied (resolved.identity), and SourceRoot
	// the source's own manifest (an index when platform picked a child of it).
	Source     string `json:"source,omitempty"`
	SourceRoot string `json:"source_root,omitempty"`
	// Layers remembers compressions: diffID → compressed layer, so that pushing the
	// same docker-save layer again costs one HEAD.
	Layers map[string]ocispec.Descriptor `json:"layers,omitempty"`
	// Copy is set by a plan whose apply must copy; apply clears it.
	Copy bool `json:"copy,omitempty"`
}

func readImagePrivate(b []byte) imagePrivate {
	var p imagePrivate
	if len(b) > 0 {
		_ = json.Unmarshal(b, &p) // unreadable private state only loses drift detection
	}
	return p
}

func (p imagePrivate) bytes() []byte {
	b, _ := json.Marshal(p)
	return b
}

func (p imagePrivate) layers() map[digest.Digest]ocispec.Descriptor {
	out := make(map[digest.Digest]ocispec.Descriptor, len(p.Layers))
	for d, desc := range p.Layers {
		out[digest.Digest(d)] = desc
	}
	return out
}

// plan decides what apply will do. The cases, one by one:
//   - destroy: nothing to plan (apply removes the tag only with delete_on_destroy);
//   - create: resolve the source and copy; digest, reference and id are known now
//     unless a docker-save archive's layers must be compressed first;
//   - the image would land elsewhere (destination, or the source tag a tagless
//     destination takes): replace;
//   - source, platform, source_digest or compression changed, the source now holds
//     another image (its tag moved), the destination holds another image and
//     destination_drift is "restore", or copy_referrers is set and the source lists
//     other referrers than state records: update in place by copying again, showing
//     the new digest where it is known;
//   - the source cannot be reached: a warning, and the resource stays as it is;
//   - only settings changed (delete_on_destroy, destination_drift, timeouts): update
//     in place without copying;
//   - otherwise: no change, every computed value stays as it is.
//
// Config values are never altered: Terraform rejects a plan that changes them. plan
// (image_referrers.go) then decides the referrers attribute.
func (imageResource) planCopy(ctx context.Context, client *registryclient.Client, req planRequest) planResult {
	res := planResult{planned: req.proposed, private: req.private}
	if req.proposed.IsNull() {
		return res
	}
	proposed, err := readImage(req.proposed)
	if err != nil {
		res.diags.bug(err)
		return res
	}
	t, diags := parseTarget(proposed)
	if diags.hasError() {
		res.diags = diags
		return res
	}
	private := readImagePrivate(req.private)
	sourceKnown := proposed.Source.known() && proposed.Destination.known() && client != nil
	if req.prior.IsNull() {
		planned := proposed.withUnknownDigest()
		if sourceKnown {
			r, err := resolve(ctx, client, t, private)
			if notYetWritten(err, t) {
				private.Copy = true
				res.planned, res.private = planned.value(), private.bytes()
				return res
			}
			if err != nil {
				res.diags = sourceFailed(err, t)
				return res
			}
			planned = withResolved(planned, t, r)
			private = imagePrivate{Source: r.identity.String(), SourceRoot: r.root.String(), Layers: private.Layers}
		}
		planned, private = unlessTriggered(proposed, planned, private)
		private.Copy = true
		res.planned, res.private = planned.value(), private.bytes()
		return res
	}
	prior, err := readImage(req.prior)
	if err != nil {
		res.diags.bug(err)
		return res
	}
	priorTarget, _ := parseTarget(prior)

	configChanged := differ(prior.Source, proposed.Source, normalSource) ||
		differ(prior.Platform, proposed.Platform, normalPlatform) ||
		differ(prior.SourceDigest, proposed.SourceDigest, same) ||
		compressionOf(prior) != compressionOf(proposed)
	replace := landsElsewhere(prior, priorTarget, proposed, t)

	var r resolved
	resolvedOK := false
	if sourceKnown {
		var err error
		r, err = resolve(ctx, client, t, private)
		switch {
		case err == nil:
			resolvedOK = true
		case notYetWritten(err, t):
			configChanged = true // the file goes away and comes back: copy what it holds then
		case configChanged || replace:
			res.diags = sourceFailed(err, t)
			return res
		default:
			res.diags.add(tfprotov6.DiagnosticSeverityWarning, "source", "Source not checked", fmt.Sprintf("Could not check whether %s still holds the image last copied: %s.\n\nThe image at the destination is kept as it is; the next plan checks again.", t.sourceName(), err))
		}
	}
	sourceMoved := resolvedOK && r.identity.String() != lastCopied(prior, private)
	drifted := private.Digest != "" && prior.Digest.known() && prior.Digest.Value != private.Digest
	restore := !proposed.DestinationDrift.known() || proposed.DestinationDrift.Value == driftRestore
	missing := !prior.Digest.known()
	referrersChanged := referrersMoved(prior, proposed, t, r, resolvedOK)

	planned := proposed
	switch {
	case replace:
		res.requiresReplace = []*tftypes.AttributePath{tftypes.NewAttributePath().WithAttributeName(replacedBy(prior, proposed))}
		planned = withResolvedOrUnknown(proposed, t, r, resolvedOK)
	case configChanged || sourceMoved || (drifted && restore) || missing || referrersChanged:
		planned = withResolvedOrUnknown(proposed, t, r, resolvedOK)
	default:
		// Nothing to copy. Settings may still change; the digest stays what the last
		// refresh found (with destination_drift = "accept", what the registry holds).
		private.Copy = false
		res.planned, res.private = planned.value(), private.bytes()
		return res
	}
	if resolvedOK {
		private.Source, private.SourceRoot = r.identity.String(), r.root.String()
	}
	planned, private = unlessTriggered(proposed, planned, private)
	private.Copy = true
	res.planned, res.private = planned.value(), private.bytes()
	return res
}

// unlessTriggered leaves the digest to apply when source_digest is known only then:
// whatever produces it (a new archive, an upstream lookup) may change the source before
// the copy, so the source read now may not be the one copied.
func unlessTriggered(proposed, planned image, private imagePrivate) (image, imagePrivate) {
	if !proposed.SourceDigest.Unknown {
		return planned, private
	}
	private.Source, private.SourceRoot = "", ""
	return planned.withUnknownDigest(), private
}

// notYetWritten reports a local source missing at plan: it may be written earlier in
// the same apply (by imagesync_archive, say), so the digest is left to apply, which
// reports it if it is still missing then.
func notYetWritten(err error, t target) bool {
	return t.local != nil && errors.Is(err, tarball.ErrNotFound)
}

// lastCopied is the source manifest the image at the destination was copied from. A
// state without that record (imported, moved, or written by an older version) was a
// byte-for-byte copy, so its digest is the source's.
func lastCopied(prior image, private imagePrivate) string {
	if private.Source != "" {
		return private.Source
	}
	return prior.Digest.Value
}

// withResolved fills the computed values with what the copy will produce, known when
// the source was resolved to a digest that is pushed as it is.
func withResolved(m image, t target, r resolved) image {
	if r.push == "" {
		return m.withUnknownDigest()
	}
	return m.withDigest(t.at(), r.push.String())
}

func withResolvedOrUnknown(m image, t target, r resolved, ok bool) image {
	if !ok {
		return m.withUnknownDigest()
	}
	return withResolved(m, t, r)
}

// landsElsewhere reports whether the image would be written to another place than the
// one it is at: another registry, repository or effective tag. An unknown destination
// may be anywhere.
func landsElsewhere(prior image, priorTarget target, proposed image, t target) bool {
	if !proposed.Destination.known() {
		return true
	}
	if !proposed.Source.known() {
		return t.destination.Tag == "" && differ(prior.Source, proposed.Source, normalSource)
	}
	if !prior.Destination.known() {
		return true
	}
	was := priorTarget.at()
	if prior.Source.Null {
		// Imported: the state knows only where the image is, with its tag.
		ref, err := registryclient.ParseReference(prior.Destination.Value)
		if err != nil {
			return true
		}
		ref.Registry, ref.Digest = strings.ToLower(ref.Registry), ""
		was = ref
	}
	now := t.at()
	return !sameRepository(was, now) || was.Tag != now.Tag
}

// replacedBy names the attribute whose change moves the image.
func replacedBy(prior, proposed image) string {
	if differ(prior.Destination, proposed.Destination, normalDestination) {
		return "destination"
	}
	return "source"
}

// differ reports whether two configured values mean different things. "alpine" and
// "docker.io/library/alpine" are the same image: a change of spelling alone is no reason
// to copy again.
func differ(a, b stringValue, normal func(string) string) bool {
	if a.Unknown || b.Unknown {
		return true
	}
	if a.Null || b.Null {
		return a.Null != b.Null
	}
	return normal(a.Value) != normal(b.Value)
}

func same(s string) string { return s }

// normalSource spells a source the one way it is read: without tag or digest, :latest.
func normalSource(s string) string {
	ref, err := registryclient.ParseReference(s)
	if err != nil {
		return s
	}
	if ref.Tag == "" && ref.Digest == "" {
		ref.Tag = registryclient.DefaultTag
	}
	return ref.String()
}

// normalDestination keeps a missing tag missing: it means "the source's tag".
func normalDestination(s string) string {
	ref, err := registryclient.ParseReference(s)
	if err != nil {
		return s
	}
	return ref.String()
}

// normalPlatform spells a platform the way it selects: linux/arm64 is linux/arm64/v8.
func normalPlatform(s string) string {
	p, err := registryclient.ParsePlatform(s)
	if err != nil {
		return s
	}
	return p.Normal().String()
}

// compressionOf is the configured compression; unset is gzip.
func compressionOf(m image) string {
	if m.Compression.known() {
		return m.Compression.Value
	}
	return compressGzip
}
