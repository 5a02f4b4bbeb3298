-- Verified contacts and self-registration (sqlite). Keep in step with the other dialect's 00008_contacts.sql.

-- +goose Up
-- A contact is verified once the citizen entered a code sent to it;
-- notifications go only to verified contacts. Contacts an operator
-- recorded before this migration count as verified: they were given in
-- person.
ALTER TABLE citizens ADD COLUMN email_verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE citizens ADD COLUMN phone_verified INTEGER NOT NULL DEFAULT 0;
ALTER TABLE citizens ADD COLUMN self_registered INTEGER NOT NULL DEFAULT 0;
UPDATE citizens SET email_verified = 1 WHERE email <> '';
UPDATE citizens SET phone_verified = 1 WHERE phone <> '';

-- +goose Down
ALTER TABLE citizens DROP COLUMN self_registered;
ALTER TABLE citizens DROP COLUMN phone_verified;
ALTER TABLE citizens DROP COLUMN email_verified;
