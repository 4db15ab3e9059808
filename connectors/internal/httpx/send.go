package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// ErrSend wraps the error of a send that failed for good: a 4xx other than
// 408 and 429, or the last of the retries.
var ErrSend = errors.New("httpx: send failed")

// Sender sends requests to a platform's API with bounded retries: network
// errors, 408, 429 and 5xx answers are tried again after an exponential
// backoff with jitter, or after the answer's Retry-After when it gives one
// (seconds or an HTTP date), never waiting longer than MaxWait in all.
type Sender struct {
	// Client does the requests; nil means http.DefaultClient.
	Client *http.Client
	// Attempts is how many times a request is tried; 0 means 4.
	Attempts int
	// Backoff is the first wait, doubled each retry; 0 means 200 ms.
	Backoff time.Duration
	// MaxWait bounds the total time spent waiting between attempts;
	// 0 means 10 s.
	MaxWait time.Duration
	// Sleep waits d or until ctx is done; nil means a timer. Tests
	// replace it to record the waits.
	Sleep func(ctx context.Context, d time.Duration) error
}

// Response is a platform's answer that ended the attempts: its status,
// headers and body (at most 1 MiB).
type Response struct {
	StatusCode int
	Header     http.Header
	Body       []byte
}

// StatusError is the error of a request the platform refused: its answer.
type StatusError struct {
	Response
	Method, URL string
}

func (e *StatusError) Error() string {
	body := e.Body
	if len(body) > 200 {
		body = body[:200]
	}
	return fmt.Sprintf("%s %s: %d %s: %s", e.Method, e.URL, e.StatusCode, http.StatusText(e.StatusCode), bytes.TrimSpace(body))
}

// Do sends a request built by newReq (called again for each attempt, since a
// body can be read only once) and returns the answer when its status is 2xx.
// Other answers give a *StatusError wrapped with ErrSend.
func (s *Sender) Do(ctx context.Context, newReq func(ctx context.Context) (*http.Request, error)) (*Response, error) {
	attempts := s.Attempts
	if attempts <= 0 {
		attempts = 4
	}
	backoff := s.Backoff
	if backoff <= 0 {
		backoff = 200 * time.Millisecond
	}
	maxWait := s.MaxWait
	if maxWait <= 0 {
		maxWait = 10 * time.Second
	}
	client := s.Client
	if client == nil {
		client = http.DefaultClient
	}
	sleep := s.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	var waited time.Duration
	var lastErr error
	for i := 0; i < attempts; i++ {
		req, err := newReq(ctx)
		if err != nil {
			return nil, fmt.Errorf("%w: building request: %w", ErrSend, err)
		}
		resp, err := client.Do(req)
		var wait time.Duration
		if err != nil {
			if ctx.Err() != nil {
				return nil, fmt.Errorf("%w: %w", ErrSend, ctx.Err())
			}
			lastErr = err
		} else {
			body, rerr := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			r := Response{StatusCode: resp.StatusCode, Header: resp.Header, Body: body}
			if rerr == nil && resp.StatusCode/100 == 2 {
				return &r, nil
			}
			serr := &StatusError{Response: r, Method: req.Method, URL: req.URL.Redacted()}
			if rerr != nil {
				lastErr = fmt.Errorf("reading answer: %w", rerr)
			} else {
				lastErr = serr
			}
			if !retryable(resp.StatusCode) {
				return nil, fmt.Errorf("%w: %w", ErrSend, serr)
			}
			wait = retryAfter(resp.Header.Get("Retry-After"), time.Now())
		}
		if i == attempts-1 {
			break
		}
		if wait <= 0 {
			d := backoff << i
			wait = d/2 + rand.N(d/2+1)
		}
		if waited+wait > maxWait {
			break
		}
		waited += wait
		if err := sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("%w: %w (after %w)", ErrSend, err, lastErr)
		}
	}
	return nil, fmt.Errorf("%w: %w", ErrSend, lastErr)
}

func retryable(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

// retryAfter parses a Retry-After header: delay seconds or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil && secs >= 0 {
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
