-- Outbox of messages to deliver, SQLite. Keep in step with postgres/00009_outbox.sql.

-- +goose Up
-- A message is written here in the citizen's request and delivered by a
-- worker: a worker claims due rows with a lease (writers are serialised),
-- so each is sent by one worker at a time. Payload is the message as JSON
-- (kind says how to read it: email, sms, ...).
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    payload         BLOB NOT NULL,
    created_at      TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    status          TEXT NOT NULL DEFAULT 'pending',
    lease_owner     TEXT NOT NULL DEFAULT '',
    lease_until     TEXT,
    last_error      TEXT NOT NULL DEFAULT '',
    done_at         TEXT
) STRICT;
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_done ON outbox (done_at) WHERE status <> 'pending';

-- +goose Down
DROP TABLE outbox;
