package login

import (
	"errors"
	"strings"
	"testing"

	"github.com/citizenid/citizenid/internal/assurance"
	"github.com/citizenid/citizenid/internal/release"
)

// The offers a citizen may have, as methods make them.
var (
	pwd      = Offer{Available: true, Level: assurance.Low, Identifies: true}
	app      = Offer{Available: true, Level: assurance.Substantial, SecondFactor: true}
	recovery = Offer{Available: true, Level: assurance.Low, SecondFactor: true, Recovery: true}
	bound    = Offer{Available: true, Level: assurance.High, Identifies: true}        // device-bound passkey
	synced   = Offer{Available: true, Level: assurance.Substantial, Identifies: true} // synced passkey
	cert     = Offer{Available: true, Level: assurance.VeryHigh, Identifies: true}
	order    = []string{"totp", "recovery", "webauthn", "certificate", "password"}
)

func offers(kv ...any) map[string]Offer {
	m := map[string]Offer{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(string)] = kv[i+1].(Offer)
	}
	return m
}

// at is what the events prove: level l, satisfied or not; first says
// whether a fresh first factor is still there (not NeedFirstFactor).
func at(l assurance.Level, satisfied, first bool) assurance.Result {
	return assurance.Result{Level: l, Satisfied: satisfied, NeedFirstFactor: !first}
}

func TestDecide(t *testing.T) {
	req := func(min assurance.Level) Request { return Request{MinLevel: min} }
	tests := []struct {
		name string
		f    facts
		want decision
	}{
		// A request arriving.
		{"first login: nobody known, the password",
			facts{Request: req(1), Offers: offers("password", pwd, "webauthn", bound), Order: order}, ask("password")},
		{"first login, the citizen chose a passkey",
			facts{Request: req(1), Chosen: "webauthn", Offers: offers("password", pwd, "webauthn", bound), Order: order}, ask("webauthn")},
		{"a choice that does not identify is ignored",
			facts{Request: req(1), Chosen: "totp", Offers: offers("password", pwd), Order: order}, ask("password")},
		{"single sign-on: a session good enough completes",
			facts{Request: req(1), Known: true, HasSession: true, Result: at(1, true, true), Offers: offers("password", pwd), Order: order}, complete()},
		{"prompt=none without a session",
			facts{Request: Request{MinLevel: 1, NoPrompt: true}, Offers: offers("password", pwd), Order: order}, fail(ErrLoginRequired)},
		{"prompt=none with a session too weak",
			facts{Request: Request{MinLevel: 2, NoPrompt: true}, Known: true, HasSession: true, Result: at(1, false, true),
				Offers: offers("password", pwd, "totp", app), Order: order}, fail(ErrInteractionRequired)},
		{"a disabled citizen's session counts as none: the password",
			facts{Request: req(1), Offers: offers("password", pwd), Order: order}, ask("password")},

		// Step-up: only what is missing.
		{"level 2 from a password session: only the code",
			facts{Request: req(2), Known: true, HasSession: true, Result: at(1, false, true),
				Offers: offers("password", pwd, "totp", app, "recovery", recovery), Order: order}, ask("totp")},
		{"level 2 after the first factor lapsed: the password first",
			facts{Request: req(2), Known: true, HasSession: true, Result: at(0, false, false),
				Offers: offers("password", pwd, "totp", app), Order: order}, ask("password")},
		{"level 2 with a synced passkey only: the passkey",
			facts{Request: req(2), Known: true, HasSession: true, Result: at(1, false, true),
				Offers: offers("password", pwd, "webauthn", synced), Order: order}, ask("webauthn")},
		{"level 3: a device-bound passkey, not the app",
			facts{Request: req(3), Known: true, HasSession: true, Result: at(2, false, true),
				Offers: offers("password", pwd, "totp", app, "webauthn", bound), Order: order}, ask("webauthn")},
		{"level 4: the certificate",
			facts{Request: req(4), Known: true, HasSession: true, Result: at(3, false, true),
				Offers: offers("password", pwd, "webauthn", bound, "certificate", cert), Order: order}, ask("certificate")},
		{"level 3 chosen certificate over the passkey",
			facts{Request: req(3), Known: true, Chosen: "certificate", Result: at(1, false, true),
				Offers: offers("password", pwd, "webauthn", bound, "certificate", cert), Order: order}, ask("certificate")},

		// Unmet.
		{"level 2 without any second factor",
			facts{Request: req(2), Known: true, HasSession: true, Result: at(1, false, true),
				Offers: offers("password", pwd, "recovery", recovery), Order: order}, fail(ErrUnmet)},
		{"level 3 with the app only",
			facts{Request: req(3), Known: true, HasSession: true, Result: at(2, false, true),
				Offers: offers("password", pwd, "totp", app), Order: order}, fail(ErrUnmet)},
		{"nobody known and no first factor at all",
			facts{Request: req(1), Offers: offers(), Order: order}, fail(ErrUnmet)},

		// A fresh login of a citizen with a second factor asks for it.
		{"fresh password login, app enrolled: the code",
			facts{Request: req(1), Known: true, FreshLogin: true, Result: at(1, true, true),
				Offers: offers("password", pwd, "totp", app), Order: order}, ask("totp")},
		{"fresh password login, passkey enrolled: the passkey",
			facts{Request: req(1), Known: true, FreshLogin: true, Result: at(1, true, true),
				Offers: offers("password", pwd, "webauthn", bound), Order: order}, ask("webauthn")},
		{"fresh login, the citizen turned the setting off",
			facts{Request: req(1), Known: true, FreshLogin: true, SkipSecondFactor: true, Result: at(1, true, true),
				Offers: offers("password", pwd, "totp", app), Order: order}, complete()},
		{"fresh login with only recovery codes left: never asked by itself",
			facts{Request: req(1), Known: true, FreshLogin: true, Result: at(1, true, true),
				Offers: offers("password", pwd, "recovery", recovery), Order: order}, complete()},
		{"fresh login already at level 2",
			facts{Request: req(1), Known: true, FreshLogin: true, Result: at(2, true, true),
				Offers: offers("password", pwd, "totp", app), Order: order}, complete()},

		// Recovery.
		{"after a recovery code: finish (the protocol gets what the password proved)",
			facts{Request: req(1), State: StateRecovered, Known: true, Result: at(1, true, true), Order: order}, complete()},
		{"recovery is never picked by decide, even when chosen: the app",
			facts{Request: req(2), State: "recovery", Known: true, Chosen: "recovery", Result: at(1, false, true),
				Offers: offers("password", pwd, "totp", app, "recovery", recovery), Order: order}, ask("totp")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decide(tt.f)
			if got.Next != tt.want.Next || got.Finish != tt.want.Finish || !errors.Is(got.Fail, tt.want.Fail) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

// The consent step: asked once the level is reached, when the request
// releases personal data that no stored consent covers.
func TestDecideConsent(t *testing.T) {
	profile := []release.Attribute{release.Name, release.Birthdate}
	req := func(mod func(*Request)) Request {
		r := Request{MinLevel: 1, Portal: "oidc:tax", Attributes: profile}
		if mod != nil {
			mod(&r)
		}
		return r
	}
	sso := func(r Request) facts {
		return facts{Request: r, Known: true, HasSession: true, Result: at(1, true, true), Offers: offers("password", pwd), Order: order}
	}
	with := func(f facts, mod func(*facts)) facts { mod(&f); return f }
	tests := []struct {
		name string
		f    facts
		want decision
	}{
		{"single sign-on, no consent: asked", sso(req(nil)), ask(StateConsent)},
		{"single sign-on, consent covers: complete", with(sso(req(nil)), func(f *facts) { f.ConsentCovered = true }), complete()},
		{"nothing released: never asked", sso(req(func(r *Request) { r.Attributes = nil })), complete()},
		{"prompt=consent: asked though covered",
			with(sso(req(func(r *Request) { r.ForceConsent = true })), func(f *facts) { f.ConsentCovered = true }), ask(StateConsent)},
		{"prompt=consent, approved in this transaction: complete",
			with(sso(req(func(r *Request) { r.ForceConsent = true })), func(f *facts) { f.State = StateConsent; f.Consented = true }), complete()},
		{"prompt=none, no consent: consent_required",
			sso(req(func(r *Request) { r.NoPrompt = true })), fail(ErrConsentRequired)},
		{"prompt=none, consent covers: complete",
			with(sso(req(func(r *Request) { r.NoPrompt = true })), func(f *facts) { f.ConsentCovered = true }), complete()},
		{"prompt=none without a session: login_required first",
			facts{Request: req(func(r *Request) { r.NoPrompt = true }), Offers: offers("password", pwd), Order: order}, fail(ErrLoginRequired)},
		{"prompt=none, session too weak: interaction_required first",
			with(sso(req(func(r *Request) { r.NoPrompt = true; r.MinLevel = 2 })), func(f *facts) { f.Result = at(1, false, true) }),
			fail(ErrInteractionRequired)},
		{"nobody known yet: the password before any consent",
			facts{Request: req(nil), Offers: offers("password", pwd), Order: order}, ask("password")},
		{"fresh password login: asked after the password",
			facts{Request: req(nil), State: "password", Known: true, FreshLogin: true, Result: at(1, true, true),
				Offers: offers("password", pwd), Order: order}, ask(StateConsent)},
		{"fresh login with an app: the code before the consent",
			facts{Request: req(nil), State: "password", Known: true, FreshLogin: true, Result: at(1, true, true),
				Offers: offers("password", pwd, "totp", app), Order: order}, ask("totp")},
		{"level not reached: the step-up before the consent",
			with(sso(req(func(r *Request) { r.MinLevel = 2 })), func(f *facts) {
				f.Result = at(1, false, true)
				f.Offers = offers("password", pwd, "totp", app)
			}), ask("totp")},
		{"after a recovery code: asked", with(sso(req(nil)), func(f *facts) { f.State = StateRecovered; f.HasSession = false }), ask(StateConsent)},
		{"approved: complete", with(sso(req(nil)), func(f *facts) { f.State = StateConsent; f.Consented = true }), complete()},
		{"legal basis, notice not yet shown: asked",
			sso(req(func(r *Request) { r.LegalBasis = "Luật Quản lý thuế" })), ask(StateConsent)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := decide(tt.f)
			if got.Next != tt.want.Next || got.Finish != tt.want.Finish || !errors.Is(got.Fail, tt.want.Fail) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func BenchmarkDecide(b *testing.B) {
	f := facts{Request: Request{MinLevel: 2}, Known: true, HasSession: true, Result: at(1, false, true),
		Offers: offers("password", pwd, "totp", app, "recovery", recovery, "webauthn", bound), Order: order}
	for b.Loop() {
		decide(f)
	}
}

// A protocol that nothing registered fails the start.
func TestCheckProtocols(t *testing.T) {
	e := New(Options{})
	e.Register("oidc", struct{ Protocol }{})
	if err := e.CheckProtocols("oidc", "saml"); err == nil || !strings.Contains(err.Error(), `"saml"`) || strings.Contains(err.Error(), `"oidc"`) {
		t.Errorf("got %v, want an error naming saml", err)
	}
}

// settled decides without the citizen's offers, and the flow loads them
// only when it cannot: whatever the offers would have been, decide must
// then come to the same decision. Every combination of the facts that
// steer it is tried with several sets of offers.
func TestSettledNeedsNoOffers(t *testing.T) {
	offerSets := []map[string]Offer{
		nil,
		offers("password", pwd),
		offers("password", pwd, "totp", app, "recovery", recovery),
		offers("password", pwd, "webauthn", synced),
		offers("password", pwd, "totp", app, "webauthn", bound, "certificate", cert),
	}
	attrs := []release.Attribute{release.Attribute("name")}
	var nSettled, nNot int
	for _, state := range []State{"", StateRecovered, "password", "totp"} {
		for _, chosen := range []State{"", "totp", "webauthn"} {
			for minLevel := assurance.Low; minLevel <= assurance.VeryHigh; minLevel++ {
				for level := assurance.Level(0); level <= assurance.VeryHigh; level++ {
					for bits := range 1 << 9 {
						has := func(i int) bool { return bits&(1<<i) != 0 }
						req := Request{MinLevel: minLevel, NoPrompt: has(0), ForceConsent: has(1)}
						if has(2) {
							req.Attributes = attrs
						}
						f := facts{Request: req, State: state, Chosen: chosen, Known: has(3), HasSession: has(4),
							Result:     assurance.Result{Level: level, Satisfied: level >= minLevel, NeedFirstFactor: has(5)},
							FreshLogin: has(6), SkipSecondFactor: has(7), ConsentCovered: has(8), Order: order}
						want, ok := settled(f)
						if !ok {
							nNot++
							continue
						}
						nSettled++
						for _, o := range offerSets {
							f.Offers = o
							got := decide(f)
							if got.Next != want.Next || got.Finish != want.Finish || !errors.Is(got.Fail, want.Fail) {
								t.Fatalf("facts %+v: settled without offers %+v, decide with them %+v", f, want, got)
							}
						}
					}
				}
			}
		}
	}
	if nSettled == 0 || nNot == 0 {
		t.Fatalf("settled %d, not settled %d combinations: the grid misses a side", nSettled, nNot)
	}
}
