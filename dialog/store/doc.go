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
// A channel handling an event of conversation id runs the bot inside
// [Update], which loads the conversation (or starts a new one), lets the
// bot change it and saves it with an optimistic version check, retrying
// when another node or goroutine saved first; then it appends the event
// and the reply to the transcript in one [Store.Append] call:
//
//	var reply dialog.Reply
//	conv, _, err := store.Update(ctx, s, id, func(c *dialog.Conversation) (err error) {
//		reply, err = bot.Handle(ctx, c, ev)
//		return err
//	})
//	…
//	err = s.Append(ctx, id, store.EventEntry("sip", ev), store.ReplyEntry("sip", reply, time.Now()))
//
// A bot must therefore be safe to run again on the newer state when a
// conflict forces a retry (bots only change the conversation, so they are).
//
// # What is tested
//
// The suite in store_test.go runs against all three stores, Redis against
// a real redis-server (Debian package redis-server) started by the test:
// every method, ErrNotFound, version conflicts with 8 goroutines × 100
// read-modify-write increments ending at exactly 800 (for Redis split over
// two store instances, as two nodes), concurrent appends, transcript order,
// links and a user's conversations, expiry and sweeping, JSON round trips
// of fully populated conversations, events and replies, and corrupt stored
// values (ErrCorrupt, never a panic). The bbolt store is also checked
// across a close and reopen of its file.
package store
