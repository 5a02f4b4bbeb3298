-- Durable marks (sqlite). Keep in step with the other dialect's 00013_marks.sql.

-- +goose Up
-- What Redis checks on every request but must not forget when it restarts
-- empty: a revoked access token, a session that was ended (its offline
-- access tokens end with it), a used authorization code and what it
-- issued (its replay revokes that). Each is kept until it no longer
-- matters, and copied back into Redis when Redis has lost them.
CREATE TABLE marks (
    kind  TEXT NOT NULL,
    id    TEXT NOT NULL,
    until TEXT NOT NULL,
    data  BLOB NOT NULL DEFAULT x'',
    PRIMARY KEY (kind, id)
) STRICT;
CREATE INDEX marks_until ON marks (until);

-- +goose Down
DROP TABLE marks;
