// Package sqlite opens CitizenID's embedded SQLite store: a name for
// sqlstore.OpenSQLite kept for the tests of other packages that open a
// store of their own.
//
// It owns nothing else; the store, its SQL and its SQLite settings live in
// internal/store/sqlstore.
package sqlite
