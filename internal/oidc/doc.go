// Package oidc is CitizenID's OpenID Provider: the glue between
// zitadel/oidc's op package and CitizenID's stores, sessions, keys and
// login engine. It owns what the library leaves to us: S256-only PKCE,
// single-use codes whose replay revokes what they issued, prompt/max_age
// enforcement, pairwise subjects, acr/amr/sid that survive refresh,
// refresh-token rotation with reuse detection, access-token revocation,
// claims by scope, and RP-initiated logout that ends the SSO session.
//
// It does not render login pages or check passwords: see internal/login.
package oidc
