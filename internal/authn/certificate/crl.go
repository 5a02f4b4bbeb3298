package certificate

import (
	"context"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/citizenid/citizenid/internal/authn/certificate/trust"
)

// crlCache keeps the CRLs of the trusted CAs in memory, downloaded in the
// background: a login never waits for a CRL download. URLs come from the
// configured CAs (fetched from the start) and from the distribution points
// of certificates seen at login (fetched from then on).
type crlCache struct {
	client   *http.Client
	refresh  time.Duration
	timeout  time.Duration
	maxBytes int64
	skew     time.Duration
	now      func() time.Time
	log      *slog.Logger

	mu      sync.Mutex
	entries map[string]*crlEntry // by URL
	wake    chan struct{}
}

type crlEntry struct {
	url       string
	issuer    *x509.Certificate
	list      *crlList
	lastErr   string
	nextFetch time.Time
}

// crlList is what is kept of a verified CRL: its times, number and the
// revoked serials (upper-case hex), nothing else.
type crlList struct {
	thisUpdate, nextUpdate time.Time
	number                 string
	num                    *big.Int // the CRL number, when the CRL has one
	revoked                map[string]time.Time
}

// olderThan reports whether l was issued before k: an earlier thisUpdate,
// or, for the same thisUpdate (two downloads of one second), a smaller
// CRL number (RFC 5280 §5.2.3: CRL numbers only grow).
func (l *crlList) olderThan(k *crlList) bool {
	if !l.thisUpdate.Equal(k.thisUpdate) {
		return l.thisUpdate.Before(k.thisUpdate)
	}
	return l.num != nil && k.num != nil && l.num.Cmp(k.num) < 0
}

// maxCRLURLs bounds the URLs learnt from certificates.
const maxCRLURLs = 256

func newCRLCache(client *http.Client, refresh, timeout, skew time.Duration, maxBytes int64, now func() time.Time, log *slog.Logger) *crlCache {
	return &crlCache{client: client, refresh: refresh, timeout: timeout, skew: skew, maxBytes: maxBytes, now: now, log: log,
		entries: map[string]*crlEntry{}, wake: make(chan struct{}, 1)}
}

// register makes u known as a CRL of issuer; a new URL is fetched soon,
// in the background.
func (c *crlCache) register(u string, issuer *x509.Certificate) {
	if !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.entries[u]; ok || len(c.entries) >= maxCRLURLs {
		return
	}
	c.entries[u] = &crlEntry{url: u, issuer: issuer}
	select {
	case c.wake <- struct{}{}:
	default:
	}
}

// crlVerdict is what the cache says about a certificate.
type crlVerdict struct {
	URL                    string
	Number                 string
	ThisUpdate, NextUpdate time.Time
	Revoked                bool
	RevokedAt              time.Time
}

// lookup consults the fresh cached CRLs among urls issued by issuer. It
// returns an error when none is usable.
func (c *crlCache) lookup(leaf, issuer *x509.Certificate, urls []string) (*crlVerdict, error) {
	now := c.now()
	serial := SerialHex(leaf)
	spki := trust.SPKIHash(issuer)
	c.mu.Lock()
	defer c.mu.Unlock()
	var problems []string
	for _, u := range urls {
		e, ok := c.entries[u]
		switch {
		case !ok:
			continue
		case e.list == nil:
			problems = append(problems, fmt.Sprintf("%s: not downloaded yet%s", u, suffix(e.lastErr)))
			continue
		case trust.SPKIHash(e.issuer) != spki:
			continue
		case now.After(e.list.nextUpdate.Add(c.skew)):
			problems = append(problems, fmt.Sprintf("%s: stale since %s%s", u, e.list.nextUpdate.UTC().Format(time.RFC3339), suffix(e.lastErr)))
			continue
		}
		v := &crlVerdict{URL: u, Number: e.list.number, ThisUpdate: e.list.thisUpdate, NextUpdate: e.list.nextUpdate}
		if at, ok := e.list.revoked[serial]; ok {
			v.Revoked, v.RevokedAt = true, at
		}
		return v, nil
	}
	if len(problems) == 0 {
		return nil, errors.New("no CRL of this CA is known")
	}
	return nil, errors.New(strings.Join(problems, "; "))
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return " (" + s + ")"
}

// run refreshes due CRLs until ctx ends.
func (c *crlCache) run(ctx context.Context) {
	for {
		c.refreshDue(ctx)
		wait := c.refresh
		c.mu.Lock()
		now := c.now()
		for _, e := range c.entries {
			wait = min(wait, max(e.nextFetch.Sub(now), time.Second))
		}
		c.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-c.wake:
			t.Stop()
		case <-t.C:
		}
	}
}

// refreshDue downloads every CRL whose time has come, one at a time.
func (c *crlCache) refreshDue(ctx context.Context) {
	c.mu.Lock()
	now := c.now()
	var due []*crlEntry
	for _, e := range c.entries {
		if !e.nextFetch.After(now) {
			due = append(due, e)
		}
	}
	c.mu.Unlock()
	slices.SortFunc(due, func(a, b *crlEntry) int { return strings.Compare(a.url, b.url) })
	for _, e := range due {
		if ctx.Err() != nil {
			return
		}
		list, err := c.fetch(ctx, e.url, e.issuer)
		c.mu.Lock()
		now := c.now()
		if err != nil {
			e.lastErr = err.Error()
			e.nextFetch = now.Add(min(c.refresh, time.Minute))
			c.log.WarnContext(ctx, "CRL download failed", "url", e.url, "err", err)
		} else if e.list != nil && list.olderThan(e.list) {
			// Never roll back to an older CRL (a replayed one could hide a
			// recent revocation): keep what we have.
			e.lastErr = "ignored a CRL older than the one kept"
			e.nextFetch = now.Add(min(c.refresh, time.Minute))
		} else {
			e.list, e.lastErr = list, ""
			next := now.Add(c.refresh)
			if !list.nextUpdate.IsZero() && list.nextUpdate.Before(next) {
				next = list.nextUpdate
			}
			e.nextFetch = maxTime(next, now.Add(time.Minute))
		}
		c.mu.Unlock()
	}
}

// refreshAll downloads every known CRL now (tests, and start-up).
func (c *crlCache) refreshAll(ctx context.Context) {
	c.mu.Lock()
	for _, e := range c.entries {
		e.nextFetch = time.Time{}
	}
	c.mu.Unlock()
	c.refreshDue(ctx)
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

var (
	oidDeltaCRLIndicator = asn1.ObjectIdentifier{2, 5, 29, 27}
	oidIssuingDP         = asn1.ObjectIdentifier{2, 5, 29, 28}
)

// issuingDistributionPoint (RFC 5280 §5.2.5).
type issuingDistributionPoint struct {
	DistributionPoint          asn1.RawValue  `asn1:"optional,tag:0"`
	OnlyContainsUserCerts      bool           `asn1:"optional,tag:1"`
	OnlyContainsCACerts        bool           `asn1:"optional,tag:2"`
	OnlySomeReasons            asn1.BitString `asn1:"optional,tag:3"`
	IndirectCRL                bool           `asn1:"optional,tag:4"`
	OnlyContainsAttributeCerts bool           `asn1:"optional,tag:5"`
}

// fetch downloads, verifies and condenses one CRL.
func (c *crlCache) fetch(ctx context.Context, u string, issuer *x509.Certificate) (*crlList, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("HTTP status %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, c.maxBytes+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > c.maxBytes {
		return nil, fmt.Errorf("CRL larger than %d bytes", c.maxBytes)
	}
	rl, err := x509.ParseRevocationList(b)
	if err != nil {
		return nil, fmt.Errorf("parse CRL: %w", err)
	}
	if err := rl.CheckSignatureFrom(issuer); err != nil {
		return nil, fmt.Errorf("CRL signature: %w", err)
	}
	for _, e := range rl.Extensions {
		switch {
		case e.Id.Equal(oidDeltaCRLIndicator):
			return nil, errors.New("a delta CRL is not a complete CRL")
		case e.Id.Equal(oidIssuingDP):
			var idp issuingDistributionPoint
			if rest, err := asn1.Unmarshal(e.Value, &idp); err != nil || len(rest) > 0 {
				return nil, errors.New("bad issuing distribution point")
			}
			if idp.OnlyContainsCACerts || idp.OnlySomeReasons.BitLength > 0 || idp.IndirectCRL || idp.OnlyContainsAttributeCerts {
				return nil, errors.New("a partial or indirect CRL cannot vouch for a citizen's certificate")
			}
		case e.Critical:
			return nil, fmt.Errorf("unsupported critical CRL extension %v", e.Id)
		}
	}
	now := c.now()
	if rl.ThisUpdate.After(now.Add(c.skew)) {
		return nil, errors.New("CRL thisUpdate is in the future")
	}
	if rl.NextUpdate.IsZero() {
		return nil, errors.New("CRL has no nextUpdate")
	}
	list := &crlList{thisUpdate: rl.ThisUpdate, nextUpdate: rl.NextUpdate, revoked: make(map[string]time.Time, len(rl.RevokedCertificateEntries))}
	if rl.Number != nil {
		list.number, list.num = rl.Number.String(), rl.Number
	}
	for _, r := range rl.RevokedCertificateEntries {
		if r.SerialNumber != nil {
			list.revoked[strings.ToUpper(r.SerialNumber.Text(16))] = r.RevocationTime
		}
	}
	return list, nil
}
