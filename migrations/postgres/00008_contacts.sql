-- Verified contacts and self-registration (postgres). Keep in step with the other dialect's 00008_contacts.sql.

-- +goose Up
-- A contact is verified once the citizen entered a code sent to it;
-- notifications go only to verified contacts. Contacts an operator
-- recorded before this migration count as verified: they were given in
-- person.
ALTER TABLE citizens ADD COLUMN email_verified BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE citizens ADD COLUMN phone_verified BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE citizens ADD COLUMN self_registered BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE citizens SET email_verified = TRUE WHERE email <> '';
UPDATE citizens SET phone_verified = TRUE WHERE phone <> '';

-- +goose Down
ALTER TABLE citizens DROP COLUMN self_registered;
ALTER TABLE citizens DROP COLUMN phone_verified;
ALTER TABLE citizens DROP COLUMN email_verified;
