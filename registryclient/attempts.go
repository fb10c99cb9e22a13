package registryclient

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/imagesync/terraform-provider-imagesync/registryclient/internal/retry"
)

// retrying runs one operation (a request, a blob's transfer) until it succeeds, the
// retry policy calls its failure permanent, or it has been tried max_retries more
// times. This is the only loop that repeats failed work: what an operation does inside
// one attempt is never repeated on its own, so retries never multiply.
//
// attempt learns what the policy made of the previous failure: retry.Again (keep what
// was established: an upload session resumes) or retry.Restart (start from nothing);
// the first attempt gets Restart.
func (c *Client) retrying(ctx context.Context, attempt func(ctx context.Context, next retry.Action) error) error {
	next := retry.Restart
	for n := 1; ; n++ {
		err := attempt(ctx, next)
		if err == nil {
			return nil
		}
		d := retry.Decide(failure(ctx, err))
		switch {
		case d.Action == retry.Stop && n == 1:
			return err
		case d.Action == retry.Stop:
			return &attemptsError{err: err, attempts: n}
		case n > c.maxRetries:
			return &attemptsError{err: err, attempts: n, exhausted: true}
		}
		c.logf(ctx, "registry operation failed, trying again", map[string]any{
			"attempt": n, "next": d.Action.String(), "error": err.Error(),
		})
		if werr := c.wait(ctx, n-1, d.After); werr != nil {
			return fmt.Errorf("%w while waiting to try again after %w", werr, &attemptsError{err: err, attempts: n})
		}
		next = d.Action
	}
}

// wait sleeps before retry number attempt+1, as the registry asked or with backoff.
func (c *Client) wait(ctx context.Context, attempt int, after time.Duration) error {
	return retry.Wait(ctx, c.backoffBase, attempt, after)
}

// failure reads the facts the retry policy decides on off an error.
func failure(ctx context.Context, err error) retry.Failure {
	f := retry.Failure{Canceled: ctx.Err() != nil}
	var ce *contentError
	if errors.As(err, &ce) {
		f.Corrupt, f.Remote = true, ce.remote
	}
	var re *Error
	if errors.As(err, &re) {
		f.Status, f.Method, f.Session, f.After = re.Status, re.Method, re.session, re.retryAfter
		for _, d := range re.Errors {
			f.Codes = append(f.Codes, d.Code)
		}
	}
	f.Transport = re == nil && (errors.Is(err, errStalled) || errors.Is(err, errBodyConsumed) || retry.Transport(err))
	return f
}

// attemptsError is an operation's last failure when it was tried more than once: the
// message says how often, and whether the retries ran out.
type attemptsError struct {
	err       error
	attempts  int
	exhausted bool
}

func (e *attemptsError) Error() string {
	if e.exhausted {
		return fmt.Sprintf("%v (gave up after %d attempts)", e.err, e.attempts)
	}
	return fmt.Sprintf("%v (after %d attempts)", e.err, e.attempts)
}

func (e *attemptsError) Unwrap() error { return e.err }
