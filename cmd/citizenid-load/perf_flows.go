package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"

	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/authn/webauthn/webauthntest"
)

// pw is one perf worker: a browser (cookie jar) and a portal, with the
// tokens and passkey its scenarios use.
type pw struct {
	t       target
	fx      *fixtures
	disc    discovery
	tr      http.RoundTripper
	browser *http.Client
	conf    oauth2.Config
	// opaqueConf is the same portal with opaque access tokens (perfOpaque).
	opaqueConf oauth2.Config
	access     string
	refresh    string
	// opaqueRefresh is the refresh token of the portal with opaque
	// access tokens (perfOpaque).
	opaqueRefresh string
	cred          *webauthntest.Credential
	next          func() string // the next password citizen's number
	// sessions made by this worker (each login is one), and the cookie
	// of its latest.
	sessions   int
	lastCookie string
}

type discovery struct {
	JWKS          string `json:"jwks_uri"`
	Token         string `json:"token_endpoint"`
	Userinfo      string `json:"userinfo_endpoint"`
	Introspection string `json:"introspection_endpoint"`
}

func newPW(t target, fx *fixtures, d discovery, tr http.RoundTripper, next func() string) *pw {
	w := &pw{t: t, fx: fx, disc: d, tr: tr, next: next}
	w.conf = oauth2.Config{ClientID: perfClient, ClientSecret: fx.secret, RedirectURL: fx.redirect,
		Endpoint: oauth2.Endpoint{AuthURL: t.base + "/authorize", TokenURL: d.Token},
		Scopes:   []string{"openid", "offline_access"}}
	w.opaqueConf = w.conf
	w.opaqueConf.ClientID, w.opaqueConf.ClientSecret = perfOpaque, fx.opaqueSecret
	w.newBrowser()
	return w
}

// newBrowser gives the worker a fresh browser: no SSO session.
func (w *pw) newBrowser() {
	jar, _ := cookiejar.New(nil)
	redirect := w.fx.redirect
	w.browser = &http.Client{Jar: jar, Transport: w.tr, Timeout: 30 * time.Second,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if strings.HasPrefix(req.URL.String(), redirect) || len(via) > 10 {
				return http.ErrUseLastResponse
			}
			return nil
		}}
}

type answer struct {
	status int
	url    *url.URL
	header http.Header
	body   string
}

func (w *pw) send(ctx context.Context, c *http.Client, method, u string, form url.Values, hdr map[string]string) (answer, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return answer{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := c.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return answer{status: resp.StatusCode, url: resp.Request.URL, header: resp.Header, body: string(b)}, err
}

func (w *pw) api() *http.Client { return &http.Client{Transport: w.tr, Timeout: 30 * time.Second} }

var (
	optionsRE  = regexp.MustCompile(`<script type="application/json" id="webauthn-options">(.*?)</script>`)
	loginRE    = regexp.MustCompile(`action="(/login/[^"]+)"`)
	ceremonyRE = regexp.MustCompile(`name="ceremony" value="([^"]+)"`)
	samlRespRE = regexp.MustCompile(`name="SAMLResponse" value="([^"]+)"`)
)

// postLogin posts form to the action of the login page a.
func (w *pw) postLogin(ctx context.Context, a answer, form url.Values) (answer, error) {
	m := loginRE.FindStringSubmatch(a.body)
	if m == nil {
		return a, fmt.Errorf("no login form (status %d at %s)", a.status, a.url.Path)
	}
	return w.send(ctx, w.browser, http.MethodPost, a.url.ResolveReference(&url.URL{Path: m[1]}).String(), form, nil)
}

// consent approves a consent page when the answer is one.
func (w *pw) consent(ctx context.Context, a answer) (answer, error) {
	if a.status != http.StatusOK || !strings.Contains(a.body, `id="consent-approve"`) {
		return a, nil
	}
	return w.postLogin(ctx, a, url.Values{"step": {"consent"}, "decision": {"approve"}})
}

// code reads the authorization code the login answered with.
func (w *pw) code(a answer) (string, error) {
	loc, err := url.Parse(a.header.Get("Location"))
	if err != nil || loc.Query().Get("code") == "" {
		return "", fmt.Errorf("no code (status %d at %s, location %q)", a.status, a.url.Path, a.header.Get("Location"))
	}
	w.sessions++
	if u, _ := url.Parse(w.t.base); u != nil {
		for _, c := range w.browser.Jar.Cookies(u) {
			if len(c.Value) == 43 {
				w.lastCookie = c.Value
			}
		}
	}
	return loc.Query().Get("code"), nil
}

// passwordLogin runs authorize → login form → code in a fresh browser and
// returns the code and the PKCE verifier.
func (w *pw) passwordLogin(ctx context.Context) (string, string, error) {
	return w.passwordLoginAt(ctx, w.conf)
}

// passwordLoginAt is passwordLogin for the portal conf.
func (w *pw) passwordLoginAt(ctx context.Context, conf oauth2.Config) (string, string, error) {
	w.newBrowser()
	verifier := oauth2.GenerateVerifier()
	a, err := w.send(ctx, w.browser, http.MethodGet, conf.AuthCodeURL("perf", oauth2.S256ChallengeOption(verifier)), nil, nil)
	if err != nil {
		return "", "", err
	}
	if a, err = w.postLogin(ctx, a, url.Values{"step": {"password"}, "number": {w.next()}, "password": {perfPassword}}); err != nil {
		return "", "", err
	}
	if a, err = w.consent(ctx, a); err != nil {
		return "", "", err
	}
	code, err := w.code(a)
	return code, verifier, err
}

// passkeyLogin is the passwordless login: the passkey answers the
// discoverable request of the login page.
func (w *pw) passkeyLogin(ctx context.Context) (string, string, error) {
	w.newBrowser()
	verifier := oauth2.GenerateVerifier()
	a, err := w.send(ctx, w.browser, http.MethodGet, w.conf.AuthCodeURL("perf", oauth2.S256ChallengeOption(verifier)), nil, nil)
	if err != nil {
		return "", "", err
	}
	m := optionsRE.FindStringSubmatch(a.body)
	if m == nil {
		return "", "", fmt.Errorf("no passkey options (status %d)", a.status)
	}
	resp, err := w.fx.dev.Get([]byte(m[1]), w.cred)
	if err != nil {
		return "", "", err
	}
	if a, err = w.postLogin(ctx, a, url.Values{"step": {"webauthn"}, "credential": {string(resp)}}); err != nil {
		return "", "", err
	}
	if a, err = w.consent(ctx, a); err != nil {
		return "", "", err
	}
	code, err := w.code(a)
	return code, verifier, err
}

type tokenAnswer struct {
	AccessToken  string `json:"access_token"`
	IDToken      string `json:"id_token"`
	RefreshToken string `json:"refresh_token"`
	Active       *bool  `json:"active"`
}

// signed counts the JWTs (signatures the server made) in the answer.
func (t tokenAnswer) signed() int {
	n := 0
	for _, s := range []string{t.AccessToken, t.IDToken} {
		if strings.Count(s, ".") == 2 {
			n++
		}
	}
	return n
}

// token posts a token request authenticated as the client, keeping the
// tokens it gets.
func (w *pw) token(ctx context.Context, id, secret string, form url.Values) (tokenAnswer, error) {
	hdr := map[string]string{"Authorization": basic(id, secret)}
	a, err := w.send(ctx, w.api(), http.MethodPost, w.disc.Token, form, hdr)
	if err != nil {
		return tokenAnswer{}, err
	}
	var t tokenAnswer
	if a.status != http.StatusOK || json.Unmarshal([]byte(a.body), &t) != nil || t.AccessToken == "" {
		return t, fmt.Errorf("token: status %d: %.200s", a.status, a.body)
	}
	switch id {
	case perfClient:
		w.access = t.AccessToken
		w.refresh = cmp.Or(t.RefreshToken, w.refresh)
	case perfOpaque:
		w.opaqueRefresh = cmp.Or(t.RefreshToken, w.opaqueRefresh)
	}
	return t, nil
}

func (w *pw) exchange(ctx context.Context, code, verifier string) (int, error) {
	return w.exchangeAt(ctx, perfClient, w.fx.secret, code, verifier)
}

// exchangeAt exchanges code at the token endpoint as the portal id.
func (w *pw) exchangeAt(ctx context.Context, id, secret, code, verifier string) (int, error) {
	t, err := w.token(ctx, id, secret, url.Values{"grant_type": {"authorization_code"}, "code": {code},
		"redirect_uri": {w.fx.redirect}, "code_verifier": {verifier}})
	return t.signed(), err
}

// ensureTokens gives the worker an SSO session and tokens (untimed).
func (w *pw) ensureTokens(ctx context.Context) error { return w.ensureTokensAt(ctx, w.conf, w.refresh) }

// ensureOpaqueTokens is ensureTokens for the portal with opaque access
// tokens.
func (w *pw) ensureOpaqueTokens(ctx context.Context) error {
	return w.ensureTokensAt(ctx, w.opaqueConf, w.opaqueRefresh)
}

// ensureTokensAt logs in at the portal conf and exchanges the code, unless
// the worker holds that portal's refresh token already.
func (w *pw) ensureTokensAt(ctx context.Context, conf oauth2.Config, refresh string) error {
	if refresh != "" {
		return nil
	}
	code, verifier, err := w.passwordLoginAt(ctx, conf)
	if err == nil {
		_, err = w.exchangeAt(ctx, conf.ClientID, conf.ClientSecret, code, verifier)
	}
	return err
}

// refreshGrant uses the refresh token at the portal conf and returns the
// signatures in the answer.
func (w *pw) refreshGrant(ctx context.Context, conf oauth2.Config, refresh string) (int, error) {
	t, err := w.token(ctx, conf.ClientID, conf.ClientSecret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refresh}})
	return t.signed(), err
}

// samlSSO sends an AuthnRequest (redirect binding) in a browser with an
// SSO session and returns the signatures in the response it gets back.
func (w *pw) samlSSO(ctx context.Context) (int, error) {
	u, err := w.fx.sp.MakeRedirectAuthenticationRequest("perf")
	if err != nil {
		return 0, err
	}
	a, err := w.send(ctx, w.browser, http.MethodGet, u.String(), nil, nil)
	if err == nil {
		a, err = w.consent(ctx, a)
	}
	if err != nil {
		return 0, err
	}
	m := samlRespRE.FindStringSubmatch(a.body)
	if a.status != http.StatusOK || m == nil {
		return 0, fmt.Errorf("saml: no response form (status %d at %s): %.200s", a.status, a.url.Path, a.body)
	}
	raw, err := base64.StdEncoding.DecodeString(html.UnescapeString(m[1]))
	if err != nil {
		return 0, fmt.Errorf("saml: response: %w", err)
	}
	if !bytes.Contains(raw, []byte("urn:oasis:names:tc:SAML:2.0:status:Success")) {
		return 0, errors.New("saml: response is not a success")
	}
	return bytes.Count(raw, []byte("SignatureValue>")) / 2, nil
}

// enrolPasskey logs the citizen in on the account page and registers a
// passkey of the driver's software authenticator.
func (w *pw) enrolPasskey(ctx context.Context, number string) (*webauthntest.Credential, error) {
	w.newBrowser()
	a, err := w.send(ctx, w.browser, http.MethodGet, w.t.base+"/account/security", nil, nil)
	if err != nil {
		return nil, err
	}
	if strings.Contains(a.body, `autocomplete="current-password"`) {
		if a, err = w.postLogin(ctx, a, url.Values{"step": {"password"}, "number": {number}, "password": {perfPassword}}); err != nil {
			return nil, err
		}
	}
	if !strings.Contains(a.body, `id="passkeys"`) {
		return nil, fmt.Errorf("account page without passkeys (status %d at %s)", a.status, a.url.Path)
	}
	if a, err = w.send(ctx, w.browser, http.MethodPost, w.t.base+"/account/security/webauthn", url.Values{"name": {"perf"}}, nil); err != nil {
		return nil, err
	}
	m, o := ceremonyRE.FindStringSubmatch(a.body), optionsRE.FindStringSubmatch(a.body)
	if m == nil || o == nil {
		return nil, fmt.Errorf("passkey registration page without a ceremony (status %d)", a.status)
	}
	cred, resp, err := w.fx.dev.Create([]byte(o[1]))
	if err != nil {
		return nil, err
	}
	a, err = w.send(ctx, w.browser, http.MethodPost, w.t.base+"/account/security/webauthn/confirm",
		url.Values{"ceremony": {m[1]}, "credential": {string(resp)}}, nil)
	if err == nil && (a.status != http.StatusOK || !strings.Contains(a.body, "perf")) {
		err = fmt.Errorf("passkey registration: status %d", a.status)
	}
	return cred, err
}
