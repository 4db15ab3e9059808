package sip_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	sipmsg "github.com/emiago/sipgo/sip"

	"github.com/parole-voice/parole/internal/testutil"
	"github.com/parole-voice/parole/telephony"
	"github.com/parole-voice/parole/telephony/sip"
)

// testCert writes a self-signed certificate for 127.0.0.1 and returns the
// PEM files and a pool trusting it.
func testCert(t *testing.T) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestTLSCall: a sipgo caller that trusts only the test certificate calls
// over TLS, sends audio and hangs up.
func TestTLSCall(t *testing.T) {
	certFile, keyFile, pool := testCert(t)
	recs := make(chan callRecord, 1)
	srv := serve(t, sip.Config{TLSAddr: "127.0.0.1:0", TLSCertFile: certFile, TLSKeyFile: keyFile,
		OnCall: recordingHandler(500*time.Millisecond, recs)})
	ua, err := sipgo.NewUA(sipgo.WithUserAgenTLSConfig(&tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}))
	if err != nil {
		t.Fatal(err)
	}
	defer ua.Close()
	client, err := sipgo.NewClient(ua)
	if err != nil {
		t.Fatal(err)
	}
	contact := sipmsg.ContactHeader{Address: sipmsg.Uri{Scheme: "sip", User: "caller", Host: "127.0.0.1"}}
	dialogs := sipgo.NewDialogClientCache(client, contact)
	to := sipmsg.Uri{Scheme: "sip", User: "bot", Host: "127.0.0.1", Port: srv.TLSAddr().(*net.TCPAddr).Port, UriParams: sipmsg.NewParams()}
	to.UriParams.Add("transport", "tls")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn := udp(t)
	dlg, err := dialogs.Invite(ctx, to, sdpOffer(port(conn), "0"), sipmsg.NewHeader("Content-Type", "application/sdp"))
	if err != nil {
		t.Fatal(err)
	}
	defer dlg.Close()
	if err := dlg.WaitAnswer(ctx, sipgo.AnswerOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := dlg.Ack(ctx); err != nil {
		t.Fatal(err)
	}
	ans, err := sip.Negotiate(dlg.InviteResponse.Body())
	if err != nil {
		t.Fatal(err)
	}
	if c := dlg.InviteResponse.Contact(); c == nil || c.Address.UriParams.GetOr("transport", "") != "tls" {
		t.Errorf("Contact %v, want transport=tls", c)
	}
	s := newRTPSender(conn, ans.Remote, 0, 8)
	tone := make([]int16, 160)
	for i := range tone {
		tone[i] = int16(8000 * (1 - 2*float64(i%16/8)))
	}
	for range 50 {
		s.send(t, tone, 0)
		time.Sleep(20 * time.Millisecond)
	}
	if err := dlg.Bye(ctx); err != nil {
		t.Fatal(err)
	}
	select {
	case rec := <-recs:
		if !errors.Is(rec.recvErr, telephony.ErrHangup) || rec.loud < 25 {
			t.Errorf("call over TLS: %+v", rec)
		}
	case <-ctx.Done():
		t.Fatal("OnCall did not end")
	}
	// A client that does not trust the certificate cannot call.
	if _, err := tls.Dial("tcp", srv.TLSAddr().String(), &tls.Config{MinVersion: tls.VersionTLS12}); err == nil {
		t.Error("TLS handshake without trusting the test certificate succeeded")
	}
}

func TestStreamConfigErrors(t *testing.T) {
	on := func(context.Context, telephony.Call) {}
	for _, cfg := range []sip.Config{
		{Addr: "127.0.0.1:0", OnCall: on, TLSAddr: "127.0.0.1:0"},
		{Addr: "127.0.0.1:0", OnCall: on, TLSAddr: "127.0.0.1:0", TLSCertFile: "/nonexistent.pem", TLSKeyFile: "/nonexistent.key"},
	} {
		if _, err := sip.Listen(cfg); !errors.Is(err, sip.ErrConfig) {
			t.Errorf("%+v: %v, want ErrConfig", cfg, err)
		}
	}
}

// TestSippByeFromParole: the bot hangs up after 2 s; sipp, which waits
// for the BYE, must get it and answer 200 (sipp fails its call otherwise),
// over UDP and over TCP.
func TestSippByeFromParole(t *testing.T) {
	for _, transport := range []string{"u1", "t1"} {
		t.Run(transport, func(t *testing.T) { testSippByeFromParole(t, transport) })
	}
}

func testSippByeFromParole(t *testing.T, transport string) {
	sipp := testutil.RequireTool(t, "sipp", "sip-tester")
	testutil.RequireFile(t, "/usr/share/sip-tester/g711a.pcap", "sip-tester")
	hungUp := make(chan error, 1)
	srv := serve(t, sip.Config{TCPAddr: "127.0.0.1:0", OnCall: func(ctx context.Context, call telephony.Call) {
		time.Sleep(2 * time.Second)
		hungUp <- call.Hangup(ctx)
	}})
	target := srv.Addr().String()
	if transport == "t1" {
		target = srv.TCPAddr().String()
	}
	cmd := exec.Command(sipp, "-sf", "testdata/uac_wait_bye.xml", "-m", "1", "-t", transport,
		"-i", "127.0.0.1", "-p", strconv.Itoa(freeUDPPort(t)),
		"-mi", "127.0.0.1", "-mp", strconv.Itoa(freeUDPPort(t)&^1),
		"-timeout", "20s", "-timeout_error", "-nostdin", "-trace_err", "-error_file", t.TempDir()+"/errors.log",
		target)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sipp did not get parole's BYE: %v\n%s", err, tail(out))
	}
	if err := <-hungUp; err != nil {
		t.Errorf("Hangup: %v (sipp answered the BYE?)", err)
	}
}
