// Package sqlite implements store.Store on one SQLite file through
// modernc.org/sqlite (pure Go, no cgo). It is CitizenID's embedded default:
// `citizenid serve` with no database configured runs on it.
//
// It owns the SQLite connection settings (WAL journal, a 10 s busy timeout,
// foreign keys on, write transactions begun IMMEDIATE so that writers
// serialise instead of failing mid-transaction) and the application of the
// migrations/sqlite schema. Several processes may open the same file at once
// (the CLI next to a running server): writes are serialised by SQLite's own
// file locks, and Migrate by an advisory lock on a "<path>.migrate-lock" file
// next to the database. The file must be on a local file system; SQLite's
// locking is unreliable on network file systems.
//
// It does not own the schema itself (package migrations) nor short-lived
// state (internal/session).
package sqlite
