// Package postgres implements store.Store on PostgreSQL through a pgx
// connection pool. It is CitizenID's production store, shared by every node
// behind the load balancer.
//
// It owns the SQL for each store operation, how concurrent writers are
// serialised (row locks with SELECT ... FOR UPDATE for read-modify-write,
// conditional UPDATEs for refresh-token rotation and recovery-code use, a
// FOR NO KEY UPDATE lock on the citizen's row around changes to the set of
// recovery codes, transaction-scoped advisory
// locks for the audit chain and the signing-key set) and the application of
// the migrations/postgres schema under a session advisory lock, so that
// several nodes may start, and migrate, at once.
//
// It does not own the schema itself (package migrations) nor short-lived
// state (internal/session).
package postgres
