// Package app opens what a CitizenID process needs from a configuration:
// the store (PostgreSQL or the embedded SQLite), Redis (a server or the
// embedded one), the master key and the signing keys. The cmd package wires
// it; serve assembles the HTTP server from it. It holds no request logic.
package app
