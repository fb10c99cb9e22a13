package auth

import (
	"context"
	"testing"
	"time"
)

func TestSharedCacheCancellation(t *testing.T) {
	t.Run("a waiter whose fetching caller was cancelled fetches for itself instead of failing", func(t *testing.T) {
		var c sharedCache[string, string]
		always := func(string) bool { return true }
		leaderCtx, cancel := context.WithCancel(t.Context())
		started := make(chan struct{})
		leaderDone := make(chan error, 1)
		go func() {
			_, err := c.get(leaderCtx, "k", always, func(ctx context.Context) (string, error) {
				close(started)
				<-ctx.Done()
				return "", ctx.Err()
			})
			leaderDone <- err
		}()
		<-started
		waiter := make(chan string, 1)
		go func() {
			v, err := c.get(t.Context(), "k", always, func(context.Context) (string, error) { return "fresh", nil })
			if err != nil {
				v = err.Error()
			}
			waiter <- v
		}()
		// Let the waiter join the running fetch before its caller gives up.
		time.Sleep(50 * time.Millisecond)
		cancel()
		if err := <-leaderDone; err == nil {
			t.Error("the cancelled caller got no error")
		}
		if got := <-waiter; got != "fresh" {
			t.Errorf("waiter got %q, want its own fetch's %q", got, "fresh")
		}
	})
}
