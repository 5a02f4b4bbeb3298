// Package login is the login flow engine. A protocol (OIDC, later SAML)
// hands it a pending Request with the level it needs; the engine reuses the
// SSO session when it is good enough, or drives the citizen through the
// steps still missing in a login transaction kept in Redis, and then hands
// the completed session back to the protocol. Protocol code never talks to
// authenticators, and authenticators never know which protocol asked.
//
// States of a login transaction (state.go lists them). Every step returns
// to one dispatcher (Engine.advance), which evaluates the session's events
// against the request with assurance.Evaluate and picks the next state:
//
//	Begin ──session good enough───────────────────────────────► protocol.Complete
//	  │ prompt=none: no session → login_required; too low → interaction_required
//	  │ the citizen has nothing that reaches the level ──────► protocol.Fail(unmet)
//	  ▼
//	StatePassword ─(first factor missing or stale)
//	  │ right password            ─wrong/throttled─► same page, error
//	  ▼
//	StateTOTP ─(level 2 needed, or a fresh login of a citizen with a second factor)
//	  │ right code                ─"use a recovery code"─► StateRecovery
//	  │                                                   │ right code: app removed
//	  │                                                   ▼
//	  │                                              StateRecovered (re-enrol notice)
//	  ▼                                                   │
//	done: session created or extended (step-up keeps it) ◄┘──► protocol.Complete
//	      or, if the level is still not reached ──────────────► protocol.Fail(unmet)
package login
