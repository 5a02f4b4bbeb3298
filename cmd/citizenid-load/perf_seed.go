package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/xml"
	"fmt"
	"math/big"
	"net/url"
	"strings"
	"time"

	"github.com/crewjam/saml"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/authn/webauthn/webauthntest"
	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/config"
	citizensaml "github.com/citizenid/citizenid/internal/saml"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// Perf fixtures: the citizens, portals and passkeys the scenarios use.
const (
	perfPassword = "mật khẩu đo hiệu năng 2024"
	perfClient   = "perf-portal"
	perfOpaque   = "perf-portal-opaque" // the same portal with opaque access tokens
	perfAdmin    = "perf-api"
)

type fixtures struct {
	numbers []string // password citizens, round robin
	// passkeyNumbers: one citizen per worker with one passkey each (a
	// second passkey needs a step-up with the first; and a citizen with a
	// second factor must not take part in password logins).
	passkeyNumbers []string
	redirect       string
	secret         string // perfClient's
	opaqueSecret   string // perfOpaque's
	adminSecret    string // perfAdmin's (client_credentials)
	sp             *saml.ServiceProvider
	dev            *webauthntest.Authenticator // the driver's software authenticator
}

// seed creates n password citizens (n covers the live sessions the RSS
// phase makes, so no citizen's session index grows unrealistically), the
// passkey citizen, an OIDC portal (twice: JWT and opaque access tokens),
// an API client with admin scopes and a SAML service provider. Citizens
// share one hash made with the server's parameters: one argon2id run
// instead of n.
func seed(ctx context.Context, in *app.Instance, cfg config.Config, n, workers int, accessTokenFormat string) (*fixtures, error) {
	issuer := cfg.Server.Issuer
	fx := &fixtures{redirect: issuer + "/perf/callback"}
	hash, err := in.Hasher.Hash(perfPassword)
	if err != nil {
		return nil, err
	}
	n = max(n/4, 8) // a few sessions per citizen, as browsers and phones do
	for i := range n + workers {
		number := fmt.Sprintf("0790990%05d", i)
		if i < n {
			fx.numbers = append(fx.numbers, number)
		} else {
			fx.passkeyNumbers = append(fx.passkeyNumbers, number)
		}
		c := &store.Citizen{ID: session.RandomToken(16), Number: number, Name: fmt.Sprintf("Công dân %d", i), IdentityLevel: 1}
		if err := in.Store.CreateCitizen(ctx, c, hash); err != nil {
			return nil, fmt.Errorf("citizen %s: %w", number, err)
		}
	}
	portal := clients.Spec{ID: perfClient, Name: "Perf portal", RedirectURIs: []string{fx.redirect}, AccessTokenFormat: accessTokenFormat}
	if _, fx.secret, err = clients.Create(ctx, in.Store, portal); err != nil {
		return nil, err
	}
	opaque := clients.Spec{ID: perfOpaque, Name: "Perf portal (opaque access tokens)", RedirectURIs: []string{fx.redirect}, AccessTokenFormat: "opaque"}
	if _, fx.opaqueSecret, err = clients.Create(ctx, in.Store, opaque); err != nil {
		return nil, err
	}
	if _, fx.adminSecret, err = clients.Create(ctx, in.Store, clients.Spec{ID: perfAdmin, Name: "Perf API", RedirectURIs: []string{fx.redirect}}); err != nil {
		return nil, err
	}
	if err := in.Store.UpdateClient(ctx, perfAdmin, func(c *store.Client) error {
		c.AdminScopes = []string{"admin:read"}
		return nil
	}); err != nil {
		return nil, err
	}
	if fx.sp, err = newSP(issuer); err != nil {
		return nil, err
	}
	md, err := xml.Marshal(fx.sp.Metadata())
	if err != nil {
		return nil, err
	}
	if _, err := citizensaml.Register(ctx, in.Store, citizensaml.SPSpec{MetadataXML: md, Name: "Perf SP", Attributes: []string{}}); err != nil {
		return nil, fmt.Errorf("register SAML SP: %w", err)
	}
	return fx, nil
}

// newSP is a SAML service provider on a loopback URL that is never
// contacted: the driver reads the response form instead of posting it.
func newSP(issuer string) (*saml.ServiceProvider, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "perf-sp"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	root, _ := url.Parse(strings.TrimSuffix(issuer, "/") + "/perf-sp")
	sp := &saml.ServiceProvider{
		EntityID: root.String() + "/metadata", Key: key, Certificate: cert,
		MetadataURL: *root.JoinPath("metadata"), AcsURL: *root.JoinPath("acs"), SloURL: *root.JoinPath("slo"),
		AuthnNameIDFormat: saml.UnspecifiedNameIDFormat,
	}
	return sp, nil
}
