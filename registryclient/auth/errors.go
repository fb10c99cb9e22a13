package auth

import "errors"

// ErrUnauthorized marks an authentication failure that re-authenticating cannot fix:
// the registry needs credentials we do not have, or it rejected the ones we sent.
var ErrUnauthorized = errors.New("unauthorized")

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
