package citizens

import (
	"context"
	"errors"
	"fmt"

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
	_, err := n.normalized()
	return err
}

// normalized checks n with the same rules as the registration form
// (forms.go, contact.go) but the number's structure (an operator proofs
// the citizen), and returns it with the name, email and phone normalised.
func (n NewCitizen) normalized() (NewCitizen, error) {
	var errs []error
	if !login.ValidCitizenNumber(n.Number) {
		errs = append(errs, errors.New("citizen number must be exactly 12 digits"))
	}
	if n.Name = parseName(n.Name); n.Name == "" {
		errs = append(errs, fmt.Errorf("name must be 1 to %d characters, without control characters", MaxNameLen))
	}
	if n.Birthdate != "" {
		if _, ok := parseBirthdate(n.Birthdate); !ok {
			errs = append(errs, errors.New("birthdate must be a date from 1900 to today, written YYYY-MM-DD"))
		}
	}
	var err error
	if n.Email != "" {
		if n.Email, err = NormalizeEmail(n.Email); err != nil {
			errs = append(errs, errors.New("e-mail address is not valid"))
		}
	}
	if n.Phone != "" {
		if n.Phone, err = NormalizePhone(n.Phone); err != nil {
			errs = append(errs, errors.New("phone is not a valid number (0912 345 678, or +country code)"))
		}
	}
	if err := password.Check(n.Password); err != nil {
		errs = append(errs, err)
	}
	return n, errors.Join(errs...)
}

// Create validates n and stores the citizen and the password hash in one
// write. It returns store.ErrConflict (wrapped) when the number exists.
func Create(ctx context.Context, st store.Citizens, h *password.Hasher, n NewCitizen) (*store.Citizen, error) {
	n, err := n.normalized()
	if err != nil {
		return nil, err
	}
	hash, err := h.Hash(n.Password)
	if err != nil {
		return nil, err
	}
	c := &store.Citizen{
		ID:            session.RandomToken(16),
		Number:        n.Number,
		Name:          n.Name,
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
