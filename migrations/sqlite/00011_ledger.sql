-- Data-release ledger, SQLite. Keep in step with postgres/00011_ledger.sql.

-- +goose Up
-- One row per release of personal data to a portal: attribute names, never
-- values. No foreign key to citizens: a batch of entries is written in one
-- transaction and one vanished citizen must not fail the others; the
-- retention purge (ledger.retention) removes old rows.
CREATE TABLE ledger_entries (
    id          TEXT PRIMARY KEY,
    time        TEXT NOT NULL,
    citizen_id  TEXT NOT NULL,
    portal      TEXT NOT NULL,
    portal_name TEXT NOT NULL,
    protocol    TEXT NOT NULL,
    endpoint    TEXT NOT NULL,
    attributes  TEXT NOT NULL DEFAULT '[]',
    level       INTEGER NOT NULL,
    session_id  TEXT NOT NULL DEFAULT ''
) STRICT;
-- The citizen's page: newest first, keyset paging on (time, id).
CREATE INDEX ledger_entries_citizen_time ON ledger_entries (citizen_id, time DESC, id DESC);
-- The console's counts and the retention purge; a portal's latest name.
CREATE INDEX ledger_entries_time ON ledger_entries (time);
CREATE INDEX ledger_entries_portal_time ON ledger_entries (portal, time DESC, id DESC);

-- +goose Down
DROP TABLE ledger_entries;
