package app_test

import (
	"net/http"
	"testing"

	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/config"
)

// Each signing algorithm, as keys.algorithm: zitadel's rp verifies the ID
// tokens (algorithms from discovery, keys from the JWKS), go-jose the
// access tokens; a client registered for RS256 keeps RS256 ID tokens;
// SAML keeps signing with RSA.
func TestSigningAlgorithms(t *testing.T) {
	for _, alg := range []string{"PS256", "ES256", "EdDSA"} {
		t.Run(alg, func(t *testing.T) {
			e := start(t, false, func(c *config.Config) { c.Keys.Algorithm = alg })
			e.addCitizen(t, testNumber, testPassword)
			var d struct {
				Algs []string `json:"id_token_signing_alg_values_supported"`
			}
			getJSON(t, e.URL+"/.well-known/openid-configuration", &d)
			if len(d.Algs) != 2 || d.Algs[0] != "RS256" || d.Algs[1] != alg {
				t.Errorf("id_token_signing_alg_values_supported: %v, want [RS256 %s]", d.Algs, alg)
			}
			for id, want := range map[string]string{"default-alg": alg, "rsa-portal": "RS256"} {
				p := newPortal(t, e, id, []string{zoidc.ScopeOpenID}, func(s *clients.Spec) {
					if want == "RS256" {
						s.IDTokenSignedResponseAlg = "RS256"
					}
				})
				tok := p.loginThrough(t, newBrowser(t), e, testNumber, testPassword)
				if h, _ := jwtClaims(t, tok.IDToken); h["alg"] != want {
					t.Errorf("%s: ID token alg %v, want %s", id, h["alg"], want)
				}
				if h, _ := jwtClaims(t, tok.AccessToken); h["alg"] != alg {
					t.Errorf("%s: access token alg %v, want the default %s", id, h["alg"], alg)
				}
				verifiedAccessToken(t, e, tok.AccessToken)
				if st := userinfoStatus(t, e, tok.AccessToken); st != http.StatusOK {
					t.Errorf("%s: userinfo got %d", id, st)
				}
			}
			resp, err := http.Get(e.URL + "/saml/metadata")
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("SAML metadata with keys.algorithm %s: got %d", alg, resp.StatusCode)
			}
		})
	}
}
