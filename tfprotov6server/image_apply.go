package tfprotov6server

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/opencontainers/go-digest"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

// apply carries out the plan. A failed copy returns the prior state (null for a
// create), so state never records an image that is not wholly at the destination.
func (imageResource) apply(ctx context.Context, client *registryclient.Client, req applyRequest) applyResult {
	if req.planned.IsNull() {
		return destroy(ctx, client, req)
	}
	failed := applyResult{state: req.prior, private: req.private}
	planned, err := readImage(req.planned)
	if err != nil {
		failed.diags.bug(err)
		return failed
	}
	t, diags := parseTarget(planned)
	if diags.hasError() {
		failed.diags = diags
		return failed
	}
	private := readImagePrivate(req.private)
	if !private.Copy {
		// Only settings changed: the image at the destination is the one planned.
		return applyResult{state: req.planned, private: req.private}
	}
	op := "update"
	if req.prior.IsNull() {
		op = "create"
	}
	limit := planned.Timeouts.timeout(op)
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()

	res, identity, err := copyImage(ctx, client, t, private)
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) {
			failed.diags.attrError("timeouts", "Copy timed out", fmt.Sprintf("Copying %s to %s did not finish within %s. Nothing was recorded in state; what was copied stays and is skipped next time. Raise timeouts.%s, or apply again.", t.sourceName(), t.at(), limit, op))
			return failed
		}
		failed.diags = copyFailed(err, t)
		return failed
	}
	d := res.Digest.String()
	if planned.Digest.known() && planned.Digest.Value != d {
		failed.diags.attrError("source", "Source changed since the plan", fmt.Sprintf("The plan showed %s for %s, but the source now gives %s. Nothing was recorded in state: plan and apply again.", planned.Digest.Value, t.sourceName(), d))
		return failed
	}
	var out applyResult
	if op == "create" && res.Replaced != "" {
		out.diags.add(tfprotov6.DiagnosticSeverityWarning, "destination", "Destination tag overwritten",
			fmt.Sprintf("%s held another image (%s) and now holds %s. Set destination to an unused tag to keep both.", t.at(), res.Replaced, d))
	}
	layers := map[string]ocispec.Descriptor{}
	for diffID, c := range res.Compressed {
		layers[diffID.String()] = c
	}
	out.state = planned.withDigest(t.at(), d).withCopiedReferrers(t, res).value()
	out.private = imagePrivate{Digest: d, Source: identity.String(), SourceRoot: private.SourceRoot, Layers: layers}.bytes()
	return out
}

// copyImage copies what the plan resolved: a registry source pinned to the digest the
// plan showed (a tag that moved again since is not followed), or the local image. It
// returns the copy and the source manifest it started from.
func copyImage(ctx context.Context, client *registryclient.Client, t target, private imagePrivate) (registryclient.CopyResult, digest.Digest, error) {
	if t.local != nil {
		type copied struct {
			res      registryclient.CopyResult
			identity digest.Digest
		}
		c, err := withLocal(ctx, client, t, func(img *tarball.Image, root, m registryclient.Manifest) (copied, error) {
			if private.Source != "" && m.Digest.String() != private.Source {
				return copied{}, fmt.Errorf("%s now holds %s, not the %s planned: %w", t.sourceName(), m.Digest, private.Source, errChangedSincePlan)
			}
			res, err := client.CopyFrom(ctx, img, root, t.at(), registryclient.CopyOptions{
				Platform: t.platform, Compress: compresses(img, t), Compressed: private.layers(), Referrers: t.referrers,
			})
			return copied{res, m.Digest}, err
		})
		return c.res, c.identity, err
	}
	src, opts := t.source, registryclient.CopyOptions{Platform: t.platform, Referrers: t.referrers}
	if private.Source != "" {
		src, opts.Platform = t.source.WithDigest(digest.Digest(private.Source)), nil
	}
	root, err := client.GetManifest(ctx, src)
	if err != nil {
		return registryclient.CopyResult{}, "", err
	}
	res, err := client.CopyFrom(ctx, client.Repository(src), root, t.at(), opts)
	if err != nil {
		return res, "", err
	}
	identity := digest.Digest(private.Source)
	if identity == "" {
		identity = res.Digest
	}
	return res, identity, nil
}

// errChangedSincePlan means a local file holds another image than at plan.
var errChangedSincePlan = errors.New("changed since the plan")

// destroy removes the destination tag when delete_on_destroy is set; otherwise the
// image stays in the registry, as with crane_image.
func destroy(ctx context.Context, client *registryclient.Client, req applyRequest) applyResult {
	gone := applyResult{state: req.planned}
	prior, err := readImage(req.prior)
	if err != nil {
		gone.diags.bug(err)
		return gone
	}
	if !prior.DeleteOnDestroy.Value {
		return gone
	}
	t, _ := parseTarget(prior)
	at, ok := readTarget(prior, t)
	if !ok {
		return gone
	}
	limit := prior.Timeouts.timeout("delete")
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	err = client.RemoveTag(ctx, at)
	if errors.Is(err, registryclient.ErrTagShared) {
		gone.diags.add(tfprotov6.DiagnosticSeverityWarning, "delete_on_destroy", "Image kept for another tag",
			fmt.Sprintf("%s cannot delete a tag alone, and another tag points at the same image (%s), so the image was kept: removing it would remove that tag too.", at.Registry, err))
		return gone
	}
	if err != nil {
		failed := applyResult{state: req.prior, private: req.private}
		advice := "Check that the credentials may delete in " + at.Name() + ", or set delete_on_destroy = false (and apply) to leave the image in the registry."
		if errors.Is(err, context.DeadlineExceeded) {
			advice = fmt.Sprintf("It did not finish within %s: raise timeouts.delete, or set delete_on_destroy = false.", limit)
		}
		failed.diags.attrError("delete_on_destroy", "Cannot remove the destination tag", fmt.Sprintf("Removing %s failed: %s.\n\n%s", at, err, advice))
		return failed
	}
	return gone
}

// read checks the destination with one HEAD. An image deleted behind Terraform's back
// leaves state, so the next plan creates it again; one overwritten under its tag shows
// the new digest, which the next plan restores or accepts (destination_drift).
func (imageResource) read(ctx context.Context, client *registryclient.Client, req readRequest) readResult {
	res := readResult{state: req.current, private: req.private}
	if req.current.IsNull() {
		return res
	}
	m, err := readImage(req.current)
	if err != nil {
		res.diags.bug(err)
		return res
	}
	t, diags := parseTarget(m)
	if diags.hasError() {
		res.diags = diags
		return res
	}
	at, ok := readTarget(m, t)
	if !ok {
		return res
	}
	desc, err := client.HeadManifest(ctx, at)
	switch {
	case errors.Is(err, registryclient.ErrNotFound):
		res.state = tftypes.NewValue(req.current.Type(), nil)
		return res
	case err != nil:
		res.diags.error("Cannot read image", fmt.Sprintf("Checking %s failed: %s.\n\n%s", at, err, nextStep(err, t)))
		return res
	}
	if desc.Digest.String() != m.Digest.Value {
		res.state = m.withDigest(at, desc.Digest.String()).value()
	}
	return res
}

// readTarget is where a refresh looks: the destination's effective tag, else its
// digest. An imported image has no source yet: only the tag or digest it was imported
// with.
func readTarget(m image, t target) (registryclient.Reference, bool) {
	at := t.destination.WithTag(t.destination.Tag)
	if m.Source.known() {
		at = t.at()
	}
	switch {
	case at.Tag != "":
		return at, true
	case m.Digest.known():
		return at.WithDigest(digest.Digest(m.Digest.Value)), true
	}
	return registryclient.Reference{}, false
}

// importState starts state from the destination alone: "registry/repo:tag" or
// "registry/repo@sha256:...". The refresh that follows finds the digest; the first plan
// then records the configured source, copying only what differs.
func (imageResource) importState(_ context.Context, id string) (tftypes.Value, diagnostics) {
	var diags diagnostics
	ref, err := registryclient.ParseReference(id)
	if err != nil || (ref.Tag == "" && ref.Digest == "") {
		reason := "it has neither a tag nor a digest"
		if err != nil {
			reason = err.Error()
		}
		diags.error("Invalid import ID", fmt.Sprintf("Cannot import %q: %s.\n\nImport an imagesync_image by its destination: registry/repo:tag, or registry/repo@sha256:<digest> for an untagged image.", id, reason))
		return tftypes.Value{}, diags
	}
	m := emptyImage()
	m.Destination = knownString(ref.Name())
	if ref.Tag != "" {
		m.Destination = knownString(ref.WithTag(ref.Tag).String())
	}
	if ref.Digest != "" {
		m = m.withDigest(ref, ref.Digest.String())
	}
	return m.value(), diags
}

// emptyImage is a state with every attribute null.
func emptyImage() image {
	return image{ID: nullString, Source: nullString, Destination: nullString, Platform: nullString, SourceDigest: nullString,
		Compression: nullString, DestinationDrift: nullString, Digest: nullString, Reference: nullString,
		DeleteOnDestroy: boolValue{Null: true}, Timeouts: timeouts{Null: true}, CopyReferrers: boolValue{Null: true}, Referrers: stringList{Null: true}}
}
