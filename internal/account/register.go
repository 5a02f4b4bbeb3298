package account

import (
	"errors"
	"net/http"
	"time"

	"github.com/citizenid/citizenid/internal/audit"
	"github.com/citizenid/citizenid/internal/citizens"
	"github.com/citizenid/citizenid/internal/notify"
	"github.com/citizenid/citizenid/internal/server"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Registration at identity level 1 (/register): the citizen's form, then a
// code to one of their contacts, then the account. Nothing reaches the
// durable store before the code is entered but the audit event and the
// message in the outbox. A number that already has an account goes
// through the same steps and pages (codes.go): the account's verified
// contacts are told someone tried, and no code that works is ever sent.

const registerPath = "/register"

// registration is what the form gave, kept with its verification until
// the code is entered.
type registration struct {
	Number, Name, Birthdate, Email, Phone string
	PasswordHash                          string
	// Existing: the number had an account when the form was sent.
	Existing bool
}

// Throttles of registration and recovery: per client address (many
// citizens share one behind a carrier's NAT) and per citizen number. They
// count every attempt, succeed or not, and never touch a login.
var (
	selfServiceIPThrottle     = session.ThrottlePolicy{Free: 20, Window: time.Hour, BaseDelay: time.Minute, MaxDelay: time.Hour}
	selfServiceNumberThrottle = session.ThrottlePolicy{Free: 5, Window: time.Hour, BaseDelay: 5 * time.Minute, MaxDelay: time.Hour}
	codeIPThrottle            = session.ThrottlePolicy{Free: 30, Window: time.Hour, BaseDelay: time.Minute, MaxDelay: time.Hour}
)

// registerPage is the view model of register.html.
type registerPage struct {
	Form   map[string]string // values to show again (never the passwords)
	Errors formErrors
	// Login is the login transaction the citizen came from, to go back to.
	Login string
}

func (a *Account) registerForm(w http.ResponseWriter, r *http.Request) {
	a.o.Renderer.Render(w, r, http.StatusOK, "register", server.Locale(r, nil), "signup_title",
		registerPage{Login: loginParam(r)})
}

func (a *Account) register(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := server.Locale(r, nil)
	in, ferrs := citizens.ParseRegistration(postForm(r), a.o.Policy)
	if len(ferrs) > 0 {
		pg := registerPage{Login: loginParam(r), Errors: a.fieldErrors(lang, ferrs),
			Form: map[string]string{"number": r.PostFormValue("number"), "name": r.PostFormValue("name"),
				"birthdate": r.PostFormValue("birthdate"), "email": r.PostFormValue("email"), "phone": r.PostFormValue("phone")}}
		a.o.Renderer.Render(w, r, http.StatusUnprocessableEntity, "register", lang, "signup_title", pg)
		return
	}
	if !a.selfServiceAllowed(w, r, in.Number) {
		return
	}
	// The hash is made in both paths, so their timing is the same.
	hash, err := a.o.Hasher.Hash(in.Password)
	if err != nil {
		a.unavailable(w, r, "hash password", err)
		return
	}
	existing, err := a.o.Store.CitizenByNumber(ctx, in.Number)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		a.unavailable(w, r, "citizen by number", err)
		return
	}
	v := verification{
		ID: session.RandomToken(16), Purpose: "register", Browser: a.o.Login.Browser(w, r), Lang: lang, Login: loginParam(r),
		To: notify.Contact{Kind: notify.Email, Address: in.Email}, Send: existing == nil,
		Registration: &registration{Number: in.Number, Name: in.Name, Birthdate: in.Birthdate, Email: in.Email,
			Phone: in.Phone, PasswordHash: hash, Existing: existing != nil},
	}
	if in.Email == "" {
		v.To = notify.Contact{Kind: notify.SMS, Address: in.Phone}
	}
	if !a.startVerification(w, r, &v, notify.CodeRegistration) {
		return
	}
	if existing != nil {
		a.notify(r, existing, notify.RegistrationAttempt)
	}
	a.o.Audit.Record(ctx, audit.Event{Actor: "anonymous", Action: "citizen.register_start", Outcome: "success",
		ClientIP: server.ClientIP(ctx), Details: map[string]string{"number": audit.MaskNumber(in.Number), "contact": v.To.Kind,
			"existing": boolString(existing != nil)}})
	http.Redirect(w, r, verifyPath(v), http.StatusSeeOther)
}

// completeRegistration creates the account of a verification whose code
// was entered; it takes v from Redis first, so this runs once.
func (a *Account) completeRegistration(w http.ResponseWriter, r *http.Request, v *verification) {
	ctx := r.Context()
	if !a.take(w, r, v) {
		return
	}
	reg := v.Registration
	c := &store.Citizen{
		ID: session.RandomToken(16), Number: reg.Number, Name: reg.Name, Birthdate: reg.Birthdate,
		Email: reg.Email, Phone: reg.Phone, IdentityLevel: 1, SelfRegistered: true,
		EmailVerified: v.To.Kind == notify.Email, PhoneVerified: v.To.Kind == notify.SMS,
	}
	err := a.o.Store.CreateCitizen(ctx, c, reg.PasswordHash)
	if errors.Is(err, store.ErrConflict) {
		// Registered by someone else between the form and the code.
		a.o.Renderer.Error(w, r, http.StatusConflict, v.Lang, "signup_err_taken")
		return
	} else if err != nil {
		a.unavailable(w, r, "create citizen", err)
		return
	}
	a.o.Audit.Record(ctx, audit.Event{Actor: "citizen:" + c.ID, Action: "citizen.register", Target: "citizen:" + c.ID,
		Outcome: "success", ClientIP: server.ClientIP(ctx), Details: map[string]string{"contact": v.To.Kind}})
	a.o.Renderer.Render(w, r, http.StatusOK, "register_done", server.Locale(r, nil), "signup_done_title",
		doneView{Name: c.Name, Login: v.Login})
}

// doneView is the view model of the pages that end a journey.
type doneView struct {
	Name  string
	Login string // a login transaction to go back to
}

func boolString(b bool) string {
	if b {
		return "true"
	}
	return "false"
}
