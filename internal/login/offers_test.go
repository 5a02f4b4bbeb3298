package login

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
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

// A login that reaches its level asks no method about the citizen: the
// offers are loaded only when decide needs them (settled). A fresh
// password login below substantial, which may be asked for a second
// factor, and a login short of its level, load them.
func TestFactsLoadOffersOnlyWhenNeeded(t *testing.T) {
	var asked int
	now := time.Date(2026, 12, 7, 12, 0, 0, 0, time.UTC)
	sessions := session.New(nil, session.Options{Now: func() time.Time { return now }})
	e := &Engine{methods: []Method{countingMethod{"webauthn", &asked}},
		SSO: &SSO{sessions: sessions, limits: assurance.DefaultLimits()}}
	citizen := &store.Citizen{ID: "c1"}
	passkey := session.AuthEvent{Method: "webauthn", AMR: []string{"hwk", "user"}, Level: int(assurance.High), Time: now}
	password := session.AuthEvent{Method: "pwd", AMR: []string{"pwd"}, Level: int(assurance.Low), Time: now}
	tests := []struct {
		name string
		txn  Txn
		want int
	}{
		{"a passkey login at its level", Txn{Request: Request{MinLevel: assurance.Substantial}, State: "webauthn",
			CitizenID: "c1", FreshLogin: true, Events: []session.AuthEvent{passkey}}, 0},
		{"a password login, a second factor may follow", Txn{Request: Request{MinLevel: assurance.Low}, State: "password",
			CitizenID: "c1", FreshLogin: true, Events: []session.AuthEvent{password}}, 1},
		{"a password login short of its level", Txn{Request: Request{MinLevel: assurance.High}, State: "password",
			CitizenID: "c1", FreshLogin: true, Events: []session.AuthEvent{password}}, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			asked = 0
			f, _, err := e.facts(context.Background(), &tt.txn, nil, citizen)
			if err != nil {
				t.Fatal(err)
			}
			if asked != tt.want {
				t.Fatalf("asked the method about the citizen %d times, want %d (result %+v)", asked, tt.want, f.Result)
			}
		})
	}
}
