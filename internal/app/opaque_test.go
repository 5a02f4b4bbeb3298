package app_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/store"
)

// A client registered for opaque access tokens gets a sealed reference,
// not a JWT: userinfo and introspection accept it (with acr and
// auth_time), a revocation ends it, and nothing in it is readable.
func TestOpaqueAccessTokens(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.addCitizen(t, testNumber, testPassword)
		secret := e.addClient(t, oidcSpec("portal", cbURL))
		if err := e.Store.UpdateClient(context.Background(), "portal", func(c *store.Client) error { c.AccessTokenFormat = store.AccessTokenOpaque; return nil }); err != nil {
			t.Fatal(err)
		}
		conf := portalConf(e, "portal", secret, "profile", "offline_access")
		tok := loginFor(t, e, conf, stoppingBrowser(t))
		// Not a JWT, and no part of it readable JSON. (Searching it for
		// "eyJ", the start of encoded JSON, also hit the random bytes of
		// the sealed reference now and then.)
		if strings.Count(tok.AccessToken, ".") == 2 || slices.ContainsFunc(strings.Split(tok.AccessToken, "."), func(part string) bool {
			b, err := base64.RawURLEncoding.DecodeString(part)
			return err == nil && json.Valid(b)
		}) {
			t.Fatalf("opaque access token looks like a JWT or holds readable JSON: %q", tok.AccessToken)
		}
		if got := userinfoStatus(t, e, tok.AccessToken); got != http.StatusOK {
			t.Errorf("userinfo with an opaque token: got %d, want 200", got)
		}
		st, in, _ := tokenPost(t, e.URL+"/oauth/introspect", url.Values{"token": {tok.AccessToken}}, [2]string{"portal", secret})
		if st != http.StatusOK || in["active"] != true || in["acr"] == nil || in["auth_time"] == nil || in["sub"] == nil || in["client_id"] != "portal" {
			t.Errorf("introspection of an opaque token: got %d %v", st, in)
		}
		// The ID token's at_hash covers the opaque token too.
		if _, c := jwtClaims(t, tok.Extra("id_token").(string)); c["at_hash"] == nil {
			t.Errorf("ID token without at_hash: %v", c)
		}
		// Refreshed: still opaque.
		next, err := conf.TokenSource(context.Background(), &oauth2.Token{RefreshToken: tok.RefreshToken}).Token()
		if err != nil || strings.Contains(next.AccessToken, "eyJ") || next.AccessToken == tok.AccessToken {
			t.Errorf("refresh: %v %.40q", err, next.AccessToken)
		}
		if st, _, _ := tokenPost(t, e.URL+"/revoke", url.Values{"token": {tok.AccessToken}}, [2]string{"portal", secret}); st != http.StatusOK {
			t.Fatalf("revoke: got %d", st)
		}
		if got := userinfoStatus(t, e, tok.AccessToken); got != http.StatusUnauthorized {
			t.Errorf("userinfo after the revocation: got %d, want 401", got)
		}
		if _, in, _ := tokenPost(t, e.URL+"/oauth/introspect", url.Values{"token": {tok.AccessToken}}, [2]string{"portal", secret}); in["active"] == true {
			t.Errorf("introspection after the revocation: %v", in)
		}
		// A forged or altered reference is nothing.
		forged := tok.AccessToken[:len(tok.AccessToken)-4] + "AAAA"
		if got := userinfoStatus(t, e, forged); got != http.StatusUnauthorized {
			t.Errorf("userinfo with an altered opaque token: got %d, want 401", got)
		}
	})
}
