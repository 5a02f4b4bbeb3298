package clients

import (
	"context"
	"errors"
	"fmt"

	"github.com/citizenid/citizenid/internal/oidc"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Registrar registers and edits clients in Store; a jwks_uri is checked
// by one fetch through Keys (nil: a clientkeys.Fetcher with its default
// timeout) before anything is written. Algorithms are the ID token
// signing algorithms the server publishes keys for, which a client may
// choose among (nil: DefaultAlgorithm alone).
type Registrar struct {
	Store      store.Clients
	Keys       KeyFetcher
	Algorithms []string
}

// Validate is s.Validate with the registrar's algorithms.
func (r Registrar) Validate(s Spec, existing *store.Client) Errors {
	return s.Validate(existing, r.Algorithms)
}

// Create is Registrar{Store: st}.Create.
func Create(ctx context.Context, st store.Clients, s Spec) (*store.Client, string, error) {
	return Registrar{Store: st}.Create(ctx, s)
}

// Update is Registrar{Store: st}.Update.
func Update(ctx context.Context, st store.Clients, id string, edit func(*Spec) error, extra func(*store.Client) error) (before, after store.Client, err error) {
	return Registrar{Store: st}.Update(ctx, id, edit, extra)
}

// Create normalizes and validates s, fetches its jwks_uri once, and
// stores the client in one write. It returns the client and the secret to
// show once: the spec's own, or a generated one (empty for a public or a
// private_key_jwt client); only its hash is stored. A spec with problems,
// or a jwks_uri that does not answer with a valid key set, returns Errors
// and writes nothing; an ID already taken wraps store.ErrConflict.
func (r Registrar) Create(ctx context.Context, s Spec) (*store.Client, string, error) {
	s.Normalize()
	if errs := r.Validate(s, nil); len(errs) > 0 {
		return nil, "", errs
	}
	if s.JWKSURI != "" {
		if errs := checkURIKeys(ctx, r.Keys, s.JWKSURI); len(errs) > 0 {
			return nil, "", errs
		}
	}
	st := r.Store
	c := &store.Client{}
	s.Apply(c, true)
	secret := ""
	if !c.Public && c.TokenEndpointAuthMethod != AuthPrivateKeyJWT {
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
//
// A jwks_uri the edit sets or changes is fetched once before the
// transaction (a fetch may take seconds; a transaction should not), so
// edit may run twice and must only change the spec. Should the client
// change in between so that the edit yields another jwks_uri, Update
// returns an error wrapping store.ErrConflict and writes nothing.
func (r Registrar) Update(ctx context.Context, id string, edit func(*Spec) error, extra func(*store.Client) error) (before, after store.Client, err error) {
	checked := ""
	cur, err := r.Store.ClientByID(ctx, id)
	if err != nil {
		return before, after, err
	}
	if s, ok := r.edited(cur, edit); ok && s.JWKSURI != "" && s.JWKSURI != cur.JWKSURI {
		if errs := checkURIKeys(ctx, r.Keys, s.JWKSURI); len(errs) > 0 {
			return before, after, errs
		}
		checked = s.JWKSURI
	}
	err = r.Store.UpdateClient(ctx, id, func(c *store.Client) error {
		before = *c
		s := SpecOf(c)
		if err := edit(&s); err != nil {
			return err
		}
		s.Normalize()
		if errs := r.Validate(s, c); len(errs) > 0 {
			return errs
		}
		if s.JWKSURI != "" && s.JWKSURI != c.JWKSURI && s.JWKSURI != checked {
			return fmt.Errorf("client %q changed while its JWKS URI was checked; try again: %w", id, store.ErrConflict)
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

// edited is the valid spec edit makes of c, if it makes one.
func (r Registrar) edited(c *store.Client, edit func(*Spec) error) (Spec, bool) {
	s := SpecOf(c)
	if err := edit(&s); err != nil {
		return s, false
	}
	s.Normalize()
	return s, len(r.Validate(s, c)) == 0
}
