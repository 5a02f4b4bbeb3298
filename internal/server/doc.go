// Package server assembles CitizenID's HTTP side: the mux each feature
// mounts on, middleware (request IDs, security headers, access log, client
// address behind trusted proxies, cross-origin protection for forms), page
// rendering with the message catalogue (Vietnamese first, English second),
// static assets, health endpoints and graceful shutdown. It holds no login or
// protocol logic.
package server
