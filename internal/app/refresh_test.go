package app_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/store"
)

// A refresh grant reads the token and its citizen together, and the
// citizen's state still decides: a citizen disabled in the store (without
// the console, whose hook would also revoke the tokens) gets invalid_grant
// and keeps the token, which works again once they are enabled.
func TestRefreshRefusedWhileTheCitizenIsDisabled(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.addCitizen(t, testNumber, testPassword)
		secret := e.addClient(t, oidcSpec("portal", cbURL))
		conf := portalConf(e, "portal", secret, "offline_access")
		tok := loginFor(t, e, conf, stoppingBrowser(t))
		ctx := context.Background()
		c, err := e.Store.CitizenByNumber(ctx, testNumber)
		if err != nil {
			t.Fatal(err)
		}
		setDisabled := func(v bool) {
			t.Helper()
			if err := e.Store.UpdateCitizen(ctx, c.ID, func(c *store.Citizen) error { c.Disabled = v; return nil }); err != nil {
				t.Fatal(err)
			}
		}
		refresh := func() (*oauth2.Token, error) {
			return conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken, Expiry: time.Unix(1, 0)}).Token()
		}

		setDisabled(true)
		_, err = refresh()
		var re *oauth2.RetrieveError
		if !errors.As(err, &re) || re.ErrorCode != "invalid_grant" {
			t.Fatalf("refresh for a disabled citizen: got %v, want invalid_grant", err)
		}
		setDisabled(false)
		next, err := refresh()
		if err != nil || next.RefreshToken == "" || next.RefreshToken == tok.RefreshToken {
			t.Fatalf("refresh once enabled again: got %v, %v, want a new refresh token", next, err)
		}
	})
}
