package tfprotov6server

import (
	"errors"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
)

// commonAdvice says what to do about failures that read the same for resources and
// data sources alike. It returns "" for any other error.
func commonAdvice(err error) string {
	switch {
	case errors.Is(err, registryclient.ErrManifestTooLarge):
		return "Registries accept manifests of up to 4 MiB, and a larger one is not read: ask the image's publisher for a smaller manifest."
	}
	return ""
}
