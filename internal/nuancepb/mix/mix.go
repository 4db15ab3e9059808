// Package mix holds what the Nuance Mix engines (stt/nuance, tts/nuance)
// share: the gRPC connection with its OAuth2 client-credentials bearer
// token, and the mapping of gRPC status codes to sentinel errors.
//
// Mix issues tokens from https://auth.crt.nuance.com/oauth2/token to a
// client ID and secret (HTTP Basic authentication, both URL-encoded since
// Mix client IDs hold colons, grant_type client_credentials, scope "asr",
// "tts", …). A token is fetched on the first RPC, reused while it stays
// valid, and fetched again RefreshBefore its expiry, so a long call never
// presents an expired token.
package mix

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/clientcredentials"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// DefaultTokenURL is Mix's OAuth2 token endpoint.
const DefaultTokenURL = "https://auth.crt.nuance.com/oauth2/token"

// DefaultRefreshBefore is how long before its expiry a token is replaced.
const DefaultRefreshBefore = 60 * time.Second

// Errors the engines wrap around gRPC status errors (the status error stays
// in the chain, for status.FromError).
var (
	// ErrUnauthenticated: the token was refused or could not be fetched.
	ErrUnauthenticated = errors.New("nuance: unauthenticated")
	// ErrResourceExhausted: a quota or the service's capacity is exhausted.
	ErrResourceExhausted = errors.New("nuance: resource exhausted")
	// ErrDeadlineExceeded: the request ran out of time.
	ErrDeadlineExceeded = errors.New("nuance: deadline exceeded")
	// ErrUnavailable: the service could not be reached.
	ErrUnavailable = errors.New("nuance: service unavailable")
)

// Conn says where the service is and how to authenticate.
type Conn struct {
	// Endpoint is the gRPC host:port.
	Endpoint string
	// ClientID and ClientSecret are the Mix credentials; both empty means
	// no token (a self-hosted engine without authentication).
	ClientID, ClientSecret string
	// TokenURL defaults to DefaultTokenURL.
	TokenURL string
	// Scope is the space-separated OAuth2 scope ("asr", "tts").
	Scope string
	// RefreshBefore defaults to DefaultRefreshBefore.
	RefreshBefore time.Duration
	// Insecure dials without TLS and sends the token in clear (tests and
	// local engines only).
	Insecure bool
	// HTTPClient fetches tokens; nil means a client with a 10 s timeout.
	HTTPClient *http.Client
}

// Check reports what is wrong with c; errors wrap base.
func (c Conn) Check(base error) error {
	if c.Endpoint == "" {
		return fmt.Errorf("%w: endpoint is required", base)
	}
	if (c.ClientID == "") != (c.ClientSecret == "") {
		return fmt.Errorf("%w: client_id and client_secret go together", base)
	}
	if c.RefreshBefore < 0 {
		return fmt.Errorf("%w: negative refresh_before", base)
	}
	return nil
}

// Dial returns a client connection (connected lazily, on the first RPC)
// with the bearer token as per-RPC credentials.
func Dial(c Conn) (*grpc.ClientConn, error) {
	opts := []grpc.DialOption{}
	if c.Insecure {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewClientTLSFromCert(nil, "")))
	}
	if c.ClientID != "" {
		opts = append(opts, grpc.WithPerRPCCredentials(NewBearer(c)))
	}
	cc, err := grpc.NewClient(c.Endpoint, opts...)
	if err != nil {
		return nil, fmt.Errorf("nuance: dial %s: %w", c.Endpoint, err)
	}
	return cc, nil
}

// Bearer is per-RPC credentials carrying a Mix access token as
// "authorization: Bearer …" metadata.
type Bearer struct {
	ts       oauth2.TokenSource
	insecure bool
	fetches  atomic.Int64
}

// NewBearer returns credentials fetching tokens with c's client ID and
// secret.
func NewBearer(c Conn) *Bearer {
	url := c.TokenURL
	if url == "" {
		url = DefaultTokenURL
	}
	var scopes []string
	if c.Scope != "" {
		scopes = []string{c.Scope}
	}
	cc := &clientcredentials.Config{
		ClientID:     c.ClientID,
		ClientSecret: c.ClientSecret,
		TokenURL:     url,
		Scopes:       scopes,
		AuthStyle:    oauth2.AuthStyleInHeader,
	}
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: 10 * time.Second}
	}
	ctx := context.WithValue(context.Background(), oauth2.HTTPClient, hc)
	before := c.RefreshBefore
	if before == 0 {
		before = DefaultRefreshBefore
	}
	b := &Bearer{insecure: c.Insecure}
	b.ts = oauth2.ReuseTokenSourceWithExpiry(nil, counting{cc.TokenSource(ctx), &b.fetches}, before)
	return b
}

// counting counts token fetches; clientcredentials' own source fetches on
// every call, the reuse source above calls it only when a new token is due.
type counting struct {
	src oauth2.TokenSource
	n   *atomic.Int64
}

func (c counting) Token() (*oauth2.Token, error) {
	c.n.Add(1)
	return c.src.Token()
}

// Fetches returns how many tokens were requested so far.
func (b *Bearer) Fetches() int64 { return b.fetches.Load() }

// GetRequestMetadata implements credentials.PerRPCCredentials.
func (b *Bearer) GetRequestMetadata(ctx context.Context, _ ...string) (map[string]string, error) {
	tok, err := b.ts.Token()
	if err != nil {
		return nil, status.Errorf(codes.Unauthenticated, "nuance: fetching token: %v", err)
	}
	return map[string]string{"authorization": "Bearer " + tok.AccessToken}, nil
}

// RequireTransportSecurity implements credentials.PerRPCCredentials: true
// unless the connection is configured insecure.
func (b *Bearer) RequireTransportSecurity() bool { return !b.insecure }

// MapError wraps a gRPC error with the sentinel for its code (the status
// error stays in the chain) and op as context. Other errors are wrapped
// with op only; nil stays nil.
func MapError(op string, err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		return fmt.Errorf("nuance: %s: %w", op, err)
	}
	var sentinel error
	switch st.Code() {
	case codes.Unauthenticated, codes.PermissionDenied:
		sentinel = ErrUnauthenticated
	case codes.ResourceExhausted:
		sentinel = ErrResourceExhausted
	case codes.DeadlineExceeded:
		sentinel = ErrDeadlineExceeded
	case codes.Unavailable:
		sentinel = ErrUnavailable
	default:
		return fmt.Errorf("nuance: %s: %w", op, err)
	}
	return fmt.Errorf("nuance: %s: %w: %w", op, sentinel, err)
}

// Retryable reports whether err (from MapError) is worth another attempt:
// the service was unreachable or out of capacity.
func Retryable(err error) bool {
	return errors.Is(err, ErrUnavailable) || errors.Is(err, ErrResourceExhausted)
}

// Backoff returns the pause before retry attempt n (1, 2, …): base doubled
// each time, capped at 2 s.
func Backoff(base time.Duration, n int) time.Duration {
	d := base
	for i := 1; i < n && d < 2*time.Second; i++ {
		d *= 2
	}
	return min(d, 2*time.Second)
}

// Sleep waits d or until ctx is done, and reports whether d elapsed.
func Sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}
