// Package notify: TEMPORARY stand-in until the notify branch merges.
package notify

import (
	"context"
	"time"

	"github.com/citizenid/citizenid/internal/store"
)

type Kind string

const (
	Email = "email"
	SMS   = "sms"
)

const (
	CodeRegistration    Kind = "code_registration"
	CodeContact         Kind = "code_contact"
	CodeRecovery        Kind = "code_recovery"
	RegistrationAttempt Kind = "registration_attempt"
	PasswordChanged     Kind = "password_changed"
	PasswordReset       Kind = "password_reset"
	RecoveryCodeUsed    Kind = "recovery_code_used"
	ContactAdded        Kind = "contact_added"
	ContactChanged      Kind = "contact_changed"
	ContactRemoved      Kind = "contact_removed"
	AccountDisabled     Kind = "account_disabled"
	AccountEnabled      Kind = "account_enabled"
	AccountTakenOver    Kind = "account_taken_over"
	TOTPAdded           Kind = "totp_added"
	TOTPRemoved         Kind = "totp_removed"
	PasskeyAdded        Kind = "passkey_added"
	PasskeyRemoved      Kind = "passkey_removed"
	CertificateLinked   Kind = "certificate_linked"
)

type Contact struct{ Kind, Address string }

type Notifier struct{}

func (*Notifier) SendCode(ctx context.Context, to Contact, lang string, kind Kind, code string, validity time.Duration) error {
	return nil
}
func (*Notifier) Notify(ctx context.Context, c *store.Citizen, lang string, kind Kind, data map[string]string) error {
	return nil
}

func (*Notifier) NotifyAddresses(ctx context.Context, to []Contact, lang string, kind Kind, data map[string]string) error {
	return nil
}
