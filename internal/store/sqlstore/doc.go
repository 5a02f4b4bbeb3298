// Package sqlstore implements store.Store once, on database/sql, for two
// SQL databases: PostgreSQL through pgx's database/sql driver (production,
// shared by every node) and SQLite through modernc.org/sqlite (pure Go, the
// embedded default of `citizenid serve`).
//
// It owns the SQL of every store operation, written once with ? placeholders,
// and a small dialect value per database that holds what genuinely differs:
// placeholder style and a few spellings (translate), how lists and times
// are stored (text[] and timestamptz, JSON text and fixed-layout TEXT),
// which errors mean store.ErrConflict or store.ErrNotFound, how writers are
// serialised, whether queries run as prepared statements cached per store
// (SQLite; pgx caches statements per connection itself), and how the
// schema is applied. Read-modify-write goes through one helper, update.
//
// Concurrency. PostgreSQL: read-modify-write reads the row with SELECT ...
// FOR UPDATE; refresh-token rotation and recovery-code use are conditional
// UPDATEs; changes to a citizen's set of recovery codes lock the citizen's
// row (FOR NO KEY UPDATE); the audit chain and the signing-key set take
// transaction-scoped advisory locks; Migrate runs under a session advisory
// lock so several nodes may start, and migrate, at once. SQLite has no row
// locks: every write runs in one transaction begun IMMEDIATE behind the
// store's write mutex (other processes queue on SQLite's file lock with a
// 10 s busy timeout), the file is in WAL mode with foreign keys on, and
// Migrate takes an flock on "<path>.migrate-lock". The SQLite file must be
// on a local file system.
//
// It does not own the schema (package migrations, one series per dialect),
// nor short-lived state (internal/session), nor the rules of the domain
// objects (the packages that use store.Store).
package sqlstore
