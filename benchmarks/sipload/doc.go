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
// call's length, "40s") change the runs; PAROLE_SIPLOAD_CPUPROFILE=path
// writes a CPU profile of each run's steady state to path.N.
//
// Measured on the shared 2-core AMD EPYC (Debian 12, other jobs running:
// load average before each run in the last column), sipp and parole on
// the same machine, calls of 40 s with audio both ways (PCMA), sipp
// placing 50 calls/s:
//
//	calls  CPU/call (% core)  RSS/call  late frames       failed  sipp CPU  load
//	  100  0.153              173 KiB   1255 (0.627 %)    0       4 %       2.49
//	  250  0.119              156 KiB    134 (0.027 %)    0       7 %       1.66
//	  500  0.107              158 KiB   4587 (0.458 %)    0      12 %       1.99
//
// Late frames depend mostly on what else runs on the machine: an earlier
// run at load 7 had 16.9 % late frames at 500 calls; one at load 1-2,
// with no telephone-event offered (the in-band detector on), had 0.000 %,
// 0.182 % and 1.407 % for 100, 250 and 500 calls.
package sipload
