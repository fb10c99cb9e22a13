package tfprotov6server

import (
	"context"
	"errors"
	"fmt"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
	"github.com/imagesync/terraform-provider-imagesync/tarball"
)

// sourceFailed explains a source that could not be resolved at plan.
func sourceFailed(err error, t target) diagnostics {
	var diags diagnostics
	attr := "source"
	if errors.Is(err, registryclient.ErrPlatformNotFound) {
		attr = "platform"
	}
	diags.attrError(attr, "Cannot read source", fmt.Sprintf("Reading %s failed: %s.\n\n%s", t.sourceName(), err, nextStep(err, t)))
	return diags
}

// copyFailed explains a failed copy: what, where, why, and what to do next.
func copyFailed(err error, t target) diagnostics {
	var diags diagnostics
	attr := ""
	switch {
	case errors.Is(err, registryclient.ErrPlatformNotFound):
		attr = "platform"
	case atDestination(err, t) && (errors.Is(err, registryclient.ErrNotFound) || errors.Is(err, registryclient.ErrDenied) || errors.Is(err, registryclient.ErrUnauthorized)):
		attr = "destination"
	case errors.Is(err, registryclient.ErrNotFound):
		attr = "source"
	}
	if t.local != nil && localFault(err) {
		attr = "source"
	}
	diags.attrError(attr, "Cannot copy image",
		fmt.Sprintf("Copying %s to %s failed: %s.\n\n%s Nothing was recorded in state.", t.sourceName(), t.at(), err, nextStep(err, t)))
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
	if t.local != nil {
		if step, ok := localNextStep(err, t); ok {
			return step
		}
	}
	hosts := t.source.Registry
	if t.local != nil {
		hosts = t.destination.Registry
	}
	if t.local == nil && t.destination.Registry != t.source.Registry {
		hosts += " and " + t.destination.Registry
	}
	dst := atDestination(err, t)
	switch {
	case errors.Is(err, registryclient.ErrUnauthorized) && dst:
		return fmt.Sprintf("%s refused the credentials for pushing to %s: check push permission and the credentials for %s (the provider's registry_auth block or the Docker config).", t.destination.Registry, t.destination.Name(), t.destination.Registry)
	case errors.Is(err, registryclient.ErrUnauthorized):
		return fmt.Sprintf("The registry refused the credentials: check the provider's registry_auth block or the Docker config for %s.", hosts)
	case errors.Is(err, registryclient.ErrDenied) && dst:
		return fmt.Sprintf("The credentials for %s lack permission to push to %s: check push permission (grant write access), or the credentials in the registry_auth block for %s.", t.destination.Registry, t.destination.Name(), t.destination.Registry)
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
	case errors.Is(err, registryclient.ErrUnsupportedMediaType) && t.platform != nil:
		return "imagesync copies OCI and Docker schema 2 images and indexes, and platform picks an image out of an index: point source at one of those, or remove platform to copy an index of indexes as it is."
	case errors.Is(err, registryclient.ErrUnsupportedMediaType):
		return "imagesync copies OCI and Docker schema 2 images and indexes: point source at one of those."
	}
	if advice := commonAdvice(err); advice != "" {
		return advice
	}
	if errors.Is(err, context.Canceled) {
		return "The copy was interrupted (Terraform was stopped): apply again; what was already copied is skipped."
	}
	return fmt.Sprintf("Check that %s can be reached from here, then apply again.", hosts)
}

// localFault reports whether a failed push of a local image is the file's doing rather
// than the destination's: tarball names every problem with a file by one of its
// sentinels, and content that does not match its digest was read from the file.
func localFault(err error) bool {
	for _, fault := range []error{
		tarball.ErrInvalidSource, tarball.ErrNotFound, tarball.ErrUnreadable, tarball.ErrNotLayout,
		tarball.ErrNotTar, tarball.ErrTruncated, tarball.ErrUnsafeEntry, tarball.ErrMalformed,
		tarball.ErrImageNotFound, tarball.ErrAmbiguous, tarball.ErrMissingBlob, errChangedSincePlan,
		registryclient.ErrDigestMismatch, registryclient.ErrUnexpectedContentSize,
	} {
		if errors.Is(err, fault) {
			return true
		}
	}
	return false
}

// localNextStep tells what to do about a local image that cannot be read.
func localNextStep(err error, t target) (string, bool) {
	switch {
	case errors.Is(err, errChangedSincePlan):
		return "The file was replaced between plan and apply: plan and apply again.", true
	case errors.Is(err, registryclient.ErrDigestMismatch), errors.Is(err, registryclient.ErrUnexpectedContentSize):
		return fmt.Sprintf("%s is corrupt: a layer or config does not match the digest its manifest gives. Write the archive again (docker save, skopeo copy) and apply again; no manifest was pushed.", t.local.Path), true
	case errors.Is(err, registryclient.ErrPlatformNotFound):
		return "Choose one of the platforms the image offers, or remove platform to push them all.", true
	case !localFault(err):
		return "", false // the destination failed: advise as for any copy
	}
	path := t.local.Path
	switch {
	case errors.Is(err, tarball.ErrNotFound):
		return fmt.Sprintf("Check the path: relative paths start from Terraform's working directory, and %s is not there.", path), true
	case errors.Is(err, tarball.ErrUnreadable):
		return fmt.Sprintf("Make %s readable by the user running Terraform.", path), true
	case errors.Is(err, tarball.ErrNotLayout), errors.Is(err, tarball.ErrNotTar):
		return "Point source at a docker save archive (docker-archive:), an OCI image layout archive (oci-archive:) or an OCI image layout directory (oci-layout:).", true
	case errors.Is(err, tarball.ErrTruncated), errors.Is(err, tarball.ErrMissingBlob), errors.Is(err, tarball.ErrMalformed), errors.Is(err, tarball.ErrUnsafeEntry):
		return fmt.Sprintf("%s is damaged or incomplete: write it again (docker save, skopeo copy) and apply again; nothing was pushed.", path), true
	case errors.Is(err, tarball.ErrImageNotFound), errors.Is(err, tarball.ErrAmbiguous):
		return "Choose one of the images listed, with a suffix: image.tar:repo:tag or oci-archive:layout.tar:name.", true
	}
	return fmt.Sprintf("Check that %s is a docker-save archive or an OCI image layout that this process can read.", t.local.Path), true
}
