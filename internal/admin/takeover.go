package admin

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/authn/totp"
	"github.com/citizenid/citizenid/internal/citizens"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/notify"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Proof and take over: a citizen number can be registered online by
// someone who is not its owner (identity level 1, self-asserted). When an
// operator proofs the real owner in person, the account becomes theirs:
// its contacts are replaced by the ones the owner gave the operator, its
// password and every authenticator are removed (the owner sets a password
// through /recover with the new contact), every session and refresh token
// ends, the old contacts are told, and the account is at identity level 2.

// errTakeOver: only a self-registered level-1 account can be taken over.
var errTakeOver = errors.New("only a self-registered account at identity level 1 can be taken over")

// errTakeOverContact: the owner's contact is missing or malformed.
var errTakeOverContact = errors.New("give the owner's email address or mobile number")

// Notifier queues messages to citizens (internal/notify).
type Notifier interface {
	// Notify queues a notice to each verified contact of c.
	Notify(ctx context.Context, c *store.Citizen, lang string, kind notify.Kind, data map[string]string) error
	// NotifyAddresses queues a notice to these addresses.
	NotifyAddresses(ctx context.Context, to []notify.Contact, lang string, kind notify.Kind, data map[string]string) error
}

// takeOver is what the operator gives: the owner's contacts (at least
// one), and the reason for the audit log.
type takeOver struct {
	Email, Phone, Reason string
}

func (a *Admin) doTakeOver(ctx context.Context, act *actor, id string, in takeOver) error {
	in.Reason = strings.TrimSpace(in.Reason)
	if n := utf8.RuneCountInString(in.Reason); n < minReasonLen || n > maxReasonLen {
		return errReason
	}
	var err error
	if in.Email != "" {
		if in.Email, err = citizens.NormalizeEmail(in.Email); err != nil {
			return errTakeOverContact
		}
	}
	if in.Phone != "" {
		if in.Phone, err = citizens.NormalizePhone(in.Phone); err != nil {
			return errTakeOverContact
		}
	}
	if in.Email == "" && in.Phone == "" {
		return errTakeOverContact
	}
	if err := a.mayChange(ctx, act, id); err != nil {
		return err
	}
	var before store.Citizen
	var was, now auditCitizen
	err = a.o.Store.UpdateCitizen(ctx, id, func(c *store.Citizen) error {
		if !c.SelfRegistered || c.IdentityLevel >= 2 {
			return errTakeOver
		}
		before, was = *c, auditState(c)
		// Contacts given to an operator in person count as verified.
		c.Email, c.EmailVerified = in.Email, in.Email != ""
		c.Phone, c.PhoneVerified = in.Phone, in.Phone != ""
		c.IdentityLevel = 2
		now = auditState(c)
		return nil
	})
	if err != nil {
		return err
	}
	// Nobody knows this password: the owner sets theirs through /recover.
	hash, err := a.o.Hasher.Hash(session.RandomToken(32))
	if err == nil {
		err = a.o.Store.SetPassword(ctx, id, hash)
	}
	if err == nil {
		if err = a.o.TOTP.Remove(ctx, id); errors.Is(err, totp.ErrNotEnrolled) {
			err = nil
		}
	}
	if err == nil {
		err = a.removeAuthenticators(ctx, id)
	}
	if err == nil {
		err = a.o.Store.RevokeRefreshTokensByCitizen(ctx, id, a.o.Sessions.Now())
	}
	if err == nil {
		_, err = a.o.Login.EndAll(ctx, id, "", login.How{Actor: act.ref, Reason: "account taken over"})
	}
	outcome := "success"
	if err != nil {
		outcome = "failure"
	}
	a.record(ctx, act, "citizen.takeover", "citizen:"+id, outcome, map[string]string{"reason": in.Reason}, was, now)
	if err != nil {
		return err
	}
	a.record(ctx, act, "citizen.identity_level", "citizen:"+id, "success", nil, map[string]int{"identity_level": before.IdentityLevel},
		map[string]int{"identity_level": 2})
	if a.o.Notifier != nil {
		var old []notify.Contact
		if before.EmailVerified && before.Email != "" {
			old = append(old, notify.Contact{Kind: notify.Email, Address: before.Email})
		}
		if before.PhoneVerified && before.Phone != "" {
			old = append(old, notify.Contact{Kind: notify.SMS, Address: before.Phone})
		}
		data := map[string]string{"number": audit.MaskNumber(before.Number)}
		if err := a.o.Notifier.NotifyAddresses(ctx, old, "vi", notify.AccountTakenOver, data); err != nil {
			a.o.Log.ErrorContext(ctx, "queue notification", "kind", notify.AccountTakenOver, "err", err)
		}
	}
	return nil
}

// removeAuthenticators removes every passkey and certificate binding.
func (a *Admin) removeAuthenticators(ctx context.Context, id string) error {
	creds, err := a.o.Store.ListWebAuthnCredentials(ctx, id)
	if err != nil {
		return err
	}
	for _, c := range creds {
		if err := a.o.Store.DeleteWebAuthnCredential(ctx, id, c.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	bindings, err := a.o.Store.CertificateBindingsOf(ctx, id)
	if err != nil {
		return err
	}
	for _, b := range bindings {
		if err := a.o.Store.DeleteCertificateBinding(ctx, id, b.ID); err != nil && !errors.Is(err, store.ErrNotFound) {
			return err
		}
	}
	return nil
}

// takeOverCitizen is the console's "proof and take over" form.
func (a *Admin) takeOverCitizen(w http.ResponseWriter, r *http.Request, act *actor) {
	c := a.loadCitizen(w, r, act)
	if c == nil {
		return
	}
	in := takeOver{Email: r.PostForm.Get("email"), Phone: r.PostForm.Get("phone"), Reason: r.PostForm.Get("reason")}
	err := a.doTakeOver(r.Context(), act, c.ID, in)
	switch {
	case errors.Is(err, errReason):
		a.renderCitizen(w, r, act, c, http.StatusUnprocessableEntity, in.Reason, "takeover")
		return
	case errors.Is(err, errTakeOverContact):
		http.Redirect(w, r, "/admin/citizens/"+c.ID+"?err=admin_err_takeover_contact", http.StatusSeeOther)
		return
	case errors.Is(err, errTakeOver):
		http.Redirect(w, r, "/admin/citizens/"+c.ID+"?err=admin_err_takeover", http.StatusSeeOther)
		return
	}
	a.citizenDone(w, r, act, c.ID, err, "admin_msg_taken_over")
}
