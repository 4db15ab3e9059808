package sip_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/parole-voice/parole/telephony/sip"
)

func FuzzParseDTMFInfo(f *testing.F) {
	f.Add("application/dtmf-relay", []byte("Signal=5\r\nDuration=160\r\n"))
	f.Add("application/dtmf", []byte("#"))
	f.Add("application/dtmf-relay; x=y", []byte("signal= 10\n"))
	f.Add("text/plain", []byte{0xff, '='})
	f.Fuzz(func(t *testing.T, ct string, body []byte) {
		k, err := sip.ParseDTMFInfo(ct, body)
		if err != nil {
			if !errors.Is(err, sip.ErrDTMFInfo) {
				t.Fatalf("error %v does not wrap ErrDTMFInfo", err)
			}
			return
		}
		if !strings.ContainsRune("0123456789*#ABCD", k) {
			t.Fatalf("key %q", k)
		}
	})
}

func FuzzParseSipfrag(f *testing.F) {
	f.Add([]byte("SIP/2.0 200 OK\r\n"))
	f.Add([]byte("SIP/2.0 1"))
	f.Fuzz(func(t *testing.T, b []byte) {
		code, err := sip.ParseSipfrag(b)
		if err == nil && (code < 100 || code > 699) {
			t.Fatalf("status %d", code)
		}
	})
}
