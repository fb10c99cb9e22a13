package tfprotov6server

import (
	"errors"
	"fmt"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// readFailed explains a failed registry read of a data source on the attribute it is
// about: what was read, the registry's own answer, and what to do next.
func readFailed(attr, summary string, ref registryclient.Reference, err error) diagnostics {
	var diags diagnostics
	diags.attrError(attr, summary, fmt.Sprintf("Reading %s failed: %s.\n\n%s", ref, err, readAdvice(err, ref)))
	return diags
}

// readAdvice tells the user what to do about a failed read.
func readAdvice(err error, ref registryclient.Reference) string {
	switch {
	case errors.Is(err, registryclient.ErrUnauthorized):
		return fmt.Sprintf("The registry refused the credentials: check the provider's registry_auth block or the Docker config for %s.", ref.Registry)
	case errors.Is(err, registryclient.ErrDenied):
		return fmt.Sprintf("The credentials for %s lack permission to read %s: grant pull access, or check the registry_auth block for %s.", ref.Registry, ref.Name(), ref.Registry)
	case errors.Is(err, registryclient.ErrPlatformNotFound):
		return "Choose one of the platforms the image offers, or remove platform."
	case errors.Is(err, registryclient.ErrNotFound):
		return fmt.Sprintf("Check that %s exists and that the credentials for %s can see it.", ref, ref.Registry)
	case errors.Is(err, registryclient.ErrTooManyRequests):
		return fmt.Sprintf("The registry is rate-limiting requests: wait and plan again, or authenticate to %s for a higher limit.", ref.Registry)
	case errors.Is(err, registryclient.ErrDigestMismatch), errors.Is(err, registryclient.ErrUnexpectedContentSize):
		return "The registry served content that does not match its digest. Try again, and report the registry if it persists."
	case errors.Is(err, registryclient.ErrUnsupportedMediaType):
		return "imagesync reads OCI and Docker schema 2 images and indexes, and platform picks an image out of an index: point reference at one of those, or remove platform to read an index of indexes as it is."
	}
	if advice := commonAdvice(err); advice != "" {
		return advice
	}
	return fmt.Sprintf("Check that %s can be reached from here, then plan again.", ref.Registry)
}
