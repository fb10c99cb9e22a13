package tfprotov6server

import (
	"context"
	"errors"
	"fmt"

	"github.com/hashicorp/terraform-plugin-go/tftypes"
	"github.com/opencontainers/go-digest"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// apply carries out the plan. Destroy leaves the image in the registry. A failed copy
// returns the prior state (null for a create), so state never records an image that
// is not wholly at the destination.
func (imageResource) apply(ctx context.Context, client *registryclient.Client, req applyRequest) applyResult {
	if req.planned.IsNull() {
		return applyResult{state: req.planned}
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
	if planned.Digest.known() {
		// Only the spelling of source changed: the image at the destination is the same.
		return applyResult{state: req.planned, private: req.private}
	}
	res, err := client.Copy(ctx, t.source, t.destination, registryclient.CopyOptions{Platform: t.platform})
	if err != nil {
		failed.diags = copyFailed(err, t)
		return failed
	}
	d := res.Digest.String()
	return applyResult{
		state:   planned.withDigest(t.destination, d).value(),
		private: imagePrivate{Digest: d}.bytes(),
	}
}

// read checks the destination with one HEAD. An image deleted behind Terraform's back
// leaves state, so the next plan creates it again; one overwritten under its tag shows
// the new digest, and the next plan copies the source again.
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
		res.state = m.withDigest(t.destination, desc.Digest.String()).value()
	}
	return res
}

// readTarget is where a refresh looks: the destination's tag (its own, else the
// source's), else its digest. An imported image has no source yet: only the tag or
// digest it was imported with.
func readTarget(m image, t target) (registryclient.Reference, bool) {
	tag := t.destination.Tag
	if m.Source.known() {
		tag = registryclient.DestinationTag(t.source, t.destination)
	}
	switch {
	case tag != "":
		return t.destination.WithTag(tag), true
	case m.Digest.known():
		return t.destination.WithDigest(digest.Digest(m.Digest.Value)), true
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
	m := image{ID: nullString, Source: nullString, Platform: nullString, Digest: nullString, Reference: nullString}
	m.Destination = knownString(ref.Name())
	if ref.Tag != "" {
		m.Destination = knownString(ref.WithTag(ref.Tag).String())
	}
	if ref.Digest != "" {
		m = m.withDigest(ref, ref.Digest.String())
	}
	return m.value(), diags
}

// copyFailed explains a failed copy: what, where, why, and what to do next.
func copyFailed(err error, t target) diagnostics {
	var diags diagnostics
	attr := ""
	switch {
	case errors.Is(err, registryclient.ErrPlatformNotFound):
		attr = "platform"
	case errors.Is(err, registryclient.ErrNotFound) && atDestination(err, t):
		attr = "destination"
	case errors.Is(err, registryclient.ErrNotFound):
		attr = "source"
	}
	diags.attrError(attr, "Cannot copy image",
		fmt.Sprintf("Copying %s to %s failed: %s.\n\n%s Nothing was recorded in state.", t.source, t.destination.Name(), err, nextStep(err, t)))
	return diags
}

// atDestination reports whether the registry request that failed was about the
// destination repository rather than the source.
func atDestination(err error, t target) bool {
	var re *registryclient.Error
	return errors.As(err, &re) && re.About(t.destination) && !re.About(t.source)
}

// nextStep tells the user what to do about an error.
func nextStep(err error, t target) string {
	hosts := t.source.Registry
	if t.destination.Registry != t.source.Registry {
		hosts += " and " + t.destination.Registry
	}
	dst := atDestination(err, t)
	switch {
	case errors.Is(err, registryclient.ErrUnauthorized):
		return fmt.Sprintf("The registry refused the credentials: check the provider's registry_auth block or the Docker config for %s.", hosts)
	case errors.Is(err, registryclient.ErrDenied) && dst:
		return fmt.Sprintf("The credentials for %s lack permission to push to %s: grant write access, or check the registry_auth block for %s.", t.destination.Registry, t.destination.Name(), t.destination.Registry)
	case errors.Is(err, registryclient.ErrDenied):
		return fmt.Sprintf("The credentials lack permission: pulling needs read access to %s, pushing needs write access to %s.", t.source.Name(), t.destination.Name())
	case errors.Is(err, registryclient.ErrPlatformNotFound):
		return "Choose one of the platforms the source offers, or remove platform to copy them all."
	case errors.Is(err, registryclient.ErrNotFound) && dst:
		return fmt.Sprintf("The destination repository %s does not exist and pushing did not create it: create it first (Amazon ECR, for one, needs that), or allow the registry to create repositories on push.", t.destination.Name())
	case errors.Is(err, registryclient.ErrNotFound):
		return fmt.Sprintf("Check that %s exists and that the credentials for %s can see it.", t.source, t.source.Registry)
	case errors.Is(err, registryclient.ErrTooManyRequests):
		return fmt.Sprintf("The registry is rate-limiting requests: wait and apply again, or authenticate to %s for a higher limit.", hosts)
	case errors.Is(err, registryclient.ErrDigestMismatch), errors.Is(err, registryclient.ErrUnexpectedContentSize):
		return "The registry served content that does not match its digest; nothing corrupt was pushed. Try again, and report the registry if it persists."
	case errors.Is(err, registryclient.ErrUnsupportedMediaType):
		return "This kind of image cannot be copied."
	}
	return fmt.Sprintf("Check that %s can be reached from here, then apply again.", hosts)
}
