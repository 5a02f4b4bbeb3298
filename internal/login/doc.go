// Package login is the login flow engine. A protocol (OIDC, later SAML)
// hands it a pending Request with the level it needs; the engine reuses the
// SSO session when it is good enough, or drives the citizen through the
// steps still missing in a login transaction kept in Redis, and then hands
// the completed session back to the protocol. Protocol code never talks to
// authenticators, and authenticators never know which protocol asked.
//
// States of a login transaction (state.go lists them):
//
//	Begin ──session good enough──────────────────────────► protocol.Complete
//	  │ prompt=none and no usable session ───────────────► protocol.Fail(login_required)
//	  ▼
//	StatePassword ──wrong / throttled──► StatePassword (same page, error)
//	  │ right
//	  ▼
//	StateDone ── session created or extended ───────────► protocol.Complete
package login
