package twitter

import (
	"net/http"
	"strconv"
	"time"
)

// resetTransport turns X's rate-limit answer — 429 with x-rate-limit-reset,
// the epoch second the window reopens — into the Retry-After that the
// sender's backoff honours. Waits longer than the sender's bound make it
// give up instead of holding the webhook.
type resetTransport struct {
	base http.RoundTripper
	now  func() time.Time
}

func (t resetTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.base.RoundTrip(req)
	if err != nil || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "" {
		return resp, err
	}
	if reset, perr := strconv.ParseInt(resp.Header.Get("X-Rate-Limit-Reset"), 10, 64); perr == nil {
		d := time.Unix(reset, 0).Sub(t.now())
		var secs int64
		if d > 0 {
			secs = int64((d + time.Second - 1) / time.Second) // rounded up
		}
		resp.Header.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	return resp, nil
}

// withResets wraps hc's transport with resetTransport.
func withResets(hc *http.Client, now func() time.Time) *http.Client {
	if hc == nil {
		hc = http.DefaultClient
	}
	base := hc.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	cp := *hc
	cp.Transport = resetTransport{base: base, now: now}
	return &cp
}
