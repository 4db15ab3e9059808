// Package store keeps parole's conversations between events: the
// [dialog.Conversation] state a bot works on, the transcript of every event
// and reply, and the links that make the same person on the web chat and on
// the phone one user.
//
// Three implementations share one [Store] interface and one conformance
// test suite:
//
//   - [Memory]: maps behind a mutex, for tests and `store: memory`.
//   - [Bolt]: a bbolt file, the embedded default; it survives restarts but
//     serves a single node.
//   - [Redis]: shared by every node pointing at one Redis server.
//
// # Handling a turn
//
// A channel handing an event of conversation id to its bot calls [Turn]:
//
//	reply, conv, err := store.Turn(ctx, s, bot, id, "sip", ev)
//
// Turn loads the conversation (or starts a new one), lets the bot change it
// and saves it with an optimistic version check, together with the event
// and the reply as transcript entries, in one atomic write. When another
// node or goroutine saved first it starts again from the newer state, so a
// bot must be safe to run again (bots only change the conversation, so
// they are). [Update] runs the same loop for changes made without a bot.
//
// # The bbolt file
//
// The bbolt store's file format changed before the first release: format 2
// keeps each conversation's record right after its transcript entries in
// one bucket, so a turn rewrites one leaf page (and the branch pages above
// it) instead of four page paths; see [Bolt]. [OpenBolt] converts a file of
// format 1 in place, in one transaction, the first time it opens it.
// Writes from many goroutines share commits (group commit, and one fsync
// per commit unless [Options.NoSync]); with one processor a committing
// writer first yields it so that the writers ready to run can join.
//
// # What is tested
//
// The suite in store_test.go runs against all three stores, Redis against
// a real redis-server (Debian package redis-server) started by the test:
// every method, ErrNotFound, version conflicts with 8 goroutines × 100
// read-modify-write increments ending at exactly 800 (for Redis split over
// two store instances, as two nodes), 200 concurrent bot turns whose
// replies and transcript lines must follow each other exactly, atomic
// saves with transcript entries, concurrent appends, transcript order,
// links and a user's conversations, expiry and sweeping, JSON round trips
// of fully populated conversations, events and replies, and corrupt stored
// values (ErrCorrupt, never a panic). The bbolt store is also checked
// across a close and reopen of its file.
package store
