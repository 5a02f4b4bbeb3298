// Package clientkeys owns a portal's public keys: the JSON Web Key Set an
// administrator registers for a client (private_key_jwt client assertions,
// signed request objects), or the jwks_uri the server fetches it from.
//
// It parses and checks a key set (public, asymmetric signing keys only: a
// private key pasted by mistake is refused, never stored), and fetches a
// jwks_uri with a timeout, a size limit, no redirects, caching by
// Cache-Control and at most one re-fetch a minute for an unknown key id.
// It does not decide what a key may verify; internal/oidc does.
package clientkeys
