// Package demo sets up `citizenid serve --demo`: one demo citizen and one
// demo portal, created idempotently, and a tiny portal under /demo/ that
// logs in through CitizenID with zitadel/oidc's relying-party package, so a
// newcomer sees a whole login in a minute. It is refused outside dev mode.
package demo

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"sync"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	httphelper "github.com/zitadel/oidc/v3/pkg/http"
	zoidc "github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/citizens"
	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/oidc"
	"github.com/citizenid/citizenid/internal/session"
	"github.com/citizenid/citizenid/internal/store"
)

// The demo accounts.
const (
	CitizenNumber = "001099012345"
	CitizenName   = "Nguyễn Văn An"
	ClientID      = "demo-portal"
)

// Demo is the demo portal.
type Demo struct {
	issuer, secret, password string
	mu                       sync.Mutex
	party                    rp.RelyingParty
}

// Setup creates (or refreshes) the demo citizen and client. Each start
// sets a new random password and client secret, printed by Print.
func Setup(ctx context.Context, in *app.Instance) (*Demo, error) {
	d := &Demo{issuer: in.Config.Server.Issuer, password: session.RandomToken(9), secret: session.RandomToken(32)}
	c, err := in.Store.CitizenByNumber(ctx, CitizenNumber)
	switch {
	case errors.Is(err, store.ErrNotFound):
		_, err = citizens.Create(ctx, in.Store, in.Hasher, citizens.NewCitizen{
			Number: CitizenNumber, Name: CitizenName, Birthdate: "1999-01-02", Password: d.password,
		})
		if err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		hash, err := in.Hasher.Hash(d.password)
		if err != nil {
			return nil, err
		}
		if err := in.Store.SetPassword(ctx, c.ID, hash); err != nil {
			return nil, err
		}
	}
	redirect := d.issuer + "/demo/callback"
	_, _, err = clients.Update(ctx, in.Store, ClientID, func(s *clients.Spec) error {
		s.RedirectURIs = []string{redirect}
		s.PostLogoutRedirectURIs = []string{d.issuer + "/demo/"}
		return nil
	}, func(c *store.Client) error {
		c.SecretHash = oidc.HashClientSecret(d.secret)
		c.Disabled = false
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		_, _, err = clients.Create(ctx, in.Store, clients.Spec{
			ID: ClientID, Name: "Cổng dịch vụ mẫu (demo portal)", RedirectURIs: []string{redirect},
			PostLogoutRedirectURIs: []string{d.issuer + "/demo/"}, Secret: d.secret,
		})
	}
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Print tells the newcomer how to log in.
func (d *Demo) Print(w io.Writer) {
	fmt.Fprintf(w, `
  ┌─ CitizenID demo ─────────────────────────────────────────────
  │ Open:            %s/demo/
  │ Citizen number:  %s
  │ Password:        %s
  │ Demo client:     %s / secret %s
  │ Discovery:       %s/.well-known/openid-configuration
  └──────────────────────────────────────────────────────────────

`, d.issuer, CitizenNumber, d.password, ClientID, d.secret, d.issuer)
}

// relyingParty is built on first use: discovery needs the server up.
func (d *Demo) relyingParty(ctx context.Context) (rp.RelyingParty, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.party != nil {
		return d.party, nil
	}
	key := []byte(session.RandomToken(24))[:32]
	cookies := httphelper.NewCookieHandler(key, key, httphelper.WithUnsecure())
	p, err := rp.NewRelyingPartyOIDC(ctx, d.issuer, ClientID, d.secret, d.issuer+"/demo/callback",
		[]string{zoidc.ScopeOpenID, zoidc.ScopeProfile}, rp.WithPKCE(cookies))
	if err != nil {
		return nil, err
	}
	d.party = p
	return p, nil
}

var page = template.Must(template.New("demo").Parse(`<!doctype html><html lang="vi"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>Demo portal</title>
<link rel="stylesheet" href="/static/site.css"></head><body><main>
<h1>Cổng dịch vụ mẫu · Demo portal</h1>
{{if .}}<p>Đăng nhập thành công · Logged in. ID token claims:</p><pre>{{.}}</pre>{{else}}
<p><a href="/demo/login">Đăng nhập bằng CitizenID · Log in with CitizenID</a></p>
<p><a href="/demo/login?acr=2" id="demo-level-2">Đăng nhập mức 2 (mật khẩu và mã) · Log in at level 2</a></p>
<p><a href="/demo/login?acr=3" id="demo-level-3">Đăng nhập mức 3 (passkey) · Log in at level 3</a></p>{{end}}
</main></body></html>`))

// Mount registers the demo portal's pages.
func (d *Demo) Mount(mux *http.ServeMux) {
	mux.HandleFunc("GET /demo/{$}", func(w http.ResponseWriter, r *http.Request) {
		page.Execute(w, nil)
	})
	mux.HandleFunc("GET /demo/login", func(w http.ResponseWriter, r *http.Request) {
		p, err := d.relyingParty(r.Context())
		if err != nil {
			http.Error(w, "demo portal: "+err.Error(), http.StatusBadGateway)
			return
		}
		// ?acr=2 or 3 asks for that level, as a portal would (acr_values).
		var opts []rp.URLParamOpt
		if lvl := r.URL.Query().Get("acr"); lvl == "2" || lvl == "3" || lvl == "4" {
			opts = append(opts, rp.WithURLParam("acr_values", "urn:citizenid:loa:"+lvl))
		}
		rp.AuthURLHandler(func() string { return session.RandomToken(16) }, p, opts...)(w, r)
	})
	mux.HandleFunc("GET /demo/callback", func(w http.ResponseWriter, r *http.Request) {
		p, err := d.relyingParty(r.Context())
		if err != nil {
			http.Error(w, "demo portal: "+err.Error(), http.StatusBadGateway)
			return
		}
		rp.CodeExchangeHandler(func(w http.ResponseWriter, r *http.Request, t *zoidc.Tokens[*zoidc.IDTokenClaims], state string, _ rp.RelyingParty) {
			b, _ := t.IDTokenClaims.MarshalJSON()
			page.Execute(w, string(b))
		}, p)(w, r)
	})
}
