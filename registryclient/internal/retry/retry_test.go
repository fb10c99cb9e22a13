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

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    Failure
		want Action
	}{
		{"a cancelled caller stops whatever happened", Failure{Canceled: true, Transport: true}, Stop},
		{"a blob damaged on its way from a registry is read again", Failure{Corrupt: true, Remote: true}, Restart},
		{"a corrupt local file stays corrupt", Failure{Corrupt: true}, Stop},
		{"a reset connection is tried again", Failure{Transport: true}, Again},
		{"a stalled PATCH resumes", Failure{Transport: true, Method: http.MethodPatch, Session: true}, Again},
		{"a lost upload session starts over", Failure{Status: 404, Codes: []string{"BLOB_UPLOAD_UNKNOWN"}, Method: http.MethodPatch, Session: true}, Restart},
		{"a stale upload Location starts over", Failure{Status: 400, Codes: []string{"BLOB_UPLOAD_INVALID"}, Method: http.MethodPut, Session: true}, Restart},
		{"a refused upload status request starts over", Failure{Status: 416, Codes: []string{"RANGE_INVALID"}, Method: http.MethodGet, Session: true}, Restart},
		{"a finished upload the registry finds damaged is sent again", Failure{Status: 400, Codes: []string{"DIGEST_INVALID"}, Method: http.MethodPut, Session: true}, Restart},
		{"a chunk at the wrong offset resumes from the registry's", Failure{Status: 416, Method: http.MethodPatch, Session: true}, Again},
		{"a 503 is tried again", Failure{Status: 503}, Again},
		{"a 429 is tried again", Failure{Status: 429, After: 2 * time.Second}, Again},
		{"a 404 manifest is final", Failure{Status: 404, Codes: []string{"MANIFEST_UNKNOWN"}, Method: http.MethodGet}, Stop},
		{"a 403 is final", Failure{Status: 403, Codes: []string{"DENIED"}}, Stop},
		{"a 400 without a known code is final", Failure{Status: 400, Codes: []string{"MANIFEST_INVALID"}, Method: http.MethodPut}, Stop},
		{"a 416 on a ranged blob read is final", Failure{Status: 416, Method: http.MethodGet}, Stop},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Decide(tc.f); got.Action != tc.want {
				t.Errorf("Decide(%+v) = %s, want %s", tc.f, got.Action, tc.want)
			}
		})
	}
	if d := Decide(Failure{Status: 429, After: 2 * time.Second}); d.After != 2*time.Second {
		t.Errorf("a 429's Retry-After is lost: %s", d.After)
	}
}
