package testregistry

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrNotFound reports that the registry answered 404 for a manifest or blob.
var ErrNotFound = errors.New("not found")

// ErrBinaryNotFound reports that the registry executable is missing.
var ErrBinaryNotFound = errors.New("registry binary not found")

// StatusError is an HTTP answer the harness did not expect, kept whole so a
// test can assert on the status code (errors.As) or on ErrNotFound (errors.Is).
type StatusError struct {
	Method     string
	URL        string
	StatusCode int
	Body       string
}

// Error names the request, the status and the registry's message.
func (e *StatusError) Error() string {
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode), e.Body)
}

// Is makes a 404 match ErrNotFound.
func (e *StatusError) Is(target error) bool {
	return target == ErrNotFound && e.StatusCode == http.StatusNotFound
}
