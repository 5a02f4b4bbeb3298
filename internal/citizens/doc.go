// Package citizens owns the rules of citizen accounts that every entry
// point shares (CLI, demo, console, the registration and recovery pages):
// what a valid citizen number is, structurally (number.go, with the
// province codes as data in provinces.tsv), how names, birthdates, email
// addresses and phone numbers are checked and normalised (contact.go),
// the parsers of the forms citizens fill in without an account
// (forms.go), and that an account and its password are written together
// (citizens.go).
//
// It does not authenticate anyone (internal/login, internal/authn), serve
// pages (internal/account) or send messages (internal/notify).
package citizens
