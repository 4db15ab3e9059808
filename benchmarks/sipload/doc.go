// Package sipload is the SIP load scenario: sipp (sip-tester) places N
// concurrent G.711 calls with audio against a telephony/sip server whose
// calls play a cached prompt continuously while receiving the caller's
// audio through the jitter buffer, and the test prints, for each N, the
// CPU and RSS per call, the late output frames (sent more than 10 ms
// behind their 20 ms slot) and the failed calls.
//
// It is gated so that make test stays fast:
//
//	PAROLE_SIPLOAD=1 go test -run TestLoad -v -timeout 30m ./benchmarks/sipload/
//
// PAROLE_SIPLOAD_CALLS ("100,250,500") and PAROLE_SIPLOAD_HOLD (each
// call's length, "40s") change the runs.
package sipload
