package certificate

import (
	"context"
	"errors"
	"fmt"

	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Explicit bindings: a citizen, logged in at a high level, ties a
// certificate whose subject does not carry their number to their account
// by signing a challenge with it. The certificate is validated exactly as
// at login (chain, profile, revocation).

// BeginBinding returns a nonce for the citizen's signing component, bound
// to the citizen's SSO session sid (single use, replacing any earlier one).
func (a *Authenticator) BeginBinding(ctx context.Context, citizenID, sid string) (string, error) {
	nonce := session.RandomToken(32)
	if err := kindBind.Put(ctx, a.o.Sessions, sid, challenge{Nonce: nonce, Citizen: citizenID}, a.o.ChallengeTTL); err != nil {
		return "", err
	}
	return nonce, nil
}

// Bind checks the token against the session's nonce and binds its
// certificate to the citizen under name. A refusal returns the message key
// to show; an error is a failure of the server.
func (a *Authenticator) Bind(ctx context.Context, citizenID, sid, token, name string) (*store.CertificateBinding, string, error) {
	at := attempt{mode: "challenge", purpose: "bind", citizen: citizenID}
	var pre *Refusal
	at.leaf, pre = a.verifyToken(ctx, token, kindBind, sid, citizenID)
	out, err := a.check(ctx, at, pre)
	var r *Refusal
	if errors.As(err, &r) {
		return nil, r.Message, nil
	} else if err != nil {
		return nil, "", err
	}
	switch {
	case out.binding != "":
		return nil, msgBound, nil
	case out.citizenID != "" && out.citizenID != citizenID:
		// The subject names another citizen: only that citizen may use it.
		return nil, msgOther, nil
	}
	leaf := out.v.Leaf
	b := &store.CertificateBinding{
		ID:             session.RandomToken(16),
		CitizenID:      citizenID,
		Issuer:         leaf.Issuer.String(),
		Serial:         SerialHex(leaf),
		SPKIThumbprint: SPKIThumbprint(leaf),
		Name:           cut(name, 64),
		CreatedAt:      a.o.Now(),
	}
	if err := a.o.Store.CreateCertificateBinding(ctx, b); errors.Is(err, store.ErrConflict) {
		return nil, msgBound, nil
	} else if err != nil {
		return nil, "", fmt.Errorf("create certificate binding: %w", err)
	}
	return b, "", nil
}

// Bindings lists the citizen's bindings.
func (a *Authenticator) Bindings(ctx context.Context, citizenID string) ([]store.CertificateBinding, error) {
	return a.o.Store.CertificateBindingsOf(ctx, citizenID)
}

// Unbind removes the citizen's binding id; store.ErrNotFound when absent.
func (a *Authenticator) Unbind(ctx context.Context, citizenID, id string) error {
	return a.o.Store.DeleteCertificateBinding(ctx, citizenID, id)
}
