package citizens

import (
	"context"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/citizenid/citizenid/internal/authn/password"
	"github.com/citizenid/citizenid/internal/login"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// NewCitizen is what creating an account takes.
type NewCitizen struct {
	Number, Name, Birthdate, Email, Phone string
	Password                              string
}

// Validate reports every problem with n at once.
func (n NewCitizen) Validate() error {
	var errs []error
	if !login.ValidCitizenNumber(n.Number) {
		errs = append(errs, errors.New("citizen number must be exactly 12 digits"))
	}
	name := strings.TrimSpace(n.Name)
	if name == "" || utf8.RuneCountInString(name) > 200 || !utf8.ValidString(name) {
		errs = append(errs, errors.New("name must be 1 to 200 characters"))
	}
	if n.Birthdate != "" {
		d, err := time.Parse(time.DateOnly, n.Birthdate)
		if err != nil || d.After(time.Now()) || d.Year() < 1900 {
			errs = append(errs, errors.New("birthdate must be a past date written YYYY-MM-DD"))
		}
	}
	if n.Email != "" {
		if a, err := mail.ParseAddress(n.Email); err != nil || a.Address != n.Email {
			errs = append(errs, errors.New("e-mail address is not valid"))
		}
	}
	if n.Phone != "" && !validPhone(n.Phone) {
		errs = append(errs, errors.New("phone must be digits, optionally starting with +, 8 to 16 long"))
	}
	if err := password.Check(n.Password); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func validPhone(p string) bool {
	p = strings.TrimPrefix(p, "+")
	if len(p) < 8 || len(p) > 16 {
		return false
	}
	for _, c := range p {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// Create validates n and stores the citizen and the password hash in one
// write. It returns store.ErrConflict (wrapped) when the number exists.
func Create(ctx context.Context, st store.Citizens, h *password.Hasher, n NewCitizen) (*store.Citizen, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	hash, err := h.Hash(n.Password)
	if err != nil {
		return nil, err
	}
	c := &store.Citizen{
		ID:            session.RandomToken(16),
		Number:        n.Number,
		Name:          strings.TrimSpace(n.Name),
		Birthdate:     n.Birthdate,
		Email:         n.Email,
		Phone:         n.Phone,
		IdentityLevel: 1,
		// Contacts an operator records were given in person: verified.
		EmailVerified: n.Email != "",
		PhoneVerified: n.Phone != "",
	}
	if err := st.CreateCitizen(ctx, c, hash); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, fmt.Errorf("a citizen with number %s already exists: %w", n.Number, store.ErrConflict)
		}
		return nil, err
	}
	return c, nil
}
