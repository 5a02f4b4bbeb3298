// Package storetest is the conformance suite for store.Store: one set of
// tests, including concurrency cases, that every implementation passes.
// An implementation's test calls Run with a constructor for fresh stores.
//
// It owns what the contract in package store means in practice (error
// sentinels, ordering, paging, time precision, atomicity under contention);
// it owns no storage and no fakes.
package storetest
