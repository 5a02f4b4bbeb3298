package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/oauth2"

	"github.com/citizenid/citizenid/internal/app"
	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/ledger"
	"github.com/citizenid/citizenid/internal/store"
)

// benchLedger measures the endpoints that release claims — userinfo and
// the refresh grant (an ID token) — with the data-release ledger and with
// a recorder that records nothing (BuildOptions.NoLedger), one request at
// a time and with concurrent clients (where group commit shares a
// transaction among releases). The ledger's cost is the ratio of the two;
// README, "Benchmarks", has the numbers. No assertion on times.
func benchLedger(b *testing.B, production bool) {
	for _, mode := range []struct {
		name string
		bo   app.BuildOptions
	}{{"ledger", app.BuildOptions{}}, {"linger", app.BuildOptions{LedgerLinger: 200 * time.Microsecond}}, {"noledger", app.BuildOptions{NoLedger: true}}} {
		b.Run(mode.name, func(b *testing.B) {
			// Commits and entries, to report how many releases share a commit.
			cnt := &countingAppender{}
			mode.bo.WrapLedger = func(a ledger.Appender) ledger.Appender { cnt.Appender = a; return cnt }
			e := startWith(b, production, nil, mode.bo)
			e.addCitizen(b, testNumber, testPassword)
			secret := e.addClient(b, clients.Spec{ID: "portal", Name: "Portal", RedirectURIs: []string{cbURL}})
			conf := &oauth2.Config{ClientID: "portal", ClientSecret: secret, RedirectURL: cbURL,
				Endpoint: oauth2.Endpoint{AuthURL: e.URL + "/authorize", TokenURL: e.URL + "/oauth/token", AuthStyle: oauth2.AuthStyleInHeader},
				Scopes:   []string{"openid", "profile", "offline_access"}}
			br := newBrowser(b)
			br.stop = func(u *url.URL) bool { return strings.HasPrefix(u.String(), cbURL) }
			ctx := context.Background()
			token := func() *oauth2.Token {
				v := oauth2.GenerateVerifier()
				pg := br.get(conf.AuthCodeURL("s", oauth2.S256ChallengeOption(v)))
				if isLoginForm(pg) {
					pg = br.login(e.URL, pg, testNumber, testPassword)
				}
				u, _ := url.Parse(pg.header.Get("Location"))
				tok, err := conf.Exchange(ctx, u.Query().Get("code"), oauth2.VerifierOption(v))
				if err != nil {
					b.Fatal(err)
				}
				return tok
			}
			tok := token()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
			info := func(b *testing.B) {
				req, _ := http.NewRequest(http.MethodGet, e.URL+"/userinfo", nil)
				req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
				resp, err := client.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Fatalf("userinfo: %d", resp.StatusCode)
				}
			}
			refresh := func(b *testing.B, rt string) string {
				next, err := conf.TokenSource(ctx, &oauth2.Token{RefreshToken: rt, Expiry: time.Unix(1, 0)}).Token()
				if err != nil {
					b.Fatal(err)
				}
				return next.RefreshToken
			}
			b.Run("Userinfo", func(b *testing.B) {
				for b.Loop() {
					info(b)
				}
			})
			b.Run("UserinfoParallel", func(b *testing.B) {
				defer cnt.report(b)()
				b.SetParallelism(4)
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						info(b)
					}
				})
			})
			b.Run("Refresh", func(b *testing.B) {
				rt := tok.RefreshToken
				for b.Loop() {
					rt = refresh(b, rt)
				}
				tok.RefreshToken = rt
			})
			b.Run("RefreshParallel", func(b *testing.B) {
				// One refresh-token family per goroutine.
				families := make(chan string, 64)
				for range 16 {
					families <- token().RefreshToken
				}
				b.SetParallelism(4)
				defer cnt.report(b)()
				b.ResetTimer()
				b.RunParallel(func(pb *testing.PB) {
					rt := <-families
					for pb.Next() {
						rt = refresh(b, rt)
					}
				})
			})
		})
	}
}

func BenchmarkLedgerEmbedded(b *testing.B) { benchLedger(b, false) }
func BenchmarkLedgerPostgres(b *testing.B) { benchLedger(b, true) }

type countingAppender struct {
	ledger.Appender
	commits, entries atomic.Int64
}

func (c *countingAppender) AppendLedger(ctx context.Context, entries []store.LedgerEntry) error {
	c.commits.Add(1)
	c.entries.Add(int64(len(entries)))
	return c.Appender.AppendLedger(ctx, entries)
}

// report resets the counts and, when the benchmark ends, reports entries
// per commit.
func (c *countingAppender) report(b *testing.B) func() {
	c.commits.Store(0)
	c.entries.Store(0)
	return func() {
		if n := c.commits.Load(); n > 0 {
			b.ReportMetric(float64(c.entries.Load())/float64(n), "entries/commit")
		}
	}
}
