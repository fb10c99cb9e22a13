package retry

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"syscall"
	"testing"
	"time"
)

func TestAfter(t *testing.T) {
	if got := After("3"); got != 3*time.Second {
		t.Errorf("seconds: %s", got)
	}
	if got := After(time.Now().Add(10 * time.Second).UTC().Format(http.TimeFormat)); got < 8*time.Second || got > 10*time.Second {
		t.Errorf("HTTP date: %s", got)
	}
	if got := After("soon"); got != 0 {
		t.Errorf("garbage: %s", got)
	}
}

func TestStatusAndTransport(t *testing.T) {
	for code, want := range map[int]bool{408: true, 429: true, 500: true, 503: true, 400: false, 401: false, 404: false, 416: false} {
		if Status(code) != want {
			t.Errorf("Status(%d) = %v", code, !want)
		}
	}
	refused := &url.Error{Op: "Get", URL: "https://auth.example/token", Err: errors.New("redirect refused")}
	reset := &url.Error{Op: "Get", URL: "https://auth.example/token", Err: syscall.ECONNRESET}
	if !Transport(io.ErrUnexpectedEOF) || !Transport(reset) || Transport(refused) {
		t.Error("Transport misclassifies")
	}
}

func TestWaitEndsWithItsContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := Wait(ctx, time.Hour, 0, 0); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait on a cancelled context: %v", err)
	}
}
