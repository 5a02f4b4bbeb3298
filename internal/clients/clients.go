package clients

import (
	"context"
	"errors"
	"fmt"

	"github.com/citizenid/citizenid/internal/oidc"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Create normalizes and validates s and stores the client in one write.
// It returns the client and the secret to show once: the spec's own, or
// a generated one (empty for a public client); only its hash is stored.
// A spec with problems returns Errors; an ID already taken wraps
// store.ErrConflict.
func Create(ctx context.Context, st store.Clients, s Spec) (*store.Client, string, error) {
	s.Normalize()
	if errs := s.Validate(nil); len(errs) > 0 {
		return nil, "", errs
	}
	c := &store.Client{}
	s.Apply(c, true)
	secret := ""
	if !c.Public {
		secret = s.Secret
		if secret == "" {
			secret = session.RandomToken(32)
		}
		c.SecretHash = oidc.HashClientSecret(secret)
	}
	if err := st.CreateClient(ctx, c); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, "", fmt.Errorf("a client with id %q already exists: %w", s.ID, store.ErrConflict)
		}
		return nil, "", err
	}
	return c, secret, nil
}

// Update applies edit to the stored client's spec and writes the result,
// validated, in one transaction; also, when the client passes them, the
// changes of extra (the caller's own fields, e.g. disabled). It returns the
// client as it was and as it is. A spec with problems returns Errors.
func Update(ctx context.Context, st store.Clients, id string, edit func(*Spec) error, extra func(*store.Client) error) (before, after store.Client, err error) {
	err = st.UpdateClient(ctx, id, func(c *store.Client) error {
		before = *c
		s := SpecOf(c)
		if err := edit(&s); err != nil {
			return err
		}
		s.Normalize()
		if errs := s.Validate(c); len(errs) > 0 {
			return errs
		}
		s.Apply(c, false)
		if extra != nil {
			if err := extra(c); err != nil {
				return err
			}
		}
		after = *c
		return nil
	})
	return before, after, err
}
