package app_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	coltrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	"google.golang.org/protobuf/proto"

	"github.com/citizenid/citizenid/internal/clients"
	"github.com/citizenid/citizenid/internal/config"
)

// otlpCollector is an OTLP/HTTP trace receiver: it decodes what the
// exporter sends (protobuf) and keeps the span names.
type otlpCollector struct {
	srv   *httptest.Server
	mu    sync.Mutex
	names []string
}

func newOTLPCollector(t *testing.T) *otlpCollector {
	c := &otlpCollector{}
	c.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var req coltrace.ExportTraceServiceRequest
		if r.URL.Path != "/v1/traces" || proto.Unmarshal(body, &req) != nil {
			http.Error(w, "bad export", http.StatusBadRequest)
			return
		}
		c.mu.Lock()
		for _, rs := range req.ResourceSpans {
			for _, ss := range rs.ScopeSpans {
				for _, s := range ss.Spans {
					c.names = append(c.names, s.Name)
				}
			}
		}
		c.mu.Unlock()
		w.Header().Set("Content-Type", "application/x-protobuf")
		b, _ := proto.Marshal(&coltrace.ExportTraceServiceResponse{})
		w.Write(b)
	}))
	t.Cleanup(c.srv.Close)
	return c
}

func (c *otlpCollector) has(prefix string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.ContainsFunc(c.names, func(n string) bool { return strings.HasPrefix(n, prefix) })
}

// With telemetry.otlp.endpoint set, a login and a back-channel logout
// reach a real OTLP/HTTP receiver as spans: the HTTP handlers, database
// queries, Redis commands and the outbound delivery.
func TestTracesReachTheCollector(t *testing.T) {
	col := newOTLPCollector(t)
	e := start(t, true, func(c *config.Config) {
		c.Telemetry.OTLP.Endpoint = col.srv.URL
		fastBackchannel(c)
	})
	e.addCitizen(t, testNumber, testPassword)
	bc := newBCReceiver(t, e.URL, "portal")
	p := newPortal(t, e, "portal", []string{"openid"}, func(s *clients.Spec) { s.BackchannelLogoutURI = bc.URL() })
	b := newBrowser(t)
	tok := p.loginThrough(t, b, e, testNumber, testPassword)
	b.post(e.URL+"/account/logout", nil)
	bc.waitFor(tok.IDTokenClaims.Claims["sid"].(string))
	want := []string{"GET", "POST", "db SELECT", "db INSERT", "redis ", "oidc backchannel logout"}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if !slices.ContainsFunc(want, func(w string) bool { return !col.has(w) }) {
			return
		}
	}
	for _, w := range want {
		if !col.has(w) {
			t.Errorf("no span named %q… reached the collector", w)
		}
	}
}
