// Package testregistry starts throwaway CNCF distribution registries on
// loopback ports, seeds them with generated images and reads them back.
//
// It is the independent judge of what the provider did, so it speaks the
// registry protocol with plain net/http and imports nothing else from this
// repository.
package testregistry
