// Package auth is where registry authentication happens: it finds a user's credential
// for a registry (provider registry_auth blocks, then the Docker config), learns how a
// registry wants to be authenticated from its 401 challenges, and fetches and caches
// bearer tokens so that a whole Terraform run asks each token endpoint once per scope.
//
// The registry client calls [Authenticator.Authorize] before sending a request and
// [Authenticator.Challenge] when a registry answers 401, then retries once.
package auth
