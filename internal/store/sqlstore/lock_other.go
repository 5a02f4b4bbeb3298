//go:build !unix

package sqlstore

import (
	"context"
	"sync"
)

// migrateMu stands in for a file lock where flock(2) is missing: it
// serialises migrations within this process only.
var migrateMu sync.Mutex

func lockFile(ctx context.Context, path string) (unlock func(), err error) {
	migrateMu.Lock()
	return migrateMu.Unlock, nil
}
