// Package memredis is the embedded default's Redis: a small in-process
// server that speaks RESP2 and keeps its data in Go maps, so that the
// session package drives it with the same go-redis code as a real Redis.
// The server's own client reaches it in memory (Server.Dial); tools and
// tests connect to its listener on 127.0.0.1.
//
// It serves the commands CitizenID uses (strings, hashes, sets, sorted
// sets, TTLs, WATCH/MULTI/EXEC, EVAL/EVALSHA through gopher-lua) and the
// few that tests and the load tool read (KEYS, SCAN, DBSIZE, FLUSHDB,
// MEMORY USAGE). Everything else is refused with an error, as Redis
// refuses an unknown command.
//
// Unlike miniredis, which it replaces, it expires keys in wall time (on
// access, and by sampling like Redis's active expiry), forgets a key
// entirely once it is deleted or expired (WATCH is tracked per watching
// connection, not per key ever written), and gives back the memory of a
// map that shrank. It is one node with no persistence: for the embedded
// default on one machine and for tests, never for production.
package memredis
