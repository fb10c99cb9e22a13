package registryclient

import (
	"context"
	"errors"
	"sync"
)

// flight runs one function per key at a time and shares its result with every caller
// that asks for the same key while it runs: two resources copying the same base layer
// into one repository upload it once.
type flight[T any] struct {
	mu    sync.Mutex
	calls map[string]*flightCall[T]
}

type flightCall[T any] struct {
	done chan struct{}
	val  T
	err  error
}

// do runs fn for key unless a call for key is already running, in which case it waits
// for that call's result (or for ctx). A call that ended because its own caller's context
// was cancelled does not fail the waiters whose contexts are live: they run it again.
func (f *flight[T]) do(ctx context.Context, key string, fn func() (T, error)) (T, error) {
	for {
		f.mu.Lock()
		if f.calls == nil {
			f.calls = map[string]*flightCall[T]{}
		}
		call, running := f.calls[key]
		if !running {
			call = &flightCall[T]{done: make(chan struct{})}
			f.calls[key] = call
			f.mu.Unlock()
			call.val, call.err = fn()
			f.mu.Lock()
			delete(f.calls, key)
			f.mu.Unlock()
			close(call.done)
			return call.val, call.err
		}
		f.mu.Unlock()
		select {
		case <-call.done:
		case <-ctx.Done():
			var zero T
			return zero, ctx.Err()
		}
		if ctx.Err() == nil && (errors.Is(call.err, context.Canceled) || errors.Is(call.err, context.DeadlineExceeded)) {
			continue
		}
		return call.val, call.err
	}
}
