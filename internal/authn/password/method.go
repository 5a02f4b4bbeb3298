package password

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"unicode/utf8"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Name is the login step's name; its page is templates/login.html.
const Name = "password"

// MaxBytes bounds what is hashed, so a huge password cannot be used to
// burn CPU; longer input is refused before any lookup.
const MaxBytes = 1024

// Store is the slice of storage the login step needs.
type Store interface {
	CitizenByNumber(ctx context.Context, number string) (*store.Citizen, error)
	store.Passwords
}

// Method is the password as a login step: the first factor, which
// identifies the citizen by number and reaches level 1.
type Method struct {
	Store  Store
	Hasher *Hasher
	Log    *slog.Logger
}

var (
	_ login.Claimant  = (*Method)(nil)
	_ login.Paged     = (*Method)(nil)
	_ login.UseProves = (*Method)(nil)
)

func (m *Method) Name() string { return Name }

// Page is the password step's template: the login page itself.
func (m *Method) Page() (string, string) { return "login", "login_title" }

// Offer: anyone may try a password; a known citizen has one when a hash
// is stored.
func (m *Method) Offer(ctx context.Context, citizenID string) (login.Offer, error) {
	o := login.Offer{Available: true, Level: assurance.Low, Identifies: true}
	if citizenID == "" {
		return o, nil
	}
	_, err := m.Store.PasswordHash(ctx, citizenID)
	if errors.Is(err, store.ErrNotFound) {
		o.Available = false
		return o, nil
	}
	return o, err
}

// UseProvesOffer: a citizen who just logged in with their password has
// one, and the password's offer says nothing else about them.
func (m *Method) UseProvesOffer() {}

func (m *Method) Prepare(context.Context, *http.Request, *login.Txn) (any, error) { return nil, nil }

// form is the parsed password form.
type form struct {
	Number   string
	Password string
}

// parseForm validates the login form. It returns the message key of the
// problem, or "" when the form is usable. The citizen number is checked
// to be exactly 12 ASCII digits before any lookup.
func parseForm(v url.Values) (form, string) {
	f := form{Number: v.Get("number"), Password: v.Get("password")}
	if len(v["number"]) > 1 || len(v["password"]) > 1 {
		return form{}, "err_form"
	}
	if !login.ValidCitizenNumber(f.Number) {
		f.Number = ""
		f.Password = ""
		return f, "err_number_format"
	}
	if f.Password == "" || len(f.Password) > MaxBytes || !utf8.ValidString(f.Password) {
		f.Password = ""
		return f, "err_credentials"
	}
	return f, ""
}

// Claim reads the citizen number the form is for; a malformed form is
// refused (400) before anything is counted.
func (m *Method) Claim(r *http.Request) (string, error) {
	f, problem := parseForm(r.PostForm)
	if problem == "err_number_format" || problem == "err_form" {
		return "", &login.StepError{Message: problem, Reason: "malformed form", Status: http.StatusBadRequest}
	}
	return f.Number, nil
}

// Errors of a check, for the audit log.
var (
	errUnknown    = errors.New("unknown citizen")
	errPassword   = errors.New("wrong password")
	errDisabled   = errors.New("account disabled")
	errNoPassword = errors.New("no password set")
)

// Verify checks the password, spending the same time whether or not the
// citizen exists, and rehashes it when the parameters changed. A store
// failure is an error of the server, never "wrong password".
func (m *Method) Verify(ctx context.Context, r *http.Request, _ *login.Txn) (string, session.AuthEvent, error) {
	f, problem := parseForm(r.PostForm)
	c, err := m.check(ctx, f, problem)
	if err != nil {
		se := &login.StepError{Message: "err_credentials", Reason: err.Error(), Throttle: true}
		switch {
		case errors.Is(err, errDisabled):
			se.Message = "err_disabled"
		case errors.Is(err, errUnknown), errors.Is(err, errPassword), errors.Is(err, errNoPassword):
		default:
			return "", session.AuthEvent{}, err
		}
		if c != nil {
			se.CitizenID = c.ID
		}
		return "", session.AuthEvent{}, se
	}
	return c.ID, session.AuthEvent{Method: assurance.AMRPassword, AMR: []string{assurance.AMRPassword}, Level: int(assurance.Low)}, nil
}

// check verifies the password and returns the citizen when known.
func (m *Method) check(ctx context.Context, f form, problem string) (*store.Citizen, error) {
	if problem != "" {
		m.Hasher.VerifyDummy("")
		return nil, errPassword
	}
	c, err := m.Store.CitizenByNumber(ctx, f.Number)
	if errors.Is(err, store.ErrNotFound) {
		m.Hasher.VerifyDummy(f.Password)
		return nil, errUnknown
	} else if err != nil {
		return nil, fmt.Errorf("look up citizen: %w", err)
	}
	hash, err := m.Store.PasswordHash(ctx, c.ID)
	if errors.Is(err, store.ErrNotFound) {
		m.Hasher.VerifyDummy(f.Password)
		return c, errNoPassword
	} else if err != nil {
		return c, fmt.Errorf("load password: %w", err)
	}
	ok, rehash, err := m.Hasher.Verify(f.Password, hash)
	if err != nil {
		return c, fmt.Errorf("verify password: %w", err)
	}
	if !ok {
		return c, errPassword
	}
	if c.Disabled {
		return c, errDisabled
	}
	if rehash {
		if nh, err := m.Hasher.Hash(f.Password); err == nil {
			if err := m.Store.ReplacePasswordHash(ctx, c.ID, hash, nh); err != nil && !errors.Is(err, store.ErrConflict) {
				m.Log.WarnContext(ctx, "rehash password", "err", err)
			}
		}
	}
	return c, nil
}
