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
	t.Run("a run that panics lets its waiters go and leaves the key free", func(t *testing.T) {
		var f Group[string, int]
		started := make(chan struct{})
		boom := make(chan struct{})
		panicked := make(chan any)
		go func() {
			defer func() { panicked <- recover() }()
			f.Do(context.Background(), "k", func(context.Context) (int, error) {
				close(started)
				<-boom
				panic("upload bug")
			})
		}()
		<-started
		waiter := make(chan int)
		go func() {
			v, err := f.Do(context.Background(), "k", func(context.Context) (int, error) { return 7, nil })
			if err != nil {
				t.Errorf("waiter: %v", err)
			}
			waiter <- v
		}()
		time.Sleep(20 * time.Millisecond)
		close(boom)
		if v := <-panicked; v != "upload bug" {
			t.Errorf("the running caller recovered %v, want its own panic", v)
		}
		select {
		case v := <-waiter:
			if v != 7 {
				t.Errorf("waiter got %d, want its own run's 7", v)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the waiter still waits for a run that panicked")
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if v, err := f.Do(ctx, "k", func(context.Context) (int, error) { return 8, nil }); v != 8 || err != nil {
			t.Errorf("a later call got %d, %v; want its own 8", v, err)
		}
	})
}
