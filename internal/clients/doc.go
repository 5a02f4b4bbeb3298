// Package clients owns the rules of an OIDC client (a portal): what an
// administrator may set on one (Spec), what makes a spec valid
// (Spec.Validate, one set of field errors), and registering and editing
// one (Create, Update). The CLI, the demo, the admin console and the admin
// API all go through it, so a client one path accepts the others accept
// too.
//
// It does not own how a client is used at runtime: redirect URI matching,
// client authentication and tokens are the OpenID Provider's
// (internal/oidc); who may call Create or Update is the caller's business
// (roles in internal/admin).
package clients
