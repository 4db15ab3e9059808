// Package live is the live call view's server side: a [Hub] every channel
// reports its conversations to, and the authenticated HTTP API the page
// web/static/calls.html reads.
//
// Voice calls report through [Hub.CallObserver], a
// telephony/session Observer that turns the session's events (transcripts,
// replies, barge-ins, latency traces) into hub events; text channels report
// through [Hub.Wrap], a pass-through wrapper around their dialog handler.
//
// The hub keeps each active conversation with a bounded transcript, keeps
// ended ones for Config.KeepEnded, and fans its events out to subscribers
// through bounded buffers: a slow browser never blocks a call. A subscriber
// that falls behind is marked lagging, its pending events are dropped, and
// it resynchronises from a fresh snapshot.
//
// Routes, under Config.Base (default ""):
//
//	GET {base}/api/calls         snapshot of the conversations (JSON)
//	GET {base}/api/calls/events  server-sent events: a snapshot, then events
//
// Transcripts are personal data: both routes require the configured bearer
// token (the Authorization header, or ?token= for EventSource) or HTTP
// basic credentials, unless Config.LoopbackOnly says the server listens on
// loopback only; then requests from other addresses are refused.
package live
