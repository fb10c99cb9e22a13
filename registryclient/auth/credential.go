package auth

import "context"

// Credential is what a user has for one registry.
type Credential struct {
	// Username and Password are sent to a Basic registry or to its token endpoint.
	Username, Password string
	// IdentityToken is docker config's "identitytoken": an OAuth2 refresh token that is
	// exchanged for an access token with a POST to the token endpoint.
	IdentityToken string
	// RegistryToken is docker config's "registrytoken": sent to the registry as a bearer
	// token directly.
	RegistryToken string
}

// Empty reports whether c holds nothing, which means anonymous access.
func (c Credential) Empty() bool { return c == Credential{} }

// hasBasic reports whether c has a username or password to send as basic credentials.
func (c Credential) hasBasic() bool { return c.Username != "" || c.Password != "" }

// CredentialSource finds the credential for a registry host ("ghcr.io",
// "127.0.0.1:5000", "docker.io"). An empty Credential and a nil error mean anonymous.
type CredentialSource interface {
	Credential(ctx context.Context, host string) (Credential, error)
}
