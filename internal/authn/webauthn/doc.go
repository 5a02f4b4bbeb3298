// Package webauthn is CitizenID's passkey and security-key authenticator
// (W3C Web Authentication). It is the phishing-resistant way in: a
// credential is bound to the relying party ID, so a look-alike site cannot
// use it.
//
// It owns:
//
//   - Registration (BeginRegistration, FinishRegistration): residentKey
//     "preferred", userVerification "required", attestation "none" unless
//     configured, the citizen's existing credentials excluded, a name the
//     citizen chooses. With an AAGUID allow-list only attested
//     authenticators of those models are accepted.
//   - Login (BeginLogin, FinishLogin): with the citizen's credentials
//     listed, or discoverable (passwordless, and the browser's passkey
//     autofill) when nobody is identified yet. userVerification is
//     "preferred": whether the citizen was verified is read from THIS
//     assertion's authenticator data, never from the credential record
//     (go-webauthn's Credential.Flags.UserVerified is latched at
//     registration).
//   - The level of a login (Login.Event), after DESIGN.md: user verified
//     and device-bound (backup-eligible flag off) → 3, amr hwk user mfa;
//     user verified and synced (backup eligible) → 2, amr swk user; not
//     verified → a second factor only (level 2 with a fresh password, amr
//     hwk or swk, the engine adds pwd and mfa).
//   - The signature counter: stored after every login in the same
//     transaction that compares it (store.WebAuthnCredentials Update). A
//     counter that does not move forward (unless the authenticator keeps
//     none: both zero) fails the login, flags the credential so it is never
//     accepted again, and is audited. go-webauthn only sets CloneWarning
//     and lets such a login through.
//   - Challenges: single use (Redis GETDEL through internal/session),
//     bound to the login transaction or to the citizen's registration,
//     expiring after Options.Timeout by the injected clock as well as by
//     Redis TTL (go-webauthn's SessionData.Expires stays zero unless its
//     timeouts are enforced, and then reads the wall clock).
//   - User handles: HMAC-SHA256 of the citizen ID under a key derived from
//     the master key, so an authenticator never holds the citizen's number
//     or internal ID and the handle needs no table.
//   - The login step (Method, a login.Method named "webauthn") and its page
//     data.
//
// It uses github.com/go-webauthn/webauthn for parsing and verifying
// ceremonies (origins, RP ID hash, challenge, signature, attestation). It
// does not own the account pages (internal/account), the browser code
// (web/webauthn.js), throttling and the choice of steps (internal/login),
// nor storage (store.WebAuthnCredentials, declared here as [Store]).
package webauthn
