package sqlite

import (
	"context"

	"github.com/citizenid/citizenid/internal/store/sqlstore"
)

// Store is the SQL store, here on SQLite.
type Store = sqlstore.Store

// Open opens (creating if needed) the SQLite database at path, a plain file
// name; see sqlstore.OpenSQLite. It does not migrate; call Migrate.
func Open(ctx context.Context, path string) (*Store, error) { return sqlstore.OpenSQLite(ctx, path) }
