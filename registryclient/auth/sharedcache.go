package auth

import (
	"context"
	"sync"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/internal/flight"
)

// sharedCache keeps one value per key and makes concurrent callers that miss share one
// fetch: ten Terraform resources that need the same token at once cost one token request.
// Failed fetches are not kept, so the next caller tries again.
type sharedCache[K comparable, V any] struct {
	mu      sync.Mutex
	values  map[K]V
	fetches flight.Group[K, V]
}

// get returns the cached value for key if usable accepts it; otherwise it waits for a
// fetch already running for key, or runs fetch itself.
func (c *sharedCache[K, V]) get(ctx context.Context, key K, usable func(V) bool, fetch func(context.Context) (V, error)) (V, error) {
	if v, ok := c.lookup(key, usable); ok {
		return v, nil
	}
	return c.fetches.Do(ctx, key, func(ctx context.Context) (V, error) {
		// A fetch may have finished between the lookup above and this one starting.
		if v, ok := c.lookup(key, usable); ok {
			return v, nil
		}
		v, err := fetch(ctx)
		if err == nil {
			c.mu.Lock()
			if c.values == nil {
				c.values = map[K]V{}
			}
			c.values[key] = v
			c.mu.Unlock()
		}
		return v, err
	})
}

func (c *sharedCache[K, V]) lookup(key K, usable func(V) bool) (V, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.values[key]
	return v, ok && usable(v)
}

// dropIf forgets the value for key when stale says so.
func (c *sharedCache[K, V]) dropIf(key K, stale func(V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.values[key]; ok && stale(v) {
		delete(c.values, key)
	}
}
