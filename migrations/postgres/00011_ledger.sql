-- Data-release ledger, PostgreSQL. Keep in step with sqlite/00011_ledger.sql.

-- +goose Up
-- One row per release of personal data to a portal: attribute names, never
-- values. No foreign key to citizens: a batch of entries is written in one
-- transaction and one vanished citizen must not fail the others; the
-- retention purge (ledger.retention) removes old rows.
CREATE TABLE ledger_entries (
    id          text COLLATE "C" PRIMARY KEY,
    time        timestamptz NOT NULL,
    citizen_id  text COLLATE "C" NOT NULL,
    portal      text COLLATE "C" NOT NULL,
    portal_name text NOT NULL,
    protocol    text NOT NULL,
    endpoint    text NOT NULL,
    attributes  text[] NOT NULL DEFAULT '{}',
    level       integer NOT NULL,
    session_id  text NOT NULL DEFAULT ''
);
-- The citizen's page: newest first, keyset paging on (time, id).
CREATE INDEX ledger_entries_citizen_time ON ledger_entries (citizen_id, time DESC, id DESC);
-- The console's counts and the retention purge; a portal's latest name.
CREATE INDEX ledger_entries_time ON ledger_entries (time);
CREATE INDEX ledger_entries_portal_time ON ledger_entries (portal, time DESC, id DESC);

-- +goose Down
DROP TABLE ledger_entries;
