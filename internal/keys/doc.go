// Package keys owns CitizenID's key material: the master key that seals
// secrets at rest, and the lifecycle of the keys that sign tokens and
// assertions.
//
// # Secrets at rest
//
// A [Sealer] encrypts small secrets (TOTP seeds, signing private keys) with
// AES-256-GCM under the 32-byte master key (the key-encryption key of
// DESIGN.md). A sealed value is
//
//	version (1 byte, = 1) ‖ nonce (12 random bytes) ‖ ciphertext ‖ GCM tag (16 bytes)
//
// and is bound to associated data chosen by the caller, typically the row's
// identity, so that a sealed value copied into another row does not open.
// The master key comes from configuration or the environment
// ([ParseMasterKey]); only embedded/dev mode creates one in a file
// ([LoadOrCreateMasterKeyFile]).
//
// # Signing keys
//
// A [Manager] keeps signing keys in store.SigningKeys, one lifecycle per
// algorithm it is configured for (Options.Algorithms): RS256 always (SAML
// signs with it, and every OIDC client can verify it), and any of PS256,
// ES256 (P-256) and EdDSA (Ed25519). A key signs under one algorithm only;
// RS256 and PS256 have RSA keys of their own. Within an algorithm each key
// is in one state:
//
//	          Ensure/Rotate            Rotate                  Rotate
//	(new) ───────────────► next ─────────────► active ─────────────► retired ──► (deleted)
//	                        │                                        ▲  after VerifyUntil,
//	                        └──────────────── Retire ────────────────┘  at the next Rotate
//
// Every key is created as "next" and published in the JWKS for a whole
// rotation period before it signs, so relying parties that cache the JWKS
// already know it when the first token signed with it arrives. A retired key
// is still published until VerifyUntil, long enough for every token it
// signed to expire. The private key is stored as PKCS#8 sealed with the
// master key, the key ID as associated data.
//
// The key ID (kid) is the RFC 7638 JWK thumbprint of the public key
// (SHA-256, base64url without padding): it is derived from the key itself,
// so it cannot name two different keys, anyone can recompute it, and
// verifying that a decrypted private key belongs to its row is one
// comparison.
//
// Every algorithm has exactly one active key and at least one next key;
// Ensure creates what is missing, Rotate rotates every algorithm at once
// (RotateFor some of them), and a full rotation retires the keys of an
// algorithm no longer configured. [Manager.Published] lists the keys of
// every algorithm in an order that depends on the store only, so
// [KeySetTag] names the same set identically on every node.
//
// Several server nodes and the CLI share the store; every change goes
// through the store's serialised UpdateSigningKeys, and each Manager caches
// what it read only for a short time (Options.CacheTTL).
//
// This package does not build JWTs, JWKS documents or SAML metadata
// (internal/oidc, internal/saml do, from [Manager.Signing],
// [Manager.SigningFor] and [Manager.Published]), does not choose which
// algorithm a token is signed with (it reports the configured default,
// [Manager.DefaultAlgorithm]), and does not schedule rotations: an operator or a
// timer calls Rotate.
package keys
