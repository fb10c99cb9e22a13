// Package flight runs one call per key at a time and hands its result to every caller
// that asks for the same key while it runs: ten resources that need one token cost one
// token request, and two copies of one layer into a repository upload it once.
package flight

import (
	"context"
	"sync"
)

// Group holds the calls running now, one per key. The zero Group is ready to use.
type Group[K comparable, V any] struct {
	mu    sync.Mutex
	calls map[K]*call[V]
}

type call[V any] struct {
	done  chan struct{}
	value V
	err   error
	// canceled is set when the running caller's own context ended, or fn panicked: its
	// result says nothing about the callers still waiting, so one of them runs the call
	// again.
	canceled bool
}

// Do runs fn for key, or waits for the run already under way and returns its result.
// fn gets the context of the caller that runs it.
func (g *Group[K, V]) Do(ctx context.Context, key K, fn func(context.Context) (V, error)) (V, error) {
	for {
		g.mu.Lock()
		if g.calls == nil {
			g.calls = map[K]*call[V]{}
		}
		if c, running := g.calls[key]; running {
			g.mu.Unlock()
			select {
			case <-c.done:
			case <-ctx.Done():
				var zero V
				return zero, ctx.Err()
			}
			if c.canceled && ctx.Err() == nil {
				continue
			}
			return c.value, c.err
		}
		c := &call[V]{done: make(chan struct{})}
		g.calls[key] = c
		g.mu.Unlock()

		g.run(ctx, key, c, fn)
		return c.value, c.err
	}
}

// run runs fn for c and then lets the waiters go, even when fn panics: the panic goes
// on up the running caller's stack (the provider turns it into a diagnostic), and the
// waiters, who have no result, run the call themselves rather than wait forever.
func (g *Group[K, V]) run(ctx context.Context, key K, c *call[V], fn func(context.Context) (V, error)) {
	returned := false
	defer func() {
		if !returned {
			c.canceled = true
		}
		g.mu.Lock()
		delete(g.calls, key)
		g.mu.Unlock()
		close(c.done)
	}()
	c.value, c.err = fn(ctx)
	c.canceled = c.err != nil && ctx.Err() != nil
	returned = true
}
