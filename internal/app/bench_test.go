package app_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/crypto"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/clients"
)

// benchTokenEndpoint logs in once, then measures the token endpoint.
func benchTokenEndpoint(b *testing.B, production bool) {
	e := start(b, production, nil)
	e.addCitizen(b, testNumber, testPassword)
	secret := e.addClient(b, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
	conf := &oauth2.Config{ClientID: "portal", ClientSecret: secret, RedirectURL: cbURL,
		Endpoint: oauth2.Endpoint{AuthURL: e.URL + "/authorize", TokenURL: e.URL + "/oauth/token"},
		Scopes:   []string{"openid", "profile", "offline_access"}}
	br := newBrowser(b)
	br.stop = func(u *url.URL) bool { return strings.HasPrefix(u.String(), cbURL) }
	ctx := context.Background()

	code := func(first bool) (string, string) {
		v := oauth2.GenerateVerifier()
		pg := br.get(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v)))
		if first {
			pg = br.login(e.URL, pg, testNumber, testPassword)
		}
		u, _ := url.Parse(pg.header.Get("Location"))
		return u.Query().Get("code"), v
	}
	c, v := code(true)
	tok, err := conf.Exchange(ctx, c, oauth2.VerifierOption(v))
	if err != nil {
		b.Fatal(err)
	}

	b.Run("CodeExchange", func(b *testing.B) {
		for b.Loop() {
			b.StopTimer()
			c, v := code(false)
			b.StartTimer()
			if _, err := conf.Exchange(ctx, c, oauth2.VerifierOption(v)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Refresh", func(b *testing.B) {
		rt := tok.RefreshToken
		for b.Loop() {
			next, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Unix(1, 0)}).Token()
			if err != nil {
				b.Fatal(err)
			}
			rt = next.RefreshToken
		}
	})
}

func BenchmarkTokenEndpointEmbedded(b *testing.B) { benchTokenEndpoint(b, false) }
func BenchmarkTokenEndpointPostgres(b *testing.B) { benchTokenEndpoint(b, true) }

func BenchmarkIDTokenSigning(b *testing.B) {
	e := start(b, false, nil)
	ctx := context.Background()
	claims := zoidc.NewIDTokenClaims(e.URL, "pairwise-subject", []string{"portal"}, time.Now().Add(10*time.Minute),
		time.Now(), "nonce", "urn:citizenid:loa:1", []string{"pwd"}, "portal", 0)
	for b.Loop() {
		k, err := e.Keys.Signing(ctx)
		if err != nil {
			b.Fatal(err)
		}
		signer, err := op.SignerFromKey(signingKey{k.ID, k.Signer})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := crypto.Sign(claims, signer); err != nil {
			b.Fatal(err)
		}
	}
}

type signingKey struct {
	id  string
	key any
}

func (k signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k signingKey) Key() any                                    { return k.key }
func (k signingKey) ID() string                                  { return k.id }

// benchLoginFlow measures the login engine end to end over HTTP: a whole
// password login (authorize → form → code, argon2id at the tests' cheap
// parameters) and single sign-on (authorize with a session → code).
func benchLoginFlow(b *testing.B, production bool) {
	e := start(b, production, nil)
	e.addCitizen(b, testNumber, testPassword)
	e.addClient(b, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
	stop := func(u *url.URL) bool { return strings.HasPrefix(u.String(), cbURL) }
	authURL := func() string {
		v := oauth2.GenerateVerifier()
		return e.URL + "/authorize?" + url.Values{"client_id": {"portal"}, "redirect_uri": {cbURL}, "response_type": {"code"},
			"scope": {"openid"}, "state": {"s"}, "code_challenge": {oauth2.S256ChallengeFromVerifier(v)},
			"code_challenge_method": {"S256"}}.Encode()
	}
	wantCode := func(b *testing.B, pg page) {
		if !strings.Contains(pg.header.Get("Location"), "code=") {
			b.Fatalf("no code: %d %s", pg.status, pg.header.Get("Location"))
		}
	}
	b.Run("PasswordLogin", func(b *testing.B) {
		for b.Loop() {
			br := newBrowser(b)
			br.stop = stop
			wantCode(b, br.login(e.URL, br.get(authURL()), testNumber, testPassword))
		}
	})
	b.Run("SSOAuthorize", func(b *testing.B) {
		br := newBrowser(b)
		br.stop = stop
		wantCode(b, br.login(e.URL, br.get(authURL()), testNumber, testPassword))
		for b.Loop() {
			wantCode(b, br.get(authURL()))
		}
	})
}

func BenchmarkLoginFlowEmbedded(b *testing.B) { benchLoginFlow(b, false) }
func BenchmarkLoginFlowPostgres(b *testing.B) { benchLoginFlow(b, true) }
