// Package password hashes and checks citizens' passwords.
//
// It owns three things:
//
//   - Hashing: argon2id (RFC 9106) encoded as a PHC string,
//     "$argon2id$v=19$m=<KiB>,t=<passes>,p=<lanes>$<salt>$<key>" with
//     unpadded standard base64. [Hasher.Verify] compares in constant time,
//     reports when a stored hash was made with other parameters than the
//     configured ones (rehash on login), and refuses stored parameters beyond
//     fixed bounds so that a corrupt or hostile row cannot make the server
//     allocate gigabytes or spin for minutes.
//   - Hiding whether a citizen exists: [Hasher.VerifyDummy] costs what a real
//     verification costs, for logins naming an unknown citizen.
//   - The rules a new password must meet, after NIST SP 800-63B: at least 8
//     and at most 128 characters, no composition rules, not on a blocklist
//     of common passwords, not one character repeated ([Check]).
//
// It does not own storage of the hashes (store.Passwords), throttling of
// guesses (internal/session counters), or the login step that calls it
// (internal/login).
package password
