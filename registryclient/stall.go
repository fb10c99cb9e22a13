package registryclient

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http/httptrace"
	"sync"
	"time"
)

// DefaultIdleTimeout is how long a body may carry no bytes, in either direction,
// before its connection is dropped and the operation tried again.
const DefaultIdleTimeout = time.Minute

// DefaultResponseTimeout is how long a registry may take to start answering a request
// it has received whole. It is generous: finishing the upload of a large blob on an
// object-storage backend takes a registry a while.
const DefaultResponseTimeout = 5 * time.Minute

// errStalled means a connection carried no bytes for the idle timeout: the peer is gone
// or stuck, and a new connection may do better.
var errStalled = errors.New("connection dropped: no data")

// watchdog drops one exchange's connection when its body stops moving: a response body
// whose Read has waited for the idle timeout, or a request body the transport has not
// asked for more of in that time (the registry stopped reading it). Time our own code
// spends elsewhere, and the wait for the answer's headers, do not count.
type watchdog struct {
	idle   time.Duration
	cancel context.CancelCauseFunc

	mu    sync.Mutex
	timer *time.Timer
	fired bool
}

// watch gives the exchange about to start a context the watchdog can cancel, and the
// trace that tells it when the request has been sent whole.
func (c *Client) watch(ctx context.Context) (context.Context, *watchdog) {
	ctx, cancel := context.WithCancelCause(ctx)
	w := &watchdog{idle: c.idleTimeout, cancel: cancel}
	return httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { w.disarm() }}), w
}

// arm starts the countdown.
func (w *watchdog) arm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer == nil {
		w.timer = time.AfterFunc(w.idle, w.fire)
		return
	}
	w.timer.Reset(w.idle)
}

// disarm stops the countdown.
func (w *watchdog) disarm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.timer != nil {
		w.timer.Stop()
	}
}

func (w *watchdog) fire() {
	w.mu.Lock()
	w.fired = true
	w.mu.Unlock()
	w.cancel(errStalled)
}

// stalled returns the error to report instead of err when the watchdog dropped the
// connection: whatever the transport made of the cancellation, it was a stall.
func (w *watchdog) stalled(err error) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.fired || err == nil || errors.Is(err, io.EOF) {
		return err
	}
	return fmt.Errorf("%w for %s", errStalled, w.idle)
}

// done ends the exchange: no countdown, and the context released.
func (w *watchdog) done() {
	w.disarm()
	w.cancel(nil)
}

// sending watches a request body: the countdown runs between the transport's reads.
type sending struct {
	io.ReadCloser
	w *watchdog
}

func (s sending) Read(p []byte) (int, error) {
	s.w.disarm()
	n, err := s.ReadCloser.Read(p)
	s.w.arm()
	return n, err
}

// receiving watches a response body: the countdown runs while a read waits.
type receiving struct {
	io.ReadCloser
	w *watchdog
}

func (r receiving) Read(p []byte) (int, error) {
	r.w.arm()
	n, err := r.ReadCloser.Read(p)
	r.w.disarm()
	return n, r.w.stalled(err)
}

func (r receiving) Close() error {
	err := r.ReadCloser.Close()
	r.w.done()
	return err
}
