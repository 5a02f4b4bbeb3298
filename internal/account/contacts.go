package account

import (
	"errors"
	"net/http"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/citizens"
	"github.com/citizenid/citizenid/internal/notify"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Contacts: one email address and one mobile number per citizen, each
// written only once a code sent to it was entered (codes.go). Messages go
// to verified contacts only; the last verified one cannot be removed, so
// a citizen can always be told of a change and can always recover.

const contactsPath = "/account/contacts"

type contactsPage struct {
	Email, Phone                 string
	EmailVerified, PhoneVerified bool
	// CanRemoveEmail, CanRemovePhone: another verified contact remains.
	CanRemoveEmail, CanRemovePhone bool
	Form                           map[string]string
	Errors                         formErrors
	Message                        string
}

func (a *Account) contacts(w http.ResponseWriter, r *http.Request) {
	sess := a.requireAt(w, r, assurance.Low, contactsPath)
	if sess == nil {
		return
	}
	pg := contactsPage{}
	switch r.URL.Query().Get("done") {
	case "saved":
		pg.Message = "acct_contact_saved"
	case "removed":
		pg.Message = "acct_contact_removed"
	}
	a.renderContacts(w, r, sess, http.StatusOK, pg)
}

func (a *Account) renderContacts(w http.ResponseWriter, r *http.Request, sess *session.Session, status int, pg contactsPage) {
	lang := server.Locale(r, nil)
	c, err := a.o.Store.CitizenByID(r.Context(), sess.CitizenID)
	if err != nil {
		a.unavailable(w, r, "load citizen", err)
		return
	}
	pg.Email, pg.Phone, pg.EmailVerified, pg.PhoneVerified = c.Email, c.Phone, c.EmailVerified, c.PhoneVerified
	pg.CanRemoveEmail = c.Email != "" && (!c.EmailVerified || (c.PhoneVerified && c.Phone != ""))
	pg.CanRemovePhone = c.Phone != "" && (!c.PhoneVerified || (c.EmailVerified && c.Email != ""))
	if pg.Message != "" {
		pg.Message = a.o.Renderer.T(lang, pg.Message)
	}
	a.o.Renderer.Render(w, r, status, "account_contacts", lang, "acct_contacts_title", pg)
}

// setContact sends a code to a new email address or mobile number.
func (a *Account) setContact(w http.ResponseWriter, r *http.Request) {
	sess := a.requireAt(w, r, assurance.Low, contactsPath)
	if sess == nil {
		return
	}
	lang := server.Locale(r, nil)
	kind := r.PathValue("kind")
	var to notify.Contact
	var err error
	switch kind {
	case "email":
		to.Kind = notify.Email
		to.Address, err = citizens.NormalizeEmail(r.PostFormValue("email"))
	case "phone":
		to.Kind = notify.SMS
		to.Address, err = citizens.NormalizePhone(r.PostFormValue("phone"))
	default:
		a.o.Renderer.Error(w, r, http.StatusNotFound, lang, "err_not_found")
		return
	}
	if err != nil {
		msg := "reg_err_email"
		if kind == "phone" {
			msg = "reg_err_phone"
		}
		a.renderContacts(w, r, sess, http.StatusUnprocessableEntity, contactsPage{
			Form: map[string]string{kind: r.PostFormValue(kind)}, Errors: formErrors{{kind, a.o.Renderer.T(lang, msg)}}})
		return
	}
	v := verification{ID: session.RandomToken(16), Purpose: "contact", Browser: a.o.Login.Browser(w, r), Lang: lang,
		To: to, Send: true, CitizenID: sess.CitizenID}
	if !a.startVerification(w, r, &v, notify.CodeContact) {
		return
	}
	http.Redirect(w, r, verifyPath(v), http.StatusSeeOther)
}

// contactVerified writes a contact whose code was entered, in the session
// of the citizen who asked for it.
func (a *Account) contactVerified(w http.ResponseWriter, r *http.Request, v *verification) {
	ctx := r.Context()
	sess := a.o.Login.Session(r)
	if sess == nil || sess.CitizenID != v.CitizenID {
		a.o.Renderer.Error(w, r, http.StatusForbidden, server.Locale(r, nil), "err_other_browser")
		return
	}
	if !a.take(w, r, v) {
		return
	}
	var before store.Citizen
	err := a.o.Store.UpdateCitizen(ctx, v.CitizenID, func(c *store.Citizen) error {
		before = *c
		if v.To.Kind == notify.Email {
			c.Email, c.EmailVerified = v.To.Address, true
		} else {
			c.Phone, c.PhoneVerified = v.To.Address, true
		}
		return nil
	})
	if err != nil {
		a.unavailable(w, r, "save contact", err)
		return
	}
	old := before.Email
	if v.To.Kind == notify.SMS {
		old = before.Phone
	}
	kind := notify.ContactAdded
	if old != "" {
		kind = notify.ContactChanged
	}
	// The contacts verified before the change hear of it: a thief who
	// replaces an address does not silence its owner.
	a.notify(r, &before, kind)
	a.record(ctx, sess, "contact."+map[bool]string{true: "change", false: "add"}[old != ""])
	http.Redirect(w, r, contactsPath+"?done=saved", http.StatusSeeOther)
}

// removeContact removes the email address or the mobile number, unless it
// is the last verified contact.
func (a *Account) removeContact(w http.ResponseWriter, r *http.Request) {
	sess := a.requireAt(w, r, assurance.Low, contactsPath)
	if sess == nil {
		return
	}
	ctx := r.Context()
	kind := r.PathValue("kind")
	var before store.Citizen
	errLast := errors.New("last verified contact")
	err := a.o.Store.UpdateCitizen(ctx, sess.CitizenID, func(c *store.Citizen) error {
		before = *c
		switch kind {
		case "email":
			if c.EmailVerified && !(c.PhoneVerified && c.Phone != "") {
				return errLast
			}
			c.Email, c.EmailVerified = "", false
		case "phone":
			if c.PhoneVerified && !(c.EmailVerified && c.Email != "") {
				return errLast
			}
			c.Phone, c.PhoneVerified = "", false
		default:
			return store.ErrNotFound
		}
		return nil
	})
	switch {
	case errors.Is(err, errLast):
		a.renderContacts(w, r, sess, http.StatusConflict, contactsPage{
			Errors: formErrors{{kind, a.o.Renderer.T(server.Locale(r, nil), "acct_err_last_contact")}}})
		return
	case errors.Is(err, store.ErrNotFound):
		a.o.Renderer.Error(w, r, http.StatusNotFound, server.Locale(r, nil), "err_not_found")
		return
	case err != nil:
		a.unavailable(w, r, "remove contact", err)
		return
	}
	a.notify(r, &before, notify.ContactRemoved)
	a.o.Audit.Record(ctx, audit.Event{Actor: "citizen:" + sess.CitizenID, Action: "contact.remove", Target: "citizen:" + sess.CitizenID,
		Outcome: "success", ClientIP: server.ClientIP(ctx), Details: map[string]string{"kind": kind}})
	http.Redirect(w, r, contactsPath+"?done=removed", http.StatusSeeOther)
}
