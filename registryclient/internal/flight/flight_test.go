package flight

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestFlight(t *testing.T) {
	t.Run("callers of one key share one run", func(t *testing.T) {
		var f Group[string, int]
		var runs atomic.Int32
		release := make(chan struct{})
		results := make(chan int, 5)
		for range 5 {
			go func() {
				v, _ := f.Do(context.Background(), "k", func(context.Context) (int, error) {
					runs.Add(1)
					<-release
					return 42, nil
				})
				results <- v
			}()
		}
		time.Sleep(50 * time.Millisecond)
		close(release)
		for range 5 {
			if v := <-results; v != 42 {
				t.Errorf("result %d, want 42", v)
			}
		}
		if n := runs.Load(); n != 1 {
			t.Errorf("%d runs, want 1", n)
		}
	})
	t.Run("a run cancelled by its own caller is run again for a live waiter", func(t *testing.T) {
		var f Group[string, int]
		leaderCtx, cancelLeader := context.WithCancel(context.Background())
		started := make(chan struct{})
		go f.Do(leaderCtx, "k", func(context.Context) (int, error) {
			close(started)
			<-leaderCtx.Done()
			return 0, leaderCtx.Err()
		})
		<-started
		done := make(chan int)
		go func() {
			v, err := f.Do(context.Background(), "k", func(context.Context) (int, error) { return 7, nil })
			if err != nil {
				t.Errorf("waiter: %v", err)
			}
			done <- v
		}()
		time.Sleep(20 * time.Millisecond)
		cancelLeader()
		if v := <-done; v != 7 {
			t.Errorf("waiter got %d, want its own run's 7", v)
		}
	})
}
