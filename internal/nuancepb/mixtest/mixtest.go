// Package mixtest holds test doubles for the Nuance Mix engines: an OAuth2
// token endpoint issuing short-lived tokens, and the bearer check the fake
// gRPC services run on every RPC.
package mixtest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// Client credentials the TokenServer accepts. The ID has colons, like Mix
// client IDs, so it only matches when the client URL-encodes it.
const (
	ClientID     = "appID:NMDPTRIAL_parole:geo:us:clientName:default"
	ClientSecret = "s3cret/+="
)

// TokenServer is an OAuth2 client-credentials token endpoint: it checks
// HTTP Basic authentication (URL-encoded ID and secret, RFC 6749 2.3.1),
// the grant type and the scope, and issues numbered tokens valid for TTL.
type TokenServer struct {
	*httptest.Server
	// TTL is the lifetime of the tokens issued (expires_in).
	TTL time.Duration
	// Scope is the scope the client must ask for.
	Scope string

	mu     sync.Mutex
	issued map[string]time.Time // token → expiry
	n      int
}

// NewTokenServer starts a token endpoint; close it with Close.
func NewTokenServer(scope string, ttl time.Duration) *TokenServer {
	ts := &TokenServer{TTL: ttl, Scope: scope, issued: map[string]time.Time{}}
	ts.Server = httptest.NewServer(http.HandlerFunc(ts.serve))
	return ts
}

// TokenURL returns the URL of the token endpoint.
func (ts *TokenServer) TokenURL() string { return ts.Server.URL + "/oauth2/token" }

func (ts *TokenServer) serve(w http.ResponseWriter, r *http.Request) {
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/oauth2/token" {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	if !ok || id != ClientID || secret != ClientSecret {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		w.Write([]byte(`{"error":"invalid_client"}`))
		return
	}
	if err := r.ParseForm(); err != nil || r.PostForm.Get("grant_type") != "client_credentials" || r.PostForm.Get("scope") != ts.Scope {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		w.Write([]byte(`{"error":"invalid_request"}`))
		return
	}
	ts.mu.Lock()
	ts.n++
	tok := "tok-" + strconv.Itoa(ts.n)
	ts.issued[tok] = time.Now().Add(ts.TTL)
	ts.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]any{
		"access_token": tok, "token_type": "bearer",
		"expires_in": int(ts.TTL.Seconds()), "scope": ts.Scope,
	})
}

// Issued returns how many tokens were issued.
func (ts *TokenServer) Issued() int {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return ts.n
}

// Check returns the token of an RPC's "authorization: Bearer" metadata,
// or an UNAUTHENTICATED error when it is missing, unknown or expired.
func (ts *TokenServer) Check(ctx context.Context) (string, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	v := md.Get("authorization")
	if len(v) != 1 || len(v[0]) < 8 || v[0][:7] != "Bearer " {
		return "", status.Error(codes.Unauthenticated, "missing bearer token")
	}
	tok := v[0][7:]
	ts.mu.Lock()
	exp, ok := ts.issued[tok]
	ts.mu.Unlock()
	if !ok {
		return "", status.Error(codes.Unauthenticated, "unknown token")
	}
	if time.Now().After(exp) {
		return "", status.Error(codes.Unauthenticated, "expired token")
	}
	return tok, nil
}
