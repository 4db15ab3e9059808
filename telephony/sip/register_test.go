package sip_test

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/sip"
)

func md5hex(s string) string {
	h := md5.Sum([]byte(s))
	return hex.EncodeToString(h[:])
}

// authParams splits a Digest credentials header (RFC 2617 §3.2.2).
func authParams(v string) map[string]string {
	out := map[string]string{}
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(strings.ToLower(v), "digest ") {
		return out
	}
	for _, kv := range strings.Split(v[7:], ",") {
		k, val, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if ok {
			out[strings.ToLower(k)] = strings.Trim(val, `"`)
		}
	}
	return out
}

// registrar is an in-test registrar (sipgo server) that challenges every
// request without credentials with 401 (MD5, qop=auth) and checks the
// digest response itself, per RFC 2617, before granting 2 s bindings. It
// challenges INVITEs the same way and then answers them 486.
type registrar struct {
	addr  *net.UDPAddr
	mu    sync.Mutex
	regs  []string // "expires=N" of the accepted REGISTERs
	bad   int      // requests whose digest did not check
	calls int      // authenticated INVITEs
	nonce string
}

func (r *registrar) check(req *sipmsg.Request, user, pass string) bool {
	h := req.GetHeader("Authorization")
	if h == nil {
		return false
	}
	p := authParams(h.Value())
	ha1 := md5hex(user + ":" + p["realm"] + ":" + pass)
	ha2 := md5hex(string(req.Method) + ":" + p["uri"])
	want := md5hex(ha1 + ":" + r.nonce + ":" + ha2)
	if p["qop"] == "auth" {
		want = md5hex(ha1 + ":" + r.nonce + ":" + p["nc"] + ":" + p["cnonce"] + ":auth:" + ha2)
	}
	return p["username"] == user && p["nonce"] == r.nonce && p["response"] == want
}

func newRegistrar(t *testing.T, user, pass string) *registrar {
	t.Helper()
	conn, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ua, err := sipgo.NewUA()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := sipgo.NewServer(ua)
	if err != nil {
		t.Fatal(err)
	}
	r := &registrar{addr: conn.LocalAddr().(*net.UDPAddr), nonce: fmt.Sprintf("n%d", time.Now().UnixNano())}
	challenge := func(req *sipmsg.Request, tx sipmsg.ServerTransaction) bool {
		r.mu.Lock()
		defer r.mu.Unlock()
		if r.check(req, user, pass) {
			return true
		}
		if req.GetHeader("Authorization") != nil {
			r.bad++
			_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 403, "Forbidden", nil))
			return false
		}
		res := sipmsg.NewResponseFromRequest(req, 401, "Unauthorized", nil)
		res.AppendHeader(sipmsg.NewHeader("WWW-Authenticate",
			fmt.Sprintf(`Digest realm="parole-test", nonce="%s", algorithm=MD5, qop="auth"`, r.nonce)))
		_ = tx.Respond(res)
		return false
	}
	srv.OnRegister(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		if !challenge(req, tx) {
			return
		}
		exp := req.GetHeader("Expires").Value()
		r.mu.Lock()
		r.regs = append(r.regs, "expires="+exp)
		r.mu.Unlock()
		res := sipmsg.NewResponseFromRequest(req, 200, "OK", nil)
		if c := req.Contact(); c != nil && exp != "0" {
			cc := c.Clone()
			cc.Params.Add("expires", "2")
			res.AppendHeader(cc)
		}
		_ = tx.Respond(res)
	})
	srv.OnInvite(func(req *sipmsg.Request, tx sipmsg.ServerTransaction) {
		if !challenge(req, tx) {
			return
		}
		r.mu.Lock()
		r.calls++
		r.mu.Unlock()
		_ = tx.Respond(sipmsg.NewResponseFromRequest(req, 486, "Busy Here", nil))
	})
	srv.OnAck(func(*sipmsg.Request, sipmsg.ServerTransaction) {})
	done := make(chan struct{})
	go func() { _ = srv.ServeUDP(conn); close(done) }()
	t.Cleanup(func() { ua.Close(); conn.Close(); <-done })
	return r
}

func (r *registrar) snapshot() ([]string, int, int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.regs...), r.bad, r.calls
}

// TestRegister: the server registers through a 401 challenge, refreshes
// before the 2 s binding the registrar grants lapses, and unregisters
// (Expires: 0) at shutdown; a wrong password leaves it unregistered with
// ErrRegister.
func TestRegister(t *testing.T) {
	reg := newRegistrar(t, "1001", "s3cret")
	on := func(context.Context, telephony.Call) {}
	srv, err := sip.Listen(sip.Config{Addr: "127.0.0.1:0", OnCall: on, Register: &sip.RegisterConfig{
		Registrar: "sip:" + reg.addr.String(), User: "1001", Password: "s3cret", Domain: "example.test", Expires: 60 * time.Second,
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if r := srv.Registration(); r.Refreshes >= 2 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	r := srv.Registration()
	if !r.Registered || r.Refreshes < 2 || r.Err != nil {
		t.Errorf("registration %+v, want registered and refreshed", r)
	}
	if left := time.Until(r.Expires); left <= 0 || left > 2*time.Second {
		t.Errorf("binding expires in %v, want the granted 2 s", left)
	}

	// An outbound call through the same challenge: the registrar checks
	// the digest and answers 486.
	_, err = srv.Dial(context.Background(), "sip:2000@"+reg.addr.String(), sip.DialOptions{Username: "1001", Password: "s3cret"})
	var dr *sipgo.ErrDialogResponse
	if !errors.Is(err, sip.ErrCallFailed) || !errors.As(err, &dr) || dr.Res.StatusCode != 486 {
		t.Errorf("Dial: %v, want ErrCallFailed with 486", err)
	}

	stop()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	regs, bad, calls := reg.snapshot()
	if bad != 0 {
		t.Errorf("%d requests with a wrong digest", bad)
	}
	if calls != 1 {
		t.Errorf("%d authenticated INVITEs, want 1", calls)
	}
	if len(regs) < 3 || regs[0] != "expires=60" || regs[len(regs)-1] != "expires=0" {
		t.Errorf("REGISTERs %v, want expires=60 at least twice then expires=0", regs)
	}

	// Wrong password: 403 after the challenge, reported.
	reg2 := newRegistrar(t, "1001", "other")
	srv2, err := sip.Listen(sip.Config{Addr: "127.0.0.1:0", OnCall: on, Register: &sip.RegisterConfig{
		Registrar: "sip:" + reg2.addr.String(), User: "1001", Password: "s3cret"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx2, stop2 := context.WithCancel(context.Background())
	go func() { served <- srv2.Serve(ctx2) }()
	deadline = time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) && srv2.Registration().Err == nil {
		time.Sleep(50 * time.Millisecond)
	}
	if r := srv2.Registration(); r.Registered || !errors.Is(r.Err, sip.ErrRegister) {
		t.Errorf("wrong password: %+v", r)
	}
	stop2()
	<-served
}

func TestRegisterConfigErrors(t *testing.T) {
	on := func(context.Context, telephony.Call) {}
	for _, rc := range []sip.RegisterConfig{
		{Registrar: "nonsense", User: "a"},
		{Registrar: "sip:127.0.0.1:5060"},
		{Registrar: "sip:127.0.0.1:5060", User: "a", Expires: time.Millisecond},
	} {
		if _, err := sip.Listen(sip.Config{Addr: "127.0.0.1:0", OnCall: on, Register: &rc}); !errors.Is(err, sip.ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", rc, err)
		}
	}
}
