// Package migrations embeds CitizenID's SQL schema, one goose migration
// series per dialect: postgres/ for PostgreSQL and sqlite/ for the embedded
// SQLite database. The two series describe the same schema and move in
// lockstep: a change lands in both, under the same version number.
//
// The SQL store (internal/store/sqlstore, one per dialect) applies them
// with goose (fs.Sub(FS, "postgres") or fs.Sub(FS, "sqlite")); nothing else
// reads them.
package migrations

import "embed"

// FS holds postgres/*.sql and sqlite/*.sql.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS
