package app_test

import (
	"context"
	"encoding/base64"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/ledger"
	citizensaml "github.com/citizenid/citizenid/internal/saml"
	"github.com/citizenid/citizenid/internal/store"
)

// htmlName is a portal name a careless registration could hold.
const htmlName = `Cổng dịch vụ thuế <script>alert("x")</script>`

func (e *env) citizenID(t testing.TB) string {
	t.Helper()
	c, err := e.Store.CitizenByNumber(context.Background(), testNumber)
	if err != nil {
		t.Fatal(err)
	}
	return c.ID
}

func (e *env) ledger(t testing.TB) []store.LedgerEntry {
	t.Helper()
	got, err := e.Store.ListLedger(context.Background(), e.citizenID(t), store.LedgerFilter{Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// ledgerPortal registers "portal" (with an HTML display name) and returns
// an oauth2 config for it and a browser that stops at its callback.
func ledgerPortal(t *testing.T, e *env, scopes ...string) (*oauth2.Config, *browser) {
	t.Helper()
	secret := e.addClient(t, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
	if err := e.Store.UpdateClient(context.Background(), "portal", func(c *store.Client) error {
		c.Name = htmlName
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	conf := &oauth2.Config{ClientID: "portal", ClientSecret: secret, RedirectURL: cbURL,
		Endpoint: oauth2.Endpoint{AuthURL: e.URL + "/authorize", TokenURL: e.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
		Scopes:   scopes}
	return conf, stoppingBrowser(t)
}

// codeFor logs the browser in (when it must) and returns a code and its verifier.
func codeFor(t *testing.T, e *env, b *browser, conf *oauth2.Config) (string, string) {
	t.Helper()
	v := oauth2.GenerateVerifier()
	pg := b.get(conf.AuthCodeURL("st", oauth2.S256ChallengeOption(v)))
	if isLoginForm(pg) {
		pg = b.login(e.URL, pg, testNumber, testPassword)
	}
	return portalRedirect(t, pg).Get("code"), v
}

func userinfo(t *testing.T, e *env, token string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.URL+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

func TestLedgerOIDC(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.addCitizen(t, testNumber, testPassword)
		conf, b := ledgerPortal(t, e, "openid", "profile", "offline_access")
		code, verifier := codeFor(t, e, b, conf)

		// Refused requests release nothing and record nothing.
		form := map[string][]string{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cbURL}, "code_verifier": {verifier}}
		if status, body, _ := tokenPost(t, conf.Endpoint.TokenURL, form, [2]string{"portal", "not the secret of this portal at all"}); status/100 != 4 || body["id_token"] != nil {
			t.Fatalf("wrong client secret: got %d %v, want a 4xx error", status, body)
		}
		if _, err := conf.Exchange(ctx, "not-a-code", oauth2.VerifierOption(verifier)); err == nil {
			t.Fatal("bad code: got tokens, want invalid_grant")
		}
		if status, _ := userinfo(t, e, "not-a-token"); status == http.StatusOK {
			t.Fatal("userinfo with a bad token: got 200")
		}
		if got := e.ledger(t); len(got) != 0 {
			t.Fatalf("entries after refused requests: got %d, want 0", len(got))
		}

		// The ID token: one entry, what it carried.
		tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(verifier))
		if err != nil {
			t.Fatalf("exchange: %v", err)
		}
		got := e.ledger(t)
		if len(got) != 1 {
			t.Fatalf("entries after the code exchange: got %d, want 1", len(got))
		}
		first := got[0]
		checks := []struct {
			name      string
			got, want any
		}{
			{"portal", first.Portal, "oidc:portal"},
			{"portal name", first.PortalName, htmlName},
			{"protocol", first.Protocol, store.LedgerOIDC},
			{"endpoint", first.Endpoint, store.EndpointToken},
			{"attributes", strings.Join(first.Attributes, " "), "name birthdate identity_level"},
			{"level", first.Level, 1},
			{"session id set", first.SessionID != "", true},
		}
		for _, c := range checks {
			if c.got != c.want {
				t.Errorf("token entry %s: got %v, want %v", c.name, c.got, c.want)
			}
		}

		// Userinfo: one more.
		if status, info := userinfo(t, e, tok.AccessToken); status != http.StatusOK || info["name"] != "Trần Thị Bình" {
			t.Fatalf("userinfo: got %d %v", status, info)
		}
		got = e.ledger(t)
		if len(got) != 2 || got[0].Endpoint != store.EndpointUserinfo || got[0].Level != 1 || got[0].SessionID != first.SessionID {
			t.Fatalf("after userinfo: got %+v, want a userinfo entry on top, level 1, same session", got)
		}
		// The refresh grant's ID token: one more.
		if _, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: tok.RefreshToken}).Token(); err != nil {
			t.Fatalf("refresh: %v", err)
		}
		if got = e.ledger(t); len(got) != 3 || got[0].Endpoint != store.EndpointToken {
			t.Fatalf("after refresh: got %d entries (top %s), want 3 with a token entry on top", len(got), got[0].Endpoint)
		}

		// The citizen's page: each entry with the portal's name, escaped.
		pg := b.get(e.URL + "/account/activity")
		if pg.status != http.StatusOK {
			t.Fatalf("activity: got %d %.300s", pg.status, pg.body)
		}
		if n := strings.Count(pg.body, `<li class="ledger-entry">`); n != 3 {
			t.Errorf("activity: got %d .ledger-entry elements, want 3", n)
		}
		if strings.Contains(pg.body, `<script>alert`) || !strings.Contains(pg.body, `Cổng dịch vụ thuế &lt;script&gt;`) {
			t.Errorf("activity: the portal's name is not escaped: %.2000s", pg.body)
		}
		for _, want := range []string{"họ và tên, ngày sinh", "mức 1"} {
			if !strings.Contains(pg.body, want) {
				t.Errorf("activity: got no %q in the page", want)
			}
		}
		if pg := b.get(e.URL + "/account/activity?portal=oidc:other"); strings.Contains(pg.body, `class="ledger-entry"`) {
			t.Error("activity filtered by another portal: got entries, want none")
		}
		if pg := b.get(e.URL + "/account/activity?month=1999-01"); strings.Contains(pg.body, `class="ledger-entry"`) {
			t.Error("activity filtered by a month without releases: got entries, want none")
		}
	})
}

// failing is the ledger's store with a switch that makes every commit fail.
type failing struct {
	ledger.Appender
	on atomic.Bool
}

func (f *failing) AppendLedger(ctx context.Context, entries []store.LedgerEntry) error {
	if f.on.Load() {
		return errors.New("the database is down")
	}
	return f.Appender.AppendLedger(ctx, entries)
}

// A release that cannot be recorded does not happen: the endpoint answers
// server_error and no claim leaves.
func TestLedgerFailureRefusesRelease(t *testing.T) {
	f := &failing{}
	e := startWith(t, false, nil, app.BuildOptions{WrapLedger: func(a ledger.Appender) ledger.Appender {
		f.Appender = a
		return f
	}})
	ctx := context.Background()
	e.addCitizen(t, testNumber, testPassword)
	conf, b := ledgerPortal(t, e, "openid", "profile", "offline_access")
	code, v := codeFor(t, e, b, conf)
	tok, err := conf.Exchange(ctx, code, oauth2.VerifierOption(v))
	if err != nil {
		t.Fatal(err)
	}
	f.on.Store(true)

	code, v = codeFor(t, e, b, conf)
	form := map[string][]string{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {cbURL}, "code_verifier": {v}}
	status, body, _ := tokenPost(t, conf.Endpoint.TokenURL, form, [2]string{"portal", conf.ClientSecret})
	if status != http.StatusInternalServerError || body["error"] != "server_error" || body["id_token"] != nil {
		t.Errorf("code exchange with the ledger down: got %d %v, want 500 server_error without tokens", status, body)
	}
	if strings.Contains(body["error_description"].(string), "database") {
		t.Errorf("the portal was told the cause: %v", body["error_description"])
	}
	status, info := userinfo(t, e, tok.AccessToken)
	if status == http.StatusOK || info["name"] != nil || info["error"] != "server_error" {
		t.Errorf("userinfo with the ledger down: got %d %v, want server_error without claims", status, info)
	}
	refresh := map[string][]string{"grant_type": {"refresh_token"}, "refresh_token": {tok.RefreshToken}}
	if status, body, _ := tokenPost(t, conf.Endpoint.TokenURL, refresh, [2]string{"portal", conf.ClientSecret}); status != http.StatusInternalServerError || body["id_token"] != nil {
		t.Errorf("refresh with the ledger down: got %d %v, want 500 without tokens", status, body)
	}
	if got := e.ledger(t); len(got) != 1 {
		t.Errorf("entries: got %d, want 1 (the release before the failure)", len(got))
	}
}

func TestLedgerSAML(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		e.addCitizen(t, testNumber, testPassword)
		p := newSAMLPortal(t, e, "Cổng thuế cũ", nil, func(s *citizensaml.SPSpec) {
			s.Attributes = []string{"name", "birthdate", "identity_level"}
		})
		b := newBrowser(t)
		p.hello(b, e.URL, testNumber, testPassword)
		got := e.ledger(t)
		if len(got) != 1 {
			t.Fatalf("entries after a SAML login: got %d, want 1", len(got))
		}
		want := store.LedgerEntry{Portal: "saml:" + p.entityID, PortalName: "Cổng thuế cũ", Protocol: store.LedgerSAML,
			Endpoint: store.EndpointSAMLSSO, Attributes: []string{"name", "birthdate", "identity_level"}, Level: 1}
		g := got[0]
		if g.Portal != want.Portal || g.PortalName != want.PortalName || g.Protocol != want.Protocol || g.Endpoint != want.Endpoint ||
			!slices.Equal(g.Attributes, want.Attributes) || g.Level != want.Level || g.SessionID == "" {
			t.Errorf("SAML entry: got %+v, want %+v with a session", g, want)
		}
	})
}

func TestLedgerExport(t *testing.T) {
	backends(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		e.addCitizen(t, testNumber, testPassword)
		id := e.citizenID(t)
		en, err := e.TOTP.BeginEnrolment(ctx, id, testNumber)
		if err != nil {
			t.Fatal(err)
		}
		conf, b := ledgerPortal(t, e, "openid", "profile")
		code, v := codeFor(t, e, b, conf)
		if _, err := conf.Exchange(ctx, code, oauth2.VerifierOption(v)); err != nil {
			t.Fatal(err)
		}
		// Names a spreadsheet would run as formulas.
		var evil []store.LedgerEntry
		for i, name := range []string{"=HYPERLINK(\"http://evil\")", "+1+1", "-2", "@SUM(A1)", "\tTab", "\rCR"} {
			evil = append(evil, store.LedgerEntry{ID: "evil" + string(rune('a'+i)), CitizenID: id, Portal: "oidc:evil" + string(rune('a'+i)),
				PortalName: name, Protocol: store.LedgerOIDC, Endpoint: store.EndpointUserinfo, Attributes: []string{"name"}, Level: 1})
		}
		if err := e.Store.AppendLedger(ctx, evil); err != nil {
			t.Fatal(err)
		}

		csvPage := b.get(e.URL + "/account/export/ledger.csv")
		if csvPage.status != http.StatusOK || !strings.HasPrefix(csvPage.header.Get("Content-Type"), "text/csv") ||
			!strings.HasPrefix(csvPage.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("CSV: got %d %v", csvPage.status, csvPage.header)
		}
		body, ok := strings.CutPrefix(csvPage.body, "\uFEFF")
		if !ok {
			t.Error("CSV: no UTF-8 byte-order mark")
		}
		records, err := csv.NewReader(strings.NewReader(body)).ReadAll()
		if err != nil {
			t.Fatalf("CSV: %v", err)
		}
		if len(records) != 1+1+len(evil) || records[0][3] != "portal_name" {
			t.Fatalf("CSV: got %d rows (header %v), want a header and %d entries", len(records), records[0], 1+len(evil))
		}
		names := map[string]bool{}
		for _, r := range records[1:] {
			for _, cell := range r {
				if cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])) {
					t.Errorf("CSV: cell %q starts with a formula character", cell)
				}
			}
			names[r[3]] = true
		}
		for _, want := range []string{htmlName, `'=HYPERLINK("http://evil")`, "'+1+1", "'-2", "'@SUM(A1)", "'\tTab"} {
			if !names[want] {
				t.Errorf("CSV: no portal name %q in %v", want, names)
			}
		}

		js := b.get(e.URL + "/account/export")
		if js.status != http.StatusOK || !strings.HasPrefix(js.header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("export: got %d %v", js.status, js.header)
		}
		var x struct {
			Profile        map[string]any   `json:"profile"`
			Releases       []map[string]any `json:"data_releases"`
			Sessions       []map[string]any `json:"sessions"`
			Audit          []map[string]any `json:"audit_events"`
			Authenticators struct {
				Password bool           `json:"password_set"`
				TOTP     map[string]any `json:"totp"`
			} `json:"authenticators"`
		}
		if err := json.Unmarshal([]byte(js.body), &x); err != nil {
			t.Fatalf("export: %v", err)
		}
		if x.Profile["citizen_number"] != testNumber || len(x.Releases) != 1+len(evil) || len(x.Sessions) != 1 ||
			len(x.Audit) == 0 || !x.Authenticators.Password || x.Authenticators.TOTP == nil {
			t.Errorf("export: got profile %v, %d releases, %d sessions, %d audit events, password %v, totp %v",
				x.Profile, len(x.Releases), len(x.Sessions), len(x.Audit), x.Authenticators.Password, x.Authenticators.TOTP)
		}
		hash, _ := e.Store.PasswordHash(ctx, id)
		cred, _ := e.Store.TOTP(ctx, id)
		for name, secret := range map[string]string{
			"password hash": hash, "argon2id": "argon2id", "TOTP seed": en.Secret,
			"sealed TOTP seed": base64.StdEncoding.EncodeToString(cred.Secret),
		} {
			if secret == "" || strings.Contains(js.body, secret) {
				t.Errorf("export: holds the %s (or it is empty)", name)
			}
		}
	})
}

// The activity page lists 50 entries a page, newest first, and its
// "older" link keeps the filters and continues where the page stopped.
func TestLedgerActivityPaging(t *testing.T) {
	e := start(t, false, nil)
	ctx := context.Background()
	e.addCitizen(t, testNumber, testPassword)
	conf, b := ledgerPortal(t, e, "openid")
	codeFor(t, e, b, conf) // a session; openid alone releases nothing
	id := e.citizenID(t)
	at := time.Date(2026, 11, 30, 16, 59, 0, 0, time.UTC) // 23:59 on 30/11 in Viet Nam
	var entries []store.LedgerEntry
	for i := range 70 {
		portal := "oidc:tax"
		if i%10 == 0 {
			portal = "oidc:health"
		}
		entries = append(entries, store.LedgerEntry{ID: fmt.Sprintf("e%02d", i), Time: at.Add(time.Duration(i) * time.Minute), CitizenID: id,
			Portal: portal, PortalName: "Cổng " + portal, Protocol: store.LedgerOIDC, Endpoint: store.EndpointUserinfo,
			Attributes: []string{"name"}, Level: 2})
	}
	if err := e.Store.AppendLedger(ctx, entries); err != nil {
		t.Fatal(err)
	}
	olderRE := regexp.MustCompile(`<a href="([^"]+)" rel="next" id="ledger-older">`)
	walk := func(path string) (pages []int) {
		for range 5 {
			pg := b.get(e.URL + path)
			if pg.status != http.StatusOK {
				t.Fatalf("GET %s: got %d", path, pg.status)
			}
			pages = append(pages, strings.Count(pg.body, `class="ledger-entry"`))
			m := olderRE.FindStringSubmatch(pg.body)
			if m == nil {
				return pages
			}
			path = html.UnescapeString(m[1])
		}
		return pages
	}
	tests := []struct {
		name, path string
		want       []int
	}{
		{"all", "/account/activity", []int{50, 20}},
		{"one portal", "/account/activity?portal=oidc:tax", []int{50, 13}},
		{"November in Viet Nam", "/account/activity?month=2026-11", []int{1}},
		{"December in Viet Nam", "/account/activity?month=2026-12&portal=oidc:health", []int{6}},
	}
	for _, tt := range tests {
		if got := walk(tt.path); !slices.Equal(got, tt.want) {
			t.Errorf("%s: got pages of %v entries, want %v", tt.name, got, tt.want)
		}
	}
	pg := b.get(e.URL + "/account/activity?month=not-a-month")
	if !strings.Contains(pg.body, `id="ledger-error"`) || !strings.Contains(pg.body, `<option value="oidc:health">`) {
		t.Errorf("a bad month: got no error or no portal choice: %.1500s", pg.body)
	}
	if pg := b.get(e.URL + "/account/activity?before=garbage"); pg.status != http.StatusBadRequest {
		t.Errorf("a bad cursor: got %d, want 400", pg.status)
	}
}
