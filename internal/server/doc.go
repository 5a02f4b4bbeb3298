// Package server assembles CitizenID's HTTP side: the mux each feature
// mounts on, middleware (request IDs, security headers, access log, client
// address behind trusted proxies, cross-origin protection for forms),
// static assets, health endpoints and graceful shutdown. It owns the one
// page renderer every feature uses (citizen pages, the admin console, SAML's
// forms), which executes templates/ with the message catalogue of
// internal/ui and refuses to start when a template names a key a language
// lacks, and the negotiation of a request's language (Locale). It holds no
// login or protocol logic, and no message texts: those live in
// internal/ui/locales.
package server
