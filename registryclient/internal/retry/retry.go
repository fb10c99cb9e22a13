// Package retry is the one retry policy for everything the registry client does, with
// registries and with their token endpoints alike: which failures are worth another
// try (Decide, on the status table and transport judgement below), what that try
// starts from, and how long to wait before it.
package retry

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"syscall"
	"time"
)

// maxWait caps any single wait, however long a Retry-After asks for.
const maxWait = 2 * time.Minute

// Status reports whether an answer with this status may succeed when asked again:
// 408, 429 and the 5xx that mean "busy" or "broken for a moment".
func Status(code int) bool {
	switch code {
	case http.StatusRequestTimeout, http.StatusTooManyRequests,
		http.StatusInternalServerError, http.StatusBadGateway,
		http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// Transport reports whether a request failed because the connection did (refused,
// reset, cut mid-body, timed out) rather than because of what was sent or a refused
// redirect.
func Transport(err error) bool {
	// Every error http.Client.Do returns is a *url.Error, itself a net.Error: judge
	// what it wraps.
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var ne net.Error
	return errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.As(err, &ne)
}

// After parses a Retry-After header, in seconds or as an HTTP date; 0 when absent.
func After(header string) time.Duration {
	if header == "" {
		return 0
	}
	if s, err := strconv.Atoi(header); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(header); err == nil {
		return time.Until(t)
	}
	return 0
}

// Wait sleeps before retry number attempt+1: after when the server asked for a wait,
// else exponential backoff from base with full jitter. It returns early with ctx's
// error.
func Wait(ctx context.Context, base time.Duration, attempt int, after time.Duration) error {
	d := after
	if d <= 0 {
		ceiling := base << min(attempt, 6)
		d = ceiling/2 + rand.N(ceiling/2+1)
	}
	t := time.NewTimer(min(d, maxWait))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
