// Package ui owns what CitizenID says to people: the message catalogue,
// one directory per language under locales/ with one JSON file per
// feature that a translator edits without touching Go; the typed IDs Go
// code uses for its messages (ids.go); the check that every key a
// template or Go code names exists in every language; and durations in
// words. Loading refuses an incomplete catalogue, so a missing
// translation stops the start instead of showing an empty string.
//
// It does not render pages or negotiate the language of a request: the
// renderer in internal/server executes the templates with a Catalogue,
// and server.Locale picks the language.
package ui
