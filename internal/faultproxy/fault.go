// Package faultproxy is a reverse proxy for tests that stands in front of a real
// registry on loopback and breaks a seeded fraction of the requests it forwards the way
// networks and registries break in production: 5xx answers, 429 with Retry-After,
// connections reset before the headers or in the middle of a body, bodies cut short,
// bodies that stop flowing, wrong Docker-Content-Digest headers, flipped bytes in blobs
// on their way in either direction, and a registry that stops answering altogether.
//
// It is test code: it listens on 127.0.0.1 only, forwards only to a loopback registry,
// holds a stalled connection for a bounded time, and closes itself after its lifetime.
package faultproxy

import (
	"fmt"
	"net/http"
	"strings"
)

// Fault is one way a request can go wrong.
type Fault int

const (
	// Status500, Status502 and Status503 answer with that status and a registry error
	// body; the request never reaches the registry.
	Status500 Fault = iota + 1
	Status502
	Status503
	// TooManyRequests answers 429 with a Retry-After header.
	TooManyRequests
	// ResetBeforeHeaders resets the connection (TCP RST) before any answer.
	ResetBeforeHeaders
	// ResetMidBody resets the connection halfway through a blob or manifest being
	// read, or, for an upload, after forwarding half of its body to the registry, which
	// then keeps what arrived.
	ResetMidBody
	// TruncatedBody sends a blob or manifest cut short, with a Content-Length that
	// agrees with the short body, so HTTP itself sees nothing wrong.
	TruncatedBody
	// StalledBody sends part of a blob or manifest and then nothing more; for an upload
	// it swallows the body and never answers. The connection is reset after StallFor.
	StalledBody
	// WrongDigest replaces the Docker-Content-Digest header of an answer that has one.
	WrongDigest
	// CorruptBody flips one byte of a blob or manifest being read, or of a blob being
	// uploaded on its way to the registry.
	CorruptBody
)

// All lists every fault, for options that want them all.
var All = []Fault{Status500, Status502, Status503, TooManyRequests, ResetBeforeHeaders, ResetMidBody, TruncatedBody, StalledBody, WrongDigest, CorruptBody}

func (f Fault) String() string {
	switch f {
	case Status500:
		return "500"
	case Status502:
		return "502"
	case Status503:
		return "503"
	case TooManyRequests:
		return "429 with Retry-After"
	case ResetBeforeHeaders:
		return "reset before headers"
	case ResetMidBody:
		return "reset mid-body"
	case TruncatedBody:
		return "truncated body"
	case StalledBody:
		return "stalled body"
	case WrongDigest:
		return "wrong Docker-Content-Digest"
	case CorruptBody:
		return "corrupt blob bytes"
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// applies reports whether f can happen to r: body faults need a body, a blob's or a
// manifest's on its way out (GET) or a blob's on its way in (PATCH or PUT of an upload).
// A manifest's upload is never corrupted: a registry that receives a manifest with a
// flipped byte may store it as another valid manifest, which no client can undo, and
// TLS is what protects it in production.
func (f Fault) applies(r *http.Request) bool {
	switch f {
	case ResetMidBody, TruncatedBody, StalledBody, CorruptBody:
		if read(r) {
			return true
		}
		if !upload(r) {
			return false
		}
		return f != TruncatedBody // an upload's body the proxy cuts is a reset
	}
	return true
}

// read is a GET of a blob or manifest: an answer with a body worth breaking.
func read(r *http.Request) bool {
	return r.Method == http.MethodGet && !strings.Contains(r.URL.Path, "/blobs/uploads/") &&
		(strings.Contains(r.URL.Path, "/blobs/") || strings.Contains(r.URL.Path, "/manifests/"))
}

// upload is a PATCH or PUT carrying a blob's bytes into an upload session.
func upload(r *http.Request) bool {
	return (r.Method == http.MethodPatch || r.Method == http.MethodPut) &&
		strings.Contains(r.URL.Path, "/blobs/uploads/") && r.ContentLength != 0
}
