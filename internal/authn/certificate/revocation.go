package certificate

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ocsp"

	"github.com/citizenid/citizenid/internal/authn/certificate/trust"
	"github.com/citizenid/citizenid/internal/session"
)

// Cache is where OCSP answers are cached: Redis, shared by every node.
type Cache = *session.Store

// RevocationOptions configures revocation checking. Zero durations take
// the defaults in parentheses.
type RevocationOptions struct {
	// Transport, when set, carries the OCSP and CRL requests of the
	// default client (tracing wraps it).
	Transport http.RoundTripper
	// OCSPTimeout bounds all OCSP requests of one check together (3s).
	OCSPTimeout time.Duration
	// OCSPMaxAge is how old an answer without nextUpdate may be (1h).
	OCSPMaxAge time.Duration
	// OCSPCacheMax caps how long an answer is cached, even when its
	// nextUpdate is later (24h).
	OCSPCacheMax time.Duration
	// ClockSkew is tolerated between us and the responders (1m).
	ClockSkew time.Duration
	// CRLRefresh is how often CRLs are downloaded at most (1h); sooner when
	// a CRL's nextUpdate comes first.
	CRLRefresh time.Duration
	// CRLTimeout bounds one CRL download (30s).
	CRLTimeout time.Duration
	// CRLMaxBytes bounds one CRL (64 MiB).
	CRLMaxBytes int64
}

func (o *RevocationOptions) defaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.OCSPTimeout, 3*time.Second)
	def(&o.OCSPMaxAge, time.Hour)
	def(&o.OCSPCacheMax, 24*time.Hour)
	def(&o.ClockSkew, time.Minute)
	def(&o.CRLRefresh, time.Hour)
	def(&o.CRLTimeout, 30*time.Second)
	if o.CRLMaxBytes <= 0 {
		o.CRLMaxBytes = 64 << 20
	}
}

// Evidence is what a revocation check found, for the audit log.
type Evidence struct {
	Policy string
	// Source of the verdict: "ocsp", "ocsp-cache" or "crl"; empty when
	// nothing answered.
	Source     string
	Status     string // good, revoked, unknown
	OCSPURL    string
	Responder  string // issuer or delegated
	Nonce      string // matched, absent
	ThisUpdate time.Time
	NextUpdate time.Time
	ProducedAt time.Time
	RevokedAt  time.Time
	OCSPError  string
	CRLURL     string
	CRLNumber  string
	CRLNext    time.Time
	CRLError   string
}

// Details flattens the evidence for an audit event.
func (e Evidence) Details(d map[string]string) {
	set := func(k, v string) {
		if v != "" {
			d[k] = v
		}
	}
	ts := func(k string, t time.Time) {
		if !t.IsZero() {
			d[k] = t.UTC().Format(time.RFC3339)
		}
	}
	set("revocation_policy", e.Policy)
	set("revocation_source", e.Source)
	set("revocation_status", e.Status)
	set("ocsp_url", e.OCSPURL)
	set("ocsp_responder", e.Responder)
	set("ocsp_nonce", e.Nonce)
	ts("ocsp_this_update", e.ThisUpdate)
	ts("ocsp_next_update", e.NextUpdate)
	ts("ocsp_produced_at", e.ProducedAt)
	ts("revoked_at", e.RevokedAt)
	set("ocsp_error", e.OCSPError)
	set("crl_url", e.CRLURL)
	set("crl_number", e.CRLNumber)
	ts("crl_next_update", e.CRLNext)
	set("crl_error", e.CRLError)
}

// Revocation checks certificates against OCSP responders and CRLs.
type Revocation struct {
	o      RevocationOptions
	client *http.Client
	cache  Cache
	crls   *crlCache
	now    func() time.Time
	log    *slog.Logger

	stop func()
	done sync.WaitGroup
}

// NewRevocation returns a checker; client nil means a client with no
// redirects to other schemes and the configured timeouts.
func NewRevocation(o RevocationOptions, client *http.Client, cache Cache, now func() time.Time, log *slog.Logger) *Revocation {
	o.defaults()
	if client == nil {
		client = &http.Client{
			Timeout: max(o.OCSPTimeout, o.CRLTimeout),
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				if len(via) >= 3 || (req.URL.Scheme != "http" && req.URL.Scheme != "https") {
					return http.ErrUseLastResponse
				}
				return nil
			},
			Transport: o.Transport,
		}
	}
	if now == nil {
		now = time.Now
	}
	return &Revocation{o: o, client: client, cache: cache, now: now, log: log,
		crls: newCRLCache(client, o.CRLRefresh, o.CRLTimeout, o.ClockSkew, o.CRLMaxBytes, now, log)}
}

// Start downloads the CRLs of the configured CAs in the background and
// keeps them fresh until Close.
func (rv *Revocation) Start(set *trust.Set) {
	for ca, p := range set.CAPolicies() {
		for _, u := range p.CRLURLs {
			rv.crls.register(u, ca)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	rv.stop = cancel
	rv.done.Add(1)
	go func() {
		defer rv.done.Done()
		rv.crls.run(ctx)
	}()
}

// Close stops the background downloads.
func (rv *Revocation) Close() {
	if rv.stop != nil {
		rv.stop()
		rv.done.Wait()
	}
}

// RefreshCRLs downloads every known CRL now and waits for it.
func (rv *Revocation) RefreshCRLs(ctx context.Context) { rv.crls.refreshAll(ctx) }

var kindOCSP = session.NewBucket[cachedOCSP]("ocsp")

// Check decides whether leaf, issued by issuer, is revoked, under the CA's
// policy. It fails closed: when no source can vouch for the certificate it
// refuses, with Citizen false.
func (rv *Revocation) Check(ctx context.Context, leaf, issuer *x509.Certificate, p trust.Policy) (Evidence, *Refusal) {
	ev := Evidence{Policy: p.Revocation}
	crlURLs := slices.Concat(p.CRLURLs, leaf.CRLDistributionPoints)
	for _, u := range leaf.CRLDistributionPoints {
		rv.crls.register(u, issuer)
	}
	crl, crlErr := rv.crls.lookup(leaf, issuer, crlURLs)
	if crl != nil {
		ev.CRLURL, ev.CRLNumber, ev.CRLNext = crl.URL, crl.Number, crl.NextUpdate
	} else {
		ev.CRLError = crlErr.Error()
	}
	// A fresh CRL that lists the certificate settles it, whatever the policy.
	if crl != nil && crl.Revoked {
		ev.Source, ev.Status, ev.RevokedAt = "crl", "revoked", crl.RevokedAt
		return ev, refuse(msgRevoked, "certificate revoked (CRL %s)", crl.URL)
	}

	ans, err := rv.ocsp(ctx, leaf, issuer, p, &ev)
	if err == nil {
		ev.Status = statusName(ans.Status)
		ev.ThisUpdate, ev.NextUpdate, ev.ProducedAt, ev.Nonce, ev.Responder = ans.ThisUpdate, ans.NextUpdate, ans.ProducedAt, ans.Nonce, ans.Responder
		switch ans.Status {
		case ocsp.Revoked:
			ev.RevokedAt = ans.RevokedAt
			return ev, refuse(msgRevoked, "certificate revoked (OCSP)")
		case ocsp.Unknown:
			return ev, refuse(msgRevoked, "OCSP responder does not know the certificate (status unknown)")
		}
	} else {
		ev.OCSPError = err.Error()
		ev.Source = ""
	}

	switch p.Revocation {
	case trust.OCSPOnly:
		if err != nil {
			return ev, unavailable("OCSP required by the CA's policy did not answer: %v", err)
		}
	case trust.OCSPAndCRL:
		if err != nil {
			return ev, unavailable("OCSP required by the CA's policy did not answer: %v", err)
		}
		if crl == nil {
			return ev, unavailable("a fresh CRL required by the CA's policy is not available: %v", crlErr)
		}
	default: // trust.OCSPOrCRL
		if err != nil {
			if crl == nil {
				return ev, unavailable("neither OCSP (%v) nor a CRL (%v) can vouch for the certificate", err, crlErr)
			}
			ev.Source, ev.Status = "crl", "good"
		}
	}
	return ev, nil
}

func unavailable(format string, args ...any) *Refusal {
	r := refuse(msgUnavailable, "revocation status unavailable: "+format, args...)
	r.Citizen = false
	return r
}

func statusName(s int) string {
	switch s {
	case ocsp.Good:
		return "good"
	case ocsp.Revoked:
		return "revoked"
	}
	return "unknown"
}

// cachedOCSP is an OCSP response kept in Redis.
type cachedOCSP struct {
	DER []byte `json:"der"`
	URL string `json:"url"`
}

// ocsp asks the responders (the CA's configured one, else those the
// certificate names) within one timeout, using a cached answer while it is
// fresh, and caches a fresh answer until its nextUpdate.
func (rv *Revocation) ocsp(ctx context.Context, leaf, issuer *x509.Certificate, p trust.Policy, ev *Evidence) (*ocspAnswer, error) {
	now := rv.now()
	key := ocspCacheKey(leaf, issuer)
	var c cachedOCSP
	if rv.cache != nil {
		if err := kindOCSP.Load(ctx, rv.cache, key, &c); err == nil {
			if ans, err := checkOCSP(c.DER, leaf, issuer, nil, false, now, rv.o.ClockSkew, rv.o.OCSPMaxAge); err == nil {
				ev.Source, ev.OCSPURL = "ocsp-cache", c.URL
				return ans, nil
			}
		} else if !errors.Is(err, session.ErrNotFound) {
			rv.log.WarnContext(ctx, "read OCSP cache", "err", err)
		}
	}
	urls := leaf.OCSPServer
	if p.OCSPURL != "" {
		urls = []string{p.OCSPURL}
	}
	urls = slices.DeleteFunc(slices.Clone(urls), func(u string) bool {
		return !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://")
	})
	if len(urls) == 0 {
		return nil, errors.New("no OCSP responder is known for the certificate")
	}
	ctx, cancel := context.WithTimeout(ctx, rv.o.OCSPTimeout)
	defer cancel()
	var problems []string
	for _, u := range urls {
		req, nonceExt, err := ocspRequest(leaf, issuer)
		if err != nil {
			return nil, err
		}
		der, err := fetchOCSP(ctx, rv.client, u, req)
		if err != nil {
			if ctx.Err() != nil {
				err = fmt.Errorf("timed out after %s", rv.o.OCSPTimeout)
			}
			problems = append(problems, fmt.Sprintf("%s: %v", u, err))
			if ctx.Err() != nil {
				break
			}
			continue
		}
		ans, err := checkOCSP(der, leaf, issuer, nonceExt, p.RequireOCSPNonce, rv.now(), rv.o.ClockSkew, rv.o.OCSPMaxAge)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s: %v", u, err))
			continue
		}
		ev.Source, ev.OCSPURL = "ocsp", u
		rv.store(ctx, key, der, u, ans)
		return ans, nil
	}
	return nil, errors.New(strings.Join(problems, "; "))
}

// store caches a good or revoked answer until its nextUpdate (an answer
// without one, until it is OCSPMaxAge old), at most OCSPCacheMax.
func (rv *Revocation) store(ctx context.Context, key string, der []byte, u string, ans *ocspAnswer) {
	if rv.cache == nil || ans.Status == ocsp.Unknown {
		return
	}
	until := ans.NextUpdate
	if until.IsZero() {
		until = ans.ThisUpdate.Add(rv.o.OCSPMaxAge)
	}
	ttl := min(until.Sub(rv.now()), rv.o.OCSPCacheMax)
	if ttl < time.Second {
		return
	}
	if err := kindOCSP.Put(context.WithoutCancel(ctx), rv.cache, key, cachedOCSP{DER: der, URL: u}, ttl); err != nil {
		rv.log.WarnContext(ctx, "write OCSP cache", "err", err)
	}
}
