// Package login is the login flow engine. A protocol (OIDC, SAML, the
// account pages, the console) hands it a pending Request with the level it
// needs; the engine reuses the SSO session when it is good enough, or
// drives the citizen through the steps still missing in a login
// transaction kept in Redis, and then hands the completed session back to
// the protocol. Protocol code never talks to authenticators; the
// authenticators (Method: the password, the authenticator app, recovery
// codes, passkeys, certificates, each in its own package under
// internal/authn) never know which protocol asked, and this package
// imports none of them.
//
// Files: flow.go (Begin, the dispatcher advance, finish), decide.go (the
// pure decision), handlers.go (the login pages' HTTP), render.go (their
// view), sso.go (the SSO cookie and session), throttle.go (attempts,
// reserved before each check), browser.go (binding every step to the
// browser that started it), method.go (what a Method is), consent.go (the
// consent step: what covers a request, the page, storing an approval).
//
// A transaction's state is the name of the method whose page is shown,
// StateRecovered or StateConsent. Every step returns to the dispatcher, which loads the
// facts once (the citizen, each method's offer, what the session's and
// the transaction's events prove) and asks decide:
//
//	Begin ─ session good enough ─────────────────────────(consent)─► Complete
//	  │ prompt=none: no session → login_required; too weak → interaction_required;
//	  │ release not approved → consent_required
//	  ▼
//	nobody known ─► the chosen identifying method (passkey, certificate)
//	  │             or the first factor ("password")
//	  ▼ a method verified: its event joins the transaction
//	level reached? ─ yes: a fresh login of a citizen with a second factor
//	  │               asks for it ("totp", "webauthn"), else ─(consent)─► Complete
//	  no: only what is missing — a second factor after a fresh first
//	  │   factor; a method that reaches the level alone ("webauthn",
//	  │   "certificate"); the first factor when a second can follow it
//	  │ nothing reaches the level ─────────────────────────► Fail(unmet)
//	  ▼
//	"use another way": any method the citizen has; "recovery" (a code
//	instead of the app) ─► StateRecovered (set the app up again) ─(consent)─► Complete
//
//	(consent): when the request releases personal data (Request.Attributes)
//	that no stored consent of the citizen to the portal covers, or
//	prompt=consent: StateConsent ─ approve: stored, then ─► Complete
//	                              └ decline ─► Fail(ErrConsentDenied)
//	A portal with a legal basis gets a notice instead, shown once per set
//	of attributes and recorded the same way.
//
// Finishing takes the transaction (single use), records its events in the
// browser's session (a session of the same citizen is extended, so
// step-up keeps it) and answers the protocol.
package login
