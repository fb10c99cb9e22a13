package retry

import (
	"net/http"
	"slices"
	"time"
)

// Action is what to do after an attempt failed.
type Action int

const (
	// Stop reports the failure: it is permanent, or the caller gave up.
	Stop Action = iota
	// Again tries once more after a wait, keeping what earlier attempts established:
	// an upload session resumes from the bytes the registry acknowledged.
	Again
	// Restart tries once more after a wait, from nothing: a new upload session, the
	// content read again from its source.
	Restart
)

func (a Action) String() string {
	switch a {
	case Again:
		return "again"
	case Restart:
		return "restart"
	}
	return "stop"
}

// Failure is what is known about a failed attempt: the facts Decide decides on.
type Failure struct {
	// Canceled: the caller's context ended (StopProvider, a Terraform timeout, another
	// part of the same copy failing).
	Canceled bool
	// Transport: no usable answer: the connection was refused, reset, cut mid-body, or
	// carried no bytes for the idle timeout.
	Transport bool
	// Status is the HTTP status of an answer the request did not expect; 0 without one.
	Status int
	// Codes are the registry's error codes in that answer (DIGEST_INVALID, ...).
	Codes []string
	// Method is the request's method.
	Method string
	// Session: the request continued an upload session at its Location.
	Session bool
	// After is the answer's Retry-After; 0 when it has none.
	After time.Duration
	// Corrupt: content was not what its digest or size says.
	Corrupt bool
	// Remote: the corrupt content came over the network, from a registry, so it may
	// arrive whole when read again; a local file's content will not change.
	Remote bool
}

// Decision is the policy's answer: what to do, and how long the server asked us to
// wait first (0: back off as Wait does).
type Decision struct {
	Action Action
	After  time.Duration
}

// Decide is the retry policy, the one place that says whether a failed attempt is
// worth another and what "another" means. The cases, in order:
//
//   - the caller gave up: stop;
//   - content that does not match its digest or size: restart when it came from a
//     registry (damaged on the way; the next read may be whole), stop when it came from
//     a local file (reading it again gives the same bytes);
//   - the connection failed (refused, reset, cut, stalled): again; an upload session
//     resumes from what the registry holds;
//   - the registry lost the upload session (BLOB_UPLOAD_UNKNOWN, BLOB_UPLOAD_INVALID,
//     a 404 on the session, or a status request it refuses): restart;
//   - the bytes that arrived are not the blob (DIGEST_INVALID, SIZE_INVALID, a
//     manifest's digest): restart, sending them again from the source;
//   - a chunk the registry refuses at that offset (416, RANGE_INVALID on a PATCH):
//     again, asking the registry where the session stands;
//   - 408, 429 and the 5xx of a busy or broken registry: again, after Retry-After when
//     the registry sent one;
//   - anything else (400, 403, 404, 405, ...): stop.
func Decide(f Failure) Decision {
	has := func(codes ...string) bool {
		return slices.ContainsFunc(f.Codes, func(c string) bool { return slices.Contains(codes, c) })
	}
	switch {
	case f.Canceled:
		return Decision{Action: Stop}
	case f.Corrupt && f.Remote:
		return Decision{Action: Restart}
	case f.Corrupt:
		return Decision{Action: Stop}
	case f.Transport:
		return Decision{Action: Again}
	case has("BLOB_UPLOAD_UNKNOWN", "BLOB_UPLOAD_INVALID"),
		f.Session && f.Status == http.StatusNotFound,
		f.Session && f.Method == http.MethodGet && f.Status/100 == 4:
		return Decision{Action: Restart}
	case has("DIGEST_INVALID", "SIZE_INVALID"):
		return Decision{Action: Restart}
	case f.Session && f.Method == http.MethodPatch && (f.Status == http.StatusRequestedRangeNotSatisfiable || has("RANGE_INVALID")):
		return Decision{Action: Again}
	case Status(f.Status):
		return Decision{Action: Again, After: f.After}
	}
	return Decision{Action: Stop}
}
