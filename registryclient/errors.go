package registryclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/auth"
	"github.com/imagesync/terraform-provider-imagesync/registryclient/internal/retry"
)

// Sentinel errors, checked with errors.Is.
var (
	ErrInvalidReference      = errors.New("invalid image reference")
	ErrNotFound              = errors.New("not found")
	ErrUnauthorized          = auth.ErrUnauthorized
	ErrDenied                = errors.New("denied")
	ErrTooManyRequests       = errors.New("too many requests")
	ErrDigestMismatch        = errors.New("digest mismatch")
	ErrUnsupportedMediaType  = errors.New("unsupported media type")
	ErrPlatformNotFound      = errors.New("platform not found")
	ErrInvalidPlatform       = errors.New("invalid platform")
	ErrManifestTooLarge      = errors.New("manifest too large")
	ErrUnexpectedContentSize = errors.New("unexpected content size")
)

// ErrorDetail is one entry of a registry's {"errors":[...]} body.
type ErrorDetail struct {
	Code    string          `json:"code"`
	Message string          `json:"message"`
	Detail  json.RawMessage `json:"detail,omitempty"`
}

// Error is a registry answer with a status the request did not expect.
type Error struct {
	Method     string
	URL        string // host and path, no query: query strings may carry upload state
	Registry   string // the registry the request was about, as in its Reference
	Repository string // the repository the request was about
	Status     int
	Errors     []ErrorDetail
	Body       string // a short excerpt when the body was not the standard JSON

	retryAfter time.Duration // the answer's Retry-After
	session    bool          // the request continued an upload session
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.URL, e.Status, strings.ToLower(http.StatusText(e.Status)))
	for _, d := range e.Errors {
		fmt.Fprintf(&b, "; %s", d.Code)
		if d.Message != "" {
			fmt.Fprintf(&b, ": %s", d.Message)
		}
	}
	if len(e.Errors) == 0 && e.Body != "" {
		fmt.Fprintf(&b, ": %s", e.Body)
	}
	return b.String()
}

// Is maps the status and the registry's codes onto the sentinel errors.
func (e *Error) Is(target error) bool {
	switch target {
	case ErrNotFound:
		return e.Status == http.StatusNotFound || e.hasCode("MANIFEST_UNKNOWN", "BLOB_UNKNOWN", "NAME_UNKNOWN")
	case ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.hasCode("UNAUTHORIZED")
	case ErrDenied:
		return e.Status == http.StatusForbidden || e.hasCode("DENIED")
	case ErrTooManyRequests:
		return e.Status == http.StatusTooManyRequests || e.hasCode("TOOMANYREQUESTS")
	case ErrUnsupported:
		return e.Status == http.StatusMethodNotAllowed || e.hasCode("UNSUPPORTED")
	}
	return false
}

// About reports whether the failed request was about ref's repository on ref's
// registry, to tell a failure at the destination from one at the source.
func (e *Error) About(ref Reference) bool {
	return strings.EqualFold(e.Registry, ref.Registry) && e.Repository == ref.Repository
}

func (e *Error) hasCode(codes ...string) bool {
	for _, d := range e.Errors {
		for _, c := range codes {
			if d.Code == c {
				return true
			}
		}
	}
	return false
}

// newError reads a failed response's body (bounded) into an *Error.
func newError(resp *http.Response) *Error {
	e := &Error{
		Method: resp.Request.Method, URL: resp.Request.URL.Host + resp.Request.URL.Path, Status: resp.StatusCode,
		retryAfter: retry.After(resp.Header.Get("Retry-After")),
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var parsed struct {
		Errors []ErrorDetail `json:"errors"`
	}
	if json.Unmarshal(body, &parsed) == nil && len(parsed.Errors) > 0 {
		e.Errors = parsed.Errors
	} else if len(body) > 0 {
		e.Body = strings.TrimSpace(string(body[:min(len(body), 200)]))
	}
	return e
}

func isNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// contentError is content that is not what its digest or size says. remote says where
// it came from: a registry's content may have been damaged on the way and arrive whole
// when read again; a local file's will not.
type contentError struct {
	msg    string
	err    error // ErrDigestMismatch or ErrUnexpectedContentSize
	remote bool
}

// corrupt describes content that failed verification; fromRegistry says whether it
// came over the network.
func corrupt(fromRegistry bool, sentinel error, format string, args ...any) error {
	return &contentError{msg: fmt.Sprintf(format, args...), err: sentinel, remote: fromRegistry}
}

func (e *contentError) Error() string { return e.msg + ": " + e.err.Error() }
func (e *contentError) Unwrap() error { return e.err }
