package teams

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/parole-voice/parole/connectors/internal/httpx"
)

// Outgoing authentication: the OAuth 2.0 client-credentials grant of
// Microsoft Entra ID, for the Bot Connector's scope.
const (
	// DefaultLoginURL is the Entra ID authority host.
	DefaultLoginURL = "https://login.microsoftonline.com"
	// MultiTenantAuthority is the tenant whose token endpoint multi-tenant
	// bots use.
	MultiTenantAuthority = "botframework.com"
	// Scope is the scope of tokens for the Bot Connector API.
	Scope = "https://api.botframework.com/.default"
	// TokenMargin is how long before its expiry a token is renewed.
	TokenMargin = 5 * time.Minute
)

// ErrToken is wrapped by the errors of getting an access token.
var ErrToken = errors.New("teams: access token")

// TokenURL returns the token endpoint of an authority: loginURL (default
// DefaultLoginURL) + "/" + tenant + "/oauth2/v2.0/token", with tenant
// MultiTenantAuthority when empty.
func TokenURL(loginURL, tenant string) string {
	if loginURL == "" {
		loginURL = DefaultLoginURL
	}
	if tenant == "" {
		tenant = MultiTenantAuthority
	}
	return strings.TrimSuffix(loginURL, "/") + "/" + url.PathEscape(tenant) + "/oauth2/v2.0/token"
}

// tokenSource gets and caches the bot's access token.
type tokenSource struct {
	url, clientID, secret string
	sender                *httpx.Sender
	now                   func() time.Time

	mu      sync.Mutex
	token   string
	renewAt time.Time
}

// tokenResponse is the token endpoint's answer.
type tokenResponse struct {
	TokenType   string          `json:"token_type"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	AccessToken string          `json:"access_token"`
}

// Token returns a cached token, or gets a new one when the cached one is
// within TokenMargin (or half its lifetime, if shorter) of its expiry.
// Concurrent callers wait for one request.
func (t *tokenSource) Token(ctx context.Context) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.token != "" && t.now().Before(t.renewAt) {
		return t.token, nil
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {t.clientID},
		"client_secret": {t.secret},
		"scope":         {Scope},
	}.Encode()
	resp, err := t.sender.Do(ctx, func(ctx context.Context) (*http.Request, error) {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(form))
		if err != nil {
			return nil, err
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		return req, nil
	})
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrToken, err)
	}
	var tr tokenResponse
	if err := json.Unmarshal(resp.Body, &tr); err != nil {
		return "", fmt.Errorf("%w: decoding the answer: %w", ErrToken, err)
	}
	// expires_in is a number; some endpoints quote it.
	secs, err := parseSeconds(tr.ExpiresIn)
	switch {
	case err != nil:
		return "", fmt.Errorf("%w: expires_in: %w", ErrToken, err)
	case !strings.EqualFold(tr.TokenType, "Bearer"):
		return "", fmt.Errorf("%w: token_type %q, want Bearer", ErrToken, tr.TokenType)
	case tr.AccessToken == "":
		return "", fmt.Errorf("%w: no access_token", ErrToken)
	}
	life := time.Duration(secs) * time.Second
	margin := min(TokenMargin, life/2)
	t.token, t.renewAt = tr.AccessToken, t.now().Add(life-margin)
	return t.token, nil
}

// invalidate drops the cached token if it is tok (the Connector refused
// it).
func (t *tokenSource) invalidate(tok string) {
	t.mu.Lock()
	if t.token == tok {
		t.token = ""
	}
	t.mu.Unlock()
}

func parseSeconds(raw json.RawMessage) (int64, error) {
	s := strings.Trim(string(raw), `"`)
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n <= 0 || n > 1<<31 {
		return 0, fmt.Errorf("bad lifetime %s", raw)
	}
	return n, nil
}
