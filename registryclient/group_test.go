package registryclient

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// A panic in a transfer goroutine would end the plugin process; it reaches the caller
// of Wait instead, whose RPC guard turns it into a diagnostic.
func TestGroupPanicReachesWaitsCaller(t *testing.T) {
	g := newGroup(context.Background(), 4)
	cancelled := make(chan error, 1)
	started := make(chan struct{})
	g.Go(func(ctx context.Context) error {
		close(started)
		<-ctx.Done()
		cancelled <- context.Cause(ctx)
		return ctx.Err()
	})
	<-started
	g.Go(func(context.Context) error {
		var layers []string
		_ = layers[len(layers)+1]
		return nil
	})
	var recovered any
	func() {
		defer func() { recovered = recover() }()
		g.Wait()
	}()
	if recovered == nil {
		t.Fatal("Wait returned normally after a goroutine panicked")
	}
	text := fmt.Sprint(recovered)
	first, _, _ := strings.Cut(text, "\n")
	if !strings.Contains(first, "index out of range") {
		t.Errorf("the panic's first line is %q, want the goroutine's own panic", first)
	}
	if !strings.Contains(text, "TestGroupPanicReachesWaitsCaller.func2") {
		t.Errorf("the panic does not carry the goroutine's stack:\n%s", text)
	}
	select {
	case err := <-cancelled:
		if !errors.Is(err, errPanicked) {
			t.Errorf("the other transfer was cancelled with %v, want errPanicked", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the other transfer was not cancelled")
	}
}
