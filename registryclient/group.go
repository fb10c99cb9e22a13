package registryclient

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"sync"
)

// group runs functions concurrently, at most limit at a time, and returns the first
// error; the first failure cancels the others through the group's context.
type group struct {
	ctx    context.Context
	cancel context.CancelCauseFunc
	wg     sync.WaitGroup
	slots  chan struct{}
	once   sync.Once
	err    error

	panicOnce sync.Once
	panicked  *goroutinePanic
}

// goroutinePanic carries a panic from one of a group's goroutines to Wait's caller,
// where the provider's RPC guard can recover it: a panic left in the goroutine would
// kill the plugin. It prints as the original value, then the goroutine's stack.
type goroutinePanic struct {
	value any
	stack []byte
}

func (p *goroutinePanic) String() string {
	return fmt.Sprintf("%v\n\npanicked in a transfer goroutine:\n%s", p.value, p.stack)
}

// errPanicked cancels the rest of a group whose goroutine panicked.
var errPanicked = errors.New("a concurrent transfer panicked")

func newGroup(ctx context.Context, limit int) *group {
	ctx, cancel := context.WithCancelCause(ctx)
	return &group{ctx: ctx, cancel: cancel, slots: make(chan struct{}, max(limit, 1))}
}

// Go runs fn with the group's context once a slot is free.
func (g *group) Go(fn func(ctx context.Context) error) {
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		defer func() {
			if v := recover(); v != nil {
				g.panicOnce.Do(func() { g.panicked = &goroutinePanic{value: v, stack: debug.Stack()} })
				g.fail(errPanicked)
			}
		}()
		select {
		case g.slots <- struct{}{}:
		case <-g.ctx.Done():
			g.fail(context.Cause(g.ctx))
			return
		}
		defer func() { <-g.slots }()
		if err := fn(g.ctx); err != nil {
			g.fail(err)
		}
	}()
}

func (g *group) fail(err error) {
	g.once.Do(func() {
		g.err = err
		g.cancel(err)
	})
}

// Wait waits for every function and returns the first error. If one of them panicked,
// Wait panics in its caller's goroutine with that panic.
func (g *group) Wait() error {
	g.wg.Wait()
	g.cancel(nil)
	if g.panicked != nil {
		panic(g.panicked)
	}
	return g.err
}
