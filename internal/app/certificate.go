package app

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/citizenid/citizenid/internal/authn/certificate"
	"github.com/citizenid/citizenid/internal/authn/certificate/trust"
	"github.com/citizenid/citizenid/internal/config"
	"github.com/citizenid/citizenid/internal/server"
)

// Certificate builds certificate login from the configuration (nil when
// disabled) and starts its background CRL downloads; Instance.Close stops
// them. The configuration must be valid.
func Certificate(cfg *config.Config, in *Instance, renderer *server.Renderer, log *slog.Logger, now func() time.Time) (*certificate.Authenticator, error) {
	cc := cfg.Certificate
	if !cc.Enabled {
		return nil, nil
	}
	set, err := trust.Load(trust.Options{Anchors: cc.Anchors, Intermediates: cc.Intermediates, CAs: cfg.CertificateCAs(), Now: now()})
	if err != nil {
		return nil, fmt.Errorf("certificate trust: %w", err)
	}
	profile := certificate.Profile{MinRSABits: cc.Profile.MinRSABits}
	for _, s := range cc.Profile.KeyUsage {
		ku, err := certificate.ParseKeyUsage(s)
		if err != nil {
			return nil, err
		}
		profile.KeyUsage = append(profile.KeyUsage, ku)
	}
	for _, s := range cc.Profile.Curves {
		c, err := certificate.ParseCurve(s)
		if err != nil {
			return nil, err
		}
		profile.Curves = append(profile.Curves, c)
	}
	r := cc.Revocation
	a, err := certificate.New(certificate.Options{
		Trust:     set,
		Profile:   profile,
		Attribute: cc.Mapping.Attribute,
		Pattern:   cc.Mapping.Pattern,
		Revocation: certificate.RevocationOptions{
			OCSPTimeout: r.OCSPTimeout, OCSPMaxAge: r.OCSPMaxAge, OCSPCacheMax: r.OCSPCacheMax, ClockSkew: r.ClockSkew,
			CRLRefresh: r.CRLRefresh, CRLTimeout: r.CRLTimeout, CRLMaxBytes: r.CRLMaxBytes,
			Transport: tracedTransport(in),
		},
		Store:        in.Store,
		Sessions:     in.Sessions,
		Audit:        in.Audit,
		Renderer:     renderer,
		Log:          log,
		Issuer:       cfg.Server.Issuer,
		ChallengeTTL: cc.ChallengeTTL,
		TLS: certificate.TLSOptions{
			URL: cc.TLS.URL, Listen: cc.TLS.Listen, CertFile: cc.TLS.CertFile, KeyFile: cc.TLS.KeyFile,
			TrustedProxies: cc.TLS.TrustedProxies, Header: cc.TLS.Header,
		},
		Now: now,
	})
	if err != nil {
		return nil, err
	}
	if in.CertificateTLS, err = a.TLSServer(); err != nil {
		return nil, err
	}
	a.Start()
	log.Info("certificate login enabled", "anchors", len(set.Anchors), "intermediates", len(set.Inters), "tls_listener", cc.TLS.URL)
	return a, nil
}

// tracedTransport carries OCSP and CRL fetches as spans when tracing is on.
func tracedTransport(in *Instance) http.RoundTripper {
	if in.Tracing == nil || !in.Tracing.Enabled() {
		return nil
	}
	return in.Tracing.Transport(nil, "revocation check")
}
