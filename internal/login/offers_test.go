package login

import (
	"context"
	"net/http"
	"testing"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/session"
)

// countingMethod counts the offers it makes to a known citizen.
type countingMethod struct {
	name  string
	asked *int
}

func (m countingMethod) Name() string { return m.name }
func (m countingMethod) Offer(_ context.Context, citizenID string) (Offer, error) {
	if citizenID != "" {
		*m.asked++
	}
	return Offer{Available: true, Level: assurance.Low, Identifies: true}, nil
}
func (countingMethod) Prepare(context.Context, *http.Request, *Txn) (any, error) { return nil, nil }
func (countingMethod) Verify(context.Context, *http.Request, *Txn) (string, session.AuthEvent, error) {
	return "", session.AuthEvent{}, nil
}

type provingMethod struct{ countingMethod }

func (provingMethod) UseProvesOffer() {}

// A method that UseProves is not asked about a citizen who used it in the
// transaction (the password: one lookup of its hash per login); others
// are, and so is it before it was used.
func TestOffersOfProvenMethods(t *testing.T) {
	var pwdAsked, otherAsked int
	e := &Engine{methods: []Method{
		provingMethod{countingMethod{"password", &pwdAsked}},
		countingMethod{"webauthn", &otherAsked},
	}}
	ctx := context.Background()
	txn := &Txn{CitizenID: "c1"}
	if _, err := e.offers(ctx, txn); err != nil {
		t.Fatal(err)
	}
	if pwdAsked != 1 || otherAsked != 1 {
		t.Fatalf("before use: asked password %d, webauthn %d times, want 1 and 1", pwdAsked, otherAsked)
	}
	txn.Proven = []State{"password", "webauthn"}
	offers, err := e.offers(ctx, txn)
	if err != nil {
		t.Fatal(err)
	}
	if pwdAsked != 1 || otherAsked != 2 {
		t.Fatalf("after use: asked password %d, webauthn %d times, want 1 (its traits) and 2", pwdAsked, otherAsked)
	}
	if o := offers["password"]; !o.Available || !o.firstFactor() {
		t.Fatalf("password's offer after use: %+v, want its traits (available, first factor)", o)
	}
}
