// Package session owns CitizenID's short-lived shared state on Redis: SSO
// sessions (keyed by the SHA-256 of the cookie value, never the value),
// the per-citizen session index, the count of live sessions (a sorted
// set of session keys scored by expiry), login transactions, single-use values
// (authorization codes, challenges) taken with GETDEL, throttling counters
// and the access-token revocation list.
//
// Production uses a Redis server; the embedded default runs memredis, a
// small Redis-protocol server, in process (see Embedded) and drives it
// through the same go-redis code, over an in-memory connection.
// Durable data is not here: see internal/store.
package session
