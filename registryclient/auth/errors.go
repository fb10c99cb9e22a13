package auth

import "errors"

// ErrUnauthorized marks an authentication failure that re-authenticating cannot fix:
// the registry needs credentials we do not have, or it rejected the ones we sent.
var ErrUnauthorized = errors.New("unauthorized")

// ErrCredentialLookup marks a credential that could not be looked up: a Docker config
// that cannot be read, or a credential helper that failed, is missing or did not answer.
var ErrCredentialLookup = errors.New("credential lookup failed")

// lookupError is a failed credential lookup; its text is its cause's alone.
type lookupError struct{ err error }

func (e lookupError) Error() string   { return e.err.Error() }
func (e lookupError) Unwrap() []error { return []error{e.err, ErrCredentialLookup} }

// Error says which registry refused authentication and why. Its text never contains a
// password or token.
type Error struct {
	// Host is the registry the request was for.
	Host string
	// Reason says what went wrong and, where it helps, what to do next.
	Reason string
	// StatusCode is the token endpoint's answer, or 0 when no token endpoint answered.
	StatusCode int
	// Err is ErrUnauthorized when retrying cannot help, or nil.
	Err error
}

// Error implements error.
func (e *Error) Error() string {
	msg := "authenticate to registry " + e.Host + ": " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap lets errors.Is find ErrUnauthorized.
func (e *Error) Unwrap() error { return e.Err }
