-- Durable marks (postgres). Keep in step with the other dialect's 00013_marks.sql.

-- +goose Up
-- What Redis checks on every request but must not forget when it restarts
-- empty: a revoked access token, a session that was ended (its offline
-- access tokens end with it), a used authorization code and what it
-- issued (its replay revokes that). Each is kept until it no longer
-- matters, and copied back into Redis when Redis has lost them.
CREATE TABLE marks (
    kind  text COLLATE "C" NOT NULL,
    id    text COLLATE "C" NOT NULL,
    until timestamptz NOT NULL,
    data  bytea NOT NULL DEFAULT ''::bytea,
    PRIMARY KEY (kind, id)
);
CREATE INDEX marks_until ON marks (until);

-- +goose Down
DROP TABLE marks;
