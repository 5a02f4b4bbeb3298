package app

import (
	"context"
	"log/slog"
	"strings"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/notify"
	"github.com/citizenid/citizenid/internal/store"
)

// securityNotices are the audited changes a citizen is told of, by
// action. Every entry point (the account pages, a login with a recovery
// code, the console, the API, the CLI) audits its changes, so telling the
// citizen from the audit log reaches all of them, once. Changes of
// contacts, a registration attempt on an existing number and a take-over
// are told by their own code: they write to addresses other than the
// account's current ones.
var securityNotices = map[string]notify.Kind{
	"password.change":  notify.PasswordChanged,
	"password.reset":   notify.PasswordReset,
	"totp.enrol":       notify.TOTPAdded,
	"totp.remove":      notify.TOTPRemoved,
	"totp.reset":       notify.TOTPRemoved,
	"webauthn.enrol":   notify.PasskeyAdded,
	"webauthn.remove":  notify.PasskeyRemoved,
	"webauthn.reset":   notify.PasskeyRemoved,
	"certificate.bind": notify.CertificateLinked,
	"citizen.disable":  notify.AccountDisabled,
	"citizen.enable":   notify.AccountEnabled,
}

// Notices is what noticeObserver needs.
type Notices interface {
	Notify(ctx context.Context, c *store.Citizen, lang string, kind notify.Kind, data map[string]string) error
}

// noticeObserver tells the citizen named by a successful security change
// in the audit log. A failure to queue is logged; the change stands.
func noticeObserver(st store.Citizens, n Notices, log *slog.Logger) func(context.Context, audit.Event) {
	return func(ctx context.Context, e audit.Event) {
		kind, ok := securityNotices[e.Action]
		id, isCitizen := strings.CutPrefix(e.Target, "citizen:")
		if !ok || !isCitizen || e.Outcome != "success" {
			return
		}
		if e.Action == "totp.remove" && e.Details["reason"] == "recovery code used" {
			// A recovery code turns the app off (at a login or a recovery).
			kind = notify.RecoveryCodeUsed
		}
		c, err := st.CitizenByID(ctx, id)
		if err != nil {
			log.ErrorContext(ctx, "notice: load citizen", "action", e.Action, "err", err)
			return
		}
		if err := n.Notify(ctx, c, "vi", kind, nil); err != nil {
			log.ErrorContext(ctx, "notice: queue", "kind", kind, "err", err)
		}
	}
}
