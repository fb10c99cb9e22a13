package tfprotov6server

import (
	"crypto/x509"
	"errors"
	"fmt"
	"strings"

	"github.com/imagesync/terraform-provider-imagesync/registryclient"
	"github.com/imagesync/terraform-provider-imagesync/registryclient/auth"
)

// commonAdvice says what to do about failures that read the same for resources and
// data sources alike: credentials that cannot be looked up, a certificate this machine
// refuses, a manifest too large to read. It returns "" for any other error.
func commonAdvice(err error) string {
	var unknownAuthority x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case errors.Is(err, auth.ErrCredentialLookup):
		return "Fix the Docker config or credential helper named above, or give the registry a registry_auth block (username and password, another config_file, or auth_disabled = true for anonymous access)."
	case errors.As(err, &unknownAuthority):
		return "The registry's certificate is signed by an authority this machine does not trust: give the provider that CA with ca_cert_file or ca_cert_pem, or, for a registry without a proper certificate, list it in insecure_registries."
	case errors.As(err, &hostname):
		return fmt.Sprintf("The registry's certificate is for %s, not %s: address the registry by a name its certificate holds, or give it a certificate for %s.", certificateNames(hostname.Certificate), hostname.Host, hostname.Host)
	case errors.As(err, &invalid) && invalid.Reason == x509.Expired:
		return "The registry's certificate has expired (or is not valid yet): renew it, and check this machine's clock."
	case errors.Is(err, registryclient.ErrManifestTooLarge):
		return "Registries accept manifests of up to 4 MiB, and a larger one is not read: ask the image's publisher for a smaller manifest."
	}
	return ""
}

// certificateNames lists the names a certificate is valid for.
func certificateNames(cert *x509.Certificate) string {
	if cert == nil {
		return "other names"
	}
	names := append([]string(nil), cert.DNSNames...)
	for _, ip := range cert.IPAddresses {
		names = append(names, ip.String())
	}
	if len(names) == 0 {
		return "no host name (only the subject " + cert.Subject.CommonName + ")"
	}
	return strings.Join(names, ", ")
}
