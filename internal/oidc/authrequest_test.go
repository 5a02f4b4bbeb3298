package oidc

import (
	"context"
	"errors"
	"testing"
)

// Codes are bound only by Provider.Complete: the library's own way in
// (its /authorize/callback, not served) is refused should it ever be.
func TestSaveAuthCodeRefuses(t *testing.T) {
	var s storage
	if err := s.SaveAuthCode(context.Background(), "request-id", "code"); !errors.Is(err, errCodeOnCompletion) {
		t.Fatalf("SaveAuthCode: got %v, want %v", err, errCodeOnCompletion)
	}
}
