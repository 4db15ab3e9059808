package sip

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"
)

// ErrRegister is wrapped by [Registration].Err when the registrar refused
// or did not answer the last REGISTER.
var ErrRegister = errors.New("sip: registration failed")

// DefaultRegisterExpires is the registration lifetime asked for when
// RegisterConfig.Expires is zero.
const DefaultRegisterExpires = time.Hour

// RegisterConfig makes the server register its contact with a registrar or
// SIP trunk (RFC 3261 §10), answering digest challenges (401/407), and
// refresh the binding before it expires.
type RegisterConfig struct {
	// Registrar is the registrar's SIP URI, e.g. "sip:trunk.example.com:5060".
	Registrar string `yaml:"registrar"`
	// User is the user of the address of record (and the digest username).
	User string `yaml:"user"`
	// Password answers digest challenges; it may be empty for a trunk that
	// does not challenge.
	Password string `yaml:"password"`
	// Domain is the host of the address of record sip:User@Domain; empty
	// means the registrar's host.
	Domain string `yaml:"domain"`
	// Expires is the binding lifetime asked for; zero means
	// DefaultRegisterExpires. The server refreshes at 80 % of what the
	// registrar grants.
	Expires time.Duration `yaml:"expires"`
	// Retry is the wait after a failed attempt; zero means 30 s.
	Retry time.Duration `yaml:"retry"`
}

// Registration is the state of the server's registration.
type Registration struct {
	// Registered is true while a binding is in force.
	Registered bool
	// Expires is when the current binding lapses.
	Expires time.Time
	// Refreshes counts the successful REGISTERs.
	Refreshes int
	// Err is the last attempt's error, wrapping [ErrRegister].
	Err error
}

// registrar runs the registration of one server.
type registrar struct {
	cfg     RegisterConfig
	uri     sip.Uri
	aor     sip.Uri
	client  *sipgo.Client
	contact sip.ContactHeader
	mu      sync.Mutex
	state   Registration
	req     *sip.Request
	changed chan struct{} // closed and replaced at each attempt (tests wait on it)
}

func newRegistrar(cfg RegisterConfig) (*registrar, error) {
	var uri sip.Uri
	if err := sip.ParseUri(cfg.Registrar, &uri); err != nil || uri.Host == "" {
		return nil, fmt.Errorf("%w: Register.Registrar %q: %v", ErrConfig, cfg.Registrar, err)
	}
	if cfg.User == "" {
		return nil, fmt.Errorf("%w: Register.User is required", ErrConfig)
	}
	if cfg.Expires < 0 || cfg.Expires > 0 && cfg.Expires < time.Second || cfg.Retry < 0 {
		return nil, fmt.Errorf("%w: Register.Expires %v, Retry %v", ErrConfig, cfg.Expires, cfg.Retry)
	}
	if cfg.Expires == 0 {
		cfg.Expires = DefaultRegisterExpires
	}
	if cfg.Retry == 0 {
		cfg.Retry = 30 * time.Second
	}
	domain := cfg.Domain
	if domain == "" {
		domain = uri.Host
	}
	return &registrar{cfg: cfg, uri: uri, aor: sip.Uri{Scheme: "sip", User: cfg.User, Host: domain},
		changed: make(chan struct{})}, nil
}

// Registration returns the state of the registration Config.Register
// asked for (the zero Registration without one).
func (s *Server) Registration() Registration {
	if s.reg == nil {
		return Registration{}
	}
	s.reg.mu.Lock()
	defer s.reg.mu.Unlock()
	return s.reg.state
}

// run registers, refreshes, and unregisters when ctx is done.
func (r *registrar) run(ctx context.Context) {
	for {
		granted, err := r.register(ctx, r.cfg.Expires)
		now := time.Now()
		r.mu.Lock()
		if err != nil {
			r.state.Err = err
			if !r.state.Expires.After(now) {
				r.state.Registered = false
			}
		} else {
			r.state = Registration{Registered: true, Expires: now.Add(granted), Refreshes: r.state.Refreshes + 1}
		}
		close(r.changed)
		r.changed = make(chan struct{})
		r.mu.Unlock()
		wait := r.cfg.Retry
		if err == nil {
			wait = granted * 4 / 5
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			uctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			_, _ = r.register(uctx, 0) // unregister, best effort
			cancel()
			r.mu.Lock()
			r.state.Registered = false
			r.mu.Unlock()
			return
		}
	}
}

// register sends one REGISTER asking for expires (0 removes the binding)
// and returns the lifetime granted.
func (r *registrar) register(ctx context.Context, expires time.Duration) (time.Duration, error) {
	secs := int(expires / time.Second)
	if r.req == nil {
		r.req = sip.NewRequest(sip.REGISTER, r.uri)
		tag := sip.GenerateTagN(16)
		from := &sip.FromHeader{Address: r.aor, Params: sip.NewParams()}
		from.Params.Add("tag", tag)
		r.req.AppendHeader(from)
		r.req.AppendHeader(&sip.ToHeader{Address: r.aor, Params: sip.NewParams()})
		r.req.AppendHeader(&r.contact)
		r.req.AppendHeader(sip.NewHeader("Expires", strconv.Itoa(secs)))
	}
	req := r.req
	req.RemoveHeader("Via")
	req.RemoveHeader("Authorization")
	req.RemoveHeader("Proxy-Authorization")
	req.ReplaceHeader(sip.NewHeader("Expires", strconv.Itoa(secs)))
	rctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	res, err := r.client.Do(rctx, req, sipgo.ClientRequestRegisterBuild)
	if err == nil && (res.StatusCode == sip.StatusUnauthorized || res.StatusCode == sip.StatusProxyAuthRequired) {
		res, err = r.client.DoDigestAuth(rctx, req, res, sipgo.DigestAuth{Username: r.cfg.User, Password: r.cfg.Password})
	}
	if err != nil {
		return 0, fmt.Errorf("%w: %s: %w", ErrRegister, r.cfg.Registrar, err)
	}
	if res.StatusCode != sip.StatusOK {
		return 0, fmt.Errorf("%w: %s answered %d %s", ErrRegister, r.cfg.Registrar, res.StatusCode, res.Reason)
	}
	return grantedExpires(res, r.contact.Address, expires), nil
}

// grantedExpires reads the lifetime the registrar granted our contact: its
// expires parameter in the 200's Contact, else the Expires header, else
// what was asked for.
func grantedExpires(res *sip.Response, ours sip.Uri, asked time.Duration) time.Duration {
	for _, h := range res.GetHeaders("Contact") {
		c, ok := h.(*sip.ContactHeader)
		if !ok || c.Address.User != ours.User || c.Address.Host != ours.Host || c.Address.Port != ours.Port {
			continue
		}
		if v, ok := c.Params.Get("expires"); ok {
			if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && n > 0 {
				return time.Duration(n) * time.Second
			}
		}
	}
	if h := res.GetHeader("Expires"); h != nil {
		if n, err := strconv.Atoi(strings.TrimSpace(h.Value())); err == nil && n > 0 {
			return time.Duration(n) * time.Second
		}
	}
	return asked
}
