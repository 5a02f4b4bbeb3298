-- Outbox of messages to deliver, PostgreSQL. Keep in step with sqlite/00009_outbox.sql.

-- +goose Up
-- A message is written here in the citizen's request and delivered by a
-- worker on any node: a node claims due rows with a lease (FOR UPDATE SKIP
-- LOCKED), so each is sent by one node at a time. Payload is the message
-- as JSON (kind says how to read it: email, sms, ...).
CREATE TABLE outbox (
    id              text COLLATE "C" PRIMARY KEY,
    kind            text NOT NULL,
    payload         bytea NOT NULL,
    created_at      timestamptz NOT NULL,
    next_attempt_at timestamptz NOT NULL,
    attempts        integer NOT NULL DEFAULT 0,
    status          text NOT NULL DEFAULT 'pending',
    lease_owner     text NOT NULL DEFAULT '',
    lease_until     timestamptz,
    last_error      text NOT NULL DEFAULT '',
    done_at         timestamptz
);
CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending';
CREATE INDEX outbox_done ON outbox (done_at) WHERE status <> 'pending';

-- +goose Down
DROP TABLE outbox;
