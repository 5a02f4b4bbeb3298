package login

import (
	"github.com/citizenid/citizenid/internal/assurance"
)

// facts are what decide needs, loaded once per request by the flow.
type facts struct {
	Request Request
	// State is the transaction's state; "" when a protocol request has
	// just arrived (Begin).
	State  State
	Chosen State // a method the citizen picked, or ""
	// Known: the transaction's citizen is identified.
	Known bool
	// HasSession: the browser has a usable session of this citizen.
	HasSession bool
	// Result is what the session's and the transaction's events prove
	// for the request.
	Result           assurance.Result
	FreshLogin       bool // a first factor was given in this transaction
	SkipSecondFactor bool // the citizen's setting
	// Offers are the available methods of the citizen (of anyone, the
	// identifying ones, when not Known), by name; Order is the methods'
	// order of preference.
	Offers map[string]Offer
	Order  []string
	// ConsentCovered: a stored consent (or legal-basis notice) covers
	// what the request releases. Consented: the citizen approved it in
	// this transaction.
	ConsentCovered bool
	Consented      bool
}

// consentMissing reports whether the request releases personal data the
// citizen has not approved (or, prompt=consent, not approved just now).
func (f facts) consentMissing() bool {
	if len(f.Request.Attributes) == 0 || f.Consented {
		return false
	}
	return f.Request.ForceConsent || !f.ConsentCovered
}

// done completes, unless the release still needs the citizen's consent.
func (f facts) done() decision {
	if f.consentMissing() {
		return ask(StateConsent)
	}
	return complete()
}

// decision is what to do next: ask for Next, or finish (Fail nil:
// complete the protocol request; else answer it with Fail). Finishing
// records the transaction's events in the session first, if it has any.
type decision struct {
	Next   State
	Finish bool
	Fail   error
}

func ask(s State) decision       { return decision{Next: s} }
func complete() decision         { return decision{Finish: true} }
func fail(reason error) decision { return decision{Finish: true, Fail: reason} }

// decide picks the next step of a login from its facts. It is pure: no
// I/O, no clock (the clock is in Result).
//
// The rules, in order:
//   - after a recovery notice: finish;
//   - a request that just arrived with a session good enough: complete;
//     with prompt=none and anything missing: login_required (no session)
//     or interaction_required (a session too weak), then consent_required
//     (a good session, the release not approved);
//   - every "complete" below first asks for consent when the request
//     releases personal data no stored consent covers (or prompt=consent
//     and not approved in this transaction);
//   - nobody identified yet: the method the citizen chose among the
//     identifying ones, else the first factor (the password);
//   - the level is reached: on a fresh login of a citizen with a second
//     factor (and the setting on), ask for it; else complete;
//   - otherwise ask only for what is missing: a second factor that
//     completes the level after a fresh first factor; a method that
//     reaches the level alone (a device-bound passkey, a certificate);
//     the first factor when a second factor can follow it;
//   - nothing can reach the level: unmet_authentication_requirements
//     (after recording what this transaction proved, if anything).
func decide(f facts) decision {
	if d, ok := settled(f); ok {
		return d
	}
	if !f.Known {
		if o, ok := f.Offers[string(f.Chosen)]; ok && o.Identifies {
			return ask(f.Chosen)
		}
		if first := f.pick("", Offer.firstFactor); first != "" {
			return ask(first)
		}
		return fail(ErrUnmet)
	}
	res, want := f.Result, max(f.Request.MinLevel, assurance.Low)
	if res.Satisfied { // and f.asksSecondFactor(), else settled
		if m := f.pick(f.Chosen, func(o Offer) bool { return !o.Recovery && o.Level >= assurance.Substantial }); m != "" {
			return ask(m)
		}
		return f.done()
	}
	firstFresh := !res.NeedFirstFactor && want <= assurance.Substantial
	// A second factor that completes the level now.
	if firstFresh {
		if m := f.pick(f.Chosen, func(o Offer) bool { return o.SecondFactor && !o.Recovery && o.Level >= want }); m != "" {
			return ask(m)
		}
	}
	// A method that reaches the level alone.
	if m := f.pick(f.Chosen, func(o Offer) bool {
		return !o.SecondFactor && !o.firstFactor() && !o.Recovery && o.Level >= want
	}); m != "" {
		return ask(m)
	}
	// The first factor, then a second factor.
	if !firstFresh && want <= assurance.Substantial {
		second := f.pick("", func(o Offer) bool { return o.SecondFactor && !o.Recovery && o.Level >= want })
		if first := f.pick("", Offer.firstFactor); first != "" && (second != "" || want == assurance.Low) {
			return ask(first)
		}
	}
	return fail(ErrUnmet)
}

// settled is what decide decides without the citizen's offers: after a
// recovery notice, a request answered from its session or refused for
// prompt=none, and a known citizen whose level is reached with no second
// factor to ask for. The flow loads the offers (a query or two per
// method) only when it is not settled: a login that reaches its level,
// and a single sign-on from a good session, look up no authenticators.
func settled(f facts) (decision, bool) {
	if f.State == StateRecovered {
		return f.done(), true
	}
	if f.State == "" {
		if f.HasSession && f.Result.Satisfied {
			if f.Request.NoPrompt && f.consentMissing() {
				return fail(ErrConsentRequired), true
			}
			return f.done(), true
		}
		if f.Request.NoPrompt {
			if !f.HasSession {
				return fail(ErrLoginRequired), true
			}
			return fail(ErrInteractionRequired), true
		}
	}
	if f.Known && f.Result.Satisfied && !f.asksSecondFactor() {
		return f.done(), true
	}
	return decision{}, false
}

// asksSecondFactor: a fresh login whose level is below substantial asks
// a citizen who has a second factor for it, unless they turned it off.
func (f facts) asksSecondFactor() bool {
	return f.FreshLogin && f.Result.Level < assurance.Substantial && !f.SkipSecondFactor
}

// pick returns chosen if its offer fits, else the first method in order
// whose offer fits, else "".
func (f facts) pick(chosen State, fits func(Offer) bool) State {
	if o, ok := f.Offers[string(chosen)]; ok && fits(o) {
		return chosen
	}
	for _, n := range f.Order {
		if o, ok := f.Offers[n]; ok && fits(o) {
			return State(n)
		}
	}
	return ""
}
