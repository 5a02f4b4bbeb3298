package login

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"
)

// A portal's logo is shown on its login steps, but never fetched by the
// citizen's browser from the portal's server: that would tell the portal
// who looks at the page, and when. The server fetches it once and serves
// its own copy, size-limited and only as a raster image (no SVG: it can
// carry script), from the login transaction's own URL, so the server is
// no open proxy: only a logo registered for the portal is ever fetched.

const (
	// maxLogo bounds a logo's size.
	maxLogo = 256 << 10
	// logoTTL is how long a fetched logo (or a failure) is kept.
	logoTTL     = time.Hour
	logoFailTTL = 5 * time.Minute
	// maxLogos bounds the cache; beyond it the oldest entries go.
	maxLogos = 256
)

// logoTypes are the image types served, by the type sniffed from the bytes.
var logoTypes = map[string]bool{"image/png": true, "image/jpeg": true, "image/gif": true, "image/webp": true}

type logoEntry struct {
	body  []byte // nil: the fetch failed
	ctype string
	until time.Time
}

// logoCache holds the fetched logos by URL.
type logoCache struct {
	client *http.Client
	now    func() time.Time

	mu      sync.Mutex
	entries map[string]logoEntry
}

func newLogoCache(client *http.Client, now func() time.Time) *logoCache {
	if client == nil {
		client = &http.Client{}
	}
	c := *client
	c.Timeout = 5 * time.Second
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &logoCache{client: &c, now: now, entries: map[string]logoEntry{}}
}

// get returns the logo at url, fetching it when not cached.
func (c *logoCache) get(ctx context.Context, url string) (logoEntry, error) {
	now := c.now()
	c.mu.Lock()
	e, ok := c.entries[url]
	c.mu.Unlock()
	if ok && now.Before(e.until) {
		if e.body == nil {
			return e, errors.New("logo unavailable (cached failure)")
		}
		return e, nil
	}
	body, ctype, err := c.fetch(ctx, url)
	e = logoEntry{body: body, ctype: ctype, until: now.Add(logoTTL)}
	if err != nil {
		e = logoEntry{until: now.Add(logoFailTTL)}
	}
	c.mu.Lock()
	if len(c.entries) >= maxLogos {
		for k, old := range c.entries {
			if !now.Before(old.until) || len(c.entries) >= maxLogos {
				delete(c.entries, k)
			}
		}
	}
	c.entries[url] = e
	c.mu.Unlock()
	return e, err
}

func (c *logoCache) fetch(ctx context.Context, url string) ([]byte, string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Accept", "image/png, image/jpeg, image/gif, image/webp")
	resp, err := c.client.Do(req)
	if err != nil {
		return nil, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, "", fmt.Errorf("logo: HTTP %d", resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxLogo+1))
	if err != nil {
		return nil, "", err
	}
	if len(body) > maxLogo {
		return nil, "", fmt.Errorf("logo: larger than %d bytes", maxLogo)
	}
	ctype := http.DetectContentType(body)
	if !logoTypes[ctype] {
		return nil, "", fmt.Errorf("logo: %s is not a raster image", ctype)
	}
	return body, ctype, nil
}

// logo is what a step page shows as the portal's logo: an inline image as
// it is, a registered https logo through the server's copy, else nothing.
func (e *Engine) logo(txn *Txn) template.URL {
	l := txn.Request.PortalLogo
	if u := logoURI(l); u != "" {
		return u
	}
	if strings.HasPrefix(l, "https://") && txn.ID != "" {
		return template.URL("/portal-logo/" + txn.ID)
	}
	return ""
}

// serveLogo answers GET /portal-logo/{txn} with the cached copy of the
// transaction's portal logo.
func (e *Engine) serveLogo(w http.ResponseWriter, r *http.Request) {
	txn, ok := e.loadTxn(w, r)
	if !ok {
		return
	}
	url := txn.Request.PortalLogo
	if !strings.HasPrefix(url, "https://") {
		http.NotFound(w, r)
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	logo, err := e.logos.get(ctx, url)
	if err != nil {
		e.o.Log.WarnContext(r.Context(), "portal logo", "client", txn.Request.ClientID, "err", err)
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", logo.ctype)
	h.Set("Cache-Control", "private, max-age=3600")
	h.Set("Content-Security-Policy", "default-src 'none'")
	w.Write(logo.body)
}
