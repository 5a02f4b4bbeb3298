// Package totp is CitizenID's time-based one-time-password authenticator
// (RFC 6238): the second factor that, with a password, reaches level 2
// (amr "otp").
//
// It owns:
//
//   - Enrolment: a fresh 160-bit secret per attempt, sealed with the master
//     key (keys.Sealer, associated data "citizenid totp:<citizen ID>";
//     plaintext: the 20-byte secret, then the account name shown in the app)
//     before it reaches the store, shown to the citizen as base32 text, an
//     otpauth:// URL and a QR code rendered on the server. The credential
//     counts only once the citizen confirms it with a valid code; until then
//     the enrolment can be shown again, after that never.
//   - Verification: SHA-1, 6 digits, 30-second steps, one step of clock skew
//     either way, codes compared in constant time. The accepted step is
//     recorded in the same transaction that checks it (store.TOTPs
//     UpdateTOTP), so a code, or any code of an earlier step, works once:
//     across requests, goroutines and nodes.
//   - Recovery codes: ten single-use codes handed out at confirmation,
//     stored only as HMAC-SHA256(recovery key, citizen ID ‖ 0 ‖ code).
//
// It uses github.com/pquerna/otp for the RFC 6238 arithmetic only: that
// library's Validate returns a bool without the matched step and accepts
// the same code twice, so matching and replay protection are done here.
//
// It does not own throttling of guesses (internal/session counters), the
// login step and its pages (internal/login), the policy of when a second
// factor is asked or what a recovery code lets the citizen do
// (internal/assurance, internal/login), nor storage (store.TOTPs and
// store.RecoveryCodes, declared here as [Store]).
package totp
