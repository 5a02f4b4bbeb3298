-- Back-channel logout (sqlite). Keep in step with the other dialect's 00012_backchannel.sql.

-- +goose Up
-- OpenID Connect Back-Channel Logout 1.0: where a client hears that a
-- session it took part in ended, and whether it needs the sid.
ALTER TABLE clients ADD COLUMN backchannel_logout_uri TEXT NOT NULL DEFAULT '';
ALTER TABLE clients ADD COLUMN backchannel_logout_session_required INTEGER NOT NULL DEFAULT 0;
-- Whom an outbox message is for (a client ID, an SP entity ID), so the
-- console can show a portal's last deliveries and failures.
ALTER TABLE outbox ADD COLUMN target TEXT NOT NULL DEFAULT '';
CREATE INDEX outbox_target ON outbox (kind, target, created_at);

-- +goose Down
DROP INDEX outbox_target;
ALTER TABLE outbox DROP COLUMN target;
ALTER TABLE clients DROP COLUMN backchannel_logout_session_required;
ALTER TABLE clients DROP COLUMN backchannel_logout_uri;
