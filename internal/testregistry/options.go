package testregistry

import "fmt"

// AuthMode selects how a test registry authenticates clients.
type AuthMode int

const (
	// AuthNone lets anyone push and pull.
	AuthNone AuthMode = iota
	// AuthBasic checks HTTP basic credentials against an htpasswd file.
	AuthBasic
	// AuthToken sends clients to a token server for bearer JWTs (Docker token auth).
	AuthToken
)

// Options configures Start.
type Options struct {
	// Auth is how the registry authenticates clients.
	Auth AuthMode
	// Username and Password are the one account; they default to
	// "tester"/"secret-pass" when Auth is not AuthNone.
	Username, Password string

	// TokenField is the JSON field a GET to the token server answers with:
	// "token" (the default), "access_token" or "both". A refresh-token POST
	// always answers access_token, as OAuth2 says. Token mode only.
	TokenField string
	// TokenExpiresIn is the expires_in the token server answers with, in
	// seconds; 0 omits the field. Token mode only.
	TokenExpiresIn int
	// RefreshToken, when set, is accepted by the token server in an OAuth2
	// POST (grant_type=refresh_token), Docker's identity-token flow. Token
	// mode only.
	RefreshToken string
	// AllowAnonymousPull makes the token server give pull-only tokens to
	// requests without credentials. Token mode only.
	AllowAnonymousPull bool
	// DeleteDisabled makes the registry refuse every DELETE with 405 UNSUPPORTED.
	DeleteDisabled bool
}

// withDefaults fills in the account and checks the token knobs.
func (o Options) withDefaults() (Options, error) {
	switch o.Auth {
	case AuthNone:
		return o, nil
	case AuthBasic, AuthToken:
	default:
		return o, fmt.Errorf("unknown auth mode %d", o.Auth)
	}
	if o.Username == "" {
		o.Username = "tester"
	}
	if o.Password == "" {
		o.Password = "secret-pass"
	}
	switch o.TokenField {
	case "":
		o.TokenField = "token"
	case "token", "access_token", "both":
	default:
		return o, fmt.Errorf("unknown token field %q: want token, access_token or both", o.TokenField)
	}
	return o, nil
}
