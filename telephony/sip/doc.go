// Package sip answers SIP calls over UDP (and TCP and TLS when configured)
// and runs them as [telephony.Call]
// legs with G.711 audio over RTP.
//
// Signalling is github.com/emiago/sipgo: an INVITE gets 100 Trying, then
// 200 OK with an SDP answer choosing PCMU or PCMA (in the caller's order of
// preference) — or, with Config.Codecs, the offered codec that list ranks
// first among PCMU, PCMA, G.722 and Opus (16 kHz frames, Info().Rate 16000;
// Opus at 20 ms on its 48 kHz RTP clock) — and telephone-event at the
// codec's clock rate when offered; 488 when the offer has
// no common codec, 486 Busy Here at the call limit, 503 when no RTP port is
// free or the server is draining, 404 when the called user has no route.
// With Config.Ring the server sends 180 Ringing first and answers after
// that long; a CANCEL meanwhile gets 200 and the INVITE 487. Once the ACK
// comes, the server runs Config.OnCall with the call.
// A BYE from the caller ends Recv with telephony.ErrHangup; Hangup sends BYE.
//
// Routing: Config.Routes maps the called user (Request-URI, else To) to a
// route name that [Call.Route] returns, so one server answers for several
// call flows; Config.DefaultRoute catches the other users.
//
// In a call, a re-INVITE or an UPDATE with SDP changes the direction:
// sendonly or inactive (or c=0.0.0.0) puts the call on hold — the answer
// says recvonly or inactive and Send stops sending RTP while keeping its
// clock — and sendrecv resumes. A re-INVITE without SDP or an UPDATE
// without a body is a session refresh. The 2xx answering a re-INVITE is
// retransmitted until its ACK comes (RFC 3261 §13.3.1.4). SIP INFO with
// application/dtmf-relay ("Signal=5") or application/dtmf bodies delivers
// keys through Recv.
//
// Media is symmetric RTP: the leg sends to where the caller's packets come
// from (the SDP address until the first packet). Received audio goes
// through a jitter buffer ([jitter.Buffer]) read every 20 ms of wall clock,
// with loss concealment; RFC 4733 keys come out of Recv as digits, and when
// the caller offered no telephone-event a Goertzel detector finds in-band
// keys in the audio. Send paces frames on absolute 20 ms slots and counts
// the frames that leave more than 10 ms late ([Stats]); SendDTMF plays
// RFC 4733 events.
//
// RTCP goes on the port above RTP (RTP ports are even) or on the RTP port
// when the offer has a=rtcp-mux: a sender report (receiver report before
// parole sent audio) with the RFC 3550 reception statistics of the jitter
// buffer and an SDES CNAME every Config.RTCPInterval (randomized ±50 %),
// and an RTCP BYE at hangup. The caller's reports are kept for [Call.Stats].
// With Config.MediaTimeout, a call with neither RTP nor RTCP for that long
// is ended with a BYE and Recv returns [ErrMediaTimeout].
//
// [Server.Shutdown] drains: new INVITEs get 503 while calls go on; at its
// deadline the remaining calls get a BYE.
//
// Outbound: [Server.Dial] places a call (INVITE offering Config.Codecs and
// telephone-event, digest authentication on 401/407, ACK) that runs like
// an inbound one. [Call.Transfer] sends REFER and follows the NOTIFY
// sipfrag progress; when the peer refuses REFER, or when asked to bridge,
// it dials the target and relays audio and keys between the two legs.
// Config.Register keeps a binding with a registrar or trunk (REGISTER with
// digest authentication, refreshed at 80 % of the granted lifetime,
// removed at shutdown).
//
// Config.TCPAddr and Config.TLSAddr add SIP over TCP and over TLS (a PEM
// certificate and key, or a tls.Config); each transport's Contact carries
// its transport parameter.
//
// Not done yet: changing the codec in a re-INVITE (488), being the target
// of a REFER (parole never gets transferred), RTP while the bot is silent
// (the leg sends only the frames given to Send: no comfort noise), SRTP.
package sip
