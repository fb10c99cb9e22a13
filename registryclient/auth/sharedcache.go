package auth

import (
	"context"
	"sync"
)

// sharedCache keeps one value per key and makes concurrent callers that miss share one
// fetch: ten Terraform resources that need the same token at once cost one token request.
// Failed fetches are not kept, so the next caller tries again.
type sharedCache[K comparable, V any] struct {
	mu      sync.Mutex
	values  map[K]V
	pending map[K]*pendingFetch[V]
}

type pendingFetch[V any] struct {
	done  chan struct{}
	value V
	err   error
	// canceled is set when the fetching caller's context ended: its error says nothing
	// about the callers still waiting, and one of them fetches again.
	canceled bool
}

// get returns the cached value for key if usable accepts it; otherwise it waits for a
// fetch already running for key, or runs fetch itself.
func (c *sharedCache[K, V]) get(ctx context.Context, key K, usable func(V) bool, fetch func(context.Context) (V, error)) (V, error) {
	for {
		c.mu.Lock()
		if v, ok := c.values[key]; ok && usable(v) {
			c.mu.Unlock()
			return v, nil
		}
		if p, ok := c.pending[key]; ok {
			c.mu.Unlock()
			select {
			case <-p.done:
			case <-ctx.Done():
				var zero V
				return zero, ctx.Err()
			}
			if p.canceled && ctx.Err() == nil {
				continue
			}
			return p.value, p.err
		}
		if c.values == nil {
			c.values = map[K]V{}
			c.pending = map[K]*pendingFetch[V]{}
		}
		p := &pendingFetch[V]{done: make(chan struct{})}
		c.pending[key] = p
		c.mu.Unlock()

		p.value, p.err = fetch(ctx)
		p.canceled = p.err != nil && ctx.Err() != nil

		c.mu.Lock()
		delete(c.pending, key)
		if p.err == nil {
			c.values[key] = p.value
		}
		c.mu.Unlock()
		close(p.done)
		return p.value, p.err
	}
}

// dropIf forgets the value for key when stale says so.
func (c *sharedCache[K, V]) dropIf(key K, stale func(V) bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, ok := c.values[key]; ok && stale(v) {
		delete(c.values, key)
	}
}
