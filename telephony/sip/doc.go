// Package sip answers SIP calls over UDP and runs them as [telephony.Call]
// legs with G.711 audio over RTP.
//
// Signalling is github.com/emiago/sipgo: an INVITE gets 100 Trying, then
// 200 OK with an SDP answer choosing PCMU or PCMA (in the caller's order of
// preference) and telephone-event/8000 when offered; 488 when the offer has
// no common codec, 486 Busy Here at the call limit, 503 when no RTP port is
// free. Once the ACK comes, the server runs Config.OnCall with the call.
// A BYE from the caller ends Recv with telephony.ErrHangup; Hangup sends BYE.
//
// Media is symmetric RTP: the leg sends to where the caller's packets come
// from (the SDP address until the first packet). Received audio goes
// through a jitter buffer ([jitter.Buffer]) read every 20 ms of wall clock,
// with loss concealment; RFC 4733 keys come out of Recv as digits. Send
// paces frames on absolute 20 ms slots and SendDTMF plays RFC 4733 events.
//
// Not done yet: REGISTER, TCP and TLS, re-INVITE and hold, REFER
// (Transfer returns telephony.ErrUnsupported), G.722 and Opus, RTCP, a
// media inactivity timeout, routing by called number, graceful drain.
package sip
